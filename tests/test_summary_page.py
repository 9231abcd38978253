"""The case summary under AppTest: the published case by default, presentation mode from the URL,
and an export button for every file."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from carta import ui_summary
from tests.conftest import PUBLISHED_ID, open_page


def shown_text(at: AppTest) -> str:
    parts = [h.value for h in at.header] + [m.value for m in at.markdown]
    parts += [c.value for c in at.caption] + [w.value for w in at.warning]
    return "\n".join(str(p) for p in parts)


def test_with_no_patient_chosen_it_shows_the_published_case(default_store, monkeypatch) -> None:
    at = open_page(default_store, monkeypatch, "pages/summary.py")
    assert at.selectbox(key="patient").value == PUBLISHED_ID
    text = shown_text(at)
    assert at.header[0].value.startswith(f"{PUBLISHED_ID}: Juvenile dermatomyositis")
    assert "**32.69 cells/µL**" in text and "**day 7**" in text
    assert "**:gray[not reported]**" in text  # e.g. B-cell aplasia duration
    assert "doi:10.1002/art.42933" in text and "Synthetic patient" not in text
    labels = {b.label for b in at.get("download_button")}
    assert {"Summary as PDF", "Summary as slides (PPTX)", "PNG", "SVG"} <= labels


def test_presentation_mode_hides_the_id_and_the_controls(default_store, monkeypatch) -> None:
    at = open_page(default_store, monkeypatch, "pages/summary.py", patient="SYN-00002", present="1")
    text = shown_text(at)
    assert at.header[0].value.startswith("Patient 1: ")
    assert "SYN-00002" not in text and "Patient 1." in text
    assert "Synthetic patient" in text
    # The toggle is gone; the chooser stays, hidden, so that the link keeps the patient.
    assert not at.toggle and [b.key for b in at.selectbox] == ["patient"]
    assert at.selectbox(key="patient").value == "SYN-00002"
    style = next(h.proto.body for h in at.get("html") if "stSidebar" in h.proto.body)
    assert f".st-key-{ui_summary.HIDDEN_CONTROLS}" in style
    specs = at.get("vega_lite_chart")
    assert len(specs) == 5


def test_the_toggle_turns_presentation_on_in_the_url(default_store, monkeypatch) -> None:
    at = open_page(default_store, monkeypatch, "pages/summary.py", patient="SYN-00002")
    at.toggle(key="present-toggle").set_value(True).run()
    assert at.query_params["present"] == "1"
    assert at.header[0].value.startswith("Patient 1: ")
