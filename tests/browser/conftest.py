"""Fixtures for the tests only a real browser can do: a running Carta server and Chromium.

These tests never skip: without Chromium they fail and say how to install it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser.harness import chromium_missing, launch, start_server, stop_server


@pytest.fixture(scope="session")
def app_url(default_store: Path) -> Iterator[str]:
    process, url = start_server(default_store)
    yield url
    stop_server(process)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    problem = chromium_missing()
    if problem:
        pytest.fail(problem, pytrace=False)
    with sync_playwright() as playwright:
        instance = launch(playwright)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    tab = context.new_page()
    yield tab
    context.close()
