"""Patient trajectory: one screen of linked charts across the follow-up.

State lives in the URL: patient, view, toggles and settings as bound widgets; the brushed window
(`win`) and the picked day (`day`) from the chart's selections.
"""

from dataclasses import replace
from functools import partial

import streamlit as st

from carta import (
    derive,
    display,
    ui,
    ui_access,
    ui_records,
    ui_safety,
    ui_trajectory,
    ui_width,
    urlstate,
)
from carta.charts.trajectory import (
    BLOOD_COUNTS,
    BRUSH,
    PANEL_SUBJECTS,
    PICK,
    VIEWS,
    TrajectoryOptions,
    applicable_panels,
    panels_with_data,
    plot_width,
    trajectory_spec,
)
from carta.measures import ctcae, kinetics
from carta.measures import response as response_rules

ui.require_shell()
ui_access.require_patients()

st.title("Patient trajectory")
top = st.columns([2, 3, 1.3])
with top[0]:
    patient_id = ui.choose_patient()
if patient_id is None:
    st.stop()
ui_access.viewed("trajectory", patient_id)
view = top[1].segmented_control(
    "Show",
    list(VIEWS),
    default="Values",
    key="view",
    bind="query-params",
    required=True,
    help="Values, or change from baseline: absolute (ADaM CHG) or percent (PCHG).",
)
raw_enzymes = top[2].toggle("Enzymes in U/L", key="raw", bind="query-params")
with st.expander("Settings"):
    cols = st.columns(5)
    baseline_from = cols[0].number_input(
        "Baseline window from day", value=-60.0, min_value=-365.0, max_value=0.0, step=1.0,
        format="%.0f", key="bfrom",
        bind="query-params",
    )  # fmt: skip
    baseline_to = cols[1].number_input(
        "to day",
        value=0.0,
        min_value=-365.0,
        max_value=0.0,
        step=1.0,
        format="%.0f",
        key="bto",
        bind="query-params",
    )
    near = cols[2].number_input(
        "Values within ± days of a picked day", value=3.0, min_value=0.0, max_value=60.0,
        step=1.0, format="%.0f",
        key="near", bind="query-params",
    )  # fmt: skip
    threshold = cols[3].number_input(
        "B-cell depletion below (cells/µL)", value=kinetics.DEFAULT_DEPLETION_THRESHOLD,
        min_value=0.1, step=0.5, key="bcell", bind="query-params",
    )  # fmt: skip
    recovery = cols[4].number_input(
        "B-cell recovery from (cells/µL)", value=kinetics.DEFAULT_RECOVERY_THRESHOLD,
        min_value=0.1, step=10.0, key="brec", bind="query-params",
    )  # fmt: skip
    cols = st.columns(5)
    measure_set = cols[0].selectbox(
        "Response core set", list(response_rules.MEASURE_SETS), key="tisset", bind="query-params",
        help="IMACS: MMT8, extramuscular activity, enzyme. PRINTO: CMAS, DAS, CHQ-PhS.",
    )  # fmt: skip
    if threshold > recovery:
        st.warning(
            f"The B-cell depletion threshold ({threshold:g}) is above the recovery threshold "
            f"({recovery:g}); the defaults are used until it is not."
        )
        threshold = kinetics.DEFAULT_DEPLETION_THRESHOLD
        recovery = kinetics.DEFAULT_RECOVERY_THRESHOLD
    st.caption(
        "Baseline: the last value in the window, as ADaM BASE (clinical-rules §6.2). The B-cell "
        "depletion and recovery thresholds are unconfirmed rules (clinical-rules §5), so they "
        "are settings."
    )
if baseline_from > baseline_to:
    st.warning("The baseline window starts after it ends; using day −60 to 0.")
    baseline_from, baseline_to = -60, 0

profile = ui.query("patient_profile", patient_id=patient_id).iloc[0]
ui.synthetic_warning(profile["source_kind"])
ui_trajectory.patient_header(profile)
if not display.is_missing(profile.get("day0_basis")):
    st.warning(
        f"**Day 0 of this patient is {display.escape_markdown(profile['day0_basis'])}**: the "
        "source records no CAR T infusion, so the study days and every rule counted from the "
        "infusion count from that day."
    )

data = ui_trajectory.trajectory_data(patient_id, profile, int(baseline_from), int(baseline_to))
observations, events, adverse, day_range = (
    data.observations,
    data.events,
    data.adverse_events,
    data.day_range,
)

window = urlstate.study_window(st.query_params.get("win"), day_range)
picked = urlstate.study_day(st.query_params.get("day"), day_range)
for problem in (window.problem, picked.problem):
    if problem:
        st.warning(problem)
chart_key = f"trajectory-{patient_id}"
# A full run draws the chart with the URL's window and day (a reload, a link, another setting).
st.session_state[ui_trajectory.drawn_key(chart_key)] = (window.value, picked.value)

response = data.response
settings = dict(ui.query("store_settings").itertuples(index=False, name=None))
igg_threshold = float(settings.get("hypogamma_igg_threshold", 4.0))
# The thresholds are the indication's (adult myositis 20/40/60), not a choice on the page.
stored_population = settings.get("tis_population", derive.DEFAULT_SETTINGS["tis_population"])
population = derive.tis_population(profile.get("indication"), stored_population)
if population is not None and measure_set != settings.get("tis_measure_set"):
    # Other settings than the stored table's: the same rules, for this patient only.
    values = ui.query(
        "patient_timepoint_values", patient_id=patient_id, codes=derive.RESPONSE_CODES
    )
    response = derive.response_rows(values, measure_set, population)
    data = replace(data, response=response)
present = panels_with_data(data)
belongs = applicable_panels(profile.get("indication"))
missing = [PANEL_SUBJECTS[name] for name, has in present.items() if not has and name in belongs]


def bands_for(code: str) -> list[dict]:
    rows = observations[observations["code"] == code]
    if rows.empty:
        return []
    return ctcae.grade_bands(code, rows["ref_low"].iloc[0], rows["ref_high"].iloc[0])


options = TrajectoryOptions(
    view=VIEWS.get(view, "value"),
    enzymes_as_uln=not raw_enzymes,
    depletion_threshold=float(threshold),
    igg_threshold=igg_threshold,
    grade_bands={code: bands_for(code) for code in BLOOD_COUNTS},
)
findings = ui.query("patient_reported_findings", patient_id=patient_id)


def side_column(day: int | None) -> None:
    """The picked day's values first, beside the chart's top where the click was, then the
    patient's figures."""
    if day is not None:
        values = ui.query("patient_values_near_day", patient_id=patient_id, day=day,
                          window=int(near))  # fmt: skip
        with st.container(border=True, key="picked-day"):
            ui_trajectory.values_near_day_table(values, day, int(near))
    ui_trajectory.kinetics_figures(
        observations, ui.query("patient_kinetics", patient_id=patient_id), findings,
        float(threshold), float(recovery),
    )  # fmt: skip
    ui_safety.toxicity_figures(
        ui.query("patient_lab_toxicity", patient_id=patient_id),
        ui.query("patient_hematotox", patient_id=patient_id),
    )
    ui_safety.immune_figures(observations, events, igg_threshold)
    ui_trajectory.recovery_figures(ui.query("patient_recovery", patient_id=patient_id))
    ui_trajectory.response_note(response, measure_set, population, profile.get("indication"))
    ui_trajectory.remission_note(data.remission)
    ui_trajectory.unplaced_course(
        events, adverse, observations,
        ui.query("patient_undated_observations", patient_id=patient_id),
    )  # fmt: skip
    ui.reported_findings(findings)
    if missing:
        st.caption("No data for this patient: " + "; ".join(missing) + ".")


def take_chart_selection() -> None:
    """A brush or a click on the chart (kept by Streamlit under the chart's key) goes to the URL.
    Before any interaction both parameters arrive empty, as they do after a double-click has
    cleared them; only a change from a value to empty means "cleared"."""
    state = st.session_state.get(chart_key)
    selection = (state or {}).get("selection", {}) if hasattr(state, "get") else {}
    seen = st.session_state.setdefault(f"{chart_key}-seen", {BRUSH: None, PICK: None})
    # One interval, named by the overview's x field (the course lane's is start_day).
    brushed = next(iter((selection.get(BRUSH) or {}).values()), None)
    clicked = selection.get(PICK) or None
    if brushed != seen[BRUSH]:
        if brushed:
            st.query_params["win"] = urlstate.format_window(brushed)
        else:
            st.query_params.pop("win", None)
    if clicked != seen[PICK]:
        if clicked:
            st.query_params["day"] = str(int(clicked[0]["day"]))
        else:
            st.query_params.pop("day", None)
    seen[BRUSH], seen[PICK] = brushed, clicked


@st.fragment
def linked_view() -> None:
    take_chart_selection()
    window = urlstate.study_window(st.query_params.get("win"), day_range).value
    day = urlstate.study_day(st.query_params.get("day"), day_range).value
    chart_column, side = st.columns([2.6, 1.4])
    with side:
        side_column(day)
    with chart_column:
        if not any(present.values()):
            st.info("Nothing dated is recorded for this patient, so there is nothing to draw.")
            return
        ui_trajectory.keyboard_controls(chart_key, day_range, day, window)
        drawn_window, drawn_day = st.session_state[ui_trajectory.drawn_key(chart_key)]
        drawn = replace(options, window=drawn_window, selected_day=drawn_day)
        # Built for the column's width: the chart follows it down to a phone's.
        measured_width, measured = ui_width.container_width("trajectory-width", default=760)
        width = plot_width(data, measured_width)
        spec = ui.cached_spec(
            partial(trajectory_spec, width=width),
            data,
            drawn,
            # Everything the data and the options depend on: the chart is cached under it.
            cache_key=(
                patient_id, int(baseline_from), int(baseline_to), measure_set, population,
                repr(drawn), width,
            ),
        )  # fmt: skip
        described = ui_trajectory.chart_description(patient_id, present, day_range)
        # The container says whether the chart has its measured width yet (browser tests wait
        # for that before they read it).
        with st.container(key=f"trajectory-chart{'' if measured else '-unmeasured'}"):
            st.vega_lite_chart(spec, on_select="rerun", selection_mode=[BRUSH, PICK],
                               key=chart_key, alt=described, width="content")  # fmt: skip
        st.caption(
            "Drag across the course lane to zoom every panel, or set the window above; "
            "double-click to reset. Click a day, or type it above, to list its values beside "
            "the chart. Open markers: beyond the assay limit or not detected.  \n"
            f"Dotted line (B cells): B-cell depletion threshold, {float(threshold):g} cells/µL — a "
            "setting, as the rule is unconfirmed (docs/rules.md). Red bands (blood counts): CTCAE "
            "v5.0 grades 1–4; grade 1 starts at the result's lower limit of normal, or at the "
            "dictionary's placeholder range where the lab gave none."
        )
        if day is None:
            st.caption("No day picked.")
        ui_records.other_tests(ui.query("patient_other_observations", patient_id=patient_id))


linked_view()
