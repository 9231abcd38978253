"""Safety: the cohort's adverse events by grade with the number at risk, time to neutrophil,
platelet and B-cell recovery (Kaplan–Meier), and infections per 100 patient-months.

State lives in the URL: the cohort filters are the cohort explorer's, under the same keys, so a
link carries them from one view to the other.
"""

import streamlit as st

from carta import ui, ui_filters, ui_safety
from carta.measures.cohort import Selections

ui.require_shell()

st.title("Safety")
total = ui_filters.patients_in_store()
filters = ui_filters.cohort_filters()
filtered = ui.query("cohort_patients", **filters.params())
patients = filtered["patient_id"].tolist()
kinds = filtered.set_index("patient_id")["source_kind"]
ui.cohort_chips(filters, Selections(), kinds, total, len(patients))
if not patients:
    st.info("No patient passes these filters. Remove a filter in the sidebar to widen the cohort.")
    st.stop()

safety = ui_safety.cohort_safety(patients)
ui_safety.incidence_section(safety)
ui_safety.recovery_section(safety)
ui_safety.infection_section(safety)
ui_safety.safety_downloads(safety, synthetic="synthetic" in set(kinds))
