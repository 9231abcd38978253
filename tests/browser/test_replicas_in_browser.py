"""Two replicas behind nginx (deploy/nginx.conf, bench/replicas.py) over one store: the load
spreads over both with no error, and when the replica serving a browser dies, the browser's
session comes back on the other one, at the same view, with nothing to do for its user."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import Page

from bench.load import rounds, run_load, warm_up
from bench.replicas import nginx_missing, replicas
from tests.browser.harness import wait_rendered

pytestmark = pytest.mark.browser
PATIENTS = ["SYN-00002", "SYN-SLE-0001"]


def in_thread(function, *args):
    """Playwright's sync API holds this thread's event loop: the load runs in a thread of its
    own."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(function, *args).result()


def load(url: str) -> None:
    tally = in_thread(lambda: asyncio.run(run_load(url, 4, 6, rounds(PATIENTS))))
    assert not tally.errors, tally.errors[:3]
    assert len(tally.seconds) > 5


def test_the_load_spreads_and_a_session_moves_to_the_surviving_replica(
    page: Page, default_store: Path
):
    problem = nginx_missing()
    if problem:
        pytest.fail(problem, pytrace=False)
    sockets: list[list[int]] = []  # per websocket of the browser: the frames it received

    def opened(socket) -> None:
        frames = [0]

        def received(_frame) -> None:
            frames[0] += 1

        socket.on("framereceived", received)
        sockets.append(frames)

    page.on("websocket", opened)
    with replicas(default_store, 2) as farm:
        in_thread(warm_up, [f"http://127.0.0.1:{port}" for port in farm.ports], PATIENTS)
        health_checks = len(farm.upstreams())
        page.goto(f"{farm.url}/trajectory?patient=SYN-00002&day=14")
        wait_rendered(page, charts=1, timeout=60_000)
        assert "carta_replica" in {c["name"] for c in page.context.cookies()}
        # The page and its files came from one replica, the one its cookie keeps it on.
        browsed = set(farm.upstreams()[health_checks:])
        assert len(browsed) == 1, browsed
        [serving] = browsed
        before = farm.served()
        load(farm.url)
        spread = farm.served() - before
        assert set(spread) == set(farm.ports) and min(spread.values()) > 0, spread

        count = len(sockets)
        farm.kill(farm.ports.index(serving))
        # The browser reconnects by itself, through the proxy, to the replica still alive.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (len(sockets) > count and sockets[-1][0]):
            page.wait_for_timeout(250)
        assert len(sockets) > count and sockets[-1][0], "the browser did not come back"
        wait_rendered(page, charts=1, timeout=60_000)
        chooser = page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').first
        assert chooser.locator("input").input_value() == "SYN-00002"  # the same view
        assert "day=14" in page.url and page.locator('[data-testid="stException"]').count() == 0
        survivor = next(p for p in farm.ports if p != serving)
        logged = len(farm.upstreams())
        load(farm.url)  # every new session goes to the survivor
        assert set(farm.upstreams()[logged:]) == {survivor}
