"""Case summary: one patient on one page, for a meeting or a paper; presentation mode and exports.

State lives in the URL: the patient (`patient`, the published case when absent), presentation
mode (`present=1`), which shows the summary as a slide show at 1920 x 1080 with "Patient 1"
instead of the id, and the slide shown (`slide=N`).
"""

import streamlit as st

from carta import display, ui, ui_access, ui_summary
from carta.case import file_stem
from carta.charts.trajectory import PANELS

ui.require_shell()
ui_access.require_patients()

presenting = st.query_params.get("present") == "1"
if presenting:
    ui_summary.presentation_style()
    # The patient's select box stays on the page, hidden: a bound widget that is not drawn loses
    # its key from the URL, and the link (and a reload) would lose the patient.
    with st.container(key=ui_summary.HIDDEN_CONTROLS):
        patient_id = ui.choose_patient()
else:
    st.title("Case summary")
    top = st.columns([2, 1])
    with top[0]:
        patient_id = ui.choose_patient()
    top[1].toggle("Presentation mode", key="present-toggle",
                  on_change=ui_summary.enter_presentation,
                  help="Shows the summary as slides for a 1920 × 1080 screen (arrow keys step "
                  "through them) with “Patient 1” instead of the id. Kept in the link as "
                  "present=1, with the slide as slide=N.")  # fmt: skip
if patient_id is None:
    st.stop()
ui_access.viewed("summary", patient_id)

summary = ui_summary.case_summary(patient_id, presenting)
document = summary.document
stem = file_stem(summary.label, patient_id, presenting,
                 synthetic=summary.profile["source_kind"] == "synthetic")  # fmt: skip
if presenting:
    ui_summary.slide_show(summary, stem, patient_id)
    st.stop()

diagnosis = summary.profile["diagnosis"]
st.header(summary.label + ("" if display.is_missing(diagnosis) else f": {diagnosis}"))
ui.synthetic_warning(summary.profile["source_kind"])
if not display.is_missing(summary.profile.get("day0_basis")):
    st.warning(f"Day 0 of this patient is {display.escape_markdown(summary.profile['day0_basis'])}:"
               " the source records no CAR T infusion.")  # fmt: skip
ui_summary.summary_header(document.header)
ui_summary.figure_cards(document.figures, columns=4)
if not summary.specs:
    st.info(
        "The source reports nothing with a day and a number to draw for this patient: the key "
        "figures above and the findings below are what it reports."
    )
ui_summary.summary_charts(ui_summary.case_chart_specs(patient_id, presenting), document)

st.subheader("Adverse events")
ui_summary.adverse_event_table(document.adverse_events)
if not summary.findings.empty:
    st.subheader("What the source reports in words")
    ui.reported_findings(summary.findings)
st.caption(document.footnote)
ui_summary.summary_exports(document, summary.specs, PANELS, stem)
