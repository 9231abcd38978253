"""Open, build and publish the versioned DuckDB store, and run the named queries against it.

The store path (CARTA_STORE, default data/store/carta.duckdb) is a symbolic link to one immutable
version file in a sibling folder. A build writes a new version file completely, then swaps the link
with os.replace, so a reader sees either the old store or the new one, never a half-built one
(field notes: "atomic store swaps"). Readers open read-only and take one cursor per query, because a
DuckDB 2.0 connection shared across threads is not safe to use concurrently.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from carta.schema import SCHEMA_VERSION

ROOT = Path(__file__).resolve().parent.parent
QUERIES_DIR = ROOT / "queries"
DEFAULT_STORE = ROOT / "data" / "store" / "carta.duckdb"
STORE_ENV = "CARTA_STORE"

# Old versions are kept so that a publish can be undone; beyond this many the oldest are removed.
KEEP_VERSIONS = 5

_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_COMMENT = re.compile(r"--[^\n]*")
_VERSION_FILE = re.compile(r"-v(\d{4,})\.duckdb$")

Progress = Callable[[float, str], None]


class StoreError(Exception):
    """A store that cannot be used; the message says what is wrong and what to do."""


def store_path() -> Path:
    """The store the app and the CLI use: $CARTA_STORE, or the default under data/."""
    configured = os.environ.get(STORE_ENV, "").strip()
    return Path(configured).expanduser().absolute() if configured else DEFAULT_STORE


def versions_dir(path: Path) -> Path:
    return path.parent / f"{path.stem}.versions"


def real_path(path: Path) -> Path:
    """The version file the pointer names now; caches key on it, so a new version gets new keys."""
    return Path(os.path.realpath(path))


# --- reading ---------------------------------------------------------------------------------


def open_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    """Open the store for reading, or raise StoreError with a message a person can act on."""
    from carta import parquet

    rebuild = "Rebuild it with: python -m carta build"
    if not path.exists():
        raise StoreError(f"No Carta store at {path}. Build one with: python -m carta build")
    try:
        if parquet.is_dataset(path):
            rebuild = "Export it again with: python -m carta export-parquet"
            con = duckdb.connect(":memory:")
            parquet.create_views(con, real_path(path))
        elif path.is_dir():
            raise StoreError(
                f"{path} is a folder but not a Carta Parquet store (no store_meta in it). "
                "Write one with: python -m carta export-parquet DIR"
            )
        else:
            con = duckdb.connect(str(real_path(path)), read_only=True)
    except duckdb.Error as exc:
        raise StoreError(
            f"The store at {path} cannot be read ({_first_line(exc)}). {rebuild}"
        ) from exc
    try:
        meta = dict(con.execute("SELECT key, value FROM store_meta").fetchall())
    except duckdb.Error as exc:
        con.close()
        raise StoreError(f"{path} is a DuckDB file but not a Carta store. {rebuild}") from exc
    found = meta.get("schema_version")
    if found != str(SCHEMA_VERSION):
        con.close()
        raise StoreError(
            f"The store at {path} has schema version {found or 'unknown'}; this Carta reads "
            f"version {SCHEMA_VERSION}. {rebuild}"
        )
    return con


def open_scoped(path: Path, sources: frozenset[str] | None) -> duckdb.DuckDBPyConnection:
    """The store as someone allowed `sources` sees it (None: every source).

    Every table of patient data is shadowed by a view holding only the rows of those sources, in an
    in-memory database that attaches the version file read-only; the queries in queries/ name the
    tables unqualified, so each one reads through the views, and cursors of this connection share
    them. Access is thus enforced where data are read, whatever a page does with the result.
    """
    if sources is None:
        return open_read_only(path)
    from carta import parquet
    from carta.schema import table_columns

    open_read_only(path).close()  # the same checks and messages as an unscoped reader
    con = duckdb.connect(":memory:")
    dataset = parquet.is_dataset(path)
    if dataset:
        con.execute("CREATE SCHEMA store")
        parquet.create_views(con, real_path(path), "store")
    else:
        # The path is the store's own version file, never user input; DuckDB's ATTACH takes no
        # parameter, so it is quoted as a SQL string literal.
        con.execute(f"ATTACH {_sql_text(str(real_path(path)))} AS store (READ_ONLY)")
    allowed = ", ".join(_sql_text(s) for s in sorted(sources)) or "NULL"
    for table, typed in table_columns().items():
        names = {name for name, _ in typed}
        if "source_id" in names:
            where = f"WHERE source_id IN ({allowed})"
        elif "patient_id" in names:
            where = (f"WHERE patient_id IN (SELECT patient_id FROM store.patients "
                     f"WHERE source_id IN ({allowed}))")  # fmt: skip
        else:
            where = ""  # reference tables and the store's metadata
        # A view has no rowid; the order of a source's statements is their order in the file.
        # (A Parquet store's view carries it as a column already.)
        order = ", rowid AS rowid" if table in _ORDERED_BY_ROWID and not dataset else ""
        con.execute(f"CREATE VIEW {table} AS SELECT *{order} FROM store.{table} {where}")
    return con


_ORDERED_BY_ROWID = ("reported_findings",)


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def store_info(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    cursor = con.cursor()
    try:
        return dict(cursor.execute("SELECT key, value FROM store_meta").fetchall())
    finally:
        cursor.close()


@cache
def query_sql(name: str) -> str:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise ValueError(f"not a query name: {name!r}")
    path = QUERIES_DIR / f"{name}.sql"
    if not path.is_file():
        raise ValueError(f"no query named {name!r} in {QUERIES_DIR}")
    return path.read_text(encoding="utf-8")


@cache
def reads_patients(name: str) -> bool:
    """Whether queries/<name>.sql returns one patient's rows or a list of patients: such a query
    says so in a line `-- access: patient`, and is run only over the sources whose patients the
    reader may see (carta/access.py)."""
    return re.search(r"^-- access: patient\b", query_sql(name), re.MULTILINE) is not None


def query_parameters(sql: str) -> set[str]:
    return set(_PARAM.findall(_COMMENT.sub("", sql)))


def query_names() -> list[str]:
    return sorted(p.stem for p in QUERIES_DIR.glob("*.sql"))


def run_query(con: duckdb.DuckDBPyConnection, name: str, **params: object) -> pd.DataFrame:
    """Run queries/<name>.sql with its $named parameters on a fresh cursor of `con`."""
    sql = query_sql(name)
    wanted = query_parameters(sql)
    if wanted != set(params):
        raise TypeError(f"query {name!r} takes {sorted(wanted)}, was given {sorted(params)}")
    cursor = con.cursor()
    try:
        return cursor.execute(sql, params).df()
    finally:
        cursor.close()


# --- building and publishing -----------------------------------------------------------------


@dataclass(frozen=True)
class BuildResult:
    path: Path
    version_file: Path
    version: int
    rows: dict[str, int]
    seconds: float
    published: bool  # False when the current store already held exactly this content

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


# DuckDB's share of a build's or import's memory (its default is 80 % of the machine): at 100,000
# patients the visit-window values and the completeness grid each held 5.5 GB without it, and
# 2.2 GB with it, spilling the rest to a folder beside the version being written, which DuckDB
# removes when done (issue 17: a build within 4 GB).
WRITER_MEMORY_LIMIT = "2GB"

# How long a writer waits for another build or import of the same store before it gives up.
WRITER_WAIT_SECONDS = 600
_LAST_VERSION = ".last-version"


@contextlib.contextmanager
def writer_lock(path: Path, wait: float | None = None,
                waiting: Callable[[str], None] | None = None) -> Iterator[list[Path]]:  # fmt: skip
    """One writer (build, import, undo) at a time per store, across processes: an OS file lock
    beside the versions. A second writer waits (`waiting` is told why) up to `wait` seconds, then
    gives up with a StoreError; nothing is written meanwhile. Under the lock, what a killed writer
    left behind (temporary version files, their WAL, half-made links) is removed: no writer can be
    using them."""
    from carta import parquet

    if parquet.is_dataset(path):
        raise StoreError(
            f"{path} is a Parquet store, served read-only: build or import into a DuckDB store "
            "and write the dataset again with python -m carta export-parquet."
        )
    wait = WRITER_WAIT_SECONDS if wait is None else wait
    folder = versions_dir(path)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".writer.lock").open("w") as handle:
        deadline = time.monotonic() + wait
        told = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StoreError(
                        f"Another import or build of {path} is still running after {wait:.0f} s; "
                        "nothing was changed. Try again when it has finished."
                    ) from None
                if waiting and not told:
                    waiting("waiting for another import or build of this store to finish")
                    told = True
                time.sleep(0.2)
        try:
            yield _remove_leftovers(path)  # the files removed, for whoever asks
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def clean_after_killed_writers(path: Path) -> list[Path]:
    """At a start: remove what a killed writer left behind, unless a writer is at work now (then
    that writer's own start does it). Returns what was removed."""
    removed: list[Path] = []
    if not versions_dir(path).exists():
        return removed
    with contextlib.suppress(StoreError), writer_lock(path, wait=0) as cleared:
        removed = cleared
    return removed


def _remove_leftovers(path: Path) -> list[Path]:
    """Temporary files of a writer that was killed: only ever called under the writer lock."""
    folder = versions_dir(path)
    leftovers = [*folder.glob(".*.tmp"), *folder.glob(".*.tmp.wal"),
                 *path.parent.glob(f".{path.name}.*.link")]  # fmt: skip
    for file in leftovers:
        file.unlink(missing_ok=True)
    return leftovers


def next_version(path: Path) -> int:
    """The next version number: above every version file and every number ever used (kept in
    the versions folder, so that a number is never reused after its file was removed)."""
    folder = versions_dir(path)
    found = [
        int(m.group(1)) for f in folder.glob("*.duckdb") if (m := _VERSION_FILE.search(f.name))
    ]
    used = folder / _LAST_VERSION
    last = int(used.read_text().strip()) if used.exists() and used.read_text().strip() else 0
    return max([*found, last], default=0) + 1


def current_fingerprint(path: Path) -> str | None:
    """The content fingerprint of the published store, or None when there is none readable."""
    try:
        con = open_read_only(path)
    except StoreError:
        return None
    try:
        return store_info(con).get("fingerprint")
    finally:
        con.close()


def publish(path: Path, version_file: Path) -> None:
    """Point `path` at `version_file` in one atomic step."""
    if path.exists() and not path.is_symlink():
        raise StoreError(
            f"{path} is a plain file, not a Carta store pointer; it is left untouched. "
            "Choose another --store path or move that file away."
        )
    link_tmp = path.with_name(f".{path.name}.{os.getpid()}.link")
    link_tmp.unlink(missing_ok=True)
    os.symlink(os.path.relpath(version_file, path.parent), link_tmp)
    os.replace(link_tmp, path)


def version_files(path: Path) -> dict[int, Path]:
    """{version number: file} of the versions kept beside the store."""
    found = {}
    for file in versions_dir(path).glob("*.duckdb"):
        if match := _VERSION_FILE.search(file.name):
            found[int(match.group(1))] = file
    return dict(sorted(found.items()))


def use_version(path: Path, version: int) -> Path:
    """Publish a kept version again, e.g. to undo an import; atomic, like every publish."""
    files = version_files(path)
    if version not in files:
        kept = ", ".join(map(str, files)) or "none"
        raise StoreError(f"No version {version} is kept for {path} (kept: {kept}).")
    open_read_only(files[version]).close()  # refuse a version this Carta cannot read
    with writer_lock(path):  # not while an import or a build is publishing
        publish(path, files[version])
    return files[version]


def kept_versions(path: Path) -> pd.DataFrame:
    """The kept versions, newest first: when each was built, the files it added, which is live."""
    current = real_path(path) if path.exists() else None
    rows = []
    for number, file in sorted(version_files(path).items(), reverse=True):
        try:
            con = open_read_only(file)
        except StoreError:
            continue  # a version of another schema, or damaged: it cannot be published again
        try:
            meta = store_info(con)
            imports = run_query(con, "import_history")
        finally:
            con.close()
        added = imports.loc[imports["store_version"] == number, "file_name"].tolist()
        rows.append(
            {
                "version": number,
                "built_at": meta.get("built_at", ""),
                "imported": ", ".join(f for f in added if not f.startswith("data/seed/")),
                "published": file.resolve() == current,
            }
        )
    return pd.DataFrame(rows, columns=["version", "built_at", "imported", "published"])


def prune_versions(path: Path, keep: int = KEEP_VERSIONS) -> list[Path]:
    """Remove all but the newest `keep` version files, never the published one."""
    current = real_path(path)
    files = sorted(
        (f for f in versions_dir(path).glob("*.duckdb") if _VERSION_FILE.search(f.name)),
        key=lambda f: int(_VERSION_FILE.search(f.name).group(1)),
    )
    removed = [f for f in files[:-keep] if f.resolve() != current]
    for f in removed:
        f.unlink(missing_ok=True)
        Path(f"{f}.wal").unlink(missing_ok=True)
    return removed


def write_version(
    path: Path,
    fill: Callable[[duckdb.DuckDBPyConnection, int], dict[str, str]],
    progress: Progress | None = None,
) -> tuple[Path, int]:
    """Create the next version file with `fill(con, version)` and return it, unpublished.

    The file is written under a temporary name and renamed only once complete and checkpointed, so
    an interrupted build leaves no version file behind that could be published by mistake.
    """
    folder = versions_dir(path)
    folder.mkdir(parents=True, exist_ok=True)
    version = next_version(path)
    final = folder / f"{path.stem}-v{version:04d}.duckdb"
    tmp = folder / f".{final.name}.{os.getpid()}.tmp"
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp), config={"memory_limit": WRITER_MEMORY_LIMIT})
    try:
        meta = fill(con, version)
        meta |= {
            "schema_version": str(SCHEMA_VERSION),
            "store_version": str(version),
            "built_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        con.executemany("INSERT INTO store_meta VALUES (?, ?)", sorted(meta.items()))
        con.execute("CHECKPOINT")
    except BaseException:
        con.close()
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.wal").unlink(missing_ok=True)
        raise
    con.close()
    os.replace(tmp, final)
    (folder / _LAST_VERSION).write_text(f"{version}\n")
    if progress:
        progress(1.0, f"wrote {final.name}")
    return final, version


def insert_frame(
    con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame | pa.Table
) -> None:
    """Append `frame`'s rows (a frame or an Arrow table) to `table`, matching the schema's columns
    by name."""
    from carta.schema import columns

    names = ", ".join(columns(table))
    # As Arrow: DuckDB reads an Arrow table's columns as they are, where its scan of a frame's
    # text columns costs more than the conversion (the synthetic cohort of 10,000 patients loaded
    # in 2.5 s this way, against 4.0 s from the frames). A frame whose object columns Arrow cannot
    # type (mixed Python objects) goes in through DuckDB's own scan.
    incoming = frame
    if isinstance(frame, pd.DataFrame):
        with contextlib.suppress(pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            incoming = pa.Table.from_pandas(frame, preserve_index=False)
    con.register("_incoming", incoming)
    try:
        # `table` is one of the schema's table names, never user input.
        con.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM _incoming")
    finally:
        con.unregister("_incoming")


def insert_query_result(con: duckdb.DuckDBPyConnection, table: str, name: str, **params) -> None:
    """Append the rows of queries/<name>.sql to `table` without a round trip through Python."""
    from carta.schema import columns

    sql = query_sql(name)
    if query_parameters(sql) != set(params):
        raise TypeError(f"query {name!r} takes {sorted(query_parameters(sql))}")
    # Only the table's columns: a query may return more than one table keeps.
    names = ", ".join(columns(table))
    con.execute(f"INSERT INTO {table} BY NAME SELECT {names} FROM ({sql})", params)


def table_counts(con: duckdb.DuckDBPyConnection, tables: tuple[str, ...]) -> dict[str, int]:
    # Table names come from the schema module, never from user input.
    return {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in tables}


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
