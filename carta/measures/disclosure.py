"""Small-cell suppression for readers who see aggregates only (the viewer role, carta/access.py).

A count of 1 to 4 patients is shown as "<5" and the shares and statistics resting on it are left
out. Within a row whose cells add up to a total shown beside them, one suppressed cell could be
worked out by subtraction, so the next smallest count of that row is suppressed too (secondary
suppression). The threshold of 5 is the issue's (and common registry practice, e.g. NHS England's
small-number rule); it is a setting, SMALL_CELL in carta/access.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from carta.access import SMALL_CELL

SUPPRESSED = f"<{SMALL_CELL}"


def is_small(value: object) -> bool:
    """A count of 1 to SMALL_CELL - 1 (0 reveals no one)."""
    return not pd.isna(value) and 0 < float(value) < SMALL_CELL


def suppress(
    table: pd.DataFrame,
    counts: Sequence[str],
    depends: Mapping[str, Sequence[str]] | None = None,
    parts: Sequence[Sequence[str]] = (),
) -> pd.DataFrame:
    """`table` with its `counts` as text, small ones shown as "<5" and their `depends` columns
    (shares, medians …) emptied. Each group of `parts` is a set of counts of one row that, with
    a count shown beside them, give one another away: one suppressed takes a second with it."""
    depends = depends or {}
    hidden = pd.DataFrame(False, index=table.index, columns=list(counts))
    for column in counts:
        hidden[column] = table[column].map(is_small)
    for group in parts:
        for row in table.index:
            if hidden.loc[row, list(group)].sum() != 1:
                continue
            shown = [c for c in group if not hidden.at[row, c] and table.at[row, c] > 0]
            if shown:
                hidden.at[row, min(shown, key=lambda c: table.at[row, c])] = True
    out = table.copy()
    for column in counts:
        # Text, so that a column holds one type: "12", "<5", or empty.
        out[column] = [
            SUPPRESSED if hide else (None if pd.isna(value) else f"{int(value)}")
            for value, hide in zip(table[column], hidden[column], strict=True)
        ]
        for dependent in depends.get(column, ()):
            out[dependent] = out[dependent].astype(object)
            out.loc[hidden[column], dependent] = None
    return out


def suppressed_total(n: int) -> str:
    """A number of patients in words for a viewer: "<5" when small."""
    return SUPPRESSED if is_small(n) else f"{n:,}"
