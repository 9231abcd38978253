"""Benchmark: the case summary as PDF and as slides, charts drawn by vl-convert included.

Target (issue 7): each <= 5 s on a 2-core machine. Measured for the published case (two charts)
and a synthetic patient (five charts), each in a fresh process so that nothing is warm.

    .venv/bin/python -m bench.summary_exports
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from carta.build import build_store
from carta.store import ROOT

TARGET_SECONDS = 5.0

CHILD = """
import sys, time
from pathlib import Path
from carta import case, documents
from carta.store import open_read_only, run_query, store_info
started = time.perf_counter()
con = open_read_only(Path(sys.argv[1]))
query = lambda name, **params: run_query(con, name, **params)
document = case.load_case(query, store_info(con), sys.argv[2], presenting=True).document
make = documents.summary_pdf if sys.argv[3] == "pdf" else documents.summary_pptx
data = make(document)
print(f"{len(document.charts)},{len(data) / 1024:.0f},{time.perf_counter() - started:.2f}")
"""


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = build_store(Path(folder) / "store" / "carta.duckdb").path
        print("| patient | file | charts | size (KB) | seconds | target |")
        print("|---|---|---:|---:|---:|---|")
        ok = True
        for patient in ("NICOLAI-2024", "SYN-00002"):
            for kind in ("pdf", "pptx"):
                out = subprocess.run(
                    [sys.executable, "-c", CHILD, str(store), patient, kind],
                    cwd=ROOT, capture_output=True, text=True, check=True,
                ).stdout.strip().splitlines()[-1]  # fmt: skip
                charts, size, seconds = out.split(",")
                met = float(seconds) <= TARGET_SECONDS
                ok &= met
                print(f"| {patient} | {kind.upper()} | {charts} | {size} | {seconds} | "
                      f"≤ {TARGET_SECONDS:.0f} s {'✓' if met else '✗ MISSED'} |")  # fmt: skip
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
