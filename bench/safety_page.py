"""Benchmark: the safety view's rerun after a filter change, on a large synthetic store.

Target (issue 11): a safety-page rerun <= 1 s at 10,000 patients (median over the filter
changes). The page is also rendered on the default and an empty store, and must raise nothing on
any of them. Measured in the app's script run (AppTest), as bench/cohort_page.py is.

    .venv/bin/python -m bench.safety_page [--patients 10000] [--store PATH]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from carta.build import build_store
from carta.store import ROOT

TARGET_SECONDS = 1.0

STEPS = [
    ("sex = F", lambda at: at.multiselect(key="sex").set_value(["F"])),
    ("autoantibody", lambda at: at.multiselect(key="ab").set_value(["anti-NXP2", "anti-MDA5"])),
    ("autoantibody cleared", lambda at: at.multiselect(key="ab").set_value([])),
    ("source = synthetic", lambda at: at.multiselect(key="src").set_value(["synthetic"])),
    ("sex cleared", lambda at: at.multiselect(key="sex").set_value([])),
    ("source cleared", lambda at: at.multiselect(key="src").set_value([])),
]


def measure(store: Path, steps: bool = True) -> tuple[float, list[tuple[str, float]]]:
    os.environ["CARTA_STORE"] = str(store)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page("pages/safety.py")
    started = time.perf_counter()
    at.run()
    cold = time.perf_counter() - started
    assert not at.exception, at.exception
    results = []
    for name, change in STEPS if steps else ():
        change(at)
        started = time.perf_counter()
        at.run()
        results.append((name, time.perf_counter() - started))
        assert not at.exception, (name, at.exception)
    return cold, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--store", type=Path, help="an existing store (else one is built)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        large = (
            args.store
            or build_store(Path(folder) / "large" / "carta.duckdb", n_patients=args.patients).path
        )
        default = build_store(Path(folder) / "default" / "carta.duckdb").path
        empty = build_store(Path(folder) / "empty" / "carta.duckdb", n_patients=0,
                            include_published=False).path  # fmt: skip
        measure(empty, steps=False)  # renders, with its empty-store message
        table = {label: measure(path) for label, path in (("default", default), ("large", large))}
    print("| change | default store (s) | large store (s) |")
    print("|---|---:|---:|")
    for index, (name, _) in enumerate(STEPS):
        print(f"| {name} | {table['default'][1][index][1]:.2f} | "
              f"{table['large'][1][index][1]:.2f} |")  # fmt: skip
    medians = {k: statistics.median(s for _, s in v[1]) for k, v in table.items()}
    print(f"| **median rerun** | **{medians['default']:.2f}** | **{medians['large']:.2f}** |")
    print(f"| first run (cold caches) | {table['default'][0]:.2f} | {table['large'][0]:.2f} |")
    print("empty store: renders with its message")
    ok = medians["large"] <= TARGET_SECONDS
    print(f"\ntarget: median rerun ≤ {TARGET_SECONDS:.0f} s at the large store: "
          + ("✓" if ok else "✗ MISSED"))  # fmt: skip
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
