"""Shared chart conventions: colour-blind-safe colours (Okabe-Ito) and the study-day axis title."""

import json
import re
from contextvars import ContextVar

import altair as alt
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from altair.utils import schemapi
from altair.utils.data import limit_rows
from altair.vegalite.data import default_data_transformer

# Okabe & Ito, "Color Universal Design" (2008): distinguishable with the common colour-vision
# deficiencies. Yellow last, as it is faint on white.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#F0E442"]

STUDY_DAY_TITLE = "Study day (0 = CAR T infusion)"


def layer_spec(chart) -> dict:
    """One Altair layer as a plain dict, to be assembled by hand with the others: a parameter is
    then declared once at the top level for the layer it belongs to (Altair 6.3 lifts a parameter
    added to one layer onto every layer of its view, altair#3891)."""
    spec = chart.to_dict(validate=False)  # whole specs are validated in the tests
    for top_level_only in ("$schema", "config"):
        spec.pop(top_level_only, None)
    return spec


# The case summary's charts are drawn with this look on screen (Streamlit's own theme switched
# off) and in every export, so that a PNG, an SVG, a PDF page and the screen agree.
FONT = "'Source Sans Pro', 'Source Sans 3', 'DejaVu Sans', Helvetica, Arial, sans-serif"
TEXT_COLOUR = "#31333F"


def figure_config(scale: float = 1.0) -> dict:
    """Vega-Lite config of the summary's charts; `scale` enlarges the type (presentation)."""

    def size(points: float) -> float:
        return round(points * scale, 1)

    return {
        "font": FONT,
        "background": "#FFFFFF",
        "padding": 8,
        "title": {"fontSize": size(14), "anchor": "start", "color": TEXT_COLOUR,
                  "fontWeight": 600, "offset": 6},
        "axis": {"labelFontSize": size(11), "titleFontSize": size(12), "labelColor": TEXT_COLOUR,
                 "titleColor": TEXT_COLOUR, "titleFontWeight": 400, "gridColor": "#E6EAF1",
                 "domainColor": "#C9CED6", "tickColor": "#C9CED6", "labelLimit": 220},
        "legend": {"labelFontSize": size(11), "titleFontSize": size(11), "orient": "top",
                   "direction": "horizontal", "labelLimit": 220, "labelColor": TEXT_COLOUR,
                   "titleColor": TEXT_COLOUR},
        "header": {"labelFontSize": size(11), "titleFontSize": size(12)},
        "text": {"fontSize": size(10)},
        "view": {"stroke": None},
    }  # fmt: skip


# The summary's charts on a dark screen: the same look in the colours of Streamlit's dark theme.
# The files keep the white figure (a page, a slide or a paper is white).
DARK = {"background": "#0E1117", "text": "#FAFAFA", "grid": "#31333F", "domain": "#5A5E6A"}


def on_dark(spec: dict) -> dict:
    """The spec drawn for the dark theme: background, text, grid and axis lines recoloured."""
    config = dict(spec.get("config", {}))
    config["background"] = DARK["background"]
    for part, colours in (
        ("title", {"color": DARK["text"], "subtitleColor": DARK["text"]}),
        ("axis", {"labelColor": DARK["text"], "titleColor": DARK["text"],
                  "gridColor": DARK["grid"], "domainColor": DARK["domain"],
                  "tickColor": DARK["domain"]}),
        ("legend", {"labelColor": DARK["text"], "titleColor": DARK["text"]}),
        ("text", {"color": DARK["text"]}),
    ):  # fmt: skip
        config[part] = {**config.get(part, {}), **colours}
    return {**spec, "config": config}


def enlarged(spec: dict, factor: float) -> dict:
    """The spec with every mark's size and stroke width (and the room for axis labels) multiplied
    by `factor` (presentation: marks that read from the back of a room)."""

    def walk(node: object) -> None:
        if isinstance(node, dict):
            mark = node.get("mark")
            if isinstance(mark, dict):
                for key in ("size", "strokeWidth"):
                    if isinstance(mark.get(key), int | float):
                        mark[key] = mark[key] * factor
                if mark.get("type") in ("point", "circle", "square") and "size" not in mark:
                    mark["size"] = 30 * factor * factor
                if mark.get("type") == "line" and "strokeWidth" not in mark:
                    mark["strokeWidth"] = 2 * factor
            axis = node.get("axis")
            if isinstance(axis, dict) and isinstance(axis.get("labelLimit"), int | float):
                axis["labelLimit"] = axis["labelLimit"] * factor  # larger type, same words
            for key, value in node.items():
                if key != "datasets":
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(spec)
    return spec


_CONVERTERS: dict = {}


def _from_dict_with_one_converter(cls, dct, validate: bool = True):
    """SchemaBase.from_dict, with the table of schema classes built once per class family.
    Altair 6.3 builds it again on every call (hashing its ~10,000 classes), and `encode` calls it
    for each channel given in shorthand: 5 to 9 ms a channel, most of the time of building a
    chart (vega/altair#3547 would build it once). The table depends on the classes only."""
    if validate:
        cls.validate(dct)
    family = cls._default_wrapper_classes.__func__
    converter = _CONVERTERS.get(family)
    if converter is None:
        converter = _CONVERTERS[family] = schemapi._FromDict(cls._default_wrapper_classes())
    return converter.from_dict(dct, cls)


# Altair's own, kept for the test that both give the same specs.
ALTAIRS_FROM_DICT = schemapi.SchemaBase.__dict__["from_dict"]
schemapi.SchemaBase.from_dict = classmethod(_from_dict_with_one_converter)


_COLLECTING: ContextVar[dict | None] = ContextVar("carta_chart_frames", default=None)


def _frames_by_name(data=None, max_rows: int = 5000):
    """Altair's data transformer for the screen: while `arrow_datasets` builds a spec, each frame
    a chart is made of becomes a named dataset, kept as the frame itself. Altair's default writes
    every row out as a record (and hashes them to name the dataset), which the screen then turns
    back into a table: half the time of building a chart of 5,000 points."""
    if data is None:
        return lambda frame: _frames_by_name(frame, max_rows)
    frames = _COLLECTING.get()
    if frames is None or not isinstance(data, pd.DataFrame):
        return default_data_transformer(data, max_rows=max_rows)
    limit_rows(data, max_rows=max_rows)  # the same refusal of a too-large chart
    for name, frame in frames.items():
        if frame is data:  # one copy of a frame several layers draw
            return {"name": name}
    name = f"frame-{len(frames)}"
    frames[name] = data
    return {"name": name}


def named_data(frame: pd.DataFrame) -> dict:
    """A chart's `data` for a spec written as Vega-Lite: on screen (inside `arrow_datasets`) a
    named dataset that goes to Arrow; elsewhere (files, tests) the rows themselves."""
    return _frames_by_name(frame)


alt.data_transformers.register("carta", _frames_by_name)
alt.data_transformers.enable("carta")


def arrow_datasets(build) -> dict:
    """The spec `build()` gives, its named datasets Arrow tables: the frames go to Arrow once,
    without passing through records. Outside it (files, tests) charts embed their rows as usual."""
    token = _COLLECTING.set({})
    try:
        spec = build()
        frames = _COLLECTING.get()
    finally:
        _COLLECTING.reset(token)
    spec = with_arrow_datasets(spec)
    if not frames:
        return spec
    shipped = dict(spec.get("datasets", {}))
    used = _named_in(spec)
    for name, frame in frames.items():
        try:
            shipped[name] = compact(pa.Table.from_pandas(_drawn_only(frame, used),
                                                         preserve_index=False))  # fmt: skip
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
            shipped[name] = default_data_transformer(frame)["values"]
    return {**spec, "datasets": shipped}


def with_arrow_datasets(spec: dict) -> dict:
    """A spec for the screen whose named datasets are Arrow tables, made once: Streamlit sends a
    table as it is, where it turns a list of records into a DataFrame and then into Arrow on every
    render (a tenth of the server's time under load, bench/load.py). Files (PNG, SVG, PDF) use the
    plain spec; a dataset Arrow cannot type is left as records."""
    datasets = spec.get("datasets")
    if not datasets:
        return spec
    shipped = {}
    used = _named_in(spec)
    for name, records in datasets.items():
        try:
            frame = pd.DataFrame.from_records(records)
            shipped[name] = compact(pa.Table.from_pandas(_drawn_only(frame, used),
                                                         preserve_index=False))  # fmt: skip
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
            shipped[name] = records
    return {**spec, "datasets": shipped}


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _named_in(spec: dict) -> set[str] | None:
    """Every word the spec (its datasets aside) spells: a column it names nowhere is drawn by no
    encoding, tooltip, transform or expression and need not be sent (a trajectory's layers carried
    the 33 columns of the observations, of which a dozen are drawn). None when a tooltip shows
    every field of a row: then each column is needed."""
    text = json.dumps({key: value for key, value in spec.items() if key != "datasets"})
    if '"tooltip": true' in text or '"content": "data"' in text:
        return None
    return set(_WORD.findall(text))


def _drawn_only(frame: pd.DataFrame, used: set[str] | None) -> pd.DataFrame:
    if used is None:
        return frame
    # A name that is not one word (a space, a dot) is kept: it cannot be found word by word.
    kept = [c for c in frame.columns if c in used or not _WORD.fullmatch(str(c))]
    # Columns picked by position: pandas 3 looked each name up through its Arrow strings.
    return frame if len(kept) == frame.shape[1] else frame.iloc[:, [
        i for i, c in enumerate(frame.columns) if c in set(kept)]]  # fmt: skip


def compact(table: pa.Table) -> pa.Table:
    """The same values in fewer bytes for the browser, which decodes every Arrow type: a text
    that repeats (a window, a category, a patient's id over its windows) as a dictionary, other
    text with 32-bit offsets, integers in the narrowest type that holds them. A cohort page sent
    1 MB, 58 bytes a point, mostly offsets and 64-bit integers (bench/home_page.py)."""
    # One chunk, so that each text column has one dictionary for the whole stream.
    columns = [_compact_column(column) for column in table.combine_chunks().columns]
    return pa.Table.from_arrays(columns, names=table.column_names)


_NARROW_INTEGERS = (pa.int8(), pa.int16(), pa.int32())


def _compact_column(column: pa.ChunkedArray) -> pa.ChunkedArray:
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text = column.cast(pa.string())
        distinct = pc.count_distinct(text).as_py()
        if len(text) and distinct * 2 <= len(text):
            return text.cast(pa.dictionary(_narrowest(0, distinct), pa.string()))
        return text
    if pa.types.is_signed_integer(kind) and len(column):
        low, high = (value.as_py() for value in pc.min_max(column).values())
        if low is not None:
            return column.cast(_narrowest(low, high))
    return column


def _narrowest(low: int, high: int) -> pa.DataType:
    for narrow in _NARROW_INTEGERS:
        info = np.iinfo(narrow.to_pandas_dtype())
        if info.min <= low and high <= info.max:
            return narrow
    return pa.int64()


def drawn(frame, *columns: str):
    """Only the columns a chart encodes or shows in its tooltips: the rest would be sent to the
    browser for nothing (a cohort's 5,000 points carry 16 columns, of which 6 are used)."""
    return frame[[c for c in columns if c in frame.columns]]
