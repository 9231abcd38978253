"""Property tests for the inputs issue 13 names: numbers of any size or kind, URL values of any
text, files of any bytes. Nothing raises, nothing non-finite or out of bounds is stored, nothing
personal or dated reaches a quarantine file, and no URL value is echoed as live Markdown."""

from __future__ import annotations

import math
import re

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carta import urlstate
from carta.dictionary import column_bounds
from carta.ingest import personal
from carta.ingest.importer import import_files
from carta.ingest.problems import DATE_IN_TEXT
from carta.ingest.reading import batches
from carta.store import open_read_only

hostile_numbers = st.one_of(
    st.sampled_from(["inf", "-inf", "nan", "1e309", "-1e309", "1e308", "-0", "0", "", "1e-320"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**30), 10**30).map(str),
)
url_text = st.text(max_size=200) | st.sampled_from(
    ["[x](http://evil.example)", "![i](http://evil.example/p.png)", "<script>1</script>", "nan"]
)


@given(st.dictionaries(st.sampled_from([*sorted(urlstate.NUMBERS), "q", "tw"]), url_text))
def test_a_url_value_that_passes_is_in_range_and_a_message_never_echoes_markdown(query) -> None:
    problems = urlstate.url_problems(query)
    for key, text in query.items():
        if key in urlstate.NUMBERS and key not in problems:
            low, high, whole = urlstate.NUMBERS[key]
            value = float(text)
            assert math.isfinite(value) and low <= value <= high
            assert not whole or value == int(value)
    for message in problems.values():
        assert not re.search(r"(?<!\\)\]\(", message)


@given(url_text)
def test_parsed_url_state_is_finite_or_absent(text) -> None:
    window = urlstate.study_window(text, (-30, 300)).value
    assert window is None or all(math.isfinite(v) for v in window)
    brush = urlstate.brush(text).value
    assert brush is None or all(math.isfinite(v) for v in brush)
    for parsed in (urlstate.study_window(text, (-30, 300)), urlstate.brush(text),
                   urlstate.study_day(text, (-30, 300))):  # fmt: skip
        assert parsed.problem is None or not re.search(r"(?<!\\)\]\(", parsed.problem)


@settings(max_examples=12)
@given(age=hostile_numbers, days=hostile_numbers)
def test_no_non_finite_or_out_of_bounds_number_is_stored(tmp_path_factory, age, days) -> None:
    folder = tmp_path_factory.mktemp("numbers")
    from carta.build import build_store

    store = build_store(folder / "s" / "carta.duckdb", n_patients=0,
                        include_published=False).path  # fmt: skip
    (folder / "sources.csv").write_text("source_id,kind,citation\nsite-a,site,Site A\n")
    (folder / "patients.csv").write_text(
        "patient_id,source_id,cohort,sex,synthetic,age_years,follow_up_days\n"
        f"A-001,site-a,demo,F,false,{age},{days}\n"
    )
    import_files([folder / "sources.csv", folder / "patients.csv"], store)
    con = open_read_only(store)
    try:
        stored = con.execute("SELECT age_years, follow_up_days FROM patients").fetchall()
    finally:
        con.close()
    bounds = column_bounds().set_index(["table", "column"])
    for age_years, follow_up in stored:
        for value, column in ((age_years, "age_years"), (follow_up, "follow_up_days")):
            if value is not None:
                low, high = bounds.loc[("patients", column), ["low", "high"]]
                assert math.isfinite(value) and low <= value <= high


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
@settings(max_examples=40)
@given(st.binary(max_size=400))
def test_any_bytes_are_read_or_refused_never_mis_decoded(tmp_path_factory, tail) -> None:
    path = tmp_path_factory.mktemp("bytes") / "observations.csv"
    path.write_bytes("patient_id,note\nA-1,Müller\n".encode() + tail)
    problems: list = []
    try:
        frames = list(batches(path, problems))
    except Exception as error:
        assert type(error).__name__ == "UnreadableFile", error
        return
    notes = [n for frame in frames for n in frame.get("note", pd.Series(dtype=str))]
    assert "MÃ¼ller" not in notes  # a UTF-8 file is never read whole as Windows-1252


names = st.sampled_from(["Patient Name", "DOB", "MRN", "Geburtsdatum", "e-mail", "CK", "note",
                         "visit date", "LBDTC", "USUBJID", "comment"])  # fmt: skip
cells = st.one_of(st.text(max_size=20), st.sampled_from(["2012-05-03", "03/05/2012",
                                                         "Müller, Hans", "12MAR2014"]))  # fmt: skip


@given(st.dictionaries(names, st.lists(cells, min_size=1, max_size=4), min_size=1))
def test_a_quarantine_frame_holds_no_personal_column_date_or_name_like_id(columns) -> None:
    width = min(len(v) for v in columns.values())
    frame = pd.DataFrame({k: v[:width] for k, v in columns.items()})
    out = personal.for_quarantine(frame)
    assert not any(personal.is_personal(c) or personal.is_date_column(c) for c in out.columns)
    for column in out.columns:
        for value in out[column].dropna():
            assert not DATE_IN_TEXT.search(str(value))
            if column == "USUBJID":
                assert not personal.looks_like_name_or_date(value) or value == personal.WITHHELD
