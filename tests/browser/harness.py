"""Start a Carta server and drive Debian's Chromium: shared by browser tests and benchmarks."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from playwright.sync_api import Browser, Page, Playwright

from carta.store import ROOT

CHROMIUM = os.environ.get("CARTA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
RENDERED = (
    '[data-testid="stApp"][data-test-script-state="notRunning"]'
    '[data-test-connection-state="CONNECTED"]'
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(
    store: Path,
    timeout: float = 60,
    args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    port: int | None = None,
) -> tuple[subprocess.Popen, str]:
    """A Carta server on loopback; `args` go to `streamlit run`, `env` adds to the environment."""
    port = port or free_port()
    log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server process
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "app.py"),
            "--server.headless=true",
            "--server.address=127.0.0.1",
            f"--server.port={port}",
            "--server.fileWatcherType=none",
            "--browser.gatherUsageStats=false",
            *args,
        ],
        cwd=ROOT,
        env={**os.environ, "CARTA_STORE": str(store), **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=log,  # a file, not a pipe: an unread pipe would fill up and stall the server
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"streamlit exited: {log.read().decode()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return process, url
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"streamlit did not answer on {url} within {timeout} s")


def wait_answering(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    """Wait until `url` answers (any status), or fail with why."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing answered on {url} within {timeout} s")


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def chromium_missing() -> str | None:
    """Why Chromium cannot be used, or None when it can."""
    if Path(CHROMIUM).exists() and shutil.which(CHROMIUM):
        return None
    return (
        f"Real-browser tests need Chromium at {CHROMIUM}: "
        "run ./test.sh (it installs it) or `sudo apt-get install chromium`."
    )


def launch(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def wait_rendered(page: Page, charts: int = 0, timeout: float = 30_000) -> None:
    """Wait until the script has finished, nothing is stale and `charts` charts have drawn."""
    page.wait_for_selector(RENDERED, timeout=timeout)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=timeout)
    # Tables (glide data grid) draw on a canvas that starts at width 0 and fills in later.
    page.wait_for_function(
        """(n) => !document.querySelector('[data-stale="true"]') &&
                  document.querySelectorAll(
                    '[data-testid="stVegaLiteChart"] :is(canvas, svg.marks)').length >= n &&
                  [...document.querySelectorAll('canvas[data-testid="data-grid-canvas"]')]
                    .every((c) => c.width > 0)""",
        arg=charts,
        timeout=timeout,
    )


def wait_every_chart(page: Page, timeout: float = 30_000) -> None:
    """Rendered, and every chart on the page drawn: Vega draws each chart on its own, so the
    first chart drawn says nothing of the ones further down."""
    wait_rendered(page, charts=1, timeout=timeout)
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')]
                  .every((c) => c.querySelector(':is(canvas, svg.marks)'))""",
        timeout=timeout,
    )


# Every view, as a link opens it: the layout checks and the README's screenshots go through them.
VIEWS = {
    "home": "home",
    "trajectory": "trajectory?patient=SYN-00021&day=14",
    "summary": "summary?patient=SYN-00002",
    "published": "summary",
    "cohort": "cohort",
    "safety": "safety",
    "completeness": "completeness?patient=SYN-00002",
    "data": "data",
}


def settled(page: Page) -> None:
    """Rendered, and rendered again after the chart widths measured in the browser came back
    (the trajectory and the recovery curves say when: their container's key loses
    "-unmeasured"). A click before that can land on an element the rerun replaces."""
    wait_rendered(page)
    measured = {"/trajectory": ".st-key-trajectory-chart", "/safety": ".st-key-safety-km-chart"}
    for view, container in measured.items():
        if view in page.url:
            page.locator(f"{container} svg.marks").first.wait_for()
    wait_rendered(page)


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
