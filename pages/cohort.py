"""Cohort explorer: filter patients and visit windows; every chart filters the others.

State lives in the URL: the filters and settings as bound widgets; the visit windows (`tw`) and
the charts' selections (`brush`, `cat`, `lanes`) as query parameters. Each view counts the cohort
narrowed by every selection but its own (carta/measures/cohort.py).
"""

import streamlit as st

from carta import dictionary, display, ui, ui_aggregates, ui_cohort, ui_filters, urlstate
from carta.charts import cohort as charts
from carta.measures import cohort
from carta.measures.cohort import Crossfilter, Selections
from carta.membership import among

ui.require_shell()

st.title("Cohort explorer")
total = ui_filters.patients_in_store()
parameters = dictionary.parameters().set_index("code")
stored_windows = ui.query("timepoint_windows")[urlstate.WINDOW_COLUMNS]
# A selection made in a chart on the last run goes to the URL before anything is computed, so that
# every view of this run counts the same cohort.
ui_filters.take_selection("distribution", charts.BRUSH, "brush", ui_filters.brush_text)
ui_filters.take_selection("response", charts.CATEGORY, "cat", ui_filters.category_text)
ui_filters.take_selection("swimmer", charts.LANES, "lanes", ui_filters.lanes_text)

filters = ui_filters.cohort_filters()

top = st.columns([1.2, 2.2, 1.6])
codes = parameters.index.tolist()
code = top[0].selectbox(
    "Parameter", codes, index=codes.index("CK"), key="param", bind="query-params",
    help="The laboratory value or score under study: " + "; ".join(
        f"{c} = {parameters.at[c, 'label']}" for c in codes),
)  # fmt: skip
view = top[2].segmented_control(
    "Show", ["Values", "Change", "% change"], default="Values", key="show", bind="query-params",
    required=True, help="The value at each window, or its change from the baseline window "
    "(ADaM CHG = AVAL − BASE; PCHG = CHG / |BASE| × 100).",
)  # fmt: skip
view = view or "Values"  # an empty value in the link: the default

parsed_windows = urlstate.windows(st.query_params.get("tw"), stored_windows)
if parsed_windows.problem:
    st.warning(parsed_windows.problem)
windows = parsed_windows.value
# Compared as the link writes them: the store's own windows, applied, are not an edit.
edited = urlstate.format_windows(windows) != urlstate.format_windows(stored_windows)
names = windows["name"].tolist()
shown = top[1].multiselect(
    "Visit windows", names, default=names, key="tps", bind="query-params",
    help="Which visit windows the views show. Edit the windows themselves below.",
)  # fmt: skip
shown = [n for n in names if n in shown] or names
with st.expander("Visit windows" + (" (edited: saved in the link)" if edited else "")):
    st.caption(
        "The value at a window is the blood value closest to its nominal day inside [from, to]; "
        "on a tie, the earlier day (docs/rules.md). The first window is the baseline."
    )
    table = st.data_editor(
        windows[urlstate.WINDOW_COLUMNS], num_rows="dynamic", hide_index=True, key="tw-editor"
    )
    problems = cohort.window_problems(table)
    for problem in problems:
        st.error(problem)
    buttons = st.columns(4)
    if buttons[0].button("Apply windows", disabled=bool(problems), key="tw-apply"):
        applied = urlstate.format_windows(table)
        if applied == urlstate.format_windows(stored_windows):
            st.query_params.pop("tw", None)  # the store's own: nothing to keep in the link
        else:
            st.query_params["tw"] = applied
        st.rerun()
    if edited and buttons[1].button("Store's windows", key="tw-reset"):
        del st.query_params["tw"]
        st.rerun()

# --- the cohort and the selections ------------------------------------------------------------

# The page is a function of the store version, the reader and this state: its tables are
# computed and its charts built once per state, and shared by every session that shows it.
# The patients and their response depend on the filters and the windows alone.
cohort_state = (filters, urlstate.format_windows(windows))
state = (*cohort_state, code, view, tuple(shown))


def computed(name: str, compute, *more_state):
    return ui.page_value(name, compute, (state, *more_state))


def drawn(name: str, build, *more_state) -> dict:
    return ui.page_chart(name, build, (state, *more_state))


def cohort_patients():
    filtered = ui.query("cohort_patients", **filters.params())
    patients = filtered["patient_id"].tolist()
    return filtered, patients, ui_cohort.cohort_response(patients, cohort.windows_param(windows),
                                                         edited)  # fmt: skip


def cohort_values():
    # The store's windows: the values the publish computed (table timepoint_values).
    values = (
        ui.query("cohort_values_at_timepoints", windows=cohort.windows_param(windows),
                 codes=[code], patients=patients)
        if edited
        else ui.query("cohort_values_at_store_windows", codes=[code], patients=patients)
    )  # fmt: skip
    # Every value at the shown windows (tables, downloads); those with something to draw.
    measured = cohort.at_windows(values, shown)
    return measured, cohort.with_plotted(measured, view)


filtered, patients, response = ui.page_value("patients", cohort_patients, cohort_state)
measured, values = computed("values", cohort_values)

if ui.access().aggregate_only:  # a viewer: the numbers, small cells suppressed, no patient
    ui_aggregates.patients_line(len(patients), total)
    if not patients:
        st.info("No patient passes these filters. Remove a filter above to widen the cohort.")
        st.stop()
    rule = st.selectbox(
        "Laboratory threshold", list(cohort.THRESHOLDS), key="thr", bind="query-params"
    )
    adverse = ui.query("cohort_adverse_events", patients=patients)
    remission = ui.query("cohort_remission_counts", patients=patients)
    ui_aggregates.cohort_view(values, measured, response, adverse, patients, shown, code, rule,
                              remission)  # fmt: skip
    ui_cohort.published_figures(filters.indications)
    st.stop()

brush_state = urlstate.brush(st.query_params.get("brush"))
category_state = urlstate.category(st.query_params.get("cat"), names, cohort.CATEGORIES)
lanes_state = urlstate.lanes(st.query_params.get("lanes"))
for parsed in (brush_state, category_state):
    if parsed.problem:
        st.warning(parsed.problem)
selections = Selections(brush_state.value, category_state.value, lanes_state.value)
state = (*state, selections)
# The views that draw no value of the parameter (response, swimmer, adverse events, remission)
# depend on the patients kept, not on the parameter, the view or the windows shown: unless a
# brush keeps patients by their values.
kept_state = (*cohort_state, selections, *((code, view, tuple(shown)) if selections.brush else ()))


def computed_for_kept(name: str, compute, *more_state):
    return ui.page_value(name, compute, (kept_state, *more_state))


def drawn_for_kept(name: str, build, *more_state) -> dict:
    return ui.page_chart(name, build, (kept_state, *more_state))


def narrowed() -> Crossfilter:
    crossfilter = Crossfilter(patients)
    if selections.brush:
        crossfilter.kept["brush"] = cohort.brushed_patients(values, selections.brush)
    if selections.category:
        crossfilter.kept["category"] = cohort.category_patients(response, selections.category)
    if selections.lanes:
        crossfilter.kept["lanes"] = set(selections.lanes)
    return crossfilter


crossfilter = computed_for_kept("crossfilter", narrowed)
in_all = crossfilter.patients_for(None)

kind_of = filtered.set_index("patient_id")["source_kind"]

ui_filters.cohort_chips(filters, selections, kind_of.loc[in_all], total, len(patients))
if not patients:
    st.info("No patient passes these filters. Remove a filter above to widen the cohort.")
    st.stop()

label = parameters.at[code, "label"]
unit = parameters.at[code, "unit"]
title = {
    "Values": f"{label} ({display.unit_text(unit)})",
    "Change": f"Change in {label} ({display.unit_text(unit)})",
    "% change": f"% change in {label}",
}[view]
log = bool(parameters.at[code, "log_scale"]) and view == "Values"

# --- views ------------------------------------------------------------------------------------

left, right = st.columns(2)
with left:
    st.subheader("Distribution by visit window")
    own = computed("distribution", lambda: values[
        among(values["patient_id"], crossfilter.patients_for("distribution"))])  # fmt: skip
    if own.empty:
        st.info(f"No {code} value at these windows for these patients.")
    else:
        # The boxes' rows count too: at most one per window, so keep that much room.
        points, left_out = cohort.capped(own, "patient_id", cohort.MAX_CHART_ROWS - len(shown))
        points = ui_cohort.with_indication(points, filtered)
        spec = drawn("distribution", lambda: charts.distribution_spec(
            points, cohort.box_stats(own), shown, title, log, selections.brush))  # fmt: skip
        st.vega_lite_chart(
            spec,
            on_select="rerun",
            selection_mode=[charts.BRUSH],
            key=ui_filters.chart_key("distribution"),
            alt=f"{code} of the patients shown at each visit window: a point a patient, and a "
            "box plot per window.",
        )
        note = (
            f" Points: {len(points):,} of {len(own):,} values ({left_out:,} patients not drawn; "
            "the boxes and n use every patient)."
            if left_out
            else ""
        )
        st.caption("Drag a box over points to pick a value range at those windows; double-click "
                   "to clear." + note)  # fmt: skip

with right:
    st.subheader("Response by visit window")
    counts = computed_for_kept(
        "response-counts",
        lambda: cohort.response_chart_counts(
            ui_cohort.response_counts(response, crossfilter.patients_for("response"), shown, edited)
        ),
        tuple(shown),
    )
    if counts["evaluable"].sum() == 0:
        st.info(
            "No patient here is evaluable for the Total Improvement Score at these windows "
            "(it needs every core set measure at baseline and the window)."
        )
    else:
        st.vega_lite_chart(
            drawn_for_kept("response", lambda: charts.response_chart(
                counts, shown, selections.category), tuple(shown)),
            on_select="rerun", selection_mode=[charts.CATEGORY],
            key=ui_filters.chart_key("response"),
            alt="Patients by 2016 ACR/EULAR TIS category at each visit window.",
        )  # fmt: skip
        st.caption(
            "2016 ACR/EULAR Total Improvement Score (clinical-rules §3.1), "
            + ("recomputed with the edited windows. " if edited else "with the store's windows. ")
            + "Click a segment to pick those patients; double-click to clear."
        )

cohort_now = set(in_all)
lines = computed("lines", lambda: values[among(values["patient_id"], cohort_now)])
left, right = st.columns(2)
with left:
    st.subheader("Spaghetti")
    if lines.empty:
        st.info("No values to draw for the patients picked.")
    else:
        some, left_out = cohort.capped(lines, "patient_id", cohort.MAX_CHART_ROWS - len(shown))
        some = ui_cohort.with_indication(some, filtered)
        st.vega_lite_chart(drawn("spaghetti", lambda: charts.spaghetti_chart(
            some, cohort.median_band(lines), shown, title, log)),
            alt=f"{title} by visit window: a line a patient, the median and its interquartile "
            "range.")  # fmt: skip
        st.caption(
            "Thin lines: one per patient; thick line and band: median and interquartile range "
            "(n per window in the box plot)."
            + (f" {left_out:,} patients' lines not drawn; the median uses all." if left_out else "")
        )
with right:
    st.subheader("Waterfall")
    better = parameters.at[code, "better"]
    choices = ["Best change", *[t for t in shown if t != names[0]]]
    at = st.selectbox("At", choices, key="wf", bind="query-params")
    bars = computed("waterfall", lambda: cohort.waterfall(
        lines, response, at, better, baseline=names[0]), at)  # fmt: skip
    if bars.empty:
        st.info(f"No percent change in {code} at {at} for the patients picked.")
    else:
        thinned, step = cohort.thinned_by_rank(bars)
        st.vega_lite_chart(drawn("waterfall", lambda: charts.waterfall_chart(
            thinned, f"{code}, % change from baseline"), at),
            alt=f"Waterfall of {code} % change from baseline at {at}: a bar a patient, in "
            "order.")  # fmt: skip
        st.caption(
            f"{len(bars):,} patients"
            + (f"; one bar in {step} drawn, in order, with both ends" if step > 1 else "")
            + ". Colour: TIS category at the same window (grey: not evaluable)."
        )

st.subheader("Swimmer plot")
swim_cols = st.columns([2, 1])
sort_by = swim_cols[0].selectbox(
    "Order lanes by",
    ["Follow-up (longest first)", "First response (earliest first)",
     "Worst CRS grade (highest first)", "Patient id"],
    key="sort", bind="query-params",
)  # fmt: skip
limit = swim_cols[1].number_input(
    "Lanes",
    min_value=5.0,
    max_value=200.0,
    value=40.0,
    step=5.0,
    format="%.0f",
    key="nlanes",
    bind="query-params",
)


def swimmer():
    lane_patients = crossfilter.patients_for("swimmer")
    marks = ui.query("cohort_lane_marks", patients=lane_patients)
    aplasia = ui.query("cohort_aplasia", patients=lane_patients)
    drawn_lanes = cohort.swimmer_lanes(
        marks, aplasia, response[among(response["patient_id"], lane_patients)], sort_by,
        int(limit),
    )  # fmt: skip
    return *drawn_lanes, cohort.unplaced_marks(marks, drawn_lanes[0]["patient_id"])


lanes, periods, events, left_out, unplaced = computed_for_kept("swimmer", swimmer, sort_by, limit)
if lanes.empty:
    st.info("No patient to draw.")
else:
    st.vega_lite_chart(
        drawn_for_kept("swimmer", lambda: charts.swimmer_spec(
            lanes, periods, events, selections.lanes), sort_by, limit),
        on_select="rerun", selection_mode=[charts.LANES], key=ui_filters.chart_key("swimmer"),
        alt="Swimmer plot: a lane a patient over study days, with follow-up, B-cell aplasia and "
        "CID periods, the infusion, CRS and ICANS by grade and the first response.",
    )  # fmt: skip
    st.caption(
        "Click a lane to pick a patient, shift-click for more; double-click to clear. CID periods "
        "run from a window with PRINTO CID to the next window without it."
        + (f" {left_out:,} more patients are not drawn: narrow the cohort or add lanes."
           if left_out else "")
        + (" Reported without a day, so not placed: "
           + "; ".join(f"{r.patient_id} {r.mark} grade {r.grade}" for r in unplaced.itertuples())
           + "." if not unplaced.empty else "")
    )  # fmt: skip

left, right = st.columns(2)
with left:
    st.subheader("Response table")
    table = computed_for_kept("response-table", lambda: cohort.response_table_of(
        ui_cohort.response_counts(response, in_all, shown, edited)), tuple(shown))  # fmt: skip
    st.dataframe(table.style.format(na_rep="—", precision=1), hide_index=True, key="response-table")
    remission = computed_for_kept("remission-table", lambda: cohort.remission_table(
        ui.query("cohort_remission_counts", patients=in_all)))  # fmt: skip
    if not remission.empty:
        st.subheader("Remission table")
        st.dataframe(
            remission.style.format(na_rep="—", precision=1), hide_index=True, key="remission-table"
        )
        st.caption(
            ui_cohort.REMISSION_DEFINITIONS + " At the store's visit windows; a patient is "
            "undecided at a visit when an input is missing and nothing failed. Prednisone "
            "equivalents are unconfirmed conversion factors (a setting). Rules as implemented: "
            "docs/rules.md."
        )
    rule = st.selectbox(
        "Laboratory threshold", list(cohort.THRESHOLDS), key="thr", bind="query-params"
    )
    # On the values themselves, whatever the view: a patient without a baseline still counts.
    threshold = computed("threshold", lambda: cohort.threshold_table(
        measured[among(measured["patient_id"], cohort_now)], rule, shown), rule)  # fmt: skip
    st.dataframe(threshold.style.format(na_rep="—", precision=1), hide_index=True, key="thr-table")
    st.caption(f"{code} {rule}, with each result's own reference range where the lab gave one.")
    ui_cohort.published_figures(filters.indications)
with right:
    st.subheader("Adverse events")
    adverse = computed_for_kept("adverse-events", lambda: cohort.adverse_event_table(
        ui.query("cohort_adverse_events", patients=in_all), len(in_all)))  # fmt: skip
    if adverse.empty:
        st.info("No adverse event is reported for these patients.")
    else:
        st.dataframe(display.headed(adverse), hide_index=True, key="ae-table")
        st.caption(
            f"Patients by worst grade per term; % of the {len(in_all):,} patients shown. Rows "
            "“from counts” are graded from the blood counts: lab terms only after the infusion "
            "and worse than the patient's baseline grade (a raised CK at baseline is myositis "
            "activity, not a toxicity); ICAHT and T-ICAHT early. The Safety page has them by "
            "grade, with the numbers at risk and the recovery curves."
        )

ui_cohort.cohort_downloads(
    computed("shown", lambda: measured[among(measured["patient_id"], cohort_now)]), code, in_all
)
