"""Streamlit widgets of the safety picture: one patient's lab toxicity and haematotoxicity (the
trajectory's side column) and the cohort safety view (pages/safety.py).

A view's widgets live in a module of their own; carta/ui.py keeps the shared store access.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from carta import dictionary, display, ui, ui_width
from carta.charts import safety as safety_charts
from carta.measures import ctcae, survival
from carta.measures import safety as safety_rules
from carta.measures import summary as summary_rules


def toxicity_figures(toxicity: pd.DataFrame, haematotoxicity: pd.DataFrame) -> None:
    """Worst treatment-emergent CTCAE grade per lab term with the baseline grade beside it, and
    ICAHT, T-ICAHT and CAR-HEMATOTOX from the derived tables."""
    lines = []
    for row in toxicity.itertuples(index=False):
        if display.is_missing(row.emergent_grade):
            continue
        series = pd.Series(row._asdict())
        baseline = (
            "no baseline value"
            if display.is_missing(row.baseline_grade)
            else f"baseline grade {int(row.baseline_grade)}"
        )
        flag = " ⚑ default range" if bool(row.range_default) else ""
        term = display.escape_markdown(row.term)
        lines.append(f"- **{term}** {summary_rules.emergent_text(series)} ({baseline}){flag}")
    if lines:
        st.markdown("**Lab toxicity** (CTCAE v5.0, treatment-emergent)")
        st.markdown("\n".join(lines))
        notes = [
            "Counted after the infusion and only when worse than the patient's own baseline "
            "grade (the last value before lymphodepletion)."
        ]
        if toxicity["range_default"].fillna(False).any():
            notes.append(f"⚑ {ctcae.DEFAULT_RANGE_NOTE}.")
        if (toxicity["code"] == "CK").any():
            notes.append(ctcae.CK_NOTE)
        st.caption(" ".join(notes))
    haematotoxicity_figures(haematotoxicity)


def immune_figures(observations: pd.DataFrame, events: pd.DataFrame, threshold: float) -> None:
    lines = summary_rules.immune_lines(observations, events, threshold)
    if lines:
        st.markdown("**Immune reconstitution**")
        st.markdown("\n".join(f"- {line}" for line in lines))
        st.caption(
            f"Hypogammaglobulinaemia threshold {threshold:g} g/L: a setting (docs/rules.md)."
        )


def haematotoxicity_figures(rows: pd.DataFrame) -> None:
    if rows.empty:
        return
    figures = summary_rules.haematotoxicity_figures(rows)
    st.markdown("**Haematotoxicity**")
    st.markdown(
        "\n".join(
            f"- **{f.label}** {f.value}" + (f" — {f.detail}" if f.detail else "") for f in figures
        )
    )
    st.caption(
        "ICAHT and T-ICAHT: grades need two counts in the window, and a last count holds at "
        "most 7 days (settings); the ICAHT grade cells are partly confirmed (docs/rules.md)."
    )


# --- the cohort safety view (pages/safety.py) -------------------------------------------------


@dataclass(frozen=True)
class CohortSafety:
    """What the safety view shows for one cohort, computed once per store version and cohort."""

    n_patients: int
    incidence: pd.DataFrame
    incidence_shown: pd.DataFrame  # the incidence as the table shows it
    km: pd.DataFrame
    at_risk: pd.DataFrame
    medians: pd.DataFrame
    left_out: pd.DataFrame
    infections: pd.DataFrame
    rate: survival.Rate
    follow_up_from_values: int
    without_event_records: int  # patients whose source records no adverse event at all


# A resource: shared read-only by every session that shows it, never unpickled per session.
@st.cache_resource(show_spinner="Computing the safety picture…", max_entries=16)
def _cohort_safety(reading: tuple, patients: tuple[str, ...]) -> CohortSafety:
    chosen = list(patients)
    worst = ui.query("safety_worst_grades", patients=chosen)
    rows = ui.query("safety_recovery_times", patients=chosen)
    infections = ui.query("safety_infections", patients=chosen)
    durations = safety_rules.recovery_durations(rows)
    km = survival.kaplan_meier(durations.durations, group="outcome")
    recorded = safety_rules.with_event_records(worst)
    incidence = safety_rules.incidence(worst)
    return CohortSafety(
        n_patients=len(chosen),
        incidence=incidence,
        incidence_shown=incidence_table(incidence),
        km=km,
        at_risk=survival.at_risk_table(km),
        medians=survival.median_time(km),
        left_out=durations.left_out,
        infections=infections,
        rate=safety_rules.infection_rate(infections, rows, recorded),
        follow_up_from_values=int(rows["follow_up_from_values"].fillna(False).sum()),
        without_event_records=len(set(chosen) - recorded),
    )


def cohort_safety(patients: list[str]) -> CohortSafety:
    return _cohort_safety(ui.reading_key(), tuple(patients))


def incidence_table(incidence: pd.DataFrame) -> pd.DataFrame:
    wide = incidence.pivot(index="category", columns="grade", values="n")
    at_risk = incidence.groupby("category", sort=False)["n_at_risk"].first()
    order = [c for c in safety_rules.CATEGORIES if c in wide.index]
    table = pd.DataFrame(
        {
            "Category": [safety_rules.CATEGORY_LABELS[c] for c in order],
            "At risk": at_risk.loc[order].to_numpy(),
            **{f"Grade {g}": wide.loc[order, g].to_numpy() for g in ("1", "2", "3", "4", "5")},
            "Grade ≥ 3": wide.loc[order, "≥3"].to_numpy(),
            "Not graded (severity only)": wide.loc[order, "not graded"].to_numpy(),
            "Any grade": wide.loc[order, "any"].to_numpy(),
        }
    )
    percent = incidence[incidence["grade"] == "any"].set_index("category")["percent"]
    table["Any grade (%)"] = [
        "–" if pd.isna(percent.get(c)) else f"{percent.get(c):.0f} %" for c in order
    ]
    return table


def incidence_section(safety: CohortSafety, state: tuple) -> None:
    """`state`: what the patients shown are a function of (the filters, the lanes picked)."""
    st.subheader("Adverse events by worst grade")
    st.caption(
        "Each patient counts once per category, at their worst grade; “not observed” (grade 0) "
        "is no event. At risk: the patients shown whose source records adverse events; for "
        "ICAHT and T-ICAHT, those with at least two counts in the window (EHA/EBMT 2023; "
        "Rejeski 2025; grade cells partly confirmed, day counting a setting: docs/rules.md). "
        "LICATS is counted apart from disease flares (Hagen, Lancet Rheumatol 2025). CRS and "
        "ICANS as graded by the source."
        + (
            f" {safety.without_event_records} patient(s) shown have no adverse-event record at "
            "all: they are not counted as having had none."
            if safety.without_event_records
            else ""
        )
    )
    chart = ui.page_chart(
        "safety-incidence", lambda: safety_charts.incidence_chart(safety.incidence), state
    )
    st.vega_lite_chart(chart, key="safety-incidence")  # described by its spec
    st.dataframe(safety.incidence_shown, hide_index=True, key="safety-incidence-table")


def recovery_section(safety: CohortSafety, state: tuple) -> None:
    st.subheader("Time to recovery")
    if safety.km.empty:
        st.info("No patient shown had severe neutropenia, platelets below 20 ×10⁹/L or B-cell "
                "aplasia, so there is no recovery to follow.")  # fmt: skip
        return
    st.caption(
        "Kaplan–Meier estimate of the share recovered by study day, with 95 % intervals, "
        "censored (ticks) at the last follow-up. At risk: neutrophils after ANC < 0.5 ×10⁹/L "
        "(recovery: ≥ 0.5 on 3 consecutive values, CIBMTR); platelets after < 20 ×10⁹/L "
        "(recovery: ≥ 20 on 3 consecutive days, T-ICAHT); B cells after aplasia (recovery "
        "thresholds are settings of an unconfirmed rule, docs/rules.md)."
        + " A grey band is a published figure for comparison (mean ± SD, from the abstract; "
        "its source in the label and the tooltip): another series, not these patients."
        + (
            f" For {safety.follow_up_from_values} patient(s) the source gives no follow-up day "
            "count, so the last dated value stands in for the last follow-up."
            if safety.follow_up_from_values
            else ""
        )
    )
    km, at_risk = safety.km, safety.at_risk
    # Built for the column's width (a vconcat is not fitted to it by Vega-Lite), less the room
    # for the at-risk table's row names.
    measured_width, measured = ui_width.container_width("safety-km-width", default=700)
    width = max(160, measured_width - 190)
    references = safety_rules.reference_bands(dictionary.published_figures(),
                                              list(km["group"].unique()))  # fmt: skip
    curves = ui.page_chart("safety-km", lambda: safety_charts.recovery_chart(
        km, at_risk, width=width, references=references), (*state, width))  # fmt: skip
    # The container's key says whether the width has come back from the browser, so that a
    # test (or a script) can wait for the final drawing rather than guess.
    with st.container(key=f"safety-km-chart{'' if measured else '-unmeasured'}"):
        # Described by the spec itself (its groups named): no alt to override that.
        st.vega_lite_chart(curves, key="safety-km", width="content")
    medians = safety.medians.assign(
        median=[
            "not reached" if pd.isna(m) else f"day {int(m)}" for m in safety.medians["median_day"]
        ]
    )
    st.dataframe(
        pd.DataFrame(
            {
                "Recovery": medians["group"],
                "Patients at risk": medians["n"],
                "Recovered": medians["n_events"],
                "Median time": medians["median"],
            }
        ),
        hide_index=True,
        key="safety-medians",
    )
    if not safety.left_out.empty:
        st.caption(
            f"{len(safety.left_out)} patient(s) left out of the curves: "
            + "; ".join(
                f"{n} for “{reason}”"
                for reason, n in safety.left_out["reason"].value_counts().items()
            )
            + "."
        )


def infection_section(safety: CohortSafety) -> None:
    st.subheader("Infections")
    rate = safety.rate
    if rate.exposure_days > 0:
        st.markdown(
            f"**{rate.rate:.1f} infections per 100 patient-months** "
            f"(95 % CI {rate.lower:.1f}–{rate.upper:.1f}; "
            f"{rate.events} infections over {rate.patient_months:,.0f} "
            "patient-months from the infusion to the last follow-up)"
        )
    else:
        st.caption("No follow-up from the infusion is known for these patients: no rate.")
    if safety.infections.empty:
        st.caption("No infection (grade 1 or more) is recorded for these patients.")
        return
    table = pd.DataFrame(
        {
            "Patient": safety.infections["patient_id"],
            "Infection": safety.infections["term"],
            "Grade": [display.ae_grade(g, s) for g, s in zip(
                safety.infections["grade"], safety.infections["severity"], strict=True)],
            "When": [display.day_span(s, e) for s, e in zip(
                safety.infections["onset_day"], safety.infections["end_day"], strict=True)],
            "Site": safety.infections["organ"].fillna(""),
            "Treatment": safety.infections["treatment"].fillna(""),
            "Source": safety.infections["source_kind"].map(ui.source_label),
        }
    )  # fmt: skip
    st.dataframe(table, hide_index=True, key="safety-infections")


def safety_downloads(safety: CohortSafety, synthetic: bool) -> None:
    """What the view shows, as CSV: the incidence table, the curves with their at-risk numbers and
    the infections with the rate; made when clicked."""
    from carta import exports

    stem = "carta-safety" + ("-synthetic" if synthetic else "")
    note = "synthetic" if synthetic else ""
    st.subheader("Take it away")
    if synthetic:
        st.caption("The cohort includes synthetic demo patients: the files say so.")
    rate = safety.rate
    files = (
        ("incidence", "Adverse events by grade (CSV)", safety.incidence_shown),
        ("recovery", "Recovery curves (CSV)", safety.km),
        ("infections", "Infections (CSV)",
         safety.infections.assign(rate_per_100_patient_months=rate.rate,
                                  rate_lower=rate.lower, rate_upper=rate.upper)),
    )  # fmt: skip
    for column, (name, label, frame) in zip(st.columns(len(files)), files, strict=True):
        column.download_button(
            label,
            ui.audited(
                lambda f=frame: exports.csv_text(f.assign(data=note) if note else f),
                f"{stem}-{name}.csv",
            ),
            file_name=f"{stem}-{name}.csv",
            mime="text/csv",
            key=f"download-safety-{name}",
            on_click="ignore",
        )
