"""Every chart the pages draw is valid Vega-Lite, checked whole against the schema: the app turns
Altair's check of each object as it is made off (app.py), so the tests check what it sends."""

from __future__ import annotations

import json

import pytest
from altair.utils.schemapi import validate_jsonschema
from altair.vegalite.v6.schema.core import load_schema

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
