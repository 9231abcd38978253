"""The trajectory view's widgets (pages/trajectory.py): the patient header, the side column's
figures, the values near the picked day and what could not be placed on the course.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from carta import display, ui
from carta.charts.trajectory import short_name
from carta.measures import ctcae
from carta.measures import response as response_rules


def patient_header(profile: pd.Series) -> None:
    """Who the patient is and where the data come from, in one compact block."""
    facts = {
        "Age": display.age(profile["age_years"]),
        "Sex": display.text_or_not_reported(profile["sex"]),
        "Race": display.text_or_not_reported(profile.get("race")),
        "Autoantibody": display.text_or_not_reported(profile["autoantibody"]),
        "Cell dose": display.cell_dose(profile["cell_dose_per_kg"]),
        "Follow-up": display.follow_up(profile["follow_up_days"], profile["follow_up_reported"]),
    }
    for column, (label, value) in zip(st.columns(len(facts)), facts.items(), strict=True):
        column.caption(label)
        column.markdown(f"**{value}**")
    st.caption(
        f"**Diagnosis:** {display.text_or_not_reported(profile['diagnosis'])} · "
        f"**Prior therapies:** {display.text_or_not_reported(profile['prior_therapies'])} · "
        f"**Product:** {display.text_or_not_reported(profile['product'])}"
    )
    source = f"**Source** {ui.source_badge(profile['source_kind'])} {profile['source_citation']}"
    if not display.is_missing(profile["source_doi"]):
        doi = profile["source_doi"]
        source += f" [doi:{doi}](https://doi.org/{doi})"
    st.caption(source)


def unplaced_course(
    events: pd.DataFrame,
    adverse: pd.DataFrame,
    observations: pd.DataFrame,
    undated: pd.DataFrame,
) -> None:
    """What the source reports without a day: listed, never placed at a guessed day."""
    esc = display.escape_markdown
    lines = [
        f"- **{esc(row.name)}**"
        + (
            f", {display.dose(row.dose, row.dose_unit, getattr(row, 'dose_basis', None))}"
            if not display.is_missing(row.dose)
            else ""
        )
        + _partial(row, "start")
        + (f" — {esc(row.note)}" if not display.is_missing(row.note) else "")
        for row in events[events["start_day"].isna()].itertuples()
    ]
    lines += [
        f"- **{esc(row.term)}**, "
        + display.ae_grade(row.grade, getattr(row, "severity", None))
        + _partial(row, "onset")
        + (f" — {esc(row.note)}" if not display.is_missing(row.note) else "")
        for row in adverse[adverse["onset_day"].isna()].itertuples()
    ]
    lines += [
        f"- **{row.label}** ({row.specimen.replace('_', ' ')}), {esc(row.timing)} (as reported, no "
        f"exact day): {display.number(row.value, row.unit, row.qualifier)}"
        for row in undated.itertuples()
    ]
    if lines:
        st.markdown("**Reported, day not given**")
        st.markdown("\n".join(lines))
    not_numbers = observations[observations["qualifier"] == "not_detected"]
    if not not_numbers.empty:
        st.markdown("**Reported without a number**")
        st.markdown(
            "\n".join(
                f"- **{row.label}** ({row.specimen.replace('_', ' ')}), day {row.day}: "
                "not detected, no count reported"
                for row in not_numbers.itertuples()
            )
        )


def _partial(row, prefix: str) -> str:
    """', days −19 to 11 (only the month is reported)' for a partial source date, else ''."""
    earliest = getattr(row, f"{prefix}_earliest", None)
    if display.is_missing(earliest):
        return ""
    latest, precision = getattr(row, f"{prefix}_latest", None), getattr(row, f"{prefix}_precision")
    return ", " + display.day_or_range(None, earliest, latest, precision)


def values_near_day_table(values: pd.DataFrame, day: int, near: int) -> None:
    st.markdown(f"**Values on study day {day}** (± {near} days)")
    if values.empty:
        st.caption(f"No values recorded within {near} days of day {day}.")
        return
    # Narrow, beside the chart: short names first, then value, day and grade.
    names = [short_name(c, lab) for c, lab in zip(values["code"], values["label"], strict=True)]
    table = pd.DataFrame(
        {
            "Parameter": pd.Series(names, index=values.index)
            + values["specimen"].map(
                {"blood": "", "bone_marrow": " (bone marrow)", "urine": " (urine)"}
            ),
            "Value": [
                display.number(v, u, q)
                for v, u, q in zip(
                    values["value"], values["unit"], values["qualifier"], strict=True
                )
            ],
            "Day": values["day"],
            "Grade": [
                "" if pd.isna(g) else f"{int(g)}" + (" ⚑" if not pd.isna(d) and bool(d) else "")
                for g, d in zip(values["grade"], values["range_default"], strict=True)
            ],
            "× ULN": values["x_uln"].round(2),
            "Source": values["source_kind"].map(ui.source_label),
            "Note": values["note"],
        }
    )
    st.dataframe(display.table_style(table), hide_index=True, width="stretch", key=f"near-{day}",
                 column_config={"Parameter": st.column_config.TextColumn(
                     help="Short name (CK: creatine kinase); the chart's tooltips give the "
                     "full name."), "Grade": st.column_config.TextColumn(
                     help="CTCAE v5.0")})  # fmt: skip
    notes = [
        "CTCAE v5.0 grade of each value; the toxicity counted is the treatment-emergent one "
        "beside the chart."
    ]
    if values["range_default"].fillna(False).astype(bool).any():
        notes.append(f"⚑ {ctcae.DEFAULT_RANGE_NOTE}.")
    if (values["code"] == "CK").any():
        notes.append(ctcae.CK_NOTE)
    st.caption(" ".join(notes))


def kinetics_figures(
    observations: pd.DataFrame,
    stored: pd.DataFrame,
    findings: pd.DataFrame,
    depletion: float,
    recovery: float,
) -> None:
    """CAR T kinetics as the derived table holds them, and B-cell aplasia by the same rule as the
    case summary with the page's thresholds; what the source reports in words where it gives no
    day or count (a published case's "B-cell recovery")."""
    from carta.measures import kinetics
    from carta.measures import summary as summary_rules

    # The rule takes many patients; the page's rows are one patient's (the query has no id column).
    blood = observations[observations["specimen"] == "blood"].assign(patient_id="shown")
    cd19 = kinetics.bcell_aplasia(
        blood[blood["code"] == "CD19"], depletion_threshold=depletion, recovery_threshold=recovery
    )
    lines = []
    if not stored.empty and not display.is_missing(stored.iloc[0]["cmax"]):
        k = stored.iloc[0]
        lines.append(
            f"- **CAR T Cmax** {display.number(k['cmax'], '{cells}/uL')}, "
            f"Tmax {display.study_day(k['tmax'])}"
        )
        lines += [f"- **{label}** {text}" for label, text in summary_rules.car_t_lines(stored)]
    if not cd19.empty:
        for figure in summary_rules.aplasia_figures(cd19, findings, depletion, recovery):
            detail = (
                f" — {figure.detail}" if figure.detail and "setting" not in figure.detail else ""
            )
            lines.append(f"- **{figure.label}** {figure.value}{detail}")
    if lines:
        st.markdown("**Cellular kinetics**")
        st.markdown("\n".join(lines))
        st.caption(
            f"Aplasia: below {depletion:g}, recovery from {recovery:g} cells/µL on two "
            "consecutive values — settings of an unconfirmed rule. AUC: linear trapezoid from "
            "day 0 (no CAR T cells before the infusion, a setting), not across gaps of more than "
            f"{ui.store_meta().get('derived_auc_max_gap_days', '14')} days (a setting); "
            "docs/rules.md."
        )


def recovery_figures(recovery: pd.DataFrame) -> None:
    """Neutrophil recovery and CK normalisation from the derived table patient_recovery."""
    if recovery.empty:
        return
    r = recovery.iloc[0]
    lines = []
    if not display.is_missing(r["anc_nadir"]):
        lines.append(
            f"- **ANC nadir** {display.number(r['anc_nadir'], '10*9/L')} "
            f"on {display.study_day(r['anc_nadir_day'])}"
        )
        if r["severe_neutropenia"]:
            recovered = (
                f"recovered {display.study_day(r['anc_recovery_day'])}"
                if not display.is_missing(r["anc_recovery_day"])
                else "not recovered among the recorded values"
            )
            lines.append(
                f"- **ANC < 0.5** for {int(r['days_anc_below_0_5_d0_30'])} of days 0–30; "
                f"{recovered}"
            )
    if not display.is_missing(r["ck_normal_at_last"]):
        lines.append(
            f"- **CK ≤ ULN** for good from {display.study_day(r['ck_sustained_normal_day'])}"
            if r["ck_normal_at_last"]
            else "- **CK** above the ULN at the last value"
        )
    if lines:
        st.markdown("**Recovery**")
        st.markdown("\n".join(lines))


def response_note(
    response: pd.DataFrame, measure_set: str, population: str | None, indication: object
) -> None:
    """Say which response rules and settings the response strip shows, and where the
    thresholds come from (the indication, or a store setting when it is not given)."""
    if response.empty or population is None:
        return
    cuts = "/".join(f"{v:g}" for v in response_rules.THRESHOLDS[population].values())
    origin = (
        "from the patient's indication"
        if isinstance(indication, str) and indication
        else "⚑ the store's setting: the patient's indication is not given"
    )
    st.caption(
        "Response strip: 2016 ACR/EULAR Total Improvement Score against baseline, "
        f"{measure_set} core set, {population} thresholds ({cuts}, {origin}); a score and "
        "category only "
        "when all six components are present, otherwise “incomplete (n of 6)”. PRINTO CID: at "
        "least 3 of CK ≤ 150 U/L, CMAS ≥ 48, MMT8 ≥ 78, PGA ≤ 0.2 cm. The enzyme slot uses our "
        "reading of the formula (partly confirmed). Rules as implemented: docs/rules.md."
    )


def remission_note(remission: pd.DataFrame | None) -> None:
    """Say what the remission strip's definitions are, with their status."""
    if remission is None or remission.empty:
        return
    shown = set(remission["definition"])
    parts = []
    if "DORIS 2021" in shown:
        parts.append("DORIS 2021: clinical SLEDAI 0, physician global < 0.5 (0–3), "
                     "prednisone-equivalent ≤ 5 mg/day")  # fmt: skip
    if "LLDAS" in shown:
        parts.append("LLDAS: SLEDAI-2K ≤ 4 without major organ or new activity, physician global "
                     "≤ 1, prednisone-equivalent ≤ 7.5 mg/day (partly confirmed)")  # fmt: skip
    if "EUSTAR-AI < 2.5" in shown:
        parts.append("revised EUSTAR activity index below 2.5 (not active)")
    st.caption(
        "Remission strip: " + "; ".join(parts) + ". Filled: met; ring: not met; grey dot: an "
        "input is missing and nothing failed. Prednisone equivalents are unconfirmed "
        "conversion factors (a setting). Rules as implemented: docs/rules.md."
    )


def trajectory_data(
    patient_id: str, profile: pd.Series, baseline_from: int = -60, baseline_to: int = 0
):
    from carta import case

    return case.trajectory_data(ui.query, patient_id, profile, baseline_from, baseline_to)


# --- the picked day and the window: by click and brush on the chart, or by keyboard ----------

DAY_BOX, WINDOW_SLIDER = "daybox", "winbox"


def drawn_key(chart_key: str) -> str:
    """Where the window and day the chart was last drawn with are kept: a change made on the
    chart itself is already on screen and does not redraw it; one made with the keyboard does."""
    return f"{chart_key}-drawn"


def keyboard_controls(
    chart_key: str,
    day_range: tuple[int, int],
    day: int | None,
    window: tuple[float, float] | None,
) -> None:
    """A day box and a window slider that do what a click and a brush on the chart do, for the
    keyboard (arrow keys move the slider's handles). Both show the URL's day and window."""
    st.session_state[DAY_BOX] = day
    st.session_state[WINDOW_SLIDER] = tuple(round(v) for v in (window or day_range))
    cells = st.columns([1, 3])
    cells[0].number_input("Day", min_value=day_range[0], max_value=day_range[1], step=1,
                          key=DAY_BOX, on_change=_day_typed, args=(chart_key,),
                          placeholder="pick a day",
                          help="The study day whose values are listed beside the chart, as a "
                          "click on the chart picks it.")  # fmt: skip
    cells[1].slider("Window (study days)", min_value=day_range[0], max_value=day_range[1],
                    key=WINDOW_SLIDER, on_change=_window_moved, args=(chart_key, day_range),
                    help="Zooms every panel to these days, as dragging across the course lane "
                    "does; the whole follow-up is no window.")  # fmt: skip


def _day_typed(chart_key: str) -> None:
    day = st.session_state[DAY_BOX]
    if day is None:
        st.query_params.pop("day", None)
    else:
        st.query_params["day"] = str(int(day))
    window, _ = st.session_state[drawn_key(chart_key)]
    st.session_state[drawn_key(chart_key)] = (window, None if day is None else int(day))


def _window_moved(chart_key: str, day_range: tuple[int, int]) -> None:
    from carta import urlstate

    low, high = st.session_state[WINDOW_SLIDER]
    whole = (low, high) == tuple(day_range) or high - low < 1
    window = None if whole else (float(low), float(high))
    if window is None:
        st.query_params.pop("win", None)
    else:
        st.query_params["win"] = urlstate.format_window(window)
    _, day = st.session_state[drawn_key(chart_key)]
    st.session_state[drawn_key(chart_key)] = (window, day)


def chart_description(patient_id: str, present: dict[str, bool], day_range: tuple[int, int]) -> str:
    """What a screen reader says of the linked chart: whose, which panels, over which days."""
    from carta.charts.trajectory import PANELS

    shown = [PANELS[name] for name, has in present.items() if has]
    return (
        f"Trajectory of {patient_id} from study day {day_range[0]} to {day_range[1]} "
        f"(day 0 = CAR T infusion), panels: {'; '.join(shown)}. The day box and the window "
        "slider above the chart pick a day and zoom, as clicking and brushing do."
    )
