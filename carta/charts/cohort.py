"""The cohort explorer's charts: pure builders from small, already aggregated frames to Vega-Lite.

Three charts are also filters (their selections go back to Python, which narrows the cohort for
the other views): the distribution's brush (BRUSH), the response chart's click (CATEGORY) and the
swimmer plot's lanes (LANES).
"""

from __future__ import annotations

import json

import altair as alt
import pandas as pd

from carta.charts.theme import OKABE_ITO, STUDY_DAY_TITLE, drawn, layer_spec
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


def _y(title: str, log: bool) -> alt.Y:
    # A log axis for enzymes that span decades (parameters.log_scale); values are then > 0.
    scale = alt.Scale(type="log") if log else alt.Scale(zero=False)
    return alt.Y("plotted:Q", title=title, scale=scale)


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
    y = _y(title, log)
    points = drawn(points, "patient_id", "indication", "timepoint", "timepoint_sort", "plotted",
                   "day")  # fmt: skip
    dots = (
        alt.Chart(points)
        .transform_calculate(jitter=f"(random() - 0.5) * {2 * JITTER}")
        .mark_circle(size=22, opacity=0.55, color=OKABE_ITO[0])
        .encode(
            x=alt.X("jittered:Q"),
            y=y,
            **_indication_colour(points),
            tooltip=[
                "patient_id:N",
                *(["indication:N"] if "indication" in points else []),
                "timepoint:N",
                alt.Tooltip("plotted:Q", format=".4~g"),
                "day:Q",
            ],
        )
        .transform_calculate(jittered="datum.timepoint_sort + datum.jitter")
    )
    whiskers = (
        alt.Chart(stats).mark_rule(color="#333333").encode(y="whisker_low:Q", y2="whisker_high:Q")
    )
    boxes = alt.Chart(stats).mark_bar(size=26, opacity=0.25, color="#333333",
                                      stroke="#333333").encode(y="q1:Q", y2="q3:Q")  # fmt: skip
    medians = alt.Chart(stats).mark_tick(size=26, thickness=2.5, color="#000000").encode(
        y=alt.Y("median:Q"),
        tooltip=["timepoint:N", "n:Q", alt.Tooltip("median:Q", format=".4~g"),
                 alt.Tooltip("q1:Q", format=".4~g"), alt.Tooltip("q3:Q", format=".4~g")],
    )  # fmt: skip
    layers = [layer_spec(chart) for chart in (whiskers, boxes, medians, dots)]
    for layer in layers[:3]:
        layer["encoding"]["x"] = x
    layers[3]["encoding"]["x"] = {**x, "field": "jittered"}
    layers[3]["name"] = "distribution_points"
    for layer in layers:  # one value axis: the same title and scale on every layer
        layer["encoding"]["y"]["title"] = title
        layer["encoding"]["y"]["scale"] = layers[3]["encoding"]["y"].get("scale", {})
    spec = _assemble(layers, height=300)
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
    scale = alt.Scale(domain=kinds, range=OKABE_ITO[: len(kinds)])
    return {"color": alt.Color("indication:N", title="Indication", scale=scale,
                               legend=alt.Legend(orient="top"))}  # fmt: skip


def spaghetti_chart(
    lines: pd.DataFrame, band: pd.DataFrame, order: list[str], title: str, log: bool
):
    """One thin line per patient, with the median and interquartile band over them."""
    x = alt.X("timepoint_sort:Q", **_x_kwargs(order))
    y = _y(title, log)
    lines = drawn(lines, "patient_id", "indication", "timepoint", "timepoint_sort", "plotted")
    patients = (
        alt.Chart(lines)
        .mark_line(strokeWidth=0.8, opacity=0.35, color=OKABE_ITO[0])
        .encode(x=x, y=y, detail="patient_id:N", **_indication_colour(lines),
                tooltip=["patient_id:N", "timepoint:N", alt.Tooltip("plotted:Q", format=".4~g")])
    )  # fmt: skip
    iqr = (
        alt.Chart(band)
        .mark_area(opacity=0.25, color=OKABE_ITO[1])
        .encode(x=x, y=alt.Y("q1:Q"), y2="q3:Q")
    )
    median = alt.Chart(band).mark_line(strokeWidth=3, color=OKABE_ITO[5], point=True).encode(
        x=x, y=alt.Y("median:Q"),
        tooltip=["timepoint:N", "n:Q", alt.Tooltip("median:Q", format=".4~g"),
                 alt.Tooltip("q1:Q", format=".4~g"), alt.Tooltip("q3:Q", format=".4~g")],
    )  # fmt: skip
    return alt.layer(patients, iqr, median).properties(width=WIDTH, height=280)


def _x_kwargs(order: list[str]) -> dict:
    axis = _timepoint_axis(order)
    return {
        "title": axis["title"],
        "scale": alt.Scale(**axis["scale"]),
        "axis": alt.Axis(**axis["axis"]),
    }


def waterfall_chart(bars: pd.DataFrame, title: str):
    """One bar per patient, sorted, coloured by TIS category at the same window."""
    colours = alt.Scale(domain=list(CATEGORY_COLOURS), range=list(CATEGORY_COLOURS.values()))
    bars = drawn(bars, "rank", "pchg", "category", "patient_id", "timepoint", "day", "value",
                 "base")  # fmt: skip
    return (
        alt.Chart(bars)
        .mark_bar()
        .encode(
            x=alt.X("rank:O", title="Patients, from the worst change to the best",
                    axis=alt.Axis(labels=False, ticks=False)),
            y=alt.Y("pchg:Q", title=title),
            color=alt.Color("category:N", scale=colours, title="TIS category",
                            legend=alt.Legend(orient="top")),
            tooltip=["patient_id:N", "timepoint:N", "day:Q",
                     alt.Tooltip("pchg:Q", title="% change", format=".1f"),
                     alt.Tooltip("value:Q", format=".4~g"), alt.Tooltip("base:Q", format=".4~g"),
                     "category:N"],
        )
        .properties(width=WIDTH, height=300)
    )  # fmt: skip


def response_chart(counts: pd.DataFrame, order: list[str], picked: tuple[str, str] | None):
    """Stacked share of each TIS category per visit window, n evaluable on the axis; clicking a
    segment picks the patients in that category at that window."""
    labels = {t: f"{t} (n={n})" for t, n in zip(counts["timepoint"], counts["evaluable"],
                                                  strict=True)}  # fmt: skip
    data = counts[counts["patients"] > 0].assign(window=lambda d: d["timepoint"].map(labels))
    colours = alt.Scale(
        domain=list(CATEGORY_COLOURS)[:4], range=list(CATEGORY_COLOURS.values())[:4]
    )
    pick = alt.selection_point(
        name=CATEGORY, fields=["timepoint", "category"], on="click", clear="dblclick",
        value=[{"timepoint": picked[0], "category": picked[1]}] if picked else alt.Undefined,
    )  # fmt: skip
    return (
        alt.Chart(data)
        .mark_bar(stroke="#000000")
        .encode(
            x=alt.X("window:N", sort=[labels.get(t, t) for t in order], title="Visit window",
                    scale=alt.Scale(domain=[labels.get(t, t) for t in order]),
                    axis=alt.Axis(labelAngle=0, labelExpr="split(datum.label, ' ')",
                                  labelOverlap=False, labelFontSize=10)),
            y=alt.Y("patients:Q", stack="normalize", title="Share of evaluable patients",
                    axis=alt.Axis(format="%")),
            color=alt.Color("category:N", scale=colours, sort=list(CATEGORY_COLOURS)[:4],
                            title="TIS category", legend=alt.Legend(orient="top")),
            order=alt.Order("order:Q"),
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.35)),
            tooltip=["timepoint:N", "category:N", "patients:Q",
                     alt.Tooltip("share:Q", title="% of evaluable"), "evaluable:Q"],
        )
        .transform_calculate(order=f"indexof({list(CATEGORY_COLOURS)[:4]}, datum.category)")
        .add_params(pick)
        # Streamlit fits legend and axes into the height: leave the bars room. A few dozen bars:
        # SVG, so that each one is an element people (and tests) can point at.
        .properties(width=WIDTH, height=300, usermeta={"embedOptions": {"renderer": "svg"}})
    )  # fmt: skip


def swimmer_spec(
    lanes: pd.DataFrame, periods: pd.DataFrame, events: pd.DataFrame, picked: tuple[str, ...] | None
) -> dict:
    """One lane per patient over study days: follow-up bar, B-cell aplasia and CID periods, and
    marks for infusion, CRS and ICANS (by grade) and the first TIS response. Clicking lanes
    (shift-click for more) picks those patients."""
    order = lanes["patient_id"].tolist()
    y = alt.Y(
        "patient_id:N",
        sort=order,
        title=None,
        axis=alt.Axis(labelLimit=140, labelOverlap=False, labelFontSize=10),
    )
    height = max(160, 18 * len(order) + 90)  # the legend and axis are fitted into the height
    width = FULL_WIDTH
    follow = (
        alt.Chart(lanes.assign(start=0))
        .mark_bar(size=10, color="#DDDDDD")
        .encode(
            x=alt.X("start:Q", title=STUDY_DAY_TITLE), x2="follow_up:Q", y=y,
            tooltip=["patient_id:N", alt.Tooltip("follow_up:Q", title="follow-up (days)")],
        )
    )  # fmt: skip
    layers = [layer_spec(follow)]
    layers[0]["name"] = "swimmer_lanes"
    layers[0]["encoding"]["opacity"] = {
        "condition": {"param": LANES, "empty": True, "value": 1.0},
        "value": 0.3,
    }
    if not periods.empty:
        spans = alt.Chart(periods).mark_bar(size=5, opacity=0.85).encode(
            x="start:Q", x2="end:Q", y=y,
            color=alt.Color("period:N", title="Period", legend=alt.Legend(orient="top"),
                            scale=alt.Scale(domain=list(PERIOD_COLOURS),
                                            range=list(PERIOD_COLOURS.values()))),
            tooltip=["patient_id:N", "period:N", "start:Q", "end:Q", "ongoing:N"],
        )  # fmt: skip
        layers.append(layer_spec(spans))
    if not events.empty:
        # The infusion and the first response in their own colours; CRS and ICANS filled by
        # grade (light to dark, as on the trajectory), so the toxicity reads at a glance.
        shape = alt.Shape("mark:N", title="Event", legend=alt.Legend(orient="top"),
                          scale=alt.Scale(domain=list(MARK_SHAPES),
                                          range=list(MARK_SHAPES.values())))  # fmt: skip
        tooltip = ["patient_id:N", "label:N", "day:Q"]
        graded = events["mark"].isin(["CRS", "ICANS"])
        if (~graded).any():
            others = alt.Chart(events[~graded]).mark_point(size=70, filled=True, opacity=0.95)
            layers.append(layer_spec(others.encode(
                x="day:Q", y=y, shape=shape, stroke=alt.value("#000000"), tooltip=tooltip,
                fill=alt.Fill("mark:N", legend=None, scale=alt.Scale(
                    domain=list(MARK_COLOURS), range=list(MARK_COLOURS.values()))),
            )))  # fmt: skip
        if graded.any():
            toxicity = alt.Chart(events[graded]).mark_point(size=80, filled=True, opacity=1)
            layers.append(layer_spec(toxicity.encode(
                x="day:Q", y=y, shape=shape, stroke=alt.value("#000000"), tooltip=tooltip,
                fill=alt.Fill("grade:O", title="CRS / ICANS grade",
                              legend=alt.Legend(orient="top"), scale=alt.Scale(
                                  domain=list(GRADE_COLOURS), range=list(GRADE_COLOURS.values()))),
            )))  # fmt: skip
    spec = _assemble(layers, height=height, width=width)
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
    datasets: dict = {}
    for layer in layers:
        datasets.update(layer.pop("datasets", {}))
    return {
        "$schema": alt.SCHEMA_URL,
        "layer": layers,
        "width": width,
        "height": height,
        "datasets": datasets,
        "config": {"legend": {"orient": "top", "direction": "horizontal"}},
    }
