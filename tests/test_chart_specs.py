"""Every chart the pages draw is valid Vega-Lite, checked whole against the schema: the app turns
Altair's check of each object as it is made off (app.py), so the tests check what it sends."""

from __future__ import annotations

import json

import altair as alt
import pandas as pd
import pyarrow as pa
import pytest
from altair.utils import schemapi
from altair.utils.schemapi import validate_jsonschema
from altair.vegalite.v6.schema.core import load_schema

from carta.charts import cohort as cohort_charts
from carta.charts import quality as quality_charts
from carta.charts import theme
from tests.conftest import open_page

SCHEMA = load_schema()


@pytest.mark.parametrize(
    ("page", "query"),
    [
        ("pages/cohort.py", {}),
        ("pages/cohort.py", {"show": "% change", "param": "CMAS"}),
        ("pages/safety.py", {}),
        ("pages/trajectory.py", {"patient": "SYN-00003"}),
        ("pages/summary.py", {"patient": "SYN-00003"}),
        *[
            ("pages/summary.py", {"patient": "SYN-00003", "present": "1", "slide": str(n)})
            for n in range(2, 7)
        ],  # every chart slide
    ],
)
def test_every_chart_on_the_page_is_valid_vega_lite(default_store, monkeypatch, page, query):
    at = open_page(default_store, monkeypatch, page, **query)
    specs = [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]
    assert specs, f"{page} drew no chart"
    for spec in specs:
        validate_jsonschema(spec, SCHEMA)  # raises on an invalid spec


def builders() -> dict:
    """A chart of each kind the pages build, from small frames."""
    lanes = pd.DataFrame({"patient_id": ["P1", "P2"], "follow_up": [200, 90]})
    periods = pd.DataFrame({"patient_id": ["P1"], "period": ["CID"], "start": [10], "end": [50],
                            "ongoing": ["no"]})  # fmt: skip
    events = pd.DataFrame({"patient_id": ["P1", "P2"], "mark": ["CRS", "infusion"],
                           "label": ["CRS grade 1", "infusion"], "day": [2, 0],
                           "grade": [1, None]})  # fmt: skip
    history = pd.DataFrame(HISTORY)
    points = pd.DataFrame(
        {
            "patient_id": ["P1", "P2"],
            "timepoint": ["Baseline", "M1"],
            "timepoint_sort": [1, 2],
            "plotted": [900.0, 120.0],
            "day": [-3, 30],
        }
    )
    stats = pd.DataFrame(
        {
            "timepoint": ["Baseline", "M1"],
            "timepoint_sort": [1, 2],
            "n": [1, 1],
            "q1": [900.0, 120.0],
            "q3": [900.0, 120.0],
            "median": [900.0, 120.0],
            "whisker_low": [900.0, 120.0],
            "whisker_high": [900.0, 120.0],
        }
    )
    return {
        "swimmer": lambda: cohort_charts.swimmer_spec(lanes, periods, events, ("P1",)),
        "distribution": lambda: cohort_charts.distribution_spec(
            points, stats, ["Baseline", "M1"], "CK (U/L)", True, None),
        "trend": lambda: quality_charts.trend_chart(history, "site-a").to_dict(validate=False),
    }  # fmt: skip


HISTORY = {"store_version": [1, 2, 1, 2], "check_name": ["a", "a", "b", "b"],
           "findings": [3, 1, 0, 2]}  # fmt: skip


@pytest.mark.parametrize("name", ["trend"])  # the cohort's charts are written as Vega-Lite
def test_charts_built_with_one_schema_table_are_altairs_own(name, monkeypatch) -> None:
    build = builders()[name]
    ours = build()
    monkeypatch.setattr(schemapi.SchemaBase, "from_dict", theme.ALTAIRS_FROM_DICT)
    assert ours == build()


def test_on_screen_a_charts_frames_go_to_arrow_once_and_files_keep_their_rows() -> None:
    build = builders()["distribution"]
    screen = theme.arrow_datasets(build)
    tables = screen["datasets"]
    assert all(isinstance(t, pa.Table) for t in tables.values())
    # The box plot's three layers share one frame: one copy of it is sent.
    assert sorted(t.num_rows for t in tables.values()) == [2, 2]
    names = [layer["data"]["name"] for layer in screen["layer"]]
    assert len(set(names)) == 2 and set(names) == set(tables)
    points = next(t for t in tables.values() if "patient_id" in t.column_names).to_pandas()
    assert points["plotted"].tolist() == [900.0, 120.0]
    file_spec = build()  # outside the screen: rows as records, as the files need them
    assert [len(layer["data"]["values"]) for layer in file_spec["layer"]] == [2, 2, 2, 2]
    assert "datasets" not in file_spec
    too_many = pd.DataFrame({"x": range(5_001)})
    with pytest.raises(alt.MaxRowsError):
        theme.arrow_datasets(lambda: alt.Chart(too_many).mark_point().encode(x="x:Q").to_dict())
