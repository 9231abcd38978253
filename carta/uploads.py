"""Uploaded files on disk only while they are read: a folder per check or import, named with the
server's process id, deleted when done; folders of a process that was killed are removed at the
next start."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

PREFIX = "carta-import-"
_OWNED = re.compile(rf"^{PREFIX}(\d+)-")


@contextlib.contextmanager
def saved(files) -> Iterator[list[Path]]:
    """`files` (name and bytes: Streamlit uploads) on disk under their own names, for as long as
    the block reads them; then deleted, whatever happened."""
    folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
    try:
        paths = []
        for file in files:
            path = folder / Path(file.name).name
            if path.exists():  # two uploads of one name: each kept, under its own folder
                path = Path(tempfile.mkdtemp(prefix="same-name-", dir=folder)) / path.name
            path.write_bytes(file.getvalue())
            paths.append(path)
        yield paths
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_orphaned_uploads() -> list[Path]:
    """Upload folders of processes that no longer run (killed during a check or an import)."""
    removed = []
    for folder in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
        match = _OWNED.match(folder.name)
        if folder.is_dir() and match and not _alive(int(match.group(1))):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed
