"""What the page benchmarks share: a page's reruns after each change, in the app's script run
(AppTest), and the stores they run on."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from streamlit.testing.v1 import AppTest

from carta.build import build_store
from carta.store import ROOT

Step = tuple[str, Callable[[AppTest], object]]


def rerun_times(
    store: Path, page: str, steps: list[Step], after: Callable[[AppTest], object] | None = None
) -> tuple[float, list[tuple[str, float, object]]]:
    """(first run, [(step, seconds, after(at)) …]): `page` on `store`, each step then a rerun."""
    os.environ["CARTA_STORE"] = str(store)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page(page)
    started = time.perf_counter()
    at.run()
    cold = time.perf_counter() - started
    # A store the app cannot open shows an error and renders fast: that is no measurement.
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    results = []
    for name, change in steps:
        change(at)
        started = time.perf_counter()
        at.run()
        seconds = time.perf_counter() - started
        assert not at.exception, (name, at.exception)
        results.append((name, seconds, after(at) if after else None))
    return cold, results


def stores(folder: Path, patients: int, given: Path | None) -> tuple[Path, Path]:
    """(the default store, a large one: `given`, or built with `patients` synthetic patients)."""
    large = given or build_store(folder / "large" / "carta.duckdb", n_patients=patients).path
    return build_store(folder / "default" / "carta.duckdb").path, large
