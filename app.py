"""Carta's entry point: navigation, the shared sidebar and the store bootstrap (views: pages/)."""

import streamlit as st

from carta import ui

st.set_page_config(page_title="Carta", layout="wide")

navigation = st.navigation(
    [
        st.Page("pages/home.py", title="Patients", default=True, url_path="home"),
        st.Page("pages/trajectory.py", title="Patient trajectory", url_path="trajectory"),
        st.Page("pages/summary.py", title="Case summary", url_path="summary"),
        st.Page("pages/cohort.py", title="Cohort explorer", url_path="cohort"),
        st.Page("pages/safety.py", title="Safety", url_path="safety"),
        st.Page("pages/data.py", title="Data", url_path="data"),
    ]
)
ui.require_store()
ui.sidebar_store_panel()
navigation.run()
