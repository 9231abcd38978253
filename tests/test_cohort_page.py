"""The cohort explorer under AppTest: the URL holds the view, chips remove what they name, and a
selection in one chart narrows the others."""

from __future__ import annotations

import json
import re

import pandas as pd
import pyarrow as pa
from streamlit.proto.WidgetStates_pb2 import WidgetStates
from streamlit.testing.v1 import AppTest

from carta import urlstate
from carta.store import open_read_only, run_query
from tests.conftest import DEFAULT_PATIENT_COUNT, open_page


def cohort_page(store, monkeypatch, **query) -> AppTest:
    return open_page(store, monkeypatch, "pages/cohort.py", **query)


def counted(at: AppTest) -> tuple[int, int]:
    text = next(m.value for m in at.markdown if " patients**" in m.value)
    shown, total = re.match(r"\*\*([\d,]+) of ([\d,]+) patients", text).groups()
    return int(shown.replace(",", "")), int(total.replace(",", ""))


def chips(at: AppTest) -> list[str]:
    return [b.label for b in at.button if b.label.endswith("✕")]


def spec_with_param(at: AppTest, name: str) -> tuple[object, dict]:
    for chart in at.get("vega_lite_chart"):
        spec = json.loads(chart.proto.spec)
        names = [p["name"] for p in spec.get("params", [])]
        names += [p["name"] for layer in spec.get("layer", []) for p in layer.get("params", [])]
        if name in names:
            return chart, spec
    raise AssertionError(f"no chart with the parameter {name}")


def select(at: AppTest, param: str, selection: object) -> AppTest:
    """Send what the browser sends after a selection in a chart (private AppTest API)."""
    chart, _ = spec_with_param(at, param)
    injected = WidgetStates()
    injected.CopyFrom(at._tree.get_widget_states())
    state = injected.widgets.add()
    state.id = chart.proto.id
    state.string_value = json.dumps({"selection": {param: selection}})
    return at._run(widget_state=injected)


def chart_rows(chart) -> pd.DataFrame:
    """The rows a chart was sent (Streamlit ships its data sets apart, as Arrow)."""
    frames = [pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in chart.proto.datasets]
    return pd.concat(frames, ignore_index=True)


def waterfall_patients(at: AppTest) -> int:
    caption = next(c.value for c in at.caption if "Colour: TIS category" in c.value)
    return int(re.match(r"([\d,]+) patients", caption).group(1).replace(",", ""))


def test_the_url_restores_filters_settings_and_selections(default_store, monkeypatch) -> None:
    at = cohort_page(
        default_store, monkeypatch, sex="F", param="LDH", show="% change",
        tps=["Baseline", "M1", "M3"], cat="M3:major", brush="1.8,3.2,-90,0",
    )  # fmt: skip
    assert at.multiselect(key="sex").value == ["F"]
    assert at.selectbox(key="param").value == "LDH"
    assert at.multiselect(key="tps").value == ["Baseline", "M1", "M3"]
    assert chips(at) == ["Sex: F ✕", "Value range: -90–0 ✕", "Response: major at M3 ✕"]
    _, distribution = spec_with_param(at, "brush")
    assert distribution["params"][0]["value"] == {"x": [1.8, 3.2], "y": [-90.0, 0.0]}
    assert distribution["layer"][0]["encoding"]["y"]["title"] == "% change in Lactate dehydrogenase"
    shown, total = counted(at)
    assert 0 < shown < total == DEFAULT_PATIENT_COUNT


def test_a_chip_removes_its_filter_and_its_url_key(default_store, monkeypatch) -> None:
    at = cohort_page(default_store, monkeypatch, sex="F", cat="M3:major")
    narrowed = counted(at)[0]
    next(b for b in at.button if b.label == "Response: major at M3 ✕").click().run()
    assert "cat" not in at.query_params
    widened = counted(at)[0]
    assert widened > narrowed
    next(b for b in at.button if b.label == "Sex: F ✕").click().run()
    assert at.multiselect(key="sex").value == []
    assert counted(at) == (DEFAULT_PATIENT_COUNT, DEFAULT_PATIENT_COUNT) and chips(at) == []


def test_clicking_a_response_category_narrows_the_other_views_only(
    default_store, monkeypatch
) -> None:
    at = cohort_page(default_store, monkeypatch, tps=["Baseline", "M1", "M3", "M6"])
    before = waterfall_patients(at)
    drawn_before = chart_rows(spec_with_param(at, "category")[0])
    at = select(at, "category", [{"timepoint": "M3", "category": "moderate"}])
    assert not at.exception
    assert at.query_params["cat"] == "M3:moderate"
    assert "Response: moderate at M3 ✕" in chips(at)
    after = waterfall_patients(at)
    assert 0 < after < before
    assert counted(at)[0] == after
    # The response chart leaves its own selection out: it draws what it drew before.
    drawn_after = chart_rows(spec_with_param(at, "category")[0])
    assert {"major", "moderate"} <= set(drawn_after["category"])
    assert drawn_after[["timepoint", "category", "patients"]].equals(
        drawn_before[["timepoint", "category", "patients"]]
    )


def test_edited_windows_come_from_the_url_and_bad_state_says_so(default_store, monkeypatch):
    at = cohort_page(
        default_store, monkeypatch,
        tw="Baseline:0:-60:0;Week 2:14:8:20;Month 3:90:60:120", brush="nonsense",
    )  # fmt: skip
    assert at.multiselect(key="tps").options == ["Baseline", "Week 2", "Month 3"]
    assert any("edited" in e.label for e in at.expander)
    assert any("The value range “nonsense”" in w.value for w in at.warning)
    assert any("recomputed with the edited windows" in c.value for c in at.caption)
    at = cohort_page(default_store, monkeypatch, tw="Baseline:0:x")
    assert any("cannot be read" in w.value for w in at.warning)
    assert at.multiselect(key="tps").options[0] == "Baseline"


def test_a_brush_and_picked_lanes_narrow_the_cohort_but_not_their_own_view(
    default_store, monkeypatch
) -> None:
    at = cohort_page(default_store, monkeypatch)
    points_before = len(chart_rows(spec_with_param(at, "brush")[0]))
    # A brush over the Baseline points (position 1) from 0 to 400 U/L.
    at = select(at, "brush", {"jittered": [0.5, 1.5], "plotted": [0, 400]})
    assert at.query_params["brush"] == "0.5,1.5,0,400"
    brushed = counted(at)[0]
    assert 0 < brushed < DEFAULT_PATIENT_COUNT
    at.session_state["values-shown-open"] = True  # the table of the values shown, drawn
    at.run()
    assert at.query_params["brush"] == "0.5,1.5,0,400" and counted(at)[0] == brushed
    shown = next(d.value for d in at.dataframe if "USUBJID" in d.value.columns)
    baseline = shown[shown["AVISIT"] == "Baseline"]
    assert shown["USUBJID"].nunique() == brushed == len(baseline)
    assert baseline["AVAL"].le(400).all()
    # The distribution still draws every point: its own brush is left out there.
    assert len(chart_rows(spec_with_param(at, "brush")[0])) == points_before

    next(b for b in at.button if b.label.startswith("Value range:")).click().run()
    lanes_drawn = len(chart_rows(spec_with_param(at, "lanes")[0]))
    at = select(at, "lanes", [{"patient_id": "SYN-00001"}, {"patient_id": "NICOLAI-2024"}])
    assert at.query_params["lanes"] == "SYN-00001,NICOLAI-2024"
    assert chips(at) == ["Patients picked: SYN-00001, NICOLAI-2024 ✕"]
    assert counted(at)[0] == 2
    assert len(chart_rows(spec_with_param(at, "lanes")[0])) == lanes_drawn


def test_a_selection_cleared_by_its_chip_can_be_picked_again(default_store, monkeypatch) -> None:
    at = cohort_page(default_store, monkeypatch)
    picked = [{"timepoint": "M3", "category": "major"}]
    at = select(at, "category", picked)
    narrowed = counted(at)[0]
    next(b for b in at.button if b.label == "Response: major at M3 ✕").click().run()
    assert "cat" not in at.query_params and counted(at)[0] == DEFAULT_PATIENT_COUNT
    at = select(at, "category", picked)
    assert at.query_params["cat"] == "M3:major" and counted(at)[0] == narrowed


def test_a_range_filter_has_a_chip_too(default_store, monkeypatch) -> None:
    at = cohort_page(default_store, monkeypatch)
    full = at.slider(key="age").value
    at.slider(key="age").set_value((8.0, 12.0)).run()
    narrowed = counted(at)[0]
    assert 0 < narrowed < DEFAULT_PATIENT_COUNT and "Age: 8–12 ✕" in chips(at)
    next(b for b in at.button if b.label == "Age: 8–12 ✕").click().run()
    assert (
        counted(at) == (DEFAULT_PATIENT_COUNT, DEFAULT_PATIENT_COUNT)
        and at.slider(key="age").value == full
    )


def test_renamed_windows_keep_the_first_as_the_baseline_of_the_response(
    default_store, monkeypatch
) -> None:
    at = cohort_page(default_store, monkeypatch, tw="Start:0:-60:0;Month 3:90:76:135")
    rows = chart_rows(spec_with_param(at, "category")[0])
    assert set(rows["timepoint"]) == {"Month 3"} and rows["patients"].sum() > 0
    table = next(d.value for d in at.dataframe if "n evaluable (TIS)" in d.value.columns)
    assert table.set_index("timepoint").loc["Month 3", "n evaluable (TIS)"] > 0


def test_a_changed_widget_redraws_every_chart_and_table(default_store, monkeypatch) -> None:
    """Tables and charts are shared by the sessions in the same state; on a rerun after a widget
    changed, the server's query string can still be the old one, so the state is the widgets'."""

    names = {"CK": "Creatine kinase", "LDH": "Lactate dehydrogenase"}

    def drawn_codes(at: AppTest) -> set[str]:
        """The parameters the distribution's axis names (its data carry what it draws only)."""
        text = json.dumps(spec_with_param(at, "brush")[1])
        return {code for code, name in names.items() if name in text}

    def threshold(at: AppTest) -> pd.DataFrame:
        return next(d.value for d in at.dataframe if "n with a value" in d.value.columns)

    at = cohort_page(default_store, monkeypatch)
    assert drawn_codes(at) == {"CK"}
    ck_threshold = threshold(at)
    at.selectbox(key="param").set_value("LDH").run()
    assert drawn_codes(at) == {"LDH"}
    assert any(c.value.startswith("LDH ≤ ULN") for c in at.caption)
    assert not threshold(at).equals(ck_threshold)
    at.selectbox(key="param").set_value("CK").run()
    assert drawn_codes(at) == {"CK"} and threshold(at).equals(ck_threshold)


def test_an_unknown_filter_value_in_the_link_is_said(default_store, monkeypatch) -> None:
    at = cohort_page(default_store, monkeypatch, dx="Lupus [x](http://host)")
    [warning] = [w.value for w in at.warning if "not among this store's values" in w.value]
    assert warning.startswith("Diagnosis “Lupus \\[x\\]")  # escaped: no live link
    assert counted(at) == (DEFAULT_PATIENT_COUNT, DEFAULT_PATIENT_COUNT)  # and it filters nothing


def test_applying_the_stores_own_windows_is_not_an_edit(default_store, monkeypatch) -> None:
    at = cohort_page(default_store, monkeypatch)
    assert not any("edited" in e.label for e in at.expander)
    at.button(key="tw-apply").click().run()
    assert "tw" not in at.query_params
    assert not any("edited" in e.label for e in at.expander)
    assert any("with the store's windows" in c.value for c in at.caption)
    # The store's windows written out in the link are the store's windows too.
    stored = urlstate.format_windows(
        ui_query(default_store, "timepoint_windows")[urlstate.WINDOW_COLUMNS]
    )
    at = cohort_page(default_store, monkeypatch, tw=stored)
    assert not any("edited" in e.label for e in at.expander)


def ui_query(store, name: str) -> pd.DataFrame:
    con = open_read_only(store)
    try:
        return run_query(con, name)
    finally:
        con.close()


def test_the_adverse_event_table_speaks_in_words(default_store, monkeypatch) -> None:
    at = cohort_page(default_store, monkeypatch)
    [table] = [t.value for t in at.dataframe if "Event" in t.value.columns]
    assert {"Patients, any grade", "Grade 3", "Grade ≥3", "Grading"} <= set(table.columns)
    assert not [c for c in table.columns if "_" in c]


def test_the_values_table_is_drawn_when_opened_and_holds_the_values_shown(
    default_store, monkeypatch
) -> None:
    at = cohort_page(default_store, monkeypatch)
    [expander] = [e for e in at.expander if e.label.startswith("Values shown")]
    assert len(expander.dataframe) == 0  # closed: not drawn
    rows = int(expander.label.split("(")[1].split()[0].replace(",", ""))
    at.session_state["values-shown-open"] = True
    at.run()
    [expander] = [e for e in at.expander if e.label.startswith("Values shown")]
    [table] = expander.dataframe
    assert not at.exception and len(table.value) == min(rows, 1000) > 0
    assert {"USUBJID", "PARAMCD", "AVAL", "SRCKIND"} <= set(table.value.columns)


def test_with_a_brush_the_other_views_follow_the_parameter_it_brushes(
    default_store, monkeypatch
) -> None:
    """The swimmer plot is cached apart from the parameter, except under a brush, which keeps
    patients by their values of it: after the parameter changes, the lanes are the patients
    whose values of the new parameter lie in the brush."""

    def lanes_and_brushed(at: AppTest) -> tuple[set[str], set[str]]:
        at.session_state["values-shown-open"] = True  # the table of the values shown, drawn
        at.run()
        shown = next(d.value for d in at.dataframe if "USUBJID" in d.value.columns)
        lanes = set(chart_rows(spec_with_param(at, "lanes")[0])["patient_id"].dropna())
        return lanes, set(shown["USUBJID"])

    at = cohort_page(default_store, monkeypatch, brush="0.5,1.5,0,400", nlanes="200")
    lanes_ck, brushed_ck = lanes_and_brushed(at)
    assert lanes_ck == brushed_ck and 0 < len(brushed_ck) < DEFAULT_PATIENT_COUNT
    at.selectbox(key="param").set_value("LDH").run()
    lanes_ldh, brushed_ldh = lanes_and_brushed(at)
    assert brushed_ldh != brushed_ck  # the brush keeps other patients by their LDH
    assert lanes_ldh == brushed_ldh
