"""The cohort explorer in Chromium: clicking a response category narrows the other views, and the
downloaded values are the rows shown."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pandas as pd
import pytest
from playwright.sync_api import Page

from tests.browser.harness import screenshot, wait_rendered
from tests.conftest import DEFAULT_PATIENT_COUNT

pytestmark = pytest.mark.browser

WINDOWS = "tps=Baseline&tps=M1&tps=M3&tps=M6"


def patients_counted(page: Page) -> int:
    text = page.get_by_text(re.compile(r"of [\d,]+ patients")).first.inner_text()
    return int(re.match(r"([\d,]+) of", text).group(1).replace(",", ""))


def waterfall_patients(page: Page) -> int:
    text = page.get_by_text(re.compile(r"patients.*Colour: TIS category")).first.inner_text()
    return int(re.match(r"([\d,]+) patients", text).group(1).replace(",", ""))


def distribution_n(page: Page) -> int:
    """The sum of the n under each window of the distribution (the first chart)."""
    labels = page.locator('[data-testid="stVegaLiteChart"]').first.locator("svg.marks text")
    # Two-line labels: the window's name, then its n.
    found = [re.search(r"n=(\d+)$", t or "") for t in labels.all_text_contents()]
    return sum(int(m.group(1)) for m in found if m)


def after_rerun(page: Page, url_says: Callable[[dict[str, list[str]]], bool]) -> None:
    """Wait for the outcome, not for the run to be seen running: a cached view reruns faster
    than the state is polled. The link changes while the script runs; then it ends."""
    deadline = time.monotonic() + 15
    while not url_says(parse_qs(urlparse(page.url).query)):
        assert time.monotonic() < deadline, f"the link never changed: {page.url}"
        page.wait_for_timeout(100)
    wait_rendered(page, charts=5)


def test_a_response_click_narrows_the_other_views_and_the_download_matches(
    page: Page, app_url: str
) -> None:
    page.set_viewport_size({"width": 1500, "height": 3600})
    page.goto(f"{app_url}/cohort?{WINDOWS}")
    wait_rendered(page, charts=5)
    everyone, bars_before = patients_counted(page), waterfall_patients(page)
    n_before = distribution_n(page)
    assert everyone == DEFAULT_PATIENT_COUNT and bars_before > 0 and n_before > 0

    segment = page.locator(
        'svg.marks path[aria-roledescription="bar"][aria-label*="category: moderate"]'
        '[aria-label*="timepoint: M3"]'
    ).first
    segment.click()
    after_rerun(page, lambda q: "cat" in q)
    assert parse_qs(urlparse(page.url).query)["cat"] == ["M3:moderate"]
    picked = patients_counted(page)
    assert 0 < picked < everyone
    assert waterfall_patients(page) == picked < bars_before
    assert 0 < distribution_n(page) < n_before
    assert page.get_by_role("button", name="Response: moderate at M3 ✕").is_visible()
    screenshot(page, "cohort-picked")

    button = page.get_by_role("button", name=re.compile(r"Values shown, ADaM BDS"))
    rows = int(re.search(r"CSV, ([\d,]+) rows", button.inner_text()).group(1).replace(",", ""))
    with page.expect_download() as download:
        button.click()
    csv = pd.read_csv(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert len(csv) == rows == distribution_n(page)
    assert csv["USUBJID"].nunique() == picked
    assert set(csv["AVISIT"]) <= {"Baseline", "M1", "M3", "M6"}
    assert set(csv["SRCKIND"]) == {"synthetic"}
    # The first row of the table shown is the first row of the file.
    page.get_by_text(re.compile(r"^Values shown \(")).click()
    # Opening it reruns the page, which then draws the table inside it.
    shown = page.locator('[data-testid="stExpander"]').filter(
        has_text=re.compile(r"Values shown \(")
    )
    grid = shown.locator('[data-testid="stDataFrame"]')
    grid.wait_for(timeout=60_000)
    wait_rendered(page, charts=5)
    first = [grid.locator(f'[data-testid="glide-cell-{c}-0"]').inner_text() for c in (0, 3)]
    assert first[0] == csv.loc[0, "USUBJID"]
    assert float(first[1].replace(",", "")) == pytest.approx(csv.loc[0, "AVAL"])

    # Its chip clears the selection, and every view counts the whole cohort again.
    page.get_by_role("button", name="Response: moderate at M3 ✕").click()
    after_rerun(page, lambda q: "cat" not in q)
    assert patients_counted(page) == everyone and distribution_n(page) == n_before
    assert "cat" not in parse_qs(urlparse(page.url).query)


def test_filters_live_in_the_url_and_their_chips_remove_them(page: Page, app_url: str) -> None:
    page.set_viewport_size({"width": 1500, "height": 2000})
    page.goto(f"{app_url}/cohort?sex=F&age=8&age=12")
    wait_rendered(page, charts=5)
    narrowed = patients_counted(page)
    assert 0 < narrowed < 25
    page.get_by_role("button", name="Age: 8–12 ✕").click()
    after_rerun(page, lambda q: "age" not in q)
    assert parse_qs(urlparse(page.url).query) == {"sex": ["F"]}
    assert patients_counted(page) > narrowed
    page.get_by_role("button", name="Sex: F ✕").click()
    after_rerun(page, lambda q: "sex" not in q)
    assert (
        parse_qs(urlparse(page.url).query) == {} and patients_counted(page) == DEFAULT_PATIENT_COUNT
    )
    assert page.locator('[data-testid="stException"]').count() == 0
