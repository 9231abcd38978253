"""Time to event, Kaplan–Meier, rates per 100 patient-months and incidence by grade: worked
examples by hand.

Sources of the expected values: the product-limit estimator (Kaplan & Meier 1958), Greenwood's
variance on the log(-log S) scale for the interval, the first day with S <= 0.5 for the median
(Brookmeyer & Crowley 1982), the exact Poisson interval (Garwood 1936) and a month of 30.4375
days; see carta/measures/survival.py. Every expected number is worked out in a comment. The
property test compares the estimate with a plain product-limit loop written independently below.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from carta.measures.survival import (
    ALL_PATIENTS,
    ANY_GRADE,
    AT_RISK_COLUMNS,
    BEFORE_START,
    DAYS_PER_MONTH,
    GRADE_3_PLUS,
    GRADE_LABELS,
    INCIDENCE_COLUMNS,
    KM_COLUMNS,
    MEDIAN_COLUMNS,
    MISSING_GROUP,
    NO_EVENT_OR_CENSOR,
    NO_START,
    at_risk_table,
    incidence_by_grade,
    kaplan_meier,
    median_time,
    rate_per_100_patient_months,
    time_to_event,
)

ROOT = Path(__file__).resolve().parents[1]
Z = 1.959963984540054  # the standard normal's 97.5th percentile


def durations(rows: list[tuple], group: list | None = None) -> pd.DataFrame:
    """A durations frame from (duration, observed) pairs."""
    frame = pd.DataFrame(
        {
            "duration": pd.array([d for d, _ in rows], dtype="Int64"),
            "observed": pd.array([o for _, o in rows], dtype="boolean"),
        }
    )
    if group is not None:
        frame["arm"] = group
    return frame


def at(km: pd.DataFrame, day: int, group: str = ALL_PATIENTS) -> dict:
    """The row of ``day`` (the last one of that day: the start row comes first on day 0)."""
    rows = km[(km["group"] == group) & (km["day"] == day)]
    assert len(rows) >= 1, f"no row for day {day} in {group}"
    return rows.iloc[-1].to_dict()


def is_na(x) -> bool:
    return x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x))


def dtypes(frame: pd.DataFrame) -> dict[str, str]:
    return {column: str(dtype) for column, dtype in frame.dtypes.items()}


# The brief's example: events on days 10, 20 and 30; censored on days 15 and 40.
FIVE = durations([(10, True), (20, True), (15, False), (30, True), (40, False)])


# --- time_to_event --------------------------------------------------------------------------------


def test_time_to_event_uses_the_event_day_else_the_last_follow_up_and_counts_who_is_left_out():
    frame = pd.DataFrame(
        {
            "patient_id": ["e", "a", "b", "c", "d", "f", "g"],
            "start_day": [0, 0, 0, 0, None, 0, 2],
            "event_day": [None, 12, None, None, 5, 40, 1],
            "censor_day": [None, 90, 60, -1, 30, 20, 50],
            "arm": ["x", "x", "y", "y", "x", "y", "x"],
        }
    )
    result = time_to_event(frame)
    d = result.durations
    # a: event on day 12 -> 12, observed; b: no event, last follow-up 60 -> 60, censored;
    # f: event on day 40 after the last follow-up on day 20: the event was seen -> 40, observed.
    assert d["patient_id"].tolist() == ["a", "b", "f"]
    assert d["duration"].tolist() == [12, 60, 40]
    assert d["observed"].tolist() == [True, False, True]
    assert d["arm"].tolist() == ["x", "y", "y"]  # other columns are carried through
    assert dtypes(d)["duration"] == "Int64" and dtypes(d)["observed"] == "boolean"
    # c: censored on day -1, before the start; d: no start day; e: neither day;
    # g: event on day 1, before its start on day 2.
    reasons = dict(zip(result.left_out["patient_id"], result.left_out["reason"], strict=True))
    assert reasons == {"c": BEFORE_START, "d": NO_START, "e": NO_EVENT_OR_CENSOR,
                       "g": BEFORE_START}  # fmt: skip
    assert result.left_out_counts == {NO_START: 1, NO_EVENT_OR_CENSOR: 1, BEFORE_START: 2}


def test_time_to_event_with_a_start_day_number_and_other_column_names():
    frame = pd.DataFrame({"patient_id": ["p1", "p2"], "anc_day": [8, None], "last_day": [100, 45]})
    result = time_to_event(frame, start=0, event="anc_day", censor="last_day")
    assert result.durations["duration"].tolist() == [8, 45]
    assert result.durations["observed"].tolist() == [True, False]
    assert result.left_out.empty and result.left_out_counts == {}


def test_time_to_event_of_nobody_has_the_columns_and_dtypes():
    empty = pd.DataFrame(
        {"patient_id": pd.Series(dtype="str"), "start_day": pd.Series(dtype="Int64"),
         "event_day": pd.Series(dtype="Int64"), "censor_day": pd.Series(dtype="Int64")}
    )  # fmt: skip
    result = time_to_event(empty)
    assert result.durations.empty and list(result.durations.columns) == [
        "patient_id", "duration", "observed"
    ]  # fmt: skip
    assert dtypes(result.durations)["duration"] == "Int64"
    assert result.left_out.empty and list(result.left_out.columns) == ["patient_id", "reason"]
    assert kaplan_meier(result.durations).empty


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"patient_id": ["a"], "event_day": [1]}), "lacks the column"),
        (pd.DataFrame({"patient_id": ["a", "a"], "start_day": [0, 0], "event_day": [1, 2],
                       "censor_day": [5, 5]}), "more than one row"),
        (pd.DataFrame({"patient_id": [None], "start_day": [0], "event_day": [1],
                       "censor_day": [5]}), "missing patient_id"),
        (pd.DataFrame({"patient_id": ["a"], "start_day": [0], "event_day": [1.5],
                       "censor_day": [5]}), "whole numbers"),
    ],
)  # fmt: skip
def test_time_to_event_refuses_bad_input(frame, message):
    with pytest.raises(ValueError, match=message):
        time_to_event(frame)


# --- kaplan_meier ---------------------------------------------------------------------------------


def test_kaplan_meier_worked_example():
    km = kaplan_meier(FIVE)
    assert dtypes(km) == KM_COLUMNS
    # The start row, then one row per day with an event or a censoring.
    assert km["day"].tolist() == [0, 10, 15, 20, 30, 40]
    assert km["n_at_risk"].tolist() == [5, 5, 4, 3, 2, 1]
    assert km["n_events"].tolist() == [0, 1, 0, 1, 1, 0]
    assert km["n_censored"].tolist() == [0, 0, 1, 0, 0, 1]
    # S(10) = 1 - 1/5 = 0.8; S(15) = 0.8 (a censoring); S(20) = 0.8 x (1 - 1/3) = 0.5333;
    # S(30) = 0.5333 x (1 - 1/2) = 0.2667; S(40) = 0.2667.
    expected = [1.0, 0.8, 0.8, 0.8 * 2 / 3, 0.8 * 2 / 3 / 2, 0.8 * 2 / 3 / 2]
    assert km["survival"].tolist() == pytest.approx(expected)
    assert km["cumulative"].tolist() == pytest.approx([1 - s for s in expected])
    # Day 10, log-log Greenwood: sum d / (n (n - d)) = 1 / (5 x 4) = 0.05; se of log(-log S) =
    # sqrt(0.05) / |ln 0.8| = 0.223607 / 0.223144 = 1.002076; S^exp(+-1.96 x se) =
    # 0.8^7.1281 = 0.20381 and 0.8^0.14029 = 0.96918, so 1 - S lies in 0.03082 .. 0.79619.
    ten = at(km, 10)
    se = math.sqrt(0.05) / abs(math.log(0.8))
    assert ten["cumulative_lower"] == pytest.approx(1 - 0.8 ** math.exp(-Z * se))
    assert ten["cumulative_lower"] == pytest.approx(0.03082, abs=1e-5)
    assert ten["cumulative_upper"] == pytest.approx(0.79619, abs=1e-5)
    # The start row: nothing yet, interval 0 .. 0.
    start = km.iloc[0].to_dict()
    assert (start["cumulative"], start["cumulative_lower"], start["cumulative_upper"]) == (0, 0, 0)
    # The interval holds the estimate on every row.
    assert (km["cumulative_lower"] <= km["cumulative"] + 1e-12).all()
    assert (km["cumulative"] <= km["cumulative_upper"] + 1e-12).all()


def test_an_event_and_a_censoring_on_the_same_day_count_the_censored_patient_at_risk():
    # Day 10: 1 event, 1 censoring, 3 at risk -> S = 1 - 1/3 = 2/3 (events before censorings;
    # censoring first would give 1 - 1/2). Day 20: the last patient recovers -> S = 0.
    km = kaplan_meier(durations([(10, True), (10, False), (20, True)]))
    ten = at(km, 10)
    assert (ten["n_at_risk"], ten["n_events"], ten["n_censored"]) == (3, 1, 1)
    assert ten["survival"] == pytest.approx(2 / 3)
    last = at(km, 20)
    assert last["cumulative"] == 1.0
    # Everyone has recovered: Greenwood's variance is not defined, so there is no interval.
    assert is_na(last["cumulative_lower"]) and is_na(last["cumulative_upper"])


def test_events_on_day_0_come_after_the_start_row():
    # Day 0: 1 of 4 -> S = 0.75; day 5: 1 event and 1 censoring of 3 -> 0.75 x 2/3 = 0.5.
    km = kaplan_meier(durations([(0, True), (5, True), (5, False), (8, False)]))
    assert km["day"].tolist() == [0, 0, 5, 8]
    assert km["survival"].tolist() == pytest.approx([1.0, 0.75, 0.5, 0.5])
    assert km["n_events"].tolist() == [0, 1, 1, 0]
    # 0.75 x 2/3 is not exactly 0.5 in floating point, but the median is day 5.
    assert median_time(km).iloc[0]["median_day"] == 5


def test_everyone_censored_is_a_flat_curve_without_a_median():
    km = kaplan_meier(durations([(10, False), (20, False), (20, False)]))
    assert km["cumulative"].tolist() == [0.0, 0.0, 0.0]
    assert km["cumulative_upper"].tolist() == [0.0, 0.0, 0.0]
    assert km["n_censored"].tolist() == [0, 1, 2]
    median = median_time(km).iloc[0].to_dict()
    assert (median["n"], median["n_events"]) == (3, 0)
    assert is_na(median["median_day"]) and is_na(median["median_lower"])
    assert is_na(median["median_upper"])


def test_empty_input_gives_empty_frames_with_the_columns_and_dtypes():
    km = kaplan_meier(durations([]))
    assert km.empty and dtypes(km) == KM_COLUMNS
    assert dtypes(at_risk_table(km)) == AT_RISK_COLUMNS and at_risk_table(km).empty
    assert dtypes(median_time(km)) == MEDIAN_COLUMNS and median_time(km).empty


def test_groups_come_sorted_and_a_missing_group_is_its_own():
    frame = durations([(10, True), (20, False), (5, True), (7, True)], ["b", "a", "b", None])
    km = kaplan_meier(frame, "arm")
    assert list(pd.unique(km["group"])) == ["a", "b", MISSING_GROUP]
    # b: events on days 5 and 10, 2 patients -> S(5) = 0.5, S(10) = 0.
    assert at(km, 5, "b")["survival"] == pytest.approx(0.5)
    assert at(km, 10, "b")["survival"] == 0.0
    assert at(km, 20, "a")["n_censored"] == 1
    assert median_time(km)["group"].tolist() == ["a", "b", MISSING_GROUP]


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"duration": [1]}), "lacks the column"),
        (durations([(-1, True)]), "negative"),
        (pd.DataFrame({"duration": [None], "observed": [True]}), "missing"),
        (pd.DataFrame({"duration": [1], "observed": [None]}), "observed"),
    ],
)
def test_kaplan_meier_refuses_bad_input(frame, message):
    with pytest.raises(ValueError, match=message):
        kaplan_meier(frame)


def test_the_interval_follows_conf_level():
    # Day 10 at 90%: z = 1.644854; 1 - 0.8^exp(-z se).
    km = kaplan_meier(FIVE, conf_level=0.90)
    se = math.sqrt(0.05) / abs(math.log(0.8))
    assert at(km, 10)["cumulative_lower"] == pytest.approx(1 - 0.8 ** math.exp(-1.644854 * se))


# --- at_risk_table and median_time ----------------------------------------------------------------


def test_at_risk_table_worked_example():
    table = at_risk_table(kaplan_meier(FIVE), days=[0, 15, 16, 30, 40, 41])
    assert dtypes(table) == AT_RISK_COLUMNS
    # Durations >= d: day 0: 5; 15: {15, 20, 30, 40} = 4; 16: 3; 30: {30, 40} = 2; 40: 1; 41: 0.
    assert table["n_at_risk"].tolist() == [5, 4, 3, 2, 1, 0]
    # Events before d: the day-10, 20 and 30 events; censorings before d: days 15 and 40.
    assert table["n_events_before"].tolist() == [0, 1, 1, 2, 3, 3]
    assert table["n_censored_before"].tolist() == [0, 0, 1, 1, 1, 2]
    assert (table["n_at_risk"] + table["n_events_before"] + table["n_censored_before"] == 5).all()
    # The step function's value on day d; none after the last duration (40).
    assert table["cumulative"].tolist()[:5] == pytest.approx(
        [0, 0.2, 0.2, 1 - 0.8 / 3, 1 - 0.8 / 3]
    )
    assert is_na(table["cumulative"].iloc[5])


def test_at_risk_table_default_days_per_group():
    km = kaplan_meier(durations([(10, True), (100, False), (400, True)], ["x", "x", "y"]), "arm")
    table = at_risk_table(km)
    assert table["day"].tolist() == [0, 30, 60, 90, 180, 365] * 2
    assert table.loc[table["group"] == "x", "n_at_risk"].tolist() == [2, 1, 1, 1, 0, 0]
    assert table.loc[table["group"] == "y", "n_at_risk"].tolist() == [1, 1, 1, 1, 1, 1]
    with pytest.raises(ValueError, match=">= 0"):
        at_risk_table(km, days=[-1])


def test_median_time_worked_example():
    median = median_time(kaplan_meier(FIVE))
    assert dtypes(median) == MEDIAN_COLUMNS
    row = median.iloc[0].to_dict()
    # 1 - S: 0.2 (day 10), 0.4667 (20), 0.7333 (30) -> first >= 0.5 on day 30.
    # Upper cumulative limit 0.7962 on day 10 -> lower median limit day 10.
    # Lower cumulative limit: 0.3139 at most (days 30-40) -> the upper limit is not reached.
    assert (row["n"], row["n_events"], row["median_day"], row["median_lower"]) == (5, 3, 30, 10)
    assert is_na(row["median_upper"])


def test_median_time_with_an_upper_limit():
    # 10 patients recover on days 1..10: S(k) = 1 - k/10, first S <= 0.5 on day 5; everybody has
    # recovered by day 10, so the interval's lower cumulative limit reaches 0.5 before that.
    median = median_time(kaplan_meier(durations([(d, True) for d in range(1, 11)]))).iloc[0]
    assert median["median_day"] == 5
    assert 1 <= median["median_lower"] < 5 < median["median_upper"] <= 10


# --- the estimate against a plain product-limit loop ----------------------------------------------


def reference_km(rows: list[tuple[int, bool]], z: float = Z) -> list[dict]:
    """Product-limit estimate, Greenwood variance, log-log interval: one dict per distinct day."""
    out, survival, greenwood = [], 1.0, 0.0
    for day in sorted({d for d, _ in rows}):
        at_risk = sum(1 for d, _ in rows if d >= day)
        events = sum(1 for d, o in rows if d == day and o)
        censored = sum(1 for d, o in rows if d == day and not o)
        survival *= 1 - events / at_risk
        if events and at_risk > events:
            greenwood += events / (at_risk * (at_risk - events))
        if survival == 1.0:
            low = high = 1.0
        elif survival == 0.0:
            low = high = math.nan
        else:
            se = math.sqrt(greenwood) / abs(math.log(survival))
            low, high = survival ** math.exp(z * se), survival ** math.exp(-z * se)
        out.append({"day": day, "n_at_risk": at_risk, "n_events": events,
                    "n_censored": censored, "survival": survival,
                    "cumulative_lower": 1 - high, "cumulative_upper": 1 - low})  # fmt: skip
    return out


@given(st.lists(st.tuples(st.integers(0, 60), st.booleans()), min_size=1, max_size=40))
def test_kaplan_meier_matches_a_plain_product_limit_loop(rows):
    km = kaplan_meier(durations(rows))
    expected = reference_km(rows)
    got = km.iloc[1:]  # after the start row
    assert got["day"].tolist() == [r["day"] for r in expected]
    for column in ("n_at_risk", "n_events", "n_censored"):
        assert got[column].tolist() == [r[column] for r in expected]
    for column in ("survival", "cumulative_lower", "cumulative_upper"):
        np.testing.assert_allclose(
            got[column].to_numpy(dtype=float),
            [r[column] for r in expected],
            rtol=1e-7,
            atol=1e-9,
        )
    table = at_risk_table(km, days=[0, 7, 30, 61])
    assert (
        table["n_at_risk"] + table["n_events_before"] + table["n_censored_before"] == len(rows)
    ).all()


# --- rates ----------------------------------------------------------------------------------------


def test_rate_per_100_patient_months_worked_example():
    # 3 infections over 365.25 + 182.625 + 60.875 = 608.75 days = 20 months of 30.4375 days:
    # 3 / 20 x 100 = 15 per 100 patient-months. Exact Poisson interval of 3 events:
    # chi2(0.025; 6) / 2 = 0.61867 and chi2(0.975; 8) / 2 = 8.76727 (tabulated), so
    # 0.61867 / 20 x 100 = 3.093 and 8.76727 / 20 x 100 = 43.836.
    rate = rate_per_100_patient_months(3, [365.25, 182.625, 60.875])
    assert DAYS_PER_MONTH == 30.4375
    assert (rate.events, rate.exposure_days, rate.patient_months) == (3, 608.75, 20.0)
    assert rate.rate == pytest.approx(15.0)
    assert rate.lower == pytest.approx(3.0934, abs=1e-4)
    assert rate.upper == pytest.approx(43.836, abs=1e-3)
    assert rate.as_dict()["rate"] == rate.rate and rate.conf_level == 0.95


def test_rate_without_events_has_an_upper_limit_only():
    # k = 0: lower 0; upper = chi2(0.975; 2) / 2 = -ln(0.025) = 3.68888 events, over 20 months.
    rate = rate_per_100_patient_months([0, 0], 608.75)
    assert (rate.rate, rate.lower) == (0.0, 0.0)
    assert rate.upper == pytest.approx(-math.log(0.025) / 20 * 100)


def test_rate_without_follow_up_is_not_defined():
    rate = rate_per_100_patient_months(0, [])
    assert math.isnan(rate.rate) and math.isnan(rate.upper)
    with pytest.raises(ValueError, match="no follow-up"):
        rate_per_100_patient_months(2, 0)
    with pytest.raises(ValueError, match="whole numbers"):
        rate_per_100_patient_months(1.5, 10)
    with pytest.raises(ValueError, match="follow-up days"):
        rate_per_100_patient_months(1, [10, -1])


# --- incidence by grade ---------------------------------------------------------------------------


def test_incidence_by_grade_worked_example():
    worst = pd.DataFrame(
        {
            "patient_id": ["p1", "p2", "p3", "p4", "p5", "p1", "p2"],
            "category": ["CRS", "CRS", "CRS", "CRS", "CRS", "ICANS", "ICANS"],
            "grade": [1, 1, 2, 3, 0, 4, None],
        }
    )
    table = incidence_by_grade(worst, 10, ["CRS", "ICANS", "LICATS"])
    assert dtypes(table) == INCIDENCE_COLUMNS
    assert table["grade"].tolist() == list(GRADE_LABELS) * 3
    n = {(c, g): v for c, g, v in zip(table["category"], table["grade"], table["n"], strict=True)}
    pct = dict(zip(zip(table["category"], table["grade"], strict=True), table["percent"],
                   strict=True))  # fmt: skip
    # CRS: grades 1, 1, 2, 3 (p5's grade 0 is no CRS): any = 4 of 10 = 40 %, >= 3 = 1 (10 %).
    assert [n[("CRS", g)] for g in GRADE_LABELS] == [2, 1, 1, 0, 0, 1, 4]
    assert pct[("CRS", ANY_GRADE)] == 40.0 and pct[("CRS", "1")] == 20.0
    # ICANS: p1 grade 4 (p2's missing grade is not counted): >= 3 and any = 1 (10 %).
    assert [n[("ICANS", g)] for g in GRADE_LABELS] == [0, 0, 0, 1, 0, 1, 1]
    assert pct[("ICANS", GRADE_3_PLUS)] == 10.0
    # LICATS: nobody, 0 of 10.
    assert [n[("LICATS", g)] for g in GRADE_LABELS] == [0] * 7
    assert (table["n_at_risk"] == 10).all()


def test_incidence_with_a_number_at_risk_per_category():
    worst = pd.DataFrame({"patient_id": ["a", "b"], "category": ["ICAHT", "CRS"], "grade": [3, 2]})
    table = incidence_by_grade(worst, {"CRS": 8, "ICAHT": 4, "T-ICAHT": 0})
    assert list(pd.unique(table["category"])) == ["CRS", "ICAHT", "T-ICAHT"]
    any_rows = table[table["grade"] == ANY_GRADE].set_index("category")
    assert any_rows.loc["CRS", "percent"] == 12.5 and any_rows.loc["ICAHT", "percent"] == 25.0
    assert math.isnan(any_rows.loc["T-ICAHT", "percent"])  # nobody at risk


def test_incidence_without_categories_uses_those_present():
    worst = pd.DataFrame({"patient_id": ["a"], "category": ["ICANS"], "grade": [1]})
    assert list(pd.unique(incidence_by_grade(worst, 3)["category"])) == ["ICANS"]
    empty = pd.DataFrame(columns=["patient_id", "category", "grade"])
    assert incidence_by_grade(empty, 3).empty
    assert dtypes(incidence_by_grade(empty, 3)) == INCIDENCE_COLUMNS


@pytest.mark.parametrize(
    ("worst", "at_risk", "categories", "message"),
    [
        ({"patient_id": ["a"], "category": ["CRS"], "grade": [6]}, 5, None, "0-5"),
        ({"patient_id": ["a", "a"], "category": ["CRS"] * 2, "grade": [1, 2]}, 5, None, "once"),
        ({"patient_id": ["a"], "category": ["CRS"], "grade": [1]}, 5, ["ICANS"], "not among"),
        ({"patient_id": ["a"], "category": ["CRS"], "grade": [1]}, {"ICANS": 5}, ["CRS"],
         "no number at risk"),
        ({"patient_id": ["a", "b"], "category": ["CRS"] * 2, "grade": [1, 2]}, 1, None,
         "only 1 at risk"),
    ],
)  # fmt: skip
def test_incidence_refuses_bad_input(worst, at_risk, categories, message):
    with pytest.raises(ValueError, match=message):
        incidence_by_grade(pd.DataFrame(worst), at_risk, categories)


def test_importing_the_measures_does_not_load_scikit_learn():
    # The page imports this module at start; scikit-survival (and scikit-learn, ~1 s) load on the
    # first curve only.
    code = "import sys, carta.measures.survival; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True)  # fmt: skip
    assert out.stdout.strip() == "False"
