"""The safety page's chart specs: KM recovery curves over the number at risk, incidence by grade."""

from __future__ import annotations

import pandas as pd
import pytest
import vl_convert

from carta.charts.safety import (
    AT_RISK_FIELDS,
    AT_RISK_TITLE,
    BAR_FIELDS,
    CENSOR_FIELDS,
    CURVE_FIELDS,
    INCIDENCE_TITLE,
    LABEL_FIELDS,
    RECOVERED_TITLE,
    incidence_chart,
    recovery_chart,
)
from carta.charts.theme import OKABE_ITO, STUDY_DAY_TITLE
from carta.charts.trajectory import GRADE_COLOURS
from carta.measures.survival import (
    AT_RISK_DAYS,
    at_risk_table,
    incidence_by_grade,
    kaplan_meier,
)


def durations(rows, groups=None) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "duration": pd.array([d for d, _ in rows], dtype="Int64"),
            "observed": pd.array([o for _, o in rows], dtype="boolean"),
        }
    )
    if groups is not None:
        frame["arm"] = groups
    return frame


# Two arms: a recovers on days 10 and 30, censored on 15 and 200; b recovers on 20, censored 60.
ROWS = [(10, True), (15, False), (30, True), (200, False), (20, True), (60, False)]
ARMS = ["a", "a", "a", "a", "b", "b"]
KM = kaplan_meier(durations(ROWS, ARMS), "arm")


def dataset(spec: dict, view: dict) -> list[dict]:
    return spec["datasets"][view["data"]["name"]]


def layers(spec: dict) -> dict[str, dict]:
    """The curve panel's layers by mark type."""
    out = {}
    for layer in spec["vconcat"][0]["layer"]:
        mark = layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"]
        out[mark] = layer
    return out


def test_recovery_chart_layers_and_fields():
    spec = recovery_chart(KM, title="Time to ANC recovery").to_dict()  # validates the spec
    assert spec["title"] == "Time to ANC recovery"
    curve = layers(spec)
    assert set(curve) == {"area", "line", "tick", "point"}
    for mark in ("area", "line"):
        assert curve[mark]["mark"]["interpolate"] == "step-after"
    band, line = curve["area"]["encoding"], curve["line"]["encoding"]
    assert (band["y"]["field"], band["y2"]["field"]) == ("cumulative_lower", "cumulative_upper")
    assert line["x"]["field"] == "day" and line["y"]["field"] == "cumulative"
    assert line["x"]["title"] == STUDY_DAY_TITLE and line["y"]["title"] == RECOVERED_TITLE
    assert line["y"]["scale"]["domain"] == [0, 1] and line["y"]["axis"]["format"] == "%"
    # One Okabe–Ito colour per group, in the groups' order; a legend (two groups) drawn as lines.
    colour = line["color"]
    assert colour["field"] == "group"
    assert colour["scale"] == {"domain": ["a", "b"], "range": OKABE_ITO[:2]}
    assert colour["legend"]["symbolType"] == "stroke"
    # Censor ticks stand upright at the censored days, on the curve.
    tick = curve["tick"]
    assert tick["mark"]["orient"] == "vertical"
    assert tick["encoding"]["y"]["field"] == "cumulative"
    assert {t["field"] for t in curve["point"]["encoding"]["tooltip"]} == set(CURVE_FIELDS)


def test_recovery_chart_data_rows_hold_only_the_encoded_columns():
    spec = recovery_chart(KM).to_dict()
    curve = layers(spec)
    rows = dataset(spec, curve["line"])
    assert len(rows) == len(KM) and set(rows[0]) == set(CURVE_FIELDS)
    assert dataset(spec, curve["area"]) == rows  # one table for the band, line and points
    censored = dataset(spec, curve["tick"])
    # Censored on days 15 and 200 (a) and 60 (b).
    assert sorted((r["group"], r["day"]) for r in censored) == [("a", 15), ("a", 200), ("b", 60)]
    assert set(censored[0]) == set(CENSOR_FIELDS)
    numbers = dataset(spec, spec["vconcat"][1])
    # The default at-risk days up to the last day (200): 0, 30, 60, 90, 180 for each group.
    assert len(numbers) == 2 * 5 and set(numbers[0]) == set(AT_RISK_FIELDS)
    assert [r["n_at_risk"] for r in numbers if r["group"] == "a"] == [4, 2, 1, 1, 1]


def test_the_number_at_risk_row_sits_under_the_curves_on_the_same_days():
    at_risk = at_risk_table(KM, days=[0, 30, 90])
    spec = recovery_chart(KM, at_risk).to_dict()
    line = layers(spec)["line"]["encoding"]["x"]
    row = spec["vconcat"][1]
    assert row["mark"]["type"] == "text" and row["title"]["text"] == AT_RISK_TITLE
    assert row["encoding"]["text"]["field"] == "n_at_risk"
    assert row["encoding"]["y"]["field"] == "group"
    # The day axis ticks are the at-risk days, and both panels span the same days.
    assert line["axis"]["values"] == [0, 30, 90]
    assert row["encoding"]["x"]["scale"]["domain"] == line["scale"]["domain"] == [0, 200]
    assert spec["bounds"] == "flush" and spec["resolve"]["scale"]["x"] == "shared"
    assert len(dataset(spec, row)) == 2 * 3


def test_recovery_chart_of_one_group_has_no_legend_and_can_leave_out_the_band():
    km = kaplan_meier(durations(ROWS))
    spec = recovery_chart(km, interval=False).to_dict()
    curve = layers(spec)
    assert "area" not in curve
    assert curve["line"]["encoding"]["color"]["legend"] is None
    assert curve["line"]["encoding"]["color"]["scale"]["range"] == OKABE_ITO[:1]


def test_recovery_chart_of_nobody_still_builds():
    km = kaplan_meier(durations([]))
    spec = recovery_chart(km).to_dict()
    assert dataset(spec, layers(spec)["line"]) == []


def test_incidence_chart_layers_fields_and_rows():
    worst = pd.DataFrame(
        {
            "patient_id": ["p1", "p2", "p3", "p1", "p4"],
            "category": ["CRS", "CRS", "CRS", "ICANS", "Infection"],
            "grade": [1, 2, 2, 3, 1],
        }
    )
    categories = ["CRS", "ICANS", "ICAHT", "Infection"]
    incidence = incidence_by_grade(worst, 10, categories)
    spec = incidence_chart(incidence, title="Worst grade").to_dict()
    bars, text = spec["layer"]
    assert bars["mark"]["type"] == "bar" and text["mark"]["type"] == "text"
    enc = bars["encoding"]
    assert enc["x"]["field"] == "percent" and enc["x"]["stack"] == "zero"
    assert enc["x"]["title"] == INCIDENCE_TITLE and enc["x"]["scale"]["domain"] == [0, 100]
    assert enc["y"]["field"] == "category" and enc["y"]["sort"] == categories
    assert enc["color"]["field"] == "grade"
    # Grades light to dark; a severity without a grade in grey, never a grade's colour.
    assert enc["color"]["scale"] == {"domain": ["1", "2", "3", "4", "5", "not graded"],
                                     "range": [*GRADE_COLOURS.values(), "#9E9E9E"]}  # fmt: skip
    assert {t["field"] for t in enc["tooltip"]} == set(BAR_FIELDS)
    # Bars only where somebody has the grade: CRS 1 and 2, ICANS 3, Infection 1.
    rows = dataset(spec, bars)
    assert sorted((r["category"], r["grade"], r["n"]) for r in rows) == [
        ("CRS", "1", 1), ("CRS", "2", 2), ("ICANS", "3", 1), ("Infection", "1", 1)
    ]  # fmt: skip
    assert set(rows[0]) == set(BAR_FIELDS)
    # One label per category, any grade, at the end of its bar.
    labels = dataset(spec, text)
    assert [r["label"] for r in labels] == ["3/10 (30%)", "1/10 (10%)", "0/10 (0%)", "1/10 (10%)"]
    assert set(labels[0]) == set(LABEL_FIELDS)


def test_incidence_chart_of_nobody_at_risk_has_no_percent():
    incidence = incidence_by_grade(
        pd.DataFrame(columns=["patient_id", "category", "grade"]), {"T-ICAHT": 0}
    )
    spec = incidence_chart(incidence).to_dict()
    assert [r["label"] for r in dataset(spec, spec["layer"][1])] == ["0/0"]


@pytest.mark.parametrize("which", ["recovery", "incidence"])
def test_the_charts_render(which):
    if which == "recovery":
        chart = recovery_chart(KM, at_risk_table(KM, AT_RISK_DAYS))
    else:
        worst = pd.DataFrame({"patient_id": ["a"], "category": ["CRS"], "grade": [2]})
        chart = incidence_chart(incidence_by_grade(worst, 4, ["CRS", "ICANS"]))
    svg = vl_convert.vegalite_to_svg(chart.to_dict())
    assert svg.startswith("<svg")
    assert (AT_RISK_TITLE if which == "recovery" else "1/4 (25%)") in svg
