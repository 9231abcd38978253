"""Reading imported files as text: the shapes clinics' CSV exports come in, a batch at a time."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from carta.ingest import reading
from carta.ingest.carta_format import Problem, read_table_csv
from tests.handmade import file_header

HEADER = file_header("observations")
ROW = "P1,{day},CK,120,U/L,,,blood,,src,{note}"


def rows_of(path: Path) -> tuple[pd.DataFrame, list[Problem]]:
    problems: list[Problem] = []
    return reading.read_whole(path, problems), problems


def test_semicolons_a_byte_order_mark_and_windows_1252_are_read(tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_bytes("patient_id;day;note\r\nP1;7;Müller’s – 5 µkat/L\r\n".encode("cp1252"))
    assert b"\x92" in path.read_bytes()  # the apostrophe as Windows-1252 writes it: not UTF-8
    frame, problems = rows_of(path)
    assert problems == []
    assert list(frame.columns) == ["patient_id", "day", "note"]
    assert frame.loc[2].tolist() == ["P1", "7", "Müller’s – 5 µkat/L"]

    utf8 = tmp_path / "utf8.csv"
    utf8.write_bytes(b"\xef\xbb\xbf" + b"patient_id;day\nP2;14\n")
    frame, _ = rows_of(utf8)
    assert list(frame.columns) == ["patient_id", "day"] and frame.loc[2, "day"] == "14"


def test_blank_lines_keep_the_line_numbers_true(tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_text("a,b\n1,2\n\n3,4\n5\n", encoding="utf-8")
    frame, problems = rows_of(path)
    assert frame.index.tolist() == [2, 4]
    assert [(p.row, p.value) for p in problems] == [(5, "5")]


def test_the_separator_is_found_with_quotes_respected(tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_text('"a,b,c";d\n1;2\n', encoding="utf-8")
    assert reading.header(path) == ["a,b,c", "d"]


def test_a_blank_first_line_says_where_the_header_should_be(tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_text("\npatient_id,day\nP1,1\n", encoding="utf-8")
    with pytest.raises(reading.UnreadableFile, match="line 1 is empty"):
        reading.header(path)


def test_rows_of_the_wrong_width_are_reported_at_their_line_and_the_rest_go_on(tmp_path) -> None:
    path = tmp_path / "observations.csv"
    two_lines = ROW.format(day=3, note='"two\nlines"')
    wide = ROW.format(day=2, note="") + ",extra"
    lines = [
        HEADER,
        ROW.format(day=1, note=""),
        wide,
        two_lines,
        "P1,4",
        ROW.format(day=5, note=""),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = read_table_csv(path, "observations")
    assert result.rows["day"].tolist() == [1, 3, 5]
    # The quoted line break keeps its row one line number, as a spreadsheet counts rows.
    assert result.rows.index.tolist() == [2, 4, 6]
    assert [(p.row, p.value, p.reason) for p in result.problems] == [
        (3, wide, "12 fields where the header has 11; refused"),
        (5, "P1,4", "2 fields where the header has 11; refused"),
    ]


def test_line_numbers_run_on_across_batches(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(reading, "BATCH_BYTES", 256)
    path = tmp_path / "observations.csv"
    lines = [ROW.format(day=day, note="") for day in range(40)]
    lines[25] = "P1,25,CK"
    path.write_text(HEADER + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    parts = list(reading.batches(path, problems := []))
    assert len(parts) > 3
    frame = pd.concat(parts)
    assert frame.index.tolist() == [n + 2 for n in range(40) if n != 25]
    assert (frame["day"].astype(int) + 2 == frame.index).all()
    assert [p.row for p in problems] == [27]


def test_duplicate_and_blank_header_names_are_made_unique(tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_text("patient_id,CK,CK,,CK.1\nP1,1,2,3,4\n", encoding="utf-8")
    assert reading.header(path) == ["patient_id", "CK", "CK.2", "Unnamed: 3", "CK.1"]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("observations.xlsx", b"not a zip file", "cannot be read as an Excel workbook"),
        ("observations.csv", b"\x81\x8d\x8f\x90\x9d,\x00\n", "cannot be read as CSV"),
    ],
)
def test_an_unreadable_file_says_why(tmp_path, name, content, reason) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(reading.UnreadableFile, match=reason):
        rows_of(path)


def test_an_empty_file_has_no_columns_and_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "observations.csv"
    path.write_bytes(b"")
    assert reading.header(path) == []
    frame, problems = rows_of(path)
    assert frame.empty and problems == []
