"""Benchmark: importing an SDTM package (DM, EX and an LB domain) read as SAS transport or CSV.

Targets (issue "Real clinical data in", item 7): a 60,000-row LB domain in <= 5 s as .xpt and as
CSV, a 1,000,000-row LB CSV in <= 15 s, and reading that grows linearly (the seconds per 100,000
rows of the largest size within 1.5x of those of the next one). The target is judged on the full
import (read, check, publish a new store version into an empty store), timed as the child process
that does it, Python start and imports included (as bench/import_csv.py); the dry run (read and
check only, `dry_run=True`) is printed beside it. The floor beside both: DuckDB reading the same
CSV (`read_csv(all_varchar=true)`, count(*) and into pandas with .df()), and for .xpt
pyreadstat.read_xport into pandas (DuckDB does not read SAS transport). Every record is
accounted for: accepted + refused over the LB reports is the number of LB rows (asserted).

The package (bench/sdtm_data.py) is made from a numpy seed: 500 subjects, one CD19 CAR T infusion
each, LB with ten tests the dictionary knows and three it does not. Each run is a fresh process
with its own peak memory (bench/memory.py); sizes below 500,000 rows run --repeat times (the
median is shown), larger ones once. --profile adds a cProfile of the largest dry run.

    .venv/bin/python -m bench.import_sdtm [--sizes 6000 60000 240000 1000000]
        [--xpt-rows 60000] [--repeat 3] [--profile]
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import sdtm_data
from bench.memory import REPORT_PEAK, peak_gb
from carta.build import build_store
from carta.store import ROOT

TARGET_SECONDS = {("xpt", 60_000): 5.0, ("csv", 60_000): 5.0, ("csv", 1_000_000): 15.0}
LINEAR_TOLERANCE = 1.5  # seconds per 100k rows of the largest size, at most this x the next one
REPEAT_BELOW = 500_000  # sizes below this run --repeat times

# A child's import: the call timed on its own, then the LB accounting, as one JSON line.
IMPORT = """
import json, sys, time
from collections import Counter
from pathlib import Path
from carta.ingest.importer import import_files
started = time.perf_counter()
result = import_files([Path(sys.argv[1])], Path(sys.argv[2]), dry_run=sys.argv[3] == "dry")
seconds = time.perf_counter() - started
lb = [r for r in result.files if r.file.stem.lower() == "lb"]
reasons = Counter(p.reason for r in lb for p in r.problems if p.row is not None
                  and not p.is_warning)
print("result " + json.dumps({
    "seconds": seconds, "version": result.version,
    "accepted": sum(r.accepted for r in lb), "refused": sum(r.rejected for r in lb),
    "tables": {r.table: r.accepted for r in lb}, "statuses": sorted({r.status for r in lb}),
    "others": {r.file.name: r.status for r in result.files if r not in lb},
    "reasons": reasons.most_common(5),
}), flush=True)
"""

PROFILE = """
import cProfile, sys
from pathlib import Path
from carta.ingest.importer import import_files
profile = cProfile.Profile()
profile.enable()
import_files([Path(sys.argv[1])], Path(sys.argv[2]), dry_run=True)
profile.disable()
profile.dump_stats(sys.argv[3])
"""

FLOOR_CSV = """
import sys, time
import duckdb
path = sys.argv[1].replace("'", "''")
con = duckdb.connect()
started = time.perf_counter()
rows = con.execute(f"SELECT count(*) FROM read_csv('{path}', all_varchar=true)").fetchone()[0]
counted = time.perf_counter()
frame = con.execute(f"SELECT * FROM read_csv('{path}', all_varchar=true)").df()
done = time.perf_counter()
print(f"floor {rows} {len(frame)} {counted - started} {done - counted}", flush=True)
"""

FLOOR_XPT = """
import sys, time
import pyreadstat
started = time.perf_counter()
frame, _ = pyreadstat.read_xport(sys.argv[1])
done = time.perf_counter()
print(f"floor {len(frame)} {len(frame)} nan {done - started}", flush=True)
"""


@dataclass
class Run:
    wall: float  # the child process, Python start and imports included
    seconds: float  # the import_files call alone
    peak: float  # GB
    result: dict = field(default_factory=dict)


@dataclass
class Case:
    form: str
    rows: int
    megabytes: float
    dry: Run
    full: Run
    floor_count: float | None  # DuckDB count(*); None for .xpt
    floor_frame: float  # DuckDB .df(), or pyreadstat.read_xport


def child(code: str, *args: str) -> tuple[float, str]:
    started = time.perf_counter()
    process = subprocess.run(
        [sys.executable, "-c", code + REPORT_PEAK, *args], cwd=ROOT, capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    if process.returncode != 0:
        failed = process.stdout[-2000:] + process.stderr[-4000:]
        raise SystemExit(f"the child {args} failed:\n{failed}")
    return wall, process.stdout


def import_run(folder: Path, store: Path, rows: int, mode: str) -> Run:
    wall, output = child(IMPORT, str(folder), str(store), mode)
    line = next(x for x in output.splitlines() if x.startswith("result "))
    result = json.loads(line.removeprefix("result "))
    counted = result["accepted"] + result["refused"]
    assert counted == rows, f"{mode} of {rows:,} LB rows: {counted:,} accounted for ({result})"
    if mode == "full":
        assert result["version"] is not None, f"nothing was published: {result}"
        assert set(result["statuses"]) == {"imported"}, result
    return Run(wall, result["seconds"], peak_gb(output), result)


def floor(path: Path, rows: int) -> tuple[float | None, float]:
    _, output = child(FLOOR_XPT if path.suffix == ".xpt" else FLOOR_CSV, str(path))
    counted, framed, count_s, frame_s = next(
        x for x in output.splitlines() if x.startswith("floor ")
    ).split()[1:]
    assert int(counted) == int(framed) == rows, (path, counted, framed, rows)
    return (None if count_s == "nan" else float(count_s)), float(frame_s)


def median_run(runs: list[Run]) -> Run:
    """The run of median wall time, with the median call time and the highest peak."""
    chosen = sorted(runs, key=lambda r: r.wall)[len(runs) // 2]
    seconds = statistics.median(r.seconds for r in runs)
    return Run(chosen.wall, seconds, max(r.peak for r in runs), chosen.result)


def measure(work: Path, form: str, rows: int, repeat: int) -> Case:
    folder = work / f"{form}-{rows}"
    say(f"{form} {rows:,} rows: writing the package")
    lb = sdtm_data.write_package(folder / "package", rows, form)
    times = repeat if rows < REPEAT_BELOW else 1
    dry, full, floors = [], [], []
    for number in range(times):
        # A fresh empty store each time: a file imported once is not imported again.
        store = build_store(folder / f"store-{number}" / "carta.duckdb", n_patients=0,
                            include_published=False).path  # fmt: skip
        say(f"{form} {rows:,} rows: dry run and full import ({number + 1} of {times})")
        dry.append(import_run(folder / "package", store, rows, "dry"))
        full.append(import_run(folder / "package", store, rows, "full"))
        floors.append(floor(lb, rows))
        shutil.rmtree(store.parent)
    count = None if floors[0][0] is None else statistics.median(f[0] for f in floors)
    case = Case(form, rows, lb.stat().st_size / 1024**2, median_run(dry), median_run(full),
                count, statistics.median(f[1] for f in floors))  # fmt: skip
    shutil.rmtree(folder)
    return case


def profile(work: Path, rows: int, top: int = 15) -> None:
    folder = work / f"profile-{rows}"
    say(f"profile: dry run of {rows:,} rows")
    sdtm_data.write_package(folder / "package", rows, "csv")
    store = build_store(folder / "store" / "carta.duckdb", n_patients=0,
                        include_published=False).path  # fmt: skip
    stats_file = folder / "dry-run.prof"
    wall, _ = child(PROFILE, str(folder / "package"), str(store), str(stats_file))
    stats = pstats.Stats(str(stats_file)).stats  # (file, line, function) -> (cc, nc, tt, ct, _)
    total = max(ct for (_, _, name), (_, _, _, ct, _) in stats.items() if name == "import_files")
    carta = str(ROOT / "carta")

    def where(key) -> str:
        file, line, name = key
        short = str(Path(file).relative_to(ROOT)) if file.startswith(str(ROOT)) else file
        short = short.split("site-packages/")[-1]
        return f"`{short}:{line}` {name}" if line else f"`{name}`"

    print(
        f"\nProfile of the dry run of {rows:,} LB CSV rows (cProfile, in a child: {total:.1f} s in "
        f"import_files, {wall:.1f} s with Python start; the profiler slows Python-level loops)\n"
    )
    print(f"Top {top} by cumulative time under carta/:\n")
    print("| function | calls | own (s) | cumulative (s) | share |")
    print("|---|---:|---:|---:|---:|")
    ours = sorted(((k, v) for k, v in stats.items() if k[0].startswith(carta)),
                  key=lambda kv: -kv[1][3])[:top]  # fmt: skip
    for key, (_, calls, own, cumulative, _) in ours:
        print(f"| {where(key)} | {calls:,} | {own:.2f} | {cumulative:.2f} | "
              f"{cumulative / total:.0%} |")  # fmt: skip
    print(f"\nTop {top} by own time, anywhere:\n")
    print("| function | calls | own (s) | cumulative (s) |")
    print("|---|---:|---:|---:|")
    for key, (_, calls, own, cumulative, _) in sorted(stats.items(), key=lambda kv: -kv[1][2])[
        :top
    ]:
        print(f"| {where(key)} | {calls:,} | {own:.2f} | {cumulative:.2f} |")
    shutil.rmtree(folder)


def commit() -> str:
    """The commit the benchmark measures, and whether carta/ differs from it."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True).stdout.strip()  # fmt: skip
    changed = subprocess.run(["git", "status", "--porcelain", "carta"], cwd=ROOT,
                             capture_output=True, text=True).stdout.strip()  # fmt: skip
    return f"{head or 'unknown'}" + (" with uncommitted changes in carta/" if changed else "")


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def per_100k(seconds: float, rows: int) -> float:
    return seconds / rows * 100_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[6_000, 60_000, 240_000,
                                                                   1_000_000])  # fmt: skip
    parser.add_argument("--xpt-rows", type=int, nargs="*", default=[60_000])
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help=f"runs of each size below {REPEAT_BELOW:,} rows (the median shown)",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the largest dry run")
    args = parser.parse_args()
    sizes = sorted(set(args.sizes))
    load = os.getloadavg()[0]
    revision = commit()
    with tempfile.TemporaryDirectory(prefix="carta-sdtm-bench-") as work:
        work = Path(work)
        cases = [measure(work, "xpt", rows, args.repeat) for rows in args.xpt_rows]
        cases += [measure(work, "csv", rows, args.repeat) for rows in sizes]
        missed = report(cases)
        print(f"\n{os.cpu_count()} CPUs; load average (1 min) {load:.1f} at the start, "
              f"{os.getloadavg()[0]:.1f} at the end; carta at {revision}.")  # fmt: skip
        if args.profile:
            profile(work, sizes[-1])
    sys.exit(1 if missed else 0)


def report(cases: list[Case]) -> bool:
    """The two tables; True when a target is missed."""
    missed = False
    print("| LB | rows | file (MB) | dry run (s) | full import (s) | rows/s (full) | "
          "peak GB dry / full | floor: read (s) | floor: into pandas (s) | full ÷ floor | "
          "target |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for c in cases:
        target = TARGET_SECONDS.get((c.form, c.rows))
        verdict = ""
        if target is not None:
            ok = c.full.wall <= target
            missed |= not ok
            verdict = f"≤ {target:.0f} s " + ("✓" if ok else "✗ MISSED")
        count = "—" if c.floor_count is None else f"{c.floor_count:.2f}"
        print(
            f"| {c.form} | {c.rows:,} | {c.megabytes:.1f} | {c.dry.wall:.1f} | {c.full.wall:.1f} | "
            f"{c.rows / c.full.wall:,.0f} | {c.dry.peak:.2f} / {c.full.peak:.2f} | {count} | "
            f"{c.floor_frame:.2f} | {c.full.wall / c.floor_frame:.0f}× | {verdict} |"
        )
    print(
        f"\nTimes are child processes, Python start and imports included; for sizes below "
        f"{REPEAT_BELOW:,} rows the median of their runs. Floor: DuckDB "
        "read_csv(all_varchar=true) count(*) and .df() of the same file; for .xpt, "
        "pyreadstat.read_xport (DuckDB does not read SAS transport)."
    )
    csv_cases = [c for c in cases if c.form == "csv"]
    print("\nLinear growth (LB CSV; the import_files call alone, without Python start):\n")
    print("| rows | dry run (s) | s / 100k rows | full import (s) | s / 100k rows | "
          "added s / 100k rows (full) | DuckDB .df() (s) | peak GB (full) |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for before, c in zip([None, *csv_cases], csv_cases, strict=False):
        step = "—"
        if before is not None:
            step = f"{per_100k(c.full.seconds - before.full.seconds, c.rows - before.rows):.2f}"
        print(
            f"| {c.rows:,} | {c.dry.seconds:.2f} | {per_100k(c.dry.seconds, c.rows):.2f} | "
            f"{c.full.seconds:.2f} | {per_100k(c.full.seconds, c.rows):.2f} | {step} | "
            f"{c.floor_frame:.2f} | {c.full.peak:.2f} |"
        )
    if len(csv_cases) >= 2:
        last, before = (per_100k(c.full.seconds, c.rows) for c in csv_cases[:-3:-1])
        linear = last <= LINEAR_TOLERANCE * before
        missed |= not linear
        print(
            f"\nLinear: {last:.2f} s per 100k rows at {csv_cases[-1].rows:,} rows, {before:.2f} at "
            f"{csv_cases[-2].rows:,} (≤ {LINEAR_TOLERANCE}× " + ("✓)" if linear else "✗ MISSED)")
        )
    print("\nAccounting (accepted + refused = LB rows, asserted for every run):\n")
    print("| LB | rows | observations | other observations | refused | most common refusal |")
    print("|---|---:|---:|---:|---:|---|")
    for c in cases:
        r = c.full.result
        reason = f"{r['reasons'][0][0]} ({r['reasons'][0][1]:,})" if r["reasons"] else "—"
        print(
            f"| {c.form} | {c.rows:,} | {r['tables'].get('observations', 0):,} | "
            f"{r['tables'].get('other_observations', 0):,} | {r['refused']:,} | {reason} |"
        )
    return missed


if __name__ == "__main__":
    main()
