"""Safety: the cohort's adverse events by grade with the number at risk, time to neutrophil,
platelet and B-cell recovery (Kaplan–Meier), and infections per 100 patient-months.

State lives in the URL: the cohort filters are the cohort explorer's, under the same keys, so a
link carries them from one view to the other.
"""

import streamlit as st

from carta import ui, ui_aggregates, ui_filters, ui_safety, urlstate
from carta.measures.cohort import Selections

ui.require_shell()

st.title("Safety")
total = ui_filters.patients_in_store()
filters = ui_filters.cohort_filters()
filtered = ui.query("cohort_patients", **filters.params())
patients = filtered["patient_id"].tolist()
# The lanes picked in the cohort explorer's swimmer plot narrow this view too; its response and
# value selections belong to its visit windows and parameter, which this view does not have.
lanes = urlstate.lanes(st.query_params.get("lanes")).value
selections = Selections(lanes=lanes)
if lanes:
    patients = [p for p in patients if p in set(lanes)]
kinds = filtered.set_index("patient_id")["source_kind"].loc[patients]
if ui.access().aggregate_only:
    ui_aggregates.patients_line(len(patients), total)
else:
    ui_filters.cohort_chips(filters, selections, kinds, total, len(filtered))
if {"cat", "brush"} & set(st.query_params):
    st.caption("The cohort explorer's response and value selections are not applied here; the "
               "filters and the lanes picked are.")  # fmt: skip
if not patients:
    st.info("No patient passes these filters. Remove a filter in the sidebar to widen the cohort.")
    st.stop()

safety = ui_safety.cohort_safety(patients)
if ui.access().aggregate_only:  # a viewer: the numbers, small cells suppressed, no patient
    ui_aggregates.safety_view(safety, safety.incidence_shown)
    st.stop()
state = (filters, lanes)  # what `patients` is a function of
ui_safety.incidence_section(safety, state)
ui_safety.recovery_section(safety, state)
ui_safety.infection_section(safety)
ui_safety.safety_downloads(safety, synthetic="synthetic" in set(kinds))
