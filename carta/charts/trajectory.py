"""One patient's trajectory: linked panels on one study-day axis.

A single vconcat chart whose panels share two selection parameters:
- `brush`, an interval on the course lane's x; every other panel takes its x domain from it, so a
  brushed window zooms them all in the browser (double-click clears it);
- `pick`, a click on the nearest day in any panel; a rule layer in every panel shows that day.
`nearest` does not work on line marks (vega-lite #3004), so each panel carries an invisible point
layer that holds the click parameter. The rule layers draw from one table of all the patient's
days, so the rule appears in every panel, also where that panel has no value on the day.
"""

from __future__ import annotations

import json
import re
from contextvars import ContextVar
from dataclasses import dataclass, field

import altair as alt
import pandas as pd

from carta.charts.theme import OKABE_ITO, STUDY_DAY_TITLE, layer_spec
from carta.display import plain_number, unit_text

BRUSH = "brush"
PICK = "pick"
OVERVIEW = "overview"
WIDTH = 560

# Adverse-event grades, light to dark (ColorBrewer OrRd): ordered, and readable without hue.
GRADE_COLOURS = {1: "#fdcc8a", 2: "#fc8d59", 3: "#d7301f", 4: "#7f0000", 5: "#000000"}
# CTCAE grade bands behind blood counts: one red, deeper with the grade.
BAND_OPACITY = {1: 0.08, 2: 0.16, 3: 0.26, 4: 0.38}
EVENT_COLOUR = "#56B4E9"
INFUSION_COLOUR = "#0072B2"

ENZYMES = ("CK", "LDH", "ALDOLASE", "AST", "ALT")
KINETICS = ("CART", "CD19")
BLOOD_COUNTS = ("ANC", "HGB", "PLT", "LYMPH")
SCORES = ("CMAS", "MMT8", "PGA", "CAT_ACT", "CHAQ", "DAS", "SLEDAI2K", "PGA_SLE", "MRSS")
# The indication's own measures beyond the scores, each in its own unit: lupus serology and
# kidneys, systemic sclerosis lungs (data/reference/indications.csv names the panels' codes).
DISEASE_MEASURES = ("DSDNA", "C3", "C4", "UPCR", "EGFR", "FVC_PCT", "DLCO_PCT")

# What the toggle shows -> the y values drawn (ADaM CHG and PCHG from baseline for the changes).
VIEWS = {"Values": "value", "Change": "chg", "% change": "pchg"}


@dataclass(frozen=True)
class TrajectoryOptions:
    view: str = "value"  # value | chg | pchg (ADaM CHG / PCHG from baseline)
    enzymes_as_uln: bool = True
    depletion_threshold: float = 1.0  # CD19+ B cells/µL; a setting (clinical-rules §5, [U])
    igg_threshold: float = 4.0  # g/L, hypogammaglobulinaemia; a setting (docs/rules.md, [U])
    window: tuple[float, float] | None = None  # brushed study-day window, drawn on load
    selected_day: int | None = None  # picked day, drawn on load
    grade_bands: dict[str, list[dict]] = field(default_factory=dict)  # code -> CTCAE bands


@dataclass(frozen=True)
class TrajectoryData:
    observations: pd.DataFrame  # queries/patient_observations.sql
    events: pd.DataFrame  # queries/patient_events.sql
    adverse_events: pd.DataFrame  # queries/patient_adverse_events.sql
    imaging: pd.DataFrame  # queries/patient_imaging.sql
    day_range: tuple[int, int]
    response: pd.DataFrame | None = None  # queries/patient_response.sql
    remission: pd.DataFrame | None = None  # queries/patient_remission.sql
    # The prednisone-equivalent dose as exposure.dose_steps gives it: (steps, unknown stretches).
    glucocorticoids: tuple[pd.DataFrame, pd.DataFrame] | None = None
    indication: str | None = None


PANELS = {
    "course": "Course and adverse events",
    "response": "Response: TIS and inactive disease (CID)",
    "remission": "Remission and low disease activity",
    "disease": "Serology, kidneys and lungs",
    "serology": "Autoantibodies",
    "enzymes": "Muscle enzymes",
    "kinetics": "CAR T cells and CD19+ B cells",
    "counts": "Blood counts",
    "igg": "IgG (immune reconstitution)",
    "scores": "Clinical scores",
    "mri": "MRI",
}


# How a panel is named where the page says it has no data for a patient.
PANEL_SUBJECTS = {
    "course": "dated treatment events",
    "response": "response criteria",
    "remission": "remission definitions",
    "disease": "serology, kidney or lung function",
    "serology": "autoantibody results",
    "enzymes": "muscle enzymes",
    "kinetics": "CAR T or B-cell counts",
    "counts": "blood counts",
    "igg": "IgG",
    "scores": "clinical scores",
    "mri": "MRI",
}


def panels_with_data(data: TrajectoryData) -> dict[str, bool]:
    """Which panels have something to draw; the page says so in words for the others."""
    obs = data.observations[data.observations["value"].notna()]
    dated = data.events["start_day"].notna().any() or data.adverse_events["onset_day"].notna().any()
    return {
        "course": bool(dated),
        "response": data.response is not None and not data.response.empty,
        "remission": data.remission is not None and not data.remission.empty,
        "disease": obs["code"].isin(DISEASE_MEASURES).any(),
        "serology": not _autoantibodies(data.observations).empty,
        "enzymes": obs["code"].isin(ENZYMES).any(),
        "kinetics": data.observations["code"].isin(KINETICS).any(),
        "counts": obs["code"].isin(BLOOD_COUNTS).any(),
        "igg": obs["code"].eq("IGG").any(),
        "scores": obs["code"].isin(SCORES).any(),
        "mri": not data.imaging.empty,
    }


def applicable_panels(indication: object) -> set[str]:
    """The panels that belong to a patient's indication: the TIS strip to myositis (and to a
    patient whose indication is not given), the remission strip and the serology, kidney and
    lung measures to lupus and systemic sclerosis; a panel that does not belong is never
    listed as "no data"."""
    other = {"remission", "disease"}
    if indication in ("SLE", "SSC"):
        return set(PANELS) - {"response"}
    return set(PANELS) - other


def plot_width(data: TrajectoryData, total: int) -> int:
    """The panels' plot width for a chart `total` CSS pixels wide: what is left beside the widest
    left-hand labels (the course lane's names at about 6 px a character, or the y axes)."""
    names = [*data.events["name"].dropna(), *data.adverse_events["term"].dropna()]
    widest = max((len(lane_name(name)) for name in names), default=0)
    gutter = max(70, 6 * widest + 30)
    return max(160, total - gutter - 12)


def trajectory_spec(data: TrajectoryData, options: TrajectoryOptions, width: int = WIDTH) -> dict:
    """The Vega-Lite spec of the linked panels, with the two selection parameters at the top level.

    The parameters are declared here rather than with Altair's add_params: Altair 6.3 lifts a
    parameter added to one layer onto every layer of that view (altair#3891), which would put the
    click on line marks and the brush twice on the lane. Declared by hand, the brush belongs to the
    overview alone and the click to the invisible point layers alone.
    """
    token = _DATASETS.set({})
    try:
        return _spec(data, options, width)
    finally:
        _DATASETS.reset(token)


def _builders(data: TrajectoryData, options: TrajectoryOptions, width: int) -> dict:
    """Panel name -> a function giving its views as (title, Altair layers, height)."""
    return {
        "course": lambda: [(PANELS["course"], *_course(data)), *_glucocorticoids(data)],
        "response": lambda: [(PANELS["response"], _response(data.response, data.day_range), 44)],
        "remission": lambda: [(PANELS["remission"], *_remission(data.remission))],
        "disease": lambda: _disease_measures(data.observations, options),
        "serology": lambda: [(PANELS["serology"], *_serology(data.observations))],
        "enzymes": lambda: [(PANELS["enzymes"], _enzymes(data.observations, options), 150)],
        "kinetics": lambda: _kinetics(data.observations, options),
        "counts": lambda: _counts(data.observations, options, width),
        "igg": lambda: [(PANELS["igg"], _igg(data.observations, options), 110)],
        "scores": lambda: [(PANELS["scores"], _scores(data.observations, options), 150)],
        "mri": lambda: [(PANELS["mri"], *_mri(data.imaging))],
    }


def panel_specs(
    data: TrajectoryData,
    options: TrajectoryOptions,
    names: tuple[str, ...],
    width: int = WIDTH,
    config: dict | None = None,
    height_scale: float = 1.0,
) -> dict[str, dict]:
    """Standalone Vega-Lite specs of the named panels that have data, each with the whole
    follow-up on its x axis and no selections: the case summary's charts and its exports. A
    panel of several views (blood counts) becomes a vconcat."""
    token = _DATASETS.set({})
    try:
        present = panels_with_data(data)
        builders = _builders(data, options, width)
        x = _x(data.day_range, zoomed=False, show_title=True, width=width)
        extent = {"name": _named(pd.DataFrame({"day": list(data.day_range)})).name}
        specs = {}
        for name in names:
            if not present[name]:
                continue
            views = []
            for title, layers, height in builders[name]():
                layer_specs = [layer_spec(chart) for chart in layers]
                layer_specs.append({"data": extent, "mark": {"type": "point", "opacity": 0},
                                    "encoding": {"x": x}})  # fmt: skip
                views.append({"layer": layer_specs, "width": width,
                              "height": round(height * height_scale), "title": title})  # fmt: skip
            spec = views[0] if len(views) == 1 else {"vconcat": views, "spacing": 12}
            if len(views) > 1:
                spec["title"] = PANELS[name]
                # A view's own title, a size under the panel's.
                size = round((config or {}).get("title", {}).get("fontSize", 14) * 0.85)
                for view in views:
                    view["title"] = {"text": view["title"], "fontSize": size}
            text = json.dumps(spec)
            used = {k: v for k, v in _DATASETS.get().items() if f'"{k}"' in text}
            specs[name] = {
                "$schema": alt.SCHEMA_URL,
                **spec,
                "datasets": used,
                "config": config or {},
            }
        return specs
    finally:
        _DATASETS.reset(token)


def _spec(data: TrajectoryData, options: TrajectoryOptions, width: int) -> dict:
    present = panels_with_data(data)
    builders = _builders(data, options, width)
    panels = [panel for name, build in builders.items() if present[name] for panel in build()]
    days = {"name": _named(_all_days(data)).name}  # one copy for the click and rule layers
    extent = {"name": _named(pd.DataFrame({"day": list(data.day_range)})).name}
    views = []
    for index, (title, layers, height) in enumerate(panels):
        # The first panel (the course lane when there is one) is the overview: it keeps the whole
        # follow-up in view and carries the brush; every other panel zooms to the brush.
        overview = index == 0
        x = _x(
            data.day_range, zoomed=not overview, show_title=index == len(panels) - 1, width=width
        )
        # Each layer becomes a dict on its own and views and concat are assembled by hand:
        # Altair's layer, properties and concat steps deep-copy and re-validate every layer
        # several times over, which took most of a second per patient. The layers that every
        # panel repeats (extent, clicks, picked-day rule) are plain dicts for the same reason.
        layer_specs = [layer_spec(chart) for chart in layers]
        if overview:
            layer_specs[0]["name"] = OVERVIEW
        else:  # spans the whole range, so that an empty brush leaves every panel alike
            layer_specs.append({"data": extent, "mark": {"type": "point", "opacity": 0},
                                "encoding": {"x": x}})  # fmt: skip
        layer_specs.append(
            {
                "name": f"{PICK}_{index}",
                "data": days,
                "mark": {"type": "point", "opacity": 0, "size": 300},
                "encoding": {"x": x, "y": {"value": 0}},
            }
        )
        layer_specs.append(
            {
                "data": days,
                "mark": {"type": "rule", "color": "#333333", "strokeWidth": 1.5},
                "encoding": {"x": x},
                "transform": [{"filter": {"param": PICK, "empty": False}}],
            }
        )
        views.append(
            {
                "layer": layer_specs,
                "width": width,
                "height": height,
                "title": {"text": title, "anchor": "start", "fontSize": 13},
            }
        )
    spec = {
        "$schema": alt.SCHEMA_URL,
        "vconcat": views,
        "spacing": 16,
        "resolve": {
            "scale": {"color": "independent", "shape": "independent", "x": "independent"},
            "legend": {"color": "independent", "shape": "independent"},
        },
        "usermeta": {"embedOptions": {"renderer": "svg"}},
        # Legends above each panel, not beside it, so the chart fits next to the page's side
        # column on a laptop screen.
        "config": {
            # In as many columns as the plot is wide for: a legend never widens the chart.
            "legend": {
                "orient": "top",
                "direction": "horizontal",
                "labelLimit": 170,
                "columns": max(1, (width + 40) // 90),
            },
            "axisY": {"labelLimit": 150},
        },
    }
    spec["datasets"] = _DATASETS.get()
    brush: dict = {"name": BRUSH, "select": {"type": "interval", "encodings": ["x"]}}
    if options.window:
        brush["value"] = {"x": list(options.window)}
    pick: dict = {
        "name": PICK,
        "select": {"type": "point", "fields": ["day"], "on": "click", "nearest": True,
                   "clear": "dblclick"},
    }  # fmt: skip
    if options.selected_day is not None:
        pick["value"] = [{"day": options.selected_day}]
    if not views:
        return spec
    spec["params"] = [
        {**brush, "views": [OVERVIEW]},
        {**pick, "views": [f"{PICK}_{index}" for index in range(len(views))]},
    ]
    return spec


# --- axes and shared data ---------------------------------------------------------------------

# The rows each layer draws, collected while one spec is built and written once to its top-level
# `datasets`. Handing DataFrames to Altair instead costs most of a second per spec: it converts the
# rows to dicts, deep-copies them into every layer and concat, and validates them.
_DATASETS: ContextVar[dict[str, list[dict]]] = ContextVar("trajectory_datasets")


def _named(frame: pd.DataFrame) -> alt.NamedData:
    datasets = _DATASETS.get()
    name = f"trajectory_{len(datasets)}"  # not data_N: Vega names its own data sets so
    datasets[name] = json.loads(frame.to_json(orient="records", double_precision=6))
    return alt.NamedData(name=name)


def _x(day_range: tuple[int, int], zoomed: bool, show_title: bool, width: int = WIDTH) -> dict:
    """The shared study-day axis: the overview keeps the whole range, the others follow the brush
    (and, with no brush, the whole range, which the extent layer of each panel spans). On the
    whole range the ticks are set here, so that day 0 is always one of them."""
    domain = {"param": BRUSH, "encoding": "x"} if zoomed else list(day_range)
    axis = {"grid": True}
    if not zoomed:
        axis |= {"values": day_ticks(day_range, max(4, width // 60)), "labelOverlap": False}
    return {
        "field": "day",
        "type": "quantitative",
        "scale": {"domain": domain, "nice": False},
        "title": STUDY_DAY_TITLE if show_title else None,
        "axis": axis,
    }


# Steps of the study-day ticks, in days: weeks and months read as clinicians count follow-up.
TICK_STEPS = (7, 14, 28, 30, 60, 90, 180, 365, 730)


def day_ticks(day_range: tuple[int, int], max_ticks: int) -> list[int]:
    """Multiples of the smallest step of TICK_STEPS that gives at most `max_ticks` ticks: day 0
    is always one, as it is a multiple of every step."""
    low, high = day_range
    for step in TICK_STEPS:
        ticks = list(range(-(-low // step) * step, high + 1, step))
        if len(ticks) <= max_ticks:
            return ticks
    return [0]


def _all_days(data: TrajectoryData) -> pd.DataFrame:
    days = set(data.observations["day"].dropna().astype(int))
    days |= set(data.imaging["day"].dropna().astype(int))
    days |= set(data.events["start_day"].dropna().astype(int))
    days |= set(data.adverse_events["onset_day"].dropna().astype(int))
    return pd.DataFrame({"day": sorted(days)}, dtype="int64")


def _tooltip(*extra: alt.Tooltip) -> list[alt.Tooltip]:
    return [
        alt.Tooltip("label:N", title="Parameter"),
        alt.Tooltip("day:Q", title="Study day"),
        alt.Tooltip("value_text:N", title="Value"),
        *extra,
        alt.Tooltip("range_text:N", title="Reference range"),
        alt.Tooltip("source_kind:N", title="Source"),
        alt.Tooltip("note:N", title="Note"),
    ]


SPECIMEN_WORDS = {"blood": "blood", "bone_marrow": "bone marrow", "urine": "urine"}
# Legends name a parameter as clinicians abbreviate it, so that they fit beside a chart at any
# width; the tooltip gives the full name. A code not listed here is its own short name.
LEGEND_LABELS = {
    "CAT_ACT": "CAT",
    "CART": "CAR T cells",
    "CD19": "CD19+ B cells",
    "IGG": "IgG",
    "ANA": "ANA",
}


def short_name(code: str, label: str) -> str:
    """A parameter as a legend or a narrow table names it: its label when short, else its code
    ("Creatine kinase" -> "CK", "Aldolase" stays)."""
    return LEGEND_LABELS.get(code) or (label if len(label) <= 14 else code)


def _prepare(obs: pd.DataFrame, codes: tuple[str, ...]) -> pd.DataFrame:
    rows = obs[obs["code"].isin(codes)].copy()
    unit = rows["unit"].map(unit_text)
    rows["value_text"] = [
        "not detected (no count reported)"
        if q == "not_detected"
        else f"{q if q in ('<', '>') else ''}{plain_number(v)} {u}".strip()
        for v, q, u in zip(rows["value"], rows["qualifier"], unit, strict=True)
    ]
    rows["range_text"] = [
        "" if pd.isna(lo) and pd.isna(hi) else f"{_num(lo)}–{_num(hi)} {u}"
        for lo, hi, u in zip(rows["ref_low"], rows["ref_high"], unit, strict=True)
    ]
    rows["beyond_limit"] = rows["qualifier"].isin(["<", ">", "not_detected"])
    rows["fill"] = (~rows["beyond_limit"]).astype(int)
    grades = rows["grade"] if "grade" in rows else pd.Series(pd.NA, index=rows.index)
    default = rows["range_default"] if "range_default" in rows else pd.Series(False, rows.index)
    # A grade on the dictionary's default range says so; a CPK grade says what CK means here.
    rows["grade_text"] = [
        ""
        if pd.isna(g)
        else f"grade {int(g)}"
        + (" ⚑ default reference range" if not pd.isna(d) and bool(d) else "")
        + (" (in myositis, disease activity)" if c == "CK" else "")
        for g, d, c in zip(grades, default, rows["code"], strict=True)
    ]
    rows["panel_label"] = [f"{lab} ({u})" for lab, u in zip(rows["label"], unit, strict=True)]
    rows["short_label"] = [short_name(c, lab) for c, lab in zip(rows["code"], rows["label"],
                                                                 strict=True)]  # fmt: skip
    # The legend and the tooltips say the specimen in words, not as the store's code.
    rows["specimen"] = rows["specimen"].map(SPECIMEN_WORDS).fillna(rows["specimen"])
    return rows


def _num(value: object) -> str:
    return "" if pd.isna(value) else plain_number(value)


def _change_y(options: TrajectoryOptions, unit: str) -> tuple[str, str]:
    """(field, title) of the y value in the baseline views."""
    if options.view == "pchg":
        return "pchg", "% change from baseline"
    return "chg", f"change from baseline ({unit})"


def _lines(rows: pd.DataFrame, y: alt.Y, colour: alt.Color, tooltip: list) -> list[alt.Chart]:
    base = alt.Chart(_named(rows)).encode(y=y, color=colour)
    line = base.mark_line(strokeWidth=1.6, opacity=0.8).encode(
        x=alt.X("day:Q"), detail=alt.Detail("specimen:N")
    )
    shape = alt.Shape(
        "specimen:N",
        title="Specimen",
        scale=alt.Scale(domain=["blood", "bone marrow"], range=["circle", "diamond"]),
        legend=None if set(rows["specimen"]) == {"blood"} else alt.Legend(),
    )
    points = base.encode(x=alt.X("day:Q"), shape=shape, tooltip=tooltip)
    # Values beyond the assay limit (or not detected) are drawn open, the others filled.
    filled = points.mark_point(size=40, filled=True).transform_filter("datum.fill == 1")
    hollow = points.mark_point(size=50, filled=False, strokeWidth=1.8).transform_filter(
        "datum.fill == 0"
    )
    return [line, filled, hollow]


def _palette(labels: list[str]) -> alt.Scale:
    return alt.Scale(domain=labels, range=OKABE_ITO[: len(labels)])


# --- panels -----------------------------------------------------------------------------------


# The course lane names an event as clinicians abbreviate it; its tooltip gives the full name.
LANE_NAMES = {
    "cytokine release syndrome": "CRS",
    "immune effector cell-associated neurotoxicity syndrome": "ICANS",
    "immune effector cell-associated hemophagocytic lymphohistiocytosis-like syndrome": "IEC-HS",
    "immunosuppressive and glucocorticoid treatment withdrawn": "Immunosuppression withdrawn",
}


def lane_name(name: object) -> str:
    """A lane's name: a known abbreviation, or the one the source gives in brackets at the end
    ("Neurotoxicity (ICANS)" -> "ICANS"), or the name as it is."""
    text = str(name)
    if text.lower() in LANE_NAMES:
        return LANE_NAMES[text.lower()]
    match = re.fullmatch(r".{12,}\(([A-Z][A-Z0-9-]{1,11})\)", text.strip())
    return match.group(1) if match else text


def _course(data: TrajectoryData) -> tuple[list[alt.Chart], int]:
    events = data.events[data.events["start_day"].notna()].copy()
    events["lane"] = events["name"].map(lane_name)
    events["end"] = events["end_day"].fillna(events["start_day"]) + 1
    events["when"] = [
        _span(s, e) for s, e in zip(events["start_day"], events["end_day"], strict=True)
    ]
    adverse = data.adverse_events
    severity = adverse["severity"] if "severity" in adverse else pd.Series(pd.NA, adverse.index)
    dated = adverse["onset_day"].notna()
    aes = adverse[dated & adverse["grade"].gt(0).fillna(False)].copy()
    # Reported with a severity and no grade: drawn apart, in grey, never given a grade colour.
    ungraded = adverse[dated & adverse["grade"].isna() & severity.notna()].copy()
    for frame in (aes, ungraded):
        frame["lane"] = frame["term"].map(lane_name)
        frame["end"] = frame["end_day"].fillna(frame["onset_day"]) + 1
        frame["when"] = [
            _span(s, e) for s, e in zip(frame["onset_day"], frame["end_day"], strict=True)
        ]
    aes["grade_text"] = "grade " + aes["grade"].astype(int).astype(str)
    ungraded["grade_text"] = [
        f"severity: {str(v).lower()}, not graded" for v in ungraded.get("severity", [])
    ]
    lanes = [*dict.fromkeys(events["lane"]), *dict.fromkeys(aes["lane"]),
             *dict.fromkeys(ungraded["lane"])]  # fmt: skip
    # No limit on the lane names: shortened here (lane_name), never cut with "…".
    y = alt.Y("lane:N", sort=lanes, title=None, axis=alt.Axis(labelLimit=0, labelOverlap=False))
    height = max(40, 20 * len(lanes))
    bars = (
        alt.Chart(_named(events[events["kind"] != "infusion"]))
        .mark_bar(color=EVENT_COLOUR, height=12)
        .encode(
            x=alt.X("start_day:Q"),
            x2=alt.X2("end"),
            y=y,
            tooltip=[
                alt.Tooltip("name:N", title="Event"),
                alt.Tooltip("when:N", title="When"),
                alt.Tooltip("kind:N", title="Kind"),
                alt.Tooltip("note:N", title="Note"),
                alt.Tooltip("source_kind:N", title="Source"),
            ],
        )
    )
    infusion = (
        alt.Chart(_named(events[events["kind"] == "infusion"]))
        .mark_point(shape="diamond", size=160, filled=True, color=INFUSION_COLOUR)
        .encode(
            x=alt.X("start_day:Q"),
            y=y,
            tooltip=[alt.Tooltip("name:N", title="Event"), alt.Tooltip("when:N", title="When")],
        )
    )
    grades = sorted(GRADE_COLOURS)
    ae_bars = (
        alt.Chart(_named(aes))
        .mark_bar(height=12)
        .encode(
            x=alt.X("onset_day:Q"),
            x2=alt.X2("end"),
            y=y,
            color=alt.Color(
                "grade:O",
                title="AE grade",
                scale=alt.Scale(domain=grades, range=[GRADE_COLOURS[g] for g in grades]),
                legend=None if aes.empty else alt.Legend(),
            ),
            tooltip=[
                alt.Tooltip("term:N", title="Adverse event"),
                alt.Tooltip("grade_text:N", title="Grade"),
                alt.Tooltip("grading_system:N", title="Grading"),
                alt.Tooltip("when:N", title="When"),
                alt.Tooltip("treatment:N", title="Treatment"),
                alt.Tooltip("organ:N", title="Organ or site"),
                alt.Tooltip("source_kind:N", title="Source"),
            ],
        )
    )
    layers = [bars, infusion, ae_bars]
    if not ungraded.empty:
        layers.append(
            alt.Chart(_named(ungraded))
            .mark_bar(height=12, color="#9E9E9E")
            .encode(
                x=alt.X("onset_day:Q"),
                x2=alt.X2("end"),
                y=y,
                tooltip=[
                    alt.Tooltip("term:N", title="Adverse event"),
                    alt.Tooltip("grade_text:N", title="Grade"),
                    alt.Tooltip("when:N", title="When"),
                    alt.Tooltip("source_kind:N", title="Source"),
                ],
            )
        )
    return layers, height


# The dose ceilings of the lupus definitions, drawn on the lupus patient's dose lane
# (carta/measures/remission.py: DORIS 2021 <= 5 mg/day, LLDAS <= 7.5 mg/day).
DOSE_CEILINGS = {"SLE": ((5.0, "DORIS 2021: ≤ 5 mg/day"), (7.5, "LLDAS: ≤ 7.5 mg/day"))}
GLUCOCORTICOID_TITLE = "Glucocorticoids: prednisone-equivalent mg/day (⚑ equivalence table [U])"


def _glucocorticoids(data: TrajectoryData) -> list[tuple[str, list, int]]:
    """The daily prednisone-equivalent dose under the course lane, as a step line that breaks
    where the dose cannot be known (a dose per kg or m²); those stretches are grey and say why.
    For lupus, the DORIS and LLDAS dose ceilings as dashed rules."""
    if data.glucocorticoids is None:
        return []
    steps, unknown = data.glucocorticoids
    doses = steps["pred_eq_mg_per_day"]
    steps = steps.assign(dose_text=[f"{plain_number(v)} mg/day" for v in doses])
    y = alt.Y("pred_eq_mg_per_day:Q", title="mg/day", scale=alt.Scale(zero=True))
    tooltip = [alt.Tooltip("day:Q", title="From day"), alt.Tooltip("dose_text:N", title="Dose")]
    # A stretch's closing row only gives the last step its width: no mark, no tooltip.
    closing = steps["day"].eq(steps.groupby("run")["day"].transform("max"))
    layers = [
        alt.Chart(_named(steps))
        .mark_line(interpolate="step-after", color="#444444", strokeWidth=2)
        .encode(x=alt.X("day:Q"), y=y, detail="run:N"),
        alt.Chart(_named(steps[~closing]))
        .mark_point(size=30, filled=True, color="#444444")
        .encode(x=alt.X("day:Q"), y=y, tooltip=tooltip),
    ]
    if not unknown.empty:
        spans = unknown.assign(
            end=unknown["end_day"] + 1,
            when=[
                _span(s, e) for s, e in zip(unknown["start_day"], unknown["end_day"], strict=True)
            ],
            why="dose per kg or m² (or not given): not converted",
        )
        tooltip = [alt.Tooltip("when:N", title="When"), alt.Tooltip("why:N", title="Dose unknown")]
        grey = alt.Chart(_named(spans)).mark_rect(color="#BDBDBD", opacity=0.5)
        layers.insert(0, grey.encode(x=alt.X("start_day:Q"), x2=alt.X2("end"), tooltip=tooltip))
    for ceiling, label in DOSE_CEILINGS.get(data.indication or "", ()):
        layers.append(_reference_rule(ceiling, label))
    return [(GLUCOCORTICOID_TITLE, layers, 70)]


def _span(start: object, end: object) -> str:
    if pd.isna(end) or int(end) == int(start):
        return f"day {int(start)}"
    return f"days {int(start)} to {int(end)}"


# TIS categories, light to dark green; an incomplete TIS is white with a grey outline.
RESPONSE_COLOURS = {
    "none": "#d9d9d9",
    "minimal": "#c7e9c0",
    "moderate": "#74c476",
    "major": "#238b45",
    "incomplete": "#ffffff",
}


def _response(response: pd.DataFrame, day_range: tuple[int, int]) -> list[alt.Chart]:
    """Two lanes at each window's nominal day: the TIS category (with its score or "n of 6") and
    CID (filled when met, open when not, "?" when it cannot be decided). A score near the end of
    the follow-up is written to the left of its mark, so that the plot's edge does not cut it."""
    rows = response.rename(columns={"nominal_day": "day"}).copy()
    rows["near_end"] = rows["day"] > day_range[1] - (day_range[1] - day_range[0]) * 0.06
    complete = rows["complete"].fillna(False).astype(bool)
    rows["status"] = rows["category"].where(complete, "incomplete").fillna("incomplete")
    rows["tis_text"] = [
        f"{t:.0f}" if ok else "" for t, ok in zip(rows["tis"], complete, strict=True)
    ]
    rows["tis_label"] = [
        f"{c} (TIS {t:.1f})" if ok else f"incomplete ({int(n)} of 6 components)"
        for c, t, ok, n in zip(
            rows["category"], rows["tis"], complete, rows["n_components"].fillna(0), strict=True
        )
    ]
    cid = rows["cid"].astype("object")  # nullable boolean: True, False or undecided
    rows["cid_text"] = ["CID undecided" if pd.isna(c) else ("CID" if c else "no CID") for c in cid]
    rows["cid_fill"] = [1.0 if (not pd.isna(c) and c) else 0.0 for c in cid]
    rows["lane_tis"], rows["lane_cid"] = "TIS", "CID"
    named = _named(rows)
    lanes = ["TIS", "CID"]
    statuses = list(RESPONSE_COLOURS)
    tooltip = [
        alt.Tooltip("timepoint:N", title="Visit"),
        alt.Tooltip("tis_label:N", title="TIS"),
        alt.Tooltip("points_physician_global:Q", title="PhGA points"),
        alt.Tooltip("points_parent_global:Q", title="Parent global points"),
        alt.Tooltip("points_chaq:Q", title="CHAQ points"),
        alt.Tooltip("points_enzyme:Q", title="Enzyme points"),
        alt.Tooltip("code_enzyme:N", title="Enzyme"),
        alt.Tooltip("points_extramuscular:Q", title="Extramuscular points"),
        alt.Tooltip("points_strength:Q", title="Strength points"),
        alt.Tooltip("code_strength:N", title="Strength measure"),
        alt.Tooltip("measure_set:N", title="Measure set"),
        alt.Tooltip("population:N", title="Thresholds"),
        alt.Tooltip("cid_text:N", title="PRINTO CID"),
        alt.Tooltip("cid_criteria_met:N", title="CID criteria met"),
    ]
    y_tis = alt.Y("lane_tis:N", sort=lanes, title=None, scale=alt.Scale(domain=lanes))
    y_cid = alt.Y("lane_cid:N", sort=lanes, title=None, scale=alt.Scale(domain=lanes))
    tis = (
        alt.Chart(named)
        .mark_square(size=180, stroke="#777777", strokeWidth=0.8)
        .encode(
            x=alt.X("day:Q"),
            y=y_tis,
            color=alt.Color(
                "status:N",
                title="TIS category",
                scale=alt.Scale(domain=statuses, range=list(RESPONSE_COLOURS.values())),
            ),
            tooltip=tooltip,
        )
    )
    tis_text = [
        alt.Chart(named)
        .mark_text(dx=dx, align=align, fontSize=9, color="#333333")
        .encode(x=alt.X("day:Q"), y=y_tis, text=alt.Text("tis_text:N"))
        .transform_filter(f"{'' if near_end else '!'}datum.near_end")
        for near_end, dx, align in ((False, 9, "left"), (True, -9, "right"))
    ]
    cid = _met_marks(named, y_cid, "cid_fill", "isValid(datum.cid)", tooltip)
    return [tis, *tis_text, *cid]


def _met_marks(named, y: alt.Y, fill: str, decided: str, tooltip: list) -> list[alt.Chart]:
    """A definition's answer at each visit: a green circle, filled when met and open when not,
    where `decided` holds; where it does not (too few inputs to decide), a small grey dot, not
    an empty "not met" ring."""
    answered = (
        alt.Chart(named)
        .mark_circle(size=110, stroke="#238b45", strokeWidth=1.5, color="#238b45")
        .encode(
            x=alt.X("day:Q"),
            y=y,
            fillOpacity=alt.FillOpacity(f"{fill}:Q", scale=None, legend=None),
            tooltip=tooltip,
        )
        .transform_filter(decided)
    )
    open_question = (
        alt.Chart(named)
        .mark_circle(size=30, color="#999999")
        .encode(x=alt.X("day:Q"), y=y, tooltip=tooltip)
        .transform_filter(f"!({decided})")
    )
    return [answered, open_question]


def _remission(remission: pd.DataFrame) -> tuple[list[alt.Chart], int]:
    """One lane per definition of the patient's indication (DORIS 2021, LLDAS, EUSTAR-AI), a mark
    at each window's nominal day: filled when met, an open ring when not, a small grey dot when
    an input is missing and nothing failed; the tooltip lists the criteria and the inputs."""
    rows = remission.rename(columns={"nominal_day": "day"}).copy()
    met = rows["met"].astype("object")
    rows["result"] = [
        "undecided: " + (m or "an input is missing") if pd.isna(v) else ("met" if v else "not met")
        for v, m in zip(met, rows["criteria_missing"], strict=True)
    ]
    rows["fill"] = [1.0 if (not pd.isna(v) and v) else 0.0 for v in met]
    rows["score_text"] = ["" if pd.isna(x) else f"{x:g}" for x in rows["score"].astype("float64")]
    lanes = list(dict.fromkeys(rows["definition"]))
    named = _named(rows.drop(columns=["met"]).assign(decided=[not pd.isna(v) for v in met]))
    y = alt.Y("definition:N", sort=lanes, title=None, scale=alt.Scale(domain=lanes))
    tooltip = [
        alt.Tooltip("timepoint:N", title="Visit"),
        alt.Tooltip("definition:N", title="Definition"),
        alt.Tooltip("result:N", title="Result"),
        alt.Tooltip("score_text:N", title="Score"),
        alt.Tooltip("criteria_met:N", title="Criteria met"),
        alt.Tooltip("criteria_not_met:N", title="Criteria not met"),
        alt.Tooltip("inputs:N", title="Inputs"),
    ]
    return _met_marks(named, y, "fill", "datum.decided", tooltip), 22 * len(lanes) + 10


# A result as the laboratory reads it: told apart by shape and fill as well as by colour.
SEROLOGY_RESULTS = {
    "positive": ("#D55E00", "circle"),
    "borderline": ("#999999", "diamond"),
    "negative": ("#FFFFFF", "circle"),
    "titre, not interpreted": ("#DDDDDD", "square"),
}


def _autoantibodies(obs: pd.DataFrame) -> pd.DataFrame:
    """The serology results drawn as a track: every autoantibody result, and an anti-dsDNA
    result read as negative or positive (a dsDNA level is drawn with the disease measures)."""
    interpretation = (
        obs["interpretation"] if "interpretation" in obs else pd.Series(None, obs.index)
    )
    serology = obs["domain"].eq("serology") & obs["day"].notna()
    wanted = serology & (interpretation.notna() | ~obs["code"].isin(DISEASE_MEASURES))
    return obs[wanted & (interpretation.notna() | obs["value"].notna())]


def _serology(obs: pd.DataFrame) -> tuple[list[alt.Chart], int]:
    """One lane per antibody, a mark at each result: positive, borderline, negative (open), or a
    titre the source did not interpret (never read as positive or negative here)."""
    rows = _autoantibodies(obs).sort_values(["parameter_sort", "day"]).copy()
    rows["lane"] = [
        LEGEND_LABELS.get(c) or str(label).removesuffix(" antibodies")
        for c, label in zip(rows["code"], rows["label"], strict=True)
    ]
    titre = ["" if pd.isna(v) else f"1:{plain_number(v)}" for v in rows["value"]]
    rows["titre"] = titre
    rows["result"] = rows["interpretation"].fillna("titre, not interpreted")
    lanes = list(dict.fromkeys(rows["lane"]))
    results = list(SEROLOGY_RESULTS)
    y = alt.Y("lane:N", sort=lanes, title=None, axis=alt.Axis(labelLimit=0, labelOverlap=False))
    marks = (
        alt.Chart(_named(rows[["day", "lane", "label", "result", "titre", "source_kind"]]))
        .mark_point(size=90, filled=True, stroke="#333333", strokeWidth=1.2, opacity=1)
        .encode(
            x=alt.X("day:Q"),
            y=y,
            color=alt.Color("result:N", title="Result", scale=alt.Scale(
                domain=results, range=[c for c, _ in SEROLOGY_RESULTS.values()])),
            shape=alt.Shape("result:N", scale=alt.Scale(
                domain=results, range=[s for _, s in SEROLOGY_RESULTS.values()]), legend=None),
            tooltip=[
                alt.Tooltip("label:N", title="Antibody"),
                alt.Tooltip("day:Q", title="Day"),
                alt.Tooltip("result:N", title="Result"),
                alt.Tooltip("titre:N", title="Titre"),
                alt.Tooltip("source_kind:N", title="Source"),
            ],
        )
    )  # fmt: skip
    return [marks], 22 * len(lanes) + 10


def _enzymes(obs: pd.DataFrame, options: TrajectoryOptions) -> list[alt.Chart]:
    rows = _prepare(obs, ENZYMES).dropna(subset=["value"])
    labels = list(dict.fromkeys(rows.sort_values("parameter_sort")["short_label"]))
    colour = alt.Color("short_label:N", title="Enzyme", scale=_palette(labels))
    extra = [
        alt.Tooltip("x_uln:Q", title="× ULN", format=".2f"),
        alt.Tooltip("grade_text:N", title="CTCAE v5.0"),
    ]
    if options.view != "value":
        field, title = _change_y(options, "U/L")
        y = alt.Y(f"{field}:Q", title=title)
        extra += [alt.Tooltip("base:Q", title="Baseline"), alt.Tooltip(f"{field}:Q", format=".1f")]
        reference = 0.0
    elif options.enzymes_as_uln:
        y = alt.Y("x_uln:Q", title="× upper limit of normal", scale=alt.Scale(type="log"))
        reference = 1.0
    else:
        y = alt.Y("value:Q", title="U/L", scale=alt.Scale(type="log"))
        reference = None
    layers = _lines(rows, y, colour, _tooltip(*extra))
    if reference is not None:
        layers.append(_reference_rule(reference, "1 × ULN" if reference == 1.0 else "baseline"))
    return layers


def _reference_rule(y: float, label: str) -> alt.Chart:
    frame = pd.DataFrame({"y": [y], "label": [label]})
    return (
        alt.Chart(_named(frame))
        .mark_rule(strokeDash=[4, 3], color="#555555")
        .encode(y=alt.Y("y:Q"), tooltip=alt.Tooltip("label:N", title="Reference"))
    )


def _kinetics(obs: pd.DataFrame, options: TrajectoryOptions) -> list[tuple[str, list, int]]:
    """CAR T cells and CD19+ B cells, each on its own axis: a CAR T peak of a few cells/µL is
    not flattened by B-cell counts in the hundreds. 'Not detected' without a count is drawn at 0,
    open, and says so."""
    rows = _prepare(obs, KINETICS)
    rows["plot_value"] = rows["value"].fillna(0.0)
    views = []
    for code, colour in zip(KINETICS, OKABE_ITO, strict=False):
        one = rows[rows["code"] == code]
        if one.empty:
            continue
        colour_scale = alt.Scale(domain=[one["short_label"].iloc[0]], range=[colour])
        encoding = alt.Color("short_label:N", legend=None, scale=colour_scale)
        tooltip = _tooltip(alt.Tooltip("specimen:N", title="Specimen"))
        if code == "CD19":  # down to the depletion threshold of 1 cell/µL: symlog
            top = max(one["plot_value"].max(), options.depletion_threshold)
            powers = [0] + [10**k for k in range(5) if 10**k <= top * 1.05]
            scale = alt.Scale(type="symlog", constant=1)
            y = alt.Y("plot_value:Q", title="cells/µL (symlog)", scale=scale,
                      axis=alt.Axis(values=powers))  # fmt: skip
            layers = _lines(one, y, encoding, tooltip)
            threshold = pd.DataFrame({"y": [options.depletion_threshold], "label": [
                f"B-cell depletion threshold {plain_number(options.depletion_threshold)} "
                "cells/µL (setting; unconfirmed rule, see docs/rules.md)"]})  # fmt: skip
            layers.append(
                alt.Chart(_named(threshold))
                .mark_rule(strokeDash=[2, 2], color=OKABE_ITO[1])
                .encode(y=alt.Y("y:Q"), tooltip=alt.Tooltip("label:N", title="Reference"))
            )
        else:
            layers = _lines(one, alt.Y("plot_value:Q", title="cells/µL"), encoding, tooltip)
        views.append((f"{one['label'].iloc[0]} (cells/µL)", layers, 90))
    return views


def _igg(obs: pd.DataFrame, options: TrajectoryOptions) -> list[alt.Chart]:
    """IgG in g/L with the hypogammaglobulinaemia threshold; IVIG courses are on the course lane."""
    rows = _prepare(obs, ("IGG",)).dropna(subset=["value"])
    colour = alt.Color("label:N", legend=None, scale=_palette(["Immunoglobulin G"]))
    layers = _lines(rows, alt.Y("value:Q", title="g/L"), colour, _tooltip())
    layers.append(
        _reference_rule(
            options.igg_threshold,
            f"Hypogammaglobulinaemia below {plain_number(options.igg_threshold)} g/L (setting; "
            "see docs/rules.md)",
        )
    )
    return layers


def _counts(
    obs: pd.DataFrame, options: TrajectoryOptions, width: int
) -> list[tuple[str, list[alt.Chart], int]]:
    """One small view per count, in its own unit, with its CTCAE v5.0 grade bands behind it."""

    def bands(code: str, one: pd.DataFrame) -> tuple[alt.Scale, list[alt.Chart]]:
        return alt.Scale(zero=False), _bands(options.grade_bands.get(code, []), width)

    extra = [alt.Tooltip("grade_text:N", title="CTCAE v5.0")]
    return _small_views(obs, BLOOD_COUNTS, options, bands, extra, height=80)


def _disease_measures(
    obs: pd.DataFrame, options: TrajectoryOptions
) -> list[tuple[str, list[alt.Chart], int]]:
    """One small view per measure of the indication (anti-dsDNA, C3, C4, UPCR, eGFR, FVC,
    DLCO), in its own unit, with the reference limit the rules read as a dashed line."""

    def limit(code: str, one: pd.DataFrame) -> tuple[alt.Scale, list[alt.Chart]]:
        first = one.iloc[0]
        scale = alt.Scale(type="symlog") if bool(first["log_scale"]) else alt.Scale(zero=False)
        bound = first["ref_high"] if first["better"] == "lower" else first["ref_low"]
        rule = [] if pd.isna(bound) else [_reference_rule(float(bound), "reference limit")]
        return scale, rule

    return _small_views(obs, DISEASE_MEASURES, options, limit, height=70)


def _small_views(obs, codes, options, behind, extra=(), height: int = 80) -> list[tuple]:
    """One small view per code that has values, in its own unit. `behind(code, rows)` gives the
    value view's y scale and what is drawn behind the line (grade bands, a reference limit); the
    change views draw the baseline instead."""
    rows = _prepare(obs, codes).dropna(subset=["value"])
    views = []
    for code in codes:
        one = rows[rows["code"] == code]
        if one.empty:
            continue
        unit = unit_text(one["unit"].iloc[0])
        colour = alt.Color("label:N", legend=None, scale=_palette([one["label"].iloc[0]]))
        if options.view == "value":
            scale, layers = behind(code, one)
            y = alt.Y("value:Q", title=unit, scale=scale)
        else:
            field, title = _change_y(options, unit)
            y = alt.Y(f"{field}:Q", title=title)
            layers = [_reference_rule(0.0, "baseline")]
        layers = [*layers, *_lines(one, y, colour, _tooltip(*extra))]
        label = one["label"].iloc[0]
        views.append((label if unit in label else f"{label} ({unit})", layers, height))
    return views


def _bands(bands: list[dict], width: int) -> list[alt.Chart]:
    """CTCAE grade bands as horizontal stripes across the whole plot, deeper red by grade."""
    if not bands:
        return []
    frame = pd.DataFrame(bands)
    frame["grade_text"] = "CTCAE grade " + frame["grade"].astype(str)
    frame["opacity"] = frame["grade"].map(BAND_OPACITY)
    return [
        alt.Chart(_named(frame))
        .mark_rect(color="#d7301f")
        .encode(
            x=alt.XValue(0),
            x2=alt.X2Value(width),
            y=alt.Y("low:Q"),
            y2=alt.Y2("high"),
            opacity=alt.Opacity("opacity:Q", legend=None, scale=None),
            tooltip=alt.Tooltip("grade_text:N", title="Band"),
        )
    ]


def _scores(obs: pd.DataFrame, options: TrajectoryOptions) -> list[alt.Chart]:
    rows = _prepare(obs, SCORES).dropna(subset=["value"])
    span = rows["scale_max"] - rows["scale_min"]
    # 100 = the best end of each instrument's own scale, so "up" is better for every score.
    towards_best = (rows["value"] - rows["scale_min"]) / span * 100
    rows["pct_best"] = towards_best.where(rows["better"] == "higher", 100 - towards_best)
    rows["scale_text"] = [
        f"{_num(lo)}–{_num(hi)}, {b} is better"
        for lo, hi, b in zip(rows["scale_min"], rows["scale_max"], rows["better"], strict=True)
    ]
    labels = list(dict.fromkeys(rows.sort_values("parameter_sort")["short_label"]))
    colour = alt.Color("short_label:N", title="Score", scale=_palette(labels))
    extra = [alt.Tooltip("scale_text:N", title="Scale")]
    if options.view == "value":
        y = alt.Y("pct_best:Q", title="% of scale, 100 = best ↑", scale=alt.Scale(domain=[0, 100]))
    else:
        # Improvement as % of the scale range (the TIS "absolute percent change"), or PCHG.
        sign = rows["better"].map({"higher": 1, "lower": -1})
        rows["improvement"] = rows["chg"] / span * 100 * sign
        y = (
            alt.Y("improvement:Q", title="improvement, % of scale ↑")
            if options.view == "chg"
            else alt.Y("pchg:Q", title="% change from baseline")
        )
        extra += [alt.Tooltip("base:Q", title="Baseline"), alt.Tooltip("chg:Q", title="CHG")]
    layers = _lines(rows, y, colour, _tooltip(*extra))
    return layers


def _mri(imaging: pd.DataFrame) -> tuple[list[alt.Chart], int]:
    rows = imaging[imaging["finding"] == "muscle oedema"].copy()
    if rows.empty:
        rows = imaging.copy()
    rows["row"] = rows["region"] + " " + rows["side"].fillna("")
    rows["x0"], rows["x1"] = rows["day"] - 5, rows["day"] + 5
    regions = sorted(rows["row"].unique())
    chart = (
        alt.Chart(_named(rows))
        .mark_rect(stroke="white", strokeWidth=0.5)
        .encode(
            x=alt.X("x0:Q"),
            x2=alt.X2("x1"),
            y=alt.Y("row:N", title=None, sort=regions, axis=alt.Axis(labelOverlap=False)),
            color=alt.Color(
                "grade:Q",
                title="Oedema grade",
                scale=alt.Scale(scheme="purples", domain=[0, 2]),
                legend=alt.Legend(values=[0, 1, 2]),
            ),
            tooltip=[
                alt.Tooltip("region:N", title="Region"),
                alt.Tooltip("side:N", title="Side"),
                alt.Tooltip("day:Q", title="Study day"),
                alt.Tooltip("finding:N", title="Finding"),
                alt.Tooltip("grade:Q", title="Grade"),
                alt.Tooltip("scale:N", title="Scale"),
                alt.Tooltip("summary:N", title="Report"),
                alt.Tooltip("source_kind:N", title="Source"),
            ],
        )
    )
    return [chart], max(60, 16 * len(regions))
