"""Take the README's screenshots: every page in the light and the dark theme at 1440 and 390 px,
and the case summary's slide show at 1920 x 1080, on a freshly built default store.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Needs Chromium (./test.sh installs it). The pictures show synthetic patients and the published
case only, as every store built by Carta does.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image
from playwright.sync_api import Page, sync_playwright

from carta.build import build_store
from carta.store import ROOT
from tests.browser.harness import VIEWS, launch, settled, start_server, stop_server

# The README's pictures: every view, the case summary as the published case shows it.
PAGES = {
    ("summary" if name == "published" else name): VIEWS[name]
    for name in ("home", "trajectory", "published", "cohort", "safety", "completeness", "data")
}
SLIDES = "summary?patient=SYN-00002&present=1"


def saved(page: Page, path: Path) -> None:
    """A screenshot in 256 colours: a screen of text and flat charts loses nothing to see, and
    the repository a good deal of weight."""
    page.screenshot(path=str(path))
    with Image.open(path) as image:
        image.convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE).save(
            path, optimize=True
        )


def whole_page(page: Page, path: Path) -> None:
    """The page from top to bottom: Streamlit scrolls its main area, not the document."""
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    width = page.viewport_size["width"]
    page.set_viewport_size({"width": width, "height": min(int(height), 6000)})
    settled(page)
    saved(page, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "carta.duckdb"
        build_store(store)
        process, url = start_server(store)
        try:
            with sync_playwright() as playwright:
                browser = launch(playwright)
                for scheme in ("light", "dark"):
                    for width in (1440, 390):
                        context = browser.new_context(
                            viewport={"width": width, "height": 900}, color_scheme=scheme
                        )
                        page = context.new_page()
                        for name, path in PAGES.items():
                            page.set_viewport_size({"width": width, "height": 900})
                            page.goto(f"{url}/{path}")
                            settled(page)
                            whole_page(page, out / f"{name}-{scheme}-{width}.png")
                            print(f"{name}-{scheme}-{width}.png")
                        context.close()
                context = browser.new_context(viewport={"width": 1920, "height": 1080})
                page = context.new_page()
                page.goto(f"{url}/{SLIDES}")
                settled(page)
                number = 1
                while True:
                    saved(page, out / f"slide-{number}.png")
                    print(f"slide-{number}.png")
                    if page.get_by_role("button", name="Next").is_disabled():
                        break
                    number += 1
                    page.keyboard.press("ArrowRight")
                    page.wait_for_url(f"**slide={number}**", timeout=15_000)
                    settled(page)
                browser.close()
        finally:
            stop_server(process)


if __name__ == "__main__":
    main()
