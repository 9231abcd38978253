"""What the importer says about a file: one problem per file, row and column."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    file: str
    row: int | None  # line number in the file (the header is line 1); None for the whole file
    column: str | None
    value: str | None
    reason: str

    @property
    def is_warning(self) -> bool:
        """A warning is reported and the row imported all the same."""
        return self.reason.startswith("warning")
