"""Shared fixtures: small stores built once per test session through the real build path."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, settings
from streamlit.testing.v1 import AppTest

from carta import synth, synth_indications
from carta.build import build_store
from carta.store import ROOT

# Property tests: no time limit per example (CI machines are shared and slow at times); in CI
# the examples are derived from the test itself, so a run can be repeated exactly.
settings.register_profile(
    "carta",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=bool(os.environ.get("CI")),
)
settings.load_profile("carta")


FIXTURE_PATIENTS = 6
PUBLISHED_ID = "NICOLAI-2024"
# The default store: the published case, the JDM cohort and the lupus, systemic sclerosis and
# adult myositis patients (carta/synth_indications.py).
DEFAULT_SYNTHETIC = synth.DEFAULT_PATIENTS + synth_indications.DEFAULT_PATIENTS
DEFAULT_PATIENT_COUNT = 1 + DEFAULT_SYNTHETIC


@pytest.fixture(scope="session")
def fixture_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The published case plus a few synthetic patients."""
    path = tmp_path_factory.mktemp("fixture") / "carta.duckdb"
    build_store(path, n_patients=FIXTURE_PATIENTS)
    return path


@pytest.fixture(scope="session")
def default_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Exactly what a new user gets: the published case and the default synthetic cohort."""
    path = tmp_path_factory.mktemp("default") / "carta.duckdb"
    build_store(path)
    return path


@pytest.fixture(scope="session")
def empty_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The schema and the reference tables, no patients."""
    path = tmp_path_factory.mktemp("empty") / "carta.duckdb"
    build_store(path, n_patients=0, include_published=False)
    return path


@pytest.fixture
def read(fixture_store: Path):
    """Run SQL against the fixture store and return a DataFrame."""
    con = duckdb.connect(str(fixture_store), read_only=True)
    yield lambda sql, params=None: con.execute(sql, params or {}).df()
    con.close()


def open_page(store: Path, monkeypatch: pytest.MonkeyPatch, page: str, **query) -> AppTest:
    """The app on `store`, opened at `page` with `query` in the URL, after its first run."""
    monkeypatch.setenv("CARTA_STORE", str(store))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at
