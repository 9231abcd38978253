"""The safety view in Chromium: the cohort filters narrow the recovery curves, and the files
downloaded are the tables and curves shown."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Page

from tests.browser.harness import screenshot, settled, wait_rendered
from tests.browser.test_cohort_in_browser import patients_counted

pytestmark = pytest.mark.browser


def download(page: Page, label: str) -> pd.DataFrame:
    with page.expect_download(timeout=60_000) as file:
        page.get_by_role("button", name=label).click()
    return pd.read_csv(io.BytesIO(Path(file.value.path()).read_bytes()))


def at_risk_on_the_chart(page: Page) -> list[int]:
    """The numbers at risk printed under the recovery curves (the second chart)."""
    chart = page.locator('[data-testid="stVegaLiteChart"]').nth(1)
    texts = chart.locator("svg.marks text").all_text_contents()
    return [int(t) for t in texts if re.fullmatch(r"\d+", t or "")]


def grid_cell(page: Page, grid: int, column: int, row: int) -> str:
    table = page.locator('[data-testid="stDataFrame"]').nth(grid)
    return table.locator(f'[data-testid="glide-cell-{column}-{row}"]').inner_text()


def test_filters_narrow_the_curves_and_the_downloads_match(page: Page, app_url: str) -> None:
    page.set_viewport_size({"width": 1500, "height": 3000})
    page.goto(f"{app_url}/safety")
    wait_rendered(page, charts=2)
    settled(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    everyone = patients_counted(page)
    curves = download(page, "Recovery curves (CSV)")
    start = curves[curves["day"] == 0].set_index("group")["n_at_risk"]
    assert start.sum() > 0 and set(curves["data"]) == {"synthetic"}
    on_chart = at_risk_on_the_chart(page)
    assert set(start) <= set(on_chart)  # the day-0 numbers at risk are drawn under the curves

    incidence = download(page, "Adverse events by grade (CSV)")
    # The file's first row is the table's first row: category, at risk, any grade.
    assert grid_cell(page, 0, 0, 0) == incidence.loc[0, "Category"]
    assert int(grid_cell(page, 0, 1, 0)) == incidence.loc[0, "At risk"] == everyone
    assert int(grid_cell(page, 0, 9, 0)) == incidence.loc[0, "Any grade"]
    infections = download(page, "Infections (CSV)")
    stated = page.locator('[data-testid="stMarkdownContainer"]', has_text="per 100 patient-months")
    stated_rate = r"([\d.]+) infections per 100.*?(\d+) infections over"
    rate, events = re.search(stated_rate, stated.first.inner_text()).groups()
    # The rate counts the infections from the infusion on; the file lists them all.
    assert infections["onset_day"].ge(0).sum() == int(events) > 0
    assert set(infections["data"]) == {"synthetic"}
    assert f"{infections.loc[0, 'rate_per_100_patient_months']:.1f}" == rate
    screenshot(page, "safety")

    page.goto(f"{app_url}/safety?sex=F")
    wait_rendered(page, charts=2)
    settled(page)
    women = patients_counted(page)
    assert 0 < women < everyone
    narrowed = download(page, "Recovery curves (CSV)")
    narrowed_start = narrowed[narrowed["day"] == 0].set_index("group")["n_at_risk"]
    assert narrowed_start.sum() < start.sum()
    assert set(narrowed_start) <= set(at_risk_on_the_chart(page))
    assert download(page, "Adverse events by grade (CSV)").loc[0, "At risk"] == women
    page.get_by_role("button", name="Sex: F ✕").click()
    # Wait for the outcome, not for the run to be seen running: a cached view reruns faster
    # than the browser's state can be polled.
    page.get_by_text(re.compile(rf"\b{everyone:,} of [\d,]+ patients")).first.wait_for(
        timeout=15_000
    )
    wait_rendered(page, charts=2)
    assert patients_counted(page) == everyone
