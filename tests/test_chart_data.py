"""What a chart sends to the browser (carta/charts/theme.py): the same values in narrower Arrow
types, and only the columns its spec names."""

import altair as alt
import pandas as pd
import pyarrow as pa

from carta.charts.theme import arrow_datasets, compact


def test_compact_keeps_every_value_in_narrower_types() -> None:
    table = pa.table({
        "window": ["Baseline", "M1", "M1", "Baseline", None, "M1"],  # repeats: a dictionary
        "patient": ["P1", "P2", "P3", "P4", "P5", "P6"],  # unique: plain text
        "sort": [0, 1, 1, 0, 2, 1],
        "day": [-3, 30, 31, -2, 200, 400],
        "count": [0, 40_000, 1, 2, 3, 4],
        "big": [0, 2**40, 1, 2, 3, 4],
        "missing": pa.array([None] * 6, pa.int64()),
        "value": [1.5, 2.25, None, 4.0, 5.0, 6.0],
    })  # fmt: skip
    small = compact(table.cast(table.schema.set(0, pa.field("window", pa.large_string()))))
    assert small.to_pylist() == table.to_pylist()
    types = {field.name: field.type for field in small.schema}
    assert types["window"] == pa.dictionary(pa.int8(), pa.string())
    assert types["patient"] == pa.string()
    assert (types["sort"], types["day"], types["count"]) == (pa.int8(), pa.int16(), pa.int32())
    assert (types["big"], types["missing"], types["value"]) == (pa.int64(), pa.int64(),
                                                                pa.float64())  # fmt: skip


def test_a_chart_sends_only_the_columns_its_spec_names() -> None:
    rows = pd.DataFrame({"day": [1, 2], "plotted": [3.0, 4.0], "patient_id": ["P1", "P2"],
                         "source_note": ["a", "b"], "Rows accepted": [1, 2]})  # fmt: skip
    chart = alt.Chart(rows).mark_point().encode(x="day:Q", y="plotted:Q", tooltip=["patient_id:N"])
    spec = arrow_datasets(lambda: chart.to_dict(validate=False))
    [table] = spec["datasets"].values()
    # Not one word, so not found word by word: kept, to be safe.
    assert table.column_names == ["day", "plotted", "patient_id", "Rows accepted"]
    everything = chart.mark_point(tooltip={"content": "data"})
    [table] = arrow_datasets(lambda: everything.to_dict(validate=False))["datasets"].values()
    assert "source_note" in table.column_names  # a tooltip of every field needs every column
