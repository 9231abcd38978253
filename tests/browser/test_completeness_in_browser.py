"""The completeness view in Chromium: the cohort filters narrow the grid and the worklist, and the
worklist file downloaded is the table shown."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page

from tests.browser.harness import screenshot, wait_rendered
from tests.browser.test_cohort_in_browser import patients_counted
from tests.browser.test_safety_in_browser import download, grid_cell

pytestmark = pytest.mark.browser


def listed(page: Page) -> int:
    text = page.get_by_text(re.compile(r"overdue or missing, the oldest visit first")).first
    return int(re.search(r"([\d,]+)", text.inner_text()).group(1).replace(",", ""))


def test_filters_narrow_the_worklist_and_the_download_is_the_table(page: Page, app_url) -> None:
    page.set_viewport_size({"width": 1500, "height": 2600})
    page.goto(f"{app_url}/completeness")
    wait_rendered(page, timeout=60_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    everyone, rows = patients_counted(page), listed(page)
    worklist = download(page, "Worklist (CSV)")
    assert len(worklist) == rows > 0 and set(worklist["Data"]) <= {"synthetic", "published"}
    # The table's first row is the file's first row (the worklist is the third table; its first
    # column is the link to the trajectory, which the file leaves out).
    patient = worklist.loc[0, "Patient"]
    assert grid_cell(page, 2, 0, 0).startswith(f"trajectory?patient={patient}&win=")
    assert grid_cell(page, 2, 1, 0) == patient
    assert grid_cell(page, 2, 2, 0) == worklist.loc[0, "Visit"]
    assert grid_cell(page, 2, 5, 0) == worklist.loc[0, "Status"]
    screenshot(page, "completeness")
    # The links a data manager follows, opened as the browser opens them: a share's row to its
    # visit's worklist, a worklist row to the patient's trajectory.
    rows_link = grid_cell(page, 0, 1, 0)  # screening: on the worklist (the first row of it)
    assert rows_link.startswith("completeness?") and rows_link.endswith("#worklist")
    trajectory_link = grid_cell(page, 2, 0, 0)
    page.goto(f"{app_url}/{rows_link}")
    wait_rendered(page, timeout=60_000)
    visit = page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').nth(2)
    assert visit.locator("input").input_value() == worklist.loc[0, "Visit"] == "Screening"
    assert listed(page) < rows
    page.goto(f"{app_url}/{trajectory_link}")
    wait_rendered(page, charts=1, timeout=60_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    patient = page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').first
    assert patient.locator("input").input_value() == worklist.loc[0, "Patient"]

    page.goto(f"{app_url}/completeness?ind=SSC&patient=SYN-SSC-0002")
    wait_rendered(page, timeout=60_000)
    assert patients_counted(page) == 4 < everyone
    narrowed = download(page, "Worklist (CSV)")
    assert len(narrowed) == listed(page) < rows
    assert set(narrowed["Patient"]) <= {f"SYN-SSC-{i:04d}" for i in range(1, 5)}
    # The patient of the link is the one whose grid is shown.
    chosen = page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').first
    assert chosen.locator("input").input_value() == "SYN-SSC-0002"
    # The grid's link opens that patient's trajectory, in a tab of its own.
    with page.context.expect_page(timeout=30_000) as tab:
        page.get_by_role("link", name="Open this patient's trajectory").click()
    trajectory = tab.value
    wait_rendered(trajectory, charts=1, timeout=60_000)
    opened = trajectory.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').first
    assert opened.locator("input").input_value() == "SYN-SSC-0002"
    trajectory.close()
