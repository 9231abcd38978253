"""Every page opens in Chromium, renders without an exception element, and is photographed."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser.harness import screenshot, start_server, stop_server, wait_rendered
from tests.conftest import DEFAULT_PATIENT_COUNT, PUBLISHED_ID

pytestmark = pytest.mark.browser

VIEWS = [
    ("home", "/", 0, f"Patients ({DEFAULT_PATIENT_COUNT})"),
    ("patient-published", f"/trajectory?patient={PUBLISHED_ID}", 1, "Reported findings"),
    ("patient-synthetic", "/trajectory?patient=SYN-00002", 1, "Synthetic patient"),
]


@pytest.mark.parametrize(("name", "path", "charts", "expected"), VIEWS, ids=[v[0] for v in VIEWS])
def test_page_renders_in_chromium(page: Page, app_url: str, name, path, charts, expected) -> None:
    page.goto(app_url + path)
    wait_rendered(page, charts=charts)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.get_by_text(expected).first.is_visible()
    shot = screenshot(page, name)
    assert shot.stat().st_size > 10_000


def test_the_patient_choice_is_kept_in_the_url(page: Page, app_url: str) -> None:
    page.goto(f"{app_url}/trajectory?patient=SYN-00004")
    wait_rendered(page, charts=1)
    page.reload()
    wait_rendered(page, charts=1)
    assert "patient=SYN-00004" in page.url
    assert page.get_by_role("combobox", name="Patient").input_value() == "SYN-00004"


def test_a_deep_link_as_the_first_request_gets_the_whole_app(page: Page, default_store) -> None:
    """Streamlit's legacy pages/ mode must not run a page without app.py's shell."""
    process, url = start_server(default_store)  # a fresh server: this is its first request
    try:
        page.goto(f"{url}/trajectory?patient=SYN-00005")
        wait_rendered(page, charts=1)
        nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
        assert "Patient trajectory" in nav and "app" not in nav.split()
        assert page.get_by_text("Store version").first.is_visible()
        assert page.get_by_role("combobox", name="Patient").input_value() == "SYN-00005"
    finally:
        stop_server(process)
