"""Benchmark: every page rendered in Chromium, as a new visitor opens it: seconds and bytes sent.

Targets: the home page rendered in under 2 s with the server warm (issue 2); the cohort explorer's
first render <= 1.5 s at 10,000 patients and <= 500 KB sent to the browser for any page (issue 17).
"Cold" is a page's first visit after the server started (its queries and charts not yet cached);
"warm" opens it again in a new browser context, as another visitor. The bytes are what the app
sends for the page (its websocket messages: the elements, tables and chart data); Streamlit's own
scripts and styles are the same for every page and cached by the browser after the first visit,
so they are counted once, apart.

    .venv/bin/python -m bench.home_page [--repeat 3] [--store PATH] [--pages cohort safety]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Browser, Error, sync_playwright

from carta.build import build_store
from tests.browser.harness import (
    VIEWS,
    chromium_missing,
    launch,
    settled,
    start_server,
    stop_server,
    wait_rendered,
)

TARGET_WARM_HOME_SECONDS = 2.0
TARGET_COHORT_SECONDS = 1.5
TARGET_PAGE_KB = 500


@dataclass
class Visit:
    seconds: float
    app_bytes: int  # websocket messages from the server
    asset_bytes: int  # HTTP responses: Streamlit's scripts, styles, fonts


def visit(browser: Browser, url: str) -> Visit:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    received = {"app": 0, "assets": 0}

    def on_socket(socket) -> None:
        socket.on("framereceived", lambda payload: received.__setitem__(
            "app", received["app"] + len(payload)))  # fmt: skip

    def on_finished(request) -> None:
        try:
            size = request.sizes()["responseBodySize"]
        except Error:  # a request still finishing when the visit is over, its page closed
            return
        received["assets"] += max(size, 0)

    page.on("websocket", on_socket)
    page.on("requestfinished", on_finished)
    started = time.perf_counter()
    page.goto(url)
    settled(page)
    # Every chart the page has, drawn: Vega draws after the script has finished.
    charts = page.locator('[data-testid="stVegaLiteChart"]').count()
    wait_rendered(page, charts=charts)
    seconds = time.perf_counter() - started
    context.close()
    return Visit(seconds, received["app"], received["assets"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="warm visits per page")
    parser.add_argument("--store", type=Path, help="an existing store (default: build one)")
    parser.add_argument("--pages", nargs="*", default=list(VIEWS), choices=list(VIEWS))
    args = parser.parse_args()
    if problem := chromium_missing():
        sys.exit(problem)
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        store = args.store or build_store(Path(folder) / "carta.duckdb").path
        browser = launch(playwright)
        started = time.perf_counter()
        process, url = start_server(store)
        server_up = time.perf_counter() - started
        try:
            cold = {name: visit(browser, f"{url}/{VIEWS[name]}") for name in args.pages}
            warm = {
                name: [visit(browser, f"{url}/{VIEWS[name]}") for _ in range(args.repeat)]
                for name in args.pages
            }
        finally:
            stop_server(process)
            browser.close()
    print(f"server start to health check: {server_up:.2f} s")
    print(f"| page | cold (s) | warm median of {args.repeat} (s) | sent by the app (KB) | target |")
    print("|---|---:|---:|---:|---|")
    ok = True
    for name in args.pages:
        median = statistics.median(v.seconds for v in warm[name])
        kb = max(v.app_bytes for v in [cold[name], *warm[name]]) / 1000
        targets = [f"≤ {TARGET_PAGE_KB} KB {'✓' if kb <= TARGET_PAGE_KB else '✗'}"]
        ok &= kb <= TARGET_PAGE_KB
        if name == "home":
            met = median < TARGET_WARM_HOME_SECONDS
            targets.append(f"warm < {TARGET_WARM_HOME_SECONDS:g} s {'✓' if met else '✗'}")
            ok &= met
        if name == "cohort":
            met = median <= TARGET_COHORT_SECONDS
            targets.append(f"≤ {TARGET_COHORT_SECONDS:g} s {'✓' if met else '✗'}")
            ok &= met
        print(f"| {name} | {cold[name].seconds:.2f} | {median:.2f} | {kb:,.0f} | "
              f"{', '.join(targets)} |")  # fmt: skip
    assets = max(v.asset_bytes for v in cold.values()) / 1000
    print(f"Streamlit's scripts and styles (once per browser, then cached): {assets:,.0f} KB")
    print("target: " + ("✓" if ok else "✗ MISSED"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
