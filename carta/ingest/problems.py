"""What the importer says about a file: one problem per file, row and column."""

from __future__ import annotations

import re
from dataclasses import dataclass

_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
# A calendar date written anywhere in a text: ISO (2014-03-21, 2014-03), day-month-year with / . -
# (21/03/2014), SAS DATE9 (21MAR2014) and month names (March 21, 2014; 21 March 2014). Text that
# holds one is never written to the store, a quarantine file or a report.
DATE_IN_TEXT = re.compile(
    r"\b(?:1[89]|20)\d\d-\d\d(?:-\d\d)?\b|\b\d{4}[/.]\d{1,2}[/.]\d{1,2}\b"
    r"|\b\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}\b|\b\d{1,2}" + _MONTH + r"\d{2,4}\b"
    rf"|\b{_MONTH}\s+\d{{1,2}},?\s+\d{{4}}\b|\b\d{{1,2}}\s+{_MONTH}\s+\d{{4}}\b",
    re.IGNORECASE,
)


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
