"""Shared fixtures: small stores built once per test session through the real build path."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, settings

from carta.build import build_store

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
