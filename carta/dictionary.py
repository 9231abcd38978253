"""Reference data shipped with Carta: the parameter dictionary and the default visit windows."""

from functools import cache
from pathlib import Path

import pandas as pd

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "data" / "reference"


@cache
def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE_DIR / f"{name}.csv", keep_default_na=False, na_values=[""])


def parameters() -> pd.DataFrame:
    """One row per parameter: label, domain, UCUM unit, LOINC, scale, direction, default range."""
    return _read("parameters").copy()


def timepoints() -> pd.DataFrame:
    """Default visit windows (study days, day 0 = infusion)."""
    return _read("timepoints").copy()
