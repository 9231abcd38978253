"""The trajectory spec: linked panels on one study-day axis, wired to the brush and the click."""

from __future__ import annotations

import json

import altair as alt
import pandas as pd
import pytest

from carta.charts.trajectory import (
    BRUSH,
    OVERVIEW,
    PICK,
    TrajectoryData,
    TrajectoryOptions,
    day_ticks,
    lane_name,
    panels_with_data,
    trajectory_spec,
)


def obs(code, day, value, **extra) -> dict:
    meta = {
        "CK": ("Creatine kinase", "enzyme", 10, "U/L", 26.0, 252.0, None, None, "lower"),
        "CART": ("CAR T cells", "cellular", 120, "{cells}/uL", None, None, None, None, None),
        "CD19": ("CD19+ B cells", "cellular", 130, "{cells}/uL", None, None, None, None, None),
        "ANC": ("Neutrophils (absolute)", "hematology", 90, "10*9/L", 1.5, 8.0, None, None,
                "higher"),
        "CMAS": ("Childhood Myositis Assessment Scale", "score", 200, "{score}", None, None, 0.0,
                 52.0, "higher"),
        "PGA": ("Physician global activity", "score", 220, "cm", None, None, 0.0, 10.0, "lower"),
    }  # fmt: skip
    label, domain, sort, unit, lo, hi, smin, smax, better = meta[code]
    row = {
        "day": day, "code": code, "label": label, "domain": domain, "parameter_sort": sort,
        "log_scale": False, "scale_min": smin, "scale_max": smax, "better": better,
        "value": value, "unit": unit, "ref_low": lo, "ref_high": hi,
        "x_uln": value / hi if hi and value is not None else None, "base": None, "base_day": None,
        "chg": None, "pchg": None, "specimen": "blood", "qualifier": None, "source_id": "s",
        "source_kind": "synthetic", "note": None,
    }  # fmt: skip
    return row | extra


EVENTS = pd.DataFrame(
    [
        {"kind": "lymphodepletion", "name": "Fludarabine", "start_day": -5, "end_day": -3,
         "dose": 75.0, "dose_unit": "mg/m2", "source_id": "s", "source_kind": "synthetic",
         "note": None},
        {"kind": "infusion", "name": "CD19 CAR T infusion", "start_day": 0, "end_day": 0,
         "dose": 1e6, "dose_unit": "cells/kg", "source_id": "s", "source_kind": "synthetic",
         "note": None},
    ]
)  # fmt: skip
ADVERSE = pd.DataFrame(
    [{"term": "Cytokine release syndrome", "grade": 2, "grading_system": "ASTCT 2019",
      "onset_day": 2, "end_day": 4, "serious": False, "treatment": "Tocilizumab",
      "source_id": "s", "source_kind": "synthetic", "note": None}]
)  # fmt: skip
IMAGING = pd.DataFrame(
    [{"day": -10, "modality": "MRI", "sequence": "STIR", "region": "quadriceps", "side": "left",
      "finding": "muscle oedema", "grade": 2.0, "scale": "muscle oedema 0-2", "summary": "oedema",
      "source_id": "s", "source_kind": "synthetic"}]
)  # fmt: skip
OBSERVATIONS = pd.DataFrame(
    [
        obs("CK", -6, 2400.0),
        obs("CK", 28, 300.0),
        obs("CART", 7, 32.69),
        obs("CD19", 5, None, qualifier="not_detected"),
        obs("CD19", 14, 1.0, qualifier="<"),
        obs("ANC", 7, 0.4, grade=4),
        obs("ANC", 28, 2.0, grade=0),
        obs("CMAS", -6, 20.0),
        obs("CMAS", 90, 45.0),
        obs("PGA", -6, 7.0),
    ]
)
BANDS = {"ANC": [{"grade": 2, "low": 1.0, "high": 1.5}, {"grade": 4, "low": 0.0, "high": 0.5}]}


def full_data(**changes) -> TrajectoryData:
    fields = {
        "observations": OBSERVATIONS,
        "events": EVENTS,
        "adverse_events": ADVERSE,
        "imaging": IMAGING,
        "day_range": (-30, 240),
    }
    return TrajectoryData(**(fields | changes))


def layers_of(view: dict) -> list[dict]:
    return view["layer"]


def titles(spec: dict) -> list[str]:
    return [view["title"]["text"] for view in spec["vconcat"]]


def view_titled(spec: dict, title: str) -> dict:
    [view] = [v for v in spec["vconcat"] if v["title"]["text"] == title]
    return view


def test_every_panel_present_in_order_on_the_study_day_axis() -> None:
    spec = trajectory_spec(full_data(), TrajectoryOptions(grade_bands=BANDS))
    assert titles(spec) == [
        "Course and adverse events",
        "Muscle enzymes",
        "CAR T cells (cells/µL)",
        "CD19+ B cells (cells/µL)",
        "Neutrophils (absolute) (×10⁹/L)",
        "Clinical scores",
        "MRI",
    ]
    for view in spec["vconcat"]:
        rule = layers_of(view)[-1]
        assert rule["mark"]["type"] == "rule"
        assert rule["encoding"]["x"]["field"] == "day"
        assert rule["transform"] == [{"filter": {"param": PICK, "empty": False}}]
    assert spec["usermeta"] == {"embedOptions": {"renderer": "svg"}}


def test_the_brush_belongs_to_the_overview_and_zooms_every_other_panel() -> None:
    spec = trajectory_spec(full_data(), TrajectoryOptions())
    params = {p["name"]: p for p in spec["params"]}
    assert params[BRUSH]["select"] == {"type": "interval", "encodings": ["x"]}
    assert params[BRUSH]["views"] == [layers_of(spec["vconcat"][0])[0]["name"]]
    assert params[BRUSH]["views"][0].startswith(OVERVIEW)
    overview_x = layers_of(spec["vconcat"][0])[-2]["encoding"]["x"]["scale"]
    assert overview_x == {"domain": [-30, 240], "nice": False}
    for view in spec["vconcat"][1:]:
        scale = layers_of(view)[-2]["encoding"]["x"]["scale"]
        assert scale == {"domain": {"param": BRUSH, "encoding": "x"}, "nice": False}
        # Without a brush each panel falls back to its data's extent; an invisible layer spanning
        # the whole range makes that the same for every panel.
        extent = layers_of(view)[-3]
        assert extent["mark"] == {"type": "point", "opacity": 0}
        assert [r["day"] for r in spec["datasets"][extent["data"]["name"]]] == [-30, 240]


def test_a_click_on_any_panel_picks_the_nearest_day() -> None:
    spec = trajectory_spec(full_data(), TrajectoryOptions())
    pick = {p["name"]: p for p in spec["params"]}[PICK]
    assert pick["select"] == {
        "type": "point",
        "fields": ["day"],
        "on": "click",
        "nearest": True,
        "clear": "dblclick",
    }
    click_layers = [layers_of(view)[-2] for view in spec["vconcat"]]
    assert pick["views"] == [layer["name"] for layer in click_layers]
    assert all(
        layer["mark"] == {"type": "point", "opacity": 0, "size": 300} for layer in click_layers
    )


def test_window_and_day_from_the_url_are_drawn_on_load() -> None:
    spec = trajectory_spec(full_data(), TrajectoryOptions(window=(-7.0, 60.0), selected_day=28))
    params = {p["name"]: p for p in spec["params"]}
    assert params[BRUSH]["value"] == {"x": [-7.0, 60.0]}
    assert params[PICK]["value"] == [{"day": 28}]


def test_scales_as_stated() -> None:
    spec = trajectory_spec(full_data(), TrajectoryOptions(grade_bands=BANDS))
    enzymes = view_titled(spec, "Muscle enzymes")
    car_t, b_cells = (
        view_titled(spec, "CAR T cells (cells/µL)"),
        view_titled(spec, "CD19+ B cells (cells/µL)"),
    )
    enzyme_y = layers_of(enzymes)[0]["encoding"]["y"]
    assert enzyme_y["field"] == "x_uln" and enzyme_y["scale"]["type"] == "log"
    assert any(
        layer["mark"]["type"] == "rule" and "y" in layer["encoding"] for layer in layers_of(enzymes)
    )
    # CAR T and B cells on axes of their own: a CAR T peak of a few cells/µL is not flattened.
    assert "scale" not in layers_of(car_t)[0]["encoding"]["y"]
    b_cell_y = layers_of(b_cells)[0]["encoding"]["y"]
    assert b_cell_y["scale"]["type"] == "symlog" and b_cell_y["axis"]["values"] == [0, 1]
    raw = trajectory_spec(full_data(), TrajectoryOptions(enzymes_as_uln=False))
    assert layers_of(raw["vconcat"][1])[0]["encoding"]["y"]["field"] == "value"


def test_blood_counts_have_their_grade_bands_behind_them() -> None:
    spec = trajectory_spec(full_data(), TrajectoryOptions(grade_bands=BANDS))
    anc = view_titled(spec, "Neutrophils (absolute) (×10⁹/L)")
    bands = layers_of(anc)[0]
    assert bands["mark"]["type"] == "rect"
    assert bands["encoding"]["y"]["field"] == "low" and bands["encoding"]["y2"]["field"] == "high"
    drawn = spec["datasets"][bands["data"]["name"]]
    assert [(b["grade"], b["low"], b["high"]) for b in drawn] == [(2, 1.0, 1.5), (4, 0.0, 0.5)]


def test_scores_point_up_when_better() -> None:
    spec = trajectory_spec(full_data(), TrajectoryOptions())
    scores = view_titled(spec, "Clinical scores")
    points = layers_of(scores)[1]
    assert points["encoding"]["y"]["field"] == "pct_best"
    rows = {(r["code"], r["day"]): r["pct_best"] for r in spec["datasets"][points["data"]["name"]]}
    assert rows[("CMAS", -6)] == pytest.approx(20 / 52 * 100)  # higher is better
    assert rows[("PGA", -6)] == pytest.approx(30.0)  # lower is better: 7 of 10 -> 30 % of best


def test_baseline_views_plot_change() -> None:
    spec = trajectory_spec(full_data(), TrajectoryOptions(view="pchg"))
    assert layers_of(spec["vconcat"][1])[0]["encoding"]["y"]["field"] == "pchg"
    spec = trajectory_spec(full_data(), TrajectoryOptions(view="chg"))
    assert layers_of(spec["vconcat"][1])[0]["encoding"]["y"]["field"] == "chg"


def test_panels_without_data_are_left_out() -> None:
    data = full_data(
        observations=OBSERVATIONS[OBSERVATIONS["code"].isin(["CART", "CD19"])],
        imaging=IMAGING.iloc[0:0],
    )
    assert panels_with_data(data) == {
        "course": True,
        "response": False,
        "remission": False,
        "disease": False,
        "serology": False,
        "enzymes": False,
        "kinetics": True,
        "counts": False,
        "igg": False,
        "scores": False,
        "mri": False,
    }
    spec = trajectory_spec(data, TrajectoryOptions())
    assert titles(spec) == [
        "Course and adverse events",
        "CAR T cells (cells/µL)",
        "CD19+ B cells (cells/µL)",
    ]


def test_values_beyond_the_limit_are_drawn_open_and_not_detected_at_zero() -> None:
    spec = trajectory_spec(full_data(), TrajectoryOptions())
    _line, filled, hollow = layers_of(view_titled(spec, "CD19+ B cells (cells/µL)"))[:3]
    assert filled["mark"]["filled"] is True and filled["transform"] == [
        {"filter": "datum.fill == 1"}
    ]
    assert hollow["mark"]["filled"] is False and hollow["transform"] == [
        {"filter": "datum.fill == 0"}
    ]
    rows = spec["datasets"][hollow["data"]["name"]]
    open_rows = {(r["code"], r["day"]): r for r in rows if r["fill"] == 0}
    assert set(open_rows) == {("CD19", 5), ("CD19", 14)}
    assert open_rows[("CD19", 5)]["plot_value"] == 0.0
    assert open_rows[("CD19", 5)]["value_text"] == "not detected (no count reported)"
    assert open_rows[("CD19", 14)]["value_text"] == "<1 cells/µL"


@pytest.mark.parametrize("view", ["value", "chg", "pchg"])
def test_the_spec_is_valid_vega_lite(view: str) -> None:
    spec = trajectory_spec(full_data(), TrajectoryOptions(view=view, grade_bands=BANDS))
    alt.VConcatChart.from_dict(spec, validate=True)  # raises on an invalid spec


def test_the_specimen_is_said_in_words_not_as_its_code() -> None:
    marrow = pd.DataFrame([obs("CART", 28, 3.0, specimen="bone_marrow")])
    data = full_data(observations=pd.concat([OBSERVATIONS, marrow], ignore_index=True))
    text = json.dumps(trajectory_spec(data, TrajectoryOptions()))
    assert "bone_marrow" not in text
    assert '"bone marrow"' in text  # in the data, the legend's domain and the tooltips


@pytest.mark.parametrize("day_range", [(-30, 240), (-9, 31), (-400, 900), (-2, 10), (0, 5)])
def test_day_zero_is_always_a_tick_of_the_whole_follow_up(day_range) -> None:
    ticks = day_ticks(day_range, 9)
    assert 0 in ticks and len(ticks) <= 9
    assert day_range[0] <= min(ticks) and max(ticks) <= day_range[1]
    spec = trajectory_spec(full_data(day_range=day_range), TrajectoryOptions())
    overview_axis = layers_of(spec["vconcat"][0])[-2]["encoding"]["x"]["axis"]
    assert 0 in overview_axis["values"] and overview_axis["labelOverlap"] is False


def test_weeks_then_months_as_the_follow_up_grows() -> None:
    assert day_ticks((-9, 31), 9) == [-7, 0, 7, 14, 21, 28]
    assert day_ticks((-30, 240), 10) == [-28, 0, 28, 56, 84, 112, 140, 168, 196, 224]
    assert day_ticks((-30, 240), 6) == [0, 60, 120, 180, 240]


def test_lane_names_are_abbreviated_as_clinicians_do_and_never_cut() -> None:
    assert lane_name("Cytokine release syndrome") == "CRS"
    assert lane_name("Immune effector cell-associated neurotoxicity syndrome") == "ICANS"
    assert lane_name("Local immune effector cell-associated toxicity syndrome (LICATS)") == "LICATS"
    assert lane_name("Neurotoxicity (ICANS)") == "ICANS"
    assert lane_name("Fludarabine") == "Fludarabine"
    assert lane_name("IVIG (Privigen)") == "IVIG (Privigen)"  # a brand, not an abbreviation
    spec = trajectory_spec(full_data(), TrajectoryOptions())
    lane_y = layers_of(spec["vconcat"][0])[0]["encoding"]["y"]
    assert lane_y["axis"]["labelLimit"] == 0  # no "…": the names are short instead
    lanes = {r["lane"] for r in spec["datasets"][layers_of(spec["vconcat"][0])[0]["data"]["name"]]}
    assert "Fludarabine" in lanes


def test_legends_use_short_names_and_the_tooltip_the_full_one() -> None:
    spec = trajectory_spec(full_data(), TrajectoryOptions())
    points = layers_of(view_titled(spec, "Clinical scores"))[1]
    assert points["encoding"]["color"]["field"] == "short_label"
    assert points["encoding"]["color"]["scale"]["domain"] == ["CMAS", "PGA"]
    rows = spec["datasets"][points["data"]["name"]]
    assert {r["label"] for r in rows} == {"Childhood Myositis Assessment Scale",
                                          "Physician global activity"}  # fmt: skip
    assert {"field": "label", "type": "nominal", "title": "Parameter"} in points["encoding"][
        "tooltip"
    ]


def test_a_score_at_the_end_of_the_follow_up_is_written_inside_the_plot() -> None:
    response = pd.DataFrame(
        {
            "timepoint": ["M3", "M8"], "nominal_day": [90, 238], "category": ["major", "major"],
            "tis": [72.5, 88.0], "complete": [True, True], "n_components": [6, 6],
            "cid": pd.array([True, True], dtype="boolean"),
        }
    )  # fmt: skip
    spec = trajectory_spec(full_data(response=response), TrajectoryOptions())
    view = view_titled(spec, "Response: TIS and inactive disease (CID)")
    texts = [layer for layer in layers_of(view) if layer["mark"]["type"] == "text"]
    by_side = {layer["mark"]["align"]: layer for layer in texts}
    assert by_side["left"]["transform"] == [{"filter": "!datum.near_end"}]
    assert by_side["right"]["transform"] == [{"filter": "datum.near_end"}]
    rows = {r["timepoint"]: r["near_end"] for r in spec["datasets"][texts[0]["data"]["name"]]}
    assert rows == {"M3": False, "M8": True}  # day 238 of a range ending on day 240
