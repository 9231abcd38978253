"""Reference data shipped with Carta: the parameter dictionary, the plausible range of each
parameter and the default visit windows."""

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


def plausible_ranges() -> pd.DataFrame:
    """One row per parameter code: the unit (the dictionary's), `plausible_low` and
    `plausible_high` for a human result in that unit (an empty bound is not set), and the
    `source_note` the bounds rest on. The importer takes a value without a unit in the dictionary
    unit only when it lies in this range, and refuses a value outside it whatever its unit."""
    return _read("plausible_ranges").copy()


def timepoints() -> pd.DataFrame:
    """Default visit windows (study days, day 0 = infusion)."""
    return _read("timepoints").copy()


def _key(name: str) -> str:
    return " ".join(str(name).strip().lower().replace("_", " ").replace("-", " ").split())


def code_lookup(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Every name a parameter goes by -> its code: the code, the label, the LOINC code, the
    common names in data/reference/parameter_aliases.csv and a user's mapping file (`extra`).
    Keys are compared case-insensitively, with '-', '_' and runs of spaces read as one space."""
    params = parameters()
    lookup: dict[str, str] = {}
    for code, label, loinc in zip(params["code"], params["label"], params["loinc"], strict=True):
        lookup[_key(code)] = code
        lookup[_key(label)] = code
        if isinstance(loinc, str) and loinc:
            lookup[_key(loinc)] = code
    aliases = _read("parameter_aliases")
    lookup |= {_key(a): c for a, c in zip(aliases["alias"], aliases["code"], strict=True)}
    lookup |= {_key(a): c for a, c in (extra or {}).items()}
    return lookup


def resolve_code(name: object, lookup: dict[str, str]) -> object:
    """The dictionary code for `name`, or `name` unchanged when nothing matches."""
    if not isinstance(name, str):
        return name
    return lookup.get(_key(name), name)
