"""Lupus and systemic sclerosis patients in Chromium: the trajectory draws their remission lanes
and their own measures, the summary their cards, the cohort explorer filters by indication."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from carta.charts.trajectory import GLUCOCORTICOID_TITLE
from tests.browser.harness import screenshot, settled, wait_every_chart, wait_rendered
from tests.browser.test_cohort_in_browser import patients_counted
from tests.conftest import DEFAULT_PATIENT_COUNT

pytestmark = pytest.mark.browser


def chart_texts(page: Page) -> list[str]:
    return page.locator('[data-testid="stVegaLiteChart"] svg.marks text').all_text_contents()


@pytest.mark.parametrize(
    ("patient", "lanes", "measure", "antibody"),
    [
        ("SYN-SLE-0001", {"DORIS 2021", "LLDAS"}, "Anti-dsDNA antibodies (IU/mL)", "Anti-Sm"),
        ("SYN-SSC-0001", {"EUSTAR-AI < 2.5"}, "Forced vital capacity (% predicted)",
         "Anti-Scl-70 (topoisomerase I)"),
    ],
)  # fmt: skip
def test_the_trajectory_draws_the_indications_lanes(
    page: Page, app_url, patient, lanes, measure, antibody
):
    page.set_viewport_size({"width": 1440, "height": 2400})
    page.goto(f"{app_url}/trajectory?patient={patient}")
    wait_rendered(page, charts=1)
    settled(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    texts = set(chart_texts(page))
    assert lanes <= texts, texts  # the lanes are named on the chart itself
    assert "Remission and low disease activity" in texts and measure in texts
    # The prednisone-equivalent dose under the course lane (both taper glucocorticoids), and
    # the autoantibody track with the indication's antibody.
    assert GLUCOCORTICOID_TITLE in texts
    assert "Autoantibodies" in texts and antibody in texts
    assert "Response: TIS and inactive disease (CID)" not in texts  # no TIS for these
    label = page.locator('[role="graphics-document"]').first.get_attribute("aria-label")
    assert "Remission and low disease activity" in label
    assert page.get_by_text("Remission strip:").first.is_visible()
    screenshot(page, f"trajectory-{patient}")


def test_the_summary_and_the_cohort_of_lupus_patients(page: Page, app_url) -> None:
    page.set_viewport_size({"width": 1440, "height": 2400})
    page.goto(f"{app_url}/summary?patient=SYN-SLE-0001")
    wait_rendered(page, charts=1)
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert "DORIS 2021" in main and "LLDAS" in main and "Glucocorticoids" in main
    assert "TIS category" not in main
    page.goto(f"{app_url}/cohort?ind=SLE")
    wait_rendered(page, charts=1, timeout=60_000)
    assert patients_counted(page) == 8
    assert (
        f"of {DEFAULT_PATIENT_COUNT} patients"
        in page.locator('[data-testid="stMain"]').inner_text()
    )
    assert page.get_by_text("Remission table").first.is_visible()
    screenshot(page, "cohort-lupus")


def test_the_safety_curves_show_the_published_band(page: Page, app_url) -> None:
    page.set_viewport_size({"width": 1440, "height": 1600})
    page.goto(f"{app_url}/safety")
    wait_rendered(page, charts=2, timeout=60_000)
    settled(page)
    page.locator(".st-key-safety-km-chart svg.marks").first.wait_for()
    texts = chart_texts(page)
    assert "Mackensen 2022 (SLE, n = 5): 110 ± 32 d" in texts
    screenshot(page, "safety-published-band")


def test_the_summary_and_the_cohort_of_scleroderma_patients(page: Page, app_url) -> None:
    page.set_viewport_size({"width": 1440, "height": 2400})
    page.goto(f"{app_url}/summary?patient=SYN-SSC-0002")
    wait_every_chart(page)
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert "EUSTAR-AI < 2.5" in main and "Glucocorticoids" in main
    # Anti-Scl-70 positive at baseline, negative from month 3 (synthetic).
    assert "Autoantibodies" in main and "1 of 1 turned negative" in main
    assert "TIS category" not in main and "DORIS 2021" not in main
    # Streamlit draws a chart's axes first and inserts its datasets after: wait for the track's
    # label (the autoantibody lane) rather than read the marks the moment the SVG exists.
    page.wait_for_function(
        """(text) => [...document.querySelectorAll(
                '[data-testid="stVegaLiteChart"] svg.marks text')]
              .some((t) => t.textContent === text)""",
        arg="Autoantibodies",
        timeout=30_000,
    )
    assert "Autoantibodies" in chart_texts(page)
    page.goto(f"{app_url}/cohort?ind=SSC")
    wait_rendered(page, charts=1, timeout=60_000)
    assert patients_counted(page) == 4
    assert page.get_by_text("Remission table").first.is_visible()
    assert page.get_by_text("Published series, for comparison").first.is_visible()
    screenshot(page, "cohort-scleroderma")
