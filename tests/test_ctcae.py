"""CTCAE v5.0 lab grades: worked examples written out by hand, plus properties.

Source of the expected grades: NCI CTCAE v5.0 (2017), as transcribed in pharmaverse/admiral
ncictcaev5.json; clinical-rules §4.1. Boundaries read the table literally: "<1.5-1.0" is
1.0 <= value < 1.5, ">2.5-5xULN" is 2.5xULN < value <= 5xULN.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from carta.measures import ctcae
from carta.measures.ctcae import GRADABLE, grade, grade_bands, grade_frame, term

ROOT = Path(__file__).resolve().parents[1]
LOW = ("ANC", "HGB", "PLT", "LYMPH")
HIGH = ("CK", "ALT", "AST", "LDH")
G2_THRESHOLD = {"ANC": 1.5, "HGB": 10.0, "PLT": 75.0, "LYMPH": 0.8}


# --- the table -------------------------------------------------------------------------------


def test_gradable_codes_and_terms() -> None:
    assert frozenset(LOW + HIGH) == GRADABLE
    assert term("ANC") == "Neutrophil count decreased"
    assert term("HGB") == "Anemia"
    assert term("PLT") == "Platelet count decreased"
    assert term("LYMPH") == "Lymphocyte count decreased"
    assert term("CK") == "CPK increased"
    assert term("ALT") == "Alanine aminotransferase increased"
    assert term("AST") == "Aspartate aminotransferase increased"
    assert term("LDH") == "Blood lactate dehydrogenase increased"


@pytest.mark.parametrize("code", ["CRP", "CMAS", "ALDOLASE", "WBC", "", "anc"])
def test_codes_without_criteria_have_no_term_grade_or_bands(code: str) -> None:
    assert term(code) is None
    assert grade(code, 0.1, 1.0, 2.0) is None
    assert grade(code, 1000.0, 1.0, 2.0) is None
    assert grade_bands(code, 1.0, 2.0) == []


def test_units_match_the_parameter_dictionary() -> None:
    params = pd.read_csv(ROOT / "data" / "reference" / "parameters.csv")
    units = dict(zip(params["code"], params["unit"], strict=True))
    for code in GRADABLE:
        assert ctcae.CRITERIA[code].unit == units[code], code
    assert {ctcae.CRITERIA[c].direction for c in LOW} == {"low"}
    assert {ctcae.CRITERIA[c].direction for c in HIGH} == {"high"}


def test_the_source_is_cited() -> None:
    assert ctcae.SOURCE == (
        "NCI CTCAE v5.0 (2017), as transcribed in pharmaverse/admiral ncictcaev5.json; "
        "clinical-rules §4.1"
    )
    assert "ncictcaev5.json" in (ctcae.__doc__ or "")
    for function in (grade, grade_frame, grade_bands):
        assert "clinical-rules §4.1" in (function.__doc__ or ""), function.__name__


def test_importing_the_rules_loads_neither_streamlit_nor_duckdb() -> None:
    code = (
        "import sys, carta.measures.ctcae; "
        "print('streamlit' in sys.modules, 'duckdb' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", "False"]


# --- band edges, by hand ---------------------------------------------------------------------

# (code, value, LLN, ULN, baseline, expected grade)
EDGES = [
    # ANC, LLN 2.0: G1 <2.0-1.5, G2 <1.5-1.0, G3 <1.0-0.5, G4 <0.5 (x10^9/L)
    ("ANC", 2.5, 2.0, 8.0, None, 0),
    ("ANC", 2.0, 2.0, 8.0, None, 0),
    ("ANC", 1.99, 2.0, 8.0, None, 1),
    ("ANC", 1.5, 2.0, 8.0, None, 1),
    ("ANC", 1.49, 2.0, 8.0, None, 2),
    ("ANC", 1.01, 2.0, 8.0, None, 2),
    ("ANC", 1.0, 2.0, 8.0, None, 2),
    ("ANC", 0.99, 2.0, 8.0, None, 3),
    ("ANC", 0.51, 2.0, 8.0, None, 3),
    ("ANC", 0.5, 2.0, 8.0, None, 3),
    ("ANC", 0.49, 2.0, 8.0, None, 4),
    ("ANC", 0.0, 2.0, 8.0, None, 4),
    # ANC with LLN 1.5: nothing is G1; exactly 1.5 is normal
    ("ANC", 1.5, 1.5, 8.0, None, 0),
    ("ANC", 1.49, 1.5, 8.0, None, 2),
    # LLN below the absolute G2 threshold: G2 is absolute, so 1.3 is G2 even though >= LLN
    ("ANC", 1.3, 1.2, 8.0, None, 2),
    ("ANC", 1.5, 1.2, 8.0, None, 0),
    # HGB, LLN 11.5: G1 <11.5-10.0, G2 <10.0-8.0, G3 <8.0 g/dL; never G4
    ("HGB", 11.6, 11.5, 15.5, None, 0),
    ("HGB", 11.5, 11.5, 15.5, None, 0),
    ("HGB", 11.4, 11.5, 15.5, None, 1),
    ("HGB", 10.0, 11.5, 15.5, None, 1),
    ("HGB", 9.99, 11.5, 15.5, None, 2),
    ("HGB", 8.0, 11.5, 15.5, None, 2),
    ("HGB", 7.99, 11.5, 15.5, None, 3),
    ("HGB", 3.0, 11.5, 15.5, None, 3),
    ("HGB", 0.0, 11.5, 15.5, None, 3),
    # PLT, LLN 150: G1 <150-75, G2 <75-50, G3 <50-25, G4 <25
    ("PLT", 150.0, 150.0, 450.0, None, 0),
    ("PLT", 149.0, 150.0, 450.0, None, 1),
    ("PLT", 75.0, 150.0, 450.0, None, 1),
    ("PLT", 74.9, 150.0, 450.0, None, 2),
    ("PLT", 50.0, 150.0, 450.0, None, 2),
    ("PLT", 49.9, 150.0, 450.0, None, 3),
    ("PLT", 25.0, 150.0, 450.0, None, 3),
    ("PLT", 24.9, 150.0, 450.0, None, 4),
    ("PLT", 3.0, 150.0, 450.0, None, 4),
    # LYMPH, LLN 1.0: G1 <1.0-0.8, G2 <0.8-0.5, G3 <0.5-0.2, G4 <0.2
    ("LYMPH", 1.0, 1.0, 4.8, None, 0),
    ("LYMPH", 0.99, 1.0, 4.8, None, 1),
    ("LYMPH", 0.8, 1.0, 4.8, None, 1),
    ("LYMPH", 0.79, 1.0, 4.8, None, 2),
    ("LYMPH", 0.5, 1.0, 4.8, None, 2),
    ("LYMPH", 0.49, 1.0, 4.8, None, 3),
    ("LYMPH", 0.2, 1.0, 4.8, None, 3),
    ("LYMPH", 0.19, 1.0, 4.8, None, 4),
    # CK, ULN 252: G1 >252-630, G2 >630-1260, G3 >1260-2520, G4 >2520 U/L
    ("CK", 100.0, 26.0, 252.0, None, 0),
    ("CK", 252.0, 26.0, 252.0, None, 0),
    ("CK", 252.1, 26.0, 252.0, None, 1),
    ("CK", 630.0, 26.0, 252.0, None, 1),
    ("CK", 630.1, 26.0, 252.0, None, 2),
    ("CK", 1260.0, 26.0, 252.0, None, 2),
    ("CK", 1260.1, 26.0, 252.0, None, 3),
    ("CK", 2520.0, 26.0, 252.0, None, 3),
    ("CK", 2520.1, 26.0, 252.0, None, 4),
    ("CK", 13600.0, 26.0, 252.0, None, 4),
    # ALT, ULN 40, baseline normal or unknown: G1 >40-120, G2 >120-200, G3 >200-800, G4 >800
    ("ALT", 40.0, 0.0, 40.0, None, 0),
    ("ALT", 41.0, 0.0, 40.0, None, 1),
    ("ALT", 120.0, 0.0, 40.0, None, 1),
    ("ALT", 121.0, 0.0, 40.0, None, 2),
    ("ALT", 200.0, 0.0, 40.0, None, 2),
    ("ALT", 201.0, 0.0, 40.0, None, 3),
    ("ALT", 800.0, 0.0, 40.0, None, 3),
    ("ALT", 801.0, 0.0, 40.0, None, 4),
    ("ALT", 121.0, 0.0, 40.0, 30.0, 2),  # baseline within range: ULN criteria
    ("ALT", 121.0, 0.0, 40.0, 40.0, 2),  # baseline exactly the ULN is normal
    # ALT, ULN 40, baseline 80 (abnormal): G1 120-240, G2 >240-400, G3 >400-1600, G4 >1600
    ("ALT", 100.0, 0.0, 40.0, 80.0, 0),  # above the ULN but under 1.5 x baseline
    ("ALT", 119.0, 0.0, 40.0, 80.0, 0),
    ("ALT", 120.0, 0.0, 40.0, 80.0, 1),  # exactly 1.5 x baseline: "1.5-3.0", no ">"
    ("ALT", 150.0, 0.0, 40.0, 80.0, 1),  # 1.875 x baseline
    ("ALT", 240.0, 0.0, 40.0, 80.0, 1),
    ("ALT", 241.0, 0.0, 40.0, 80.0, 2),
    ("ALT", 250.0, 0.0, 40.0, 80.0, 2),  # 3.125 x baseline
    ("ALT", 400.0, 0.0, 40.0, 80.0, 2),
    ("ALT", 401.0, 0.0, 40.0, 80.0, 3),
    ("ALT", 1600.0, 0.0, 40.0, 80.0, 3),
    ("ALT", 1601.0, 0.0, 40.0, 80.0, 4),
    # AST, ULN 34: baseline normal G1 >34-102; baseline 68 (abnormal) G1 102-204
    ("AST", 34.0, 0.0, 34.0, None, 0),
    ("AST", 35.0, 0.0, 34.0, None, 1),
    ("AST", 102.0, 0.0, 34.0, None, 1),
    ("AST", 103.0, 0.0, 34.0, None, 2),
    ("AST", 101.0, 0.0, 34.0, 68.0, 0),
    ("AST", 102.0, 0.0, 34.0, 68.0, 1),
    ("AST", 204.0, 0.0, 34.0, 68.0, 1),
    ("AST", 205.0, 0.0, 34.0, 68.0, 2),
    ("AST", 1361.0, 0.0, 34.0, 68.0, 4),  # > 20 x 68 = 1360
    # LDH, ULN 226: grade 1 only
    ("LDH", 226.0, 105.0, 226.0, None, 0),
    ("LDH", 227.0, 105.0, 226.0, None, 1),
    ("LDH", 226.0 * 25, 105.0, 226.0, None, 1),
    ("LDH", 1e6, 105.0, 226.0, None, 1),
]


@pytest.mark.parametrize(("code", "value", "lln", "uln", "baseline", "expected"), EDGES)
def test_band_edges(code, value, lln, uln, baseline, expected) -> None:
    assert grade(code, value, lln, uln, baseline) == expected


def test_band_edges_through_grade_frame() -> None:
    frame = pd.DataFrame(EDGES, columns=["code", "value", "ref_low", "ref_high", "baseline", "x"])
    frame.index = frame.index * 3 + 7  # not a default RangeIndex
    graded = grade_frame(frame.drop(columns="x"))
    assert graded.dtype == "Int64"
    assert graded.index.equals(frame.index)
    assert graded.tolist() == frame["x"].tolist()


@pytest.mark.parametrize(
    ("aval", "expected"),
    [(801, 4), (800, 3), (201, 3), (200, 2), (121, 2), (120, 1), (41, 1), (40, 0)],
)
def test_admiral_worked_examples_for_alt_baseline_normal(aval, expected) -> None:
    # admiral tests/testthat/test-derive_var_atoxgr.R, Test 12a, ANRHI 40
    assert grade("ALT", aval, None, 40, 40) == expected
    assert grade("AST", aval, None, 40) == expected


@pytest.mark.parametrize(
    ("aval", "expected"),
    [(801, 4), (800, 3), (201, 3), (200, 2), (121, 2), (120, 1), (60, 1), (59, 0)],
)
def test_admiral_worked_examples_for_alt_baseline_abnormal(aval, expected) -> None:
    # admiral Test 12a, abnormal baseline: BASE 40, ANRHI 39 (so the baseline is high)
    assert grade("ALT", aval, None, 39, 40) == expected


# --- missing values and limits -----------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(GRADABLE))
@pytest.mark.parametrize("missing", [None, math.nan, pd.NA, np.nan, math.inf, -math.inf])
def test_a_missing_value_is_not_gradable(code: str, missing) -> None:
    assert grade(code, missing, 1.0, 100.0, 50.0) is None


@pytest.mark.parametrize("missing", [None, math.nan, pd.NA])
def test_a_cytopenia_without_lln_gets_only_the_absolute_grades(missing) -> None:
    # G1 needs the LLN: 1.5 and above is "not gradable", never 0
    assert grade("ANC", 3.0, missing) is None
    assert grade("ANC", 1.5, missing) is None
    assert grade("ANC", 1.49, missing) == 2
    assert grade("ANC", 0.7, missing) == 3
    assert grade("ANC", 0.2, missing) == 4
    assert grade("HGB", 12.0, missing) is None
    assert grade("HGB", 10.0, missing) is None
    assert grade("HGB", 9.0, missing) == 2
    assert grade("PLT", 140.0, missing, 450.0) is None
    assert grade("PLT", 60.0, missing, 450.0) == 2
    assert grade("LYMPH", 0.8, missing) is None
    assert grade("LYMPH", 0.1, missing) == 4


@pytest.mark.parametrize("code", HIGH)
@pytest.mark.parametrize("missing", [None, math.nan, pd.NA])
def test_the_high_side_needs_the_uln_for_every_grade(code: str, missing) -> None:
    assert grade(code, 10.0, 5.0, missing) is None
    assert grade(code, 1e6, 5.0, missing) is None
    assert grade(code, 1e6, 5.0, missing, baseline=80.0) is None


def test_a_cytopenia_ignores_the_uln_and_the_high_side_ignores_the_lln() -> None:
    assert grade("ANC", 1.2, 2.0, None) == 2
    assert grade("ANC", 1.8, 2.0, None) == 1
    assert grade("CK", 700.0, None, 252.0) == 2
    assert grade("CK", 10.0, None, 252.0) == 0
    assert grade("CK", 300.0, 26.0, 252.0, baseline=1000.0) == 1  # baseline only for ALT/AST


# --- floating point ----------------------------------------------------------------------------


def test_values_equal_to_a_threshold_after_rounding_are_on_the_threshold() -> None:
    lymph = 0.7 + 0.1  # 0.7999999999999999
    assert lymph < 0.8  # a raw comparison would make this G2
    assert grade("LYMPH", lymph, 1.0) == 1

    uln = 20.2
    alt = 60.6  # exactly 3 x ULN on paper: G1
    assert alt > 3 * uln  # 3 * 20.2 == 60.599999999999994: a raw comparison says G2
    assert grade("ALT", alt, 0.0, uln) == 1
    assert grade("ALT", 60.61, 0.0, uln) == 2

    hgb = 80 * 0.1  # g/L to g/dL
    assert grade("HGB", hgb, 11.5) == 2
    assert grade("ANC", 0.1 * 3 + 0.2, 2.0) == 3  # 0.5000000000000001 -> 0.5: G3, not G4 either


def test_rounding_keeps_eight_significant_digits() -> None:
    assert ctcae.SIGNIF_DIGITS == 8
    assert grade("ANC", 1.4999999, 2.0) == 2  # 8 significant digits: below 1.5
    assert grade("ANC", 1.49999999, 2.0) == 1  # 9 digits round up to 1.5
    assert grade("CK", 252.00001, 26.0, 252.0) == 1
    assert grade("CK", 252.000001, 26.0, 252.0) == 0


# --- grade_frame ------------------------------------------------------------------------------


def test_grade_frame_by_hand() -> None:
    frame = pd.DataFrame(
        {
            "code": ["ANC", "CK", None, "CRP", "ALT", "ALT", "ANC", "HGB"],
            "value": [1.2, 700.0, 1.0, 50.0, 150.0, None, 3.0, 7.0],
            "ref_low": [1.5, 26.0, None, 0.0, 0.0, 0.0, None, None],
            "ref_high": [8.0, 252.0, None, 5.0, 40.0, 40.0, 8.0, None],
            "baseline": [None, None, None, None, 80.0, 80.0, None, None],
        },
        index=["a", "b", "c", "d", "e", "f", "g", "h"],
    )
    graded = grade_frame(frame)
    assert graded.dtype == "Int64"
    assert list(graded.index) == list("abcdefgh")
    assert graded.tolist() == [2, 2, pd.NA, pd.NA, 1, pd.NA, pd.NA, 3]


def test_grade_frame_without_a_baseline_column_treats_baselines_as_normal() -> None:
    frame = pd.DataFrame(
        {"code": ["ALT", "ALT"], "value": [100.0, 150.0], "ref_low": [0, 0], "ref_high": [40, 40]}
    )
    assert grade_frame(frame).tolist() == [1, 2]


def test_grade_frame_accepts_nullable_and_string_columns() -> None:
    frame = pd.DataFrame(
        {
            "code": pd.array(["PLT", pd.NA, "LDH"], dtype="string"),
            "value": pd.array([20.0, 5.0, pd.NA], dtype="Float64"),
            "ref_low": pd.array([150.0, pd.NA, 105.0], dtype="Float64"),
            "ref_high": pd.array([450.0, pd.NA, 226.0], dtype="Float64"),
        }
    )
    assert grade_frame(frame).tolist() == [4, pd.NA, pd.NA]


def test_grade_frame_of_an_empty_frame() -> None:
    frame = pd.DataFrame(columns=["code", "value", "ref_low", "ref_high"])
    graded = grade_frame(frame)
    assert graded.dtype == "Int64"
    assert graded.empty


CODES = [*sorted(GRADABLE), "CRP", "UNKNOWN"]
ANCHORS = [0.2, 0.5, 0.8, 1.0, 1.5, 8.0, 10.0, 25.0, 50.0, 75.0]
FACTORS = [1.0, 1.5, 2.5, 3.0, 5.0, 10.0, 20.0]
NUDGES = [1.0, 1.0 - 1e-12, 1.0 + 1e-12, 1.0 - 1e-6, 1.0 + 1e-6, 0.99, 1.01]

limit_values = st.one_of(
    st.floats(min_value=0.01, max_value=500.0),
    st.sampled_from([0.0, 1.0, 1.2, 1.5, 2.0, 11.5, 20.2, 34.0, 40.0, 80.0, 150.0, 252.0]),
)
maybe_limit = st.one_of(st.none(), st.just(math.nan), limit_values)


@st.composite
def result_rows(draw, codes=CODES, finite=False) -> tuple:
    """A result whose value is often on or next to one of its grade thresholds."""
    code = draw(st.sampled_from(codes))
    ref_low, ref_high, baseline = draw(maybe_limit), draw(maybe_limit), draw(maybe_limit)
    anchors = ANCHORS + [
        factor * limit
        for limit in (ref_low, ref_high, baseline)
        if limit is not None and not math.isnan(limit)
        for factor in FACTORS
    ]
    near = st.tuples(st.sampled_from(anchors), st.sampled_from(NUDGES)).map(lambda t: t[0] * t[1])
    missing = [] if finite else [st.none(), st.just(math.nan)]
    value = draw(st.one_of(*missing, st.floats(0.0, 1e5), near))
    return code, value, ref_low, ref_high, baseline


@settings(max_examples=300, deadline=None)
@given(st.lists(result_rows(), max_size=25), st.booleans())
def test_grade_frame_agrees_with_grade_row_by_row(rows, with_baseline) -> None:
    frame = pd.DataFrame(rows, columns=["code", "value", "ref_low", "ref_high", "baseline"])
    frame.index = pd.Index([f"r{i}" for i in reversed(range(len(rows)))])
    if not with_baseline:
        frame = frame.drop(columns="baseline")
    expected = [
        grade(code, value, low, high, baseline if with_baseline else None)
        for code, value, low, high, baseline in rows
    ]
    graded = grade_frame(frame)
    assert graded.dtype == "Int64"
    assert graded.index.equals(frame.index)
    assert [None if pd.isna(g) else int(g) for g in graded] == expected


# --- properties of grade() --------------------------------------------------------------------


# Rows with a missing limit grade to None and are skipped, so some filtering is expected.
@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(result_rows(codes=sorted(GRADABLE), finite=True), st.floats(0.0, 1e5))
def test_grades_are_monotone_in_the_value(row, other) -> None:
    code, value, ref_low, ref_high, baseline = row
    assume(value is not None and not math.isnan(value) and value != other)
    lower, higher = sorted([value, other])
    g_lower = grade(code, lower, ref_low, ref_high, baseline)
    g_higher = grade(code, higher, ref_low, ref_high, baseline)
    assume(g_lower is not None and g_higher is not None)
    if code in LOW:
        assert g_lower >= g_higher
    else:
        assert g_lower <= g_higher


@settings(max_examples=500, deadline=None)
@given(result_rows(codes=sorted(GRADABLE)))
def test_none_only_when_the_value_or_a_needed_limit_is_missing(row) -> None:
    code, value, ref_low, ref_high, baseline = row
    assume(value is not None and not math.isnan(value))
    g = grade(code, value, ref_low, ref_high, baseline)
    lln_missing = ref_low is None or math.isnan(ref_low)
    uln_missing = ref_high is None or math.isnan(ref_high)
    if code in LOW:
        # without the LLN, exactly the values at or above the G2 threshold are not gradable
        rounded = float(f"{value:.7e}")  # compared at 8 significant digits
        assert (g is None) == (lln_missing and rounded >= G2_THRESHOLD[code])
    else:
        assert (g is None) == uln_missing
    assert g is None or 0 <= g <= 4


@settings(max_examples=300, deadline=None)
@given(st.floats(0.0, 30.0), maybe_limit)
def test_anemia_is_never_grade_4(value, lln) -> None:
    assert grade("HGB", value, lln) != 4


@settings(max_examples=300, deadline=None)
@given(st.floats(0.0, 1e7), limit_values)
def test_ldh_is_grade_0_or_1(value, uln) -> None:
    assert grade("LDH", value, None, uln) in (0, 1)


# --- grade_bands ------------------------------------------------------------------------------


def test_anc_bands_with_lln_1_5_leave_out_the_empty_grade_1() -> None:
    assert grade_bands("ANC", 1.5, 8.0) == [
        {"grade": 2, "low": 1.0, "high": 1.5},
        {"grade": 3, "low": 0.5, "high": 1.0},
        {"grade": 4, "low": 0.0, "high": 0.5},
    ]
    assert grade_bands("ANC", 1.2, 8.0) == grade_bands("ANC", 1.5, 8.0)  # LLN below G2 cut


def test_anc_bands_with_lln_2_0() -> None:
    assert grade_bands("ANC", 2.0, 8.0) == [
        {"grade": 1, "low": 1.5, "high": 2.0},
        {"grade": 2, "low": 1.0, "high": 1.5},
        {"grade": 3, "low": 0.5, "high": 1.0},
        {"grade": 4, "low": 0.0, "high": 0.5},
    ]


def test_anc_bands_without_lln_have_no_grade_1() -> None:
    assert [band["grade"] for band in grade_bands("ANC", None, None)] == [2, 3, 4]


def test_hgb_bands_stop_at_grade_3() -> None:
    assert grade_bands("HGB", 11.5, 15.5) == [
        {"grade": 1, "low": 10.0, "high": 11.5},
        {"grade": 2, "low": 8.0, "high": 10.0},
        {"grade": 3, "low": 0.0, "high": 8.0},
    ]


def test_ck_bands_with_uln_252() -> None:
    assert grade_bands("CK", 26.0, 252.0) == [
        {"grade": 1, "low": 252.0, "high": 630.0},
        {"grade": 2, "low": 630.0, "high": 1260.0},
        {"grade": 3, "low": 1260.0, "high": 2520.0},
        {"grade": 4, "low": 2520.0, "high": None},
    ]


def test_high_side_bands_need_the_uln() -> None:
    assert grade_bands("CK", 26.0, None) == []
    assert grade_bands("ALT", 0.0, math.nan) == []
    assert grade_bands("LDH", 105.0, 226.0) == [{"grade": 1, "low": 226.0, "high": None}]
    assert grade_bands("ALT", 0.0, 40.0) == [
        {"grade": 1, "low": 40.0, "high": 120.0},
        {"grade": 2, "low": 120.0, "high": 200.0},
        {"grade": 3, "low": 200.0, "high": 800.0},
        {"grade": 4, "low": 800.0, "high": None},
    ]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(GRADABLE)), maybe_limit, maybe_limit)
def test_bands_agree_with_grade(code, ref_low, ref_high) -> None:
    """Inside a band and on its closed edge the value gets the band's grade; past the open edge,
    another grade. 'low' bands are [low, high), 'high' bands are (low, high]."""
    bands = grade_bands(code, ref_low, ref_high)
    grades = [band["grade"] for band in bands]
    assert grades == sorted(set(grades))
    for band in bands:
        low, high, g = band["low"], band["high"], band["grade"]
        assert high is None or low < high
        inside = low * 2 + 1 if high is None else (low + high) / 2
        assert grade(code, inside, ref_low, ref_high) == g
        if code in LOW:
            assert grade(code, low, ref_low, ref_high) == g
            assert grade(code, high, ref_low, ref_high) != g
        else:
            assert grade(code, low, ref_low, ref_high) != g
            if high is not None:
                assert grade(code, high, ref_low, ref_high) == g


# --- docs -------------------------------------------------------------------------------------


def test_docs_list_every_term() -> None:
    rules = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    for code in GRADABLE:
        assert term(code) in rules, code
