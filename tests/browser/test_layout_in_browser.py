"""What only a browser shows of the layout: every page at a phone's width with no chart wider
than the screen, no "None" and every chart described for screen readers; the trajectory's
legends inside their chart with no label cut short; the dark theme; the print style."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.harness import VIEWS, screenshot, settled, wait_rendered

pytestmark = pytest.mark.browser

PAGES = VIEWS
CHARTS = '[data-testid="stVegaLiteChart"] :is(svg.marks, canvas)'


def chart_edges(page: Page) -> list[float]:
    return page.evaluate(
        f"""() => [...document.querySelectorAll('{CHARTS}')]
              .map((e) => e.getBoundingClientRect().right)"""
    )


# What each page's charts must say of themselves (beyond Vega's own "Vega visualization").
DESCRIBED = {
    "trajectory": "Trajectory of SYN-00021 from study day",
    "summary": "of SYN-00002 by study day",
}


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_at_a_phones_width(browser: Browser, app_url: str, name: str) -> None:
    """No chart wider than the screen and no sideways scroll at 390 px; no "None" anywhere on
    the page; every chart with a text description of what it shows."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto(f"{app_url}/{PAGES[name]}")
        drawn = name in ("trajectory", "summary", "cohort", "safety")
        wait_rendered(page, charts=1 if drawn else 0, timeout=60_000)
        settled(page)
        edges = chart_edges(page)
        assert all(edge <= 390 for edge in edges), (name, edges)
        assert page.evaluate(
            """() => { const m = document.querySelector('[data-testid="stMain"]');
                       return m.scrollWidth <= m.clientWidth + 1; }"""
        ), f"{name} scrolls sideways at 390 px"
        if drawn:
            assert edges, f"{name} drew no chart"
        assert "None" not in page.locator('[data-testid="stMain"]').inner_text().split()
        labels = page.evaluate(
            """() => [...document.querySelectorAll('[role="graphics-document"]')]
                  .map((c) => c.getAttribute('aria-label') || '')"""
        )
        assert len(labels) == page.locator('[data-testid="stVegaLiteChart"]').count()
        assert all(label and "Vega visualization" not in label for label in labels), labels
        assert all(DESCRIBED.get(name, "") in label for label in labels), labels
        screenshot(page, f"{name}-390")
    finally:
        context.close()


def test_the_trajectory_legends_stay_inside_and_no_label_is_cut(page: Page, app_url: str):
    page.set_viewport_size({"width": 1440, "height": 1000})
    page.goto(f"{app_url}/{PAGES['trajectory']}")
    settled(page)
    chart = page.locator('[data-testid="stVegaLiteChart"]').first.bounding_box()
    side = page.locator(".st-key-picked-day").bounding_box()
    outside = page.evaluate(
        """([left, right]) => [...document.querySelectorAll(
              '[data-testid="stVegaLiteChart"] svg.marks g.role-legend text')]
            .map((t) => [t.textContent, t.getBoundingClientRect()])
            .filter(([, r]) => r.width > 0 && (r.left < left - 1 || r.right > right + 1))
            .map(([text]) => text)""",
        [chart["x"], side["x"]],
    )
    assert outside == []
    texts = page.evaluate(
        """() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"] svg.marks text')]
              .map((t) => t.textContent)"""
    )
    assert texts and not [t for t in texts if "…" in t]
    assert "CK" in texts and "bone_marrow" not in texts
    # Day 0 is a tick of the whole follow-up's axis.
    assert "0" in page.evaluate(
        """() => [...document.querySelectorAll(
              'svg.marks g.concat_0_group g.role-axis[aria-label^="X-axis"] text')]
              .map((t) => t.textContent)"""
    )


def test_the_dark_theme_follows_the_system_setting(browser: Browser, app_url: str) -> None:
    for scheme, dark in (("light", False), ("dark", True)):
        context = browser.new_context(viewport={"width": 1440, "height": 900}, color_scheme=scheme)
        page = context.new_page()
        try:
            page.goto(f"{app_url}/{PAGES['trajectory']}")
            settled(page)
            red, green, blue = page.evaluate(
                """() => getComputedStyle(document.querySelector('[data-testid="stApp"]'))
                      .backgroundColor.match(/\\d+/g).slice(0, 3).map(Number)"""
            )
            assert (red + green + blue < 150) is dark, (scheme, red, green, blue)
            screenshot(page, f"trajectory-{scheme}")
        finally:
            context.close()


def test_printing_hides_the_app_and_puts_a_chart_on_a_page(page: Page, app_url: str) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{app_url}/{PAGES['trajectory']}")
    settled(page)
    page.emulate_media(media="print")
    for hidden in ("stSidebar", "stSelectbox", "stSlider", "stNumberInput", "stExpander"):
        expect(page.locator(f'[data-testid="{hidden}"]').first).to_be_hidden(timeout=5_000)
    box = page.locator(CHARTS).first.bounding_box()
    assert box["height"] <= 900, "the trajectory is split over pages"
    assert (
        page.evaluate(
            """() => getComputedStyle(document.querySelector('[data-testid="stVegaLiteChart"]'))
              .breakBefore"""
        )
        == "page"
    )
