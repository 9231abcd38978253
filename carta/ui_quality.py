"""The Data page's quality tab (pages/data.py) and the summary after an import: the findings of
the data-quality checks run at every publish (carta/measures/quality.py), their trend across
store versions per source (table quality_history), and each finding's link to its rows."""

from __future__ import annotations

from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from carta import display, exports, ui
from carta.charts import quality as charts

ALL_SOURCES = "(every source)"
ALL_CHECKS = "(every check)"
# A page of findings: 1,000 styled rows with their links were half a megabyte sent to the browser;
# a check picked narrows the list, and the file holds every finding.
FINDINGS_SHOWN = 200
COLUMNS = {"category": "Category", "check_name": "Check", "source_id": "Source",
           "patient_id": "Patient", "visit": "Visit", "code": "Parameter", "day": "Day",
           "detail": "Detail"}  # fmt: skip


def changes(history: pd.DataFrame, version: int | None = None) -> pd.DataFrame:
    """Per check (summed over the sources in `history`): the findings of `version` (the latest
    when None), of the version published before it, and the change."""
    versions = sorted(history["store_version"].unique())
    if not versions:
        return pd.DataFrame(columns=["Check", "Category", "Findings", "Before", "Change"])
    now = versions[-1] if version is None else version
    before = max((v for v in versions if v < now), default=None)
    counts = history.groupby(["store_version", "check_name", "category"])["findings"].sum()
    counts = counts.unstack("store_version", fill_value=0)
    table = pd.DataFrame({
        "Check": counts.index.get_level_values("check_name"),
        "Category": counts.index.get_level_values("category"),
        "Findings": counts[now].to_numpy() if now in counts else 0,
    })  # fmt: skip
    if before is None:  # the first version: nothing to compare with
        return table.sort_values(["Category", "Check"]).reset_index(drop=True)
    table["Before"] = counts[before].to_numpy()
    table["Change"] = table["Findings"] - table["Before"]
    shown = table[(table["Findings"] > 0) | (table["Before"] > 0)]
    return shown.sort_values(["Category", "Check"]).reset_index(drop=True)


def finding_link(patient_id: str, visit: object, day: object) -> str:
    """The rows behind a finding: a missing or overdue measure on the completeness page (the
    patient's grid, the worklist at its visit), any other on the patient's trajectory at its
    day."""
    if isinstance(visit, str) and visit:
        return "completeness?" + urlencode({"patient": patient_id, "wvisit": visit}) + "#worklist"
    params = {"patient": patient_id}
    if day is not None and not pd.isna(day):
        params["day"] = str(int(day))
    return "trajectory?" + urlencode(params)


def after_import(version: int) -> None:
    """What the checks found in the version an import just published, against the one before."""
    history = ui.query("patients_quality_history")
    if history.empty or version not in set(history["store_version"]):
        return
    table = changes(history, version)
    total = int(table["Findings"].sum())
    st.markdown(f"**Data quality of version {version}:** {total:,} finding"
                f"{'s' if total != 1 else ''} (the Data quality tab lists them).")  # fmt: skip
    st.dataframe(table, hide_index=True, key="import-quality")


def quality_section() -> None:
    if ui.access().aggregate_only:
        st.info("The data-quality findings name patients: they are for clinicians and data "
                "managers.")  # fmt: skip
        return
    history = ui.query("patients_quality_history")
    findings = ui.query("patients_quality_findings")
    st.caption(
        "Checked at every publish, in the categories of Kahn et al. (eGEMs 2016): conformance, "
        "completeness, plausibility. The checks and their settings are design rules "
        "(docs/rules.md, “Data quality”) ⚑."
    )
    if history.empty and findings.empty:
        st.success("The checks found nothing in this store version.")
        return
    sources = sorted(set(history["source_id"]) | set(findings["source_id"].dropna()))
    source = st.selectbox("Source", [ALL_SOURCES, *sources], key="qsrc", bind="query-params")
    if source != ALL_SOURCES:
        history = history[history["source_id"] == source]
        findings = findings[findings["source_id"] == source]
    st.subheader("Across store versions")
    table = changes(history)
    st.dataframe(table, hide_index=True, key="quality-changes")
    per_version = history.groupby(["store_version", "check_name"], as_index=False)["findings"].sum()
    if per_version["store_version"].nunique() > 1:
        chart = ui.page_chart("quality-trend", lambda: charts.trend_chart(per_version, source),
                              (source, len(per_version)))  # fmt: skip
        st.vega_lite_chart(chart, key="quality-trend")  # described by its spec
    else:
        st.caption("One store version so far: the trend starts with the next import.")
    st.subheader("Findings of this version")
    if findings.empty:
        st.success("Nothing found for this source in this store version.")
        return
    checks = sorted(findings["check_name"].unique())
    check = st.selectbox("Check", [ALL_CHECKS, *checks], key="qcheck", bind="query-params")
    if check != ALL_CHECKS:
        findings = findings[findings["check_name"] == check]
    shown = findings.assign(
        rows=[finding_link(p, v, d) for p, v, d in
              zip(findings["patient_id"], findings["visit"], findings["day"], strict=True)],
    ).rename(columns=COLUMNS)  # fmt: skip
    shown = shown[["rows", *COLUMNS.values()]]
    st.markdown(f"**{len(shown):,}** finding{'s' if len(shown) != 1 else ''}.")
    link = st.column_config.LinkColumn("Rows", display_text="open",
                                       help="The rows behind this finding")  # fmt: skip
    st.dataframe(display.table_style(shown.head(FINDINGS_SHOWN)), hide_index=True,
                 key="quality-findings",
                 column_config={"rows": link})  # fmt: skip
    if len(shown) > FINDINGS_SHOWN:
        st.caption(f"The first {FINDINGS_SHOWN:,} are shown; the file holds all of them.")
    file = shown.drop(columns="rows")
    name = "carta-quality-findings.csv"
    st.download_button("Findings (CSV)", ui.audited(lambda: exports.csv_text(file), name),
                       file_name=name, mime="text/csv", key="quality-findings-csv",
                       on_click="ignore")  # fmt: skip
