"""CTCAE v5.0 grades for laboratory results.

Source: NCI CTCAE v5.0 (2017), as transcribed in pharmaverse/admiral ncictcaev5.json;
clinical-rules §4.1 [C]. The LDH row (grade 1 only) is from the clinical-rules §4.1 table; the
admiral transcription read for this module has no lab criteria for that term.

The criteria are data (``CRITERIA``), not if-chains. Each parameter has an ordered list of cuts,
most severe first, evaluated as admiral's ``case_when`` does: the first cut the value meets sets
the grade; a cut whose limit is missing ends the walk with no grade (``None``, "not gradable");
a value that meets no cut is grade 0.

Boundary semantics, exactly as the CTCAE table reads:

* ``'low'`` parameters (cytopenias) use strict ``<``. ANC "<1.5-1.0" is G2 means
  1.0 <= value < 1.5: exactly 1.5 is G1 when the LLN is above 1.5, exactly 1.0 is G2,
  exactly 0.5 is G3 and only below 0.5 is G4. A value at or above the LLN is grade 0.
  Grades 2-4 are absolute thresholds, so they apply whatever the LLN (an ANC of 1.3 with an LLN
  of 1.2 is G2). Grade 1 needs the result's own LLN: without it, a value between the G2 threshold
  and the (unknown) LLN is ``None``, never 0.
* ``'high'`` parameters use strict ``>`` against multiples of the result's ULN. CK ">2.5-5xULN"
  is G2 means 2.5xULN < value <= 5xULN: exactly 2.5xULN is G1 and exactly the ULN is grade 0.
  Every grade needs the ULN; without it the result is ``None``.
* ALT/AST with an abnormal baseline (baseline above the result's ULN) are graded against
  multiples of the baseline. Grade 1 there reads "1.5-3.0 x baseline" with no ">", and admiral
  codes it as ``>=``: exactly 1.5 x baseline is G1, below it is grade 0. A missing baseline, or
  one at or below the ULN, counts as normal.
* Anemia has no G4 from the value: G4 is "life-threatening consequences", not a lab threshold.

Values and thresholds are both rounded to ``SIGNIF_DIGITS`` significant digits before they are
compared (admiral compares ``signif(AVAL, signif_dig)`` with ``signif(k * ANRHI, signif_dig)``),
so 0.7 + 0.1 counts as 0.8, not 0.7999999999999999.

Values reported beyond an assay limit (design rule, clinical-rules §10 [U]): ``'<' x`` is graded
as a value just below x, ``'>' x`` as a value just above x, and a not-detected result as 0. The
CTCAE thresholds are strict inequalities, so an ANC ``'<' 0.5`` x10^9/L is grade 4 (true value
< 0.5), a platelet count ``'<' 25`` is grade 4 and a lymphocyte count ``'<' 0.2`` is grade 4,
while an ANC of exactly 0.5 is grade 3. In comparisons this means: for ``'<' x``, "x' < t" holds
when x <= t and "x' > t" / "x' >= t" when x > t; for ``'>' x``, "x' < t" holds when x < t and
"x' > t" / "x' >= t" when x >= t.

Treatment-emergent toxicity (design rule, clinical-rules §10 [U], the ADaM convention of
flagging worsening from baseline; queries/lab_toxicity_rows.sql, table lab_toxicity): a grade
counts as a toxicity only when it is observed after the infusion (study day >= 1) and is worse
than the patient's own pre-treatment baseline grade of the same parameter; the baseline
(queries/lab_grade_rows.sql) is the last value before the first dated lymphodepletion day, or
on or before day 0 when no lymphodepletion day is known. The same baseline value drives the
ALT/AST abnormal-baseline criteria.

Missing, NaN and infinite numbers all count as missing. Values are expected in the unit of the
parameter dictionary (``data/reference/parameters.csv``), listed in ``Criterion.unit``.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

import numpy as np
import pandas as pd

from carta.measures.numbers import finite_floats as _floats
from carta.measures.numbers import signif

SOURCE = (
    "NCI CTCAE v5.0 (2017), as transcribed in pharmaverse/admiral ncictcaev5.json; "
    "clinical-rules §4.1"
)
SIGNIF_DIGITS = 8

Limit = Literal["abs", "LLN", "ULN", "BASE"]
Op = Literal["<", ">", ">="]

_OPS: dict[str, Callable] = {"<": operator.lt, ">": operator.gt, ">=": operator.ge}
# How a cut's comparison reads for a value beyond an assay limit (module doc): '<' x is just
# below x, '>' x just above it.
_OPS_BELOW: dict[str, Callable] = {"<": operator.le, ">": operator.gt, ">=": operator.gt}
_OPS_ABOVE: dict[str, Callable] = {"<": operator.lt, ">": operator.ge, ">=": operator.ge}
_QUALIFIER_OPS = {None: _OPS, "<": _OPS_BELOW, ">": _OPS_ABOVE}

# Shown wherever a CPK grade is: in myositis a raised CK before treatment is disease activity.
CK_NOTE = (
    "In myositis a raised CK is disease activity, not a toxicity: only a grade worse than the "
    "patient's own baseline grade counts as treatment-emergent."
)
# Shown wherever a grade rests on the dictionary's placeholder range, not the lab's own.
DEFAULT_RANGE_NOTE = "graded against the dictionary's default reference range (the lab gave none)"


@dataclass(frozen=True)
class Cut:
    """One grade's entry condition: ``value <op> factor * limit`` ("abs": the factor itself)."""

    grade: int
    op: Op
    factor: float
    of: Limit = "abs"


@dataclass(frozen=True)
class Criterion:
    """The CTCAE v5.0 lab criteria for one parameter code."""

    code: str
    term: str
    direction: Literal["low", "high"]
    unit: str
    cuts: tuple[Cut, ...]  # most severe first
    needs: Limit | None = None  # no grade at all without this limit
    baseline_cuts: tuple[Cut, ...] = ()  # replace ``cuts`` when the baseline is above the ULN


def _uln_cuts(g2: float, g3: float, g4: float) -> tuple[Cut, ...]:
    return (
        Cut(4, ">", g4, "ULN"),
        Cut(3, ">", g3, "ULN"),
        Cut(2, ">", g2, "ULN"),
        Cut(1, ">", 1.0, "ULN"),
    )


# Transaminases, baseline abnormal: ">3.0-5.0", ">5.0-20.0", ">20.0" x baseline; G1 "1.5-3.0".
_TRANSAMINASE_BASELINE_CUTS = (
    Cut(4, ">", 20.0, "BASE"),
    Cut(3, ">", 5.0, "BASE"),
    Cut(2, ">", 3.0, "BASE"),
    Cut(1, ">=", 1.5, "BASE"),
)

# NCI CTCAE v5.0 (2017), as transcribed in pharmaverse/admiral ncictcaev5.json;
# clinical-rules §4.1 [C]. Units are the parameter dictionary's.
CRITERIA: Mapping[str, Criterion] = MappingProxyType(
    {
        c.code: c
        for c in (
            Criterion(
                "ANC",
                "Neutrophil count decreased",
                "low",
                "10*9/L",
                (Cut(4, "<", 0.5), Cut(3, "<", 1.0), Cut(2, "<", 1.5), Cut(1, "<", 1.0, "LLN")),
            ),
            Criterion(
                "HGB",
                "Anemia",
                "low",
                "g/dL",
                (Cut(3, "<", 8.0), Cut(2, "<", 10.0), Cut(1, "<", 1.0, "LLN")),
            ),
            Criterion(
                "PLT",
                "Platelet count decreased",
                "low",
                "10*9/L",
                (Cut(4, "<", 25.0), Cut(3, "<", 50.0), Cut(2, "<", 75.0), Cut(1, "<", 1.0, "LLN")),
            ),
            Criterion(
                "LYMPH",
                "Lymphocyte count decreased",
                "low",
                "10*9/L",
                (Cut(4, "<", 0.2), Cut(3, "<", 0.5), Cut(2, "<", 0.8), Cut(1, "<", 1.0, "LLN")),
            ),
            Criterion("CK", "CPK increased", "high", "U/L", _uln_cuts(2.5, 5.0, 10.0), "ULN"),
            Criterion(
                "ALT",
                "Alanine aminotransferase increased",
                "high",
                "U/L",
                _uln_cuts(3.0, 5.0, 20.0),
                "ULN",
                _TRANSAMINASE_BASELINE_CUTS,
            ),
            Criterion(
                "AST",
                "Aspartate aminotransferase increased",
                "high",
                "U/L",
                _uln_cuts(3.0, 5.0, 20.0),
                "ULN",
                _TRANSAMINASE_BASELINE_CUTS,
            ),
            Criterion(
                "LDH",
                "Blood lactate dehydrogenase increased",
                "high",
                "U/L",
                (Cut(1, ">", 1.0, "ULN"),),
                "ULN",
            ),
        )
    }
)

GRADABLE: frozenset[str] = frozenset(CRITERIA)


def cut_rows() -> list[dict[str, object]]:
    """``CRITERIA`` as the rows queries/lab_grade_rows.sql grades with (its ``$cuts``): a cut a
    row, ranked most severe first within its set, the set of an abnormal baseline apart."""
    return [
        {"code": criterion.code, "term": criterion.term, "needs": criterion.needs or "",
         "on_abnormal_baseline": abnormal, "rank": rank, "grade": cut.grade, "op": cut.op,
         "factor": float(cut.factor), "against": cut.of}
        for criterion in CRITERIA.values()
        for abnormal, cuts in ((False, criterion.cuts), (True, criterion.baseline_cuts))
        for rank, cut in enumerate(cuts, start=1)
    ]  # fmt: skip


def term(code: str) -> str | None:
    """The CTCAE v5.0 term graded for a parameter code, or None when it has no lab criteria."""
    criterion = CRITERIA.get(code)
    return criterion.term if criterion else None


def _signif(x):
    """Round to ``SIGNIF_DIGITS`` significant digits (R's ``signif``); arrays or scalars."""
    return signif(x, SIGNIF_DIGITS)


def _number(x) -> float | None:
    if x is None or x is pd.NA:
        return None
    value = float(x)
    return value if math.isfinite(value) else None


def _cuts_for(criterion: Criterion, uln: float | None, baseline: float | None) -> tuple[Cut, ...]:
    if (
        criterion.baseline_cuts
        and uln is not None
        and baseline is not None
        and _signif(baseline) > _signif(uln)
    ):
        return criterion.baseline_cuts
    return criterion.cuts


def grade(
    code: str,
    value: float | None,
    ref_low: float | None = None,
    ref_high: float | None = None,
    baseline: float | None = None,
    qualifier: str | None = None,
) -> int | None:
    """CTCAE v5.0 grade (0-4) of one result; None when not gradable.

    ``qualifier``: ``'<'``, ``'>'`` or ``'not_detected'`` for a value beyond an assay limit,
    graded as the module doc says (not detected = 0, whatever ``value`` holds).

    None when the code has no criteria, the value is missing, or a limit the grade needs is
    missing (the LLN for a cytopenia's grade 1, the ULN for anything on the 'high' side).
    ``ref_low``/``ref_high`` are the result's own reference limits; ``baseline`` only matters
    for ALT/AST. Source: NCI CTCAE v5.0 (2017), as transcribed in pharmaverse/admiral
    ncictcaev5.json; clinical-rules §4.1.
    """
    criterion = CRITERIA.get(code)
    if qualifier == "not_detected":
        value, qualifier = 0.0, None
    if qualifier not in _QUALIFIER_OPS:
        raise ValueError(f"unknown qualifier {qualifier!r}")
    ops = _QUALIFIER_OPS[qualifier]
    x = _number(value)
    if criterion is None or x is None:
        return None
    limits: dict[str, float | None] = {
        "abs": 1.0,
        "LLN": _number(ref_low),
        "ULN": _number(ref_high),
        "BASE": _number(baseline),
    }
    if criterion.needs is not None and limits[criterion.needs] is None:
        return None
    rounded = _signif(x)
    for cut in _cuts_for(criterion, limits["ULN"], limits["BASE"]):
        limit = limits[cut.of]
        if limit is None:
            return None
        if ops[cut.op](rounded, _signif(cut.factor * limit)):
            return cut.grade
    return 0


def grade_frame(frame: pd.DataFrame) -> pd.Series:
    """Vectorised :func:`grade`: one nullable Int64 grade per row, aligned to ``frame.index``.

    ``frame`` has columns ``code``, ``value``, ``ref_low``, ``ref_high`` and optionally
    ``baseline`` and ``qualifier`` (values beyond an assay limit, as :func:`grade` reads them).
    Source: NCI CTCAE v5.0 (2017), as transcribed in pharmaverse/admiral ncictcaev5.json;
    clinical-rules §4.1.
    """
    n = len(frame)
    grades = np.zeros(n, dtype="int64")
    graded = np.zeros(n, dtype=bool)
    codes = frame["code"]
    value = _floats(frame["value"])
    qualifier = frame["qualifier"] if "qualifier" in frame else pd.Series(pd.NA, index=frame.index)
    known = qualifier.isna() | qualifier.isin(["<", ">", "not_detected"])
    if not known.all():
        raise ValueError(f"unknown qualifier(s) {sorted(map(str, qualifier[~known].unique()))}")
    below = qualifier.eq("<").to_numpy(dtype=bool, na_value=False)
    above = qualifier.eq(">").to_numpy(dtype=bool, na_value=False)
    value = np.where(qualifier.eq("not_detected").to_numpy(dtype=bool, na_value=False), 0.0, value)
    nan = np.full(n, np.nan)
    limits = {
        "abs": np.ones(n),
        "LLN": _floats(frame["ref_low"]),
        "ULN": _floats(frame["ref_high"]),
        "BASE": _floats(frame["baseline"]) if "baseline" in frame else nan,
    }
    for code, criterion in CRITERIA.items():
        rows = codes.eq(code).fillna(False).to_numpy(dtype=bool) & ~np.isnan(value)
        if criterion.needs is not None:
            rows &= ~np.isnan(limits[criterion.needs])
        where = np.flatnonzero(rows)
        if not where.size:
            continue
        # Work on this parameter's rows only: rounding every row for every cut was most of the cost.
        rounded = _signif(value[where])
        lt, gt = below[where], above[where]
        lim = {name: array[where] for name, array in limits.items()}
        abnormal = np.zeros(where.size, dtype=bool)
        if criterion.baseline_cuts:
            with np.errstate(invalid="ignore"):
                abnormal = _signif(lim["BASE"]) > _signif(lim["ULN"])
        sub_grades = np.zeros(where.size, dtype="int64")
        sub_graded = np.zeros(where.size, dtype=bool)
        for cuts, open_rows in ((criterion.cuts, ~abnormal), (criterion.baseline_cuts, abnormal)):
            for cut in cuts:
                limit = lim[cut.of]
                open_rows &= ~np.isnan(limit)  # a missing limit leaves the row ungraded
                threshold = _signif(cut.factor * limit)
                with np.errstate(invalid="ignore"):
                    met = np.where(
                        lt,
                        _OPS_BELOW[cut.op](rounded, threshold),
                        np.where(gt, _OPS_ABOVE[cut.op](rounded, threshold),
                                 _OPS[cut.op](rounded, threshold)),
                    )  # fmt: skip
                    hit = open_rows & met
                sub_grades[hit] = cut.grade
                sub_graded |= hit
                open_rows &= ~hit
            sub_graded |= open_rows  # met no cut: grade 0
        grades[where] = sub_grades
        graded[where] = sub_graded
    return pd.Series(
        pd.arrays.IntegerArray(grades, ~graded), index=frame.index, name="grade", copy=False
    )


def grade_bands(code: str, ref_low: float | None, ref_high: float | None) -> list[dict]:
    """Value intervals of each grade, in the parameter's unit, for bands behind a chart.

    ``[{"grade": g, "low": a, "high": b}, ...]`` in grade order. For 'low' parameters a band is
    ``low <= value < high`` and the most severe band starts at 0; for 'high' parameters a band is
    ``low < value <= high`` and the top band's ``high`` is None (open-ended). A band whose limit is
    missing (grade 1 without the LLN; every 'high' band without the ULN) is left out, and so is an
    empty band (grade 1 when the LLN is at or below the G2 threshold). ALT/AST bands are the
    baseline-normal criteria (multiples of the ULN). Source: NCI CTCAE v5.0 (2017), as
    transcribed in pharmaverse/admiral ncictcaev5.json; clinical-rules §4.1.
    """
    criterion = CRITERIA.get(code)
    if criterion is None:
        return []
    limits = {"abs": 1.0, "LLN": _number(ref_low), "ULN": _number(ref_high)}
    if criterion.needs is not None and limits[criterion.needs] is None:
        return []
    bands: list[dict] = []
    edge: float | None = 0.0 if criterion.direction == "low" else None
    for cut in criterion.cuts:  # most severe first
        limit = limits[cut.of]
        if limit is None:
            break
        threshold = float(_signif(cut.factor * limit))
        if criterion.direction == "low":
            if threshold > edge:
                bands.append({"grade": cut.grade, "low": edge, "high": threshold})
                edge = threshold
        elif edge is None or threshold < edge:
            bands.append({"grade": cut.grade, "low": threshold, "high": edge})
            edge = threshold
    return sorted(bands, key=lambda band: band["grade"])
