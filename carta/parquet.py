"""The store as a Parquet dataset: `python -m carta export-parquet DIR` writes every table of the
published version under DIR/<table>/, the tables of patient data hive-partitioned by source
(DIR/observations/source_id=site-a/…), so that a multi-centre registry can drop in one partition
per site; `CARTA_STORE=DIR` serves it read-only through the same queries/ (carta/store.py opens
it as views over read_parquet).

A table with a source_id column is partitioned by it; one keyed by patient_id only (the derived
tables) by its patient's source, a column the files carry and the views leave out; the others
(dictionary, metadata, history) are one file each. An empty partitioned table is written as one
empty file in a partition named EMPTY_PARTITION, so that every table has a file to read its
columns from.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

from carta.schema import ALL_TABLES, table_columns

EMPTY_PARTITION = "source_id=__empty__"
MARKER = "store_meta"  # a folder is a Parquet store when it holds this table


def is_dataset(path: Path) -> bool:
    return path.is_dir() and (path / MARKER).is_dir()


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def partitioning(table: str) -> str | None:
    """'own' (the table has source_id), 'patient' (by its patient's source) or None."""
    names = {name for name, _ in table_columns()[table]}
    if "source_id" in names:
        return "own"
    if "patient_id" in names and table != "patients":
        return "patient"
    return None


def export(con: duckdb.DuckDBPyConnection, out: Path, replace: bool = False) -> dict[str, int]:
    """Write every table of `con` (an open store) under `out`; the rows per table. The dataset is
    written beside `out` and moved into place whole, so that a reader never sees half of it."""
    out = out.absolute()
    if out.exists() and any(out.iterdir()) and not replace:
        raise FileExistsError(f"{out} exists and is not empty; --replace writes over it")
    work = out.parent / f".{out.name}.writing-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    counts = {}
    try:
        for table in ALL_TABLES:
            counts[table] = _write_table(con, table, work / table)
        if out.exists():
            old = out.parent / f".{out.name}.old-{os.getpid()}"
            out.rename(old)
            work.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            work.rename(out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return counts


def _write_table(con: duckdb.DuckDBPyConnection, table: str, folder: Path) -> int:
    # Table names are the schema's own and folders Carta's; COPY takes no parameters.
    folder.mkdir(parents=True)
    kind = partitioning(table)
    rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    if kind is None:
        con.execute(f"COPY {table} TO {_sql_text(str(folder / 'data.parquet'))} (FORMAT parquet)")
        return rows
    select = (
        f"SELECT * FROM {table}"
        if kind == "own"
        else f"SELECT t.*, p.source_id FROM {table} t JOIN patients p USING (patient_id)"
    )
    if rows == 0:
        empty = folder / EMPTY_PARTITION
        empty.mkdir()
        con.execute(
            f"COPY (SELECT * EXCLUDE (source_id) FROM ({select}) LIMIT 0) "
            f"TO {_sql_text(str(empty / 'data.parquet'))} (FORMAT parquet)"
        )
        return 0
    con.execute(f"COPY ({select}) TO {_sql_text(str(folder))} "
                "(FORMAT parquet, PARTITION_BY (source_id), OVERWRITE_OR_IGNORE)")  # fmt: skip
    return rows


def create_views(con: duckdb.DuckDBPyConnection, path: Path, schema: str = "main") -> None:
    """A view per table of the dataset at `path`, in `schema` of `con`, with the store's columns
    in the store's order (the source of a derived table's partition left out). reported_findings
    keeps its rows' order within a source as `rowid`, as a table's rowid does."""
    for table, typed in table_columns().items():
        names = ", ".join(name for name, _ in typed)
        files = _sql_text(str(path / table / "**" / "*.parquet"))
        if partitioning(table) is None:
            source = f"read_parquet({files})"
        else:
            source = (f"read_parquet({files}, hive_partitioning = true, "
                      "hive_types = {'source_id': VARCHAR}, file_row_number = true)")  # fmt: skip
        order = ", file_row_number AS rowid" if table == "reported_findings" else ""
        con.execute(f"CREATE VIEW {schema}.{table} AS SELECT {names}{order} FROM {source}")
