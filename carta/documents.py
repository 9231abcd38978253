"""The case summary as files that open in standard viewers: a PDF (fpdf2) and slides (PPTX,
python-pptx). Every page and slide carries the footnote (patient label, source, data cut, rules);
the charts are the summary's own specs drawn by vl-convert."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from carta.exports import chart_png
from carta.measures.summary import Figure

# Charts are drawn this wide in pixels for documents: sharp on a 1920 x 1080 projector.
DOCUMENT_PNG_WIDTH = 1800
_UNICODE_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
_UNICODE_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
# With no Unicode font on the machine, the PDF falls back to its core font and these spellings.
_LATIN1 = str.maketrans({"“": '"', "”": '"', "–": "-", "—": "-", "≥": ">=", "≤": "<=", "−": "-",
                         "⁰": "0", "¹": "1", "²": "2", "³": "3", "⁴": "4", "⁵": "5", "⁶": "6",
                         "⁷": "7", "⁸": "8", "⁹": "9", "⁻": "-", "’": "'"})  # fmt: skip


@dataclass(frozen=True)
class CaseDocument:
    title: str  # e.g. "Case summary: Patient 1"
    subtitle: str
    header: list[tuple[str, str]]
    figures: list[Figure]
    footnote: str
    charts: list[tuple[str, dict]]  # (title, Vega-Lite spec)


def chart_images(document: CaseDocument) -> list[tuple[str, bytes]]:
    """The charts as PNG for pages and slides, which carry the title themselves."""
    return [
        (title, chart_png({k: v for k, v in spec.items() if k != "title"}, DOCUMENT_PNG_WIDTH))
        for title, spec in document.charts
    ]


def summary_pdf(document: CaseDocument, images: list[tuple[str, bytes]] | None = None) -> bytes:
    """A4 landscape: a title page with the header and the key figures, then one chart a page;
    the footnote at the foot of every page."""
    from fpdf import FPDF

    images = chart_images(document) if images is None else images
    unicode = _UNICODE_FONT.exists() and _UNICODE_BOLD.exists()

    def text(value: str) -> str:
        return (
            value
            if unicode
            else value.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")
        )

    class Pdf(FPDF):
        def footer(self) -> None:
            self.set_y(-22)
            self.set_font(family, size=7)
            self.set_text_color(90, 90, 90)
            self.multi_cell(0, 3.2, text(document.footnote))
            self.set_y(-8)
            self.cell(0, 4, f"{self.page_no()} / {{nb}}", align="R")

    pdf = Pdf(orientation="landscape", format="A4")
    pdf.set_auto_page_break(auto=True, margin=26)
    family = "Helvetica"
    if unicode:
        pdf.add_font("DejaVu", "", str(_UNICODE_FONT))
        pdf.add_font("DejaVu", "B", str(_UNICODE_BOLD))
        family = "DejaVu"
    pdf.set_title(text(document.title))
    pdf.add_page()
    pdf.set_font(family, "B", 20)
    pdf.cell(0, 11, text(document.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, size=11)
    pdf.set_text_color(70, 70, 70)
    pdf.multi_cell(0, 6, text(document.subtitle), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_text_color(0, 0, 0)
    for label, value in document.header:
        pdf.set_font(family, "B", 9.5)
        pdf.cell(38, 5.2, text(label))
        pdf.set_font(family, size=9.5)
        pdf.multi_cell(0, 5.2, text(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    width = (pdf.w - pdf.l_margin - pdf.r_margin) / 4
    top = pdf.get_y()
    for start in range(0, len(document.figures), 4):
        row = document.figures[start : start + 4]
        pdf.set_font(family, size=7)
        details = [
            pdf.multi_cell(width - 3, 3, text(f.detail), dry_run=True, output="LINES")[:3]
            for f in row
        ]
        height = 11 + 3 * max((len(d) for d in details if d != [""]), default=0) + 3
        if top + height > pdf.h - 28:
            pdf.add_page()
            top = pdf.get_y()
        for index, (figure, lines) in enumerate(zip(row, details, strict=True)):
            x = pdf.l_margin + index * width
            pdf.set_xy(x, top)
            pdf.set_font(family, size=8)
            pdf.set_text_color(90, 90, 90)
            pdf.cell(width - 2, 4, text(figure.label))
            pdf.set_xy(x, top + 4)
            pdf.set_font(family, "B", 11.5)
            pdf.set_text_color(0, 0, 0) if figure.reported else pdf.set_text_color(130, 130, 130)
            pdf.cell(width - 2, 6, text(figure.value))
            pdf.set_font(family, size=7)
            pdf.set_text_color(90, 90, 90)
            for number, line in enumerate(lines):  # at most three lines under a card
                pdf.set_xy(x, top + 10.5 + 3 * number)
                pdf.cell(width - 3, 3, line)
        top += height
    for title, png in images:
        pdf.add_page()
        pdf.set_text_color(0, 0, 0)
        pdf.set_font(family, "B", 14)
        pdf.cell(0, 9, text(title), new_x="LMARGIN", new_y="NEXT")
        area_w = pdf.w - pdf.l_margin - pdf.r_margin
        area_h = pdf.h - pdf.get_y() - 28
        with Image.open(io.BytesIO(png)) as image:
            ratio = image.height / image.width
        # As wide as the page allows, as high as its shape needs: at the top, under the title.
        w = min(area_w, area_h / ratio)
        pdf.image(io.BytesIO(png), x=pdf.l_margin + (area_w - w) / 2, y=pdf.get_y() + 2, w=w,
                  h=w * ratio)  # fmt: skip
    return bytes(pdf.output())


def summary_pptx(document: CaseDocument, images: list[tuple[str, bytes]] | None = None) -> bytes:
    """16:9 slides: a title slide with the key figures, then one chart a slide; the footnote in
    each slide's footer."""
    from pptx import Presentation
    from pptx.dml.color import RGBColor
    from pptx.util import Emu, Inches, Pt

    images = chart_images(document) if images is None else images
    deck = Presentation()
    deck.slide_width, deck.slide_height = Inches(13.333), Inches(7.5)
    blank = deck.slide_layouts[6]

    def textbox(slide, left, top, width, height, value, size, bold=False, grey=False):
        frame = slide.shapes.add_textbox(left, top, width, height).text_frame
        frame.word_wrap = True
        run = frame.paragraphs[0].add_run()
        run.text = value
        run.font.size, run.font.bold = Pt(size), bold
        run.font.color.rgb = RGBColor(0x5A, 0x5A, 0x5A) if grey else RGBColor(0, 0, 0)
        return frame

    def footer(slide) -> None:
        textbox(slide, Inches(0.4), Inches(6.75), Inches(12.5), Inches(0.7), document.footnote,
                8, grey=True).paragraphs[0].runs[0].font.name = "Calibri"  # fmt: skip

    slide = deck.slides.add_slide(blank)
    textbox(slide, Inches(0.5), Inches(0.3), Inches(12.3), Inches(0.8), document.title, 32, True)
    textbox(slide, Inches(0.5), Inches(1.05), Inches(12.3), Inches(0.6), document.subtitle, 14,
            grey=True)  # fmt: skip
    columns = 4
    for index, figure in enumerate(document.figures):
        left = Inches(0.5 + (index % columns) * 3.1)
        top = Inches(1.8 + (index // columns) * 1.2)
        frame = textbox(slide, left, top, Inches(3.0), Inches(1.1), figure.label, 11, grey=True)
        value = frame.add_paragraph().add_run()
        value.text = figure.value
        value.font.size, value.font.bold = Pt(18), True
        if not figure.reported:
            value.font.color.rgb = RGBColor(0x82, 0x82, 0x82)
    footer(slide)
    for title, png in images:
        slide = deck.slides.add_slide(blank)
        textbox(slide, Inches(0.5), Inches(0.25), Inches(12.3), Inches(0.7), title, 24, True)
        picture = slide.shapes.add_picture(io.BytesIO(png), Inches(0.5), Inches(1.0))
        # Fit inside 12.3 x 5.6 inches, keeping the shape.
        scale = min(Inches(12.3) / picture.width, Inches(5.6) / picture.height)
        picture.width, picture.height = (
            Emu(int(picture.width * scale)),
            Emu(int(picture.height * scale)),
        )
        picture.left = Emu(int((deck.slide_width - picture.width) / 2))
        footer(slide)
    buffer = io.BytesIO()
    deck.save(buffer)
    return buffer.getvalue()
