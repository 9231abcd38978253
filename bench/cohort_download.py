"""Benchmark: downloading the whole filtered long data of a large store (every observation of
every patient) as CSV and Parquet.

Target (issue 6): the download streams without holding the data twice in memory. It is written a
record batch at a time from DuckDB to a temporary file (carta/exports.py); the peak memory of the
process is reported beside the size of the data.

    .venv/bin/python -m bench.cohort_download [--store PATH] [--patients 10000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from carta.build import build_store
from carta.store import ROOT

# One export per process, so that each peak is its own (VmHWM: see bench/memory.py).
CHILD = """
import sys, time
from pathlib import Path
from carta import exports
from carta.store import open_read_only, run_query
con = open_read_only(Path(sys.argv[1]))
patients = run_query(con, "patient_ids", search="", max_rows=10**9)["patient_id"].tolist()
started = time.perf_counter()
with exports.stream_query(con, "cohort_observations", {"patients": patients}, sys.argv[2]) as f:
    size = f.seek(0, 2)
    seconds = time.perf_counter() - started
    peak = [int(line.split()[1]) for line in open("/proc/self/status")
            if line.startswith("VmHWM:")][0] / 1024**2  # before counting rows, which reads back
    f.seek(0)
    rows = exports.written_rows(f, sys.argv[2])
print(f"{len(patients)},{rows},{size / 1024**2:.0f},{seconds:.1f},{peak:.2f}")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--store", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = (
            args.store
            or build_store(Path(folder) / "large" / "carta.duckdb", n_patients=args.patients).path
        )
        print("| format | patients | rows | file (MB) | write (s) | peak memory (GB) |")
        print("|---|---:|---:|---:|---:|---:|")
        for file_format in ("csv", "parquet"):
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(store), file_format],
                cwd=ROOT, capture_output=True, text=True, check=True,
            ).stdout.strip().splitlines()[-1]  # fmt: skip
            patients, rows, size, seconds, peak = out.split(",")
            print(f"| {file_format} | {int(patients):,} | {int(rows):,} | {size} | {seconds} | "
                  f"{peak} |")  # fmt: skip


if __name__ == "__main__":
    main()
