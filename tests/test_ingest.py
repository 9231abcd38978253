"""Carta's import format: values parsed by the store's types, bad rows refused with a reason."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from carta.ingest.carta_format import Problem, read_folder, read_table_csv
from carta.store import ROOT
from tests.handmade import file_header

HEADER = file_header("observations")


def write(tmp_path: Path, text: str, name: str = "observations.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_values_are_typed_and_blanks_are_missing(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\nP1,7,CART,32.69,{{cells}}/uL,,,blood,,src,peak\n")
    result = read_table_csv(path, "observations")
    assert result.problems == []
    row = result.rows.iloc[0]
    assert row["day"] == 7 and row["value"] == 32.69
    assert pd.isna(row["qualifier"]) and pd.isna(row["ref_low"])
    assert len(result.sha256) == 64


def test_a_bad_value_refuses_its_row_only_and_says_where(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"{HEADER}\n"
        "P1,7,CK,120,U/L,,,blood,,src,\n"
        "P1,seven,CK,130,U/L,,,blood,,src,\n"
        "P1,9,CK,12O,U/L,,,blood,,src,\n"
        "P1,10.5,CK,140,U/L,,,blood,,src,\n",
    )
    result = read_table_csv(path, "observations")
    assert result.rows["value"].tolist() == [120]
    assert result.problems == [
        Problem("observations.csv", 3, "day", "seven", "not a whole number"),
        Problem("observations.csv", 5, "day", "10.5", "not a whole number"),
        Problem("observations.csv", 4, "value", "12O", "not a number"),
    ]
    assert result.rows_rejected == 3


def test_missing_columns_refuse_the_file_and_unknown_columns_are_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "patient_id,day,code,value,colour\nP1,1,CK,100,red\n")
    result = read_table_csv(path, "observations")
    assert result.rows.empty
    reasons = [p.reason for p in result.problems]
    assert "unknown column for table observations; ignored" in reasons
    assert any(r == "missing columns for table observations" for r in reasons)


def test_booleans_accept_common_spellings(tmp_path: Path) -> None:
    header = file_header("patients")
    rows = "\n".join(
        f"P{i},src,c,F,10,JDM,,,,,,,,{flag}" for i, flag in enumerate(["true", "No", "1", "maybe"])
    )
    result = read_table_csv(write(tmp_path, f"{header}\n{rows}\n", "patients.csv"), "patients")
    assert result.rows["synthetic"].tolist() == [True, False, True]
    assert result.problems[0].value == "maybe"


def test_the_seed_folder_reads_cleanly_in_load_order() -> None:
    files = read_folder(ROOT / "data" / "seed")
    assert [f.table for f in files][:2] == ["sources", "patients"]
    assert all(f.problems == [] for f in files)
