"""The case summary as files that open in standard viewers: a PDF (fpdf2) and slides (PPTX,
python-pptx). Every page and slide carries the footnote (patient label, source, data cut, rules);
the charts are the summary's own specs drawn by vl-convert."""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from carta.exports import chart_png
from carta.measures.summary import ADVERSE_EVENT_COLUMNS, Figure

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
    """What a case summary holds, in the order it is read: the page, its slide show, the PDF and
    the slides are all drawn from this, so that no file says less than the screen."""

    title: str  # e.g. "Case summary: Patient 1"
    subtitle: str
    header: list[tuple[str, str]]
    figures: list[Figure]
    footnote: str
    charts: list[tuple[str, dict]]  # (title, Vega-Lite spec)
    adverse_events: list[tuple[str, ...]] = field(default_factory=list)  # ADVERSE_EVENT_COLUMNS
    findings: list[tuple[str, str, str]] = field(default_factory=list)  # timing, statement, domains
    synthetic: bool = False


ADVERSE_EVENTS_TITLE = "Adverse events"
FINDINGS_TITLE = "What the source reports in words"
NO_ADVERSE_EVENTS = "No adverse event is reported for this patient."
SYNTHETIC_STAMP = "SYNTHETIC"
# Rows a slide (or a PDF page) holds before the table goes on over the next one.
ROWS_PER_SLIDE = 10


@dataclass(frozen=True)
class Slide:
    kind: str  # "title" | "chart" | "adverse events" | "findings"
    title: str
    chart: dict | None = None  # the Vega-Lite spec of a chart slide
    rows: list[tuple[str, ...]] = field(default_factory=list)  # a table slide's rows


def slides(document: CaseDocument) -> list[Slide]:
    """The summary as slides, in the order the page, the PDF and the PPTX show them: the title
    (header and key figures), a chart each, the adverse events, and the source's own words."""
    deck = [Slide("title", document.title)]
    deck += [Slide("chart", title, chart=spec) for title, spec in document.charts]
    deck += _table_slides("adverse events", ADVERSE_EVENTS_TITLE, document.adverse_events) or [
        Slide("adverse events", ADVERSE_EVENTS_TITLE)
    ]
    deck += _table_slides("findings", FINDINGS_TITLE, document.findings)
    return deck


def _table_slides(kind: str, title: str, rows: list[tuple[str, ...]]) -> list[Slide]:
    parts = [rows[i : i + ROWS_PER_SLIDE] for i in range(0, len(rows), ROWS_PER_SLIDE)]
    return [
        Slide(kind, title if len(parts) == 1 else f"{title} ({n} of {len(parts)})", rows=part)
        for n, part in enumerate(parts, start=1)
    ]


def standalone_figure(spec: dict, document: CaseDocument) -> dict:
    """A chart as a file of its own (PNG, SVG): the footnote under the chart, wrapped to its
    width, and for a synthetic patient SYNTHETIC over it, in the picture itself."""
    width = _chart_width(spec)
    size = spec.get("config", {}).get("text", {}).get("fontSize", 10)
    lines = textwrap.wrap(document.footnote, max(40, int(width / (0.52 * size))))
    note = {
        "data": {"values": [{}]},
        "mark": {"type": "text", "align": "left", "baseline": "top", "color": "#5A5A5A",
                 "fontSize": size, "lineHeight": round(size * 1.3, 1)},
        "encoding": {"text": {"value": lines}, "x": {"value": 0}, "y": {"value": 0}},
        "width": width,
        "height": round(size * 1.3 * len(lines)),
    }  # fmt: skip
    top_level = ("$schema", "datasets", "config", "autosize")
    chart = {k: v for k, v in spec.items() if k not in top_level}
    # Legends stay with their chart, under its title, not over the whole figure.
    figure = {**{k: v for k, v in spec.items() if k in top_level}, "vconcat": [chart, note],
              "spacing": 12,
              "resolve": {"legend": {"color": "independent", "shape": "independent"}}}  # fmt: skip
    if document.synthetic:
        figure["title"] = {"text": SYNTHETIC_STAMP, "subtitle": "not a real patient",
                           "color": "#B00020", "subtitleColor": "#B00020", "anchor": "end",
                           "fontSize": round(size * 1.8), "fontWeight": 700}  # fmt: skip
    return figure


def _chart_width(spec: dict) -> float:
    if isinstance(spec.get("width"), int | float):
        return spec["width"]
    widths = [view.get("width") for view in spec.get("vconcat", [])]
    return max([w for w in widths if isinstance(w, int | float)], default=560)


def finding_line(timing: str, statement: str, domains: str) -> str:
    return f"{timing}: {statement} ({domains})"


def chart_images(document: CaseDocument) -> list[tuple[str, bytes]]:
    """The charts as PNG for pages and slides, which carry the title themselves."""
    return [
        (title, chart_png({k: v for k, v in spec.items() if k != "title"}, DOCUMENT_PNG_WIDTH))
        for title, spec in document.charts
    ]


def summary_pdf(document: CaseDocument, images: list[tuple[str, bytes]] | None = None) -> bytes:
    """A4 landscape, a page a slide (`slides`): the title page with the header and the key
    figures, a chart a page, the adverse events and the source's words; the footnote at the foot
    of every page, and SYNTHETIC at the head of every page of a synthetic patient."""
    from fpdf import FPDF

    pictures = iter(chart_images(document) if images is None else images)
    unicode = _UNICODE_FONT.exists() and _UNICODE_BOLD.exists()

    def text(value: str) -> str:
        return (
            value
            if unicode
            else value.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")
        )

    class Pdf(FPDF):
        def header(self) -> None:
            if document.synthetic:
                self.set_xy(self.w - self.r_margin - 80, 4)
                self.set_font(family, "B", 11)
                self.set_text_color(*_STAMP_RGB)
                self.cell(80, 5, f"{SYNTHETIC_STAMP}: not a real patient", align="R")
                self.set_xy(self.l_margin, self.t_margin)

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

    def heading(title: str, size: float = 14) -> None:
        pdf.set_text_color(0, 0, 0)
        pdf.set_font(family, "B", size)
        pdf.cell(0, 9 if size < 20 else 11, text(title), new_x="LMARGIN", new_y="NEXT")

    for slide in slides(document):
        pdf.add_page()
        heading(slide.title, 20 if slide.kind == "title" else 14)
        if slide.kind == "title":
            _pdf_title_page(pdf, document, family, text)
        elif slide.kind == "chart":
            _pdf_picture(pdf, next(pictures)[1])
        elif not slide.rows:
            pdf.set_font(family, size=10)
            pdf.multi_cell(0, 6, text(NO_ADVERSE_EVENTS))
        elif slide.kind == "adverse events":
            pdf.set_font(family, size=9)
            with pdf.table(col_widths=(55, 38, 30, 52, 102), text_align="LEFT", line_height=5,
                           padding=1.5) as table:  # fmt: skip
                for row in [ADVERSE_EVENT_COLUMNS, *slide.rows]:
                    cells = table.row()
                    for value in row:
                        cells.cell(text(value))
        else:
            pdf.set_font(family, size=10)
            for row in slide.rows:
                pdf.multi_cell(0, 6, text("• " + finding_line(*row)), new_x="LMARGIN",
                               new_y="NEXT")  # fmt: skip
                pdf.ln(1)
    return bytes(pdf.output())


_STAMP_RGB = (176, 0, 32)


def _pdf_title_page(pdf, document: CaseDocument, family: str, text) -> None:
    """The subtitle, the header and the key figures with their detail lines, four a row."""
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
            pdf.multi_cell(width - 3, 3, text(f.detail), dry_run=True, output="LINES") for f in row
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
            for number, line in enumerate(lines):  # every detail line, as on the page
                pdf.set_xy(x, top + 10.5 + 3 * number)
                pdf.cell(width - 3, 3, line)
        top += height


def _pdf_picture(pdf, png: bytes) -> None:
    """As wide as the page allows, as high as its shape needs: at the top, under the title."""
    area_w = pdf.w - pdf.l_margin - pdf.r_margin
    area_h = pdf.h - pdf.get_y() - 28
    with Image.open(io.BytesIO(png)) as image:
        ratio = image.height / image.width
    w = min(area_w, area_h / ratio)
    pdf.image(io.BytesIO(png), x=pdf.l_margin + (area_w - w) / 2, y=pdf.get_y() + 2, w=w,
              h=w * ratio)  # fmt: skip


def summary_pptx(document: CaseDocument, images: list[tuple[str, bytes]] | None = None) -> bytes:
    """16:9 slides, the same as the page's slide show (`slides`): the title slide with the header
    and the key figures, a chart a slide, the adverse events and the source's words; the footnote
    in each slide's footer, and SYNTHETIC on every slide of a synthetic patient."""
    from pptx import Presentation
    from pptx.dml.color import RGBColor
    from pptx.enum.text import PP_ALIGN
    from pptx.util import Emu, Inches, Pt

    pictures = iter(chart_images(document) if images is None else images)
    deck = Presentation()
    deck.slide_width, deck.slide_height = Inches(13.333), Inches(7.5)
    blank = deck.slide_layouts[6]
    grey, black = RGBColor(0x5A, 0x5A, 0x5A), RGBColor(0, 0, 0)

    def textbox(slide, left, top, width, height, value, size, bold=False, colour=black):
        frame = slide.shapes.add_textbox(left, top, width, height).text_frame
        frame.word_wrap = True
        add_run(frame.paragraphs[0], value, size, bold, colour)
        return frame

    def add_run(paragraph, value, size, bold=False, colour=black):
        run = paragraph.add_run()
        run.text = value
        run.font.size, run.font.bold = Pt(size), bold
        run.font.color.rgb = colour
        return run

    for slide_model in slides(document):
        slide = deck.slides.add_slide(blank)
        size = 30 if slide_model.kind == "title" else 24
        textbox(slide, Inches(0.5), Inches(0.25), Inches(10.6), Inches(0.7), slide_model.title,
                size, bold=True)  # fmt: skip
        if document.synthetic:
            red = RGBColor(*_STAMP_RGB)
            stamp = textbox(slide, Inches(10.9), Inches(0.3), Inches(2.1), Inches(0.5),
                            SYNTHETIC_STAMP, 18, bold=True, colour=red)  # fmt: skip
            stamp.paragraphs[0].alignment = PP_ALIGN.RIGHT
        if slide_model.kind == "title":
            textbox(slide, Inches(0.5), Inches(0.95), Inches(12.3), Inches(0.4),
                    document.subtitle, 14, colour=grey)  # fmt: skip
            half = (len(document.header) + 1) // 2
            for column, items in enumerate((document.header[:half], document.header[half:])):
                frame = textbox(slide, Inches(0.5 + column * 6.2), Inches(1.4), Inches(6.1),
                                Inches(1.3), "", 10)  # fmt: skip
                for number, (label, value) in enumerate(items):
                    paragraph = frame.paragraphs[0] if number == 0 else frame.add_paragraph()
                    add_run(paragraph, f"{label}: ", 10, bold=True)
                    add_run(paragraph, value, 10)
            columns = 6
            for index, figure in enumerate(document.figures):
                left = Inches(0.5 + (index % columns) * 2.06)
                top = Inches(2.85 + (index // columns) * 1.3)
                frame = textbox(slide, left, top, Inches(2.0), Inches(1.25), figure.label, 9,
                                colour=grey)  # fmt: skip
                shade = black if figure.reported else RGBColor(0x82, 0x82, 0x82)
                add_run(frame.add_paragraph(), figure.value, 15, bold=True, colour=shade)
                if figure.detail:
                    add_run(frame.add_paragraph(), figure.detail, 7.5, colour=grey)
        elif slide_model.kind == "chart":
            picture = slide.shapes.add_picture(io.BytesIO(next(pictures)[1]), Inches(0.5),
                                               Inches(1.0))  # fmt: skip
            # Fit inside 12.3 x 5.6 inches, keeping the shape.
            scale = min(Inches(12.3) / picture.width, Inches(5.6) / picture.height)
            picture.width, picture.height = (
                Emu(int(picture.width * scale)),
                Emu(int(picture.height * scale)),
            )
            picture.left = Emu(int((deck.slide_width - picture.width) / 2))
        elif not slide_model.rows:
            textbox(slide, Inches(0.5), Inches(1.2), Inches(12.3), Inches(0.6),
                    NO_ADVERSE_EVENTS, 16)  # fmt: skip
        elif slide_model.kind == "adverse events":
            rows = [ADVERSE_EVENT_COLUMNS, *slide_model.rows]
            shape = slide.shapes.add_table(len(rows), len(ADVERSE_EVENT_COLUMNS), Inches(0.5),
                                           Inches(1.1), Inches(12.3),
                                           Inches(0.4 * len(rows)))  # fmt: skip
            for width, column in zip((2.6, 1.9, 1.6, 2.4, 3.8), shape.table.columns, strict=True):
                column.width = Inches(width)
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    paragraph = shape.table.cell(r, c).text_frame.paragraphs[0]
                    add_run(paragraph, value, 12, bold=r == 0,
                            colour=RGBColor(0xFF, 0xFF, 0xFF) if r == 0 else black)  # fmt: skip
        else:
            frame = textbox(slide, Inches(0.5), Inches(1.1), Inches(12.3), Inches(5.4), "", 16)
            for number, row in enumerate(slide_model.rows):
                paragraph = frame.paragraphs[0] if number == 0 else frame.add_paragraph()
                add_run(paragraph, f"{row[0]}: ", 16, bold=True)
                add_run(paragraph, f"{row[1]} ({row[2]})", 16)
                paragraph.space_after = Pt(10)
        textbox(slide, Inches(0.4), Inches(6.75), Inches(12.5), Inches(0.7), document.footnote,
                8, colour=grey).paragraphs[0].runs[0].font.name = "Calibri"  # fmt: skip
    buffer = io.BytesIO()
    deck.save(buffer)
    return buffer.getvalue()
