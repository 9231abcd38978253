"""Case summary: one patient on one page, for a meeting or a paper; presentation mode and exports.

State lives in the URL: the patient (`patient`, the published case when absent) and presentation
mode (`present=1`), which hides the sidebar and the controls, enlarges type and marks, and shows
"Patient 1" instead of the id.
"""

import streamlit as st

from carta import display, documents, ui
from carta.charts.theme import enlarged, figure_config
from carta.charts.trajectory import PANELS, TrajectoryOptions, panel_specs
from carta.measures import kinetics
from carta.measures import summary as rules

ui.require_shell()

presenting = st.query_params.get("present") == "1"
if presenting:
    ui.presentation_style()
else:
    st.title("Case summary")
    top = st.columns([2, 1])
    with top[0]:
        patient_id = ui.choose_patient()
    top[1].toggle("Presentation mode", key="present-toggle", on_change=ui.enter_presentation,
                  help="Hides the sidebar and the controls, enlarges type and charts, and shows "
                  "“Patient 1” instead of the id. Kept in the link as present=1.")  # fmt: skip
if presenting:
    patient_id = ui.requested_patient()
if patient_id is None:
    st.stop()

profile = ui.query("patient_profile", patient_id=patient_id).iloc[0]
label = rules.patient_label(patient_id, presenting)
meta = ui.store_meta()
data = ui.trajectory_data(patient_id, profile)
aplasia = ui.query("patient_aplasia", patient_id=patient_id)
depletion = float(meta.get("derived_bcell_depletion_threshold",
                           kinetics.DEFAULT_DEPLETION_THRESHOLD))  # fmt: skip
recovery = float(meta.get("derived_bcell_recovery_threshold", kinetics.DEFAULT_RECOVERY_THRESHOLD))
findings = ui.query("patient_reported_findings", patient_id=patient_id)
figures = rules.key_figures(
    kinetics=ui.query("patient_kinetics", patient_id=patient_id),
    aplasia=aplasia,
    adverse=data.adverse_events,
    lab_grades=ui.query("patient_lab_grades", patient_id=patient_id),
    response=data.response,
    events=data.events,
    findings=findings,
    follow_up_days=profile["follow_up_days"],
    depletion_threshold=depletion,
    recovery_threshold=recovery,
)
header = rules.header(profile, data.events)
footnote = rules.footnote(profile, meta, label)

# --- the page ---------------------------------------------------------------------------------

st.header(f"{label}: {display.text_or_not_reported(profile['diagnosis'])}")
ui.synthetic_warning(profile["source_kind"])
ui.summary_header(header)
ui.figure_cards(figures, columns=5 if presenting else 4)

scale = 1.45 if presenting else 1.0
width = 820 if presenting else 560
# Streamlit fits legends and axes into a chart's height: give the plots room to breathe.
heights = 2.2 if presenting else 1.6
options = TrajectoryOptions(depletion_threshold=depletion)
specs = panel_specs(
    data, options, ("course", "enzymes", "kinetics", "scores", "mri"), width=width,
    config=figure_config(scale), height_scale=heights,
)  # fmt: skip
if presenting:
    specs = {name: enlarged(spec, 1.5) for name, spec in specs.items()}
if not specs:
    st.info(
        "The source reports nothing with a day and a number to draw for this patient: the key "
        "figures above and the findings below are what it reports."
    )
ui.summary_charts(specs, PANELS, columns=2)

st.subheader("Adverse events")
ui.adverse_event_table(data.adverse_events)
if not findings.empty:
    st.subheader("What the source reports in words")
    ui.reported_findings(findings)
st.caption(footnote)

# --- exports ----------------------------------------------------------------------------------

document = documents.CaseDocument(
    title=f"Case summary: {label}",
    subtitle=f"{display.text_or_not_reported(profile['diagnosis'])} · CD19 CAR T-cell therapy",
    header=header,
    figures=figures,
    footnote=footnote,
    charts=[(PANELS[name], spec) for name, spec in specs.items()],
)
if presenting:
    with st.expander("Export and leave presentation mode"):
        ui.summary_exports(document, specs, PANELS, label)
        st.button("Leave presentation mode", on_click=ui.leave_presentation, key="leave")
else:
    ui.summary_exports(document, specs, PANELS, label)
