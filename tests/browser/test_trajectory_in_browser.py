"""The linked trajectory in Chromium: brushing zooms every panel in the browser, a click draws the
day in every panel and fills the table, and a reload restores the view from the URL."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Page

from tests.browser.harness import screenshot, wait_rendered

pytestmark = pytest.mark.browser

PATIENT = "SYN-00021"
PICK_STROKE = "#333333"  # the picked-day rule; reference rules use other greys and colours


def panel_count(page: Page) -> int:
    return page.locator("svg.marks g[class*='concat_'][class$='_group']").count()


def plot_box(page: Page, index: int) -> dict:
    return page.locator(
        f"svg.marks g.concat_{index}_group > g > path.background"
    ).first.bounding_box()


def axis_labels(page: Page, index: int) -> list[str]:
    """The study-day (x) axis labels of panel `index`, read in the page in one go."""
    return page.evaluate(
        """(i) => [...document.querySelectorAll(
                `svg.marks g.concat_${i}_group g.role-axis[aria-label^="X-axis"] text`)]
                .map((t) => t.textContent)""",
        index,
    )


def picked_rules(page: Page) -> int:
    return page.locator(f"svg.marks line[stroke='{PICK_STROKE}']").count()


def query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def open_trajectory(page: Page, url: str) -> None:
    page.set_viewport_size({"width": 1500, "height": 2600})
    page.goto(url)
    wait_rendered(page, charts=1)
    # Drawn for the width the browser measured, not the first guess.
    page.locator(".st-key-trajectory-chart svg.marks").first.wait_for()
    wait_rendered(page, charts=1)


def test_brush_zooms_every_panel_in_the_browser(page: Page, app_url: str) -> None:
    open_trajectory(page, f"{app_url}/trajectory?patient={PATIENT}")
    panels = panel_count(page)
    assert panels >= 6
    before = {i: axis_labels(page, i) for i in range(panels)}
    lane = plot_box(page, 0)
    y = lane["y"] + lane["height"] / 2
    page.mouse.move(lane["x"] + lane["width"] * 0.10, y)
    page.mouse.down()
    page.mouse.move(lane["x"] + lane["width"] * 0.35, y, steps=12)
    page.mouse.up()
    # Read at once, before any rerun could have come back: the zoom is Vega's, in the browser.
    after = {i: axis_labels(page, i) for i in range(panels)}
    assert after[0] == before[0], "the course lane keeps the whole follow-up"
    for i in range(1, panels):
        assert after[i] != before[i], f"panel {i} did not zoom"
    page.wait_for_function("location.search.includes('win=')", timeout=10_000)
    wait_rendered(page, charts=1)
    low, high = (float(v) for v in query(page)["win"][0].split(","))
    assert low < high
    screenshot(page, "trajectory-brushed")


def test_a_click_draws_the_day_in_every_panel_and_fills_the_table(page: Page, app_url: str):
    open_trajectory(page, f"{app_url}/trajectory?patient={PATIENT}")
    panels = panel_count(page)
    assert picked_rules(page) == 0
    box = plot_box(page, 2)  # the kinetics panel
    page.mouse.click(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.5)
    page.wait_for_function("location.search.includes('day=')", timeout=10_000)
    assert picked_rules(page) == panels
    day = query(page)["day"][0]
    page.get_by_text(f"Values on study day {day}").first.wait_for()
    page.locator('[data-testid="stDataFrame"]').wait_for()  # arrives just after the text
    wait_rendered(page, charts=1)
    assert page.locator('[data-testid="glide-cell-2-0"]').inner_text().strip() == day  # "Day"
    # Beside the chart, next to where the click was, not below the chart.
    table = page.locator(".st-key-picked-day").bounding_box()
    chart = page.locator('[data-testid="stVegaLiteChart"]').bounding_box()
    assert table["x"] >= chart["x"] + chart["width"] and table["y"] < box["y"] + box["height"]
    screenshot(page, "trajectory-picked")


def test_reload_restores_patient_window_and_day(page: Page, app_url: str) -> None:
    open_trajectory(page, f"{app_url}/trajectory?patient={PATIENT}&win=-5,40&day=14")
    before = axis_labels(page, 1)
    page.reload()
    wait_rendered(page, charts=1)
    page.locator(".st-key-trajectory-chart svg.marks").first.wait_for()
    wait_rendered(page, charts=1)
    assert page.get_by_role("combobox", name="Patient").input_value() == PATIENT
    assert picked_rules(page) == panel_count(page)
    assert axis_labels(page, 1) == before
    labels = [
        float(t.replace("−", "-")) for t in before if t.replace("−", "-").lstrip("-").isdigit()
    ]
    assert min(labels) >= -5 and max(labels) <= 40, "the enzyme panel shows the window"
    assert page.get_by_text("Values on study day 14").first.is_visible()
    screenshot(page, "trajectory-restored")


def test_the_keyboard_picks_a_day_and_zooms_as_the_mouse_does(page: Page, app_url: str) -> None:
    open_trajectory(page, f"{app_url}/trajectory?patient={PATIENT}")
    panels = panel_count(page)
    before = axis_labels(page, 1)
    # A day typed in the day box: the rule in every panel and the day's values beside the chart.
    day_box = page.get_by_label("Day", exact=True)
    day_box.fill("14")
    day_box.press("Enter")
    page.wait_for_function("location.search.includes('day=14')", timeout=10_000)
    page.get_by_text("Values on study day 14").first.wait_for()
    page.locator(".st-key-trajectory-chart svg.marks").first.wait_for()
    page.wait_for_function(
        "([stroke, n]) => document.querySelectorAll(`svg.marks line[stroke='${stroke}']`)"
        ".length === n",
        arg=[PICK_STROKE, panels],
        timeout=10_000,
    )
    # The window slider's lower handle moved with the arrow keys: every panel but the course
    # lane zooms, and the window is in the link.
    handle = page.get_by_role("slider").first
    handle.focus()
    for _ in range(30):
        handle.press("ArrowRight")
    page.wait_for_function("location.search.includes('win=')", timeout=10_000)
    wait_rendered(page, charts=1)
    low, high = (float(v) for v in query(page)["win"][0].split(","))
    assert low > -29 and high >= 240
    page.wait_for_function(
        "(before) => JSON.stringify([...document.querySelectorAll("
        "'svg.marks g.concat_1_group g.role-axis[aria-label^=\"X-axis\"] text')]"
        ".map((t) => t.textContent)) !== before",
        arg=json.dumps(before),
        timeout=10_000,
    )
