"""Benchmark: the safety view's rerun after a filter change, on a large synthetic store.

Targets (issue 17; issue 11 asked for 1 s): a median rerun <= 300 ms at 10,000 patients and <= 1
s at 100,000, within 2 x of the time its queries spend in DuckDB (printed beside it). The page
is also rendered on the default and an empty store, and must raise nothing on any of them.
Measured in the app's script run (AppTest), as bench/cohort_page.py is.

    .venv/bin/python -m bench.safety_page [--patients 10000] [--store PATH]
"""

from __future__ import annotations

from pathlib import Path

from bench.page_reruns import page_benchmark, rerun_times

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
    page_benchmark(__doc__, "pages/safety.py", STEPS)


if __name__ == "__main__":
    main()
