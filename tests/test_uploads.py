"""Uploads are on disk only while read, and what a killed server left is removed at the next."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from carta import uploads


@dataclass
class Upload:  # what Streamlit's uploaded file offers the import
    name: str
    data: bytes

    def getvalue(self) -> bytes:
        return self.data


def test_uploads_are_deleted_after_they_are_read_even_on_error() -> None:
    with uploads.saved([Upload("patients.csv", b"a\n")]) as [path]:
        assert path.read_bytes() == b"a\n"
        folder = path.parent
    assert not folder.exists()
    try:
        with uploads.saved([Upload("patients.csv", b"a\n")]) as [path]:
            folder = path.parent
            raise RuntimeError("the check failed")
    except RuntimeError:
        pass
    assert not folder.exists()


def test_two_uploads_of_one_name_are_both_kept() -> None:
    with uploads.saved([Upload("observations.csv", b"1"), Upload("observations.csv", b"2")]) as (
        first,
        second,
    ):
        assert first != second and first.name == second.name == "observations.csv"
        assert (first.read_bytes(), second.read_bytes()) == (b"1", b"2")


def test_upload_folders_of_a_killed_process_are_removed_at_the_next_start() -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    orphan = Path(tempfile.mkdtemp(prefix=f"{uploads.PREFIX}{dead}-"))
    (orphan / "patients.csv").write_text("Anna Schmidt\n")
    own = Path(tempfile.mkdtemp(prefix=f"{uploads.PREFIX}{os.getpid()}-"))
    try:
        removed = uploads.remove_orphaned_uploads()
        assert orphan in removed and not orphan.exists()
        assert own.exists()  # this process is alive: its upload is being read
    finally:
        own.rmdir()
