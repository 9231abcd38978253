"""A store that never loses a write: one writer at a time across processes, version numbers
never reused, and what a killed writer leaves behind removed by the next one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from carta.build import build_store
from carta.store import (
    ROOT,
    StoreError,
    clean_after_killed_writers,
    next_version,
    real_path,
    versions_dir,
    writer_lock,
)
from tests.handmade import file_header

IMPORT = """
import sys
from pathlib import Path
from carta.ingest.importer import import_files
result = import_files([Path(p) for p in sys.argv[2:]], Path(sys.argv[1]))
print(result.version)
"""


def centre(folder: Path, patient: str) -> list[Path]:
    folder.mkdir(parents=True)
    (folder / "sources.csv").write_text(file_header("sources") + f"\nsite-{patient},site,Site,,\n")
    (folder / "patients.csv").write_text(
        file_header("patients") + f"\n{patient},site-{patient},Site,F,9,JDM,,,,,,240,,false\n"
    )
    return sorted(folder.iterdir())


def patients(store: Path) -> set[str]:
    con = duckdb.connect(str(real_path(store)), read_only=True)
    try:
        return {p for (p,) in con.execute("SELECT patient_id FROM patients").fetchall()}
    finally:
        con.close()


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return build_store(tmp_path / "store" / "carta.duckdb", n_patients=0,
                       include_published=False).path  # fmt: skip


def run(store: Path, files: list[Path]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", IMPORT, str(store), *map(str, files)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip


def test_two_imports_at_once_lose_nothing(store: Path, tmp_path: Path) -> None:
    first = run(store, centre(tmp_path / "a", "A-01"))
    second = run(store, centre(tmp_path / "b", "B-01"))
    versions = [
        int(p.communicate(timeout=120)[0].strip().splitlines()[-1]) for p in (first, second)
    ]
    assert first.returncode == second.returncode == 0
    # Each publish started from the other's: both patients are in the store, and the two
    # versions are different numbers.
    assert patients(store) == {"A-01", "B-01"}
    assert sorted(versions) == [2, 3]


def test_a_second_writer_waits_then_gives_up(store: Path) -> None:
    told = []
    with writer_lock(store):
        child = subprocess.run(
            [sys.executable, "-c",
             "import sys; from pathlib import Path; from carta.store import writer_lock, "
             "StoreError\ntry:\n    with writer_lock(Path(sys.argv[1]), wait=0.5): pass\n"
             "except StoreError as e:\n    print(e)",
             str(store)],
            cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
            timeout=60,
        )  # fmt: skip
        assert "Another import or build" in child.stdout
    with writer_lock(store, waiting=told.append):
        pass
    assert told == []  # nobody held it: no waiting


def test_a_killed_import_leaves_nothing_after_the_next_start(store: Path, tmp_path) -> None:
    big = tmp_path / "big"
    big.mkdir()
    rows = "\n".join(f"SYN-{i % 5 + 1:05d},{i},CK,{100 + i % 50},U/L,,,blood,,synthetic,"
                     for i in range(400_000))  # fmt: skip
    (big / "observations.csv").write_text(file_header("observations") + "\n" + rows + "\n")
    seeded = build_store(tmp_path / "s2" / "carta.duckdb", n_patients=5,
                         include_published=False).path  # fmt: skip
    process = run(seeded, [big / "observations.csv"])
    folder = versions_dir(seeded)
    deadline = time.monotonic() + 60
    while not list(folder.glob(".*.tmp")) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    leftovers = list(folder.glob(".*.tmp*"))
    assert leftovers, "the import was killed while writing its version"
    assert clean_after_killed_writers(seeded)  # the app's next start
    assert list(folder.glob(".*.tmp*")) == []
    assert patients(seeded) == {f"SYN-{i:05d}" for i in range(1, 6)}  # the store as it was


def test_a_version_number_is_never_reused(store: Path, tmp_path: Path) -> None:
    from carta.ingest.importer import import_files

    import_files(centre(tmp_path / "a", "A-01"), store)
    newest = next_version(store) - 1
    (versions_dir(store) / f"carta-v{newest:04d}.duckdb").unlink()  # e.g. removed by hand
    assert next_version(store) == newest + 1


def test_an_undo_waits_for_the_writer_too(store: Path) -> None:
    from carta.store import use_version

    with writer_lock(store):
        child = subprocess.run(
            [sys.executable, "-c",
             "import sys; from pathlib import Path; import carta.store as s\n"
             "s.WRITER_WAIT_SECONDS = 0.5\n"
             "try:\n    s.use_version(Path(sys.argv[1]), 1)\nexcept s.StoreError as e:\n"
             "    print(e)", str(store)],
            cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
            timeout=60,
        )  # fmt: skip
    assert child.returncode == 0 and "Another import or build" in child.stdout
    assert use_version(store, 1).name.endswith("v0001.duckdb")
    with pytest.raises(StoreError):
        use_version(store, 99)


def test_a_start_leaves_a_working_writers_files_alone(store: Path) -> None:
    folder = versions_dir(store)
    working = folder / ".carta-v0009.duckdb.123.tmp"
    with writer_lock(store):
        working.write_bytes(b"being written")
        assert clean_after_killed_writers(store) == []
        assert working.exists()
    assert clean_after_killed_writers(store) == [working]


def test_a_render_reads_one_store_version_from_start_to_end(tmp_path, monkeypatch) -> None:
    from streamlit.testing.v1 import AppTest

    from carta.store import publish, version_files

    path = build_store(tmp_path / "s" / "carta.duckdb", n_patients=1).path
    build_store(path, n_patients=2)  # a second version, published
    first, second = version_files(path).values()
    publish(path, first)
    monkeypatch.setenv("CARTA_STORE", str(path))
    monkeypatch.setenv("CARTA_OTHER_VERSION", str(second))

    def script() -> None:
        import os
        from pathlib import Path

        import streamlit as st

        from carta import ui
        from carta.store import publish, store_path

        ui.begin_run()
        before = ui.require_store()
        publish(store_path(), Path(os.environ["CARTA_OTHER_VERSION"]))  # a publish mid-render
        st.text(f"{before == ui.require_store()} {Path(before).name}")

    at = AppTest.from_function(script, default_timeout=30).run()
    assert [t.value for t in at.text] == [f"True {first.name}"]
    at.run()  # the next render reads the new version
    assert [t.value for t in at.text] == [f"True {second.name}"]
