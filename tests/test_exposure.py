"""Glucocorticoid and immunosuppressant exposure worked by hand: prednisone equivalents, the
daily dose from medication events, the cumulative dose and the days off treatment
(carta/measures/exposure.py)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from carta.measures import exposure


@pytest.mark.parametrize(
    ("name", "dose", "equivalent"),
    [
        ("Prednisone", 5, 5),
        ("Prednisolone 5 mg tablets", 5, 5),
        ("Methylprednisolone", 4, 5),
        ("Dexamethasone", 0.75, 5),  # 0.75 x 5/0.75, rounded: exactly 5, not 5.000000000000001
        ("Hydrocortisone", 20, 5),
        ("Betamethasone", 0.6, 5),
        ("Methylprednisolone IV pulse", 500, 625),
    ],
)
def test_prednisone_equivalents(name, dose, equivalent) -> None:
    events = pd.DataFrame([medication("P", name, 0, 0, dose, "mg/day")])
    periods = exposure.exposure_periods(events, pd.Series({"P": 10}))
    assert periods.loc[0, "pred_eq_mg_per_day"] == equivalent


def test_a_drug_without_an_equivalent_or_a_dose_per_kg_stays_unknown() -> None:
    events = pd.DataFrame([
        medication("P", "Budesonide", 0, 10, 9, "mg/day"),
        medication("P", "Prednisolone", 0, 10, 1, "mg/kg/day"),  # needs the weight
    ])  # fmt: skip
    periods = exposure.exposure_periods(events, pd.Series({"P": 10}))
    assert periods["drug_class"].eq("glucocorticoid").all()
    assert periods["pred_eq_mg_per_day"].isna().all()


def test_daily_doses_from_the_ways_doses_are_recorded() -> None:
    assert exposure.daily_mg(10, "mg/day", None, 0, 9) == 10
    assert exposure.daily_mg(1, "g/day", None, 0, 2) == 1000
    assert exposure.daily_mg(500, "mg", "per_dose", 3, 3) == 500
    assert exposure.daily_mg(300, "mg", "total", 1, 3) == 100
    assert math.isnan(exposure.daily_mg(500, "mg", "per_dose", 3, 5))  # how often is not said
    assert math.isnan(exposure.daily_mg(15, "mg/m2/week", None, 0, 100))


def medication(patient, name, start, end, dose=None, unit=None, drug_class=None) -> dict:
    return {"patient_id": patient, "kind": "medication", "name": name, "start_day": start,
            "end_day": end, "dose": dose, "dose_unit": unit, "dose_basis": None,
            "drug_class": drug_class}  # fmt: skip


def test_cumulative_dose_and_days_off() -> None:
    events = pd.DataFrame([
        medication("A", "Prednisolone", -30, 9, 10, "mg/day"),  # 10 days from day 0: 100 mg
        medication("A", "Methylprednisolone", 3, 3, 500, "mg"),  # one pulse: 625 mg
        medication("A", "Prednisolone", 10, 19, 5, "mg/day"),  # 10 days: 50 mg
        medication("A", "Hydroxychloroquine", 0, None, 200, "mg/day"),  # not immunosuppression
        medication("A", "Mycophenolate mofetil", -100, 40, 1000, "mg/day"),
        medication("B", "Prednisolone", 100, None, 1, "mg/kg/day"),  # runs to the last day
        {"patient_id": "C", "kind": "withdrawal", "name": "All treatment withdrawn",
         "start_day": None, "end_day": None, "dose": None, "dose_unit": None,
         "dose_basis": None, "drug_class": None},
    ])  # fmt: skip
    rows = exposure.patient_exposure(events, pd.Series({"A": 100, "B": 200, "C": 240}))
    rows = rows.set_index("patient_id")
    a, b, c = rows.loc["A"], rows.loc["B"], rows.loc["C"]
    assert a["cumulative_pred_eq_mg"] == 775 and a["pred_eq_mg_at_last"] == 0
    assert a["last_glucocorticoid_day"] == 19 and a["days_off_glucocorticoids"] == 81
    assert a["last_immunosuppressant_day"] == 40 and a["days_off_immunosuppression"] == 60
    assert a["immunosuppressant_events"] == 4  # three glucocorticoids and mycophenolate
    assert pd.isna(b["cumulative_pred_eq_mg"]) and b["glucocorticoid_doses_unknown"] == 1
    assert b["days_off_glucocorticoids"] == 0
    assert c["withdrawal_reported"] and pd.isna(c["days_off_glucocorticoids"])
    assert c["cumulative_pred_eq_mg"] == 0


def test_the_dose_on_a_day_adds_what_covers_it() -> None:
    events = pd.DataFrame([
        medication("A", "Prednisolone", -30, 9, 10, "mg/day"),
        medication("A", "Methylprednisolone", 3, 3, 500, "mg"),
        medication("B", "Prednisolone", 0, 5, 1, "mg/kg/day"),
    ])  # fmt: skip
    periods = exposure.exposure_periods(events, pd.Series({"A": 100, "B": 100}))
    points = pd.DataFrame({"patient_id": ["A", "A", "A", "B", "B"], "day": [3, 9, 10, 2, 6]})
    doses = exposure.doses_at(periods, points).tolist()
    assert doses[:3] == [635, 10, 0] and math.isnan(doses[3]) and doses[4] == 0
    series = exposure.daily_series(periods[periods["patient_id"] == "A"], 8, 11)
    assert series["pred_eq_mg_per_day"].tolist() == [10, 10, 0, 0]


def test_the_dose_lane_steps_where_the_dose_changes_and_breaks_where_it_is_unknown() -> None:
    # 10 mg/day on days 0-4, then a dose per kg on days 5-6 (unknown), then nothing (0 mg).
    events = pd.DataFrame([
        medication("P", "Prednisone", 0, 4, 10, "mg/day"),
        medication("P", "Prednisolone", 5, 6, 1, "mg/kg/day"),
    ])  # fmt: skip
    periods = exposure.exposure_periods(events, pd.Series({"P": 8}))
    steps, unknown = exposure.dose_steps(periods, -1, 8)
    # Step-after rows: 0 from day -1, 10 from day 0 (closed on day 5); a new stretch of 0 from
    # day 7 to the last day (8), closed on day 9. Never drawn through days 5-6 as 0.
    assert list(steps.itertuples(index=False, name=None)) == [
        (-1, 0.0, 0), (0, 10.0, 0), (5, 10.0, 0), (7, 0.0, 1), (9, 0.0, 1)
    ]  # fmt: skip
    assert list(unknown.itertuples(index=False, name=None)) == [(5, 6)]
