"""Follow-up completeness: what is done, missing, due or overdue per patient and per site, and a
worklist a data manager can download. The cohort filters are the cohort explorer's, under the
same keys, so a link carries them from one view to the other; the patient is in the URL."""

import streamlit as st

from carta import ui, ui_aggregates, ui_completeness, ui_filters
from carta.measures.cohort import Selections

ui.require_shell()

st.title("Follow-up completeness")
total = ui_filters.patients_in_store()
filters = ui_filters.cohort_filters()
filtered = ui.query("cohort_patients", **filters.params())
patients = filtered["patient_id"].tolist()
kinds = filtered.set_index("patient_id")["source_kind"]
if ui.access().aggregate_only:
    ui_aggregates.patients_line(len(patients), total)
else:
    ui_filters.cohort_chips(filters, Selections(), kinds, total, len(filtered))
if not patients:
    st.info("No patient passes these filters. Remove a filter in the sidebar to widen the cohort.")
    st.stop()
st.caption(ui_completeness.LEGEND)
ui_completeness.by_site(patients, ui.access().aggregate_only)
if ui.access().aggregate_only:  # a viewer: the shares only, no patient
    st.stop()
st.subheader("One patient's visits")
chosen = st.selectbox("Patient", patients, key="patient", bind="query-params")
ui_completeness.patient_grid(ui.query("patient_completeness", patient_id=chosen), chosen)
ui_completeness.worklist(ui.query("patients_completeness_worklist", patients=patients))
