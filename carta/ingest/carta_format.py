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

from carta.ingest import personal
from carta.ingest.checking import CheckingDatabase, load_typed, typed_frame
from carta.ingest.problems import Problem
from carta.ingest.reading import header
from carta.schema import DATA_TABLES, required_columns, table_columns

__all__ = ["Problem", "TableFile", "read_folder", "read_table_csv", "sha256_of"]


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

    The file is read a batch at a time into DuckDB and typed there (carta/ingest/checking.py), so
    only the typed rows are ever held whole.
    """
    with CheckingDatabase() as db:
        result = stage_table_file(db, path, table, done, source)
        if not refuses_file(result):
            result.rows = typed_frame(db)
    return result


def stage_table_file(
    db: CheckingDatabase,
    path: Path,
    table: str,
    done: Callable[[float], None] | None = None,
    source: str | None = None,
) -> TableFile:
    """The file's header checked and its rows typed into table `typed` of `db`; the TableFile
    holds the problems and, as yet, no rows. A file without a required column is not read."""
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
    present = [c for c in names if c in found]
    load_typed(db, path, table, present, given, result.problems, done)
    return result


def refuses_file(table_file: TableFile) -> bool:
    """Whether the file as a whole was refused (a required column is missing)."""
    return any(
        p.row is None and p.reason.startswith("missing columns") for p in table_file.problems
    )


_DTYPES = {"INTEGER": "Int64", "BIGINT": "Int64", "DOUBLE": "Float64", "BOOLEAN": "boolean"}
