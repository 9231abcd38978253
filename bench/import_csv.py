"""Benchmark: importing one million observation rows from CSV into the default store.

Target (issue 5): <= 10 s on a 2-core machine, with memory bounded. The files are made from the
synthetic generator, relabelled as a site's export (new patient ids, source kind "site").

    .venv/bin/python -m bench.import_csv [--rows 1000000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from bench.memory import REPORT_PEAK, peak_gb
from carta import synth
from carta.build import build_store
from carta.store import ROOT

TARGET_SECONDS = 10.0


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        store = build_store(folder / "store" / "carta.duckdb").path
        *files, rows = site_files(folder, args.rows)
        size_mb = files[2].stat().st_size / 1024**2
        started = time.perf_counter()
        # The CLI, with its own peak memory printed at the end (bench/memory.py).
        code = "import sys\nfrom carta.cli import main\nstatus = main(sys.argv[1:])\n"
        process = subprocess.run(
            [sys.executable, "-c", code + REPORT_PEAK + "sys.exit(status)", "import",
             *map(str, files), "--store", str(store)],
            cwd=ROOT, capture_output=True, text=True,
        )  # fmt: skip
        seconds = time.perf_counter() - started
        status, output = process.returncode, process.stdout
    ok = status == 0 and seconds <= TARGET_SECONDS
    print("| observation rows | CSV (MB) | import (s) | rows/s | peak memory (GB) | target |")
    print("|---:|---:|---:|---:|---:|---|")
    verdict = "✓" if ok else "✗ MISSED"
    print(
        f"| {rows:,} | {size_mb:.0f} | {seconds:.1f} | {rows / seconds:,.0f} | "
        f"{peak_gb(output):.2f} | ≤ {TARGET_SECONDS:.0f} s {verdict} |"
    )
    if status != 0:
        print(output[-2000:])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
