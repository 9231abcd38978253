"""Benchmark: time from server start to the home page rendered in Chromium, cold and warm.

Target (issue 2): home page rendered in under 2 s with the server warm. "Cold" starts the server
and opens the page once; "warm" opens the page again in a new browser context, as a new visitor.

    .venv/bin/python -m bench.home_page [--repeat 5] [--store PATH]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from carta.build import build_store
from tests.browser.harness import chromium_missing, launch, start_server, stop_server, wait_rendered

TARGET_WARM_SECONDS = 2.0


def render_home(browser, url: str) -> float:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    started = time.perf_counter()
    page.goto(url)
    wait_rendered(page)
    page.get_by_text("Patients (").first.wait_for()
    seconds = time.perf_counter() - started
    context.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--store", type=Path, help="an existing store (default: build one)")
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
            first = render_home(browser, url)
            warm = [render_home(browser, url) for _ in range(args.repeat)]
        finally:
            stop_server(process)
            browser.close()
    median = statistics.median(warm)
    ok = median < TARGET_WARM_SECONDS
    print("| measure | seconds | target |")
    print("|---|---:|---|")
    print(f"| server start to health check | {server_up:.2f} | |")
    print(f"| server start to home rendered (cold) | {server_up + first:.2f} | |")
    print(f"| first home render on a fresh server | {first:.2f} | |")
    print(
        f"| home render, warm server (median of {args.repeat}, min {min(warm):.2f}, "
        f"max {max(warm):.2f}) | {median:.2f} | < {TARGET_WARM_SECONDS:.0f} s "
        f"{'✓' if ok else '✗ MISSED'} |"
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
