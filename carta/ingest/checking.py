"""The import's checking database: an in-memory DuckDB in which a file in Carta's format is typed
and checked, so that a million rows are never a million Python objects.

pyarrow reads the file (carta/ingest/reading.py: its separators, encodings, line numbers and rows
of the wrong width); its batches of text go straight into DuckDB, which types them
(carta/ingest/typing_sql.py) into table `typed`. The checks of the rows then run in SQL
(carta/ingest/observation_checks.py) or, for the tables of a row per patient or source, in pandas
(carta/ingest/validate.py).

Nothing here is written to disk: the database lives in memory and may not spill to a temporary
file (temp_directory is empty), so that no value of a file, refused or not, reaches a file
outside the store and the quarantine folder. Only the table's own columns are read into it, never
a personal column.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from carta.ingest.problems import Problem
from carta.ingest.reading import LINE, arrow_batches
from carta.ingest.typing_sql import MISSING, NOT_PARSED, typing_parameters, typing_statement
from carta.measures.numbers import signif
from carta.schema import table_columns
from carta.store import query_sql, run_query

# Batches are typed a group at a time: DuckDB types a group's batches in parallel, and only one
# group of the file's text is held at once (about GROUP_ROWS rows).
GROUP_ROWS = 250_000
# The pandas types of Carta's format, as carta_format.read_table_csv has always given them.
PANDAS_TYPES = {
    pa.int32(): pd.Int64Dtype(),
    pa.int64(): pd.Int64Dtype(),
    pa.float64(): pd.Float64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
    pa.string(): pd.StringDtype(),
}


class CheckingDatabase:
    """An in-memory DuckDB for one file's rows, closed when done (a `with` block)."""

    def __init__(self) -> None:
        # No temporary files: what does not fit in memory fails the check rather than spill.
        self.con = duckdb.connect(config={"temp_directory": ""})
        self.con.create_function(
            "signif12",
            _signif12,
            [duckdb.sqltype("DOUBLE")],
            duckdb.sqltype("DOUBLE"),
            type="arrow",
        )

    def __enter__(self) -> CheckingDatabase:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    def register(self, name: str, table: pa.Table) -> None:
        """A small table of facts (the store's patients, the dictionary's units) for the checks,
        copied into DuckDB so that its planner knows how small it is (a join then hashes the
        facts, not the file's million rows)."""
        self.con.register("_facts", table)
        try:
            # `name` is one of the checks' table names, never a file's text.
            self.con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM _facts')
        finally:
            self.con.unregister("_facts")

    def arrow(self, sql: str, params: dict | None = None) -> pa.Table:
        return self.con.sql(sql, params=params or {}).to_arrow_table()

    def frame(self, sql: str, params: dict | None = None) -> pd.DataFrame:
        return self.con.execute(sql, params or {}).df()


def load_typed(
    db: CheckingDatabase,
    path: Path,
    table: str,
    present: list[str],
    given: dict[str, str],
    problems: list[Problem],
    done: Callable[[float], None] | None = None,
) -> None:
    """Read `path` into table `typed` of `db`, typed as `table` (`present`: the table's columns
    the file has; `given`: values named at import); the rows of the wrong width and the cells
    that could not be read are added to `problems`, in the order the import always gave them."""
    statement = typing_statement(table, set(present), set(given))
    params = typing_parameters(table, given)
    db.con.register("incoming", _incoming(pa.table({c: pa.array([], pa.string()) for c in present}),
                                          present, -1))  # fmt: skip
    db.con.execute(f"CREATE OR REPLACE TABLE typed AS {statement} LIMIT 0", params)
    group: list[pa.RecordBatch] = []

    def type_group() -> None:
        db.con.register("incoming", pa.Table.from_batches(group))
        db.con.execute(f"INSERT INTO typed {statement}", params)
        group.clear()

    def prepared() -> Iterator[tuple[pa.RecordBatch, float]]:
        fraction = [0.0]
        batches = arrow_batches(path, problems, lambda f: fraction.__setitem__(0, f), present)
        for number, batch in enumerate(batches):
            yield _incoming(batch, present, number), fraction[0]

    rows = 0
    # pyarrow reads and trims the next batches while DuckDB types the last group.
    for batch, fraction in _read_ahead(prepared()):
        group.append(batch)
        rows += batch.num_rows
        if rows >= GROUP_ROWS:
            type_group()
            rows = 0
        if done:
            done(fraction)  # here, on the caller's thread (Streamlit draws only from its own)
    if group:
        type_group()
    db.con.unregister("incoming")
    # pyarrow's allocator keeps the memory of the batches read for reuse: give it back, since
    # the checks to come need memory of DuckDB's, not of pyarrow's.
    pa.default_memory_pool().release_unused()
    problems += _parse_problems(db, table, path.name)


_END = object()


def _read_ahead(items: Iterator, depth: int = 4) -> Iterator:
    """`items`, made on a thread of their own up to `depth` ahead of the caller: pyarrow parses
    CSV without the GIL, so reading the file and typing it in DuckDB go on at once. An error of
    the reader is raised here; a caller that stops early stops the reader."""
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def read() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        ready.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            ready.put(_END)
        except BaseException as error:  # handed to the caller, who raises it
            ready.put(error)

    reader = threading.Thread(target=read, name="carta-csv-reader", daemon=True)
    reader.start()
    try:
        while (item := ready.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        reader.join()


def _incoming(batch: pa.RecordBatch | pa.Table, present: list[str], number: int) -> pa.RecordBatch:
    """A batch as the typing statement reads it: per column the cells trimmed (`s_`; Arrow's
    trim is the one pandas used, Python's str.strip()) and as written where that differs (`r_`,
    for the reasons that quote them), with the rows' lines and the batch's number."""
    size = batch.num_rows
    columns = {}
    for name in present:
        cells = batch.column(name)
        trimmed = _trimmed(cells)
        changed = pc.not_equal(pc.binary_length(trimmed), pc.binary_length(cells))
        written = (
            pc.if_else(changed, cells, pa.scalar(None, pa.string()))
            if pc.any(changed).as_py()
            else pa.nulls(size, pa.string())
        )
        columns |= {f"s_{name}": trimmed, f"r_{name}": written}
    lines = batch.column(LINE) if LINE in batch.column_names else pa.array([], pa.int64())
    columns |= {LINE: lines, "batch": pa.array(np.full(size, number, dtype=np.int32))}
    return pa.RecordBatch.from_pydict(columns) if isinstance(batch, pa.RecordBatch) \
        else pa.table(columns)  # fmt: skip


def _trimmed(cells: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The cells without the whitespace around them. A column of plain ASCII text without the
    control characters 0x1C-0x1F (most columns of most files) is trimmed by the ASCII kernel,
    four times faster than the Unicode one, which trims the same there."""
    if isinstance(cells, pa.ChunkedArray):
        cells = cells.combine_chunks()
    data = cells.buffers()[2]
    raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.empty(0, np.uint8)
    plain = not ((raw >= 0x80) | ((raw >= 0x1C) & (raw <= 0x1F))).any()
    return pc.ascii_trim_whitespace(cells) if plain else pc.utf8_trim_whitespace(cells)


def _parse_problems(db: CheckingDatabase, table: str, file_name: str) -> list[Problem]:
    """The cells that could not be read, as the import always listed them."""
    found = run_query(db.con, "check_parse_problems")
    columns = table_columns()[table]
    return [
        Problem(file_name, int(line), columns[position][0], "" if missing else text,
                MISSING if missing else NOT_PARSED[columns[position][1]])
        for line, position, missing, text in zip(found["line"], found["position"],
                                                 found["missing"], found["text"], strict=True)
    ]  # fmt: skip


def typed_frame(db: CheckingDatabase) -> pd.DataFrame:
    """The rows of `typed` that were read whole, as pandas (a table of a row per patient or
    source, checked by carta/ingest/validate.py), indexed by line."""
    return arrow_frame(db.arrow(query_sql("check_typed_rows")))


def arrow_frame(rows: pa.Table) -> pd.DataFrame:
    """Rows of Arrow with a `line` column as the frame of Carta's types, indexed by line."""
    frame = rows.drop_columns(LINE).to_pandas(types_mapper=PANDAS_TYPES.get)
    frame.index = pd.Index(rows.column(LINE).to_numpy(), dtype="int64")
    return frame


def _signif12(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """numbers.signif(x, 12) for DuckDB: the rounding of converted values, the pandas checks'."""
    missing = np.asarray(pc.is_null(values))
    numbers = np.asarray(pc.fill_null(values, 0.0), dtype="float64")
    return pa.array(signif(numbers, 12), pa.float64(), mask=missing)
