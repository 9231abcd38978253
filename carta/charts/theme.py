"""Shared chart conventions: colour-blind-safe colours (Okabe-Ito) and the study-day axis title."""

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


def with_arrow_datasets(spec: dict) -> dict:
    """A spec for the screen whose named datasets are Arrow tables, made once: Streamlit sends a
    table as it is, where it turns a list of records into a DataFrame and then into Arrow on every
    render (a tenth of the server's time under load, bench/load.py). Files (PNG, SVG, PDF) use the
    plain spec; a dataset Arrow cannot type is left as records."""
    import pandas as pd
    import pyarrow as pa

    datasets = spec.get("datasets")
    if not datasets:
        return spec
    shipped = {}
    for name, records in datasets.items():
        try:
            shipped[name] = pa.Table.from_pandas(pd.DataFrame.from_records(records),
                                                 preserve_index=False)  # fmt: skip
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
            shipped[name] = records
    return {**spec, "datasets": shipped}


def drawn(frame, *columns: str):
    """Only the columns a chart encodes or shows in its tooltips: the rest would be sent to the
    browser for nothing (a cohort's 5,000 points carry 16 columns, of which 6 are used)."""
    return frame[[c for c in columns if c in frame.columns]]
