"""2016 ACR/EULAR Total Improvement Score and PRINTO clinically inactive disease.

Expected values are worked out by hand from the tables: Rider LG et al. Arthritis Rheumatol
2017;69(5), doi 10.1002/art.40060 (Table 3) and Aggarwal R et al. Ann Rheum Dis 2017;76:792-801
(clinical-rules §3.1); Lazarevic D et al. Ann Rheum Dis 2013;72:686-693 (clinical-rules §3.2).
Bands: lower edge exclusive, upper edge inclusive ("worsening to 5%" = 0, ">5% to 15%" ...).
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carta.measures import response
from carta.measures.response import (
    MEASURE_SETS,
    SLOTS,
    THRESHOLDS,
    Scale,
    band_points,
    category,
    cid_frame,
    tis_frame,
)

ROOT = Path(__file__).resolve().parents[1]
NAN = float("nan")
COLUMNS = ["patient_id", "timepoint", "code", "value", "ref_high"]


def frame(rows) -> pd.DataFrame:
    """Long frame from (patient, timepoint, code, value[, ref_high]) tuples."""
    full = [(*row, NAN) if len(row) == 4 else row for row in rows]
    return pd.DataFrame(full, columns=COLUMNS)


def change(code, before, after, patient="P1", follow="M3", ref_high=NAN):
    return [(patient, "Baseline", code, before, ref_high), (patient, follow, code, after, ref_high)]


def one(result: pd.DataFrame, patient="P1", timepoint="M3") -> pd.Series:
    rows = result[(result["patient_id"] == patient) & (result["timepoint"] == timepoint)]
    assert len(rows) == 1, rows
    return rows.iloc[0]


# The worked example of docs/rules.md: every slot present, total 40.
WORKED = [
    *change("PGA", 6, 3),  # 3 / 10 = 30 %            -> (25, 40]  -> 17.5
    *change("PARENT_GA", 5, 4),  # 1 / 10 = 10 %      -> (5, 15]   -> 2.5
    *change("CHAQ", 1.5, 1.2),  # 0.3 / 3 = 10 %      -> (5, 15]   -> 5
    *change("CK", 756, 567, ref_high=252),  # 3.0 x ULN; 189 / 756 = 25 % -> (15, 25] -> 5
    *change("LDH", 452, 113),  # 2.0 x the default ULN 226: not used (75 % would give 7.5)
    *change("EXTRAMUSC", 4, 3.5),  # 0.5 / 10 = 5 %  -> worsening to 5 % -> 0
    *change("MMT8", 60, 64),  # 4 / 80 = 5 %          -> (2, 10]   -> 10
]


# --- the points table --------------------------------------------------------------------------

FIVE_BAND_PERCENTS = [-10, 0, 5, 5.01, 15, 15.01, 25, 25.01, 40, 40.01, 100]
STRENGTH_PERCENTS = [-10, 0, 2, 2.01, 10, 10.01, 20, 20.01, 30, 30.01, 100]
EXPECTED_POINTS = {
    "physician_global": [0, 0, 0, 7.5, 7.5, 15, 15, 17.5, 17.5, 20, 20],
    "parent_global": [0, 0, 0, 2.5, 2.5, 5, 5, 7.5, 7.5, 10, 10],
    "chaq": [0, 0, 0, 5, 5, 7.5, 7.5, 7.5, 7.5, 10, 10],
    "enzyme": [0, 0, 0, 2.5, 2.5, 5, 5, 7.5, 7.5, 7.5, 7.5],
    "extramuscular": [0, 0, 0, 7.5, 7.5, 12.5, 12.5, 15, 15, 20, 20],
    "strength": [0, 0, 0, 10, 10, 20, 20, 27.5, 27.5, 32.5, 32.5],
}


@pytest.mark.parametrize("slot", SLOTS)
def test_band_edges_lower_exclusive_upper_inclusive(slot: str) -> None:
    percents = STRENGTH_PERCENTS if slot == "strength" else FIVE_BAND_PERCENTS
    got = [band_points(slot, p) for p in percents]
    assert got == EXPECTED_POINTS[slot]


def test_the_phga_example_of_the_rules() -> None:
    assert band_points("physician_global", 30) == 17.5  # PhGA 6 -> 3 cm on a 10 cm VAS
    assert band_points("physician_global", 15) == 7.5
    assert band_points("physician_global", 15.01) == 15


def test_maximum_total_is_100() -> None:
    assert sum(band_points(slot, 1000) for slot in SLOTS) == 100


def test_missing_percent_scores_none_and_unknown_slots_raise() -> None:
    for missing in (None, NAN, pd.NA):
        assert band_points("chaq", missing) is None
    with pytest.raises(ValueError, match="unknown slot"):
        band_points("cmas", 50)


def test_band_points_rounds_before_comparing() -> None:
    assert (1.0 - 0.85) / 3 * 100 > 5  # 5.000000000000001
    assert band_points("chaq", (1.0 - 0.85) / 3 * 100) == 0
    assert band_points("strength", (45.2 - 40) / 52 * 100) == 10  # 10.000000000000005


def test_categories_and_thresholds() -> None:
    assert THRESHOLDS == {
        "JDM": {"minimal": 30, "moderate": 45, "major": 70},
        "adult": {"minimal": 20, "moderate": 40, "major": 60},
    }
    jdm = {27.5: "none", 30: "minimal", 42.5: "minimal", 45: "moderate", 67.5: "moderate"}
    jdm |= {70: "major", 100: "major", 0: "none"}
    for tis, expected in jdm.items():
        assert category(tis, "JDM") == expected, tis
    adult = {17.5: "none", 20: "minimal", 37.5: "minimal", 40: "moderate", 60: "major"}
    for tis, expected in adult.items():
        assert category(tis, "adult") == expected, tis
    assert category(None) is None and category(NAN) is None
    with pytest.raises(ValueError, match="population"):
        category(50, "children")


def test_scales_come_from_the_dictionary_as_in_the_rules() -> None:
    expected = {
        "PGA": Scale(0, 10, "lower"),
        "PARENT_GA": Scale(0, 10, "lower"),
        "CHAQ": Scale(0, 3, "lower"),
        "EXTRAMUSC": Scale(0, 10, "lower"),
        "DAS": Scale(0, 20, "lower"),
        "MMT8": Scale(0, 80, "higher"),
        "CMAS": Scale(0, 52, "higher"),
    }
    for code, scale in expected.items():
        assert response.scale_of(code) == scale, code
    assert response.scale_of("CHQ_PHS") is None  # not in the dictionary yet
    assert response.scale_of("CHQ_PHS", {"CHQ_PHS": Scale(0, 60, "higher")}).high == 60


def test_measure_sets() -> None:
    assert MEASURE_SETS == {
        "IMACS": {"strength": "MMT8", "extramuscular": "EXTRAMUSC", "enzyme": "ENZYME"},
        "PRINTO": {"strength": "CMAS", "extramuscular": "DAS", "enzyme": "CHQ_PHS"},
    }
    assert response.slot_codes("PRINTO", {"enzyme": "ENZYME"}) == {
        "physician_global": "PGA",
        "parent_global": "PARENT_GA",
        "chaq": "CHAQ",
        "enzyme": "ENZYME",
        "extramuscular": "DAS",
        "strength": "CMAS",
    }


# --- the worked example ------------------------------------------------------------------------


def test_worked_example_all_six_slots() -> None:
    row = one(tis_frame(frame(WORKED)))
    pct = {slot: row[f"pct_{slot}"] for slot in SLOTS}
    points = {slot: row[f"points_{slot}"] for slot in SLOTS}
    assert pct == {
        "physician_global": 30,
        "parent_global": 10,
        "chaq": 10,
        "enzyme": 25,
        "extramuscular": 5,
        "strength": 5,
    }
    assert points == {
        "physician_global": 17.5,
        "parent_global": 2.5,
        "chaq": 5,
        "enzyme": 5,
        "extramuscular": 0,
        "strength": 10,
    }
    assert row["tis"] == 40 and row["partial_sum"] == 40
    assert bool(row["complete"]) and row["n_components"] == 6
    assert row["category"] == "minimal"  # JDM: 30 <= 40 < 45
    assert (row["code_enzyme"], row["code_extramuscular"], row["code_strength"]) == (
        "CK",
        "EXTRAMUSC",
        "MMT8",
    )
    assert (row["measure_set"], row["population"]) == ("IMACS", "JDM")
    adult = one(tis_frame(frame(WORKED), population="adult"))
    assert adult["tis"] == 40 and adult["category"] == "moderate"  # adult: 40 <= 40 < 60
    assert adult["population"] == "adult"


def test_output_columns() -> None:
    result = tis_frame(frame(WORKED))
    assert list(result.columns) == [
        "patient_id",
        "timepoint",
        "tis",
        "category",
        "complete",
        "n_components",
        "partial_sum",
        *(f"points_{s}" for s in SLOTS),
        *(f"pct_{s}" for s in SLOTS),
        "code_enzyme",
        "code_extramuscular",
        "code_strength",
        "measure_set",
        "population",
    ]
    assert result["complete"].dtype == bool
    assert result["n_components"].dtype == np.int64


# --- percent change through the frame ----------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "before", "after", "slot", "pct", "points"),
    [
        ("PGA", 6, 3, "physician_global", 30, 17.5),
        ("PGA", 6, 4.5, "physician_global", 15, 7.5),  # edge: 15 % -> 7.5
        ("PGA", 6, 4.499, "physician_global", 15.01, 15),
        ("PGA", 3, 6, "physician_global", -30, 0),  # worsening
        ("PARENT_GA", 8, 7.5, "parent_global", 5, 0),
        ("CHAQ", 1.0, 0.85, "chaq", 5, 0),  # 5.000000000000001 before rounding
        ("CHAQ", 3, 0, "chaq", 100, 10),
        ("EXTRAMUSC", 6, 2, "extramuscular", 40, 15),
        ("MMT8", 60, 61.6, "strength", 2, 0),  # 2.0000000000000018 before rounding
        ("MMT8", 60, 60, "strength", 0, 0),
        ("MMT8", 40, 64.1, "strength", 30.125, 32.5),
        ("MMT8", 64, 40, "strength", -30, 0),
    ],
)
def test_absolute_percent_change_of_the_scale(code, before, after, slot, pct, points) -> None:
    row = one(tis_frame(frame(change(code, before, after))))
    assert row[f"pct_{slot}"] == pytest.approx(pct, abs=1e-9)
    assert row[f"points_{slot}"] == points
    assert row["n_components"] == 1 and not row["complete"]


def test_most_abnormal_enzyme_is_used_with_its_relative_change() -> None:
    row = one(tis_frame(frame(WORKED)))
    assert row["code_enzyme"] == "CK" and row["pct_enzyme"] == 25 and row["points_enzyme"] == 5


def test_the_results_own_uln_beats_the_default() -> None:
    # CK 300 with its lab's ULN 100 is 3.0 x ULN; LDH 452 / default 226 is 2.0 x ULN.
    ck_own = frame([*change("CK", 300, 270, ref_high=100), *change("LDH", 452, 113)])
    row = one(tis_frame(ck_own))
    assert row["code_enzyme"] == "CK" and row["pct_enzyme"] == 10 and row["points_enzyme"] == 2.5
    # Without it, CK 300 / default 252 = 1.19 x ULN: LDH is the most abnormal, 339/452 = 75 %.
    ck_default = frame([*change("CK", 300, 270), *change("LDH", 452, 113)])
    row = one(tis_frame(ck_default))
    assert row["code_enzyme"] == "LDH" and row["pct_enzyme"] == 75 and row["points_enzyme"] == 7.5


def test_enzyme_ties_go_to_the_dictionary_order() -> None:
    # CK 504 / 252 and LDH 452 / 226 are both 2.0 x ULN: CK first.
    row = one(tis_frame(frame([*change("LDH", 452, 113), *change("CK", 504, 504)])))
    assert row["code_enzyme"] == "CK" and row["points_enzyme"] == 0


def test_enzyme_missing_at_follow_up_leaves_the_slot_missing() -> None:
    rows = [*change("LDH", 452, 113), ("P1", "Baseline", "CK", 756, 252)]
    row = one(tis_frame(frame(rows)))
    assert math.isnan(row["points_enzyme"]) and math.isnan(row["pct_enzyme"])
    assert row["code_enzyme"] is None and row["n_components"] == 0


def test_enzyme_worsening_scores_zero() -> None:
    row = one(tis_frame(frame(change("ALDOLASE", 14, 28))))
    assert row["pct_enzyme"] == -100 and row["points_enzyme"] == 0
    assert row["code_enzyme"] == "ALDOLASE"


def test_zero_enzyme_baseline_leaves_the_slot_missing() -> None:
    row = one(tis_frame(frame(change("CK", 0, 10))))
    assert math.isnan(row["pct_enzyme"]) and math.isnan(row["points_enzyme"])
    assert row["code_enzyme"] is None and row["n_components"] == 0
    # A positive enzyme is more abnormal than a zero one.
    row = one(tis_frame(frame([*change("CK", 0, 10), *change("AST", 34, 17)])))
    assert row["code_enzyme"] == "AST" and row["pct_enzyme"] == 50 and row["points_enzyme"] == 7.5


# --- completeness ------------------------------------------------------------------------------


def test_missing_components_give_an_incomplete_score_without_category() -> None:
    rows = [*change("PGA", 6, 3), *change("CHAQ", 1.5, 1.2), *change("MMT8", 40, 80)]
    row = one(tis_frame(frame(rows)))
    assert not row["complete"] and row["n_components"] == 3
    assert row["partial_sum"] == 17.5 + 5 + 32.5  # 55 would be "moderate" if it were complete
    assert math.isnan(row["tis"]) and row["category"] is None
    assert math.isnan(row["points_parent_global"]) and math.isnan(row["pct_parent_global"])
    assert row["code_extramuscular"] is None and row["code_strength"] == "MMT8"


def test_a_follow_up_without_any_slot_measure_has_zero_components() -> None:
    rows = [*change("PGA", 6, 3), ("P1", "M6", "CRP", 3.0, NAN)]
    row = one(tis_frame(frame(rows)), timepoint="M6")
    assert row["n_components"] == 0 and row["partial_sum"] == 0 and row["category"] is None


def test_nan_values_count_as_missing() -> None:
    rows = [r for r in WORKED if not (r[2] == "PGA" and r[1] == "M3")] + [("P1", "M3", "PGA", NAN)]
    row = one(tis_frame(frame(rows)))
    assert row["n_components"] == 5 and row["partial_sum"] == 40 - 17.5
    assert row["category"] is None


# --- measure sets and overrides ----------------------------------------------------------------

PRINTO_ROWS = [
    *WORKED,
    *change("CMAS", 30, 45.2),  # 15.2 / 52 = 29.23 % -> (20, 30] -> 27.5
    *change("DAS", 10, 7),  # 3 / 20 = 15 % -> (5, 15] -> 7.5
    *change("CHQ_PHS", 30, 45),
]


def test_printo_set_uses_cmas_and_das_and_lacks_chq_phs_scale() -> None:
    row = one(tis_frame(frame(PRINTO_ROWS), measure_set="PRINTO"))
    assert row["pct_strength"] == pytest.approx(15.2 / 52 * 100)
    assert row["points_strength"] == 27.5 and row["code_strength"] == "CMAS"
    assert row["pct_extramuscular"] == 15 and row["points_extramuscular"] == 7.5
    assert row["code_extramuscular"] == "DAS"
    # CHQ_PHS is not in the parameter dictionary: no scale, so the slot is missing.
    assert math.isnan(row["points_enzyme"]) and row["code_enzyme"] is None
    assert row["n_components"] == 5 and not row["complete"] and row["category"] is None
    assert row["partial_sum"] == 17.5 + 2.5 + 5 + 7.5 + 27.5
    assert row["measure_set"] == "PRINTO"


def test_printo_with_a_supplied_chq_phs_scale() -> None:
    scales = {"CHQ_PHS": Scale(0, 100, "higher")}  # a caller's scale, for the mechanics only
    row = one(tis_frame(frame(PRINTO_ROWS), measure_set="PRINTO", scales=scales))
    assert row["pct_enzyme"] == 15 and row["points_enzyme"] == 2.5
    assert row["code_enzyme"] == "CHQ_PHS"
    assert row["complete"] and row["tis"] == 17.5 + 2.5 + 5 + 2.5 + 7.5 + 27.5  # 62.5
    assert row["category"] == "moderate"


def test_per_slot_override() -> None:
    chosen = {"enzyme": "ENZYME"}
    printo = one(tis_frame(frame(PRINTO_ROWS), measure_set="PRINTO", overrides=chosen))
    assert printo["code_enzyme"] == "CK" and printo["points_enzyme"] == 5
    assert printo["complete"] and printo["tis"] == 17.5 + 2.5 + 5 + 5 + 7.5 + 27.5  # 65
    assert printo["category"] == "moderate"
    imacs = one(tis_frame(frame(PRINTO_ROWS), overrides={"strength": "CMAS"}))
    assert imacs["code_strength"] == "CMAS" and imacs["points_strength"] == 27.5
    assert imacs["code_extramuscular"] == "EXTRAMUSC" and imacs["points_extramuscular"] == 0
    assert imacs["tis"] == 40 - 10 + 27.5 and imacs["category"] == "moderate"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"measure_set": "EULAR"}, "measure set"),
        ({"population": "child"}, "population"),
        ({"overrides": {"chaq": "CHAQ"}}, "cannot be overridden"),
        ({"overrides": {"strength": "DAS"}}, "cannot fill slot"),
        ({"overrides": {"enzyme": "CK"}}, "cannot fill slot"),
    ],
)
def test_bad_settings_raise(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        tis_frame(frame(WORKED), **kwargs)


# --- input handling ----------------------------------------------------------------------------


def test_unsorted_input_gives_the_same_result() -> None:
    rows = WORKED + [("P2", tp, code, value, ref) for (_, tp, code, value, ref) in WORKED]
    rows += [("P1", "M1", "PGA", 5.0, NAN), ("P2", "D7", "MMT8", 50.0, NAN)]
    ordered = frame(rows)
    shuffled = ordered.sample(frac=1, random_state=3).reset_index(drop=True)
    expected = tis_frame(ordered)
    pd.testing.assert_frame_equal(tis_frame(shuffled), expected)
    pd.testing.assert_frame_equal(cid_frame(shuffled), cid_frame(ordered))
    # Sorted by patient, then visit order (M1 before M3 before M12; D7 before M3).
    assert list(zip(expected["patient_id"], expected["timepoint"], strict=True)) == [
        ("P1", "M1"),
        ("P1", "M3"),
        ("P2", "D7"),
        ("P2", "M3"),
    ]


def test_visit_order_not_alphabetical_and_unknown_timepoints_last() -> None:
    rows = [("P1", "Baseline", "PGA", 6.0)]
    rows += [("P1", tp, "PGA", 5.0) for tp in ("Unscheduled", "M12", "M3", "D14", "D7", "M1")]
    result = tis_frame(frame(rows))
    assert list(result["timepoint"]) == ["D7", "D14", "M1", "M3", "M12", "Unscheduled"]
    cid = cid_frame(frame(rows))
    assert list(cid["timepoint"]) == ["Baseline", "D7", "D14", "M1", "M3", "M12", "Unscheduled"]


def test_duplicated_rows_raise() -> None:
    rows = [*WORKED, ("P1", "M3", "PGA", 3.0, NAN)]
    with pytest.raises(ValueError, match=r"2 rows sharing a patient_id x timepoint x code"):
        tis_frame(frame(rows))
    with pytest.raises(ValueError, match="P1 x M3 x PGA"):
        cid_frame(frame(rows))
    # Even when one of them is empty: which one is meant is unclear.
    with pytest.raises(ValueError, match="sharing"):
        tis_frame(frame([*WORKED, ("P1", "M3", "PGA", NAN, NAN)]))


def test_missing_columns_raise() -> None:
    with pytest.raises(ValueError, match="missing column"):
        tis_frame(frame(WORKED).drop(columns="value"))


def test_ref_high_is_optional() -> None:
    without = frame(WORKED).drop(columns="ref_high")
    row = one(tis_frame(without))  # CK 756 / 252 (default) = 3.0 x ULN: same as the worked one
    assert row["code_enzyme"] == "CK" and row["tis"] == 40


def test_patients_without_baseline_or_without_data_get_no_rows() -> None:
    rows = [*WORKED]
    rows += [("P2", "M3", "PGA", 3.0, NAN), ("P2", "M6", "MMT8", 70.0, NAN)]  # no baseline
    rows += [("P3", "Baseline", "PGA", NAN, NAN), ("P3", "M3", "PGA", NAN, NAN)]  # no data
    rows += [("P4", "Baseline", "PGA", 5.0, NAN)]  # baseline only
    result = tis_frame(frame(rows))
    assert list(result["patient_id"]) == ["P1"]
    cid = cid_frame(frame(rows))
    assert set(cid["patient_id"]) == {"P1", "P2", "P4"}
    assert "P3" not in set(cid["patient_id"])


def test_empty_input_gives_empty_frames_with_the_columns() -> None:
    empty = frame([])
    assert list(tis_frame(empty).columns) == list(response.TIS_COLUMNS) and tis_frame(empty).empty
    assert list(cid_frame(empty).columns) == list(response.CID_COLUMNS) and cid_frame(empty).empty


def test_another_baseline_timepoint() -> None:
    rows = [("P1", "M1", "PGA", 6.0), ("P1", "M3", "PGA", 3.0), ("P1", "Baseline", "PGA", 9.0)]
    result = tis_frame(frame(rows), baseline="M1")
    assert list(result["timepoint"]) == ["Baseline", "M3"]
    assert list(result["pct_physician_global"]) == [-30, 30]


def test_categorical_and_integer_keys() -> None:
    data = frame(WORKED)
    data["patient_id"] = 7
    data["timepoint"] = pd.Categorical(data["timepoint"], ["Baseline", "M3"])
    row = one(tis_frame(data), patient=7)
    assert row["tis"] == 40


# --- PRINTO clinically inactive disease --------------------------------------------------------

CID_ROWS = [
    # P1: CK, CMAS, MMT8 met; PGA not -> 3 of 4
    ("P1", "M6", "CK", 100.0),
    ("P1", "M6", "CMAS", 50.0),
    ("P1", "M6", "MMT8", 79.0),
    ("P1", "M6", "PGA", 1.0),
    # P2: 2 met, 2 missing -> undecided
    ("P2", "M6", "CK", 100.0),
    ("P2", "M6", "CMAS", 50.0),
    # P3: 2 met, 2 not met -> not CID
    ("P3", "M6", "CK", 100.0),
    ("P3", "M6", "CMAS", 50.0),
    ("P3", "M6", "MMT8", 70.0),
    ("P3", "M6", "PGA", 1.0),
    # P4: every value exactly on its limit -> all met
    ("P4", "M6", "CK", 150.0),
    ("P4", "M6", "CMAS", 48.0),
    ("P4", "M6", "MMT8", 78.0),
    ("P4", "M6", "PGA", 0.2),
    # P5: every value just past its limit -> none met
    ("P5", "M6", "CK", 150.1),
    ("P5", "M6", "CMAS", 47.9),
    ("P5", "M6", "MMT8", 77.9),
    ("P5", "M6", "PGA", 0.21),
    # P6: 1 met, 2 not met, 1 missing -> cannot reach 3
    ("P6", "M6", "CK", 100.0),
    ("P6", "M6", "MMT8", 70.0),
    ("P6", "M6", "PGA", 1.0),
    # P7: nothing assessable
    ("P7", "M6", "CRP", 3.0),
    # P8: 2 met, 1 not met, 1 missing -> undecided; PGA 1.1 - 0.9 (0.20000000000000007) is 0.2
    ("P8", "M6", "PGA", 1.1 - 0.9),
    ("P8", "M6", "MMT8", 78.0),
    ("P8", "M6", "CK", 151.0),
]
CID_EXPECTED = {
    "P1": (True, 3, 4, "CK ≤ 150 U/L; CMAS ≥ 48; MMT8 ≥ 78"),
    "P2": (None, 2, 2, "CK ≤ 150 U/L; CMAS ≥ 48"),
    "P3": (False, 2, 4, "CK ≤ 150 U/L; CMAS ≥ 48"),
    "P4": (True, 4, 4, "CK ≤ 150 U/L; CMAS ≥ 48; MMT8 ≥ 78; PGA ≤ 0.2 cm"),
    "P5": (False, 0, 4, ""),
    "P6": (False, 1, 3, "CK ≤ 150 U/L"),
    "P7": (None, 0, 0, ""),
    "P8": (None, 2, 3, "MMT8 ≥ 78; PGA ≤ 0.2 cm"),
}


def test_cid_examples() -> None:
    result = cid_frame(frame(CID_ROWS))
    assert list(result.columns) == [
        "patient_id",
        "timepoint",
        "cid",
        "n_met",
        "n_assessed",
        "criteria_met",
    ]
    assert result["cid"].dtype == "boolean"
    got = {
        row.patient_id: (
            None if pd.isna(row.cid) else bool(row.cid),
            row.n_met,
            row.n_assessed,
            row.criteria_met,
        )
        for row in result.itertuples()
    }
    assert got == CID_EXPECTED


def test_cid_at_every_timepoint_including_baseline() -> None:
    rows = [
        ("P1", "Baseline", "CK", 3000.0),
        ("P1", "Baseline", "CMAS", 20.0),
        ("P1", "Baseline", "PGA", 7.0),
        ("P1", "M8", "CK", 80.0),
        ("P1", "M8", "CMAS", 52.0),
        ("P1", "M8", "PGA", 0.0),
    ]
    result = cid_frame(frame(rows))
    assert list(result["timepoint"]) == ["Baseline", "M8"]
    assert list(result["cid"]) == [False, True]
    assert list(result["criteria_met"]) == ["", "CK ≤ 150 U/L; CMAS ≥ 48; PGA ≤ 0.2 cm"]


def test_cid_criteria_are_the_rules() -> None:
    assert [(c.code, c.op, c.threshold) for c in response.CID_CRITERIA] == [
        ("CK", "<=", 150),
        ("CMAS", ">=", 48),
        ("MMT8", ">=", 78),
        ("PGA", "<=", 0.2),
    ]
    assert response.CID_MIN_MET == 3


# --- sources and purity ------------------------------------------------------------------------


def test_sources_are_cited() -> None:
    # Cited by title and the DOI read on PubMed: the page numbers differ between PubMed and PMC.
    assert "doi 10.1002/art.40060 (Table 3)" in response.SOURCE_TIS
    assert "Ann Rheum Dis 2017;76:792-801" in response.SOURCE_TIS
    assert "Ann Rheum Dis 2013;72:686-693" in response.SOURCE_CID
    assert "Rider" in (tis_frame.__doc__ or "") and "Table 3" in (band_points.__doc__ or "")
    assert "Lazarevic" in (cid_frame.__doc__ or "")


def test_importing_the_rules_loads_neither_streamlit_nor_duckdb() -> None:
    code = (
        "import sys, carta.measures.response; "
        "print('streamlit' in sys.modules, 'duckdb' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", "False"]


def test_docs_carry_the_worked_example() -> None:
    rules = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert "## 2016 ACR/EULAR Total Improvement Score (JDM)" in rules
    assert "## PRINTO clinically inactive disease" in rules
    assert "carta/measures/response.py" in rules


# --- properties --------------------------------------------------------------------------------

SCORES = {  # code: (low, high, lower_is_better), clinical-rules §2
    "PGA": (0.0, 10.0, True),
    "PARENT_GA": (0.0, 10.0, True),
    "CHAQ": (0.0, 3.0, True),
    "EXTRAMUSC": (0.0, 10.0, True),
    "MMT8": (0.0, 80.0, False),
}
ENZYMES = ("CK", "ALDOLASE", "LDH", "AST", "ALT")
unit = st.floats(0, 1, allow_nan=False)


def _score(code: str, u: float) -> float:
    low, high, _ = SCORES[code]
    return low + u * (high - low)


@st.composite
def patient_course(draw):
    """Baseline, a worse follow-up (M3) and a better-or-equal one (M6), every measure present."""
    rows = []
    for code, (low, high, lower_better) in SCORES.items():
        base = _score(code, draw(unit))
        worse = _score(code, draw(unit))
        step = draw(unit) * (high - low)
        better = max(worse - step, low) if lower_better else min(worse + step, high)
        rows += [("P1", "Baseline", code, base), ("P1", "M3", code, worse)]
        rows += [("P1", "M6", code, better)]
    for enzyme in ENZYMES:
        base = draw(st.floats(1, 20_000, allow_nan=False))
        worse = draw(st.floats(0, 20_000, allow_nan=False))
        rows += [("P1", "Baseline", enzyme, base), ("P1", "M3", enzyme, worse)]
        rows += [("P1", "M6", enzyme, worse * draw(unit))]
    return frame(rows)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(patient_course(), st.sampled_from(["JDM", "adult"]))
def test_complete_tis_is_within_0_and_100_and_better_never_scores_lower(data, population):
    result = tis_frame(data, population=population).set_index("timepoint")
    assert result["complete"].all()
    assert result["tis"].between(0, 100).all()
    points = [f"points_{slot}" for slot in SLOTS]
    assert (result[points].sum(axis=1) == result["tis"]).all()
    for column in points:
        assert result.loc["M6", column] >= result.loc["M3", column], column
    assert result.loc["M6", "tis"] >= result.loc["M3", "tis"]
    order = {None: -1, **{name: i for i, name in enumerate(response.CATEGORIES)}}
    assert order[result.loc["M6", "category"]] >= order[result.loc["M3", "category"]]
    for _, row in result.iterrows():
        assert row["category"] == category(row["tis"], population)


@given(
    st.sampled_from(SLOTS),
    st.floats(-1e6, 1e6, allow_nan=False),
    st.floats(-1e6, 1e6, allow_nan=False),
)
def test_band_points_is_monotone(slot: str, a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert band_points(slot, low) <= band_points(slot, high)
    assert band_points(slot, low) in response.POINTS[slot].points


def _reference(data: pd.DataFrame, slot_code: dict[str, str]) -> dict:
    """A slow, loop-per-row reading of the rule, to check the vectorised one against."""
    defaults = {"CK": 252, "ALDOLASE": 7, "LDH": 226, "AST": 34, "ALT": 40}
    present = data[data["value"].notna()]
    cells = {(r.patient_id, r.timepoint, r.code): r for r in present.itertuples()}
    expected = {}
    for patient, timepoint in {(p, t) for (p, t, _) in cells if t != "Baseline"}:
        if not any(p == patient and t == "Baseline" for (p, t, _) in cells):
            continue
        total, count = 0.0, 0
        for slot, code in slot_code.items():
            if code == "ENZYME":
                best = None
                for enzyme in ENZYMES:
                    cell = cells.get((patient, "Baseline", enzyme))
                    if cell is None:
                        continue
                    uln = cell.ref_high if cell.ref_high == cell.ref_high else defaults[enzyme]
                    ratio = round(cell.value / uln, 9)
                    if best is None or ratio > best[0]:
                        best = (ratio, enzyme)
                follow = best and cells.get((patient, timepoint, best[1]))
                base = best and cells[(patient, "Baseline", best[1])].value
                pct = (base - follow.value) / base * 100 if follow and base > 0 else None
            else:
                low, high, lower_better = SCORES[code]
                base, follow = (
                    cells.get((patient, "Baseline", code)),
                    cells.get((patient, timepoint, code)),
                )
                if base is None or follow is None:
                    pct = None
                else:
                    gain = base.value - follow.value if lower_better else follow.value - base.value
                    pct = gain / (high - low) * 100
            points = band_points(slot, pct)
            if points is not None:
                total, count = total + points, count + 1
        expected[(patient, timepoint)] = (count, total)
    return expected


@st.composite
def sparse_cohort(draw):
    rows = []
    for patient in ("A", "B", "C"):
        with_baseline = draw(st.integers(0, 3)) > 0  # now and then a patient without one
        for timepoint in ("Baseline", "M1", "M3") if with_baseline else ("M1", "M3"):
            for code in (*SCORES, *ENZYMES):
                if draw(st.booleans()):
                    if code in SCORES:
                        value = round(_score(code, draw(unit)), 1)
                    else:
                        value = float(draw(st.integers(0, 3000)))
                    ref = draw(st.sampled_from([NAN, 100.0, 250.0]))
                    rows.append((patient, timepoint, code, value, ref))
    return frame(rows)


@settings(max_examples=100, deadline=None)
@given(sparse_cohort())
def test_vectorised_frame_matches_a_loop_reading_of_the_rule(data) -> None:
    slot_code = response.slot_codes("IMACS")
    expected = _reference(data, slot_code)
    result = tis_frame(data)
    got = {(row.patient_id, row.timepoint): row for row in result.itertuples()}
    assert got.keys() == expected.keys()
    for key, (count, total) in expected.items():
        row = got[key]
        assert row.n_components == count, key
        assert row.partial_sum == pytest.approx(total), key
        if count == len(SLOTS):
            assert row.complete and row.tis == pytest.approx(total), key
            assert row.category == category(total), key
        else:
            assert not row.complete and math.isnan(row.tis) and row.category is None, key
