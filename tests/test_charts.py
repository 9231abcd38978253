"""Chart builders: pure functions whose Vega-Lite spec says what the chart shows."""

from __future__ import annotations

import pandas as pd

from carta.charts.observations import observations_chart
from carta.charts.theme import SOURCE_COLOURS


def observations(rows: list[dict]) -> pd.DataFrame:
    defaults = {
        "label": "Creatine kinase",
        "unit": "U/L",
        "domain": "enzyme",
        "parameter_sort": 10,
        "log_scale": True,
        "ref_low": 26.0,
        "ref_high": 252.0,
        "specimen": "blood",
        "qualifier": None,
        "source_id": "s",
        "source_kind": "synthetic",
        "note": None,
        "code": "CK",
    }
    return pd.DataFrame([{**defaults, **row} for row in rows])


def test_one_panel_per_parameter_on_a_shared_study_day_axis() -> None:
    data = observations(
        [
            {"day": -5, "value": 900.0},
            {"day": 30, "value": 200.0},
            {
                "day": 7,
                "value": 30.0,
                "code": "CART",
                "label": "CAR T cells",
                "unit": "{cells}/uL",
                "parameter_sort": 120,
            },
        ]
    )
    spec = observations_chart(data, day_range=(-10, 240)).to_dict()
    assert spec["facet"]["row"]["field"] == "panel"
    assert spec["facet"]["row"]["sort"] == ["Creatine kinase (U/L)", "CAR T cells (cells/µL)"]
    assert spec["resolve"]["scale"]["y"] == "independent"
    for layer in spec["spec"]["layer"]:
        assert layer["encoding"]["x"]["field"] == "day"
        assert layer["encoding"]["x"]["scale"]["domain"] == [-10, 240]


def test_values_beyond_the_assay_limit_are_drawn_open_and_rows_without_a_number_are_not() -> None:
    data = observations(
        [
            {"day": 5, "value": 1.0, "qualifier": "<", "code": "CD19"},
            {"day": 9, "value": 12.0},
            {"day": 14, "value": None, "qualifier": "not_detected", "code": "CD19"},
        ]
    )
    chart = observations_chart(data)
    drawn = chart.data
    assert len(drawn) == 2
    assert drawn["beyond_limit"].tolist() == [True, False]
    assert drawn["value_text"].tolist() == ["<1", "12"]
    points = chart.to_dict()["spec"]["layer"][1]
    assert points["encoding"]["fillOpacity"]["condition"]["test"] == "datum.beyond_limit"


def test_colour_is_by_source_with_the_fixed_colour_of_each_kind() -> None:
    data = observations(
        [
            {"day": 1, "value": 10.0, "source_kind": "published"},
            {"day": 2, "value": 12.0, "source_kind": "synthetic"},
        ]
    )
    colour = observations_chart(data).to_dict()["spec"]["layer"][1]["encoding"]["color"]
    assert colour["field"] == "source_kind"
    assert colour["scale"]["domain"] == ["published", "synthetic"]
    assert colour["scale"]["range"] == [SOURCE_COLOURS["published"], SOURCE_COLOURS["synthetic"]]


def test_tooltip_names_value_unit_range_and_source() -> None:
    data = observations([{"day": 1, "value": 10.0}])
    tooltip = observations_chart(data).to_dict()["spec"]["layer"][1]["encoding"]["tooltip"]
    titles = [t["title"] for t in tooltip]
    for expected in ("Value", "Unit", "Reference low", "Reference high", "Source", "Note"):
        assert expected in titles
