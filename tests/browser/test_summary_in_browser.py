"""The case summary in Chromium: presentation mode from the URL hides the sidebar, and every
export button gives a file that opens as what it claims to be."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page
from pypdf import PdfReader

from carta.case import file_stem
from tests.browser.harness import screenshot, wait_rendered

pytestmark = pytest.mark.browser


def test_presentation_mode_and_every_export(page: Page, app_url: str) -> None:
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{app_url}/summary?patient=SYN-00002&present=1")
    wait_rendered(page, charts=5)
    assert not page.locator('[data-testid="stSidebar"]').is_visible()
    assert page.get_by_role("heading", name="Patient 1: Juvenile dermatomyositis").is_visible()
    assert "SYN-00002" not in page.locator("body").inner_text()  # on screen: "Patient 1"
    screenshot(page, "summary-presentation")

    page.get_by_text("Export and leave presentation mode").click()
    buttons = page.locator('[data-testid="stDownloadButton"] button')
    assert buttons.count() == 2 + 2 * 5
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
    assert len(pdf.pages) == 6 and "Case summary: Patient 1" in pdf.pages[0].extract_text()
    slides = zipfile.ZipFile(io.BytesIO(files[f"{stem}.pptx"]))
    assert "ppt/presentation.xml" in slides.namelist()
    for name, content in files.items():
        if name.endswith(".png"):
            assert Image.open(io.BytesIO(content)).width == 1920
        if name.endswith(".svg"):
            assert content.lstrip().startswith(b"<svg") and b'width="1920"' in content[:400]

    page.get_by_role("button", name="Leave presentation mode").click()
    page.wait_for_selector('[data-testid="stSidebar"]', state="visible", timeout=15_000)
    assert "present" not in page.url


def test_presentation_mode_keeps_the_patient_across_a_reload(page: Page, app_url: str) -> None:
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{app_url}/summary?patient=SYN-00007")
    wait_rendered(page, charts=5)
    facts = page.locator('[data-testid="stCaptionContainer"]').first.inner_text()
    header = page.locator("h2").first.inner_text()
    cards = page.locator('[data-testid="stMarkdownContainer"] strong').all_inner_texts()[:6]
    page.get_by_text("Presentation mode").click()
    page.wait_for_url(re.compile(r"present=1"), timeout=15_000)
    assert "patient=SYN-00007" in page.url
    page.reload()
    wait_rendered(page, charts=5)
    assert "patient=SYN-00007" in page.url and "present=1" in page.url
    assert "SYN-00007" not in page.locator("body").inner_text()
    # The same patient's case, under the presentation label.
    assert page.locator("h2").first.inner_text() == header.replace("SYN-00007", "Patient 1")
    assert page.locator('[data-testid="stCaptionContainer"]').first.inner_text() == facts
    assert page.locator('[data-testid="stMarkdownContainer"] strong').all_inner_texts()[:6] == [
        c.replace("SYN-00007", "Patient 1") for c in cards
    ]
