"""Benchmark: the completeness view's rerun after a filter or patient change, on a large store.

Target (issue 16): a completeness-page rerun <= 1 s at 10,000 patients (median over the
changes). The page is also rendered on the default and an empty store, and must raise nothing on
any of them. Measured in the app's script run (AppTest), as bench/safety_page.py is.

    .venv/bin/python -m bench.completeness_page [--patients 10000] [--store PATH]
"""

from __future__ import annotations

from bench.page_reruns import page_benchmark

TARGET_SECONDS = 1.0

STEPS = [
    ("sex = F", lambda at: at.multiselect(key="sex").set_value(["F"])),
    ("another patient", lambda at: at.selectbox(key="patient").set_value(
        at.selectbox(key="patient").options[-1])),
    ("source = synthetic", lambda at: at.multiselect(key="src").set_value(["synthetic"])),
    ("sex cleared", lambda at: at.multiselect(key="sex").set_value([])),
    ("source cleared", lambda at: at.multiselect(key="src").set_value([])),
]  # fmt: skip


def main() -> None:
    page_benchmark(__doc__, "pages/completeness.py", STEPS, TARGET_SECONDS)


if __name__ == "__main__":
    main()
