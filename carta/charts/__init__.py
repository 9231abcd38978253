"""Pure chart builders: DataFrame in, Altair chart out; no Streamlit here."""
