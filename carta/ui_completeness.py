"""The completeness view's widgets (pages/completeness.py): the share complete per site and
visit, one patient's visits x measures grid, and the worklist of overdue and missing measures
with its download. The statuses are the stored table's (follow_up_completeness)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from carta import exports, ui
from carta.measures import completeness as rules
from carta.measures import disclosure

# A status as the grid shows it: a word and a mark, readable without colour.
MARKS = {rules.DONE: "✓ done", rules.MISSING: "✗ missing", rules.DUE: "◔ due",
         rules.OVERDUE: "! overdue", rules.NOT_YET_DUE: "· not yet due"}  # fmt: skip
WORKLIST_ROWS_SHOWN = 1000
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
    st.dataframe(wide.rename(columns={"visit": "Visit"}).fillna("—"), hide_index=True,
                 key="completeness-sites")  # fmt: skip
    st.caption("Expected measures done, of those whose visit window has opened by the data cut.")


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
    st.dataframe(grid, hide_index=True, key="completeness-grid")


def worklist(cells: pd.DataFrame) -> None:
    st.subheader("Worklist: overdue visits and missing measures")
    work = rules.worklist(cells)
    if work.empty:
        st.success("Nothing is overdue or missing for these patients.")
        return
    table = pd.DataFrame({
        "Patient": work["patient_id"],
        "Visit": work["visit"],
        "Window (days)": [f"{a} to {b}" for a, b in zip(work["day_from"], work["day_to"],
                                                        strict=True)],
        "Measure": work["label"],
        "Status": work["status"],
        "Not measured": work["codes_missing"].fillna(""),
        "Source": work["source_id"],
        "Data": work["source_kind"],
    })  # fmt: skip
    st.markdown(f"**{len(table):,}** overdue or missing, the oldest visit first.")
    st.dataframe(table.head(WORKLIST_ROWS_SHOWN), hide_index=True, key="completeness-worklist")
    if len(table) > WORKLIST_ROWS_SHOWN:
        st.caption(f"The first {WORKLIST_ROWS_SHOWN:,} are shown; the file holds all of them.")
    synthetic = "synthetic" in set(table["Data"])
    name = "carta-worklist" + ("-synthetic" if synthetic else "") + ".csv"
    st.download_button("Worklist (CSV)", ui.audited(lambda: exports.csv_text(table), name),
                       file_name=name, mime="text/csv", key="completeness-worklist-csv",
                       on_click="ignore")  # fmt: skip
