"""The completeness view's widgets (pages/completeness.py): the share complete per site and
visit, one patient's visits x measures grid, and the worklist of overdue and missing measures
with its download. The statuses are the stored table's (follow_up_completeness)."""

from __future__ import annotations

from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from carta import exports, ui, urlstate
from carta.measures import completeness as rules
from carta.measures import disclosure

# A status as the grid shows it: a word and a mark, readable without colour.
MARKS = {rules.DONE: "✓ done", rules.MISSING: "✗ missing", rules.DUE: "◔ due",
         rules.OVERDUE: "! overdue", rules.NOT_YET_DUE: "· not yet due"}  # fmt: skip
WORKLIST_ROWS_SHOWN = 1000
# The worklist's own narrowing, in the URL so that a share's link opens the rows behind it.
SITE_KEY, VISIT_KEY = "wsite", "wvisit"
EVERY = "(every one)"
LEGEND = (
    "Against each patient's last day (the follow-up, else the last dated value): ✓ done (every "
    "code of the measure in the visit's window), ✗ missing (the visit was held without it), "
    "! overdue (the window has closed with nothing measured), ◔ due (the window is open), "
    "· not yet due. The schedule and its windows are settings (docs/rules.md, "
    "“Follow-up schedule”) ⚑."
)


def by_site(patients: list[str], aggregate_only: bool = False) -> None:
    """For a viewer, a site and visit of fewer than SMALL_CELL patients shows no share: with so
    few, a share is one patient's record."""
    st.subheader("Share complete per site and visit")
    table = ui.query("completeness_by_site", patients=patients)
    if table.empty:
        st.info("No expected measure is due yet for these patients.")
        return
    cells = [f"{d:,} of {e:,} ({p:g} %)" for d, e, p in
             zip(table["done"], table["expected"], table["done_percent"], strict=True)]  # fmt: skip
    if aggregate_only:
        small = table["patients"].map(disclosure.is_small)
        cells = [f"{disclosure.SUPPRESSED} patients" if s else c
                 for c, s in zip(cells, small, strict=True)]  # fmt: skip
    shown = table.assign(cell=cells)
    wide = shown.pivot(index=["visit_sort", "visit"], columns="source_id", values="cell")
    wide = wide.reset_index(level="visit_sort", drop=True).reset_index()
    wide = wide.rename(columns={"visit": "Visit"}).fillna("—")
    config = {}
    if not aggregate_only:  # the rows behind a share: its visit's worklist
        wide.insert(1, "Rows", [rows_link(visit) for visit in wide["Visit"]])
        config["Rows"] = st.column_config.LinkColumn(
            "Rows", display_text="worklist", help="The overdue and missing measures of this visit"
        )
    st.dataframe(wide, hide_index=True, key="completeness-sites", column_config=config)
    st.caption("Expected measures done, of those whose visit window has opened by the data cut.")


def rows_link(visit: str) -> str:
    """This page with its filters kept and the worklist narrowed to `visit`."""
    params = {k: st.query_params.get_all(k) for k in st.query_params if k != VISIT_KEY}
    return "completeness?" + urlencode(params | {VISIT_KEY: [visit]}, doseq=True) + "#worklist"


def trajectory_link(patient_id: str, day_from: int, day_to: int) -> str:
    """The patient's trajectory zoomed to a visit's window: what was measured around it."""
    return "trajectory?" + urlencode({"patient": patient_id, "win": f"{day_from},{day_to}"})


def patient_grid(cells: pd.DataFrame, patient_id: str) -> None:
    one = cells[cells["patient_id"] == patient_id]
    if one.empty:
        st.info("No follow-up schedule applies to this patient.")
        return
    grid = one.assign(mark=one["status"].map(MARKS)).pivot(
        index=["visit_sort", "visit", "nominal_day"], columns="label", values="mark"
    )
    grid = grid.reset_index(level="visit_sort", drop=True).reset_index()
    grid = grid.rename(columns={"visit": "Visit", "nominal_day": "Day"}).fillna("")
    schedule = one["schedule"].iloc[0]
    st.caption(("The default schedule" if schedule == rules.DEFAULT_SCHEDULE
                else "The source's own schedule") + " applies to this patient.")  # fmt: skip
    st.dataframe(grid, hide_index=True, key="completeness-grid")
    # A plain link, so that the trajectory opens from its URL as a bookmark does (the id is
    # URL-encoded, so nothing of it reads as Markdown; the label is Carta's own).
    st.markdown(
        f"[Open this patient's trajectory](trajectory?{urlencode({'patient': patient_id})})"
    )


def worklist(cells: pd.DataFrame) -> None:
    st.subheader("Worklist: overdue visits and missing measures", anchor="worklist")
    work = rules.worklist(cells)
    if work.empty:
        st.success("Nothing is overdue or missing for these patients.")
        return
    left, right = st.columns(2)
    sites = sorted(work["source_id"].unique())  # not set(): it iterates every row's string
    visits = work.drop_duplicates("visit")["visit"].tolist()
    _said_if_unknown(SITE_KEY, "The site", sites)
    _said_if_unknown(VISIT_KEY, "The visit", visits)
    site = left.selectbox("Site", [EVERY, *sites], key=SITE_KEY, bind="query-params")
    visit = right.selectbox("Visit", [EVERY, *visits], key=VISIT_KEY, bind="query-params")
    if site != EVERY:
        work = work[work["source_id"] == site]
    if visit != EVERY:
        work = work[work["visit"] == visit]
    if work.empty:
        st.success("Nothing is overdue or missing at this site and visit.")
        return
    st.markdown(f"**{len(work):,}** overdue or missing, the oldest visit first.")
    link = st.column_config.LinkColumn(
        "Open", display_text="trajectory", help="The patient's trajectory over the visit's window"
    )
    # Only the rows shown get links; the file is made from every row when it is asked for.
    head = work.head(WORKLIST_ROWS_SHOWN)
    shown = _worklist_table(head).assign(
        Open=[trajectory_link(p, a, b) for p, a, b in
              zip(head["patient_id"], head["day_from"], head["day_to"], strict=True)],
    )  # fmt: skip
    st.dataframe(shown[["Open", *shown.columns[:-1]]], hide_index=True,
                 key="completeness-worklist", column_config={"Open": link})  # fmt: skip
    if len(work) > WORKLIST_ROWS_SHOWN:
        st.caption(f"The first {WORKLIST_ROWS_SHOWN:,} are shown; the file holds all of them.")
    synthetic = (work["source_kind"] == "synthetic").any()
    name = "carta-worklist" + ("-synthetic" if synthetic else "") + ".csv"
    st.download_button("Worklist (CSV)",
                       ui.audited(lambda: exports.csv_text(_worklist_table(work)), name),
                       file_name=name, mime="text/csv", key="completeness-worklist-csv",
                       on_click="ignore")  # fmt: skip


def _worklist_table(work: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "Patient": work["patient_id"],
        "Visit": work["visit"],
        "Window (days)": work["day_from"].astype(str) + " to " + work["day_to"].astype(str),
        "Measure": work["label"],
        "Status": work["status"],
        "Not measured": work["codes_missing"].fillna(""),
        "Source": work["source_id"],
        "Data": work["source_kind"],
    })  # fmt: skip


def _said_if_unknown(key: str, label: str, options: list[str]) -> None:
    """A choice in the link that these patients' worklist does not hold is said, not dropped in
    silence (the box cannot hold it, so it narrows nothing)."""
    chosen = st.query_params.get(key)
    if chosen and chosen != EVERY and chosen not in options:
        st.caption(f"{label} “{urlstate.shown(chosen)}” in the link has nothing overdue or "
                   "missing for these patients, so it does not narrow the worklist.")  # fmt: skip
