"""The store as a Parquet dataset (carta/parquet.py): every query file gives the same rows on the
DuckDB store and on its export, whole and read over one source; the pages render on it; a
registry adds a site by dropping in its partitions; writers refuse it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from carta import parquet
from carta.cli import main
from carta.store import StoreError, open_read_only, open_scoped, query_names, writer_lock
from tests.backends import agree, export_parquet
from tests.conftest import PUBLISHED_ID, open_page
from tests.test_queries import store_query_names


@pytest.fixture(scope="module")
def dataset(fixture_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_parquet(fixture_store, tmp_path_factory.mktemp("parquet") / "store")


@pytest.mark.parametrize("name", store_query_names())
def test_every_query_gives_the_same_rows_on_both_backends(name, fixture_store, dataset) -> None:
    agree(name, open_read_only(fixture_store), open_read_only(dataset))


@pytest.mark.parametrize("name", [n for n in query_names() if n.startswith("patient")])
def test_read_over_one_source_the_backends_agree(name, fixture_store, dataset) -> None:
    sources = frozenset({"synthetic"})
    agree(name, open_scoped(fixture_store, sources), open_scoped(dataset, sources))


def test_the_dataset_is_partitioned_by_source(dataset) -> None:
    sources = {p.name for p in (dataset / "observations").iterdir()}
    assert sources == {"source_id=nicolai2024", "source_id=synthetic"}
    # A derived table by its patient's source, a reference table as one file.
    assert (dataset / "lab_grades" / "source_id=synthetic").is_dir()
    assert [p.name for p in (dataset / "parameters").iterdir()] == ["data.parquet"]
    assert parquet.is_dataset(dataset)


@pytest.mark.parametrize("page", ["pages/home.py", "pages/trajectory.py", "pages/summary.py",
                                  "pages/cohort.py", "pages/safety.py", "pages/completeness.py",
                                  "pages/data.py"])  # fmt: skip
def test_every_page_renders_on_the_dataset(page, dataset, monkeypatch) -> None:
    at = open_page(dataset, monkeypatch, page, patient=PUBLISHED_ID)
    assert not at.exception
    assert not [e.value for e in at.error], page


def test_a_site_dropped_in_as_partitions_is_read(dataset, tmp_path) -> None:
    """A registry adds a centre by copying its partitions in: its patients and rows are read."""
    registry = tmp_path / "registry"
    shutil.copytree(dataset, registry)
    for table in ("sources", "patients", "observations"):
        site = registry / table / "source_id=site-b"
        shutil.copytree(registry / table / "source_id=synthetic", site)
    con = open_read_only(registry)
    try:
        ids = con.execute("SELECT source_id, count(*) FROM patients GROUP BY ALL").fetchall()
    finally:
        con.close()
    counts = dict(ids)
    assert counts["site-b"] == counts["synthetic"] > 0


def test_writers_refuse_the_dataset_and_export_keeps_what_exists(dataset, tmp_path) -> None:
    with pytest.raises(StoreError, match="Parquet store, served read-only"), writer_lock(dataset):
        pass
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    assert main(["export-parquet", str(taken), "--store", str(dataset)]) == 2
    assert (taken / "notes.txt").read_text() == "mine"
    folder = tmp_path / "not-a-store"
    folder.mkdir()
    with pytest.raises(StoreError, match="not a Carta Parquet store"):
        open_read_only(folder)
