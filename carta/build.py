"""Build the default store: the reference tables, the published case from data/seed/ and the
synthetic demo cohort, through the same reader a user's import goes through."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from pathlib import Path

import duckdb
import pandas as pd

from carta import __version__, dictionary, synth, synth_indications
from carta.derive import derive_tables, record_quality_history
from carta.ingest.carta_format import read_folder
from carta.schema import DATA_TABLES, DERIVED_TABLES, SCHEMA_VERSION, create_tables
from carta.store import (
    ROOT,
    BuildResult,
    Progress,
    StoreError,
    current_fingerprint,
    insert_frame,
    prune_versions,
    publish,
    real_path,
    run_query,
    store_path,
    table_counts,
    write_version,
    writer_lock,
)

SEED_DIR = ROOT / "data" / "seed"


def reference_table(name: str) -> pd.DataFrame:
    """A reference table shipped in data/reference/ that only the store reads."""
    return pd.read_csv(dictionary.REFERENCE_DIR / f"{name}.csv", keep_default_na=False)


def build_store(
    path: Path | None = None,
    *,
    n_patients: int = synth.DEFAULT_PATIENTS,
    seed: int = synth.DEFAULT_SEED,
    other_indications: int | None = None,
    include_published: bool = True,
    force: bool = False,
    progress: Progress | None = None,
) -> BuildResult:
    """Build and publish a new store version, unless the published one already has this content."""
    # The default store holds the other indications' demo patients beside the JDM cohort; a
    # cohort of another size (a test's, a registry's) only when asked for.
    if other_indications is None:
        other_indications = (
            synth_indications.DEFAULT_PATIENTS if n_patients == synth.DEFAULT_PATIENTS else 0
        )
    if n_patients < 0 or other_indications < 0:
        raise StoreError("--patients and --other-indications must be 0 or more")
    path = Path(path) if path else store_path()
    started = time.perf_counter()
    fingerprint = _fingerprint(n_patients, seed, include_published, other_indications)

    def fill(con: duckdb.DuckDBPyConnection, version: int) -> dict[str, str]:
        create_tables(con)
        insert_frame(con, "parameters", dictionary.parameters())
        insert_frame(con, "timepoints", dictionary.timepoints())
        insert_frame(con, "ae_categories", reference_table("ae_categories"))
        if include_published:
            _load_seed(con, version)
        if n_patients or other_indications:
            _load_synthetic(con, n_patients, seed, progress, other_indications)
        problems = run_query(con, "integrity_problems")
        if len(problems):
            lines = "; ".join(f"{r.problem}: {r.n}" for r in problems.itertuples())
            raise StoreError(f"The built store is inconsistent ({lines}); nothing was published.")
        if progress:
            progress(0.96, "clinical measures")
        settings = derive_tables(con)
        record_quality_history(con, version)  # a build starts a new store and its history
        return settings | {
            "fingerprint": fingerprint,
            "carta_version": __version__,
            "data_cut": dt.date.today().isoformat(),
            "synthetic_patients": str(n_patients + other_indications),
            "synthetic_seed": str(seed),
            "published_case": "yes" if include_published else "no",
        }

    with writer_lock(path):
        # Checked under the lock: a second session that waited for a first build finds it done.
        current = current_fingerprint(path)
        if not force and current == fingerprint:
            return BuildResult(path, real_path(path), _published_version(path), {}, 0.0, False)
        if not force and current and current.startswith("imported:"):
            raise StoreError(
                f"The store at {path} holds imported data; building the default store would "
                "publish a version without it. Use --force to do so anyway (the current version "
                "stays in the versions folder), or --store to build elsewhere."
            )
        version_file, version = write_version(path, fill, progress)
        publish(path, version_file)
        prune_versions(path)
    con = duckdb.connect(str(version_file), read_only=True)
    try:
        rows = table_counts(con, DATA_TABLES + DERIVED_TABLES)
    finally:
        con.close()
    return BuildResult(path, version_file, version, rows, time.perf_counter() - started, True)


def _load_seed(con: duckdb.DuckDBPyConnection, version: int) -> None:
    for number, table_file in enumerate(read_folder(SEED_DIR), start=1):
        if table_file.problems:
            first = table_file.problems[0]
            raise StoreError(
                f"data/seed/{first.file} has {len(table_file.problems)} problem(s), first: "
                f"row {first.row}, column {first.column}: {first.reason}"
            )
        insert_frame(con, table_file.table, table_file.rows)
        con.execute(
            "INSERT INTO imports VALUES ($id, now(), $name, $sha, $accepted, 0, $version)",
            {
                "id": number,
                "name": f"data/seed/{table_file.path.name}",
                "sha": table_file.sha256,
                "accepted": len(table_file.rows),
                "version": version,
            },
        )


# Synthetic patients generated and inserted at a time: each insert has a cost of its own, and
# 30,000 patients loaded in 20.7 s in chunks of 5,000 against 24.5 s in chunks of 1,000.
SYNTHETIC_CHUNK_PATIENTS = 5_000


def _load_synthetic(
    con: duckdb.DuckDBPyConnection,
    n_patients: int,
    seed: int,
    progress: Progress | None,
    other_indications: int = 0,
) -> None:
    total = n_patients + other_indications
    insert_frame(con, "sources", synth.synthetic_source(total, seed))
    done = 0
    for chunk in synth.generate(n_patients, seed, chunk_size=SYNTHETIC_CHUNK_PATIENTS):
        for table, frame in chunk.items():
            insert_frame(con, table, frame)
        done += len(chunk["patients"])
        if progress:
            progress(done / total * 0.95, f"synthetic patients {done:,} of {total:,}")
    if other_indications:
        for table, frame in synth_indications.generate(other_indications, seed).items():
            insert_frame(con, table, frame)


def _fingerprint(n_patients: int, seed: int, include_published: bool, others: int = 0) -> str:
    """Everything the built content depends on: the same fingerprint means the same store."""
    digest = hashlib.sha256()
    for part in (SCHEMA_VERSION, __version__, n_patients, seed, include_published, others):
        digest.update(f"{part}\n".encode())
    # The code that makes the content: the generator, the rules, the derive step and the queries.
    inputs = sorted((ROOT / "carta").rglob("*.py")) + sorted((ROOT / "queries").glob("*.sql"))
    inputs += sorted(dictionary.REFERENCE_DIR.glob("*.csv"))  # the reference data, all of it
    if include_published:
        inputs += sorted(SEED_DIR.glob("*.csv"))
    for file in inputs:
        digest.update(str(file.relative_to(ROOT)).encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


def _published_version(path: Path) -> int:
    con = duckdb.connect(str(real_path(path)), read_only=True)
    try:
        return int(
            con.execute("SELECT value FROM store_meta WHERE key = 'store_version'").fetchone()[0]
        )
    finally:
        con.close()
