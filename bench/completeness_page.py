"""Benchmark: the completeness view's rerun after a filter or patient change, on a large store.

Targets (issue 17; issue 16 asked for 1 s): a median rerun <= 300 ms at 10,000 patients and <= 1
s at 100,000, within 2 x of the time its queries spend in DuckDB (printed beside it). The page
is also rendered on the default and an empty store, and must raise nothing on any of them.
Measured in the app's script run (AppTest), as bench/safety_page.py is.

    .venv/bin/python -m bench.completeness_page [--patients 10000] [--store PATH]
"""

from __future__ import annotations

from bench.page_reruns import page_benchmark

STEPS = [
    ("sex = F", lambda at: at.multiselect(key="sex").set_value(["F"])),
    ("another patient", lambda at: at.selectbox(key="patient").set_value(
        at.selectbox(key="patient").options[-1])),
    ("source = synthetic", lambda at: at.multiselect(key="src").set_value(["synthetic"])),
    ("sex cleared", lambda at: at.multiselect(key="sex").set_value([])),
    ("source cleared", lambda at: at.multiselect(key="src").set_value([])),
]  # fmt: skip


def main() -> None:
    page_benchmark(__doc__, "pages/completeness.py", STEPS)


if __name__ == "__main__":
    main()
