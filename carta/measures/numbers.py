"""Numeric helpers shared by the rules."""

from __future__ import annotations

import numpy as np


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
