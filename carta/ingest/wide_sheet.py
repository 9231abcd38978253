"""A wide lab sheet as clinics keep it: one row per patient and day (or date), one column per test.

    patient_id, date, infusion_date, source_id, CK (U/L), Hb [g/L], CRP, CD19 (cells/µL)
    P01, 2025-03-01, 2025-03-10, site-a, 2400, 121, <0.5, 312

A test column is named after its parameter (code, label, LOINC or a common name, see
dictionary.code_lookup), optionally with its unit in brackets. A column without a unit is read
without one: the checks (validate.py) take the dictionary unit only for values plausible in it.
A cell holds a number, "<x" or ">x" beyond the assay limit, "n.d." for not detected, or nothing.
Calendar dates become study days against the infusion date (`infusion_date` column) and are not
kept. The sheet becomes long observation rows that go through the same checks as Carta's own
format.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from carta import dictionary
from carta.ingest import personal
from carta.ingest.carta_format import Problem, TableFile, sha256_of
from carta.ingest.reading import header, read_whole
from carta.schema import columns

_HEADER = re.compile(r"^\s*(?P<name>.*?)\s*(?:[\(\[]\s*(?P<unit>[^\)\]]*)\s*[\)\]])?\s*$")
_CELL = re.compile(r"^\s*(?P<qualifier>[<>])?\s*(?P<number>[-+]?\d+(?:[.,]\d+)?(?:e[-+]?\d+)?)\s*$")
_NOT_DETECTED = {"n.d.", "nd", "not detected", "undetectable", "neg", "negative"}
_ID_COLUMNS = {"patient_id", "day", "date", "infusion_date", "source_id", "specimen"}


def test_columns(header: list[str], lookup: dict[str, str]) -> dict[str, tuple[str, str | None]]:
    """{column: (code, unit written in the header or None)} for the columns that name a test."""
    found = {}
    for column in header:
        if column.strip().lower() in _ID_COLUMNS:
            continue
        match = _HEADER.match(column)
        code = dictionary.resolve_code(match["name"], lookup)
        if code in lookup.values():
            found[column] = (code, match["unit"] or None)
    return found


def is_wide_sheet(path: Path, lookup: dict[str, str]) -> bool:
    found = header(path)
    names = {c.strip().lower() for c in found}
    return (
        "patient_id" in names
        and bool({"day", "date"} & names)
        and bool(test_columns(found, lookup))
    )


def read_wide_sheet(path: Path, lookup: dict[str, str], source: str | None = None) -> TableFile:
    """`source` is the source_id of every line of a sheet without a source_id column."""
    result = TableFile("observations", path, sha256_of(path), pd.DataFrame(), [])
    raw = read_whole(path, result.problems)
    raw.columns = [c.strip() for c in raw.columns]
    lower = {c.lower(): c for c in raw.columns}
    if "source_id" not in lower and source:
        raw["source_id"] = source
        lower["source_id"] = "source_id"
    if "source_id" not in lower:
        result.problems.append(
            Problem(path.name, None, "source_id", None, "missing columns: add a source_id column")
        )
        result.rows = pd.DataFrame(columns=columns("observations"))
        return result
    days = _study_days(raw, lower, result)
    tests = test_columns(list(raw.columns), lookup)
    for column in raw.columns:
        if column.lower() not in _ID_COLUMNS and column not in tests:
            reason = (
                personal.REASON
                if personal.is_personal(column)
                else "not a known parameter; ignored (a mapping file can name it)"
            )
            result.problems.append(Problem(path.name, None, column, None, reason))
    records = []
    for column, (code, unit) in tests.items():
        for line, cell in raw[column].items():
            text = cell.strip()
            if not text or line not in days.index or pd.isna(days[line]):
                continue
            qualifier, value = None, None
            if text.lower() in _NOT_DETECTED:
                qualifier = "not_detected"
            elif match := _CELL.match(text.replace(" ", "")):
                qualifier = match["qualifier"]
                value = float(match["number"].replace(",", "."))
            else:
                result.problems.append(
                    Problem(path.name, int(line), column, cell, "not a number, <x, >x or n.d.")
                )
                continue
            records.append(
                {
                    "line": int(line),
                    "patient_id": raw.at[line, lower["patient_id"]].strip(),
                    "day": int(days[line]),
                    "code": code,
                    "value": value,
                    "unit": unit,  # None when the header gives none: see validate.py
                    "ref_low": None,
                    "ref_high": None,
                    "specimen": raw.at[line, lower["specimen"]].strip() or "blood"
                    if "specimen" in lower
                    else "blood",
                    "qualifier": qualifier,
                    "source_id": raw.at[line, lower["source_id"]].strip(),
                    "note": None,
                }
            )
    frame = pd.DataFrame(records, columns=["line", *columns("observations")])
    # One row per test and line: a running number as index, the line kept for the report.
    result.rows = frame.astype({"value": "Float64", "ref_low": "Float64", "ref_high": "Float64"})
    return result


def _study_days(raw: pd.DataFrame, lower: dict[str, str], result: TableFile) -> pd.Series:
    if "day" in lower:
        days = pd.to_numeric(raw[lower["day"]].str.strip(), errors="coerce")
        bad = days.isna() | (days % 1 != 0)
        for line in bad[bad].index:
            result.problems.append(
                Problem(result.path.name, int(line), lower["day"], raw.at[line, lower["day"]],
                        "not a whole study day")
            )  # fmt: skip
        return days.where(~bad)
    date = pd.to_datetime(raw[lower["date"]].str.strip(), errors="coerce", format="mixed")
    infusion = (
        pd.to_datetime(raw[lower["infusion_date"]].str.strip(), errors="coerce", format="mixed")
        if "infusion_date" in lower
        else pd.Series(pd.NaT, index=raw.index)
    )
    days = (date - infusion).dt.days
    for line in days[days.isna()].index:
        reason = (
            "a date needs the patient's infusion date (column infusion_date)"
            if pd.isna(infusion[line])
            else "not a date"
        )
        result.problems.append(
            Problem(result.path.name, int(line), lower["date"], raw.at[line, lower["date"]], reason)
        )
    return days
