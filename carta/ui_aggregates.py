"""The cohort and safety views for a viewer: aggregate tables only, small cells suppressed on the
screen and in every download (carta/measures/disclosure.py). No chart of single patients, no
patient id, no per-patient list."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from carta import display, exports, ui, ui_cohort
from carta.access import SMALL_CELL
from carta.measures import cohort, disclosure
from carta.membership import among

NOTE = (
    f"**Aggregates only** (viewer role): counts of 1 to {SMALL_CELL - 1} patients show as "
    f"“{disclosure.SUPPRESSED}”, with the shares and statistics resting on them left out, here and "
    "in the downloads. Patient-level views need the clinician role for a source."
)


def patients_line(n: int, total: int) -> None:
    st.markdown(f"**{disclosure.suppressed_total(n)} of {total:,} patients** you may count")
    st.caption(NOTE)


def _table(frame: pd.DataFrame, key: str) -> None:
    st.dataframe(frame.style.format(na_rep="—", precision=1), hide_index=True, key=key)


def _download(frame: pd.DataFrame, label: str, file_name: str, key: str) -> None:
    content = ui.audited(lambda: exports.csv_text(frame), file_name)
    st.download_button(label, content, file_name=file_name, mime="text/csv", key=key,
                       on_click="ignore")  # fmt: skip


def distribution_table(values: pd.DataFrame) -> pd.DataFrame:
    # Whiskers end at a patient's own value: a viewer gets the quartiles only.
    stats = cohort.box_stats(values)[["timepoint", "n", "q1", "median", "q3"]]
    return disclosure.suppress(stats, ["n"], {"n": ["q1", "median", "q3"]})


def response_table(response: pd.DataFrame, patients: list[str], shown: list[str]) -> pd.DataFrame:
    table = cohort.response_table(response, patients, shown)
    categories = [c for c in ("none", "minimal", "moderate", "major") if c in table]
    counts = ["n evaluable (TIS)", *categories, "n assessed (CID)", "CID"]
    depends = {c: [f"{c} %"] for c in [*categories, "CID"]}
    return disclosure.suppress(table, counts, depends, parts=[categories])


def threshold_table(measured: pd.DataFrame, rule: str, shown: list[str]) -> pd.DataFrame:
    table = cohort.threshold_table(measured, rule, shown)
    counts = [c for c in table.columns if c != "timepoint" and not c.endswith("%")]
    return disclosure.suppress(table, counts, {c: [f"{c} %"] for c in counts if f"{c} %" in table})


def adverse_table(adverse: pd.DataFrame, n_patients: int) -> pd.DataFrame:
    table = cohort.adverse_event_table(adverse, n_patients)
    grades = [c for c in table.columns if c.startswith("grade_") and c[6:].isdigit()]
    severity = [c for c in table.columns if c.startswith("not_graded")]
    counts = ["patients_any_grade", *grades, "grade_3_or_more", *severity]
    counts += [c for c in ("patients_on_default_range",) if c in table]
    depends = {"patients_any_grade": ["% of patients"], "grade_3_or_more": ["grade ≥3 %"]}
    depends = {k: [d for d in v if d in table] for k, v in depends.items()}
    return disclosure.suppress(table, counts, depends, parts=[[*grades, *severity]])


def remission_table(counts: pd.DataFrame) -> pd.DataFrame:
    """The remission table with its "not met" count beside "met": the two add up to the
    decided, so one small cell takes the other with it."""
    table = cohort.remission_table(counts)
    if table.empty:
        return table
    table.insert(table.columns.get_loc("Met %"), "Not met", table["Decided"] - table["Met"])
    counts_ = ["Decided", "Met", "Not met", "Undecided (input missing)"]
    return disclosure.suppress(table, counts_, {"Met": ["Met %"], "Decided": ["Met %"]},
                               parts=[["Met", "Not met"]])  # fmt: skip


def cohort_view(values, measured, response, adverse, patients, shown, code, rule,
                remission: pd.DataFrame | None = None) -> None:  # fmt: skip
    """The cohort explorer's numbers for a viewer."""
    left, right = st.columns(2)
    tables = {
        "distribution": distribution_table(values),
        "response": response_table(response, patients, shown),
        "remission": remission_table(remission if remission is not None else pd.DataFrame()),
        "threshold": threshold_table(
            measured[among(measured["patient_id"], patients)], rule, shown
        ),
        "adverse-events": adverse_table(adverse, len(patients)),
    }
    with left:
        st.subheader(f"{code} by visit window")
        _table(tables["distribution"], "agg-distribution")
        st.subheader(f"{code} {rule}")
        _table(tables["threshold"], "agg-threshold")
    with right:
        st.subheader("Response by visit window")
        _table(tables["response"], "agg-response")
        st.caption("2016 ACR/EULAR Total Improvement Score and PRINTO CID (docs/rules.md).")
        if not tables["remission"].empty:
            st.subheader("Remission table")
            _table(tables["remission"], "agg-remission")
            st.caption(ui_cohort.REMISSION_DEFINITIONS + " Rules as implemented: docs/rules.md.")
    tables = {
        name: frame for name, frame in tables.items() if not frame.empty or name != "remission"
    }
    st.subheader("Adverse events")
    _table(display.headed(tables["adverse-events"]), "agg-adverse-events")
    st.subheader("Take it away")
    for column, (name, frame) in zip(st.columns(len(tables)), tables.items(), strict=True):
        with column:
            label = f"{name.replace('-', ' ').capitalize()} (CSV)"
            file_name = f"carta-cohort-{code.lower()}-{name}-aggregates.csv"
            _download(frame, label, file_name, f"agg-dl-{name}")


def safety_view(safety, incidence: pd.DataFrame) -> None:
    """The safety view's numbers for a viewer: incidence, recovery medians, the infection rate."""
    grades = [c for c in incidence.columns if c.startswith("Grade ") and c[6:].isdigit()]
    counts = ["At risk", *grades, "Grade ≥ 3", "Not graded (severity only)", "Any grade"]
    table = disclosure.suppress(incidence, counts, {"Any grade": ["Any grade (%)"]},
                                parts=[[*grades, "Not graded (severity only)"]])  # fmt: skip
    st.subheader("Adverse events by worst grade")
    _table(table, "agg-safety-incidence")
    medians = pd.DataFrame(
        {
            "Recovery": safety.medians["group"],
            "Patients at risk": safety.medians["n"],
            "Recovered": safety.medians["n_events"],
            "Median day": safety.medians["median_day"],
        }
    )
    resting = {"Recovered": ["Median day"], "Patients at risk": ["Median day"]}
    medians = disclosure.suppress(medians, ["Patients at risk", "Recovered"], resting)
    st.subheader("Time to recovery (Kaplan–Meier median)")
    if medians.empty:
        st.info("No recovery to follow among these patients.")
    else:
        _table(medians, "agg-safety-medians")
    st.subheader("Infections")
    rate = safety.rate
    if rate.exposure_days > 0 and not disclosure.suppressed_total(rate.events).startswith("<"):
        st.markdown(f"**{rate.rate:.1f} infections per 100 patient-months** (95 % CI "
                    f"{rate.lower:.1f}–{rate.upper:.1f}; {rate.events} infections)")  # fmt: skip
    elif rate.exposure_days > 0:
        st.markdown(f"{disclosure.SUPPRESSED} infections: no rate is shown for so few.")
    st.subheader("Take it away")
    columns = st.columns(2)
    with columns[0]:
        _download(table, "Adverse events by grade (CSV)", "carta-safety-incidence-aggregates.csv",
                  "agg-dl-incidence")  # fmt: skip
    with columns[1]:
        _download(medians, "Recovery medians (CSV)", "carta-safety-recovery-aggregates.csv",
                  "agg-dl-recovery")  # fmt: skip
