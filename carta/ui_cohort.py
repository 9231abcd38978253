"""The cohort explorer's widgets (pages/cohort.py): the response recomputed with edited windows and
the downloads.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from carta import dictionary, display, ui
from carta.measures import cohort as cohort_measures
from carta.membership import among


@st.cache_data(
    show_spinner="Recomputing the response criteria with the edited windows…", max_entries=8
)
def _response_with_windows(
    reading: tuple, windows: tuple, everyone: tuple[str, ...]
) -> pd.DataFrame:
    from carta import derive

    values = ui.query(
        "cohort_values_at_timepoints",
        windows=[dict(w) for w in windows],
        codes=derive.RESPONSE_CODES,
        patients=list(everyone),
    )
    meta = ui.store_meta()
    indications = ui.query("patient_last_days").set_index("patient_id")["indication"]
    return derive.response_by_indication(
        values,
        indications,
        meta.get("derived_tis_measure_set", derive.DEFAULT_SETTINGS["tis_measure_set"]),
        meta.get("derived_tis_population", derive.DEFAULT_SETTINGS["tis_population"]),
        baseline=dict(windows[0])["name"],  # the first window is the baseline
    )


def cohort_response(patients: list[str], windows: list[dict], edited: bool) -> pd.DataFrame:
    """TIS and CID per patient and window: the store's table, or with edited windows computed
    again (for every patient once per set of windows, then cached)."""
    nominal = {w["name"]: w["nominal_day"] for w in windows}
    if not edited:
        stored = ui.query("cohort_response", patients=patients)
        return stored.assign(nominal_day=stored["timepoint"].map(nominal))
    everyone = tuple(
        ui.query("cohort_patients", **cohort_measures.Filters().params())["patient_id"]
    )
    frozen = tuple(tuple(sorted(w.items())) for w in windows)
    rows = _response_with_windows(ui.reading_key(), frozen, everyone)
    return rows[among(rows["patient_id"], patients)]


def response_counts(
    response: pd.DataFrame, patients: list[str], shown: list[str], edited: bool
) -> pd.DataFrame:
    """queries/cohort_response_counts.sql for `patients`: over the store, or over `response`
    when the windows were edited (the store's table holds the store's windows only)."""
    if edited:
        return cohort_measures.counted_responses(response, patients, shown)
    return ui.query("cohort_response_counts", patients=patients, timepoints=shown,
                    categories=cohort_measures.CATEGORIES)  # fmt: skip


def cohort_downloads(values: pd.DataFrame, code: str, patients: list[str]) -> None:
    """The values shown, as shown and in ADaM BDS style, and every observation of the patients
    shown as CSV or Parquet (streamed from DuckDB when clicked)."""
    from carta import dictionary, exports

    st.subheader("Take it away")
    sources = ui.query("source_kinds").set_index("source_id")["kind"].to_dict()

    def adam() -> pd.DataFrame:  # one row per value shown, made when it is asked for
        return cohort_measures.adam_bds(values, dictionary.parameters(), sources)

    synthetic = "synthetic" in {sources.get(s) for s in values["source_id"].unique()}
    stem = f"carta-cohort-{code.lower()}" + ("-synthetic" if synthetic else "")
    if synthetic:
        st.caption(
            "Rows from the synthetic demo cohort say so in their SRCKIND / source_kind "
            "column, and the file names say so too."
        )
    columns = st.columns(3)
    columns[0].download_button(
        f"Values shown, ADaM BDS (CSV, {len(values):,} rows)",
        ui.audited(lambda: exports.csv_text(adam()), f"{stem}-adam.csv"),  # made when clicked
        on_click="ignore",
        file_name=f"{stem}-adam.csv",
        mime="text/csv",
        key="download-adam",
    )
    formats = (("csv", "text/csv"), ("parquet", "application/vnd.apache.parquet"))
    for column, (file_format, mime) in zip(columns[1:], formats, strict=True):
        column.download_button(
            f"All observations of these {len(patients):,} patients ({file_format.upper()})",
            ui.audited(
                lambda f=file_format: ui.stream_query(
                    "cohort_observations", {"patients": patients}, f
                ),
                f"{stem}-observations.{file_format}",
            ),
            file_name=f"{stem}-observations.{file_format}",
            mime=mime,
            key=f"download-long-{file_format}",
            on_click="ignore",
        )
    # Drawn only while open: a styled table of 1,000 rows took a fifth of a cohort rerun.
    shown = st.expander(f"Values shown ({len(values):,} rows)", key="values-shown-open",
                        on_change="rerun")  # fmt: skip
    if not shown.open:
        return
    with shown:
        st.caption("docs/data-dictionary.md describes every column (ADaM BDS export).")
        st.dataframe(display.table_style(adam().head(1000)), hide_index=True, key="values-shown")
        if len(values) > 1000:
            st.caption(f"The first 1,000 of {len(values):,} rows; the download holds them all.")


REMISSION_DEFINITIONS = (
    "Lupus: DORIS 2021, LLDAS and, with proteinuria at baseline, the EULAR 2019 renal response; "
    "systemic sclerosis: revised EUSTAR activity index below 2.5 and ACR-CRISS (⚑: partly "
    "confirmed, applied with settings)."
)


def published_figures(indications: tuple[str, ...]) -> None:
    """The published series' summary figures beside the cohort's own, for the indications
    filtered to (all of them without a filter): another series, from its abstract only, never
    mixed into the counts above."""
    figures = dictionary.published_figures()
    if indications:
        figures = figures[figures["indication"].isna() | figures["indication"].isin(indications)]
    if figures.empty:
        return
    table = pd.DataFrame({
        "Source": figures["source"],
        "Indication": figures["indication"].fillna("all in the series"),
        "Patients": figures["n_patients"].astype(int),
        "Figure": figures["figure"],
        "Status": figures["status"],
    })  # fmt: skip
    st.subheader("Published series, for comparison")
    st.dataframe(table, hide_index=True, key="published-figures")
    st.caption(
        "From the abstracts only ([C] confirmed there; [P] partly: the stored abstract ends "
        "before it, and secondary summaries give it); other patients than these, never counted "
        "in the tables above. The B-cell "
        "reappearance figure is drawn as a grey band on the safety view's recovery curves."
    )


def with_indication(rows: pd.DataFrame, patients: pd.DataFrame) -> pd.DataFrame:
    """The drawn rows with each patient's indication (from queries/cohort_patients.sql), which
    colours them where they differ."""
    indication = patients.set_index("patient_id")["indication"].fillna("not given")
    return rows.assign(indication=rows["patient_id"].map(indication))
