"""The trajectory page under AppTest: URL state, an injected click, and the baseline views."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetStates
from streamlit.testing.v1 import AppTest

from carta.measures import remission
from tests.conftest import open_page
from tests.handmade import PATIENT, hand_store


def trajectory(store, monkeypatch, **query) -> AppTest:
    return open_page(store, monkeypatch, "pages/trajectory.py", **query)


def the_spec(at: AppTest) -> dict:
    """The chart's spec with its data sets put back (Streamlit ships them apart, as Arrow)."""
    [chart] = at.get("vega_lite_chart")
    spec = json.loads(chart.proto.spec)
    spec["datasets"] = {
        d.name: pa.ipc.open_stream(d.data.data).read_all().to_pylist() for d in chart.proto.datasets
    }
    return spec


def dataset_of(spec: dict, view_title: str, layer: int = 1) -> list[dict]:
    [view] = [v for v in spec["vconcat"] if v["title"]["text"] == view_title]
    return spec["datasets"][view["layer"][layer]["data"]["name"]]


def shown_text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [w.value for w in at.warning]
    return "\n".join(parts)


def click(at: AppTest, day: int) -> AppTest:
    """Send the selection the browser sends after a click on `day` (private AppTest API)."""
    [chart] = at.get("vega_lite_chart")
    states = at._tree.get_widget_states()
    injected = WidgetStates()
    injected.CopyFrom(states)
    state = injected.widgets.add()
    state.id = chart.proto.id
    state.string_value = json.dumps({"selection": {"pick": [{"day": day}], "brush": {}}})
    return at._run(widget_state=injected)


def test_the_url_restores_patient_view_window_and_day(default_store, monkeypatch) -> None:
    at = trajectory(
        default_store, monkeypatch,
        patient="SYN-00003", view="% change", raw="true", win="-7,60", day="14", near="2",
    )  # fmt: skip
    assert at.selectbox(key="patient").value == "SYN-00003"
    assert at.toggle(key="raw").value is True
    assert at.number_input(key="near").value == 2
    spec = the_spec(at)
    params = {p["name"]: p for p in spec["params"]}
    assert params["brush"]["value"] == {"x": [-7.0, 60.0]}
    assert params["pick"]["value"] == [{"day": 14}]
    enzymes = next(v for v in spec["vconcat"] if v["title"]["text"] == "Muscle enzymes")
    assert enzymes["layer"][0]["encoding"]["y"]["field"] == "pchg"
    assert "Values on study day 14** (± 2 days)" in shown_text(at)
    [table] = at.dataframe
    assert table.value["Day"].between(12, 16).all() and len(table.value) > 0


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"win": "abc"}, "is not two study days"),
        ({"win": "900,1000"}, "outside this patient's follow-up"),
        ({"day": "soon"}, "is not a whole study day"),
        ({"patient": "NOBODY"}, "is not in this store"),
    ],
)
def test_bad_url_values_get_a_message_and_a_default(default_store, monkeypatch, query, message):
    at = trajectory(default_store, monkeypatch, **({"patient": "SYN-00001"} | query))
    assert message in shown_text(at)
    assert len(at.get("vega_lite_chart")) == 1


def test_a_click_fills_the_table_with_that_days_values(tmp_path, monkeypatch) -> None:
    store = hand_store(
        tmp_path / "hand.duckdb",
        [(-2, "CK", 900.0), (5, "CK", 450.0), (6, "ANC", 0.9), (7, "CART", 32.69),
         (30, "CK", 200.0)],
        events=[("infusion", "CD19 CAR T infusion", 0, 0)],
    )  # fmt: skip
    at = trajectory(store, monkeypatch, patient=PATIENT)
    assert "No day picked." in shown_text(at)
    click(at, 6)
    assert not at.exception
    assert at.query_params["day"] == "6"
    [table] = at.dataframe
    rows = table.value
    # Short names, as the legends give them (the chart's tooltips give the full ones).
    assert rows["Parameter"].tolist() == ["ANC", "CK", "CAR T cells"]
    assert rows["Day"].tolist() == [6, 5, 7]
    assert rows["Value"].tolist() == ["0.9 ×10⁹/L", "450 U/L", "32.69 cells/µL"]
    assert rows["× ULN"].tolist()[1] == pytest.approx(1.79)
    # ANC 0.9 < 1.0: G3; CK 1.79 x ULN: G1. The hand-made store gives no lab range, so both rest
    # on the dictionary's default range and say so; CK's grade comes with the myositis note.
    assert rows["Grade"].tolist()[:2] == ["3 ⚑", "1 ⚑"]
    assert "default reference range" in shown_text(at) and "disease activity" in shown_text(at)
    assert set(rows["Source"]) == {"synthetic"}


def test_baseline_mode_plots_change_as_computed_by_hand(tmp_path, monkeypatch) -> None:
    store = hand_store(
        tmp_path / "hand.duckdb",
        [(-10, "CK", 1000.0), (-2, "CK", 900.0), (5, "CK", 450.0), (28, "CK", 180.0)],
        events=[("infusion", "CD19 CAR T infusion", 0, 0)],
    )
    values = trajectory(store, monkeypatch, patient=PATIENT)
    rows = dataset_of(the_spec(values), "Muscle enzymes")
    assert [r["x_uln"] for r in rows] == pytest.approx(
        [1000 / 252, 900 / 252, 450 / 252, 180 / 252]
    )

    change = trajectory(store, monkeypatch, patient=PATIENT, view="Change")
    spec = the_spec(change)
    enzymes = next(v for v in spec["vconcat"] if v["title"]["text"] == "Muscle enzymes")
    assert enzymes["layer"][0]["encoding"]["y"]["field"] == "chg"
    rows = dataset_of(spec, "Muscle enzymes")
    assert [(r["day"], r["chg"]) for r in rows] == [(-10, 100), (-2, 0), (5, -450), (28, -720)]

    percent = trajectory(
        store, monkeypatch, patient=PATIENT, view="% change", bfrom="-60", bto="-5"
    )
    rows = dataset_of(the_spec(percent), "Muscle enzymes")
    # Baseline window ending at day -5: the baseline is 1000 (day -10).
    assert [(r["day"], r["pchg"]) for r in rows] == [(-10, 0), (-2, -10), (5, -55), (28, -82)]


def test_the_response_strip_follows_the_chosen_criteria(default_store, monkeypatch) -> None:
    title = "Response: TIS and inactive disease (CID)"
    stored = dataset_of(
        the_spec(trajectory(default_store, monkeypatch, patient="SYN-00002")), title, 0
    )
    assert {"major", "moderate", "minimal", "none"} & {r["status"] for r in stored}
    # Only what the strip draws is sent: a scored window is one whose status is a category.
    assert {r["measure_set"] for r in stored if r["status"] != "incomplete"} == {"IMACS"}
    # PRINTO's enzyme slot is CHQ-PhS, which the store does not hold: never a complete score.
    printo = trajectory(default_store, monkeypatch, patient="SYN-00002", tisset="PRINTO")
    rows = dataset_of(the_spec(printo), title, 0)
    assert {r["status"] for r in rows} == {"incomplete"}
    assert all(r["category"] is None for r in rows)
    assert "PRINTO core set" in shown_text(printo)
    # The thresholds are the indication's, not a choice on the page.
    assert "JDM thresholds (30/45/70, from the patient's indication)" in shown_text(printo)
    assert not [s for s in printo.selectbox if s.label == "Response thresholds"]


def test_an_adult_is_scored_with_the_adult_thresholds(tmp_path, monkeypatch) -> None:
    # PGA 6 -> 4.5, parent 5 -> 4, CHAQ 1.5 -> 0.9, extramuscular 4 -> 1, CK 2000 -> 200 and
    # MMT8 112.5 -> 135 of 150 (bilateral): 7.5 + 2.5 + 7.5 + 15 + 7.5 + 20 = TIS 60, major for
    # an adult (>= 60), moderate for a child (tests/test_indications.py).
    store = hand_store(
        tmp_path / "adult.duckdb",
        [(-6, "PGA", 6.0), (90, "PGA", 4.5), (-6, "PARENT_GA", 5.0), (90, "PARENT_GA", 4.0),
         (-6, "CHAQ", 1.5), (90, "CHAQ", 0.9), (-6, "EXTRAMUSC", 4.0), (90, "EXTRAMUSC", 1.0),
         (-6, "CK", 2000.0), (90, "CK", 200.0), (-6, "MMT8", 112.5, None, 150),
         (90, "MMT8", 135.0, None, 150)],
        indication="IIM",
    )  # fmt: skip
    at = trajectory(store, monkeypatch, patient=PATIENT)
    assert not at.exception
    rows = dataset_of(the_spec(at), "Response: TIS and inactive disease (CID)", 0)
    assert [(r["timepoint"], r["status"], r["tis_text"]) for r in rows] == [("M3", "major", "60")]
    assert "adult thresholds (20/40/60, from the patient's indication)" in shown_text(at)


def test_a_lupus_patient_has_a_remission_strip_and_no_tis(tmp_path, monkeypatch) -> None:
    items = {f"SLEDAI_{k}": 0 for k in remission.WEIGHTS}
    store = hand_store(
        tmp_path / "sle.duckdb",
        [*[(-7, c, 1 if c == "SLEDAI_ARTHRITIS" else v) for c, v in items.items()],
         (-7, "PGA_SLE", 2.0), *[(90, c, v) for c, v in items.items()], (90, "PGA_SLE", 0.3),
         (-7, "CK", 100.0), (90, "CK", 90.0)],
        indication="SLE",
        medications=[("Prednisolone", -60, None, 5, "mg/day")],
    )  # fmt: skip
    at = trajectory(store, monkeypatch, patient=PATIENT)
    assert not at.exception
    spec = the_spec(at)
    titles = [v["title"]["text"] for v in spec["vconcat"]]
    assert "Remission and low disease activity" in titles
    assert "Response: TIS and inactive disease (CID)" not in titles
    rows = dataset_of(spec, "Remission and low disease activity", 0)
    shown = {(r["timepoint"], r["definition"]): r["result"] for r in rows}
    # Month 3: no item present and PGA 0.3 on prednisolone 5 mg/day: DORIS and LLDAS met.
    assert shown[("M3", "DORIS 2021")] == "met" and shown[("M3", "LLDAS")] == "met"
    assert shown[("Baseline", "DORIS 2021")] == "not met"
    assert "DORIS 2021: clinical SLEDAI 0" in shown_text(at)


def test_recovery_and_kinetics_figures_are_shown(default_store, monkeypatch) -> None:
    at = trajectory(default_store, monkeypatch, patient="SYN-00002")
    text = shown_text(at)
    assert "CAR T Cmax" in text and "ANC nadir" in text and "B-cell aplasia" in text
