"""The case summary's widgets (pages/summary.py): presentation mode, the header, the cards, the
charts, the adverse events and the exports; the case itself, built once per store version.
"""

from __future__ import annotations

import html

import pandas as pd
import streamlit as st

from carta import display, documents, ui, urlstate
from carta.charts.trajectory import PANELS
from carta.measures.summary import ADVERSE_EVENT_COLUMNS


def enter_presentation() -> None:
    st.query_params["present"] = "1"


def leave_presentation() -> None:
    for key in ("present", "slide"):
        if key in st.query_params:
            del st.query_params[key]


HIDDEN_CONTROLS = "presenter-hidden-controls"  # a container's key: presentation_style hides it


def presentation_style() -> None:
    """No sidebar, no toolbar, larger type: a slide as a projector at 1920 x 1080 shows it."""
    st.html(
        """<style>
        [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
        [data-testid="stSidebarNav"], [data-testid="stHeader"], [data-testid="stToolbar"],
        [data-testid="stExpandSidebarButton"],
        .st-key-presenter-hidden-controls { display: none !important; }
        [data-testid="stMainBlockContainer"] { max-width: 1840px; padding: 1rem 2.5rem 0.5rem; }
        .stApp p, .stApp li, .stApp td { font-size: 1.25rem; }
        .stApp h2 { font-size: 2.4rem; padding-top: 0.25rem; }
        .stApp h3 { font-size: 2rem; }
        .st-key-slide-footer p { font-size: 0.9rem; line-height: 1.35; }
        .st-key-slide-cards p { font-size: 1.05rem; }
        .st-key-slide-cards [data-testid="stCaptionContainer"] p { font-size: 0.85rem; }
        .synthetic-stamp { color: #B00020; font-weight: 700; letter-spacing: 0.06em; }
        </style>"""
    )


def summary_header(items: list[tuple[str, str]], rest_columns: int = 1) -> None:
    """The first four facts side by side, the others as lines (in `rest_columns` columns)."""
    first, rest = items[:4], items[4:]
    for column, (label, value) in zip(st.columns(len(first)), first, strict=True):
        column.caption(label)
        column.markdown(f"**{display.escape_markdown(value)}**")
    per_column = -(-len(rest) // rest_columns)
    for column, start in zip(st.columns(rest_columns), range(0, len(rest), per_column),
                             strict=False):  # fmt: skip
        column.markdown("  \n".join(
            f"**{label}:** {display.escape_markdown(value)}"
            for label, value in rest[start : start + per_column]
        ))  # fmt: skip


def figure_cards(figures, columns: int = 4) -> None:
    """The key figures as cards; a figure the source does not report says so, greyed."""
    for start in range(0, len(figures), columns):
        for column, figure in zip(
            st.columns(columns), figures[start : start + columns], strict=False
        ):
            with column.container(border=True):
                st.caption(figure.label)
                # Values and details can come from imported files: shown as text, never Markdown.
                shown = display.escape_markdown(figure.value)
                st.markdown(f"**{shown if figure.reported else f':gray[{shown}]'}**")
                if figure.detail:
                    st.caption(display.escape_markdown(figure.detail))


def summary_charts(specs: dict[str, dict], document, columns: int = 2) -> None:
    """The course lane across the page, then the other charts side by side; drawn with the
    export theme (Streamlit's own switched off) so that the screen and the files agree."""
    names = list(specs)
    if "course" in specs:
        _chart(specs["course"], "course", document)
        names.remove("course")
    for start in range(0, len(names), columns):
        for column, name in zip(st.columns(columns), names[start : start + columns], strict=False):
            with column:
                _chart(specs[name], name, document)


def _chart(spec: dict, name: str, document) -> None:
    """One chart at its column's width. A panel of several views (CAR T and B cells) is drawn a
    view at a time under its title: Vega-Lite fits a single view to its container, never a
    vconcat, which would run past a phone's screen."""
    described = chart_description(PANELS[name], document)
    if "vconcat" not in spec:
        st.vega_lite_chart(spec, theme=None, key=f"summary-{name}", alt=described)
        return
    st.markdown(f"**{display.escape_markdown(PANELS[name])}**")
    shared = {k: spec[k] for k in ("$schema", "datasets", "config") if k in spec}
    for index, view in enumerate(spec["vconcat"]):
        st.vega_lite_chart({**shared, **view}, theme=None, key=f"summary-{name}-{index}",
                           alt=described)  # fmt: skip


def adverse_event_table(rows: list[tuple[str, ...]], slide: bool = False) -> None:
    """The adverse events as the document holds them (carta.measures.summary.adverse_event_rows):
    on a slide as a plain table that reads from the back of a room."""
    if not rows:
        st.info(documents.NO_ADVERSE_EVENTS)
        return
    frame = pd.DataFrame(rows, columns=ADVERSE_EVENT_COLUMNS)
    if slide:
        st.table(frame, hide_index=True, border="horizontal")
    else:
        st.dataframe(frame, hide_index=True, key="summary-adverse")


def slide_show(summary, stem: str, patient_id: str) -> None:
    """Presentation mode: the summary as slides (carta.documents.slides) that fit a 1920 x 1080
    screen, one at a time; previous and next by button or arrow key, the slide in the URL
    (`slide=N`), and the footer on every slide."""
    document = summary.document
    deck = documents.slides(document)
    parsed = urlstate.slide_number(st.query_params.get("slide"), len(deck))
    number = parsed.value
    controls = st.columns([1.3, 5, 1.3, 2.4], vertical_alignment="center")
    controls[0].button("Previous", key="slide-previous", on_click=_go_to, args=(number - 1,),
                       disabled=number == 1, shortcut="Left", width="stretch")  # fmt: skip
    title = display.escape_markdown(deck[number - 1].title)
    controls[1].markdown(f"**Slide {number} of {len(deck)}** · {title}")
    controls[2].button("Next", key="slide-next", on_click=_go_to, args=(number + 1,),
                       disabled=number == len(deck), shortcut="Right", width="stretch")  # fmt: skip
    with controls[3].popover("Export or leave", width="stretch"):
        summary_exports(document, summary.specs, PANELS, stem)
        st.button("Leave presentation mode", on_click=leave_presentation, key="leave")
    if parsed.problem:
        st.caption(parsed.problem)
    slide = deck[number - 1]
    if slide.kind == "title":
        _title_slide(summary)
    elif slide.kind == "chart":
        name = list(summary.specs)[number - 2]
        spec = case_chart_specs(patient_id, presenting=True)[name]
        st.vega_lite_chart(spec, theme=None, key=f"slide-{name}", width="content",
                           alt=chart_description(slide.title, document))  # fmt: skip
    else:
        st.header(slide.title)
        if slide.kind == "adverse events":
            adverse_event_table(slide.rows, slide=True)
        else:
            st.markdown("\n".join(
                f"- **{display.escape_markdown(timing)}:** {display.escape_markdown(statement)} "
                f"({display.escape_markdown(domains)})" for timing, statement, domains in slide.rows
            ))  # fmt: skip
    with st.container(key="slide-footer"):
        stamp = f'<span class="synthetic-stamp">{documents.SYNTHETIC_STAMP}</span> · '
        st.html(f"<p>{stamp if document.synthetic else ''}{html.escape(document.footnote)}</p>")


def _go_to(number: int) -> None:
    st.query_params["slide"] = str(number)


def _title_slide(summary) -> None:
    document = summary.document
    diagnosis = summary.profile["diagnosis"]
    st.header(summary.label + ("" if display.is_missing(diagnosis) else f": {diagnosis}"))
    ui.synthetic_warning(summary.profile["source_kind"])
    summary_header(document.header, rest_columns=2)
    with st.container(key="slide-cards"):
        figure_cards(document.figures, columns=6)


def chart_description(title: str, document) -> str:
    """What a screen reader says of a chart: which chart, of whom, over what, from which source."""
    return (
        f"{title} of {document.title.removeprefix('Case summary: ')} by study day. "
        + (document.footnote.split(" Rules:")[0])
    )


def summary_exports(document, specs: dict[str, dict], titles: dict[str, str], stem: str) -> None:
    """Every chart as PNG and SVG, the whole summary as PDF and PPTX; each made when clicked and
    named `stem` (carta.case.file_stem)."""
    from carta import exports

    st.subheader("Export")
    st.caption(
        "Charts at presentation resolution (1,920 px wide) and as SVG, drawn with the theme "
        "above; the summary as PDF and as slides, a page a slide of the slide show (header and "
        "key figures, a chart each, adverse events, the source's words). Every file carries the "
        "footnote, and SYNTHETIC where it applies."
    )
    whole = st.columns(2)
    _export(whole[0], "Summary as PDF", lambda: documents.summary_pdf(document), f"{stem}.pdf",
            "application/pdf", "export-pdf", primary=True)  # fmt: skip
    _export(whole[1], "Summary as slides (PPTX)", lambda: documents.summary_pptx(document),
            f"{stem}.pptx", PPTX_MIME, "export-pptx")  # fmt: skip
    for name, spec in specs.items():
        cells = st.columns([3, 1, 1])
        cells[0].markdown(titles[name])
        figure = documents.standalone_figure(spec, document)  # with the footnote and the stamp
        _export(cells[1], "PNG", lambda f=figure: exports.chart_png(f, 1920),
                f"{stem}-{name}.png", "image/png", f"export-png-{name}")  # fmt: skip
        _export(cells[2], "SVG", lambda f=figure: exports.chart_svg(f, 1920),
                f"{stem}-{name}.svg", "image/svg+xml", f"export-svg-{name}")  # fmt: skip


PPTX_MIME = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


def _export(where, label: str, make, file_name: str, mime: str, key: str, primary=False) -> None:
    """One file of the case, made (and recorded in the audit trail) when clicked."""
    where.download_button(label, ui.audited(make, file_name), file_name=file_name, mime=mime,
                          key=key, on_click="ignore",
                          type="primary" if primary else "secondary")  # fmt: skip


# A resource, not data: the case is shared read-only by the sessions that show it, not unpickled
# for each of them (measured at a twentieth of the server's time under load, bench/load.py).
@st.cache_resource(show_spinner=False, max_entries=32)
def _case(reading: tuple, patient_id: str, presenting: bool):
    from carta import case

    return case.load_case(ui.query, ui.store_meta(), patient_id, presenting)


@st.cache_resource(show_spinner=False, max_entries=32)
def _shown_specs(reading: tuple, patient_id: str, presenting: bool, dark: bool):
    from carta.charts.theme import on_dark, with_arrow_datasets

    case = _case(reading, patient_id, presenting)
    return {
        name: with_arrow_datasets(on_dark(spec) if dark else spec)
        for name, spec in case.specs.items()
    }


def case_chart_specs(patient_id: str, presenting: bool) -> dict[str, dict]:
    """The case summary's charts as drawn on screen, in the reader's theme: its specs with Arrow
    datasets, made once per case (the files use the case's plain, white specs)."""
    dark = st.context.theme.type == "dark"
    return _shown_specs(ui.reading_key(), patient_id, presenting, dark)


def case_summary(patient_id: str, presenting: bool):
    """One patient's case summary (carta/case.py), built once per store version and mode."""
    return _case(ui.reading_key(), patient_id, presenting)
