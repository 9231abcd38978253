"""The case summary in Chromium: presentation mode from the URL hides the sidebar, and every
export button gives a file that opens as what it claims to be."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page
from pypdf import PdfReader

from tests.browser.harness import screenshot, wait_rendered

pytestmark = pytest.mark.browser


def test_presentation_mode_and_every_export(page: Page, app_url: str) -> None:
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{app_url}/summary?patient=SYN-00002&present=1")
    wait_rendered(page, charts=5)
    assert not page.locator('[data-testid="stSidebar"]').is_visible()
    assert page.get_by_role("heading", name="Patient 1: Juvenile dermatomyositis").is_visible()
    assert page.get_by_text("SYN-00002").count() == 0
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
    assert len(files) == 12 and all(name.startswith("carta-patient-1") for name in files)
    pdf = PdfReader(io.BytesIO(files["carta-patient-1.pdf"]))
    assert len(pdf.pages) == 6 and "Case summary: Patient 1" in pdf.pages[0].extract_text()
    slides = zipfile.ZipFile(io.BytesIO(files["carta-patient-1.pptx"]))
    assert "ppt/presentation.xml" in slides.namelist()
    for name, content in files.items():
        if name.endswith(".png"):
            assert Image.open(io.BytesIO(content)).width == 1920
        if name.endswith(".svg"):
            assert content.lstrip().startswith(b"<svg") and b'width="1920"' in content[:400]

    page.get_by_role("button", name="Leave presentation mode").click()
    page.wait_for_selector('[data-testid="stSidebar"]', state="visible", timeout=15_000)
    assert "present" not in page.url
