"""carta/membership.py: `among` gives what pandas' isin gives, on every kind of column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from carta.membership import among

IDS = [f"SYN-{i:05d}" for i in range(2_000)]


@pytest.mark.parametrize("dtype", ["str", object, "string"])
def test_among_is_isin_for_strings_with_missing_cells(dtype) -> None:
    rng = np.random.default_rng(3)
    column = pd.Series([*rng.choice([*IDS, "OTHER"], 5_000), None], dtype=dtype)
    wanted = set(IDS[::3])
    expected = column.isin(wanted).to_numpy(dtype=bool)
    got = among(column, wanted)
    assert got.dtype == bool and (got == expected).all()
    assert 0 < got.sum() < len(column) - 1 and not got[-1]


def test_among_other_columns_and_nothing_sought() -> None:
    assert among(pd.Series([1, 2, 3]), [2]).tolist() == [False, True, False]
    assert among(pd.Series(["a", "b"], dtype="str"), []).tolist() == [False, False]
    assert among(pd.Series([], dtype="str"), IDS).tolist() == []
    # Mixed values Arrow cannot type: pandas answers.
    assert among(pd.Series(["a", 1], dtype=object), ["a"]).tolist() == [True, False]
