"""Benchmark: store build time, rows per second and peak memory for synthetic cohorts.

Targets (issue 2): 10,000 patients build in under 60 s on a 2-core machine, peak memory under 4 GB;
(issue 17) 100,000 patients in 90 s and 4 GB (`--sizes 100000`). Each build runs
`python -m carta build --force` in its own process so its peak memory is its own.

    .venv/bin/python -m bench.build_store [--sizes 24 1000 10000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from carta.schema import DATA_TABLES
from carta.store import ROOT, real_path, table_counts

TARGET_SECONDS = {10_000: 60.0, 100_000: 90.0}
TARGET_PEAK_GB = 4.0


def measure(patients: int, folder: Path) -> dict[str, float]:
    store = folder / f"bench-{patients}.duckdb"
    started = time.perf_counter()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "carta",
            "build",
            "--force",
            "--patients",
            str(patients),
            "--store",
            str(store),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"build of {patients} patients failed: {process.stderr.read().decode()}")
    con = duckdb.connect(str(real_path(store)), read_only=True)
    rows = sum(table_counts(con, DATA_TABLES).values())
    observations = con.execute("SELECT count(*) FROM observations").fetchone()[0]
    con.close()
    return {
        "patients": patients,
        "seconds": seconds,
        "rows": rows,
        "observations": observations,
        "rows_per_second": rows / seconds,
        "peak_gb": usage.ru_maxrss / 1024**2,  # ru_maxrss is in KiB on Linux
        "file_mb": real_path(store).stat().st_size / 1024**2,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[24, 1000, 10_000])
    args = parser.parse_args()
    print(
        "| patients | build (s) | rows | observations | rows/s | peak memory (GB) | file (MB) "
        "| target |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---|")
    failed = False
    with tempfile.TemporaryDirectory() as folder:
        for n in args.sizes:
            r = measure(n, Path(folder))
            limit = TARGET_SECONDS.get(n)
            ok = r["peak_gb"] < TARGET_PEAK_GB and (limit is None or r["seconds"] < limit)
            failed |= not ok
            target = (
                f"< {limit:.0f} s, < {TARGET_PEAK_GB:.0f} GB"
                if limit
                else f"< {TARGET_PEAK_GB:.0f} GB"
            )
            print(
                f"| {n:,} | {r['seconds']:.1f} | {r['rows']:,} | {r['observations']:,} | "
                f"{r['rows_per_second']:,.0f} | {r['peak_gb']:.2f} | {r['file_mb']:.0f} | "
                f"{target} {'✓' if ok else '✗ MISSED'} |",
                flush=True,
            )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
