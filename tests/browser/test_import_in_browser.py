"""Upload a file on the Data page in Chromium, import it, and find the new patient in the list."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

from carta.build import build_store
from carta.schema import columns
from tests.browser.harness import screenshot, start_server, stop_server, wait_rendered

pytestmark = pytest.mark.browser


def test_an_uploaded_file_is_checked_imported_and_listed(page: Page, tmp_path: Path) -> None:
    store = build_store(tmp_path / "store" / "carta.duckdb", n_patients=2).path
    patients = tmp_path / "patients.csv"
    patients.write_text(
        ",".join(columns("patients"))
        + "\nUPLOAD-01,synthetic,Uploaded,F,8,JDM,,,,,,180,,true\n"
        + "UPLOAD-02,nowhere,Uploaded,F,8,JDM,,,,,,180,,true\n"
    )
    process, url = start_server(store)  # this test changes its store: a server of its own
    try:
        page.set_viewport_size({"width": 1400, "height": 1400})
        page.goto(f"{url}/data")
        wait_rendered(page)
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(patients))
        page.get_by_text("one per row and column").first.wait_for()
        wait_rendered(page)
        problems = page.locator('[data-testid="stDataFrame"]').nth(1)
        reason = problems.locator('[data-testid="glide-cell-4-0"]').inner_text()
        assert reason.startswith("unknown source")
        screenshot(page, "data-checked")
        page.get_by_role("button", name="Import 1 row").click()
        page.get_by_text("store version 2 is published").wait_for(timeout=30_000)
        screenshot(page, "data-imported")
        page.goto(f"{url}/?q=UPLOAD")
        wait_rendered(page)
        assert page.locator('[data-testid="glide-cell-0-0"]').inner_text().endswith("UPLOAD-01")
        assert page.get_by_text("Patients (4)").first.is_visible()
    finally:
        stop_server(process)
