"""Carta's own import format: one CSV file per table, named after it, with the store's columns.

docs/import-format.md documents the format. Values are parsed by the column's type in
carta/schema.sql; a row with a value that does not parse is refused with its file, row, column,
value and reason, and the other rows go on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from carta import dictionary
from carta.ingest import personal
from carta.ingest.problems import Problem
from carta.ingest.reading import batches, header
from carta.schema import DATA_TABLES, required_columns, table_columns

__all__ = ["Problem", "TableFile", "read_folder", "read_table_csv", "sha256_of"]

_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


@dataclass
class TableFile:
    """What one file gave: the accepted rows, typed as the store wants them, and the problems."""

    table: str
    path: Path
    sha256: str
    rows: pd.DataFrame  # indexed by line number in the file (the header is line 1)
    problems: list[Problem] = field(default_factory=list)

    @property
    def rows_rejected(self) -> int:
        return len({p.row for p in self.problems if p.row is not None})


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_folder(folder: Path) -> list[TableFile]:
    """Every `<table>.csv` in `folder`, in load order (sources first)."""
    return [
        read_table_csv(folder / f"{t}.csv", t)
        for t in DATA_TABLES
        if (folder / f"{t}.csv").exists()
    ]


# Column names that identify a person. Carta stores pseudonymous ids and study days only, so such a
# column is refused whole, whatever else the file holds.


SUFFIXES = (".csv", ".xlsx")


def read_table_csv(
    path: Path, table: str, done: Callable[[float], None] | None = None, source: str | None = None
) -> TableFile:
    """A file of Carta's own format (CSV, or an Excel workbook's first sheet) for `table`.

    `source` is the source_id of every row of a file that has no source_id column (a clinic's
    sheet, named once at import).

    The file is parsed a batch at a time, so only the typed rows are ever held whole.
    """
    expected = table_columns()[table]
    names = [c for c, _ in expected]
    empty = pd.DataFrame({c: pd.Series(dtype=_DTYPES.get(t, "string")) for c, t in expected})
    result = TableFile(table, path, sha256_of(path), empty, [])
    found = header(path)
    for extra in [c for c in found if c not in names]:
        reason = (
            personal.REASON
            if personal.is_personal(extra)
            else f"unknown column for table {table}; ignored"
        )
        result.problems.append(Problem(path.name, None, extra, None, reason))
    given = {"source_id": source} if source and "source_id" in names and "source_id" not in found \
        else {}  # fmt: skip
    required = required_columns(table)
    missing = [c for c in names if c not in found and c in required and c not in given]
    if missing:
        result.problems.append(
            Problem(path.name, None, ", ".join(missing), None, f"missing columns for table {table}")
        )
        return result
    # A column the store can leave empty may be left out of the file: its cells are empty.
    absent = [c for c in names if c not in found and c not in given]
    parts = [
        _typed_rows(
            raw.assign(**dict.fromkeys(absent, ""), **given)[names], expected, required, result
        )
        for raw in batches(path, result.problems, done)
    ]
    result.rows = pd.concat(parts) if parts else empty
    return result


_DTYPES = {"INTEGER": "Int64", "BIGINT": "Int64", "DOUBLE": "Float64", "BOOLEAN": "boolean"}
# In a data manager's words, not the store's type names.
_NOT_PARSED = {
    "INTEGER": "not a whole number",
    "BIGINT": "not a whole number",
    "DOUBLE": "not a number",
    "BOOLEAN": "not true or false",
}


def _unit_of_a_reading(raw: pd.DataFrame) -> pd.DataFrame:
    """A serology result given only as negative, borderline or positive has no number, so its
    unit cannot be wrong: it takes the dictionary's ({titer}) rather than being refused."""
    blank = raw["unit"].str.strip().eq("") & raw["value"].str.strip().eq("")
    reading = blank & raw["interpretation"].str.strip().ne("")
    reading &= raw["code"].str.strip().isin(dictionary.serology_codes())
    if not reading.any():
        return raw
    units = dictionary.parameters().set_index("code")["unit"]
    return raw.assign(unit=raw["unit"].where(~reading, raw["code"].str.strip().map(units)))


def _typed_rows(raw: pd.DataFrame, expected, required, result: TableFile) -> pd.DataFrame:
    """One batch parsed by the columns' types; a row with a value that does not parse is left
    out and reported. Rows keep their line number in the file as index."""
    typed = {}
    bad_rows: set[int] = set()
    name = result.path.name
    if result.table == "observations":
        raw = _unit_of_a_reading(raw)
    for column, dtype in expected:
        text = raw[column].str.strip()
        values, bad = _parse(text, dtype)
        if column in required:
            blank = text.eq("")
            for index in blank[blank].index:
                bad_rows.add(index)
                result.problems.append(
                    Problem(name, int(index), column, "", "required: the value is missing")
                )
        for index in bad[bad].index:
            bad_rows.add(index)
            result.problems.append(
                Problem(name, int(index), column, raw.at[index, column],
                        _NOT_PARSED[dtype])
            )  # fmt: skip
        typed[column] = values
    frame = pd.DataFrame(typed, index=raw.index)
    return frame.drop(index=sorted(bad_rows))


def _parse(text: pd.Series, dtype: str) -> tuple[pd.Series, pd.Series]:
    """(parsed values with blanks as missing, mask of non-blank values that did not parse)."""
    blank = text.eq("")
    if dtype in ("INTEGER", "BIGINT"):
        number = pd.to_numeric(text.where(~blank), errors="coerce")
        # Whole numbers that fit the column: a day of 1e30 is as wrong as a day of 1.5.
        whole = number.notna() & (number % 1 == 0) & number.abs().lt(2**31)
        return number.where(whole).astype("Int64"), ~blank & ~whole
    if dtype == "DOUBLE":
        number = pd.to_numeric(text.where(~blank), errors="coerce")
        return number.astype("Float64"), ~blank & number.isna()
    if dtype == "DATE":
        parsed = pd.to_datetime(text.where(~blank), format="%Y-%m-%d", errors="coerce")
        return parsed.dt.date.astype("object").where(parsed.notna(), None), ~blank & parsed.isna()
    if dtype == "BOOLEAN":
        lowered = text.str.lower()
        parsed = lowered.map(lambda v: True if v in _TRUE else False if v in _FALSE else None)
        return parsed.astype("boolean"), ~blank & parsed.isna()
    return text.where(~blank).astype("string"), blank & False
