"""The trajectory's queries on a hand-made store: baseline and change (ADaM BASE, CHG, PCHG) and
the values around a picked day, with every expected number worked out by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from carta.store import open_read_only, run_query
from tests.handmade import PATIENT, hand_store

OBSERVATIONS = [
    (-30, "CK", 1200.0),
    (-10, "CK", 1000.0),
    (-2, "CK", 900.0),  # last value up to day 0: the baseline
    (5, "CK", 450.0),
    (28, "CK", 180.0),
    (-1, "CRP", 0.0),  # a zero baseline: PCHG is missing, not infinite
    (7, "CRP", 12.0),
    (3, "ANC", 0.3),
    (6, "ANC", 0.9),
    (7, "CART", 32.69),
]


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    path = hand_store(tmp_path_factory.mktemp("hand") / "hand.duckdb", OBSERVATIONS)
    connection = open_read_only(path)
    yield connection
    connection.close()


def observations(con, baseline_from=-60, baseline_to=0) -> pd.DataFrame:
    return run_query(
        con,
        "patient_observations",
        patient_id=PATIENT,
        baseline_from=baseline_from,
        baseline_to=baseline_to,
    ).set_index(["code", "day"])


def test_baseline_is_the_last_value_up_to_day_0(con) -> None:
    rows = observations(con)
    assert rows.loc[("CK", 5), "base"] == 900
    assert rows.loc[("CK", 5), "base_day"] == -2
    assert rows.loc[("CK", 5), "chg"] == -450
    assert rows.loc[("CK", 5), "pchg"] == pytest.approx(-50.0)
    assert rows.loc[("CK", 28), "chg"] == -720
    assert rows.loc[("CK", 28), "pchg"] == pytest.approx(-80.0)
    assert rows.loc[("CK", -2), "chg"] == 0


def test_the_baseline_window_is_a_setting(con) -> None:
    rows = observations(con, baseline_from=-60, baseline_to=-5)
    assert rows.loc[("CK", 28), "base"] == 1000
    assert rows.loc[("CK", 28), "pchg"] == pytest.approx(-82.0)
    none_in_window = observations(con, baseline_from=-60, baseline_to=-40)
    assert none_in_window.loc[("CK", 28), ["base", "chg", "pchg"]].isna().all()


def test_a_zero_baseline_leaves_percent_change_missing(con) -> None:
    rows = observations(con)
    assert rows.loc[("CRP", 7), "chg"] == 12
    assert pd.isna(rows.loc[("CRP", 7), "pchg"])


def test_multiples_of_the_upper_limit_use_the_dictionary_range_when_the_result_has_none(con):
    rows = observations(con)
    assert rows.loc[("CK", 5), "x_uln"] == pytest.approx(450 / 252)
    assert pd.isna(rows.loc[("CART", 7), "x_uln"])  # no upper limit for CAR T cells


def test_values_near_a_day_nearest_first(con) -> None:
    near = run_query(con, "patient_values_near_day", patient_id=PATIENT, day=6, window=1)
    assert list(zip(near["code"], near["day"], near["offset_days"], strict=True)) == [
        ("ANC", 6, 0),
        ("CK", 5, -1),
        ("CRP", 7, 1),
        ("CART", 7, 1),
    ]
    none = run_query(con, "patient_values_near_day", patient_id=PATIENT, day=100, window=3)
    assert none.empty
