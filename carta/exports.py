"""Files that leave the app: query results written a record batch at a time (CSV or Parquet), so
a whole registry's long data never sits in memory, and small frames as CSV."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import BinaryIO

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from carta.store import query_parameters, query_sql

BATCH_ROWS = 100_000


def stream_query(
    con: duckdb.DuckDBPyConnection, name: str, params: dict, file_format: str
) -> BinaryIO:
    """The rows of queries/<name>.sql as an open CSV or Parquet temporary file, written batch by
    batch as DuckDB produces them; the file is deleted when closed."""
    sql = query_sql(name)
    if query_parameters(sql) != set(params):
        raise TypeError(f"query {name!r} takes {sorted(query_parameters(sql))}")
    cursor = con.cursor()
    # Handed to the download button open; closing it deletes it.
    target = tempfile.TemporaryFile(suffix=f".{file_format}")  # noqa: SIM115
    try:
        # A relation streams; a DB-API result would be copied whole into Arrow first.
        reader = cursor.sql(sql, params=params).to_arrow_reader(BATCH_ROWS)
        writer = (
            pa_csv.CSVWriter(target, reader.schema)
            if file_format == "csv"
            else pq.ParquetWriter(target, reader.schema)
        )
        with writer:
            for batch in reader:
                writer.write_batch(_formulas_neutral(batch) if file_format == "csv" else batch)
    finally:
        cursor.close()
    target.seek(0)
    return target


def written_rows(path_or_file: Path | BinaryIO, file_format: str) -> int:
    """The number of rows in an exported file (for tests and the benchmark)."""
    if file_format == "parquet":
        return pq.ParquetFile(path_or_file).metadata.num_rows
    return sum(batch.num_rows for batch in pa_csv.open_csv(path_or_file))


# --- charts and documents that leave the app ----------------------------------------------------

VL_VERSION = "6.4"  # the Vega-Lite version Altair 6.3 writes (alt.SCHEMA_VERSION v6.4.x)


def chart_svg(spec: dict, width_px: int | None = None) -> str:
    """The chart as SVG, drawn by vl-convert from the same spec (and theme) as on screen; with
    `width_px`, the drawing is scaled to that width (its viewBox keeps the shape)."""
    import vl_convert as vlc

    svg = vlc.vegalite_to_svg(spec, vl_version=VL_VERSION)
    if width_px is None:
        return svg
    width, height = svg_size(svg)
    scaled = f'width="{width_px}" height="{round(height * width_px / width)}"'
    return svg.replace(f'width="{width:g}" height="{height:g}"', scaled, 1)


def fitted(spec: dict, height_px: float) -> dict:
    """The spec with its views' heights scaled so that the whole drawing (titles, legends and
    axes included) is `height_px` high: a chart that fills a slide and no more. Measured by
    drawing it once, as the browser and the files draw it."""
    views = spec.get("vconcat", [spec])
    plotted = sum(view["height"] for view in views)
    _, drawn = svg_size(chart_svg(spec))
    factor = max(0.3, (height_px - (drawn - plotted)) / plotted)
    if "vconcat" in spec:
        return {**spec, "vconcat": [{**v, "height": round(v["height"] * factor)} for v in views]}
    return {**spec, "height": round(spec["height"] * factor)}


def chart_png(spec: dict, width_px: int) -> bytes:
    """The chart as PNG, `width_px` pixels wide (the height follows the chart's shape)."""
    import vl_convert as vlc

    width, _ = svg_size(chart_svg(spec))
    # vl-convert truncates width x scale to whole pixels: aim a quarter pixel over.
    return vlc.vegalite_to_png(spec, vl_version=VL_VERSION, scale=(width_px + 0.25) / width)


def svg_size(svg: str) -> tuple[float, float]:
    """(width, height) of an SVG document from its root element."""
    import xml.etree.ElementTree as ET

    root = ET.fromstring(svg)
    return float(root.get("width")), float(root.get("height"))


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_PATTERN = "^[=+\\-@\t\r]"


def _formulas_neutral(batch: pa.RecordBatch) -> pa.RecordBatch:
    """csv_text's rule, in Arrow, for a streamed batch."""
    columns = []
    for column in batch.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            risky = pc.fill_null(pc.match_substring_regex(column, _FORMULA_PATTERN), False)
            column = pc.if_else(risky, pc.binary_join_element_wise("'", column, ""), column)
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, schema=batch.schema)


def csv_text(frame: pd.DataFrame) -> str:
    """A table as CSV text for a download; a text cell that a spreadsheet would run as a formula
    (starting with =, +, -, @) is written with a leading apostrophe (OWASP CSV injection)."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            text = out[column]
            risky = text.astype("string").str.startswith(_FORMULA_START).fillna(False)
            out[column] = text.where(~risky, "'" + text.astype("string"))
    return out.to_csv(index=False)
