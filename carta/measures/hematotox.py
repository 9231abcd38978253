"""CAR T haematotoxicity: ICAHT (neutrophils), T-ICAHT (platelets) and the CAR-HEMATOTOX score.

Sources (clinical-rules = shared/domain/clinical-rules.md §4.3 and §10; status [C] confirmed in the
source, [P] partly confirmed, [U] unconfirmed or a design rule; see docs/rules.md):

* ICAHT: Rejeski K et al., "Immune effector cell-associated hematotoxicity: EHA/EBMT consensus
  grading and best practice recommendations", Blood 2023;142(10):865-877,
  doi:10.1182/blood.2023020578. Read: the abstract (UCL Discovery eprint 10172207; PubPharm
  NLM358021324): a grading "based on depth and duration of neutropenia ... for early (day 0-30)
  and late (after day +30)" cytopenia [C]. Table 1 itself could not be read. Its cells are the
  clinical-rules §4.3 values, which agree with an independent implementation of Table 1 (Liang
  EC, github.com/emilyliangmd/automatedicahtgrading, index.Rmd and "Manual Code.R": ANC "<= 500"
  and "<= 100 cells/uL", early G1 1-6 d, G2 7-13 d, G3 >= 14 d or <= 100 for 7-13 d, G4 <= 100
  for >= 14 d or never recovering; late G1 <= 1500, G2 <= 1000, G3 <= 500, G4 <= 100) [P]. The
  thresholds are inclusive ("<="), as the CAR-HEMATOTOX paper defines severe (ANC <= 500/uL) and
  profound (<= 100/uL) neutropenia (Blood 2021, PMC8893508 Table 2) [C] and as Liang codes them.
  Whether and how Table 1 treats G-CSF could not be read [U]; the store holds medications only
  as free-text events, so G-CSF is not looked at: the grade is from the counts alone.
* T-ICAHT: Rejeski K et al., "T-ICAHT: grading and prognostic impact of thrombocytopenia after
  CAR T-cell therapy", Blood 2025, Table 1 (ash-sap.org view-large/12809257) [C]: early (days
  0-30) cumulative days with PLT < 50 x10^9/L 1-6 = G1, >= 7 = G2; < 20 for 1-13 d = G3,
  >= 14 d = G4; late (days 31-100, "two or more laboratory tests or nontransient
  thrombocytopenia") PLT < 100 = G1, < 50 = G2 (the cell is shifted in the web rendering; read
  as G2 with clinical-rules §4.3) [P], < 20 for 1-13 d = G3, >= 14 d = G4 [C]. "Days of
  nonstable count recovery (<3 days) are counted to the cumulative total" [C]. PLT recovery =
  the first of 3 consecutive days >= 20 x10^9/L "in the absence of a PLT transfusion for 7
  consecutive days" [C]: transfusions are not in the store, so recovery is from the counts alone.
* CAR-HEMATOTOX: Rejeski K et al., Blood 2021;138(24):2499-2513, doi:10.1182/blood.2020010543;
  european-mcl.net score page: ANC, haemoglobin, platelets, CRP and ferritin before
  lymphodepletion (e.g. day -5), extra weight on platelets and ferritin, 0-1 = low, >= 2 = high
  risk, validated only in LBCL (axi-cel, tisa-cel) [C]. The point cut-offs (``HEMATOTOX_CUTS``)
  could not be read and are the clinical-rules §4.3 values [U]. Not validated in autoimmune
  disease (Greco R et al., EClinicalMedicine 2024;69:102476; clinical-rules §10 [C: secondary
  summary]): every view shows ``NOT_VALIDATED_NOTE`` beside the score.
* Stable recovery = 3 consecutive days above the threshold (CIBMTR ANC recovery: 3 consecutive
  values >= 0.5 x10^9/L, clinical-rules §4.3 [C]; T-ICAHT: "nonstable count recovery (<3 days)").

Design rules (all [U], documented in docs/rules.md):

* Counting days from sparse samples: a value holds from its day until the day before the
  patient's next measurement (a measurement after the window still ends it); the last value
  holds to the end of the graded period (ICAHT: day 30; T-ICAHT: ``late_end``), as
  ``kinetics.anc_recovery`` does. ``last_hold_days`` caps how long a patient's last value holds
  (the store's setting: 7 days, so that one low value does not count to day 30), and
  ``max_hold_days`` caps how long any value may hold; days it no
  longer covers are unknown and count as not below. Days before the first value on or after
  day 0 are unknown. Only days >= 0 are used for ICAHT and T-ICAHT.
* Non-stable recovery: a run of 1-2 days not below a threshold between two days below it is
  counted as below (for ICAHT as well as T-ICAHT, whose paper says it "follows the principal
  logic of the existing N-ICAHT grading"). Durations are cumulative within the window.
* Late grades need two values: the grade is the one that at least ``LATE_MIN_VALUES`` values in
  the window reach, i.e. the grade of the second-lowest value. "Non-transient" cannot be judged
  from one value, so a patient with fewer than two late values has no late grade (NA).
* Qualified values (clinical-rules §10): ``'<' x`` is a value just below x, ``'>' x`` one just
  above x, 'not_detected' is 0. So ``'<' 0.5`` ANC is <= 0.5 and ``'>' 0.5`` is not; ``'<' 20``
  PLT is < 20 and ``'>' 20`` is >= 20. Values and thresholds are compared after rounding to
  ``SIGNIF_DIGITS`` significant digits (as ``carta.measures.ctcae`` does).

Input: long frames with ``patient_id``, ``day``, ``value`` and optionally ``qualifier``
(``'<'``, ``'>'``, ``'not_detected'`` or missing), ``code`` (present = only the rule's
parameters are used; required by ``car_hematotox``), ``specimen`` (present = only ``'blood'``)
and ``unit`` (present = a non-missing unit other than the store's unit raises). Units are the
store's: ANC and PLT 10*9/L, HGB g/dL, CRP mg/L, FERRITIN ng/mL. Day 0 = CAR T infusion; days are
whole numbers; two values of one parameter for one patient on one day raise ``ValueError``.

Output: one row per patient, sorted by ``patient_id``; grades, days and counts ``Int64``,
numbers ``float64``, flags ``boolean``, text ``string``; NA where not evaluable. Everything is
vectorised (numpy over sorted rows and a patient x day grid); no Python loop per patient.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from carta.measures.numbers import empty_frame as _empty
from carta.measures.numbers import equals as _flag
from carta.measures.numbers import finite_floats as _floats
from carta.measures.numbers import signif

SOURCE = (
    "clinical-rules §4.3 and §10: ICAHT (Rejeski, Blood 2023;142:865), T-ICAHT (Rejeski, "
    "Blood 2025), CAR-HEMATOTOX (Rejeski, Blood 2021;138:2499)"
)
NOT_VALIDATED_NOTE = (
    "not validated in autoimmune disease (Greco R et al., EClinicalMedicine 2024;69:102476)"
)

# --- settings and constants, each cited -----------------------------------------------------------

SIGNIF_DIGITS = 8  # compare after signif(), as carta.measures.ctcae does (admiral, §4.1)
UNITS = {"ANC": "10*9/L", "PLT": "10*9/L", "HGB": "g/dL", "CRP": "mg/L", "FERRITIN": "ng/mL"}

# Early window days 0-30, late window from day 31 (Rejeski 2023 abstract [C]; T-ICAHT Table 1 [C]).
EARLY_START_DAY = 0
EARLY_END_DAY = 30
LATE_START_DAY = 31
# ICAHT late: "after day +30" with no end in what could be read; day 100 as in T-ICAHT and in
# Liang's implementation [U] setting.
ICAHT_LATE_END_DAY = 100
# T-ICAHT late: days 31-100 ("for this study ... limited to day +100", Table 1 footnote) [C].
T_ICAHT_LATE_END_DAY = 100
# Late grades: "two or more laboratory tests" (T-ICAHT Table 1 footnote [C]; ICAHT "≥2
# measurements or non-transient", clinical-rules §4.3 [U]).
LATE_MIN_VALUES = 2
# A recovery shorter than this many days is "nonstable" and its days count toward the cumulative
# total (T-ICAHT Table 1 footnote [C]); stable recovery = 3 consecutive days (CIBMTR, §4.3 [C]).
STABLE_RECOVERY_DAYS = 3

# ANC, 10^9/L (0.5 = 500/uL). Severe <= 0.5, profound <= 0.1 [P: see module doc].
ANC_SEVERE = 0.5
ANC_PROFOUND = 0.1
# Early ICAHT durations, days: G1 1-6, G2 7-13, G3 >= 14 at <= 500/uL; G3 7-13, G4 >= 14 at
# <= 100/uL; G4 also when never above 500/uL (clinical-rules §4.3; Liang) [P].
ICAHT_G2_DAYS = 7
ICAHT_G3_DAYS = 14
ICAHT_PROFOUND_G3_DAYS = 7
ICAHT_PROFOUND_G4_DAYS = 14
# "Never above 500/uL" read as: ANC <= 0.5 by this day and never above 0.5 from then to day 30
# (Liang: "neutropenia starting between days 0-3" through the last value) [U].
NEVER_ABOVE_START_MAX_DAY = 3
# Late ICAHT grade by value, most severe first: (grade, ANC <= limit in 10^9/L) [P].
LATE_ICAHT_CUTS = ((4, 0.1), (3, 0.5), (2, 1.0), (1, 1.5))

# PLT, 10^9/L, strict "<" as T-ICAHT Table 1 writes it [C].
PLT_EARLY_LIMIT = 50.0  # G1 1-6 d, G2 >= 7 d
PLT_EARLY_G2_DAYS = 7
PLT_SEVERE_LIMIT = 20.0  # G3 1-13 d, G4 >= 14 d (early and late)
PLT_G4_DAYS = 14
PLT_LATE_G1_LIMIT = 100.0
PLT_LATE_G2_LIMIT = 50.0
PLT_RECOVERY_LIMIT = 20.0  # recovery: first of 3 consecutive days >= 20 [C]

# CAR-HEMATOTOX points, most severe cut first: (op, limit, points), in the store's units [U]
# (clinical-rules §4.3): ANC < 1200/uL = 1; Hb < 9.0 g/dL = 1; PLT 75-175 x10^9/L = 1, < 75 = 2
# (the source table's "76-175" leaves 75 unassigned: 75 scores 1 here); CRP > 3.0 mg/dL = 1,
# i.e. > 30 mg/L (mg/dL x 10 = mg/L); ferritin 650-2000 ng/mL = 1, > 2000 = 2.
HEMATOTOX_CUTS: dict[str, tuple[tuple[str, float, int], ...]] = {
    "ANC": (("<", 1.2, 1),),
    "HGB": (("<", 9.0, 1),),
    "PLT": (("<", 75.0, 2), ("<=", 175.0, 1)),
    "CRP": ((">", 30.0, 1),),
    "FERRITIN": ((">", 2000.0, 2), (">=", 650.0, 1)),
}
HEMATOTOX_COMPONENTS = ("ANC", "HGB", "PLT", "CRP", "FERRITIN")
HEMATOTOX_HIGH_MIN = 2  # 0-1 = low, >= 2 = high [C]
# Pre-lymphodepletion window [U]: with a known lymphodepletion start day L, the last value in days
# L - 30 .. L (the start day included: a same-day count is taken as drawn before the first dose);
# without one, the last value in days -30 .. -5 (day -5: the usual start, european-mcl.net [C]).
PRE_LD_LOOKBACK_DAYS = 30
PRE_LD_INCLUDES_LD_DAY = True
DEFAULT_PRE_LD_WINDOW = (-30, -5)

_LT, _GT = "<", ">"
_ND = "not_detected"


# --- shared preparation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rows:
    """Usable rows sorted by patient, code, day; patients are contiguous groups."""

    ids: pd.Index  # patient ids, sorted; group g is ids[g]
    group: np.ndarray  # per row: its patient's group number
    code: np.ndarray  # per row: index into the codes asked for
    day: np.ndarray  # int64
    value: np.ndarray  # float64, rounded; 'not_detected' = 0
    eps: np.ndarray  # int8: -1 just below value ('<'), +1 just above ('>'), 0 exact

    @property
    def n_groups(self) -> int:
        return len(self.ids)

    def count(self, mask: np.ndarray) -> np.ndarray:
        return np.bincount(self.group[mask], minlength=self.n_groups)


def _prepare(obs: pd.DataFrame, codes: tuple[str, ...], min_day: int | None) -> _Rows:
    """Select, validate and sort the rows of the given parameters (conventions: module doc)."""
    what = "/".join(codes)
    missing = [c for c in ("patient_id", "day", "value") if c not in obs.columns]
    if missing:
        raise ValueError(f"{what} observations lack the column(s) {missing}")
    if "code" in obs.columns:
        code_col = obs["code"].astype("string")
        keep = code_col.isin(codes).to_numpy(dtype=bool, na_value=False, copy=True)
    elif len(codes) == 1:
        keep = np.ones(len(obs), dtype=bool)
    else:
        raise ValueError(f"{what} observations need a 'code' column naming the parameter")
    if "specimen" in obs.columns:
        keep &= _flag(obs, "specimen", "blood")
    frame = obs.loc[keep]
    if "code" in frame.columns:
        code = pd.Categorical(frame["code"].astype("string"), categories=codes).codes
        code = code.astype(np.int64)
    else:
        code = np.zeros(len(frame), dtype=np.int64)

    if "unit" in frame.columns:
        unit = frame["unit"].astype("string")
        expected = pd.Series(np.asarray(codes, dtype=object)[code], index=frame.index)
        expected = expected.map(UNITS).astype("string")
        wrong = (unit.notna() & unit.ne(expected)).to_numpy(dtype=bool, na_value=False)
        if wrong.any():
            first = np.flatnonzero(wrong)[0]
            raise ValueError(
                f"{codes[code[first]]} in {unit.iloc[first]!r}, expected "
                f"{UNITS[codes[code[first]]]!r}: convert to the store's unit first"
            )

    day = _floats(frame["day"])
    if np.isnan(day).any():
        raise ValueError(f"{what} observations with a missing day")
    if (day != np.round(day)).any():
        raise ValueError(f"{what} observations on a fractional day: study days are whole numbers")

    eps = np.zeros(len(frame), dtype=np.int8)
    nd = np.zeros(len(frame), dtype=bool)
    if "qualifier" in frame.columns:
        qualifier = frame["qualifier"]
        known = qualifier.isna().to_numpy(dtype=bool, copy=True)
        for text, sign in ((_LT, -1), (_GT, 1), (_ND, 0)):
            hit = _flag(frame, "qualifier", text)
            eps[hit] = sign
            known |= hit
        nd = _flag(frame, "qualifier", _ND)
        if not known.all():
            bad = sorted(map(str, pd.unique(qualifier[~known])))
            raise ValueError(f"unknown qualifier(s) {bad} in {what} observations")

    value = np.where(nd, 0.0, _floats(frame["value"]))
    usable = ~np.isnan(value)
    if min_day is not None:
        usable &= day >= min_day
    frame = frame.loc[usable]
    day, value, eps, code = day[usable].astype(np.int64), value[usable], eps[usable], code[usable]

    group, ids = pd.factorize(frame["patient_id"], sort=True)
    if (group < 0).any():
        raise ValueError(f"{what} observations with a missing patient_id")
    order = np.lexsort((day, code, group))
    group, code, day = group[order], code[order], day[order]
    value, eps = signif(value[order], SIGNIF_DIGITS), eps[order]

    dup = np.flatnonzero(
        (group[1:] == group[:-1]) & (code[1:] == code[:-1]) & (day[1:] == day[:-1])
    )
    if dup.size:
        first = dup[0]
        raise ValueError(
            f"patient {ids[group[first]]!r} has {codes[code[first]]} values twice on day "
            f"{day[first]} ({dup.size} duplicated patient-day(s) in all); keep one value per "
            "patient and day"
        )
    return _Rows(pd.Index(ids), group, code, day, np.asarray(value, dtype=float), eps)


def _meets(value: np.ndarray, eps: np.ndarray, op: str, limit: float) -> np.ndarray:
    """Whether the value (just below / exactly / just above ``value`` per ``eps``) meets
    ``<op> limit``. NaN values meet nothing."""
    t = float(signif(limit, SIGNIF_DIGITS))
    with np.errstate(invalid="ignore"):
        if op == "<":
            return (value < t) | ((value == t) & (eps < 0))
        if op == "<=":
            return (value < t) | ((value == t) & (eps <= 0))
        if op == ">":
            return (value > t) | ((value == t) & (eps > 0))
        if op == ">=":
            return (value > t) | ((value == t) & (eps >= 0))
    raise ValueError(f"unknown comparison {op!r}")


@dataclass(frozen=True)
class _Grid:
    """Per patient (rows) and day 0..last (columns): the value held that day, if any."""

    known: np.ndarray  # bool (n, W)
    value: np.ndarray  # float (n, W), NaN where unknown
    eps: np.ndarray  # int8 (n, W)

    def meets(self, op: str, limit: float) -> np.ndarray:
        return self.known & _meets(self.value, self.eps, op, limit)


def _grid(
    rows: _Rows, last_day: int, max_hold_days: int | None, last_hold_days: int | None = None
) -> _Grid:
    """Last observation carried forward on a day grid 0..last_day (module doc, design rules);
    ``last_hold_days`` caps how long a patient's last value holds (no later sample to say)."""
    n, width = rows.n_groups, last_day + 1
    same_next = np.zeros(len(rows.day), dtype=bool)
    same_next[:-1] = rows.group[1:] == rows.group[:-1]
    hold_end = np.where(same_next, np.r_[rows.day[1:], 0], last_day + 1)  # exclusive
    if max_hold_days is not None:
        hold_end = np.minimum(hold_end, rows.day + max_hold_days)
    if last_hold_days is not None:
        hold_end = np.where(same_next, hold_end, np.minimum(hold_end, rows.day + last_hold_days))
    span = max(int(rows.day.max()) if len(rows.day) else 0, last_day) + 2
    row_keys = rows.group.astype(np.int64) * span + rows.day
    days = np.arange(width, dtype=np.int64)
    grid_keys = (np.arange(n, dtype=np.int64) * span)[:, None] + days[None, :]
    idx = np.searchsorted(row_keys, grid_keys, side="right") - 1
    safe = np.clip(idx, 0, None)
    known = (
        (idx >= 0) & (rows.group[safe] == np.arange(n)[:, None]) & (days[None, :] < hold_end[safe])
    )
    return _Grid(
        known, np.where(known, rows.value[safe], np.nan), np.where(known, rows.eps[safe], 0)
    )


def _fill_nonstable(below: np.ndarray, run: int = STABLE_RECOVERY_DAYS) -> np.ndarray:
    """``below`` plus the days of runs shorter than ``run`` days lying between two below days."""
    width = below.shape[1]
    pos = np.arange(width)
    prev = np.maximum.accumulate(np.where(below, pos, -1), axis=1)
    nxt = np.minimum.accumulate(np.where(below, pos, width)[:, ::-1], axis=1)[:, ::-1]
    gap = ~below & (prev >= 0) & (nxt < width) & (nxt - prev - 1 < run)
    return below | gap


def _first_day(mask: np.ndarray) -> np.ndarray:
    """Per row: the first column where ``mask`` holds, or -1."""
    return np.where(mask.any(axis=1), mask.argmax(axis=1), -1)


def _first_run_after(mask: np.ndarray, after: np.ndarray, run: int) -> np.ndarray:
    """Per row: the first day > ``after`` starting ``run`` consecutive days of ``mask``, or -1.
    Rows with ``after`` < 0 (nothing to recover from) get -1."""
    ok = mask.copy()
    for k in range(1, run):
        ok[:, :-k] &= mask[:, k:]
        ok[:, ok.shape[1] - k :] = False
    ok &= np.arange(mask.shape[1])[None, :] > after[:, None]
    ok &= (after >= 0)[:, None]
    return _first_day(ok)


def _window_stats(rows: _Rows, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per patient: number of values, first and last day (-1 when none) in days lo..hi."""
    inside = (rows.day >= lo) & (rows.day <= hi)
    n = rows.count(inside)
    first = np.full(rows.n_groups, -1, dtype=np.int64)
    last = np.full(rows.n_groups, -1, dtype=np.int64)
    if inside.any():
        g, d = rows.group[inside], rows.day[inside]  # sorted by patient, then day
        change = g[1:] != g[:-1]
        first_pos, last_pos = np.r_[True, change], np.r_[change, True]
        first[g[first_pos]] = d[first_pos]
        last[g[last_pos]] = d[last_pos]
    return n, first, last


def _ints(values: np.ndarray, missing: np.ndarray) -> pd.arrays.IntegerArray:
    missing = np.asarray(missing, dtype=bool)
    return pd.arrays.IntegerArray(np.where(missing, 0, values).astype(np.int64), missing)


def _bools(values: np.ndarray, missing: np.ndarray) -> pd.arrays.BooleanArray:
    return pd.arrays.BooleanArray(np.asarray(values, dtype=bool), np.asarray(missing, dtype=bool))


def _check_day(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be a whole number of days >= {minimum}, got {value!r}")
    return int(value)


def _check_hold(max_hold_days: object) -> int | None:
    return None if max_hold_days is None else _check_day("max_hold_days", max_hold_days, 1)


def _late_second_lowest(rows: _Rows, late_end: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per patient, in days 31..late_end: number of values, the lowest and the second-lowest
    value (NaN when there are fewer), and the row index of the second-lowest (-1 when none).
    Values are ordered by (value, eps): '<' x sorts just below a plain x."""
    mask = (rows.day >= LATE_START_DAY) & (rows.day <= late_end)
    inside = np.flatnonzero(mask)
    n = rows.count(mask)
    lowest = np.full(rows.n_groups, np.nan)
    second = np.full(rows.n_groups, -1, dtype=np.int64)
    if inside.size:
        sub = inside[np.lexsort((rows.eps[inside], rows.value[inside], rows.group[inside]))]
        g = rows.group[sub]
        start = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
        lowest[g[start]] = rows.value[sub[start]]
        has2 = n[g[start]] >= 2
        second[g[start[has2]]] = sub[start[has2] + 1]
    return n, lowest, second


# --- ICAHT (neutrophils) --------------------------------------------------------------------------


def icaht(
    anc_obs: pd.DataFrame,
    *,
    late_end: int = ICAHT_LATE_END_DAY,
    max_hold_days: int | None = None,
    last_hold_days: int | None = None,
) -> pd.DataFrame:
    """Early (days 0-30) and late (days 31..``late_end``) ICAHT grades from the ANC (10^9/L).

    Source: Rejeski K et al., Blood 2023;142(10):865-877 (EHA/EBMT); clinical-rules §4.3 and §10
    (windows [C]; grade cells [P], see the module doc). Uses the ANC blood values on day >= 0;
    one row per patient with any such value:

    * ``early_days_le_500``, ``early_days_le_100``: days 0-30 (31 days) with ANC <= 0.5 and
      <= 0.1 x10^9/L, each value holding until the next measurement, the last one to day 30,
      and non-stable recoveries (1-2 days not below, between two days below) counted in.
    * ``early_never_above_500``: ANC <= 0.5 by day 3 and then <= 0.5 on every day to day 30
      (no day above, no unknown day).
    * ``early_recovery_day``: after the first day <= 0.5, the first of 3 consecutive days > 0.5
      in days 0-30 (stable recovery); NA when none.
    * ``early_grade``: 4 if ``early_days_le_100`` >= 14 or ``early_never_above_500``; 3 if
      ``early_days_le_500`` >= 14 or ``early_days_le_100`` >= 7; 2 if ``early_days_le_500`` >= 7;
      1 if >= 1; else 0.
    * ``early_n_values``, ``early_first_day``, ``early_last_day``: the ANC values in days 0-30.
      Every ``early_*`` column is NA when there is none (not evaluable).
    * ``late_grade``: in days 31..``late_end``, the grade reached by at least two values (the
      grade of the second-lowest): 4 <= 0.1, 3 <= 0.5, 2 <= 1.0, 1 <= 1.5, else 0. NA when the
      window has fewer than two values. ``late_n_values``, ``late_nadir`` and
      ``late_second_lowest`` (a ``'<'``/``'>'`` value at its limit) are the inputs used.

    G-CSF is not taken into account (the store cannot know it in coded form; Table 1's handling
    of it could not be read).
    """
    late_end = _check_day("late_end", late_end, LATE_START_DAY)
    hold = _check_hold(max_hold_days)
    rows = _prepare(anc_obs, ("ANC",), min_day=EARLY_START_DAY)
    n = rows.n_groups
    if n == 0:
        return _empty_icaht()

    n_early, first_early, last_early = _window_stats(rows, EARLY_START_DAY, EARLY_END_DAY)
    no_early = n_early == 0
    grid = _grid(rows, EARLY_END_DAY, hold, _check_hold(last_hold_days))
    le500 = grid.meets("<=", ANC_SEVERE)
    le100 = grid.meets("<=", ANC_PROFOUND)
    days500 = _fill_nonstable(le500).sum(axis=1)
    days100 = _fill_nonstable(le100).sum(axis=1)

    first_le500 = _first_day(le500)
    from_first = np.arange(EARLY_END_DAY + 1)[None, :] >= first_le500[:, None]
    never_above = (
        (first_le500 >= 0)
        & (first_le500 <= NEVER_ABOVE_START_MAX_DAY)
        & np.all(~from_first | le500, axis=1)
    )
    recovery = _first_run_after(grid.known & ~le500, first_le500, STABLE_RECOVERY_DAYS)

    early = np.select(
        [
            (days100 >= ICAHT_PROFOUND_G4_DAYS) | never_above,
            (days500 >= ICAHT_G3_DAYS) | (days100 >= ICAHT_PROFOUND_G3_DAYS),
            days500 >= ICAHT_G2_DAYS,
            days500 >= 1,
        ],
        [4, 3, 2, 1],
        0,
    )

    n_late, nadir, second = _late_second_lowest(rows, late_end)
    has_late = second >= 0
    pick = np.clip(second, 0, None)
    late_value, late_eps = rows.value[pick], rows.eps[pick]
    late = np.select(
        [_meets(late_value, late_eps, "<=", limit) for _, limit in LATE_ICAHT_CUTS],
        [grade for grade, _ in LATE_ICAHT_CUTS],
        0,
    )

    return pd.DataFrame(
        {
            "patient_id": rows.ids,
            "early_grade": _ints(early, no_early),
            "early_days_le_500": _ints(days500, no_early),
            "early_days_le_100": _ints(days100, no_early),
            "early_never_above_500": _bools(never_above, no_early),
            "early_recovery_day": _ints(recovery, no_early | (recovery < 0)),
            "early_n_values": _ints(n_early, no_early),
            "early_first_day": _ints(first_early, no_early),
            "early_last_day": _ints(last_early, no_early),
            "late_grade": _ints(late, ~has_late),
            "late_n_values": pd.array(n_late, dtype="Int64"),
            "late_nadir": nadir,
            "late_second_lowest": np.where(has_late, late_value, np.nan),
        }
    ).reset_index(drop=True)


def _empty_icaht() -> pd.DataFrame:
    return _empty(
        {
            "patient_id": "str",
            "early_grade": "Int64",
            "early_days_le_500": "Int64",
            "early_days_le_100": "Int64",
            "early_never_above_500": "boolean",
            "early_recovery_day": "Int64",
            "early_n_values": "Int64",
            "early_first_day": "Int64",
            "early_last_day": "Int64",
            "late_grade": "Int64",
            "late_n_values": "Int64",
            "late_nadir": "float64",
            "late_second_lowest": "float64",
        }
    )


# --- T-ICAHT (platelets) --------------------------------------------------------------------------


def t_icaht(
    plt_obs: pd.DataFrame,
    *,
    late_end: int = T_ICAHT_LATE_END_DAY,
    max_hold_days: int | None = None,
    last_hold_days: int | None = None,
) -> pd.DataFrame:
    """Early (days 0-30) and late (days 31-100) T-ICAHT grades from the platelet count (10^9/L).

    Source: Rejeski K et al., T-ICAHT, Blood 2025, Table 1; clinical-rules §4.3 [C] (late G2
    cell [P]). Uses the PLT blood values on day >= 0; one row per patient with any such value.
    Days are counted on a day grid 0..``late_end`` (each value holding until the next
    measurement, the last one to ``late_end``), cumulatively, with non-stable recoveries (1-2
    days not below, between two days below) counted in:

    * ``early_days_lt_50``, ``early_days_lt_20``: such days in 0-30 with PLT < 50 and < 20.
    * ``early_grade``: 4 if ``early_days_lt_20`` >= 14; 3 if >= 1; 2 if ``early_days_lt_50``
      >= 7; 1 if >= 1; else 0. The ``early_*`` columns are NA without a value in days 0-30;
      ``early_n_values`` counts them.
    * ``late_n_values``, ``late_n_lt_100``, ``late_n_lt_50``, ``late_n_lt_20``: values in days
      31..``late_end`` (below each limit); ``late_days_lt_20``: such days in the late window.
    * ``late_grade`` ("two or more laboratory tests"): with at least two values < 20, 4 if
      ``late_days_lt_20`` >= 14 else 3; otherwise 2 with at least two values < 50, 1 with at
      least two < 100, else 0. NA when the window has fewer than two values.
    * ``recovery_day``: after the first day < 20, the first of 3 consecutive days >= 20 on the
      grid (0..``late_end``); NA when never < 20 or not recovered. The source also asks for no
      platelet transfusion for 7 days: transfusions are not in the store, so this is not checked.
    """
    late_end = _check_day("late_end", late_end, LATE_START_DAY)
    hold = _check_hold(max_hold_days)
    rows = _prepare(plt_obs, ("PLT",), min_day=EARLY_START_DAY)
    n = rows.n_groups
    if n == 0:
        return _empty_t_icaht()

    n_early, _, _ = _window_stats(rows, EARLY_START_DAY, EARLY_END_DAY)
    no_early = n_early == 0
    grid = _grid(rows, late_end, hold, _check_hold(last_hold_days))
    lt50 = _fill_nonstable(grid.meets("<", PLT_EARLY_LIMIT))
    lt20_raw = grid.meets("<", PLT_SEVERE_LIMIT)
    lt20 = _fill_nonstable(lt20_raw)
    early_cols = slice(EARLY_START_DAY, EARLY_END_DAY + 1)
    late_cols = slice(LATE_START_DAY, late_end + 1)
    e50, e20 = lt50[:, early_cols].sum(axis=1), lt20[:, early_cols].sum(axis=1)
    l20 = lt20[:, late_cols].sum(axis=1)

    early = np.select(
        [e20 >= PLT_G4_DAYS, e20 >= 1, e50 >= PLT_EARLY_G2_DAYS, e50 >= 1], [4, 3, 2, 1], 0
    )

    in_late = (rows.day >= LATE_START_DAY) & (rows.day <= late_end)
    n_late = rows.count(in_late)
    counts = {
        limit: rows.count(in_late & _meets(rows.value, rows.eps, "<", limit))
        for limit in (PLT_LATE_G1_LIMIT, PLT_LATE_G2_LIMIT, PLT_SEVERE_LIMIT)
    }
    k = LATE_MIN_VALUES
    late = np.select(
        [
            (counts[PLT_SEVERE_LIMIT] >= k) & (l20 >= PLT_G4_DAYS),
            counts[PLT_SEVERE_LIMIT] >= k,
            counts[PLT_LATE_G2_LIMIT] >= k,
            counts[PLT_LATE_G1_LIMIT] >= k,
        ],
        [4, 3, 2, 1],
        0,
    )
    recovery = _first_run_after(
        grid.meets(">=", PLT_RECOVERY_LIMIT), _first_day(lt20_raw), STABLE_RECOVERY_DAYS
    )

    return pd.DataFrame(
        {
            "patient_id": rows.ids,
            "early_grade": _ints(early, no_early),
            "early_days_lt_50": _ints(e50, no_early),
            "early_days_lt_20": _ints(e20, no_early),
            "early_n_values": _ints(n_early, no_early),
            "late_grade": _ints(late, n_late < k),
            "late_days_lt_20": _ints(l20, n_late < k),
            "late_n_values": pd.array(n_late, dtype="Int64"),
            "late_n_lt_100": pd.array(counts[PLT_LATE_G1_LIMIT], dtype="Int64"),
            "late_n_lt_50": pd.array(counts[PLT_LATE_G2_LIMIT], dtype="Int64"),
            "late_n_lt_20": pd.array(counts[PLT_SEVERE_LIMIT], dtype="Int64"),
            "recovery_day": _ints(recovery, recovery < 0),
        }
    ).reset_index(drop=True)


def _empty_t_icaht() -> pd.DataFrame:
    return _empty(
        {
            "patient_id": "str",
            "early_grade": "Int64",
            "early_days_lt_50": "Int64",
            "early_days_lt_20": "Int64",
            "early_n_values": "Int64",
            "late_grade": "Int64",
            "late_days_lt_20": "Int64",
            "late_n_values": "Int64",
            "late_n_lt_100": "Int64",
            "late_n_lt_50": "Int64",
            "late_n_lt_20": "Int64",
            "recovery_day": "Int64",
        }
    )


# --- CAR-HEMATOTOX --------------------------------------------------------------------------------


def _ld_start_days(ld_start: pd.DataFrame | None) -> pd.Series:
    """Per patient: the first lymphodepletion day, from a frame with ``patient_id`` and
    ``ld_start_day`` or ``start_day`` (an events frame; with a ``kind`` column only
    'lymphodepletion' rows count). Rows without a day are ignored."""
    if ld_start is None or len(ld_start) == 0:
        return pd.Series(dtype="int64")
    column = "ld_start_day" if "ld_start_day" in ld_start.columns else "start_day"
    if "patient_id" not in ld_start.columns or column not in ld_start.columns:
        raise ValueError("ld_start needs the columns patient_id and ld_start_day (or start_day)")
    frame = ld_start
    if "kind" in frame.columns:
        frame = frame.loc[_flag(frame, "kind", "lymphodepletion")]
    day = _floats(frame[column])
    keep = ~np.isnan(day)
    if (day[keep] != np.round(day[keep])).any():
        raise ValueError("lymphodepletion start on a fractional day: study days are whole numbers")
    if (day[keep] >= 0).any():
        raise ValueError("lymphodepletion starts before the infusion (day 0): found a day >= 0")
    if frame["patient_id"][keep].isna().any():
        raise ValueError("lymphodepletion rows with a missing patient_id")
    days = pd.Series(day[keep].astype(np.int64), index=frame["patient_id"][keep].to_numpy())
    return days.groupby(level=0).min()


def car_hematotox(
    pre_ld_obs: pd.DataFrame,
    ld_start: pd.DataFrame | None = None,
    *,
    lookback_days: int = PRE_LD_LOOKBACK_DAYS,
    include_ld_day: bool = PRE_LD_INCLUDES_LD_DAY,
    default_window: tuple[int, int] = DEFAULT_PRE_LD_WINDOW,
) -> pd.DataFrame:
    """The CAR-HEMATOTOX score (0-7) and risk group from the labs before lymphodepletion.

    Source: Rejeski K et al., Blood 2021;138(24):2499-2513; clinical-rules §4.3 (components,
    timing, 0-1 low / >= 2 high [C]; point cut-offs ``HEMATOTOX_CUTS`` [U]) and §10. Validated
    only in LBCL: show ``NOT_VALIDATED_NOTE`` beside it. ``pre_ld_obs`` needs a ``code`` column
    (ANC, HGB, PLT, CRP, FERRITIN in 10*9/L, g/dL, 10*9/L, mg/L, ng/mL); ``ld_start``
    (optional) gives each patient's first lymphodepletion day (see ``_ld_start_days``).

    Per component the last value in the window is used: days L - ``lookback_days`` .. L (L
    excluded unless ``include_ld_day``) for a patient with a lymphodepletion start day L, else
    ``default_window`` (days -30 .. -5). One row per patient with any row of the five parameters
    or a lymphodepletion day:

    * ``score``: the sum of the five components' points; NA when any is missing.
    * ``risk_group``: 'low' (0-1) or 'high' (>= 2); NA with the score.
    * ``missing_components``: the components without a value in the window, e.g. "CRP, FERRITIN";
      "" when none is missing. ``partial_score``: the points of the components present.
    * ``ld_start_day`` (NA when unknown), ``window_from``, ``window_to``: the window used.
    * ``{anc,hgb,plt,crp,ferritin}_value`` / ``_day`` / ``_points``: the value used (a
      ``'<'``/``'>'`` value at its limit, 'not_detected' as 0), its day and its points.
    """
    lookback = _check_day("lookback_days", lookback_days, 0)
    lo_default, hi_default = (int(default_window[0]), int(default_window[1]))
    if lo_default > hi_default or hi_default >= 0:
        raise ValueError(f"default_window must be (from, to) before day 0, got {default_window!r}")
    rows = _prepare(pre_ld_obs, HEMATOTOX_COMPONENTS, min_day=None)
    ld = _ld_start_days(ld_start)
    ids = rows.ids.union(pd.Index(ld.index)).sort_values() if len(ld) else rows.ids
    n = len(ids)
    if n == 0:
        return _empty_hematotox()

    ld_day = ld.reindex(ids)
    has_ld = ld_day.notna().to_numpy()
    ld_values = ld_day.fillna(0).to_numpy(dtype=np.int64)
    window_to = np.where(has_ld, ld_values - (0 if include_ld_day else 1), hi_default)
    window_from = np.where(has_ld, ld_values - lookback, lo_default)

    patient = ids.get_indexer(rows.ids)[rows.group]
    inside = np.flatnonzero((rows.day >= window_from[patient]) & (rows.day <= window_to[patient]))
    k = len(HEMATOTOX_COMPONENTS)
    value = np.full((n, k), np.nan)
    eps = np.zeros((n, k), dtype=np.int8)
    day = np.zeros((n, k), dtype=np.int64)
    if inside.size:
        # Rows are sorted by (patient, code, day): the last row of each (patient, code) run wins.
        p, c = patient[inside], rows.code[inside]
        last = np.r_[(p[1:] != p[:-1]) | (c[1:] != c[:-1]), True]
        pick = inside[last]
        value[p[last], c[last]] = rows.value[pick]
        eps[p[last], c[last]] = rows.eps[pick]
        day[p[last], c[last]] = rows.day[pick]
    missing = np.isnan(value)

    points = np.zeros((n, k), dtype=np.int64)
    for j, name in enumerate(HEMATOTOX_COMPONENTS):
        points[:, j] = np.select(
            [_meets(value[:, j], eps[:, j], op, limit) for op, limit, _ in HEMATOTOX_CUTS[name]],
            [pts for _, _, pts in HEMATOTOX_CUTS[name]],
            0,
        )
    incomplete = missing.any(axis=1)
    partial = np.where(missing, 0, points).sum(axis=1)

    names = np.full(n, "", dtype=object)
    for j, name in enumerate(HEMATOTOX_COMPONENTS):
        names = np.where(missing[:, j], np.where(names == "", name, names + ", " + name), names)
    risk = pd.array(np.where(partial >= HEMATOTOX_HIGH_MIN, "high", "low"), dtype="string")
    risk[incomplete] = pd.NA

    columns: dict[str, object] = {
        "patient_id": ids,
        "score": _ints(partial, incomplete),
        "risk_group": risk,
        "missing_components": pd.array(names, dtype="string"),
        "partial_score": pd.array(partial, dtype="Int64"),
        "ld_start_day": _ints(ld_values, ~has_ld),
        "window_from": pd.array(window_from, dtype="Int64"),
        "window_to": pd.array(window_to, dtype="Int64"),
    }
    for j, name in enumerate(HEMATOTOX_COMPONENTS):
        prefix = name.lower()
        columns[f"{prefix}_value"] = value[:, j]
        columns[f"{prefix}_day"] = _ints(day[:, j], missing[:, j])
        columns[f"{prefix}_points"] = _ints(points[:, j], missing[:, j])
    return pd.DataFrame(columns).reset_index(drop=True)


def _empty_hematotox() -> pd.DataFrame:
    dtypes = {
        "patient_id": "str",
        "score": "Int64",
        "risk_group": "string",
        "missing_components": "string",
        "partial_score": "Int64",
        "ld_start_day": "Int64",
        "window_from": "Int64",
        "window_to": "Int64",
    }
    for name in HEMATOTOX_COMPONENTS:
        prefix = name.lower()
        dtypes |= {
            f"{prefix}_value": "float64",
            f"{prefix}_day": "Int64",
            f"{prefix}_points": "Int64",
        }
    return _empty(dtypes)
