"""Time-to-event and safety summaries of a cohort: Kaplan–Meier recovery curves, event rates per
100 patient-months and incidence by worst grade.

Sources and methods:

* Kaplan–Meier product-limit estimator (Kaplan EL, Meier P. Nonparametric estimation from
  incomplete observations. J Am Stat Assoc 1958;53:457-481), computed by scikit-survival
  (``sksurv.nonparametric.kaplan_meier_estimator``; Pölsterl S. scikit-survival: a library for
  time-to-event analysis built on top of scikit-learn. J Mach Learn Res 2020;21(212):1-6).
  Ties: an event and a censoring on the same day count the censored patient as still at risk on
  that day (events before censorings, the usual KM convention).
* Pointwise confidence interval: Greenwood's variance on the log(-log S) scale ("log-log",
  Kalbfleisch & Prentice 1980; Borgan Ø, Liestøl K. Scand J Stat 1990;17:35-41), as computed by
  scikit-survival; it stays inside [0, 1]. It matches lifelines' ``KaplanMeierFitter`` default.
  lifelines itself is not used: lifelines 0.30.3 (the latest release) requires pandas < 3
  (lifelines#1685 is open), which cannot be installed with Carta's pandas 3.1.
* Median time and its interval: the first day on which the estimate (resp. the interval's upper
  and lower survival bands) reaches 0.5, i.e. the inversion of the pointwise interval (Brookmeyer
  R, Crowley J. Biometrics 1982;38:29-41), as in lifelines' ``median_survival_times`` and R's
  ``survfit``. Where S(t) equals 0.5 exactly over a stretch, this returns its first day (R
  returns the midpoint of the stretch); a limit that is never reached is missing (not estimable).
* Rates: events per 100 patient-months, one month = 30.4375 days (365.25 / 12, the mean Julian
  month), with the exact Poisson interval (Garwood F. Biometrika 1936;28:437-442) through its
  chi-square form: lower = chi2(alpha/2; 2k) / 2, upper = chi2(1 - alpha/2; 2k + 2) / 2.
* Incidence by grade: patients with a worst grade g, with a worst grade >= 3 and with any grade
  of each category, over the number of patients at risk (a design of this project's safety page).

"Recovery" curves: the page shows time to ANC, platelet or B-cell recovery, so
:func:`kaplan_meier` returns the cumulative proportion recovered, 1 - S(t), with its interval
(``cumulative``, ``cumulative_lower``, ``cumulative_upper``), next to S(t) itself (``survival``).

Conventions shared with the other measures: day 0 = CAR T infusion; days are whole numbers;
outputs use nullable dtypes (``Int64`` days and counts, ``float64`` estimates with NaN = none,
``boolean`` flags) and an empty input gives an empty frame with the same columns and dtypes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

SOURCE = (
    "Kaplan & Meier 1958 (scikit-survival), log-log Greenwood interval, Brookmeyer & Crowley 1982 "
    "(median), exact Poisson interval (Garwood 1936)"
)

DAYS_PER_MONTH = 30.4375  # 365.25 / 12: the mean Julian month
CONF_LEVEL = 0.95
AT_RISK_DAYS = (0, 30, 60, 90, 180, 365)
ALL_PATIENTS = "All patients"  # the group's name when the curve is not split
MISSING_GROUP = "Not recorded"  # the group of rows whose group value is missing

# Reasons a patient is left out of a time-to-event analysis (``TimeToEvent.left_out``).
NO_START = "no start day"
NO_EVENT_OR_CENSOR = "neither an event day nor a last follow-up day"
BEFORE_START = "event or last follow-up before the start day"
REASONS = (NO_START, NO_EVENT_OR_CENSOR, BEFORE_START)

# Worst-grade labels of the incidence table, in order: each grade, then the two summaries.
GRADES = ("1", "2", "3", "4", "5")
GRADE_3_PLUS = "≥3"
ANY_GRADE = "any"
GRADE_LABELS = (*GRADES, GRADE_3_PLUS, ANY_GRADE)

_TOLERANCE = 1e-9  # products of fractions such as 3/4 x 2/3 are not exactly 0.5 in floating point


# --- durations ------------------------------------------------------------------------------------


class TimeToEvent(NamedTuple):
    """What :func:`time_to_event` returns: the durations and the patients left out."""

    durations: pd.DataFrame  # patient_id, duration (Int64), observed (boolean), other columns
    left_out: pd.DataFrame  # patient_id, reason (one of REASONS)

    @property
    def left_out_counts(self) -> dict[str, int]:
        """How many patients were left out for each reason (only reasons that occur)."""
        counts = self.left_out["reason"].value_counts()
        return {reason: int(counts[reason]) for reason in REASONS if reason in counts.index}


def time_to_event(
    frame: pd.DataFrame,
    *,
    start: str | int = "start_day",
    event: str = "event_day",
    censor: str = "censor_day",
) -> TimeToEvent:
    """Per patient, the days from the start to the event or, failing that, to the last follow-up.

    ``frame`` has one row per patient: ``patient_id``, the ``event`` day (missing = no event
    seen), the ``censor`` day (last follow-up) and the ``start`` day (a column name, or a day
    number for every patient; day 0 = infusion). Days are whole numbers. Returns:

    * ``durations``: one row per usable patient, sorted by ``patient_id``: ``duration`` (Int64,
      days) = event - start when the event day is known (``observed`` True), otherwise censor -
      start (``observed`` False, right-censored at last follow-up). Every other column of
      ``frame`` (e.g. a grouping column) is carried through unchanged.
    * ``left_out``: ``patient_id`` and ``reason`` of each patient left out: no start day,
      neither an event nor a last follow-up day, or a negative duration (the day used is before
      the start). ``left_out_counts`` gives the number per reason.

    An event day after the last follow-up day is kept as observed (the event was seen).
    Raises ``ValueError`` on a missing column or patient_id, a repeated patient or a fractional
    day.
    """
    names = [event, censor] + ([start] if isinstance(start, str) else [])
    missing = [c for c in ["patient_id", *names] if c not in frame.columns]
    if missing:
        raise ValueError(f"time-to-event input lacks the column(s) {missing}")
    if frame["patient_id"].isna().any():
        raise ValueError("time-to-event input with a missing patient_id")
    repeated = frame["patient_id"][frame["patient_id"].duplicated()]
    if len(repeated):
        raise ValueError(
            f"patient {repeated.iloc[0]!r} has more than one row; give one row per patient"
        )
    frame = frame.sort_values("patient_id", kind="stable").reset_index(drop=True)

    event_day = _whole_days(frame[event], event)
    censor_day = _whole_days(frame[censor], censor)
    if isinstance(start, str):
        start_day = _whole_days(frame[start], start)
    else:
        start_day = np.full(len(frame), float(_whole_days(pd.Series([start]), "start")[0]))

    observed = ~np.isnan(event_day)
    end = np.where(observed, event_day, censor_day)
    duration = end - start_day
    reason = np.select(
        [np.isnan(start_day), np.isnan(end), duration < 0],
        [NO_START, NO_EVENT_OR_CENSOR, BEFORE_START],
        default="",
    )
    keep = reason == ""

    others = [c for c in frame.columns if c not in ("patient_id", *names)]
    kept = frame.loc[keep].reset_index(drop=True)
    durations = pd.DataFrame(
        {
            "patient_id": kept["patient_id"],
            "duration": pd.array(duration[keep].astype(np.int64), dtype="Int64"),
            "observed": pd.array(observed[keep], dtype="boolean"),
            **{column: kept[column] for column in others},
        }
    )
    left_out = pd.DataFrame(
        {
            "patient_id": frame.loc[~keep, "patient_id"].reset_index(drop=True),
            "reason": pd.Series(reason[~keep], dtype="str"),
        }
    )
    return TimeToEvent(durations, left_out)


def _whole_days(column: pd.Series, name: str) -> np.ndarray:
    values = pd.to_numeric(column).astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    known = values[~np.isnan(values)]
    bad = known[~np.isfinite(known) | (known != np.round(known))]
    if bad.size:
        raise ValueError(f"{name} must hold whole numbers (days, grades), got {bad[0]!r}")
    return values


# --- Kaplan–Meier ---------------------------------------------------------------------------------

KM_COLUMNS = {
    "group": "str",
    "day": "Int64",
    "n_at_risk": "Int64",
    "n_events": "Int64",
    "n_censored": "Int64",
    "survival": "float64",
    "cumulative": "float64",
    "cumulative_lower": "float64",
    "cumulative_upper": "float64",
}


def kaplan_meier(
    durations: pd.DataFrame, group: str | None = None, *, conf_level: float = CONF_LEVEL
) -> pd.DataFrame:
    """The Kaplan–Meier estimate of each group, as a tidy frame for a step chart.

    ``durations`` has ``duration`` (whole days >= 0) and ``observed`` (True = event, False =
    censored), e.g. :func:`time_to_event`'s ``durations``; ``group`` names a column to split by
    (missing values form the group ``MISSING_GROUP``); without it there is one group,
    ``ALL_PATIENTS``. Groups come in sorted order (as text), ``MISSING_GROUP`` last.

    Per group, the first row is day 0 before anything happens (``survival`` 1.0, ``cumulative``
    0.0, interval 0-0, ``n_at_risk`` = the group's patients, no events or censorings); then one
    row per day on which at least one patient had the event or was censored (day 0 again when
    that happens on day 0), sorted by day:

    * ``n_at_risk``: patients whose duration is >= the day (censored that day included);
    * ``n_events``, ``n_censored``: patients with the event, resp. censored, on that day;
    * ``survival``: S(t), the proportion not yet recovered just after the day;
    * ``cumulative``: 1 - S(t), the cumulative proportion recovered (what the page shows), with
      its pointwise ``conf_level`` interval ``cumulative_lower``-``cumulative_upper`` (1 minus the
      log-log Greenwood interval of S, flipped). The interval is NaN where S(t) = 0 (everyone
      has recovered): Greenwood's variance is not defined there (R's survfit gives NA too).

    Draw it with step-after interpolation: each value holds from its day until the next row. The
    curve ends at the group's last duration. Raises ``ValueError`` on missing columns, missing,
    negative or fractional durations, or a missing ``observed``.
    """
    from sksurv.nonparametric import kaplan_meier_estimator  # sklearn import: ~1 s, on use only

    needed = ["duration", "observed"] + ([group] if group is not None else [])
    missing = [c for c in needed if c not in durations.columns]
    if missing:
        raise ValueError(f"Kaplan–Meier input lacks the column(s) {missing}")
    if not 0 < conf_level < 1:
        raise ValueError(f"conf_level must be between 0 and 1, got {conf_level!r}")
    days = _whole_days(durations["duration"], "duration")
    if np.isnan(days).any() or (days < 0).any():
        raise ValueError("Kaplan–Meier input with a missing or negative duration")
    if durations["observed"].isna().any():
        raise ValueError("Kaplan–Meier input with a missing 'observed' flag")
    observed = durations["observed"].to_numpy(dtype=bool)
    labels = _group_labels(durations, group)

    pieces = []
    order = sorted(set(labels) - {MISSING_GROUP}) + [MISSING_GROUP] * (MISSING_GROUP in labels)
    for label in order:
        mine = labels == label
        t, e = days[mine], observed[mine]
        times, survival, interval = kaplan_meier_estimator(
            e, t, conf_level=conf_level, conf_type="log-log"
        )
        n_at_risk = len(t) - np.searchsorted(np.sort(t), times, side="left")
        n_events = np.bincount(np.searchsorted(times, t[e]), minlength=len(times))
        n_censored = np.bincount(np.searchsorted(times, t[~e]), minlength=len(times))
        pieces.append(
            pd.DataFrame(
                {
                    "group": label,
                    "day": np.r_[0, times].astype(np.int64),
                    "n_at_risk": np.r_[len(t), n_at_risk],
                    "n_events": np.r_[0, n_events],
                    "n_censored": np.r_[0, n_censored],
                    "survival": np.r_[1.0, survival],
                    "cumulative": 1.0 - np.r_[1.0, survival],
                    "cumulative_lower": 1.0 - np.r_[1.0, interval[1]],
                    "cumulative_upper": 1.0 - np.r_[1.0, interval[0]],
                }
            )
        )
    if not pieces:
        return _empty(KM_COLUMNS)
    result = pd.concat(pieces, ignore_index=True)
    # 1 - S can be -0.0 or 1e-17 off; clip the interval into [0, 1].
    for column in ("cumulative", "cumulative_lower", "cumulative_upper"):
        result[column] = result[column].clip(0.0, 1.0)
    # Where everybody has had the event (S = 0) Greenwood's variance is not defined: no interval
    # (as R's survfit), rather than scikit-survival's 0-0, which would read as certainty.
    everyone = result["survival"] <= _TOLERANCE
    result.loc[everyone, ["cumulative_lower", "cumulative_upper"]] = np.nan
    return result.astype(KM_COLUMNS)


def _group_labels(frame: pd.DataFrame, group: str | None) -> np.ndarray:
    if group is None:
        return np.full(len(frame), ALL_PATIENTS, dtype=object)
    values = frame[group]
    return np.where(values.isna(), MISSING_GROUP, values.astype(str)).astype(object)


AT_RISK_COLUMNS = {
    "group": "str",
    "day": "Int64",
    "n_at_risk": "Int64",
    "n_events_before": "Int64",
    "n_censored_before": "Int64",
    "cumulative": "float64",
}


def at_risk_table(km: pd.DataFrame, days: Iterable[int] = AT_RISK_DAYS) -> pd.DataFrame:
    """The number at risk under a KM chart: per group (in ``km``'s order) and asked day.

    ``km`` is :func:`kaplan_meier`'s output. Per group and day d (whole days >= 0, in the order
    given):

    * ``n_at_risk``: patients still followed and not recovered at the start of day d (duration
      >= d); 0 after the last patient's duration;
    * ``n_events_before``, ``n_censored_before``: events, resp. censorings, on days before d, so
      that n_at_risk + n_events_before + n_censored_before = the group's patients;
    * ``cumulative``: the cumulative proportion recovered by the end of day d (the step
      function's value at d); NaN after the group's last duration, where the estimate is not
      defined.
    """
    days = [int(d) for d in days]
    if any(d < 0 for d in days):
        raise ValueError(f"at-risk days must be >= 0, got {days}")
    rows = []
    for label, curve in km.groupby("group", sort=False):
        day = curve["day"].to_numpy(dtype=np.int64)
        at_risk = curve["n_at_risk"].to_numpy(dtype=np.int64)
        events = np.cumsum(curve["n_events"].to_numpy(dtype=np.int64))
        censored = np.cumsum(curve["n_censored"].to_numpy(dtype=np.int64))
        cumulative = curve["cumulative"].to_numpy(dtype=float)
        for d in days:
            first_on_or_after = np.searchsorted(day, d, side="left")
            last_on_or_before = np.searchsorted(day, d, side="right") - 1
            before = first_on_or_after - 1  # the rows of days < d (the start row has none)
            rows.append(
                {
                    "group": label,
                    "day": d,
                    "n_at_risk": int(at_risk[first_on_or_after]) if first_on_or_after < len(day)
                    else 0,
                    "n_events_before": int(events[before]) if before >= 0 else 0,
                    "n_censored_before": int(censored[before]) if before >= 0 else 0,
                    "cumulative": cumulative[last_on_or_before] if d <= day[-1] else np.nan,
                }
            )  # fmt: skip
    if not rows:
        return _empty(AT_RISK_COLUMNS)
    return pd.DataFrame(rows).astype(AT_RISK_COLUMNS)


MEDIAN_COLUMNS = {
    "group": "str",
    "n": "Int64",
    "n_events": "Int64",
    "median_day": "Int64",
    "median_lower": "Int64",
    "median_upper": "Int64",
}


def median_time(km: pd.DataFrame) -> pd.DataFrame:
    """The median time to the event (recovery) per group, with its interval where estimable.

    ``km`` is :func:`kaplan_meier`'s output (its ``conf_level`` gives the interval's). Per group
    (in ``km``'s order): ``n`` patients, ``n_events``, and

    * ``median_day``: the first day on which the cumulative proportion recovered reaches 0.5
      (S(t) <= 0.5); NA (None) when the curve never reaches it ("not reached");
    * ``median_lower``: the first day on which the interval's upper cumulative limit reaches 0.5;
    * ``median_upper``: the first day on which its lower limit does; NA when it never does (the
      upper limit is not estimable; common in small cohorts).

    Brookmeyer & Crowley (1982), by inversion of the pointwise log-log interval.
    """
    rows = []
    for label, curve in km.groupby("group", sort=False):
        day = curve["day"].to_numpy(dtype=np.int64)

        def first_day(values: pd.Series, day: np.ndarray = day) -> int | None:
            reached = np.flatnonzero(values.to_numpy(dtype=float) >= 0.5 - _TOLERANCE)
            return int(day[reached[0]]) if reached.size else None

        rows.append(
            {
                "group": label,
                "n": int(curve["n_at_risk"].iloc[0]),
                "n_events": int(curve["n_events"].sum()),
                "median_day": first_day(curve["cumulative"]),
                "median_lower": first_day(curve["cumulative_upper"]),
                "median_upper": first_day(curve["cumulative_lower"]),
            }
        )
    if not rows:
        return _empty(MEDIAN_COLUMNS)
    return pd.DataFrame(rows).astype(MEDIAN_COLUMNS)


# --- rates ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    """Events per 100 patient-months with an exact Poisson interval (the fields are in
    :func:`rate_per_100_patient_months`'s order of computation; ``as_dict`` for a table row)."""

    events: int
    exposure_days: float
    patient_months: float
    rate: float  # per 100 patient-months; NaN without exposure
    lower: float
    upper: float
    conf_level: float

    def as_dict(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def rate_per_100_patient_months(
    events: int | Iterable[int],
    exposure_days: float | Iterable[float],
    *,
    conf_level: float = CONF_LEVEL,
) -> Rate:
    """Events per 100 patient-months: count / (sum of follow-up days / 30.4375) x 100.

    ``events``: a count, or per-patient counts that are summed; ``exposure_days``: follow-up in
    days, one number or per-patient numbers that are summed (e.g. last follow-up day - 0 for
    each patient at risk). A month is 30.4375 days (365.25 / 12, ``DAYS_PER_MONTH``).

    The interval is the exact Poisson (Garwood 1936) one for the count k, divided by the exposure:
    lower = chi2.ppf(alpha/2, 2k) / 2 (0 when k = 0), upper = chi2.ppf(1 - alpha/2, 2k + 2) / 2,
    alpha = 1 - ``conf_level``. Without exposure (0 days) the rate and interval are NaN. Raises
    ``ValueError`` on negative, fractional or missing counts, negative or missing exposure, or
    events without exposure.
    """
    from scipy.stats import chi2  # a dependency of scikit-survival

    if not 0 < conf_level < 1:
        raise ValueError(f"conf_level must be between 0 and 1, got {conf_level!r}")
    counts = np.atleast_1d(np.asarray(events, dtype=float))
    if np.isnan(counts).any() or (counts < 0).any() or (counts != np.round(counts)).any():
        raise ValueError(f"event counts must be whole numbers >= 0, got {events!r}")
    exposure = np.atleast_1d(np.asarray(exposure_days, dtype=float))
    if np.isnan(exposure).any() or (exposure < 0).any() or not np.isfinite(exposure).all():
        raise ValueError("follow-up days must be known, finite and >= 0")
    k, days = int(counts.sum()), float(exposure.sum())
    if days == 0 and k > 0:
        raise ValueError(f"{k} event(s) with no follow-up time")
    months = days / DAYS_PER_MONTH
    alpha = 1 - conf_level
    lower = chi2.ppf(alpha / 2, 2 * k) / 2 if k > 0 else 0.0
    upper = chi2.ppf(1 - alpha / 2, 2 * k + 2) / 2
    scale = 100 / months if months > 0 else np.nan
    return Rate(
        events=k,
        exposure_days=days,
        patient_months=months,
        rate=k * scale,
        lower=float(lower) * scale,
        upper=float(upper) * scale,
        conf_level=conf_level,
    )


# --- incidence by worst grade ---------------------------------------------------------------------

INCIDENCE_COLUMNS = {
    "category": "str",
    "grade": "str",
    "n": "Int64",
    "n_at_risk": "Int64",
    "percent": "float64",
}


def incidence_by_grade(
    worst: pd.DataFrame,
    n_at_risk: int | Mapping[str, int],
    categories: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Patients by worst grade of each category, as n and % of the patients at risk.

    ``worst`` has one row per patient and category with the worst grade: ``patient_id``,
    ``category`` (e.g. CRS, ICANS, ICAHT, Infection), ``grade`` (whole number 0-5; 0 or missing
    = no such event, not counted). ``n_at_risk``: one number for every category, or one per
    category (a mapping). ``categories``: the categories to show, in order; categories without
    any patient get rows of 0. Without it, the mapping's keys, or else the categories present in
    ``worst``, sorted.

    One row per category and label of ``GRADE_LABELS`` ("1".."5", "≥3", "any"), in that order:
    ``n`` patients whose worst grade is that grade (>= 3, resp. >= 1 for the summaries),
    ``n_at_risk`` and ``percent`` = 100 x n / n_at_risk (NaN when nobody is at risk). The grade
    rows of a category add up to its "any" row.

    Raises ``ValueError`` on missing columns, a grade outside 0-5, a patient twice in a category,
    a category not in ``categories`` (or without a number at risk), or more patients with the
    event than at risk.
    """
    missing = [c for c in ("patient_id", "category", "grade") if c not in worst.columns]
    if missing:
        raise ValueError(f"incidence input lacks the column(s) {missing}")
    grade = _whole_days(worst["grade"], "grade")
    known = ~np.isnan(grade)
    if ((grade[known] < 0) | (grade[known] > 5)).any():
        raise ValueError("grades must be whole numbers 0-5")
    if worst["category"].isna().any():
        raise ValueError("incidence input with a missing category")
    repeated = worst[worst.duplicated(["patient_id", "category"])]
    if len(repeated):
        first = repeated.iloc[0]
        raise ValueError(
            f"patient {first['patient_id']!r} has more than one worst grade of "
            f"{first['category']!r}; give the worst grade once per patient and category"
        )
    present = sorted(pd.unique(worst["category"].astype(str)))
    if categories is None:
        categories = list(n_at_risk) if isinstance(n_at_risk, Mapping) else present
    categories = list(categories)
    unknown = sorted(set(present) - set(categories))
    if unknown:
        raise ValueError(f"categories {unknown} are not among those asked for: {categories}")
    if isinstance(n_at_risk, Mapping):
        lacking = [c for c in categories if c not in n_at_risk]
        if lacking:
            raise ValueError(f"no number at risk for the categories {lacking}")
        at_risk = {c: int(n_at_risk[c]) for c in categories}
    else:
        at_risk = dict.fromkeys(categories, int(n_at_risk))
    if any(n < 0 for n in at_risk.values()):
        raise ValueError(f"numbers at risk must be >= 0, got {at_risk}")

    events = pd.DataFrame({"category": worst["category"].astype(str), "grade": grade})
    events = events[events["grade"] >= 1]
    counts = events.groupby(["category", "grade"]).size()
    rows = []
    for category in categories:
        by_grade = {g: int(counts.get((category, float(g)), 0)) for g in range(1, 6)}
        n_any = sum(by_grade.values())
        if n_any > at_risk[category]:
            raise ValueError(
                f"{n_any} patients with {category!r} but only {at_risk[category]} at risk"
            )
        ns = [*by_grade.values(), by_grade[3] + by_grade[4] + by_grade[5], n_any]
        for label, n in zip(GRADE_LABELS, ns, strict=True):
            denominator = at_risk[category]
            rows.append(
                {
                    "category": category,
                    "grade": label,
                    "n": n,
                    "n_at_risk": denominator,
                    "percent": 100 * n / denominator if denominator else np.nan,
                }
            )
    if not rows:
        return _empty(INCIDENCE_COLUMNS)
    return pd.DataFrame(rows).astype(INCIDENCE_COLUMNS)


def _empty(dtypes: dict[str, str]) -> pd.DataFrame:
    """No rows, with the columns and dtypes a result has when there are some."""
    return pd.DataFrame({column: pd.Series(dtype=dtype) for column, dtype in dtypes.items()})
