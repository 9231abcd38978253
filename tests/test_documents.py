"""The case summary's files: PDF pages and text, PPTX slides and pictures, PNG and SVG sizes."""

from __future__ import annotations

import dataclasses
import io
import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from pptx import Presentation
from pypdf import PdfReader

from carta import case, documents, exports
from carta.measures.summary import ADVERSE_EVENT_COLUMNS
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


def test_the_pdf_holds_what_the_summary_shows_a_slide_a_page(synthetic, images):
    pdf = PdfReader(io.BytesIO(documents.summary_pdf(synthetic, images)))
    deck = documents.slides(synthetic)
    assert len(synthetic.charts) == 5
    assert [s.kind for s in deck] == ["title", *["chart"] * 5, "adverse events"]
    assert len(pdf.pages) == len(deck)
    texts = [page.extract_text() for page in pdf.pages]
    title = texts[0]
    assert "Case summary: Patient 1" in title and "Days off immunosuppression" in title
    for label, _ in synthetic.header:  # the header as on the page
        assert label in title
    assert "Lymphodepletion" in title and "Follow-up" in title and "Product" in title
    # A card's detail line, as on the page.
    assert "withdrawn day -21; none restarted by the last contact (day 184)" in " ".join(
        title.split()
    )
    for text in texts:
        assert "Patient 1." in text and "Data cut" in text
        assert "SYNTHETIC: not a real patient" in text  # the stamp at the head of every page
        assert "SYN-00002" not in text  # presentation: the neutral label only
    for (title, _), text in zip(synthetic.charts, texts[1:6], strict=True):
        assert title in text
    assert all(len(page.images) == 1 for page in pdf.pages[1:6])
    adverse = texts[6]
    assert "Adverse events" in adverse
    for event, grade, _, when, _ in synthetic.adverse_events:
        assert event.split()[0] in adverse and grade in adverse and when in adverse
    assert synthetic.adverse_events[0][:3] == ("Cytokine release syndrome", "grade 2", "ASTCT 2019")


def test_the_published_case_pdf_cites_its_source_and_holds_its_findings(default_store) -> None:
    document = case_document(default_store, PUBLISHED_ID, PUBLISHED_ID)
    pdf = PdfReader(io.BytesIO(documents.summary_pdf(document)))
    assert [s.kind for s in documents.slides(document)][-2:] == ["adverse events", "findings"]
    assert len(pdf.pages) == len(documents.slides(document))
    first = pdf.pages[0].extract_text()
    assert "doi:10.1002/art.42933" in first and "not reported" in first and "32.69" in first
    assert "SYNTHETIC" not in first
    findings = pdf.pages[-1].extract_text()
    assert "What the source reports in words" in findings
    assert "Sustained immunosuppressive-drug-free clinical and radiologic" in findings
    assert "Eight months after the infusion" in findings


def slide_texts(pptx: bytes) -> list[str]:
    """Every slide's text, tables included, read from the slide XML itself."""
    archive = zipfile.ZipFile(io.BytesIO(pptx))
    names = sorted(
        (n for n in archive.namelist() if re.fullmatch(r"ppt/slides/slide\d+\.xml", n)),
        key=lambda n: int(re.search(r"(\d+)", n).group(1)),
    )
    texts = []
    for name in names:
        root = ET.fromstring(archive.read(name))
        texts.append(" ".join(t.text or "" for t in root.iter(f"{DRAWING}t")))
    return texts


DRAWING = "{http://schemas.openxmlformats.org/drawingml/2006/main}"


def test_the_slides_are_the_slide_show_with_header_cards_and_adverse_events(synthetic, images):
    pptx = documents.summary_pptx(synthetic, images)
    deck = Presentation(io.BytesIO(pptx))
    slides = list(deck.slides)
    assert len(slides) == len(documents.slides(synthetic)) == 7
    texts = slide_texts(pptx)
    title_text = texts[0]
    assert "Case summary: Patient 1" in title_text and "TIS category" in title_text
    for label, value in synthetic.header:
        assert f"{label}: " in title_text and value in title_text
    for figure in synthetic.figures:  # every card with its detail line
        assert figure.label in title_text and figure.detail in title_text
    for text in texts:
        assert "SYNTHETIC" in text and "Data cut" in text and "SYN-00002" not in text
    for slide, (title, _) in zip(slides[1:6], synthetic.charts, strict=True):
        [picture] = [s for s in slide.shapes if s.shape_type == 13]  # MSO_SHAPE_TYPE.PICTURE
        [footer] = [s for s in slide.shapes if s.has_text_frame and "Data cut" in s.text_frame.text]
        # The chart fits between the title and the footer, inside the slide.
        assert picture.left >= 0 and picture.left + picture.width <= deck.slide_width
        assert picture.top + picture.height <= footer.top
        assert title in " ".join(s.text_frame.text for s in slide.shapes if s.has_text_frame)
    [table] = [s for s in slides[6].shapes if s.has_table]
    rows = [[cell.text for cell in row.cells] for row in table.table.rows]
    assert rows == [list(ADVERSE_EVENT_COLUMNS), *map(list, synthetic.adverse_events)]


def test_a_slide_of_the_published_case_holds_its_findings(default_store) -> None:
    document = case_document(default_store, PUBLISHED_ID, PUBLISHED_ID)
    texts = slide_texts(documents.summary_pptx(document))
    assert "What the source reports in words" in texts[-1]
    for timing, statement, _ in document.findings:
        assert timing in texts[-1] and statement in texts[-1]
    assert not any("SYNTHETIC" in text for text in texts)


def test_a_long_table_goes_on_over_the_next_slide() -> None:
    rows = [(f"Event {n}", "grade 1", "CTCAE v5.0", f"day {n}", "") for n in range(23)]
    document = documents.CaseDocument("Case summary: X", "", [], [], "X.", [], rows)
    deck = documents.slides(document)
    assert [s.title for s in deck[1:]] == [
        "Adverse events (1 of 3)",
        "Adverse events (2 of 3)",
        "Adverse events (3 of 3)",
    ]
    assert [len(s.rows) for s in deck[1:]] == [10, 10, 3]
    assert documents.slides(documents.CaseDocument("T", "", [], [], "X.", []))[-1].rows == []


def test_a_figure_file_carries_the_footnote_and_the_synthetic_stamp(synthetic) -> None:
    spec = synthetic.charts[2][1]
    svg = exports.chart_svg(documents.standalone_figure(spec, synthetic), 1920)
    texts = [t.strip() for t in ET.fromstring(svg).itertext() if t.strip()]
    assert "SYNTHETIC" in texts and "not a real patient" in texts  # the stamp, as drawn text
    shown = " ".join(texts)
    assert "Source: SYNTHETIC data from Carta" in shown and "Data cut" in shown
    published = dataclasses.replace(synthetic, synthetic=False)
    plain = exports.chart_svg(documents.standalone_figure(spec, published))
    assert "SYNTHETIC" not in [t.strip() for t in ET.fromstring(plain).itertext()]


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
