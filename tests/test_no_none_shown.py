"""No table on any page shows "None": a missing cell is drawn as a dash (display.table_style) or
was filled before the table was drawn. The tables draw on a canvas, so this is checked on what
each page sends, not on the page's text."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.conftest import PUBLISHED_ID, open_page

PAGES = [
    ("pages/home.py", {}),
    ("pages/trajectory.py", {"patient": "SYN-00003", "day": "28"}),
    ("pages/trajectory.py", {"patient": PUBLISHED_ID}),
    ("pages/summary.py", {"patient": "SYN-00003"}),
    ("pages/summary.py", {"patient": PUBLISHED_ID}),
    ("pages/cohort.py", {}),
    ("pages/safety.py", {}),
    ("pages/data.py", {}),
]


def shown_values(element) -> pd.DataFrame:
    """The cells as drawn: a styled table's display values, else the values themselves."""
    proto = element.proto
    if proto.arrow_data.styler.display_values:
        import pyarrow as pa

        reader = pa.ipc.open_stream(proto.arrow_data.styler.display_values)
        return reader.read_all().to_pandas()
    return element.value


@pytest.mark.parametrize(("page", "query"), PAGES, ids=[f"{p}{q}" for p, q in PAGES])
def test_no_table_cell_is_drawn_as_none(default_store, monkeypatch, page, query) -> None:
    at = open_page(default_store, monkeypatch, page, **query)
    for table in at.dataframe:
        cells = shown_values(table)
        missing = {c: int(cells[c].isna().sum()) for c in cells.columns if cells[c].isna().any()}
        assert not missing, f"{page}: cells drawn as None in {missing}"
