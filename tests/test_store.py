"""The store: built, versioned, published atomically, idempotent, refused clearly when unusable."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from carta import synth
from carta.build import build_store
from carta.schema import ALL_TABLES, DATA_TABLES, SCHEMA_VERSION, columns
from carta.store import (
    ROOT,
    StoreError,
    open_read_only,
    prune_versions,
    real_path,
    run_query,
    versions_dir,
)


def content_digest(path: Path) -> str:
    """A digest of every data and reference table's rows in a fixed order."""
    digest = hashlib.sha256()
    con = duckdb.connect(str(real_path(path)), read_only=True)
    try:
        for table in (*DATA_TABLES, "parameters", "timepoints"):
            order = ", ".join(f"{c} NULLS FIRST" for c in columns(table))
            for row in con.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall():
                digest.update(repr(row).encode())
    finally:
        con.close()
    return digest.hexdigest()


def test_build_creates_every_table_and_publishes_a_versioned_file(tmp_path: Path) -> None:
    path = tmp_path / "carta.duckdb"
    result = build_store(path, n_patients=3)

    assert result.published and result.version == 1
    assert path.is_symlink()
    assert real_path(path) == result.version_file.resolve()
    assert result.version_file.parent == versions_dir(path)
    con = open_read_only(path)
    listed = con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    tables = {r[0] for r in listed}
    assert set(ALL_TABLES) <= tables
    meta = dict(con.execute("SELECT key, value FROM store_meta").fetchall())
    assert meta["schema_version"] == str(SCHEMA_VERSION)
    assert meta["store_version"] == "1"
    assert con.execute("SELECT count(*) FROM patients").fetchone()[0] == 4  # published + 3
    con.close()
    assert result.rows["patients"] == 4
    assert result.rows["observations"] > 100


def test_build_twice_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "carta.duckdb"
    first = build_store(path, n_patients=3)
    digest = content_digest(path)

    again = build_store(path, n_patients=3)
    assert not again.published
    assert again.version == first.version
    assert real_path(path) == first.version_file.resolve()

    forced = build_store(path, n_patients=3, force=True)
    assert forced.published and forced.version == first.version + 1
    assert content_digest(path) == digest


def test_other_settings_publish_a_new_version(tmp_path: Path) -> None:
    path = tmp_path / "carta.duckdb"
    build_store(path, n_patients=3)
    second = build_store(path, n_patients=3, seed=synth.DEFAULT_SEED + 1)
    assert second.published and second.version == 2


def test_a_reader_keeps_its_version_while_a_new_one_is_published(tmp_path: Path) -> None:
    path = tmp_path / "carta.duckdb"
    build_store(path, n_patients=2)
    reader = open_read_only(path)
    before = reader.execute("SELECT count(*) FROM patients").fetchone()[0]

    build_store(path, n_patients=5)

    assert reader.execute("SELECT count(*) FROM patients").fetchone()[0] == before == 3
    reader.close()
    fresh = open_read_only(path)
    assert fresh.execute("SELECT count(*) FROM patients").fetchone()[0] == 6
    fresh.close()


def test_an_interrupted_build_leaves_the_published_store_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "carta.duckdb"
    first = build_store(path, n_patients=2)

    real_generate = synth.generate

    def broken_generate(*args, **kwargs):
        yield from real_generate(*args, **kwargs)
        raise KeyboardInterrupt  # as if the process were stopped halfway

    monkeypatch.setattr(synth, "generate", broken_generate)
    with pytest.raises(KeyboardInterrupt):
        build_store(path, n_patients=4)

    assert real_path(path) == first.version_file.resolve()
    # Nothing but the published version (besides the writer's lock and its record of the last
    # version number used).
    kept = versions_dir(path).iterdir()
    assert sorted(p.name for p in kept if p.suffix != ".lock" and p.name != ".last-version") == [
        first.version_file.name
    ]
    con = open_read_only(path)
    assert con.execute("SELECT count(*) FROM patients").fetchone()[0] == 3
    con.close()


def test_old_versions_are_pruned_but_never_the_published_one(tmp_path: Path) -> None:
    path = tmp_path / "carta.duckdb"
    for seed in range(4):
        build_store(path, n_patients=1, seed=seed)
    removed = prune_versions(path, keep=2)
    assert [p.name for p in removed] == ["carta-v0001.duckdb", "carta-v0002.duckdb"]
    remaining = sorted(p.name for p in versions_dir(path).glob("*.duckdb"))
    assert remaining == ["carta-v0003.duckdb", "carta-v0004.duckdb"]
    assert real_path(path).name == "carta-v0004.duckdb"


def test_a_plain_file_at_the_store_path_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "mine.duckdb"
    path.write_bytes(b"precious")
    with pytest.raises(StoreError, match="plain file"):
        build_store(path, n_patients=1)
    assert path.read_bytes() == b"precious"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: None, "No Carta store"),
        (lambda p: p.write_bytes(b"not a database" * 100), "cannot be read"),
        (lambda p: duckdb.connect(str(p)).close(), "not a Carta store"),
    ],
    ids=["missing", "garbage", "foreign-duckdb"],
)
def test_unusable_stores_are_refused_with_a_clear_message(tmp_path: Path, make, message) -> None:
    path = tmp_path / "store.duckdb"
    make(path)
    with pytest.raises(StoreError, match=message):
        open_read_only(path)


def test_a_store_of_another_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE store_meta (key VARCHAR, value VARCHAR)")
    con.execute("INSERT INTO store_meta VALUES ('schema_version', '0')")
    con.close()
    with pytest.raises(StoreError, match=r"schema version 0.*python -m carta build"):
        open_read_only(path)


def test_run_query_insists_on_the_declared_parameters(fixture_store: Path) -> None:
    con = open_read_only(fixture_store)
    with pytest.raises(TypeError, match="patient_id"):
        run_query(con, "patient_observations")
    with pytest.raises(ValueError, match="not a query name"):
        run_query(con, "../schema")
    con.close()


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "carta", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def test_cli_build_then_info(tmp_path: Path) -> None:
    path = tmp_path / "cli.duckdb"
    built = run_cli("build", "--patients", "2", "--store", str(path))
    assert built.returncode == 0, built.stderr
    assert "Published store version 1" in built.stdout
    assert "observations" in built.stdout

    again = run_cli("build", "--patients", "2", "--store", str(path))
    assert again.returncode == 0 and "already up to date" in again.stdout

    info = run_cli("info", env={"CARTA_STORE": str(path)})
    assert info.returncode == 0, info.stderr
    assert "published" in info.stdout and "synthetic" in info.stdout


@pytest.mark.parametrize(
    "args",
    [("info", "--store", "/nonexistent/carta.duckdb"), ("build", "--patients", "-1")],
    ids=["missing-store", "negative-patients"],
)
def test_cli_errors_are_one_line_without_traceback(args: tuple[str, ...]) -> None:
    result = run_cli(*args)
    assert result.returncode == 2
    assert result.stderr.startswith("carta: ")
    assert "Traceback" not in result.stderr
