"""The case summary in Chromium: presentation mode from the URL hides the sidebar, and every
export button gives a file that opens as what it claims to be."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from carta.case import file_stem
from tests.browser.harness import screenshot, wait_rendered

pytestmark = pytest.mark.browser


def no_scroll(page: Page) -> bool:
    """Nothing below the fold: neither the document nor Streamlit's main area scrolls."""
    return page.evaluate(
        """() => [document.scrollingElement, document.querySelector('[data-testid="stMain"]')]
              .filter(Boolean).every((e) => e.scrollHeight <= e.clientHeight + 1)"""
    )


def footer_in_view(page: Page) -> str:
    footer = page.locator(".st-key-slide-footer")
    box = footer.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 1080, box
    return footer.inner_text()


def step(page: Page, key: str, number: int) -> None:
    """Press an arrow key once the slide's buttons answer, and wait for slide `number`."""
    expect(page.get_by_role("button", name="Previous")).to_be_attached()
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stButton"] button')]
              .some((b) => !b.disabled)"""
    )
    page.wait_for_timeout(300)  # the shortcut is bound after the button is drawn
    page.keyboard.press(key)
    page.wait_for_url(re.compile(rf"slide={number}(&|$)"), timeout=15_000)


def test_the_slide_show_steps_with_the_arrow_keys_and_never_scrolls(page: Page, app_url: str):
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{app_url}/summary?patient=SYN-00002&present=1")
    wait_rendered(page)
    assert not page.locator('[data-testid="stSidebar"]').is_visible()
    assert page.get_by_role("heading", name="Patient 1: Juvenile dermatomyositis").is_visible()
    titles = []
    for number in range(1, 8):
        wait_rendered(page, charts=1 if 2 <= number <= 6 else 0)
        assert f"Slide {number} of 7" in page.locator("body").inner_text()
        assert no_scroll(page), f"slide {number} scrolls at 1920 x 1080"
        footer = footer_in_view(page)
        assert footer.startswith("SYNTHETIC · Patient 1.") and "Data cut" in footer
        assert "SYN-00002" not in page.locator("body").inner_text()
        titles.append(page.locator("strong", has_text="Slide").first.evaluate(
            "(e) => e.parentElement.innerText"))  # fmt: skip
        screenshot(page, f"summary-slide-{number}")
        if number < 7:
            step(page, "ArrowRight", number + 1)
            assert "patient=SYN-00002" in page.url and "present=1" in page.url
    assert "Adverse events" in titles[-1]
    assert "Cytokine release syndrome" in page.locator('[data-testid="stTable"]').inner_text()
    page.keyboard.press("ArrowRight")  # past the last slide: nothing happens
    page.wait_for_timeout(500)
    assert "slide=7" in page.url
    # The link is the slide: a reload shows the same one, and the left arrow goes back.
    page.reload()
    wait_rendered(page)
    assert "Slide 7 of 7" in page.locator("body").inner_text()
    step(page, "ArrowLeft", 6)
    wait_rendered(page, charts=1)
    assert "Slide 6 of 7 · MRI" in page.locator("body").inner_text()
    # The buttons do what the keys do.
    page.get_by_role("button", name="Previous").click()
    page.wait_for_url(re.compile(r"slide=5(&|$)"), timeout=15_000)
    wait_rendered(page, charts=1)
    page.get_by_role("button", name="Next").click()
    page.wait_for_url(re.compile(r"slide=6(&|$)"), timeout=15_000)
    wait_rendered(page, charts=1)
    assert "Slide 6 of 7 · MRI" in page.locator("body").inner_text() and no_scroll(page)


def test_every_export_of_the_slide_show_holds_what_it_shows(page: Page, app_url: str) -> None:
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{app_url}/summary?patient=SYN-00002&present=1")
    wait_rendered(page)
    page.get_by_role("button", name="Export or leave").click()
    buttons = page.locator('[data-testid="stPopoverBody"] [data-testid="stDownloadButton"] button')
    buttons.first.wait_for(timeout=15_000)
    # The documents' buttons come first, the charts' as their files are made: wait for all.
    expect(buttons).to_have_count(2 + 2 * 5, timeout=30_000)
    files = {}
    for index in range(buttons.count()):
        with page.expect_download(timeout=30_000) as download:
            buttons.nth(index).click()
        name = download.value.suggested_filename
        files[name] = Path(download.value.path()).read_bytes()
    # Named for no id, yet apart from another patient's files; synthetic, and saying so.
    stem = file_stem("Patient 1", "SYN-00002", presenting=True, synthetic=True)
    assert re.fullmatch(r"carta-patient-1-[0-9a-f]{8}-synthetic", stem)
    assert len(files) == 12 and all(name.startswith(stem) for name in files)
    assert stem != file_stem("Patient 1", "SYN-00003", presenting=True, synthetic=True)

    pdf = PdfReader(io.BytesIO(files[f"{stem}.pdf"]))
    texts = [" ".join(p.extract_text().split()) for p in pdf.pages]
    assert len(texts) == 7 and "Case summary: Patient 1" in texts[0]
    for label in ("Age", "Sex", "Product", "Dose", "Lymphodepletion", "Follow-up"):
        assert label in texts[0]
    assert "Adverse events" in texts[6] and "Cytokine release syndrome" in texts[6]
    assert all("SYNTHETIC: not a real patient" in text for text in texts)

    slides = zipfile.ZipFile(io.BytesIO(files[f"{stem}.pptx"]))
    xml = [slides.read(f"ppt/slides/slide{n}.xml").decode() for n in range(1, 8)]
    assert "Lymphodepletion: " in xml[0] and "Follow-up: " in xml[0]
    assert "withdrawn day -21; none restarted by the last contact (day 184)" in xml[0]
    assert "<a:tbl>" in xml[6] and "Cytokine release syndrome" in xml[6]
    assert all(">SYNTHETIC<" in slide for slide in xml)

    for name, content in files.items():
        if name.endswith(".png"):
            assert Image.open(io.BytesIO(content)).width == 1920
        if name.endswith(".svg"):
            assert content.lstrip().startswith(b"<svg") and b'width="1920"' in content[:400]
            shown = [t.strip() for t in ET.fromstring(content).itertext() if t.strip()]
            assert "SYNTHETIC" in shown and any("Data cut" in t for t in shown)

    page.get_by_role("button", name="Leave presentation mode").click()
    page.wait_for_selector('[data-testid="stSidebar"]', state="visible", timeout=15_000)
    assert "present" not in page.url and "slide" not in page.url


def test_the_published_cases_files_hold_its_own_words(page: Page, app_url: str) -> None:
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{app_url}/summary?present=1")
    wait_rendered(page)
    page.get_by_role("button", name="Export or leave").click()
    files = {}
    for label in ("Summary as PDF", "Summary as slides (PPTX)"):
        with page.expect_download(timeout=30_000) as download:
            page.get_by_role("button", name=label).click()
        files[label] = Path(download.value.path()).read_bytes()
    pdf = PdfReader(io.BytesIO(files["Summary as PDF"]))
    last = " ".join(pdf.pages[-1].extract_text().split())
    assert "What the source reports in words" in last
    assert "Sustained immunosuppressive-drug-free clinical and radiologic improvement" in last
    assert "SYNTHETIC" not in " ".join(p.extract_text() for p in pdf.pages)
    slides = zipfile.ZipFile(io.BytesIO(files["Summary as slides (PPTX)"]))
    names = [n for n in slides.namelist() if re.fullmatch(r"ppt/slides/slide\d+\.xml", n)]
    words = slides.read(f"ppt/slides/slide{len(names)}.xml").decode()
    assert "What the source reports in words" in words
    assert "Eight months after the infusion" in words


def test_presentation_mode_keeps_the_patient_across_a_reload(page: Page, app_url: str) -> None:
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{app_url}/summary?patient=SYN-00007")
    wait_rendered(page, charts=5)
    header = page.locator("h2").first.inner_text()
    facts = page.locator('[data-testid="stCaptionContainer"]').first.inner_text()
    cards = page.locator('[data-testid="stMarkdownContainer"] strong').all_inner_texts()[:6]
    page.get_by_text("Presentation mode").click()
    page.wait_for_url(re.compile(r"present=1"), timeout=15_000)
    assert "patient=SYN-00007" in page.url
    page.reload()
    wait_rendered(page)
    assert "patient=SYN-00007" in page.url and "present=1" in page.url
    assert "SYN-00007" not in page.locator("body").inner_text()
    # The same patient's case, under the presentation label.
    assert page.locator("h2").first.inner_text() == header.replace("SYN-00007", "Patient 1")
    assert page.locator('[data-testid="stCaptionContainer"]').first.inner_text() == facts
    shown = page.locator('[data-testid="stMarkdownContainer"] strong').all_inner_texts()
    assert [c.replace("SYN-00007", "Patient 1") for c in cards][:4] == [
        s for s in shown if not s.startswith("Slide")
    ][:4]
