"""Data: import a centre's files (check, then publish); data quality, templates, dictionary,
history."""

import streamlit as st

from carta import ui, ui_data, ui_quality

ui.require_shell()
reader = ui.access()

st.title("Data")
upload, quality, templates, history, reference = st.tabs(
    ["Import files", "Data quality", "Templates", "Import history", "Parameter dictionary"]
)
with upload:
    if reader.can_import:
        ui_data.import_section()
    else:
        st.info("Importing needs the data manager role for a source; ask your Carta administrator.")
with quality:
    ui_quality.quality_section()
with templates:
    ui_data.templates_section()
with history:
    ui_data.history_section()
with reference:
    ui_data.dictionary_section()
