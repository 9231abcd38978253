"""Carta's entry point: sign-in, navigation, the shared sidebar and the store (views: pages/)."""

import altair as alt
import streamlit as st

from carta import logs, ui, ui_access

st.set_page_config(page_title="Carta", layout="wide")
ui.page_style()
logs.withhold_exception_messages()  # no patient data in the server log
# Altair checks every schema object as it is made: a quarter of building a chart. The specs are
# validated whole in the tests (tests/test_trajectory_chart.py and others), not at each render.
alt.utils.schemapi.disable_debug_mode()

# Every run reads one store version and knows its reader before anything else happens.
ui.begin_run()
reader = ui_access.gate()
ui.check_url()
navigation = st.navigation(
    [
        st.Page("pages/home.py", title="Patients", default=True, url_path="home"),
        st.Page("pages/trajectory.py", title="Patient trajectory", url_path="trajectory"),
        st.Page("pages/summary.py", title="Case summary", url_path="summary"),
        st.Page("pages/cohort.py", title="Cohort explorer", url_path="cohort"),
        st.Page("pages/safety.py", title="Safety", url_path="safety"),
        st.Page("pages/completeness.py", title="Completeness", url_path="completeness"),
        st.Page("pages/data.py", title="Data", url_path="data"),
    ]
)
ui.require_store()
ui.sidebar_store_panel()
ui_access.sidebar(reader)
navigation.run()
