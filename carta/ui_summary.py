"""The case summary's widgets (pages/summary.py): presentation mode, the header, the cards, the
charts, the adverse events and the exports; the case itself, built once per store version.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from carta import display, ui


def enter_presentation() -> None:
    st.query_params["present"] = "1"


def leave_presentation() -> None:
    if "present" in st.query_params:
        del st.query_params["present"]


HIDDEN_CONTROLS = "presenter-hidden-controls"  # a container's key: presentation_style hides it


def presentation_style() -> None:
    """No sidebar, no toolbar, larger type: the page as a projector at 1920 x 1080 shows it."""
    st.html(
        """<style>
        [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
        [data-testid="stSidebarNav"], [data-testid="stHeader"], [data-testid="stToolbar"],
        [data-testid="stExpandSidebarButton"],
        .st-key-presenter-hidden-controls { display: none !important; }
        [data-testid="stMainBlockContainer"] { max-width: 1840px; padding-top: 1.5rem; }
        .stApp p, .stApp li, .stApp td { font-size: 1.3rem; }
        .stApp h2 { font-size: 2.6rem; }
        .stApp h3 { font-size: 2rem; }
        </style>"""
    )


def summary_header(items: list[tuple[str, str]]) -> None:
    first, rest = items[:4], items[4:]
    for column, (label, value) in zip(st.columns(len(first)), first, strict=True):
        column.caption(label)
        column.markdown(f"**{value}**")
    st.markdown("  \n".join(f"**{label}:** {value}" for label, value in rest))


def figure_cards(figures, columns: int = 4) -> None:
    """The key figures as cards; a figure the source does not report says so, greyed."""
    for start in range(0, len(figures), columns):
        for column, figure in zip(
            st.columns(columns), figures[start : start + columns], strict=False
        ):
            with column.container(border=True):
                st.caption(figure.label)
                value = figure.value if figure.reported else f":gray[{figure.value}]"
                st.markdown(f"**{value}**")
                if figure.detail:
                    st.caption(figure.detail)


def summary_charts(specs: dict[str, dict], columns: int = 2) -> None:
    """The course lane across the page, then the other charts side by side; drawn with the
    export theme (Streamlit's own switched off) so that the screen and the files agree."""
    names = list(specs)
    if "course" in specs:
        st.vega_lite_chart(specs["course"], theme=None, key="summary-course")
        names.remove("course")
    for start in range(0, len(names), columns):
        for column, name in zip(st.columns(columns), names[start : start + columns], strict=False):
            column.vega_lite_chart(specs[name], theme=None, key=f"summary-{name}")


def adverse_event_table(adverse: pd.DataFrame) -> None:
    if adverse.empty:
        st.info("No adverse event is reported for this patient.")
        return
    table = pd.DataFrame(
        {
            "Event": adverse["term"],
            "Grade": [
                display.ae_grade(g, v)
                for g, v in zip(adverse["grade"], adverse["severity"], strict=True)
            ],
            "Grading": adverse["grading_system"],
            "When": [
                display.day_span(s, e)
                if not display.is_missing(s)
                else display.day_or_range(None, lo, hi, p)
                for s, e, lo, hi, p in zip(
                    adverse["onset_day"],
                    adverse["end_day"],
                    adverse.get("onset_earliest", adverse["onset_day"]),
                    adverse.get("onset_latest", adverse["onset_day"]),
                    adverse.get("onset_precision", adverse["onset_day"]),
                    strict=True,
                )
            ],
            "Note": adverse["note"].fillna(""),
        }
    )
    st.dataframe(table, hide_index=True, key="summary-adverse")


def summary_exports(document, specs: dict[str, dict], titles: dict[str, str], stem: str) -> None:
    """Every chart as PNG and SVG, the whole summary as PDF and PPTX; each made when clicked and
    named `stem` (carta.case.file_stem)."""
    from carta import documents, exports

    st.subheader("Export")
    st.caption(
        "Charts at presentation resolution (1,920 px wide) and as SVG, drawn with the theme "
        "above; the summary as PDF (title page, then a chart a page) and as slides. Every file "
        "carries the footnote."
    )
    whole = st.columns(2)
    _export(whole[0], "Summary as PDF", lambda: documents.summary_pdf(document), f"{stem}.pdf",
            "application/pdf", "export-pdf", primary=True)  # fmt: skip
    _export(whole[1], "Summary as slides (PPTX)", lambda: documents.summary_pptx(document),
            f"{stem}.pptx", PPTX_MIME, "export-pptx")  # fmt: skip
    for name, spec in specs.items():
        cells = st.columns([3, 1, 1])
        cells[0].markdown(titles[name])
        _export(cells[1], "PNG", lambda s=spec: exports.chart_png(s, 1920),
                f"{stem}-{name}.png", "image/png", f"export-png-{name}")  # fmt: skip
        _export(cells[2], "SVG", lambda s=spec: exports.chart_svg(s, 1920),
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
def _shown_specs(reading: tuple, patient_id: str, presenting: bool) -> dict[str, dict]:
    from carta.charts.theme import with_arrow_datasets

    case = _case(reading, patient_id, presenting)
    return {name: with_arrow_datasets(spec) for name, spec in case.specs.items()}


def case_chart_specs(patient_id: str, presenting: bool) -> dict[str, dict]:
    """The case summary's charts as drawn on screen: its specs with Arrow datasets, made once
    per case (the files use the case's plain specs)."""
    return _shown_specs(ui.reading_key(), patient_id, presenting)


def case_summary(patient_id: str, presenting: bool):
    """One patient's case summary (carta/case.py), built once per store version and mode."""
    return _case(ui.reading_key(), patient_id, presenting)
