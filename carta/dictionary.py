"""Reference data shipped with Carta: the parameter dictionary, the plausible range of each
parameter, the unit conversions and unit spellings, and the default visit windows."""

import re
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


def column_bounds() -> pd.DataFrame:
    """Plausible bounds of the numeric columns other than lab values, per table (the values'
    bounds per parameter are plausible_ranges)."""
    return _read("column_bounds").copy()


def unit_conversions() -> pd.DataFrame:
    """One row per conversion to a UCUM unit: `from_unit`, `to_unit`, the `factor` to multiply
    by, the `code` it holds for (empty: any parameter; a molar <-> mass conversion depends on the
    analyte, so it names its code) and the `source_note` it rests on. Only factors: an affine
    conversion (°F -> °C) is not one, and is not made."""
    return _read("unit_conversions").copy()


def unit_spellings() -> pd.DataFrame:
    """One row per way people write a UCUM unit: `spelling` (lower case, as compared), the
    `unit` it means and the `source_note`."""
    return _read("unit_spellings").copy()


@cache
def _conversions() -> dict[tuple[str, str, str | None], float]:
    frame = _read("unit_conversions")
    return {
        (f, t, c if isinstance(c, str) and c else None): float(x)
        for f, t, x, c in zip(
            frame["from_unit"], frame["to_unit"], frame["factor"], frame["code"], strict=True
        )
    }


def conversions() -> dict[tuple[str, str, str | None], float]:
    """(from unit, to unit, code or None for any parameter) -> factor."""
    return dict(_conversions())


def conversion_factor(from_unit: object, to_unit: object, code: object = None) -> float | None:
    """The factor that takes a value of `code` from `from_unit` to `to_unit` (UCUM spellings, as
    `normal_unit` gives them): the conversion for that code first, else the one for any
    parameter; None when there is none. 1.0 when the units are the same."""
    if not isinstance(from_unit, str) or not isinstance(to_unit, str):
        return None
    if from_unit == to_unit:
        return 1.0
    factors = _conversions()
    if isinstance(code, str) and (from_unit, to_unit, code) in factors:
        return factors[(from_unit, to_unit, code)]
    return factors.get((from_unit, to_unit, None))


@cache
def _spellings() -> dict[str, str]:
    frame = _read("unit_spellings")
    return dict(zip(frame["spelling"], frame["unit"], strict=True))


def spellings() -> dict[str, str]:
    """Lower-case spelling -> the UCUM unit it means (data/reference/unit_spellings.csv)."""
    return dict(_spellings())


def normal_unit(unit: object) -> object:
    """The UCUM spelling of `unit` ('mmHg' -> 'mm[Hg]', 'µmol/l' -> 'umol/L'); a spelling the
    table does not know is kept as written, without surrounding spaces."""
    if not isinstance(unit, str):
        return unit
    return _spellings().get(unit.strip().lower(), unit.strip())


def parameter_scales() -> pd.DataFrame:
    """The scales a score may be recorded on when it has more than one (MMT8: 0-80 unilateral or
    0-150 bilateral): `code`, `scale_min`, `scale_max`, `label`, `source_note`. A value names
    its scale in observations.scale_max; without one it is on the dictionary's scale."""
    return _read("parameter_scales").copy()


def scale_named(code: object, text: object) -> float | None:
    """The scale (its maximum) a test's name or label gives for a score recorded on more than
    one (parameter_scales.csv): "MMT8 (0-150)", "MMT-8 bilateral" -> 150; "unilateral",
    "/80" -> 80; None when the name names none (the value is then on the dictionary's scale)."""
    if not isinstance(text, str):
        return None
    scales = parameter_scales()
    scales = scales[scales["code"] == code]
    words = text.lower()
    for row in scales.itertuples(index=False):
        top = f"{row.scale_max:g}"
        side = next((w for w in ("unilateral", "bilateral") if w in str(row.label)), None)
        if re.search(rf"(?:0\s*[-–]\s*|/\s*|\bof\s+){top}\b", words) or (
            side and re.search(rf"\b{side}\b", words)
        ):
            return float(row.scale_max)
    return None


def indications() -> pd.DataFrame:
    """One row per indication Carta knows (JDM, adult myositis, SLE, SSc): its label, family,
    the TIS thresholds it uses (`tis_population`, empty: no TIS), its `response_definitions`
    and `panel_codes` (';'-separated), display `sort` and the `source_note`."""
    return _read("indications").copy()


def indication_aliases() -> pd.DataFrame:
    """How people write an indication: `alias`, the `indication` code it means, the note."""
    return _read("indication_aliases").copy()


def indication_of(text: object) -> str | None:
    """The indication code a diagnosis or indication as written means ('lupus nephritis' ->
    'SLE', 'JDM' -> 'JDM'), from data/reference/indication_aliases.csv and the codes and labels
    of data/reference/indications.csv, compared as `code_lookup` compares names; None when
    nothing matches (an indication is never guessed, say from the age)."""
    if not isinstance(text, str) or not text.strip():
        return None
    return _indication_lookup().get(_key(text))


@cache
def _indication_lookup() -> dict[str, str]:
    known = _read("indications")
    lookup = {_key(c): c for c in known["indication"]}
    lookup |= {_key(label): c for c, label in zip(known["indication"], known["label"], strict=True)}
    aliases = _read("indication_aliases")
    return lookup | {
        _key(a): c for a, c in zip(aliases["alias"], aliases["indication"], strict=True)
    }


def glucocorticoids() -> pd.DataFrame:
    """One row per glucocorticoid: `drug` (lower case), `mg_equivalent_to_5_mg_prednisone`
    (empty: no systemic equivalent, the dose stays unknown) and the `source_note`."""
    return _read("glucocorticoids").copy()


def drug_classes() -> pd.DataFrame:
    """One row per other drug a medication event may name: `drug` (lower case), `drug_class`
    (immunosuppressant, biologic, antimalarial, immunoglobulin, growth_factor) and the note."""
    return _read("drug_classes").copy()


def visit_schedule(schedule: str = "default") -> pd.DataFrame:
    """The visits of a follow-up schedule (data/reference/visit_schedule.csv), in day order:
    `visit`, `nominal_day`, `day_from`, `day_to` (its window in study days), `expected` (the
    measure groups, ';'-separated) and the note."""
    table = _read("visit_schedule")
    table = table[table["schedule"] == schedule].drop(columns="schedule")
    return table.sort_values("day_from").reset_index(drop=True)


def schedule_measures() -> pd.DataFrame:
    """The parameter codes of each expected measure group (data/reference/schedule_measures.csv):
    `group`, `label`, `indications` (';'-separated, empty: every patient), `codes`,
    `recorded_in` (observations, or adverse_events for the CRS and ICANS grades), the note."""
    return _read("schedule_measures").copy()


def published_figures() -> pd.DataFrame:
    """The summary figures of the published series Carta compares a cohort with, from their
    abstracts only (data/reference/published_figures.csv): `figure_id`, `source`, `indication`
    (empty: the whole series), `n_patients`, `measure`, `figure` (the sentence shown), `value`,
    `spread` (the SD of a mean), `unit`, `status` ([C] or [P]) and the note."""
    return _read("published_figures").copy()


def timepoints() -> pd.DataFrame:
    """Default visit windows (study days, day 0 = infusion)."""
    return _read("timepoints").copy()


def _key(name: str) -> str:
    return " ".join(str(name).strip().lower().replace("_", " ").replace("-", " ").split())


@cache
def serology_codes() -> frozenset[str]:
    """The codes of the serology domain: results that may be read as negative, borderline or
    positive (observations.interpretation) as well as, or instead of, a number."""
    params = parameters()
    return frozenset(params.loc[params["domain"] == "serology", "code"])


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


def resolve_in_specimen(name: object, specimen: object, lookup: dict[str, str]) -> object:
    """The dictionary code for test `name` measured in `specimen`. SDTM names urine protein PROT,
    as it names serum protein, and tells them apart by LBSPEC: 'PROT' in 'URINE' is UPROT (the
    alias 'PROT URINE' in data/reference/parameter_aliases.csv). `specimen` is LBSPEC, or LBCAT
    where a dataset has no LBSPEC: the category URINALYSIS is read as the specimen URINE. Without
    an alias for the pair, `resolve_code(name)`."""
    if isinstance(name, str) and isinstance(specimen, str) and specimen.strip():
        where = _SPECIMEN_WORDS.get(_key(specimen), specimen)
        found = lookup.get(_key(f"{name} {where}"))
        if found is not None:
            return found
    return resolve_code(name, lookup)


# Categories that say the specimen when a dataset has no specimen column.
_SPECIMEN_WORDS = {"urinalysis": "urine"}
