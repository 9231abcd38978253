"""Benchmark: importing one million observation rows from CSV into the default store, beside
DuckDB's own read_csv of the same file (the floor: what reading the file into a table costs the
engine, with no check at all).

Target (issue 17): the import within 3 s on a 2-core machine and within twice DuckDB's read_csv
of the file, its checks included, with memory bounded. The import's time is the CLI's, from its
start to the new version published; the derived tables it recomputes for the new version are
timed apart and are the build's to speed up (bench/derived_tables.py), so the target is judged
on the import without them. The files are made from the synthetic generator, relabelled as a
site's export (new patient ids, source kind "site").

    .venv/bin/python -m bench.import_csv [--rows 1000000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pandas as pd

from bench.memory import REPORT_PEAK, peak_gb
from carta import synth
from carta.build import build_store
from carta.store import ROOT

TARGET_SECONDS = 3.0
TARGET_RATIO = 2.0

# The CLI as a user runs it, with the time spent writing the new version and recomputing its
# derived tables printed at the end ("<name>_seconds <n>"), then its own peak memory.
_CHILD = """
import sys, time
import carta.ingest.importer as importer

spent = {"write": 0.0, "derive": 0.0}

def timed(name, function):
    def run(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[name] += time.perf_counter() - started
    return run

importer.write_version = timed("write", importer.write_version)
importer.derive_tables = timed("derive", importer.derive_tables)
from carta.cli import main
status = main(sys.argv[1:])
for name, seconds in spent.items():
    print(f"{name}_seconds {seconds:.3f}", flush=True)
"""


def site_files(folder: Path, rows: int) -> tuple[Path, Path, Path, int]:
    patients = max(1, rows // 350)
    chunks = list(synth.generate(patients, seed=7))
    people = pd.concat([c["patients"] for c in chunks])
    observations = pd.concat([c["observations"] for c in chunks]).head(rows)
    rename = {pid: pid.replace("SYN-", "SITE-") for pid in people["patient_id"]}
    people = people.assign(patient_id=people["patient_id"].map(rename), source_id="site-bench",
                           cohort="Site export", synthetic=True)  # fmt: skip
    observations = observations.assign(
        patient_id=observations["patient_id"].map(rename), source_id="site-bench"
    )
    paths = (folder / "sources.csv", folder / "patients.csv", folder / "observations.csv")
    pd.DataFrame([{"source_id": "site-bench", "kind": "site",
                   "citation": "Benchmark export (synthetic values)", "doi": None,
                   "note": None}]).to_csv(paths[0], index=False)  # fmt: skip
    people.to_csv(paths[1], index=False)
    observations.to_csv(paths[2], index=False)
    return (*paths, len(observations))


def read_csv_seconds(csv: Path, folder: Path) -> float:
    """DuckDB's read_csv of `csv` into a table of a new database file, written to disk."""
    con = duckdb.connect(str(folder / "floor.duckdb"))
    try:
        started = time.perf_counter()
        con.execute("CREATE TABLE observations AS SELECT * FROM read_csv($csv)", {"csv": str(csv)})
        con.execute("CHECKPOINT")
        return time.perf_counter() - started
    finally:
        con.close()


def _seconds(output: str, name: str) -> float:
    lines = [line for line in output.splitlines() if line.startswith(f"{name}_seconds ")]
    return float(lines[-1].split()[1]) if lines else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        store = build_store(folder / "store" / "carta.duckdb").path
        *files, rows = site_files(folder, args.rows)
        size_mb = files[2].stat().st_size / 1024**2
        floor = read_csv_seconds(files[2], folder)
        started = time.perf_counter()
        process = subprocess.run(
            [sys.executable, "-c", _CHILD + REPORT_PEAK + "sys.exit(status)", "import",
             *map(str, files), "--store", str(store)],
            cwd=ROOT, capture_output=True, text=True,
        )  # fmt: skip
        seconds = time.perf_counter() - started
        status, output = process.returncode, process.stdout
    write, derive = _seconds(output, "write"), _seconds(output, "derive")
    without = seconds - derive
    ok = status == 0 and without <= min(TARGET_SECONDS, TARGET_RATIO * floor)
    print(
        "| observation rows | CSV (MB) | import (s) | start and checks (s) | new version (s) | "
        "of which derived tables (s) | import without them (s) | DuckDB read_csv (s) | ratio | "
        "peak memory (GB) | target |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    verdict = "✓" if ok else "✗ MISSED"
    print(
        f"| {rows:,} | {size_mb:.0f} | {seconds:.1f} | {seconds - write:.1f} | {write:.1f} | "
        f"{derive:.1f} | {without:.1f} | {floor:.1f} | {without / floor:.1f}× "
        f"({seconds / floor:.1f}× with them) | {peak_gb(output):.2f} | ≤ {TARGET_SECONDS:.0f} s "
        f"and ≤ {TARGET_RATIO:.0f}× read_csv {verdict} |"
    )
    if status != 0:
        print(output[-2000:])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
