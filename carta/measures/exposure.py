"""Glucocorticoid and immunosuppressant exposure from medication events.

"Drug-free remission" is the claim every CAR T paper in autoimmune disease makes, so the dose a
patient is on at a visit, the cumulative dose and the days off treatment are figures in their own
right, and inputs of DORIS 2021 (prednisone <= 5 mg/day) and LLDAS (<= 7.5 mg/day).

Rules as implemented (docs/rules.md, "Exposure"):
- A glucocorticoid's dose becomes a prednisone-equivalent dose with the equivalences of
  data/reference/glucocorticoids.csv (5 mg prednisolone = 4 mg methylprednisolone = 0.75 mg
  dexamethasone = 5 mg prednisone) [U: standard equivalence tables, check before relying on it].
- Only doses in mg (or g) per day, or a single dose on one day, or a total over a dated span
  are converted; a dose per kg or per m² needs the weight or the body surface, and stays
  unknown rather than being guessed. A dose that is unknown makes every figure resting on it
  unknown (never 0).
- A medication with a start day and no end day is taken to run to the patient's last day [U:
  design rule]; one without a start day is counted as undated and placed nowhere.
- Immunosuppression counts the classes in IMMUNOSUPPRESSION_CLASSES [U: design rule; a
  setting]: antimalarials (allowed by DORIS), immunoglobulin and growth factors are not counted.
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np
import pandas as pd

from carta import dictionary
from carta.measures.numbers import signif

GLUCOCORTICOID = "glucocorticoid"
SIGNIF_DIGITS = 12
IMMUNOSUPPRESSION_CLASSES = ("glucocorticoid", "immunosuppressant", "biologic")

# Units whose dose is already a daily amount, to the factor that makes it mg/day.
_PER_DAY_UNITS = {"mg/day": 1.0, "mg/d": 1.0, "mg/24h": 1.0, "mg per day": 1.0,
                  "g/day": 1000.0, "g/d": 1000.0}  # fmt: skip
_MASS_UNITS = {"mg": 1.0, "g": 1000.0}


@cache
def _glucocorticoid_factors() -> dict[str, float | None]:
    table = dictionary.glucocorticoids()
    return {
        str(drug).lower(): (None if pd.isna(mg) else 5.0 / float(mg))
        for drug, mg in zip(table["drug"], table["mg_equivalent_to_5_mg_prednisone"], strict=True)
    }


@cache
def _other_classes() -> dict[str, str]:
    table = dictionary.drug_classes()
    return dict(zip(table["drug"].str.lower(), table["drug_class"], strict=True))


def _named(name: object, names) -> str | None:
    """The first of `names` that the medication's name contains as a word ('Prednisolone
    10 mg' -> 'prednisolone'), longest first so that 'mycophenolate mofetil' wins."""
    if not isinstance(name, str):
        return None
    text = name.lower()
    for candidate in sorted(names, key=len, reverse=True):
        if re.search(rf"(?<![a-z]){re.escape(candidate)}(?![a-z])", text):
            return candidate
    return None


def drug_class(name: object, recorded_class: object = None) -> str:
    """The class of a medication: 'glucocorticoid' when its name is one of the glucocorticoids
    or its recorded class says so, else the recorded class, else the class of a drug its name
    contains (data/reference/drug_classes.csv), else 'other'."""
    recorded = recorded_class.strip().lower() if isinstance(recorded_class, str) else ""
    if recorded == GLUCOCORTICOID or _named(name, _glucocorticoid_factors()):
        return GLUCOCORTICOID
    if recorded:
        return recorded
    found = _named(name, _other_classes())
    return _other_classes()[found] if found else "other"


def prednisone_factor(name: object) -> float | None:
    """mg prednisone per mg of the glucocorticoid the name contains; None when the name is none
    of the table's or the drug has no systemic equivalent (budesonide)."""
    found = _named(name, _glucocorticoid_factors())
    return _glucocorticoid_factors()[found] if found else None


def daily_mg(dose: object, unit: object, basis: object, start: object, end: object) -> float:
    """The dose in mg per day, NaN when it cannot be known from what is recorded.

    >>> daily_mg(10, "mg/day", None, 0, 30)
    10.0
    >>> daily_mg(500, "mg", "per_dose", 3, 3)   # one pulse on one day
    500.0
    >>> daily_mg(1, "mg/kg/day", None, 0, 30)   # needs the weight: unknown
    nan
    """
    if dose is None or pd.isna(dose) or not isinstance(unit, str):
        return np.nan
    key = " ".join(unit.strip().lower().split())
    if key in _PER_DAY_UNITS:
        return float(dose) * _PER_DAY_UNITS[key]
    if key not in _MASS_UNITS:
        return np.nan
    mg = float(dose) * _MASS_UNITS[key]
    known = not pd.isna(start) and not pd.isna(end)
    # On a single day, a dose in mg is that day's dose whatever its basis.
    if basis == "per_day" or (known and int(start) == int(end)):
        return mg
    if basis == "total" and known:
        return mg / (int(end) - int(start) + 1)
    return np.nan


def exposure_periods(events: pd.DataFrame, last_days: pd.Series) -> pd.DataFrame:
    """One row per dated medication event: patient_id, name, drug_class, start_day, end_day
    (an open end runs to the patient's last day), mg_per_day (the recorded dose per day) and
    pred_eq_mg_per_day (for a glucocorticoid: NaN when unknown; for other classes: NaN).

    `events` has the columns of the events table; `last_days` maps patient_id -> last day.
    """
    columns = ["patient_id", "name", "drug_class", "start_day", "end_day", "mg_per_day",
               "pred_eq_mg_per_day"]  # fmt: skip
    if events.empty:
        return pd.DataFrame(columns=columns)
    meds = events[(events["kind"] == "medication") & events["start_day"].notna()].copy()
    if meds.empty:
        return pd.DataFrame(columns=columns)
    recorded = meds["drug_class"] if "drug_class" in meds else pd.Series(None, index=meds.index)
    # Per distinct name and class, not per row: a registry's events name a few dozen drugs.
    pairs = list(zip(meds["name"], recorded.astype(object).where(recorded.notna(), None),
                     strict=True))  # fmt: skip
    classes = {pair: drug_class(*pair) for pair in set(pairs)}
    meds["drug_class"] = [classes[pair] for pair in pairs]
    last = meds["patient_id"].map(last_days).astype("Float64")
    start = meds["start_day"].astype("Float64")
    end = meds["end_day"].astype("Float64")
    meds["end_day"] = end.fillna(last.where(last >= start, start))
    basis = meds["dose_basis"] if "dose_basis" in meds else pd.Series(None, index=meds.index)
    meds["mg_per_day"] = [
        daily_mg(d, u, b, s, e)
        for d, u, b, s, e in zip(meds["dose"], meds["dose_unit"], basis, meds["start_day"],
                                 meds["end_day"], strict=True)
    ]  # fmt: skip
    factors = {name: prednisone_factor(name) for name in meds["name"].unique()}
    factor = meds["name"].map(factors).astype("float64")
    is_gc = meds["drug_class"] == GLUCOCORTICOID
    # Rounded as the rules compare (0.75 mg dexamethasone x 5/0.75 is 5, not 5.000000000000001).
    meds["pred_eq_mg_per_day"] = signif(
        np.where(is_gc, meds["mg_per_day"] * factor, np.nan), SIGNIF_DIGITS
    )
    meds["start_day"] = meds["start_day"].astype("int64")
    meds["end_day"] = meds["end_day"].astype("int64")
    return meds[columns].sort_values(["patient_id", "start_day"]).reset_index(drop=True)


def doses_at(periods: pd.DataFrame, points: pd.DataFrame) -> pd.Series:
    """The prednisone-equivalent dose (mg/day) on each (patient_id, day) of `points`: the sum
    over the glucocorticoid periods that cover the day, 0 when none does, NaN when one that
    does has an unknown dose. Indexed as `points`."""
    gc = periods[periods["drug_class"] == GLUCOCORTICOID]
    out = pd.Series(0.0, index=points.index)
    if gc.empty or points.empty:
        return out
    pairs = points.reset_index().merge(gc, on="patient_id", how="inner")
    covering = pairs[(pairs["start_day"] <= pairs["day"]) & (pairs["day"] <= pairs["end_day"])]
    # A day with one unknown covering dose has an unknown dose: sum() alone would read it as 0.
    dose = covering["pred_eq_mg_per_day"]
    unknown = dose.isna().groupby(covering["index"]).any()
    total = dose.groupby(covering["index"]).sum()
    out.loc[total.index] = total.where(~unknown, np.nan)
    return out


def daily_series(periods: pd.DataFrame, first_day: int, last_day: int) -> pd.DataFrame:
    """One patient's prednisone-equivalent dose for every day from first_day to last_day:
    day, pred_eq_mg_per_day (NaN on a day with an unknown dose): the course lane's step line."""
    days = pd.DataFrame({"day": np.arange(int(first_day), int(last_day) + 1)})
    points = days.assign(patient_id=periods["patient_id"].iloc[0] if len(periods) else "")
    return days.assign(pred_eq_mg_per_day=doses_at(periods, points).to_numpy())


def patient_exposure(events: pd.DataFrame, last_days: pd.Series, from_day: int = 0) -> pd.DataFrame:
    """One row per patient of `last_days` (patient_id -> last day), as the table
    patient_exposure holds it.

    The cumulative dose counts the days from `from_day` (the infusion) to the last day and is
    NaN when a glucocorticoid over that span has an unknown dose. Days off = last day minus
    the last day of the last period, 0 when a period reaches the last day, NaN when none is
    recorded (which is not the same as none given: `withdrawal_reported` says when the source
    reports a withdrawal without a day).
    """
    periods = exposure_periods(events, last_days)
    last = periods["patient_id"].map(last_days).astype("Float64")
    gc = periods["drug_class"] == GLUCOCORTICOID
    suppressing = periods["drug_class"].isin(IMMUNOSUPPRESSION_CLASSES)
    days = periods["end_day"].clip(upper=last) - periods["start_day"].clip(lower=from_day) + 1
    counted = gc & days.fillna(0).gt(0)
    dose = periods["pred_eq_mg_per_day"]
    frame = periods.assign(
        gc=gc, suppressing=suppressing, unknown=gc & dose.isna(),
        counted_unknown=counted & dose.isna(), mg=(dose * days).where(counted, 0.0),
        gc_end=periods["end_day"].where(gc), is_end=periods["end_day"].where(suppressing),
    )  # fmt: skip
    by = frame.groupby("patient_id")
    out = pd.DataFrame(index=pd.Index(last_days.index, name="patient_id"))
    out["last_day"] = last_days.astype("Int64")
    out["glucocorticoid_events"] = by["gc"].sum()
    out["glucocorticoid_doses_unknown"] = by["unknown"].sum()
    out["cumulative_pred_eq_mg"] = by["mg"].sum().where(~by["counted_unknown"].any())
    out["cumulative_from_day"] = from_day
    out["last_glucocorticoid_day"] = by["gc_end"].max()
    out["immunosuppressant_events"] = by["suppressing"].sum()
    out["last_immunosuppressant_day"] = by["is_end"].max()
    out[["glucocorticoid_events", "glucocorticoid_doses_unknown", "immunosuppressant_events"]] = (
        out[["glucocorticoid_events", "glucocorticoid_doses_unknown", "immunosuppressant_events"]]
        .fillna(0)
        .astype("int64")
    )
    # No glucocorticoid recorded over the span: nothing to add up, so 0 mg (not unknown).
    out["cumulative_pred_eq_mg"] = out["cumulative_pred_eq_mg"].fillna(
        pd.Series(0.0, index=out.index).where(~out.index.isin(periods.loc[counted, "patient_id"]))
    )
    ends = pd.DataFrame({"patient_id": out.index, "day": out["last_day"].to_numpy()})
    dated = ends["day"].notna()
    at_last = doses_at(periods, ends[dated].astype({"day": "int64"}))
    out["pred_eq_mg_at_last"] = np.nan
    out.loc[ends.loc[dated, "patient_id"].to_numpy(), "pred_eq_mg_at_last"] = at_last.to_numpy()
    for end, off in (
        ("last_glucocorticoid_day", "days_off_glucocorticoids"),
        ("last_immunosuppressant_day", "days_off_immunosuppression"),
    ):
        out[off] = (out["last_day"].astype("Float64") - out[end].astype("Float64")).clip(lower=0)
        out[end] = out[end].astype("Int64")
        out[off] = out[off].astype("Int64")  # fmt: skip
    out.loc[out["last_day"].isna(), "cumulative_pred_eq_mg"] = np.nan
    withdrawn = set(events.loc[events["kind"] == "withdrawal", "patient_id"])
    out["withdrawal_reported"] = out.index.isin(list(withdrawn))
    return out.reset_index()


def dose_steps(
    periods: pd.DataFrame, first_day: int, last_day: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One patient's prednisone-equivalent dose as a step line over first_day..last_day, drawn
    with step-after interpolation: (steps, unknown).

    `steps` has one row where the dose changes (day, pred_eq_mg_per_day, run) and, at the end
    of each known stretch, a closing row on the next day, so that the last step has its width;
    `run` numbers the known stretches, so that the line breaks where the dose is unknown and is
    never drawn through it as 0. `unknown` has one row per unknown stretch (start_day, end_day).

    >>> periods = pd.DataFrame({"patient_id": "P", "drug_class": GLUCOCORTICOID,
    ...     "start_day": [0, 5], "end_day": [4, 6], "pred_eq_mg_per_day": [10.0, np.nan]})
    >>> steps, unknown = dose_steps(periods, -1, 8)
    >>> list(steps.itertuples(index=False, name=None))
    [(-1, 0.0, 0), (0, 10.0, 0), (5, 10.0, 0), (7, 0.0, 1), (9, 0.0, 1)]
    >>> unknown.values.tolist()
    [[5, 6]]
    """
    series = daily_series(periods, first_day, last_day)
    dose = series["pred_eq_mg_per_day"]
    known = dose.notna()
    # A new stretch starts on every known day that follows an unknown one (and on the first).
    starts = known & ~known.shift(fill_value=False)
    run = starts.cumsum() - 1
    changed = dose.ne(dose.shift()) | starts
    steps = series[known & changed].assign(run=run[known & changed])
    ends = known & ~known.shift(-1, fill_value=False)
    closing = series[ends].assign(day=series.loc[ends, "day"] + 1, run=run[ends])
    steps = pd.concat([steps, closing]).sort_values(["run", "day"], kind="stable")
    gaps = ~known
    gap_start = gaps & ~gaps.shift(fill_value=False)
    gap_end = gaps & ~gaps.shift(-1, fill_value=False)
    unknown = pd.DataFrame({"start_day": series.loc[gap_start, "day"].to_numpy(),
                            "end_day": series.loc[gap_end, "day"].to_numpy()})  # fmt: skip
    steps = steps.astype({"day": "int64", "run": "int64"}).reset_index(drop=True)
    return steps[["day", "pred_eq_mg_per_day", "run"]], unknown
