"""Property tests: random and malformed files never crash the importer, and an accepted row is
stored exactly as it was written (units aside, which are converted and say so)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carta.build import build_store
from carta.dictionary import code_lookup, resolve_code
from carta.ingest.importer import import_files
from carta.store import open_read_only
from tests.handmade import file_header

OBS_COLUMNS = file_header("observations").split(",")
LOOKUP = code_lookup()
text = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12)
numbers = st.one_of(
    st.floats(-1e6, 1e6, allow_nan=False).map(lambda v: f"{v:.6g}"),
    st.integers(-1000, 100_000).map(str),
    text,
)
row = st.fixed_dictionaries(
    {
        "patient_id": st.sampled_from(["NICOLAI-2024", "SYN-00001", "SYN-00002", "NOBODY", ""]),
        "day": st.one_of(st.integers(-400, 800).map(str), text),
        "code": st.sampled_from(["CK", "ANC", "CMAS", "PGA", "FOO", "", "ck"]),
        "value": numbers,
        "unit": st.sampled_from(["U/L", "10*9/L", "{score}", "cm", "ukat/L", "/mm3", "kg", ""]),
        "ref_low": st.one_of(st.just(""), numbers),
        "ref_high": st.one_of(st.just(""), numbers),
        "specimen": st.sampled_from(["blood", "bone_marrow", "urine", ""]),
        "qualifier": st.sampled_from(["", "<", ">", "not_detected", "~"]),
        "source_id": st.sampled_from(["synthetic", "nicolai2024", "elsewhere"]),
        "note": text,
    }
)


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    return build_store(tmp_path_factory.mktemp("props") / "carta.duckdb", n_patients=2).path


def write(folder: Path, rows: list[dict]) -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=OBS_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    path = folder / "observations.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


@settings(max_examples=30)
@given(st.lists(row, max_size=30))
def test_random_rows_never_crash_and_every_row_is_accounted_for(store, tmp_path_factory, rows):
    path = write(tmp_path_factory.mktemp("random"), rows)
    [report] = import_files([path], store, dry_run=True).files
    refused = {p.row for p in report.problems if p.row and not p.reason.startswith("warning")}
    assert report.accepted + len(refused) == len(rows)
    assert set(report.rows.index).isdisjoint(refused)
    for line, accepted in report.rows.iterrows():
        written = rows[line - 2]
        assert accepted["patient_id"] == written["patient_id"]
        assert accepted["code"] == resolve_code(written["code"], LOOKUP)
        assert int(accepted["day"]) == float(written["day"])
        if written["unit"] == accepted["unit"]:
            assert accepted["value"] == pytest.approx(float(written["value"]))
        else:
            assert accepted["note"].startswith(f"converted from {written['unit']}")


@settings(max_examples=15)
@given(st.lists(row, min_size=1, max_size=15))
def test_published_rows_are_the_accepted_rows(store, tmp_path_factory, rows) -> None:
    # One store for every example: each import adds a version on top of the last one.
    path = write(tmp_path_factory.mktemp("publish"), rows)
    result = import_files([path], store)
    [report] = result.files
    if result.version is None:
        assert report.accepted == 0
        return
    con = open_read_only(store)
    stored = {
        (patient, day, code, specimen): (value, unit)
        for patient, day, code, specimen, value, unit in con.execute(
            "SELECT patient_id, day, code, specimen, value, unit FROM observations"
        ).fetchall()
    }
    con.close()
    for _, accepted in report.rows.iterrows():
        key = (accepted["patient_id"], int(accepted["day"]), accepted["code"], accepted["specimen"])
        value, unit = stored[key]
        assert unit == accepted["unit"]
        assert value == pytest.approx(accepted["value"]) or (
            value is None and accepted["value"] != accepted["value"]
        )


lines = st.lists(
    st.lists(st.one_of(text, st.sampled_from(['"', '""', ";", "\t", "\r", "\n"])), max_size=14).map(
        lambda cells: st_join(cells)
    ),
    max_size=8,
)


def st_join(cells: list[str]) -> str:
    return ",".join(cells)


@settings(max_examples=60)
@given(
    name=st.sampled_from(["observations.csv", "patients.csv", "labs.csv", "observations.xlsx"]),
    header=st.sampled_from([",".join(OBS_COLUMNS), "patient_id;day;CK", "USUBJID,LBTESTCD", ""]),
    body=st.one_of(lines.map("\n".join).map(str.encode), st.binary(max_size=200)),
)
def test_malformed_files_never_crash_the_importer(store, tmp_path_factory, name, header, body):
    path = tmp_path_factory.mktemp("malformed") / name
    path.write_bytes(header.encode() + b"\n" + body)
    [report] = import_files([path], store, dry_run=True).files
    assert report.status in {"checked", "refused"}
    assert all(p.reason for p in report.problems)
    if report.status == "refused":
        assert report.accepted == 0 and report.problems


@settings(max_examples=20)
@given(st.lists(row, max_size=12), st.booleans())
def test_random_excel_workbooks_never_crash_and_every_row_is_accounted_for(
    store, tmp_path_factory, rows, numbers_as_numbers
):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(OBS_COLUMNS)
    for written in rows:
        cells = [written[c] for c in OBS_COLUMNS]
        if numbers_as_numbers:  # as Excel keeps a typed-in number: a number cell, not text
            cells = [_number_or_text(c) for c in cells]
        # Excel cannot hold some control characters in a cell: leave those rows out.
        sheet.append([c.translate(_ILLEGAL) if isinstance(c, str) else c for c in cells])
    path = tmp_path_factory.mktemp("excel") / "observations.xlsx"
    book.save(path)
    [report] = import_files([path], store, dry_run=True).files
    refused = {p.row for p in report.problems if p.row and not p.reason.startswith("warning")}
    assert report.status == "checked"
    assert report.accepted + len(refused) == len(rows)


_ILLEGAL = {code: None for code in [*range(0, 9), 11, 12, *range(14, 32)]}


def _number_or_text(cell: str) -> object:
    try:
        return float(cell) if "." in cell or "e" in cell.lower() else int(cell)
    except ValueError:
        return cell
