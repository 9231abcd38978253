"""The audit trail: who opened which patient, exported what, imported or undid what, and when.

One CSV file, appended to and never rewritten, kept beside the store pointer and outside the
versions folder, so that publishing an earlier version (an undo) does not erase what was done.
Each record is one line written with a single append under an exclusive lock, so records of
concurrent sessions and processes never interleave. Patient ids are pseudonymous; names, dates of
birth and source dates never reach the trail, and free text is not recorded.
"""

from __future__ import annotations

import csv
import datetime as dt
import fcntl
import getpass
import io
import os
from pathlib import Path

import pandas as pd

AUDIT_ENV = "CARTA_AUDIT"
COLUMNS = ("at", "user", "action", "target", "detail")
ACTIONS = ("sign in", "view patient", "export", "import", "undo")


def audit_path(store: Path) -> Path:
    """$CARTA_AUDIT, or audit.csv beside the store pointer (data/store/audit.csv by default)."""
    configured = os.environ.get(AUDIT_ENV, "").strip()
    return Path(configured).expanduser() if configured else store.parent / "audit.csv"


def command_line_user() -> str:
    """Who runs a command-line import or undo: the operating-system account."""
    try:
        return f"cli:{getpass.getuser()}"
    except OSError:
        return "cli:unknown"


def record(path: Path, user: str, action: str, target: str = "", detail: str = "") -> None:
    """Append one record. Raises OSError when the trail cannot be written: an action whose
    record cannot be kept is not to be done silently."""
    if action not in ACTIONS:
        raise ValueError(f"not an audited action: {action!r}")
    at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    line = io.StringIO()
    csv.writer(line, lineterminator="\n").writerow(
        [at, _one_line(user), action, _one_line(target), _one_line(detail)]
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if os.fstat(fd).st_size == 0:
            os.write(fd, (",".join(COLUMNS) + "\n").encode())
        os.write(fd, line.getvalue().encode("utf-8"))
    finally:
        os.close(fd)


def read(path: Path, since: dt.date | None = None, user: str | None = None) -> pd.DataFrame:
    """The records, oldest first, from `since` (a UTC day) on and of `user` (e-mail) only."""
    if not path.exists():
        return pd.DataFrame(columns=list(COLUMNS))
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if since is not None:
        frame = frame[frame["at"].str[:10] >= since.isoformat()]
    if user:
        frame = frame[frame["user"].str.lower() == user.strip().lower()]
    return frame.reset_index(drop=True)


def _one_line(text: object) -> str:
    # One record per line whatever a name holds; the length bound keeps a record a record.
    return " ".join(str(text).split())[:300]
