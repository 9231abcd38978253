"""Per-patient kinetics after CAR T infusion: CAR T expansion, B-cell aplasia, ANC and CK recovery.

Sources (clinical-rules = shared/domain/clinical-rules.md):

* CAR T kinetics, clinical-rules §5: Cmax = maximal CAR T level after infusion (Awasthi, Blood Adv
  2020;4:560) [C]; Tmax = day of Cmax [C]; Tlast/persistence = last day with measurable transgene
  [C]; AUC0-28d = area under the level-time curve from day 0 to 28, by the linear trapezoid, a
  standard NCA convention not read in a label [U].
* B-cell aplasia, clinical-rules §5: no cells/uL cut-off for "complete depletion" could be read [U]
  -> ``DEFAULT_DEPLETION_THRESHOLD`` (a setting). Loss of B-cell aplasia = ">1% CD19+ or 100
  absolute CD19+ cells in peripheral blood, confirmed on a later sample" (paediatric
  tisagenlecleucel preprint) [C, preprint]; the absolute form is implemented, and the threshold is
  a setting (``DEFAULT_RECOVERY_THRESHOLD``) because the autoimmune papers' cut-off is [U].
* ANC recovery, clinical-rules §4.3 (CIBMTR): ANC >= 0.5 x10^9/L on 3 consecutive values on
  different days; recovery = the first of the three [C]. Early ICAHT window = days 0-30 [C].
* CK normalisation: the result's own ULN (clinical-rules §2: store the lab's reference range
  instead of hard-coding ULNs) [C]; "sustained normalisation" as defined here is a design choice.

Conventions shared by every function (see docs/rules-kinetics.md):

* Input: a long frame of observations for many patients with columns ``patient_id``, ``day``,
  ``value`` and, optionally, ``qualifier`` (absent = every value is a plain number), ``code``
  (present = only the function's parameter is used: CART, CD19, ANC or CK), ``specimen``
  (present = only ``'blood'`` rows are used) and, for CK, ``ref_high``. Day 0 = CAR T infusion;
  only days >= 0 are used. Days must be whole numbers.
* ``qualifier``: missing = the value is the result; ``'<'`` = the true value is below ``value``
  (the assay limit); ``'>'`` = the true value is above it; ``'not_detected'`` = undetectable,
  ``value`` may be missing. A row with a missing value and any other qualifier carries no number
  and is skipped. Any other qualifier raises ``ValueError``.
* A qualified value is compared with a threshold only when the answer is certain: ``'<' 1.0`` is
  below a threshold of 1.0 (true value < 1.0), ``'<' 5`` is not known to be below 1.0 nor known to
  be at or above 100, so it counts as neither. Such a value breaks a run of consecutive values.
* Two rows of the same patient on the same day (after the filters above) raise ``ValueError``
  naming the patient and the day: averaging or picking one would hide a data problem.
* Output: one row per patient that has at least one usable value, sorted by ``patient_id``, with
  nullable dtypes: ``Int64`` days and counts, ``float64`` numbers (NaN = none), ``boolean`` flags.

Everything is vectorised over the sorted rows (numpy ``reduceat``/``bincount`` per patient); there
is no Python loop per patient.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from carta.measures.numbers import empty_frame as _empty
from carta.measures.numbers import equals as _flag
from carta.measures.numbers import finite_floats as _floats

SOURCE = "clinical-rules §4.3 (ANC recovery, CIBMTR) and §5 (CAR T kinetics, B-cell aplasia)"

# --- settings and constants, each cited -----------------------------------------------------------

# CD19+ B cells/uL. [U] setting: no formal cut-off for "complete depletion" could be read in the
# autoimmune CAR T papers (clinical-rules §5, open item 6).
DEFAULT_DEPLETION_THRESHOLD = 1.0
# CD19+ B cells/uL. [U] setting: clinical-rules §5, ">1% CD19+ or 100 absolute CD19+ cells" in
# peripheral blood, confirmed on a later sample (paediatric tisagenlecleucel preprint, [C]);
# the absolute form is implemented, as "at or above 100".
DEFAULT_RECOVERY_THRESHOLD = 100.0
# B-cell recovery needs this many consecutive values at or above the threshold ("confirmed on a
# later sample", clinical-rules §5).
BCELL_RECOVERY_RUN = 2
# End of the CAR T AUC window, days after infusion: AUC0-28d (clinical-rules §5; [U] convention).
AUC_END_DAY = 28
# CAR T cells/uL in blood before the infusion: the AUC curve starts at day 0 at this level when no
# day-0 value exists. [U] setting, a design rule: no product circulates before it is infused.
PRE_INFUSION_LEVEL = 0.0
# No AUC across two neighbouring samples further apart than this (days). [U] setting, a design
# rule: linear interpolation across weeks without a sample would invent the expansion curve.
AUC_MAX_GAP_DAYS = 14
# ANC, 10^9/L. CIBMTR recovery = ANC >= 0.5 on 3 consecutive values on different days, the first
# of the three being the recovery day (clinical-rules §4.3) [C]. A value < 0.5 is "severe" here
# (CTCAE v5.0 grade 4, clinical-rules §4.1 [C]; CAR-HEMATOTOX writes "<= 500/uL", §4.3).
ANC_THRESHOLD = 0.5
ANC_RECOVERY_RUN = 3
# Last day of the early ICAHT window, days 0-30 (Rejeski, Blood 2023; clinical-rules §4.3) [C].
ANC_WINDOW_END = 30

_NONE, _LT, _GT, _ND = 0, 1, 2, 3  # qualifier codes
_QUALIFIERS = {"<": _LT, ">": _GT, "not_detected": _ND}
_NO_DAY = np.iinfo(np.int64).max  # sentinel for "no such day" in per-patient minima


# --- shared preparation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rows:
    """One parameter's usable rows, sorted by patient then day; patients are contiguous groups."""

    ids: pd.Index  # patient ids, sorted; group g is ids[g]
    group: np.ndarray  # per row: its patient's group number
    starts: np.ndarray  # per group: index of its first row
    ends: np.ndarray  # per group: index of its last row
    day: np.ndarray  # int64
    value: np.ndarray  # float64; NaN only for 'not_detected'
    qual: np.ndarray  # int8 qualifier code
    ref_high: np.ndarray | None  # float64, CK only

    @property
    def n_groups(self) -> int:
        return len(self.ids)

    def same_next(self, k: int = 1) -> np.ndarray:
        """Per row: True when row i + k exists and belongs to the same patient."""
        out = np.zeros(len(self.day), dtype=bool)
        if k < len(self.day):
            out[:-k] = self.group[k:] == self.group[:-k]
        return out

    def first_day(self, mask: np.ndarray) -> np.ndarray:
        """Per group: the first day where ``mask`` holds, or ``_NO_DAY``."""
        return np.minimum.reduceat(np.where(mask, self.day, _NO_DAY), self.starts)

    def last_day(self, mask: np.ndarray) -> np.ndarray:
        """Per group: the last day where ``mask`` holds, or -1 (days are >= 0)."""
        return np.maximum.reduceat(np.where(mask, self.day, -1), self.starts)

    def per_row(self, per_group: np.ndarray) -> np.ndarray:
        return per_group[self.group]


def _prepare(obs: pd.DataFrame, code: str, *, need_uln: bool = False) -> _Rows:
    """Select, validate and sort the rows of one parameter (the conventions in the module doc)."""
    required = ["patient_id", "day", "value"] + (["ref_high"] if need_uln else [])
    missing = [c for c in required if c not in obs.columns]
    if missing:
        raise ValueError(f"{code} observations lack the column(s) {missing}")
    keep = np.ones(len(obs), dtype=bool)
    if "code" in obs.columns:
        keep &= _flag(obs, "code", code)
    if "specimen" in obs.columns:
        keep &= _flag(obs, "specimen", "blood")
    frame = obs.loc[keep]

    day = _floats(frame["day"])
    if np.isnan(day).any():
        raise ValueError(f"{code} observations with a missing day")
    if (day != np.round(day)).any():
        raise ValueError(f"{code} observations on a fractional day: study days are whole numbers")

    if "qualifier" in frame.columns:
        qualifier = frame["qualifier"]
        qual = np.zeros(len(frame), dtype=np.int8)
        known = qualifier.isna().to_numpy(dtype=bool, copy=True)
        for text, number in _QUALIFIERS.items():
            hit = _flag(frame, "qualifier", text)
            qual[hit] = number
            known |= hit
        if not known.all():
            bad = sorted(map(str, pd.unique(qualifier[~known])))
            raise ValueError(f"unknown qualifier(s) {bad} in {code} observations")
    else:
        qual = np.zeros(len(frame), dtype=np.int8)

    value = _floats(frame["value"])
    usable = (day >= 0) & (~np.isnan(value) | (qual == _ND))
    uln = None
    if need_uln:
        uln = _floats(frame["ref_high"])
        usable &= ~np.isnan(uln)
        uln = uln[usable]
    frame = frame.loc[usable]
    day, value, qual = day[usable].astype(np.int64), value[usable], qual[usable]

    group, ids = pd.factorize(frame["patient_id"], sort=True)
    if (group < 0).any():
        raise ValueError(f"{code} observations with a missing patient_id")
    order = np.lexsort((day, group))
    group, day, value, qual = group[order], day[order], value[order], qual[order]
    if uln is not None:
        uln = uln[order]

    dup = np.flatnonzero((group[1:] == group[:-1]) & (day[1:] == day[:-1]))
    if dup.size:
        first = dup[0]
        raise ValueError(
            f"patient {ids[group[first]]!r} has {code} values twice on day {day[first]} "
            f"({dup.size} duplicated patient-day(s) in all); keep one value per patient and day"
        )

    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]]) if len(group) else group
    ends = np.r_[starts[1:] - 1, len(group) - 1] if len(group) else group
    return _Rows(pd.Index(ids), group, starts, ends, day, value, qual, uln)


def _below(rows: _Rows, threshold: float | np.ndarray, *, strict: bool = True) -> np.ndarray:
    """Rows whose true value is certainly below ``threshold`` (``<`` when strict, else ``<=``).

    A plain number is compared as is; ``'<' L`` is below when L <= threshold (true value < L);
    'not_detected' is below any positive threshold; ``'>' L`` never is.
    """
    plain = rows.value < threshold if strict else rows.value <= threshold
    return (
        ((rows.qual == _NONE) & plain)
        | ((rows.qual == _LT) & (rows.value <= threshold))
        | (rows.qual == _ND)
    )


def _at_or_above(rows: _Rows, threshold: float) -> np.ndarray:
    """Rows whose true value is certainly >= ``threshold``: a plain number or ``'>' L`` with
    L >= threshold (true value > L). ``'<'`` and 'not_detected' never are."""
    return np.isin(rows.qual, (_NONE, _GT)) & (rows.value >= threshold)


def _run_starts(rows: _Rows, mask: np.ndarray, length: int) -> np.ndarray:
    """Rows that start ``length`` consecutive rows of the same patient all meeting ``mask``."""
    out = mask.copy()
    for k in range(1, length):
        shifted = np.zeros_like(mask)
        shifted[:-k] = mask[k:]
        out &= shifted & rows.same_next(k)
    return out


def _days(per_group: np.ndarray, missing: np.ndarray) -> pd.arrays.IntegerArray:
    return pd.arrays.IntegerArray(np.where(missing, 0, per_group).astype(np.int64), missing)


def _bools(values: np.ndarray) -> pd.arrays.BooleanArray:
    return pd.arrays.BooleanArray(np.asarray(values, dtype=bool), np.zeros(len(values), bool))


def _result(rows: _Rows, columns: dict[str, object]) -> pd.DataFrame:
    return pd.DataFrame({"patient_id": rows.ids, **columns}).reset_index(drop=True)


# --- CAR T kinetics -------------------------------------------------------------------------------


def car_t_kinetics(
    obs: pd.DataFrame,
    auc_end: int = AUC_END_DAY,
    pre_infusion_level: float | None = PRE_INFUSION_LEVEL,
    max_gap: int = AUC_MAX_GAP_DAYS,
) -> pd.DataFrame:
    """Cmax, Tmax, AUC0-28d and persistence of CAR T cells in blood ({cells}/uL), per patient.

    Source: clinical-rules §5 (Cmax, Tmax, Tlast [C]; AUC0-28d linear trapezoid [U]). Uses the
    CART blood values on day >= 0; one row per patient with any such value:

    * ``cmax``: the largest measurable value; NaN when none is. Measurable = a plain number > 0
      or a ``'>'`` value (counted at its limit, so Cmax is then a lower bound); ``'<'``,
      'not_detected' and plain zeros are not detectable.
    * ``tmax``: the first day on which ``cmax`` is reached; NA when ``cmax`` is NaN.
    * ``auc_0_28``: linear-trapezoid area, in cells/uL x days, from day 0 to ``auc_end``, with
      values that are not detectable counted as 0 and ``'>'`` values at their limit. Without a
      day-0 value the curve starts at day 0 at ``pre_infusion_level`` (a setting, 0 cells/uL: no
      CAR T cells circulate before the infusion; None starts the curve at the first value
      instead). The area ends exactly at ``auc_end``, interpolating linearly between the last
      value before it and the first value after it. NaN, with the reason in
      ``auc_not_evaluable``, when the area cannot be computed from the values: fewer than two
      values on days 0..``auc_end`` (so also a first value on ``auc_end`` itself), no value on
      or after ``auc_end`` (the area would stop short of the window), or two neighbouring
      points of the curve more than ``max_gap`` days apart (a setting: no interpolation across
      a longer gap).
    * ``auc_from_day``: where the curve starts (0 with the pre-infusion level, else the first
      value's day); ``auc_to_day``: the last value's day <= ``auc_end``; NA when there is none.
    * ``auc_covers_28``: a value on a day >= ``auc_end`` exists.
    * ``last_detectable_day``: the last day with a measurable value, only when a later sample
      was not detectable (persistence is then known to have ended); NA otherwise, in which case
      ``last_sample_day`` is the last measured day and ``detectable_at_last`` says whether CAR T
      cells were still detectable there.
    * ``n_values``: the number of values used.

    The column names say 28 whatever ``auc_end`` is; they hold the window actually asked for.
    """
    if isinstance(auc_end, bool) or int(auc_end) != auc_end or auc_end < 0:
        raise ValueError(f"auc_end must be a whole number of days >= 0, got {auc_end!r}")
    if isinstance(max_gap, bool) or int(max_gap) != max_gap or max_gap < 1:
        raise ValueError(f"max_gap must be a whole number of days >= 1, got {max_gap!r}")
    if pre_infusion_level is not None and not (
        np.isfinite(pre_infusion_level) and pre_infusion_level >= 0
    ):
        raise ValueError(f"pre_infusion_level must be >= 0 or None, got {pre_infusion_level!r}")
    auc_end, max_gap = int(auc_end), int(max_gap)
    rows = _prepare(obs, "CART")
    n = rows.n_groups
    if n == 0:
        return _empty_kinetics()

    measurable = np.isin(rows.qual, (_NONE, _GT)) & (rows.value > 0)
    level = np.where(measurable, rows.value, 0.0)  # the curve: not detectable = 0

    cmax = np.maximum.reduceat(np.where(measurable, rows.value, -np.inf), rows.starts)
    has_cmax = np.isfinite(cmax)
    cmax = np.where(has_cmax, cmax, np.nan)
    tmax = rows.first_day(measurable & (rows.value == rows.per_row(cmax)))

    # The curve: the values, with the pre-infusion level at day 0 where no day-0 value exists.
    first = rows.day[rows.starts]
    anchored = (first > 0) if pre_infusion_level is not None else np.zeros(n, dtype=bool)
    at = rows.starts[anchored]
    c_day = np.insert(rows.day, at, 0)
    c_level = np.insert(level, at, pre_infusion_level if pre_infusion_level is not None else 0)
    c_group = np.insert(rows.group, at, np.flatnonzero(anchored))
    same_next = np.zeros(len(c_day), dtype=bool)
    same_next[:-1] = c_group[1:] == c_group[:-1]

    # Trapezoids between each point and the next of the same patient, cut at auc_end.
    seg = np.flatnonzero(same_next & (c_day < auc_end))
    d0, d1 = c_day[seg], c_day[seg + 1]
    y0, y1 = c_level[seg], c_level[seg + 1]
    stop = np.minimum(d1, auc_end)
    y_stop = y0 + (y1 - y0) * (stop - d0) / (d1 - d0)
    area = np.bincount(c_group[seg], weights=(y0 + y_stop) / 2 * (stop - d0), minlength=n)
    too_long = np.bincount(c_group[seg], weights=(d1 - d0) > max_gap, minlength=n) > 0
    widest = np.zeros(n, dtype=np.int64)
    np.maximum.at(widest, c_group[seg], d1 - d0)

    in_window = np.bincount(rows.group, weights=rows.day <= auc_end, minlength=n)
    covers = rows.day[rows.ends] >= auc_end
    # Two values on days 0..auc_end include one before auc_end, so "no value before day 28" is
    # the first case (a first value on day 28 is one value in the window).
    reason = np.select(
        [in_window < 2, ~covers, too_long],
        [
            f"fewer than two values on days 0-{auc_end}",
            f"no value on or after day {auc_end}",
            f"samples more than {max_gap} days apart",
        ],
        "",
    )
    evaluable = reason == ""
    reason = np.where(
        too_long & (in_window >= 2) & covers,
        [f"samples {w} days apart, more than {max_gap}" for w in widest],
        reason,
    )
    to_day = rows.last_day(rows.day <= auc_end)
    has_to = to_day >= 0
    start_day = np.where(anchored, 0, first)

    last_detectable = rows.last_day(measurable)
    last_sample = rows.day[rows.ends]
    ended = (last_detectable >= 0) & (last_detectable < last_sample)

    return _result(
        rows,
        {
            "cmax": cmax,
            "tmax": _days(tmax, ~has_cmax),
            "auc_0_28": np.where(evaluable, area, np.nan),
            "auc_from_day": _days(start_day, start_day > auc_end),
            "auc_to_day": _days(to_day, ~has_to),
            "auc_covers_28": _bools(covers),
            "auc_not_evaluable": pd.array(np.where(evaluable, None, reason), dtype="string"),
            "last_detectable_day": _days(last_detectable, ~ended),
            "last_sample_day": _days(last_sample, np.zeros(n, bool)),
            "detectable_at_last": _bools(measurable[rows.ends]),
            "n_values": pd.array(np.diff(np.r_[rows.starts, len(rows.day)]), dtype="Int64"),
        },
    )


def _empty_kinetics() -> pd.DataFrame:
    return _empty(
        {
            "patient_id": "str",
            "cmax": "float64",
            "tmax": "Int64",
            "auc_0_28": "float64",
            "auc_from_day": "Int64",
            "auc_to_day": "Int64",
            "auc_covers_28": "boolean",
            "auc_not_evaluable": "string",
            "last_detectable_day": "Int64",
            "last_sample_day": "Int64",
            "detectable_at_last": "boolean",
            "n_values": "Int64",
        }
    )


# --- B-cell aplasia -------------------------------------------------------------------------------


def _check_threshold(name: str, value: float) -> float:
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number of cells/uL, got {value!r}")
    return value


def bcell_aplasia(
    obs: pd.DataFrame,
    depletion_threshold: float = DEFAULT_DEPLETION_THRESHOLD,
    recovery_threshold: float = DEFAULT_RECOVERY_THRESHOLD,
) -> pd.DataFrame:
    """Onset, recovery and duration of B-cell aplasia from CD19+ B cells in blood ({cells}/uL).

    Source: clinical-rules §5; both thresholds are [U] settings. Uses the CD19 blood values on
    day >= 0; one row per patient with any such value:

    * ``onset_day``: the first day with a value certainly below ``depletion_threshold``: a plain
      number < threshold, ``'<' L`` with L <= threshold, or 'not_detected'. NA = never depleted.
    * ``recovery_day``: after onset, the first of two consecutive values (consecutive
      measurements of the patient, both after the onset day) certainly at or above
      ``recovery_threshold`` (a plain number >= threshold or ``'>' L`` with L >= threshold).
      "Confirmed on a later sample": a high value followed by a lower one does not count. NA when
      not recovered (or never depleted).
    * ``duration_days``: ``recovery_day - onset_day``; NA when not recovered.
    * ``ongoing_at_last_value``: depleted and not (yet) recovered by the last value. A single high
      last value, not yet confirmed, leaves the aplasia ongoing.
    * ``first_day``, ``last_day``: the first and the last CD19 day used (an onset on the first
      day says only that the patient was depleted by then).
    * ``depletion_threshold``, ``recovery_threshold``: the settings used.
    """
    depletion = _check_threshold("depletion_threshold", depletion_threshold)
    recovery = _check_threshold("recovery_threshold", recovery_threshold)
    if depletion > recovery:
        raise ValueError(
            f"depletion_threshold ({depletion}) is above recovery_threshold ({recovery})"
        )
    rows = _prepare(obs, "CD19")
    n = rows.n_groups
    if n == 0:
        return _empty_aplasia()

    onset = rows.first_day(_below(rows, depletion))
    depleted = onset != _NO_DAY
    high = _at_or_above(rows, recovery) & (rows.day > rows.per_row(onset))
    recovered_at = rows.first_day(_run_starts(rows, high, BCELL_RECOVERY_RUN))
    recovered = recovered_at != _NO_DAY  # implies depleted: ``high`` needs a day after onset

    return _result(
        rows,
        {
            "onset_day": _days(onset, ~depleted),
            "recovery_day": _days(recovered_at, ~recovered),
            "duration_days": _days(recovered_at - np.where(depleted, onset, 0), ~recovered),
            "ongoing_at_last_value": _bools(depleted & ~recovered),
            "first_day": _days(rows.day[rows.starts], np.zeros(n, bool)),
            "last_day": _days(rows.day[rows.ends], np.zeros(n, bool)),
            "depletion_threshold": np.full(n, depletion),
            "recovery_threshold": np.full(n, recovery),
        },
    )


def _empty_aplasia() -> pd.DataFrame:
    return _empty(
        {
            "patient_id": "str",
            "onset_day": "Int64",
            "recovery_day": "Int64",
            "duration_days": "Int64",
            "ongoing_at_last_value": "boolean",
            "first_day": "Int64",
            "last_day": "Int64",
            "depletion_threshold": "float64",
            "recovery_threshold": "float64",
        }
    )


# --- ANC recovery ---------------------------------------------------------------------------------


def anc_recovery(obs: pd.DataFrame) -> pd.DataFrame:
    """ANC nadir, severe neutropenia, CIBMTR recovery and days below 0.5 in days 0-30.

    Source: clinical-rules §4.3 (CIBMTR recovery [C]; early window days 0-30 [C]); ANC in
    10^9/L. Uses the ANC blood values on day >= 0; one row per patient with any such value:

    * ``nadir``: the lowest value, with 'not_detected' as 0 and ``'<'``/``'>'`` values at their
      limit (so a ``'<'`` nadir is an upper bound); ``nadir_day``: the first day it is reached.
    * ``severe``: any value certainly < 0.5 (a plain number < 0.5, ``'<' L`` with L <= 0.5,
      'not_detected').
    * ``recovery_day``: after the first severe value, the first of three consecutive values
      (consecutive measurements; days are distinct by construction) certainly >= 0.5. A run of
      two followed by a lower value does not count. NA when not severe or not recovered.
    * ``days_below_0_5_in_0_30``: how many of the days 0..30 (31 days) the ANC was < 0.5, reading
      each value as holding from its day until the day before the next measurement (last
      observation carried forward; the last value is carried to day 30). Days before the first
      value on or after day 0 are not counted. 0 when never below.
    """
    rows = _prepare(obs, "ANC")
    n = rows.n_groups
    if n == 0:
        return _empty_anc()

    level = np.where(rows.qual == _ND, 0.0, rows.value)
    nadir = np.minimum.reduceat(level, rows.starts)
    nadir_day = rows.first_day(level == rows.per_row(nadir))

    below = _below(rows, ANC_THRESHOLD)
    first_below = rows.first_day(below)
    severe = first_below != _NO_DAY
    high = _at_or_above(rows, ANC_THRESHOLD) & (rows.day > rows.per_row(first_below))
    recovered_at = rows.first_day(_run_starts(rows, high, ANC_RECOVERY_RUN))
    recovered = recovered_at != _NO_DAY

    # Last observation carried forward: a value holds from its day to the next measurement.
    next_day = np.r_[rows.day[1:], 0]
    held_to = np.where(rows.same_next(), next_day, ANC_WINDOW_END + 1)  # exclusive end
    held = np.clip(np.minimum(held_to, ANC_WINDOW_END + 1) - rows.day, 0, None)
    days_below = np.bincount(rows.group, weights=np.where(below, held, 0), minlength=n)

    return _result(
        rows,
        {
            "nadir": nadir,
            "nadir_day": _days(nadir_day, np.zeros(n, bool)),
            "severe": _bools(severe),
            "recovery_day": _days(recovered_at, ~recovered),
            "days_below_0_5_in_0_30": pd.array(days_below.astype(np.int64), dtype="Int64"),
        },
    )


def _empty_anc() -> pd.DataFrame:
    return _empty(
        {
            "patient_id": "str",
            "nadir": "float64",
            "nadir_day": "Int64",
            "severe": "boolean",
            "recovery_day": "Int64",
            "days_below_0_5_in_0_30": "Int64",
        }
    )


# --- CK normalisation -----------------------------------------------------------------------------


def ck_normalisation(obs: pd.DataFrame) -> pd.DataFrame:
    """The day from which CK stays at or below its ULN (U/L), per patient.

    Source: each result's own ULN (``ref_high``), as clinical-rules §2 asks; the definition of
    sustained normalisation is a design choice. Uses the CK blood values on day >= 0 that have a
    ULN (rows without one are ignored); one row per patient with any such value:

    * A value is normal when certainly <= its own row's ULN: a plain number <= ULN, ``'<' L`` with
      L <= ULN, or 'not_detected'. ``'>'`` values and ``'<' L`` with L > ULN are not normal.
    * ``sustained_normal_day``: the first day from which every later value is normal, i.e. the
      day of the first value of the final run of normal values. When every value is normal it is
      the first day. NA when the last value is not normal.
    * ``normal_at_last``: whether the last value is normal.
    * ``last_day``: the last CK day used.
    """
    rows = _prepare(obs, "CK", need_uln=True)
    n = rows.n_groups
    if n == 0:
        return _empty_ck()

    normal = _below(rows, rows.ref_high, strict=False)
    position = np.arange(len(rows.day))
    last_abnormal = np.maximum.reduceat(np.where(normal, -1, position), rows.starts)
    run_start = np.where(last_abnormal < 0, rows.starts, last_abnormal + 1)
    normal_at_last = normal[rows.ends]
    sustained = rows.day[np.minimum(run_start, rows.ends)]

    return _result(
        rows,
        {
            "sustained_normal_day": _days(sustained, ~normal_at_last),
            "normal_at_last": _bools(normal_at_last),
            "last_day": _days(rows.day[rows.ends], np.zeros(n, bool)),
        },
    )


def _empty_ck() -> pd.DataFrame:
    return _empty(
        {
            "patient_id": "str",
            "sustained_normal_day": "Int64",
            "normal_at_last": "boolean",
            "last_day": "Int64",
        }
    )
