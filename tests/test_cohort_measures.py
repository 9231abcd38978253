"""The cohort explorer's summaries, with worked examples."""

from __future__ import annotations

import pandas as pd
import pytest

from carta import dictionary, urlstate
from carta.measures import cohort


def values(rows: list[tuple]) -> pd.DataFrame:
    """(patient, window, position, value, pchg) rows as the values query gives them."""
    frame = pd.DataFrame(rows, columns=["patient_id", "timepoint", "timepoint_sort", "value",
                                        "pchg"])  # fmt: skip
    return frame.assign(plotted=frame["value"], day=frame["timepoint_sort"] * 7, base=10.0,
                        source_id="hand")  # fmt: skip


def test_box_stats_use_tukey_whiskers_and_count_every_value() -> None:
    # 1..9 and 100: quartiles 3.25 and 7.75, IQR 4.5; 100 lies beyond 7.75 + 6.75 = 14.5.
    frame = values([(f"P{i}", "M1", 1, float(v), None) for i, v in
                    enumerate([1, 2, 3, 4, 5, 6, 7, 8, 9, 100])])  # fmt: skip
    stats = cohort.box_stats(frame).iloc[0]
    assert stats["n"] == 10 and stats["median"] == 5.5
    assert (stats["q1"], stats["q3"]) == (3.25, 7.75)
    assert (stats["whisker_low"], stats["whisker_high"]) == (1.0, 9.0)


def test_waterfall_takes_the_best_change_in_the_parameter_s_direction() -> None:
    frame = values([
        ("A", "Baseline", 1, 10.0, 0.0), ("A", "M1", 2, 5.0, -50.0), ("A", "M3", 3, 8.0, -20.0),
        ("B", "Baseline", 1, 10.0, 0.0), ("B", "M1", 2, 12.0, 20.0), ("B", "M3", 3, 9.0, -10.0),
    ])  # fmt: skip
    response = pd.DataFrame({"patient_id": ["A"], "timepoint": ["M1"], "category": ["major"]})
    lower = cohort.waterfall(frame, response, "Best change", better="lower", baseline="Baseline")
    assert lower[["patient_id", "timepoint", "pchg", "category"]].values.tolist() == [
        ["B", "M3", -10.0, "not evaluable"],  # worst first
        ["A", "M1", -50.0, "major"],
    ]
    higher = cohort.waterfall(frame, response, "Best change", better="higher", baseline="Baseline")
    assert higher[["patient_id", "pchg"]].values.tolist() == [["A", -20.0], ["B", 20.0]]
    at_m3 = cohort.waterfall(frame, response, "M3", better="lower", baseline="Baseline")
    assert at_m3["pchg"].tolist() == [-10.0, -20.0] and at_m3["rank"].tolist() == [1, 2]


def test_cid_periods_run_from_a_cid_window_to_the_next_without() -> None:
    response = pd.DataFrame(
        {
            "patient_id": ["A"] * 4 + ["B"] * 2,
            "timepoint_sort": [1, 2, 3, 4, 1, 2],
            "nominal_day": [28, 90, 180, 240, 90, 180],
            "cid": [False, True, False, True, True, None],
            "category": [None] * 6,
        }
    )
    periods = cohort._cid_periods(response)
    assert periods[["patient_id", "start", "end"]].values.tolist() == [
        ["A", 90, 180], ["A", 240, 240], ["B", 90, 90],
    ]  # fmt: skip


def test_swimmer_periods_end_by_the_last_contact() -> None:
    # A: CID from M3 (day 90) still going at M8 (day 240), but last seen on day 200; B-cell
    # aplasia from day 2 to day 150. B: a CID run that starts after B's last contact.
    marks = pd.DataFrame({"patient_id": ["A", "B"], "mark": ["last contact"] * 2,
                          "day": [200, 60], "grade": [None, None]})  # fmt: skip
    aplasia = pd.DataFrame({"patient_id": ["A"], "onset_day": [2], "recovery_day": [150],
                            "last_day": [200], "ongoing_at_last_value": [False]})  # fmt: skip
    response = pd.DataFrame({
        "patient_id": ["A", "A", "B"], "timepoint_sort": [1, 2, 1],
        "nominal_day": [90, 240, 90], "cid": [True, True, True], "category": [None] * 3,
    })  # fmt: skip
    _, periods, _, _ = cohort.swimmer_lanes(marks, aplasia, response, "Patient id", 10)
    spans = periods[["patient_id", "period", "start", "end"]].values.tolist()
    assert sorted(spans) == [["A", "B-cell aplasia", 2, 150], ["A", "CID", 90, 200]]


def test_capped_keeps_whole_patients_and_the_same_ones_each_time() -> None:
    frame = values([(f"P{i:03d}", t, s, 1.0, None) for i in range(300)
                    for t, s in (("A", 1), ("B", 2))])  # fmt: skip
    kept, left_out = cohort.capped(frame, "patient_id", limit=100)
    assert len(kept) <= 100 and left_out == 300 - kept["patient_id"].nunique()
    assert kept.groupby("patient_id").size().eq(2).all()
    again, _ = cohort.capped(frame.sample(frac=1, random_state=1), "patient_id", limit=100)
    assert set(again["patient_id"]) == set(kept["patient_id"])
    assert cohort.capped(frame, "patient_id", limit=1000)[1] == 0


def test_thinning_a_waterfall_keeps_every_kth_bar_in_order_and_both_ends() -> None:
    bars = pd.DataFrame({"rank": range(1, 12_001), "pchg": range(12_000)})
    thinned, step = cohort.thinned_by_rank(bars)
    # 11,999 gaps in at most 999 steps: a step of 13, from rank 1 to rank 12,000 (1 + 923 × 13).
    assert step == 13 and thinned["rank"].tolist() == list(range(1, 12_001, 13))
    assert len(thinned) <= cohort.MAX_WATERFALL_BARS
    few, step = cohort.thinned_by_rank(bars.head(9), limit=5)  # 8 gaps in 4 steps of 2
    assert step == 2 and few["rank"].tolist() == [1, 3, 5, 7, 9]
    small, step = cohort.thinned_by_rank(bars.head(10), limit=5)  # 9 gaps: steps of 3, the end
    assert step == 3 and small["rank"].tolist() == [1, 4, 7, 10]


def test_window_problems_say_what_is_wrong() -> None:
    good = dictionary.timepoints()[urlstate.WINDOW_COLUMNS]
    assert cohort.window_problems(good) == []
    bad = good.copy()
    bad.loc[1, "day_from"] = 9  # D7 from 9 to 10 no longer holds day 7
    bad.loc[2, "name"] = "Baseline"
    assert cohort.window_problems(bad) == [
        "window names must differ",
        "each window must hold its nominal day (from ≤ nominal ≤ to)",
    ]


def test_windows_round_trip_through_the_url() -> None:
    windows = dictionary.timepoints()[urlstate.WINDOW_COLUMNS].head(3)
    text = urlstate.format_windows(windows)
    assert text == "Baseline:0:-60:0;D7:7:4:10;D14:14:11:20"
    parsed = urlstate.windows(text, windows)
    assert parsed.problem is None
    assert parsed.value[urlstate.WINDOW_COLUMNS].equals(windows.reset_index(drop=True))
    broken = urlstate.windows("Baseline:0:x", windows)
    assert broken.problem and broken.value is windows


def test_the_adam_export_names_the_study_day_apart_from_ady() -> None:
    frame = values([("A", "M1", 2, 5.0, -50.0)]).assign(
        code="CK", unit="U/L", qualifier=None, chg=-5.0, ref_low=26.0, ref_high=252.0
    )
    adam = cohort.adam_bds(frame, dictionary.parameters(), {"hand": "synthetic"})
    row = adam.iloc[0]
    assert row["PARAM"] == "Creatine kinase (U/L)" and row["AVAL"] == 5.0
    assert row["STUDYDAY_INF"] == 14 and "ADY" not in adam.columns
    assert (row["BASE"], row["CHG"], row["PCHG"]) == (10.0, -5.0, -50.0)
    assert row["SRCKIND"] == "synthetic"
    assert not any(c.endswith("DY") for c in adam.columns)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1.5,3.2,400,100", (1.5, 3.2, 100.0, 400.0)), ("nonsense", None), (None, None)],
)
def test_brush_state_from_the_url(text, expected) -> None:
    assert urlstate.brush(text).value == expected


def test_the_threshold_counts_values_whatever_the_view() -> None:
    # Two patients at M1; B has no baseline, so no change can be drawn for B.
    rows = pd.DataFrame(
        {
            "patient_id": ["A", "A", "B"],
            "timepoint": ["Baseline", "M1", "M1"],
            "timepoint_sort": [1, 3, 3],
            "value": [300.0, 200.0, 100.0],
            "base": [300.0, 300.0, None],
            "chg": [0.0, -100.0, None],
            "pchg": [0.0, -33.3, None],
            "ref_low": [26.0, 26.0, 26.0],
            "ref_high": [252.0, 252.0, 252.0],
        }
    )
    shown = cohort.at_windows(rows, ["Baseline", "M1"])
    assert shown["timepoint_sort"].tolist() == [1, 2, 2]  # renumbered over the windows shown
    table = cohort.threshold_table(shown, "≤ ULN", ["Baseline", "M1"]).set_index("timepoint")
    assert table.loc["M1", "n with a value"] == 2 and table.loc["M1", "≤ ULN"] == 2
    assert len(cohort.with_plotted(shown, "Change")) == 2  # B has nothing to draw
