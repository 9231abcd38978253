"""The cohort safety picture, from the rows of queries/safety_*.sql: incidence by grade with the
number at risk, time to recovery (Kaplan–Meier, censored at the last follow-up) and infections
per 100 patient-months. Pure functions over carta/measures/survival.py.

Design rules of this project (docs/rules.md, "Safety view"):

* Incidence: a patient counts once per category, at their worst grade; grade 0 (assessed, not
  observed) is no event. The number at risk is, for the adverse-event categories, the patients
  shown whose source records adverse events at all (a patient with no record is not known to have
  had none) and, for ICAHT and T-ICAHT, the patients whose counts allow a grade.
* Recovery: time from the infusion (day 0) to the recovery day of the patients at risk of it
  (severe neutropenia: ANC < 0.5 x10^9/L, recovery by CIBMTR, clinical-rules §4.3 [C]; platelets
  below 20 x10^9/L, recovery by T-ICAHT, Rejeski 2025 [C]; B-cell aplasia, recovery by the
  store's settings [U]), censored at the last follow-up day.
* Infections per 100 patient-months: dated infections (grade >= 1) from day 0 to the last
  follow-up, over the follow-up from day 0 of the patients with a known follow-up.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from carta.measures import survival
from carta.membership import among

CATEGORIES = ("CRS", "ICANS", "ICAHT", "ICAHT late", "T-ICAHT", "T-ICAHT late", "Infection",
              "LICATS")  # fmt: skip
CATEGORY_LABELS = {
    "CRS": "CRS (cytokine release syndrome)",
    "ICANS": "ICANS (neurotoxicity)",
    "ICAHT": "ICAHT early, days 0–30 (neutrophils)",
    "ICAHT late": "ICAHT late, after day 30 (neutrophils)",
    "T-ICAHT": "T-ICAHT early, days 0–30 (platelets)",
    "T-ICAHT late": "T-ICAHT late, days 31–100 (platelets)",
    "Infection": "Infections",
    "LICATS": "LICATS (local inflammation, not a flare)",
}
GRADED_FROM_COUNTS = ("ICAHT", "ICAHT late", "T-ICAHT", "T-ICAHT late")

# Outcome label -> (at-risk flag, recovery-day column) in queries/safety_recovery_times.sql.
RECOVERIES = {
    "Neutrophils ≥ 0.5 ×10⁹/L": ("anc_severe", "anc_recovery_day"),
    "Platelets ≥ 20 ×10⁹/L": ("plt_low", "plt_recovery_day"),
    "B cells (aplasia ended)": ("bcell_at_risk", "bcell_recovery_day"),
}


def with_event_records(worst: pd.DataFrame) -> set[str]:
    """The patients whose source records adverse events at all (any event, grade 0 included):
    a patient without any record is not known to have had none."""
    recorded = worst[~worst["category"].isin(GRADED_FROM_COUNTS)]
    return set(recorded["patient_id"])


def incidence(worst: pd.DataFrame) -> pd.DataFrame:
    """Patients by worst grade per category, with n at risk and % (survival.incidence_by_grade)."""
    recorded = len(with_event_records(worst))
    at_risk = {category: recorded for category in CATEGORIES}
    for category in GRADED_FROM_COUNTS:
        at_risk[category] = int(worst.loc[worst["category"] == category, "patient_id"].nunique())
    shown = worst[worst["category"].isin(CATEGORIES)]
    table = survival.incidence_by_grade(shown[["patient_id", "category", "grade"]], at_risk,
                                        categories=list(CATEGORIES))  # fmt: skip
    # Events the source reports with a severity and no grade count as events ("any"), in a row
    # of their own: never as a grade.
    ungraded = shown["ungraded"].fillna(False).astype(bool) if "ungraded" in shown else False
    only = shown[ungraded & ~shown["grade"].fillna(0).ge(1)].groupby("category").size()
    extra = pd.DataFrame({"category": list(CATEGORIES), "grade": "not graded",
                          "n": [int(only.get(c, 0)) for c in CATEGORIES]})  # fmt: skip
    extra["n_at_risk"] = extra["category"].map(at_risk)
    any_rows = table["grade"] == "any"
    table.loc[any_rows, "n"] += table.loc[any_rows, "category"].map(only).fillna(0).astype(int)
    for frame, rows in ((extra, extra.index == extra.index), (table, any_rows)):
        risk = frame.loc[rows, "n_at_risk"].astype("float64")
        share = 100 * frame.loc[rows, "n"].astype("float64") / risk.where(risk > 0)
        frame.loc[rows, "percent"] = share.to_numpy(dtype="float64", na_value=np.nan)
    return pd.concat([table, extra], ignore_index=True)


def recovery_durations(rows: pd.DataFrame) -> survival.TimeToEvent:
    """Per recovery and patient at risk of it: the duration from day 0 and whether the recovery
    was observed (else censored at the last follow-up); with the patients left out and why."""
    rows = rows.assign(bcell_at_risk=rows["bcell_onset_day"].notna())
    durations, left_out = [], []
    for outcome, (flag, day) in RECOVERIES.items():
        at_risk = rows[rows[flag].fillna(False).astype(bool)]
        frame = pd.DataFrame(
            {
                "patient_id": at_risk["patient_id"],
                "outcome": outcome,
                "event_day": at_risk[day],
                "censor_day": at_risk["follow_up_day"],
            }
        )
        result = survival.time_to_event(frame, start=0)
        durations.append(result.durations)
        left_out.append(result.left_out.assign(outcome=outcome))
    return survival.TimeToEvent(
        pd.concat(durations, ignore_index=True), pd.concat(left_out, ignore_index=True)
    )


def infection_rate(
    infections: pd.DataFrame, rows: pd.DataFrame, recorded: set[str] | None = None
) -> survival.Rate:
    """Dated infections from day 0 to the last follow-up per 100 patient-months of follow-up,
    over the patients whose adverse events are recorded (`recorded`; None: every patient)."""
    if recorded is not None:
        rows = rows[among(rows["patient_id"], recorded)]
    follow = rows.set_index("patient_id")["follow_up_day"].dropna()
    follow = follow[follow >= 0]
    last = infections["patient_id"].map(follow)
    counted = infections["onset_day"].notna() & infections["onset_day"].ge(0) & last.notna()
    counted &= infections["onset_day"].le(last)
    return survival.rate_per_100_patient_months(int(counted.sum()), float(follow.sum()))


# Published figures drawn behind a recovery curve: measure of data/reference/published_figures.csv
# -> the recovery group they compare with.
REFERENCE_MEASURES = {"bcell_reappearance_day": "B cells (aplasia ended)"}


def reference_bands(figures: pd.DataFrame, groups: list[str]) -> pd.DataFrame:
    """The confirmed ([C]) published means ± SD of the recovery days whose group is drawn, as
    bands (day_from, day_to) with their full label and a short one that names the source.

    Mackensen 2022 (B cells back after 110 ± 32 days) -> a band from day 78 to day 142."""
    columns = ["day_from", "day_to", "label", "short"]
    wanted = figures[figures["measure"].map(REFERENCE_MEASURES).isin(groups)
                     & figures["status"].eq("[C]") & figures["spread"].notna()]  # fmt: skip
    if wanted.empty:
        return pd.DataFrame(columns=columns)
    author = wanted["source"].str.extract(r"^(\S+)")[0]
    year = wanted["source"].str.extract(r"(\d{4});")[0]
    who = author + " " + year + " (" + wanted["indication"].fillna("all") + ", n = " + wanted[
        "n_patients"].astype(int).astype(str) + ")"  # fmt: skip
    mean, sd = wanted["value"].astype(float), wanted["spread"].astype(float)
    return pd.DataFrame({
        "day_from": (mean - sd).clip(lower=0), "day_to": mean + sd,
        "label": wanted["figure"] + " (" + wanted["source"] + "; " + wanted["status"] + ")",
        "short": who + ": " + mean.map("{:g}".format) + " ± " + sd.map("{:g}".format) + " d",
    })[columns].reset_index(drop=True)  # fmt: skip
