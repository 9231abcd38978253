"""The case summary under AppTest: the published case by default, presentation mode from the URL,
and an export button for every file."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from carta import ui_summary
from carta.measures import remission
from tests.conftest import PUBLISHED_ID, open_page
from tests.handmade import PATIENT, hand_store


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


def footer(at: AppTest) -> str:
    """The slide's footer (an HTML paragraph after the page's style)."""
    [html] = [h.proto.body for h in at.get("html") if h.proto.body.startswith("<p>")]
    return html


def test_presentation_mode_is_a_slide_show_that_hides_the_id(default_store, monkeypatch) -> None:
    at = open_page(default_store, monkeypatch, "pages/summary.py", patient="SYN-00002", present="1")
    text = shown_text(at)
    assert at.header[0].value.startswith("Patient 1: ")
    assert "SYN-00002" not in text and "Synthetic patient" in text
    assert "**Slide 1 of 7** · Case summary\\: Patient 1" in text
    # The title slide: the header and every key figure with its detail line, and no chart.
    assert "**Lymphodepletion:**" in text and "**Follow-up:**" in text
    assert "withdrawn day -21; none restarted by the last contact (day 184)" in text
    assert not at.get("vega_lite_chart")
    # The footer on every slide: label, source, data cut, and the stamp.
    assert "Patient 1." in footer(at) and "Data cut" in footer(at)
    assert 'class="synthetic-stamp">SYNTHETIC<' in footer(at)
    # The toggle is gone; the chooser stays, hidden, so that the link keeps the patient.
    assert not at.toggle and [b.key for b in at.selectbox] == ["patient"]
    assert at.selectbox(key="patient").value == "SYN-00002"
    style = next(h.proto.body for h in at.get("html") if "presenter" in h.proto.body)
    assert f".st-key-{ui_summary.HIDDEN_CONTROLS}" in style
    assert at.button(key="slide-previous").disabled and not at.button(key="slide-next").disabled


def test_next_and_previous_step_through_the_slides_in_the_url(default_store, monkeypatch) -> None:
    at = open_page(default_store, monkeypatch, "pages/summary.py", patient="SYN-00002", present="1")
    at.button(key="slide-next").click().run()
    assert at.query_params["slide"] == ["2"] or at.query_params["slide"] == "2"
    assert len(at.get("vega_lite_chart")) == 1
    assert "Course and adverse events" in shown_text(at)
    assert "SYN-00002" not in shown_text(at) and "Patient 1." in footer(at)
    for _ in range(5):
        at.button(key="slide-next").click().run()
    assert "**Slide 7 of 7** · Adverse events" in shown_text(at)
    assert at.button(key="slide-next").disabled and not at.get("vega_lite_chart")
    [table] = at.table
    adverse = table.value
    assert list(adverse.columns) == ["Event", "Grade", "Grading", "When", "Note"]
    assert adverse.iloc[0]["Event"] == "Cytokine release syndrome"
    assert adverse.iloc[0]["Grade"] == "grade 2"
    at.button(key="slide-previous").click().run()
    assert "**Slide 6 of 7** · MRI" in shown_text(at)


def test_a_slide_from_the_url_and_one_that_is_not_there(default_store, monkeypatch) -> None:
    at = open_page(default_store, monkeypatch, "pages/summary.py", patient="SYN-00002",
                   present="1", slide="3")  # fmt: skip
    assert "**Slide 3 of 7** · Muscle enzymes" in shown_text(at)
    assert len(at.get("vega_lite_chart")) == 1
    at = open_page(default_store, monkeypatch, "pages/summary.py", patient="SYN-00002",
                   present="1", slide="99")  # fmt: skip
    assert "**Slide 1 of 7**" in shown_text(at)
    assert "There is no slide 99 (there are 7); this is the first." in shown_text(at)


def test_the_published_case_ends_on_its_own_words(default_store, monkeypatch) -> None:
    at = open_page(default_store, monkeypatch, "pages/summary.py", present="1", slide="99")
    last = int(shown_text(at).split("**Slide 1 of ")[1].split("**")[0])
    at = open_page(default_store, monkeypatch, "pages/summary.py", present="1", slide=str(last))
    text = shown_text(at)
    assert "What the source reports in words" in text
    assert "Sustained immunosuppressive-drug-free clinical and radiologic improvement." in text
    assert "synthetic-stamp" not in footer(at) and "doi:10.1002/art.42933" in footer(at)


def test_the_toggle_turns_presentation_on_in_the_url(default_store, monkeypatch) -> None:
    at = open_page(default_store, monkeypatch, "pages/summary.py", patient="SYN-00002")
    at.toggle(key="present-toggle").set_value(True).run()
    assert at.query_params["present"] == "1"
    assert at.header[0].value.startswith("Patient 1: ")


def test_a_lupus_patient_gets_remission_and_glucocorticoid_cards(tmp_path, monkeypatch) -> None:
    items = {f"SLEDAI_{k}": 0 for k in remission.WEIGHTS}
    store = hand_store(
        tmp_path / "sle.duckdb",
        [*[(-7, c, 1 if c == "SLEDAI_ARTHRITIS" else v) for c, v in items.items()],
         (-7, "PGA_SLE", 2.0), *[(90, c, v) for c, v in items.items()], (90, "PGA_SLE", 0.3)],
        indication="SLE",
        # 10 mg/day to day 29, 5 mg/day from day 30 on: 300 + 5 x 211 = 1,355 mg from day 0.
        medications=[("Prednisolone", -60, 29, 10, "mg/day"), ("Prednisolone", 30, None, 5,
                                                               "mg/day")],
    )  # fmt: skip
    at = open_page(store, monkeypatch, "pages/summary.py", patient=PATIENT)
    assert not at.exception
    text = shown_text(at)
    assert "DORIS 2021" in text and "yes at M3" in text and "met at M3" in text
    assert "Glucocorticoids" in text and "5 mg/day" in text and "1,355 mg" in text
    # No TIS for lupus: the myositis cards are not shown.
    assert "TIS category" not in text and "Inactive disease (CID)" not in text
