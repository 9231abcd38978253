"""2016 ACR/EULAR Total Improvement Score (TIS) and PRINTO clinically inactive disease (CID).

TIS sources: Rider LG et al., "2016 American College of Rheumatology/European League Against
Rheumatism Criteria for Minimal, Moderate, and Major Clinical Response in Juvenile
Dermatomyositis", Arthritis Rheumatol 2017;69(5), doi 10.1002/art.40060 (PubMed 28382778 gives
pp. 911-923; the PMC author manuscript PMC5407906 gives pp. 898-910 and doi 10.1002/art.40064, so
the title and the DOI read on PubMed are cited; also Ann Rheum Dis 2017;76:782-791, Table 3), and
Aggarwal R et al., the same criteria for adult dermatomyositis and polymyositis, Arthritis
Rheumatol 2017;69(5) and Ann Rheum Dis 2017;76:792-801; clinical-rules §3.1 and §10.
CID source: Lazarevic D et al. Ann Rheum Dis 2013;72:686-693; clinical-rules §3.2.

Status (clinical-rules §3.1): the points table and the category thresholds are **[C]**; the
percent-change formula is **[P]** (our reading of the papers, whose footnote could not be read).

TIS
---
Six core set *slots*, each filled by one measure (the IMACS measure or its PRINTO alternative):

* ``physician_global`` PGA, ``parent_global`` PARENT_GA, ``chaq`` CHAQ (fixed);
* ``enzyme``: the most abnormal muscle enzyme (``ENZYME``), or CHQ-PhS (``CHQ_PHS``, PRINTO);
* ``extramuscular``: EXTRAMUSC (IMACS) or DAS (PRINTO);
* ``strength``: MMT8 (IMACS) or CMAS (PRINTO).

Percent change (clinical-rules §3.1, "Formula used by this project", [P]):

* every slot but the enzyme: *absolute* percent change, improvement / (scale max - scale min)
  x 100, improvement = baseline - follow-up on lower-is-better scales and follow-up - baseline on
  higher-is-better ones. Scales and directions come from the parameter dictionary
  (``data/reference/parameters.csv``); a code without a scale there (CHQ_PHS today) leaves its
  slot missing unless the caller supplies a :class:`Scale`.
* the enzyme: *relative* percent change (baseline - follow-up) / baseline x 100 of the enzyme
  most abnormal at baseline (highest value / ULN among CK, ALDOLASE, LDH, AST, ALT; ULN = the
  result's own ``ref_high``, else the dictionary default; ties go to that order), the same enzyme
  at follow-up. That enzyme missing at follow-up, or a baseline of 0, leaves the slot missing.

Percentages are rounded to ``SIGNIF_DIGITS`` significant digits before they meet a band edge, so
CHAQ 1.0 -> 0.85 (0.15000000000000002 / 3) is exactly 5 %. A band's lower edge is exclusive and
its upper edge inclusive: 15 % gives 7.5 points for the physician global, 15.01 % gives 15.
Worsening (a negative change) scores 0. The maximum total is 100.

A TIS and its category are reported only when all six slots are present; otherwise ``tis`` and
``category`` are missing and ``n_components``/``partial_sum`` say how far it got ("incomplete
(n of 6)"). An incomplete TIS never gets a category.

CID
---
PRINTO CID = at least 3 of: CK <= 150 U/L, CMAS >= 48, MMT8 >= 78, PGA <= 0.2 cm. Undecidable
(missing) when the criteria not assessed could still change the answer.

Everything here is pure: no Streamlit, no DuckDB. Values are in the dictionary's units.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

import numpy as np
import pandas as pd

from carta import dictionary
from carta.measures.numbers import signif

SOURCE_TIS = (
    "Rider LG et al., 2016 ACR/EULAR response criteria for juvenile dermatomyositis, Arthritis "
    "Rheumatol 2017;69(5), doi 10.1002/art.40060 (Table 3); Aggarwal R et al., the same for adult "
    "DM/PM, Ann Rheum Dis 2017;76:792-801; clinical-rules §3.1"
)
SOURCE_CID = "Lazarevic D et al. Ann Rheum Dis 2013;72:686-693; clinical-rules §3.2"
SIGNIF_DIGITS = 10

KEYS = ("patient_id", "timepoint", "code")

# --- the TIS points table ----------------------------------------------------------------------

SLOTS: tuple[str, ...] = (
    "physician_global",
    "parent_global",
    "chaq",
    "enzyme",
    "extramuscular",
    "strength",
)


@dataclass(frozen=True)
class Bands:
    """Points of one slot: band i is ``edges[i-1] < percent <= edges[i]`` (open at both ends)."""

    edges: tuple[float, ...]  # inclusive upper edges, in percent
    points: tuple[float, ...]  # one more than edges; the first band includes all worsening


# Rider 2017 Table 3 [C] (same table for adults, Aggarwal 2017 [C]); clinical-rules §3.1.
# Columns: "worsening to 5%", ">5-15%", ">15-25%", ">25-40%", ">40%"; MMT/CMAS: "worsening to 2%",
# ">2-10%", ">10-20%", ">20-30%", ">30%". Lower edge exclusive, upper inclusive [P].
_FIVE_BANDS = (5.0, 15.0, 25.0, 40.0)
POINTS: Mapping[str, Bands] = MappingProxyType(
    {
        "physician_global": Bands(_FIVE_BANDS, (0.0, 7.5, 15.0, 17.5, 20.0)),
        "parent_global": Bands(_FIVE_BANDS, (0.0, 2.5, 5.0, 7.5, 10.0)),
        "chaq": Bands(_FIVE_BANDS, (0.0, 5.0, 7.5, 7.5, 10.0)),
        "enzyme": Bands(_FIVE_BANDS, (0.0, 2.5, 5.0, 7.5, 7.5)),  # or CHQ-PhS (PRINTO)
        "extramuscular": Bands(_FIVE_BANDS, (0.0, 7.5, 12.5, 15.0, 20.0)),  # or DAS (PRINTO)
        "strength": Bands((2.0, 10.0, 20.0, 30.0), (0.0, 10.0, 20.0, 27.5, 32.5)),  # MMT or CMAS
    }
)

# --- measures that fill the slots --------------------------------------------------------------

ENZYME = "ENZYME"  # pseudo-code: the most abnormal muscle enzyme at baseline
ENZYME_CODES: tuple[str, ...] = ("CK", "ALDOLASE", "LDH", "AST", "ALT")  # tie order
CHQ_PHS = "CHQ_PHS"  # CHQ physical summary score; not in the parameter dictionary yet

FIXED_SLOTS: Mapping[str, str] = MappingProxyType(
    {"physician_global": "PGA", "parent_global": "PARENT_GA", "chaq": "CHAQ"}
)
# Rider 2017 Table 3: IMACS measure "or" its PRINTO alternative [C].
ALTERNATIVES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "enzyme": (ENZYME, CHQ_PHS),
        "extramuscular": ("EXTRAMUSC", "DAS"),
        "strength": ("MMT8", "CMAS"),
    }
)
MEASURE_SETS: dict[str, dict[str, str]] = {
    "IMACS": {"strength": "MMT8", "extramuscular": "EXTRAMUSC", "enzyme": ENZYME},
    "PRINTO": {"strength": "CMAS", "extramuscular": "DAS", "enzyme": CHQ_PHS},
}

# Rider 2017 (JDM) and Aggarwal 2017 (adult DM/PM) [C]; clinical-rules §3.1.
THRESHOLDS: dict[str, dict[str, float]] = {
    "JDM": {"minimal": 30.0, "moderate": 45.0, "major": 70.0},
    "adult": {"minimal": 20.0, "moderate": 40.0, "major": 60.0},
}
CATEGORIES: tuple[str, ...] = ("none", "minimal", "moderate", "major")


@dataclass(frozen=True)
class Scale:
    """The range of a score and which end is better."""

    low: float
    high: float
    better: Literal["lower", "higher"]


def slot_codes(measure_set: str = "IMACS", overrides: Mapping[str, str] | None = None) -> dict:
    """The code filling each of the six slots (``ENZYME`` = most abnormal enzyme).

    ``overrides`` replaces single slots with their other allowed measure, e.g.
    ``{"enzyme": "ENZYME"}`` in the PRINTO set. Raises ValueError for an unknown measure set,
    slot or code. Source: Rider 2017 Table 3; clinical-rules §3.1.
    """
    if measure_set not in MEASURE_SETS:
        raise ValueError(f"unknown measure set {measure_set!r}; expected one of {[*MEASURE_SETS]}")
    codes = {**FIXED_SLOTS, **MEASURE_SETS[measure_set]}
    for slot, code in (overrides or {}).items():
        if slot not in ALTERNATIVES:
            raise ValueError(
                f"slot {slot!r} cannot be overridden; overridable slots: {[*ALTERNATIVES]}"
            )
        if code not in ALTERNATIVES[slot]:
            raise ValueError(
                f"{code!r} cannot fill slot {slot!r}; allowed: {list(ALTERNATIVES[slot])}"
            )
        codes[slot] = code
    return {slot: codes[slot] for slot in SLOTS}


def scale_of(code: str, scales: Mapping[str, Scale] | None = None) -> Scale | None:
    """The scale of a score code: ``scales`` first, then the parameter dictionary; else None."""
    if scales and code in scales:
        return scales[code]
    params = dictionary.parameters().set_index("code")
    if code not in params.index:
        return None
    row = params.loc[code]
    low, high, better = row["scale_min"], row["scale_max"], row["better"]
    if pd.isna(low) or pd.isna(high) or better not in ("lower", "higher") or high <= low:
        return None
    return Scale(float(low), float(high), better)


# --- scalar helpers ----------------------------------------------------------------------------


def _signif(x):
    """Round to ``SIGNIF_DIGITS`` significant digits (R's ``signif``); arrays or scalars."""
    return signif(x, SIGNIF_DIGITS)


def _points(slot: str, percent: np.ndarray) -> np.ndarray:
    """Vectorised :func:`band_points`: NaN in, NaN out."""
    bands = POINTS[slot]
    pct = _signif(percent)
    index = np.searchsorted(np.asarray(bands.edges), np.where(np.isnan(pct), 0.0, pct), "left")
    return np.where(np.isnan(pct), np.nan, np.asarray(bands.points)[index])


def band_points(slot: str, percent: float | None) -> float | None:
    """TIS points of one slot for a percent change (negative = worsening); None when missing.

    Lower band edge exclusive, upper inclusive, after rounding to ``SIGNIF_DIGITS`` significant
    digits: ``band_points("physician_global", 15) == 7.5``, ``(..., 15.01) == 15``. Source:
    Rider LG et al. Arthritis Rheumatol 2017;69(5), doi 10.1002/art.40060, Table 3;
    clinical-rules §3.1.
    """
    if slot not in POINTS:
        raise ValueError(f"unknown slot {slot!r}; expected one of {list(SLOTS)}")
    if percent is None or percent is pd.NA:
        return None
    value = float(percent)
    if math.isnan(value):
        return None
    return float(_points(slot, np.array([value]))[0])


def category(tis: float | None, population: str = "JDM") -> str | None:
    """Response category of a complete TIS ("none", "minimal", "moderate", "major"); None if
    the TIS is missing. Thresholds: Rider 2017 (JDM), Aggarwal 2017 (adult); clinical-rules §3.1.
    """
    if population not in THRESHOLDS:
        raise ValueError(f"unknown population {population!r}; expected one of {[*THRESHOLDS]}")
    if tis is None or tis is pd.NA or math.isnan(float(tis)):
        return None
    return str(_categories(np.array([float(tis)]), population)[0])


def _categories(tis: np.ndarray, population: str) -> np.ndarray:
    limits = THRESHOLDS[population]
    score = _signif(tis)
    out = np.full(len(tis), None, dtype=object)
    out[~np.isnan(score)] = "none"
    for name in ("minimal", "moderate", "major"):  # ascending: the last one met wins
        with np.errstate(invalid="ignore"):
            out[score >= limits[name]] = name
    return out


# --- frames ------------------------------------------------------------------------------------
# The long frame is integer-coded once (factorize), then every rule works on numpy arrays:
# one dense row per patient (baseline) or per patient x timepoint (follow-up), one column per
# code needed. No Python loop runs per patient.


def _floats(column: pd.Series) -> np.ndarray:
    values = pd.to_numeric(column).astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    return np.where(np.isfinite(values), values, np.nan)


@dataclass(frozen=True)
class _Long:
    """The rows of ``values`` that carry a number, integer-coded."""

    patients: pd.Index  # distinct patient_id
    timepoints: pd.Index  # distinct timepoint
    codes: pd.Index  # distinct code
    p: np.ndarray  # per row: position in ``patients``
    t: np.ndarray
    c: np.ndarray
    value: np.ndarray
    ref_high: np.ndarray
    scale_max: np.ndarray  # the scale's maximum the value names (MMT8 0-150); NaN: the default

    def code_columns(self, wanted: tuple[str, ...]) -> np.ndarray:
        """Per row: the position of its code in ``wanted``, -1 when not wanted."""
        lookup = np.full(len(self.codes) + 1, -1, dtype=np.int64)
        for j, code in enumerate(wanted):
            if code in self.codes:
                lookup[self.codes.get_loc(code)] = j
        return lookup[self.c]

    def pairs(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distinct patient x timepoint pairs of ``rows`` (as p * n_t + t) and each row's pair."""
        key = self.p[rows] * len(self.timepoints) + self.t[rows]
        return np.unique(key, return_inverse=True)


def _prepare(values: pd.DataFrame) -> _Long:
    """Check the long frame and integer-code the rows that carry a number.

    Duplicated patient_id x timepoint x code rows raise ValueError: which of them would be "the"
    value at that timepoint is undefined, and a silent pick would hide an upstream bug.
    """
    missing = [c for c in (*KEYS, "value") if c not in values.columns]
    if missing:
        raise ValueError(f"values is missing column(s) {missing}")
    p, patients = pd.factorize(values["patient_id"])
    t, timepoints = pd.factorize(values["timepoint"])
    c, codes = pd.factorize(values["code"].astype(str).where(values["code"].notna()))
    has_keys = (p >= 0) & (t >= 0) & (c >= 0)
    key = (p.astype(np.int64) * len(timepoints) + t) * len(codes) + c
    duplicated = pd.Series(np.where(has_keys, key, -1)).duplicated(keep=False).to_numpy() & has_keys
    if duplicated.any():
        examples = values.loc[duplicated, list(KEYS)].drop_duplicates().head(3)
        shown = "; ".join(" x ".join(map(str, row)) for row in examples.itertuples(index=False))
        raise ValueError(
            f"values has {int(duplicated.sum())} rows sharing a patient_id x timepoint x code "
            f"(e.g. {shown}); pass one value per patient, timepoint and code"
        )
    value = _floats(values["value"])
    ref_high = (
        _floats(values["ref_high"]) if "ref_high" in values.columns else np.full(len(value), np.nan)
    )
    absent = np.full(len(value), np.nan)
    scale_max = _floats(values["scale_max"]) if "scale_max" in values.columns else absent
    keep = has_keys & ~np.isnan(value)
    return _Long(
        pd.Index(patients),
        pd.Index(timepoints),
        pd.Index(codes),
        p[keep].astype(np.int64),
        t[keep].astype(np.int64),
        c[keep].astype(np.int64),
        value[keep],
        ref_high[keep],
        scale_max[keep],
    )


def _timepoint_rank(timepoints: pd.Index, visit: Mapping) -> np.ndarray:
    """Sort rank of each distinct timepoint: the dictionary's visit order, then by name."""
    items = list(timepoints)
    try:
        order = sorted(range(len(items)), key=lambda i: (visit.get(items[i], math.inf), items[i]))
    except TypeError:  # names that do not compare (mixed types)
        order = sorted(range(len(items)), key=lambda i: visit.get(items[i], math.inf))
    rank = np.empty(len(items), dtype=np.int64)
    rank[order] = np.arange(len(items))
    return rank


def _keys_frame(long: _Long, pairs: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """patient_id and timepoint of each pair, and the order that sorts them by patient and then
    by the dictionary's visit order (timepoints it does not know come last, by name)."""
    n_t = len(long.timepoints)
    p, t = pairs // n_t, pairs % n_t
    windows = dictionary.timepoints()
    visit = dict(zip(windows["name"], windows["sort"], strict=True))
    try:
        patient_rank = np.argsort(long.patients.argsort(kind="stable"), kind="stable")
    except TypeError:  # patient ids that do not compare (mixed types): first-seen order
        patient_rank = np.arange(len(long.patients))
    timepoint_rank = _timepoint_rank(long.timepoints, visit)
    order = np.lexsort((timepoint_rank[t], patient_rank[p])) if len(pairs) else pairs
    frame = pd.DataFrame(
        {
            "patient_id": long.patients.take(p[order]),
            "timepoint": long.timepoints.take(t[order]),
        }
    )
    return frame, order


def _matrix(n_rows: int, row: np.ndarray, column: np.ndarray, value: np.ndarray, width: int):
    """Dense ``n_rows`` x ``width`` float matrix of ``value`` at (row, column); NaN elsewhere."""
    out = np.full((n_rows, width), np.nan)
    out[row, column] = value
    return out


def _enzyme_choice(base: np.ndarray, uln: np.ndarray) -> np.ndarray:
    """Per row of ``base`` (columns ``ENZYME_CODES``): the column of the enzyme most abnormal
    (value / ULN, rounded), ties to the first in ``ENZYME_CODES``; -1 when none is usable."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = _signif(np.where(uln > 0, base / uln, np.nan))
    usable = ~np.isnan(ratio)
    choice = np.argmax(np.where(usable, ratio, -np.inf), axis=1)  # first maximum wins
    return np.where(usable.any(axis=1), choice, -1)


TIS_COLUMNS: tuple[str, ...] = (
    "patient_id",
    "timepoint",
    "tis",
    "category",
    "complete",
    "n_components",
    "partial_sum",
    *(f"points_{slot}" for slot in SLOTS),
    *(f"pct_{slot}" for slot in SLOTS),
    "code_enzyme",
    "code_extramuscular",
    "code_strength",
    "measure_set",
    "population",
)


def tis_frame(
    values: pd.DataFrame,
    *,
    baseline: str = "Baseline",
    measure_set: str = "IMACS",
    population: str = "JDM",
    overrides: dict[str, str] | None = None,
    scales: Mapping[str, Scale] | None = None,
) -> pd.DataFrame:
    """2016 ACR/EULAR Total Improvement Score of every follow-up timepoint against baseline.

    ``values``: one row per patient_id x timepoint x code with ``value`` and optionally
    ``ref_high`` (the result's ULN; missing -> the dictionary default). Rows without a number are
    ignored; duplicated patient_id x timepoint x code rows raise ValueError. Returns one row per
    patient x timepoint other than ``baseline``, for patients with data at ``baseline``, sorted
    by patient and visit order; columns ``TIS_COLUMNS``. ``tis`` and ``category`` are set only
    when all six slots are present. ``code_<slot>`` is the code that filled the slot (None when
    the slot is missing). ``scales`` supplies scales for codes the dictionary lacks (CHQ_PHS).

    Sources: Rider LG et al. Arthritis Rheumatol 2017;69(5), doi 10.1002/art.40060 (Table 3);
    Aggarwal R et al. Ann Rheum Dis 2017;76:792-801; clinical-rules §3.1 (table and thresholds [C],
    formula [P]).
    """
    codes = slot_codes(measure_set, overrides)
    if population not in THRESHOLDS:
        raise ValueError(f"unknown population {population!r}; expected one of {[*THRESHOLDS]}")
    long = _prepare(values)
    is_base = np.zeros(len(long.p), dtype=bool)
    if baseline in long.timepoints:
        is_base = long.t == long.timepoints.get_loc(baseline)
    has_base = np.zeros(len(long.patients), dtype=bool)
    has_base[long.p[is_base]] = True
    follow = ~is_base & has_base[long.p]
    pairs, pair_of_row = long.pairs(follow)
    n = len(pairs)
    pair_patient = pairs // len(long.timepoints)

    wanted = (*ENZYME_CODES, *sorted({c for c in codes.values() if c not in (ENZYME,)}))
    wanted = tuple(dict.fromkeys(wanted))  # ENZYME_CODES first, in their tie order
    column = long.code_columns(wanted)
    in_base = is_base & (column >= 0)
    in_follow = follow & (column >= 0)
    base_value = _matrix(
        len(long.patients), long.p[in_base], column[in_base], long.value[in_base], len(wanted)
    )
    base_uln = _matrix(
        len(long.patients), long.p[in_base], column[in_base], long.ref_high[in_base], len(wanted)
    )
    follow_value = _matrix(
        n, pair_of_row[column[follow] >= 0], column[in_follow], long.value[in_follow], len(wanted)
    )
    base_scale = _matrix(
        len(long.patients), long.p[in_base], column[in_base], long.scale_max[in_base], len(wanted)
    )
    follow_scale = _matrix(
        n, pair_of_row[column[follow] >= 0], column[in_follow], long.scale_max[in_follow],
        len(wanted),
    )  # fmt: skip

    pct: dict[str, np.ndarray] = {}
    filled_by: dict[str, np.ndarray] = {}
    for slot, code in codes.items():
        if code == ENZYME:
            k = len(ENZYME_CODES)
            defaults = dictionary.parameters().set_index("code")["ref_high"]
            default_uln = np.array([defaults.get(e, np.nan) for e in ENZYME_CODES], dtype=float)
            uln = np.where(np.isnan(base_uln[:, :k]), default_uln, base_uln[:, :k])
            choice = _enzyme_choice(base_value[:, :k], uln)[pair_patient]
            safe = np.maximum(choice, 0)
            b = np.where(choice >= 0, base_value[pair_patient, safe], np.nan)
            f = np.where(choice >= 0, follow_value[np.arange(n), safe], np.nan)
            with np.errstate(divide="ignore", invalid="ignore"):
                pct[slot] = np.where(b > 0, (b - f) / b * 100.0, np.nan)
            filled_by[slot] = np.array((*ENZYME_CODES, None), dtype=object)[
                np.where(choice >= 0, choice, k)
            ]
        else:
            scale = scale_of(code, scales)
            j = wanted.index(code)
            if scale is None:
                pct[slot] = np.full(n, np.nan)
            else:
                b = base_value[pair_patient, j]
                f = follow_value[:, j]
                improvement = b - f if scale.better == "lower" else f - b
                # The scale is the value's own (MMT8 0-80 or 0-150): a change between two
                # scales is not a change of the patient, so it is left out, never rescaled.
                high_b = np.where(
                    np.isnan(base_scale[pair_patient, j]), scale.high, base_scale[pair_patient, j]
                )
                high_f = np.where(np.isnan(follow_scale[:, j]), scale.high, follow_scale[:, j])
                with np.errstate(divide="ignore", invalid="ignore"):
                    change = improvement / (high_b - scale.low) * 100.0
                pct[slot] = np.where(high_b == high_f, change, np.nan)  # fmt: skip
            filled_by[slot] = np.full(n, code, dtype=object)
        pct[slot] = _signif(pct[slot])

    points = {slot: _points(slot, pct[slot]) for slot in SLOTS}
    stacked = np.column_stack([points[slot] for slot in SLOTS]) if n else np.empty((0, 6))
    present = ~np.isnan(stacked)
    n_components = present.sum(axis=1)
    partial_sum = _signif(np.where(present, stacked, 0.0).sum(axis=1))
    complete = n_components == len(SLOTS)
    tis = np.where(complete, partial_sum, np.nan)
    categories = _categories(tis, population)

    out, order = _keys_frame(long, pairs)
    out["tis"] = tis[order]
    out["category"] = pd.Series(categories[order], dtype=object)
    out["complete"] = complete[order]
    out["n_components"] = n_components[order].astype(np.int64)
    out["partial_sum"] = partial_sum[order]
    for slot in SLOTS:
        out[f"points_{slot}"] = points[slot][order]
    for slot in SLOTS:
        out[f"pct_{slot}"] = pct[slot][order]
    for slot in ("enzyme", "extramuscular", "strength"):
        code_col = np.where(np.isnan(points[slot]), None, filled_by[slot])
        out[f"code_{slot}"] = pd.Series(code_col[order], dtype=object)  # None, not NaN
    out["measure_set"] = measure_set
    out["population"] = population
    return out[list(TIS_COLUMNS)]


# --- PRINTO clinically inactive disease --------------------------------------------------------


@dataclass(frozen=True)
class CidCriterion:
    code: str
    op: Literal["<=", ">="]
    threshold: float
    unit: str
    label: str


# Lazarevic D et al. Ann Rheum Dis 2013;72:686-693 [C]; clinical-rules §3.2. Units are the
# parameter dictionary's (CK U/L; PGA = physician global VAS in cm).
CID_CRITERIA: tuple[CidCriterion, ...] = (
    CidCriterion("CK", "<=", 150.0, "U/L", "CK ≤ 150 U/L"),
    CidCriterion("CMAS", ">=", 48.0, "{score}", "CMAS ≥ 48"),
    CidCriterion("MMT8", ">=", 78.0, "{score}", "MMT8 ≥ 78"),
    CidCriterion("PGA", "<=", 0.2, "cm", "PGA ≤ 0.2 cm"),
)
CID_MIN_MET = 3  # "at least 3 of 4" [C]

# '; '-joined labels for every subset of criteria met, indexed by the bit mask of met criteria.
_CID_LABELS = np.array(
    [
        "; ".join(c.label for i, c in enumerate(CID_CRITERIA) if mask >> i & 1)
        for mask in range(2 ** len(CID_CRITERIA))
    ],
    dtype=object,
)

CID_COLUMNS: tuple[str, ...] = (
    "patient_id",
    "timepoint",
    "cid",
    "n_met",
    "n_assessed",
    "criteria_met",
)


def cid_frame(values: pd.DataFrame) -> pd.DataFrame:
    """PRINTO clinically inactive disease at every patient x timepoint with data.

    CID = at least 3 of 4: CK <= 150 U/L, CMAS >= 48, MMT8 >= 78, PGA <= 0.2 cm (limits
    included; values rounded to ``SIGNIF_DIGITS`` significant digits first). ``cid`` is True
    when >= 3 are met, False when even the missing ones could not bring it to 3, and missing
    (pd.NA) otherwise. Same input rules as :func:`tis_frame`; columns ``CID_COLUMNS``, sorted by
    patient and visit order. Source: Lazarevic D et al. Ann Rheum Dis 2013;72:686-693;
    clinical-rules §3.2.
    """
    long = _prepare(values)
    pairs, pair_of_row = long.pairs(np.ones(len(long.p), dtype=bool))
    codes = tuple(c.code for c in CID_CRITERIA)
    column = long.code_columns(codes)
    # The cut-offs are on the dictionary's scales (MMT8 >= 78 of 80): a value on another scale
    # (MMT8 of 150) is not assessed rather than rescaled.
    default_high = dictionary.parameters().set_index("code")["scale_max"]
    own_high = np.array([default_high.get(c, np.nan) for c in codes] + [np.nan])[column]
    other_scale = ~np.isnan(long.scale_max) & (long.scale_max != own_high)
    used = (column >= 0) & ~other_scale
    matrix = _signif(
        _matrix(len(pairs), pair_of_row[used], column[used], long.value[used], len(codes))
    )
    assessed = ~np.isnan(matrix)
    met = np.zeros(matrix.shape, dtype=bool)
    for i, criterion in enumerate(CID_CRITERIA):
        limit = _signif(criterion.threshold)
        with np.errstate(invalid="ignore"):
            hit = matrix[:, i] <= limit if criterion.op == "<=" else matrix[:, i] >= limit
        met[:, i] = assessed[:, i] & hit
    n_met = met.sum(axis=1)
    n_assessed = assessed.sum(axis=1)
    n_missing = len(CID_CRITERIA) - n_assessed
    yes = n_met >= CID_MIN_MET
    no = n_met + n_missing < CID_MIN_MET
    mask = (met * (1 << np.arange(len(CID_CRITERIA)))).sum(axis=1)

    out, order = _keys_frame(long, pairs)
    out["cid"] = pd.arrays.BooleanArray(yes[order], ~(yes | no)[order])
    out["n_met"] = n_met[order].astype(np.int64)
    out["n_assessed"] = n_assessed[order].astype(np.int64)
    out["criteria_met"] = pd.Series(_CID_LABELS[mask][order], dtype=object)
    return out[list(CID_COLUMNS)]
