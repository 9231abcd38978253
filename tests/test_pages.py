"""Every page renders under AppTest on the default and the empty store, and says the right thing."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from carta.store import ROOT
from tests.conftest import DEFAULT_PATIENT_COUNT, PUBLISHED_ID

PAGES = [
    "pages/home.py",
    "pages/trajectory.py",
    "pages/summary.py",
    "pages/cohort.py",
    "pages/safety.py",
    "pages/data.py",
]


def app_on(store: Path, monkeypatch: pytest.MonkeyPatch, **query: str) -> AppTest:
    monkeypatch.setenv("CARTA_STORE", str(store))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    return at


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += (
        [e.value for e in at.info] + [w.value for w in at.warning] + [e.value for e in at.error]
    )
    return "\n".join(str(p) for p in parts)


def chart_specs(at: AppTest) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("vega_lite_chart")]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("store_name", ["default_store", "empty_store"])
def test_every_page_renders(page, store_name, request, monkeypatch) -> None:
    at = app_on(request.getfixturevalue(store_name), monkeypatch)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    if store_name == "empty_store" and page != "pages/data.py":
        assert "no patients" in texts(at)


def test_home_lists_the_published_case_first_with_its_source(default_store, monkeypatch) -> None:
    at = app_on(default_store, monkeypatch).run()
    table = at.dataframe[0].value
    assert len(table) == DEFAULT_PATIENT_COUNT  # the published case and the synthetic patients
    assert table["open"].iloc[0] == "trajectory?patient=NICOLAI-2024"
    assert table["source"].iloc[0] == "published"
    assert set(table["source"].iloc[1:]) == {"synthetic"}
    assert table["follow_up"].iloc[0] == "eight months (as reported; day not given)"
    assert "10.1002/art.42933" in texts(at)


def test_published_case_page_shows_only_what_was_reported(default_store, monkeypatch) -> None:
    at = app_on(default_store, monkeypatch, patient=PUBLISHED_ID).run()
    at.switch_page("pages/trajectory.py").run()
    assert not at.exception
    assert at.selectbox(key="patient").value == PUBLISHED_ID
    shown = texts(at)
    assert "Synthetic patient" not in shown
    assert "not detected, no count reported" in shown
    assert "drug-free" in shown
    assert "Leukapheresis" in shown and "Reported, day not given" in shown
    [spec] = chart_specs(at)
    assert [v["title"]["text"] for v in spec["vconcat"]] == [
        "Course and adverse events",
        "CAR T cells (cells/µL)",
        "CD19+ B cells (cells/µL)",
    ]
    assert (
        "No data for this patient: response criteria; autoantibody results; muscle enzymes; "
        "blood counts; IgG; clinical scores; MRI." in shown
    )
    assert "CAR T Cmax** 32.69 cells/µL, Tmax day 7" in shown
    # Only what the abstract supports: one value gives no AUC and no "last detectable" day; the
    # marrow depletion keeps its words ("week 2"); the recovery is reported without a day.
    assert "**AUC0–28** not evaluable (fewer than two values on days 0-28)" in shown
    assert "**Last measured** day 7 (still detectable)" in shown and "Last detectable" not in shown
    assert "(bone marrow), week 2 (as reported, no exact day): not detected" in shown
    assert "**B-cell recovery** reported, day not given" in shown
    assert "not among the recorded values" not in shown


def test_synthetic_patient_page_is_labelled_synthetic(default_store, monkeypatch) -> None:
    at = app_on(default_store, monkeypatch, patient="SYN-00003").run()
    at.switch_page("pages/trajectory.py").run()
    assert not at.exception
    assert "Synthetic patient" in texts(at)
    assert len(chart_specs(at)) == 1


def test_unknown_patient_in_the_url_gets_a_message_and_a_default(default_store, monkeypatch):
    at = app_on(default_store, monkeypatch, patient="NOBODY").run()
    at.switch_page("pages/trajectory.py").run()
    assert not at.exception
    assert "NOBODY" in texts(at)
    assert at.selectbox(key="patient").value == PUBLISHED_ID


def test_a_store_of_another_schema_shows_a_message_not_a_traceback(tmp_path, monkeypatch):
    path = tmp_path / "foreign.duckdb"
    duckdb.connect(str(path)).close()
    at = app_on(path, monkeypatch).run()
    assert not at.exception
    assert "not a Carta store" in at.error[0].value


def test_a_missing_store_is_built_on_first_start(tmp_path, monkeypatch) -> None:
    at = app_on(tmp_path / "new" / "carta.duckdb", monkeypatch).run()
    assert not at.exception
    assert (tmp_path / "new" / "carta.duckdb").is_symlink()
    assert len(at.dataframe[0].value) == DEFAULT_PATIENT_COUNT


def test_the_patient_search_filters_the_list_and_lives_in_the_url(default_store, monkeypatch):
    at = app_on(default_store, monkeypatch, q="nxp2").run()
    table = at.dataframe[0].value
    assert 0 < len(table) < 25
    assert set(table["autoantibody"]) == {"anti-NXP2"}
    at.text_input(key="q").set_value("no such patient").run()
    assert not at.exception
    assert "No patient matches" in texts(at)


def test_every_page_goes_through_the_app_shell() -> None:
    for page in (ROOT / "pages").glob("*.py"):
        assert "ui.require_shell()" in page.read_text(encoding="utf-8"), page.name
