"""Pure, cited clinical rules: no Streamlit, no DuckDB."""
