"""Numeric and frame helpers shared by the rules."""

from __future__ import annotations

import numpy as np
import pandas as pd


def finite_floats(column: pd.Series) -> np.ndarray:
    """A column as float64, with missing, NaN and infinite values all as NaN."""
    values = pd.to_numeric(column).astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    return np.where(np.isfinite(values), values, np.nan)


def equals(frame: pd.DataFrame, column: str, value: str) -> np.ndarray:
    """Per row: ``frame[column] == value``, a missing cell counting as False."""
    return frame[column].eq(value).to_numpy(dtype=bool, na_value=False)


def empty_frame(dtypes: dict[str, str]) -> pd.DataFrame:
    """No rows, with the columns and dtypes a result has when there are some."""
    return pd.DataFrame({column: pd.Series(dtype=dtype) for column, dtype in dtypes.items()})


def signif(x, digits: int):
    """Round to `digits` significant digits (R's ``signif``), arrays or scalars, so that a value
    computed in floating point compares equal to a threshold it equals on paper (admiral compares
    lab values with thresholds after ``signif()``; clinical-rules §4.1)."""
    arr = np.asarray(x, dtype=float)
    finite = np.isfinite(arr) & (arr != 0)
    safe = np.where(finite, np.abs(arr), 1.0)
    with np.errstate(over="ignore", invalid="ignore"):
        mag = np.floor(np.log10(safe))
        # log10 can land a hair below an exact power of ten: correct the magnitude both ways.
        mag = np.where(safe >= 10.0 ** (mag + 1), mag + 1, mag)
        mag = np.where(safe < 10.0**mag, mag - 1, mag)
        scale = 10.0 ** (digits - 1 - mag)
        rounded = np.round(arr * scale) / scale
    # Subnormal or near-overflow magnitudes are left as they are.
    return np.where(finite & np.isfinite(rounded), rounded, arr)
