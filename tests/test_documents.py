"""The case summary's files: PDF pages and text, PPTX slides and pictures, PNG and SVG sizes."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image
from pptx import Presentation
from pypdf import PdfReader

from carta import case, documents, exports
from carta.store import open_read_only, run_query, store_info
from tests.conftest import PUBLISHED_ID


def case_document(store: Path, patient_id: str, label: str) -> documents.CaseDocument:
    """The summary's document, as the page assembles it (presentation mode labels "Patient 1")."""
    con = open_read_only(store)
    try:
        meta = store_info(con)
        loaded = case.load_case(
            lambda name, **params: run_query(con, name, **params), meta, patient_id,
            presenting=label == "Patient 1",
        )  # fmt: skip
    finally:
        con.close()
    return loaded.document


@pytest.fixture(scope="module")
def synthetic(default_store) -> documents.CaseDocument:
    return case_document(default_store, "SYN-00002", "Patient 1")


@pytest.fixture(scope="module")
def images(synthetic) -> list[tuple[str, bytes]]:
    return documents.chart_images(synthetic)


def test_the_pdf_has_a_title_page_then_a_chart_a_page_with_the_footnote(synthetic, images):
    pdf = PdfReader(io.BytesIO(documents.summary_pdf(synthetic, images)))
    assert len(synthetic.charts) == 5
    assert len(pdf.pages) == 1 + len(synthetic.charts)
    texts = [page.extract_text() for page in pdf.pages]
    assert "Case summary: Patient 1" in texts[0] and "Days off immunosuppression" in texts[0]
    for text in texts:
        assert "Patient 1." in text and "SYNTHETIC" in text and "Data cut" in text
        assert "SYN-00002" not in text  # presentation: the neutral label only
    for (title, _), text in zip(synthetic.charts, texts[1:], strict=True):
        assert title in text
    assert all(len(page.images) == 1 for page in pdf.pages[1:])


def test_the_published_case_pdf_cites_its_source(default_store) -> None:
    document = case_document(default_store, PUBLISHED_ID, PUBLISHED_ID)
    pdf = PdfReader(io.BytesIO(documents.summary_pdf(document)))
    assert len(pdf.pages) == 1 + len(document.charts)
    first = pdf.pages[0].extract_text()
    assert "doi:10.1002/art.42933" in first and "not reported" in first and "32.69" in first


def test_the_slides_have_a_title_slide_then_a_picture_a_chart(synthetic, images) -> None:
    deck = Presentation(io.BytesIO(documents.summary_pptx(synthetic, images)))
    slides = list(deck.slides)
    assert len(slides) == 1 + len(synthetic.charts)
    title_text = " ".join(s.text_frame.text for s in slides[0].shapes if s.has_text_frame)
    assert "Case summary: Patient 1" in title_text and "TIS category" in title_text
    for slide in slides:
        text = " ".join(s.text_frame.text for s in slide.shapes if s.has_text_frame)
        assert "SYNTHETIC" in text and "Data cut" in text and "SYN-00002" not in text
    for slide, (title, _) in zip(slides[1:], synthetic.charts, strict=True):
        [picture] = [s for s in slide.shapes if s.shape_type == 13]  # MSO_SHAPE_TYPE.PICTURE
        [footer] = [s for s in slide.shapes if s.has_text_frame and "Data cut" in s.text_frame.text]
        # The chart fits between the title and the footer, inside the slide.
        assert picture.left >= 0 and picture.left + picture.width <= deck.slide_width
        assert picture.top + picture.height <= footer.top
        assert title in " ".join(s.text_frame.text for s in slide.shapes if s.has_text_frame)


@pytest.mark.parametrize("width", [640, 1920])
def test_png_and_svg_are_images_of_the_requested_width(synthetic, width) -> None:
    spec = synthetic.charts[2][1]
    png = Image.open(io.BytesIO(exports.chart_png(spec, width)))
    assert png.format == "PNG" and abs(png.width - width) <= 1 and png.height > 100
    svg = exports.chart_svg(spec, width)
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg") and float(root.get("width")) == width
    natural = exports.svg_size(exports.chart_svg(spec))
    assert float(root.get("height")) == pytest.approx(natural[1] * width / natural[0], abs=1)
    assert "Study day (0 = CAR T infusion)" in svg
