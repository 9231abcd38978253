"""Benchmark: the safety view's rerun after a filter change, on a large synthetic store.

Target (issue 11): a safety-page rerun <= 1 s at 10,000 patients (median over the filter
changes). The page is also rendered on the default and an empty store, and must raise nothing on
any of them. Measured in the app's script run (AppTest), as bench/cohort_page.py is.

    .venv/bin/python -m bench.safety_page [--patients 10000] [--store PATH]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from bench.page_reruns import rerun_times, stores
from carta.build import build_store

TARGET_SECONDS = 1.0

STEPS = [
    ("sex = F", lambda at: at.multiselect(key="sex").set_value(["F"])),
    ("autoantibody", lambda at: at.multiselect(key="ab").set_value(["anti-NXP2", "anti-MDA5"])),
    ("autoantibody cleared", lambda at: at.multiselect(key="ab").set_value([])),
    ("source = synthetic", lambda at: at.multiselect(key="src").set_value(["synthetic"])),
    ("sex cleared", lambda at: at.multiselect(key="sex").set_value([])),
    ("source cleared", lambda at: at.multiselect(key="src").set_value([])),
]


def measure(store: Path, steps: bool = True) -> tuple[float, list[tuple[str, float, object]]]:
    return rerun_times(store, "pages/safety.py", STEPS if steps else [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--store", type=Path, help="an existing store (else one is built)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        default, large = stores(Path(folder), args.patients, args.store)
        empty = build_store(Path(folder) / "empty" / "carta.duckdb", n_patients=0,
                            include_published=False).path  # fmt: skip
        measure(empty, steps=False)  # renders, with its empty-store message
        table = {label: measure(path) for label, path in (("default", default), ("large", large))}
    print("| change | default store (s) | large store (s) |")
    print("|---|---:|---:|")
    for index, (name, _) in enumerate(STEPS):
        print(f"| {name} | {table['default'][1][index][1]:.2f} | "
              f"{table['large'][1][index][1]:.2f} |")  # fmt: skip
    medians = {k: statistics.median(s for _, s, _ in v[1]) for k, v in table.items()}
    print(f"| **median rerun** | **{medians['default']:.2f}** | **{medians['large']:.2f}** |")
    print(f"| first run (cold caches) | {table['default'][0]:.2f} | {table['large'][0]:.2f} |")
    print("empty store: renders with its message")
    ok = medians["large"] <= TARGET_SECONDS
    print(f"\ntarget: median rerun ≤ {TARGET_SECONDS:.0f} s at the large store: "
          + ("✓" if ok else "✗ MISSED"))  # fmt: skip
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
