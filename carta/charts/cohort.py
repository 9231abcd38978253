"""The cohort explorer's charts: pure builders from small, already aggregated frames to Vega-Lite.

Written as Vega-Lite itself, not through Altair: these charts are rebuilt after every filter
change, and Altair's objects took a fifth of a cohort rerun to make the same dictionaries
(bench/cohort_page.py). Each frame goes in as a named dataset (theme.named_data).

Three charts are also filters (their selections go back to Python, which narrows the cohort for
the other views): the distribution's brush (BRUSH), the response chart's click (CATEGORY) and the
swimmer plot's lanes (LANES).
"""

from __future__ import annotations

import json

import altair as alt
import pandas as pd

from carta.charts.theme import OKABE_ITO, STUDY_DAY_TITLE, drawn, named_data
from carta.charts.trajectory import GRADE_COLOURS
from carta.measures.cohort import JITTER

BRUSH, CATEGORY, LANES = "brush", "category", "lanes"
WIDTH = 420  # half of a laptop-wide page
FULL_WIDTH = 900

# TIS categories from none to major, light to dark, distinguishable without colour vision.
CATEGORY_COLOURS = {
    "none": "#BBBBBB",
    "minimal": "#56B4E9",
    "moderate": "#0072B2",
    "major": "#009E73",
    "not evaluable": "#EEEEEE",
}
MARK_SHAPES = {"infusion": "triangle-right", "CRS": "circle", "ICANS": "square",
               "first response": "diamond"}  # fmt: skip
MARK_COLOURS = {"infusion": "#000000", "CRS": OKABE_ITO[5], "ICANS": OKABE_ITO[3],
                "first response": OKABE_ITO[2]}  # fmt: skip
PERIOD_COLOURS = {"B-cell aplasia": OKABE_ITO[4], "CID": OKABE_ITO[2]}


def _timepoint_axis(order: list[str], counts: dict[str, int] | None = None) -> dict:
    """A quantitative x at window positions 1..n, labelled with the window names (and n)."""
    # Two lines per label (name, then n), so that nine windows fit under a half-page chart.
    labels = [[t, f"n={counts.get(t, 0)}"] if counts is not None else [t] for t in order]
    expression = json.dumps(labels) + "[datum.value - 1]"
    return {
        "field": "timepoint_sort",
        "type": "quantitative",
        "title": "Visit window",
        "scale": {"domain": [0.5, len(order) + 0.5], "nice": False, "zero": False},
        "axis": {"values": list(range(1, len(order) + 1)), "labelExpr": expression,
                 "grid": False, "labelAngle": 0, "labelLimit": 80, "labelOverlap": False,
                 "labelFontSize": 10},
    }  # fmt: skip


def _nominal(field: str, **more) -> dict:
    return {"field": field, "type": "nominal", **more}


def _quantitative(field: str, **more) -> dict:
    return {"field": field, "type": "quantitative", **more}


def _value_tooltip(field: str, **more) -> dict:
    return _quantitative(field, format=".4~g", **more)


def _y(title: str, log: bool, field: str = "plotted") -> dict:
    # A log axis for enzymes that span decades (parameters.log_scale); values are then > 0.
    return _quantitative(field, title=title, scale={"type": "log"} if log else {"zero": False})


def _band_tooltip() -> list[dict]:
    return [_nominal("timepoint"), _quantitative("n"), _value_tooltip("median"),
            _value_tooltip("q1"), _value_tooltip("q3")]  # fmt: skip


def distribution_spec(
    points: pd.DataFrame,
    stats: pd.DataFrame,
    order: list[str],
    title: str,
    log: bool,
    brush: tuple[float, float, float, float] | None,
) -> dict:
    """Box plot per visit window (from `stats`, computed over every patient) with each patient's
    point over it (jittered), n under each window; an interval brush selects a value range at some
    windows. Points of several indications (column `indication`) are coloured by it, so that
    the indications can be compared at each window."""
    x = _timepoint_axis(order, dict(zip(stats["timepoint"], stats["n"], strict=True)))
    points = drawn(points, "patient_id", "indication", "timepoint", "timepoint_sort", "plotted",
                   "day")  # fmt: skip
    boxes = named_data(stats)
    # One value axis: the same title and scale on every layer.
    whiskers = {"data": boxes, "mark": {"type": "rule", "color": "#333333"},
                "encoding": {"x": x, "y": _y(title, log, "whisker_low"),
                             "y2": {"field": "whisker_high"}}}  # fmt: skip
    quartiles = {"data": boxes, "mark": {"type": "bar", "color": "#333333", "opacity": 0.25,
                                         "size": 26, "stroke": "#333333"},
                 "encoding": {"x": x, "y": _y(title, log, "q1"),
                              "y2": {"field": "q3"}}}  # fmt: skip
    medians = {"data": boxes, "mark": {"type": "tick", "color": "#000000", "size": 26,
                                       "thickness": 2.5},
               "encoding": {"x": x, "y": _y(title, log, "median"),
                            "tooltip": _band_tooltip()}}  # fmt: skip
    indication = [_nominal("indication")] if "indication" in points else []
    tooltip = [_nominal("patient_id"), *indication, _nominal("timepoint"),
               _value_tooltip("plotted"), _quantitative("day")]  # fmt: skip
    dots = {
        "name": "distribution_points",
        "data": named_data(points),
        "mark": {"type": "circle", "color": OKABE_ITO[0], "opacity": 0.55, "size": 22},
        "transform": [{"calculate": f"(random() - 0.5) * {2 * JITTER}", "as": "jitter"},
                      {"calculate": "datum.timepoint_sort + datum.jitter", "as": "jittered"}],
        "encoding": {"x": {**x, "field": "jittered"}, "y": _y(title, log), "tooltip": tooltip,
                     **_indication_colour(points)},
    }  # fmt: skip
    spec = _assemble([whiskers, quartiles, medians, dots], height=300)
    param: dict = {
        "name": BRUSH,
        "select": {"type": "interval", "encodings": ["x", "y"]},
        "views": ["distribution_points"],
    }
    if brush:
        param["value"] = {"x": [brush[0], brush[1]], "y": [brush[2], brush[3]]}
    spec["params"] = [param]
    return spec


def _indication_colour(rows: pd.DataFrame) -> dict:
    """A colour per indication where the rows hold more than one, else none (one colour)."""
    if "indication" not in rows or rows["indication"].nunique() < 2:
        return {}
    kinds = sorted(rows["indication"].unique())
    scale = {"domain": kinds, "range": OKABE_ITO[: len(kinds)]}
    return {"color": _nominal("indication", title="Indication", legend={"orient": "top"},
                              scale=scale)}  # fmt: skip


def spaghetti_chart(
    lines: pd.DataFrame, band: pd.DataFrame, order: list[str], title: str, log: bool
) -> dict:
    """One thin line per patient, with the median and interquartile band over them."""
    x = _timepoint_axis(order)
    lines = drawn(lines, "patient_id", "indication", "timepoint", "timepoint_sort", "plotted")
    patients = {
        "data": named_data(lines),
        "mark": {"type": "line", "color": OKABE_ITO[0], "opacity": 0.35, "strokeWidth": 0.8},
        "encoding": {"x": x, "y": _y(title, log), "detail": _nominal("patient_id"),
                     **_indication_colour(lines),
                     "tooltip": [_nominal("patient_id"), _nominal("timepoint"),
                                 _value_tooltip("plotted")]},
    }  # fmt: skip
    medians = named_data(band)
    iqr = {"data": medians, "mark": {"type": "area", "color": OKABE_ITO[1], "opacity": 0.25},
           "encoding": {"x": x, "y": _quantitative("q1"), "y2": {"field": "q3"}}}  # fmt: skip
    median = {"data": medians,
              "mark": {"type": "line", "color": OKABE_ITO[5], "point": True, "strokeWidth": 3},
              "encoding": {"x": x, "y": _quantitative("median"),
                           "tooltip": _band_tooltip()}}  # fmt: skip
    spec = _assemble([patients, iqr, median], height=280)
    del spec["config"]
    return spec


def waterfall_chart(bars: pd.DataFrame, title: str) -> dict:
    """One bar per patient, sorted, coloured by TIS category at the same window."""
    bars = drawn(bars, "rank", "pchg", "category", "patient_id", "timepoint", "day", "value",
                 "base")  # fmt: skip
    return {
        "$schema": alt.SCHEMA_URL,
        "data": named_data(bars),
        "mark": {"type": "bar"},
        "encoding": {
            "x": {"field": "rank", "type": "ordinal",
                  "title": "Patients, from the worst change to the best",
                  "axis": {"labels": False, "ticks": False}},
            "y": _quantitative("pchg", title=title),
            "color": _nominal("category", title="TIS category", legend={"orient": "top"},
                              scale={"domain": list(CATEGORY_COLOURS),
                                     "range": list(CATEGORY_COLOURS.values())}),
            "tooltip": [_nominal("patient_id"), _nominal("timepoint"), _quantitative("day"),
                        _quantitative("pchg", title="% change", format=".1f"),
                        _value_tooltip("value"), _value_tooltip("base"), _nominal("category")],
        },
        "width": WIDTH,
        "height": 300,
    }  # fmt: skip


def response_chart(counts: pd.DataFrame, order: list[str], picked: tuple[str, str] | None) -> dict:
    """Stacked share of each TIS category per visit window, n evaluable on the axis; clicking a
    segment picks the patients in that category at that window."""
    labels = {t: f"{t} (n={n})" for t, n in zip(counts["timepoint"], counts["evaluable"],
                                                  strict=True)}  # fmt: skip
    data = counts[counts["patients"] > 0].assign(window=lambda d: d["timepoint"].map(labels))
    categories = list(CATEGORY_COLOURS)[:4]
    windows = [labels.get(t, t) for t in order]
    pick: dict = {"name": CATEGORY,
                  "select": {"type": "point", "fields": ["timepoint", "category"], "on": "click",
                             "clear": "dblclick"}}  # fmt: skip
    if picked:
        pick["value"] = [{"timepoint": picked[0], "category": picked[1]}]
    return {
        "$schema": alt.SCHEMA_URL,
        "data": named_data(data),
        "mark": {"type": "bar", "stroke": "#000000"},
        "transform": [{"calculate": f"indexof({categories}, datum.category)", "as": "order"}],
        "encoding": {
            "x": _nominal("window", sort=windows, title="Visit window", scale={"domain": windows},
                          axis={"labelAngle": 0, "labelExpr": "split(datum.label, ' ')",
                                "labelOverlap": False, "labelFontSize": 10}),
            "y": _quantitative("patients", stack="normalize", title="Share of evaluable patients",
                               axis={"format": "%"}),
            "color": _nominal("category", sort=categories, title="TIS category",
                              legend={"orient": "top"},
                              scale={"domain": categories,
                                     "range": list(CATEGORY_COLOURS.values())[:4]}),
            "order": _quantitative("order"),
            "opacity": {"condition": {"param": CATEGORY, "value": 1.0}, "value": 0.35},
            "tooltip": [_nominal("timepoint"), _nominal("category"), _quantitative("patients"),
                        _quantitative("share", title="% of evaluable"),
                        _quantitative("evaluable")],
        },
        "params": [pick],
        # Streamlit fits legend and axes into the height: leave the bars room. A few dozen bars:
        # SVG, so that each one is an element people (and tests) can point at.
        "width": WIDTH,
        "height": 300,
        "usermeta": {"embedOptions": {"renderer": "svg"}},
    }  # fmt: skip


def swimmer_spec(
    lanes: pd.DataFrame, periods: pd.DataFrame, events: pd.DataFrame, picked: tuple[str, ...] | None
) -> dict:
    """One lane per patient over study days: follow-up bar, B-cell aplasia and CID periods, and
    marks for infusion, CRS and ICANS (by grade) and the first TIS response. Clicking lanes
    (shift-click for more) picks those patients."""
    order = lanes["patient_id"].tolist()
    y = _nominal("patient_id", sort=order, title=None,
                 axis={"labelLimit": 140, "labelOverlap": False, "labelFontSize": 10})  # fmt: skip
    height = max(160, 18 * len(order) + 90)  # the legend and axis are fitted into the height
    layers: list[dict] = [{
        "name": "swimmer_lanes",
        "data": named_data(lanes.assign(start=0)),
        "mark": {"type": "bar", "color": "#DDDDDD", "size": 10},
        "encoding": {
            "x": _quantitative("start", title=STUDY_DAY_TITLE), "x2": {"field": "follow_up"},
            "y": y,
            "opacity": {"condition": {"param": LANES, "empty": True, "value": 1.0}, "value": 0.3},
            "tooltip": [_nominal("patient_id"),
                        _quantitative("follow_up", title="follow-up (days)")],
        },
    }]  # fmt: skip
    if not periods.empty:
        layers.append({
            "data": named_data(periods),
            "mark": {"type": "bar", "opacity": 0.85, "size": 5},
            "encoding": {
                "x": _quantitative("start"), "x2": {"field": "end"}, "y": y,
                "color": _nominal("period", title="Period", legend={"orient": "top"},
                                  scale={"domain": list(PERIOD_COLOURS),
                                         "range": list(PERIOD_COLOURS.values())}),
                "tooltip": [_nominal("patient_id"), _nominal("period"), _quantitative("start"),
                            _quantitative("end"), _nominal("ongoing")],
            },
        })  # fmt: skip
    if not events.empty:
        # The infusion and the first response in their own colours; CRS and ICANS filled by
        # grade (light to dark, as on the trajectory), so the toxicity reads at a glance.
        marks = {
            "x": _quantitative("day"), "y": y, "stroke": {"value": "#000000"},
            "shape": _nominal("mark", title="Event", legend={"orient": "top"},
                              scale={"domain": list(MARK_SHAPES),
                                     "range": list(MARK_SHAPES.values())}),
            "tooltip": [_nominal("patient_id"), _nominal("label"), _quantitative("day")],
        }  # fmt: skip
        graded = events["mark"].isin(["CRS", "ICANS"])
        if (~graded).any():
            layers.append({
                "data": named_data(events[~graded]),
                "mark": {"type": "point", "filled": True, "opacity": 0.95, "size": 70},
                "encoding": {**marks, "fill": _nominal("mark", legend=None, scale={
                    "domain": list(MARK_COLOURS), "range": list(MARK_COLOURS.values())})},
            })  # fmt: skip
        if graded.any():
            layers.append({
                "data": named_data(events[graded]),
                "mark": {"type": "point", "filled": True, "opacity": 1, "size": 80},
                "encoding": {**marks, "fill": {
                    "field": "grade", "type": "ordinal", "title": "CRS / ICANS grade",
                    "legend": {"orient": "top"},
                    "scale": {"domain": list(GRADE_COLOURS),
                              "range": list(GRADE_COLOURS.values())}}},
            })  # fmt: skip
    spec = _assemble(layers, height=height, width=FULL_WIDTH)
    # One shape legend for the events; the periods' colours and the grades' fills apart.
    spec["resolve"] = {"scale": {"color": "independent", "fill": "independent"}}
    param: dict = {
        "name": LANES,
        "select": {"type": "point", "fields": ["patient_id"], "on": "click", "clear": "dblclick",
                   "toggle": "event.shiftKey"},
        "views": ["swimmer_lanes"],
    }  # fmt: skip
    if picked:
        param["value"] = [{"patient_id": p} for p in picked]
    spec["params"] = [param]
    return spec


def _assemble(layers: list[dict], height: int, width: int = WIDTH) -> dict:
    return {
        "$schema": alt.SCHEMA_URL,
        "layer": layers,
        "width": width,
        "height": height,
        "config": {"legend": {"orient": "top", "direction": "horizontal"}},
    }
