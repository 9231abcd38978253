"""Check imported rows against the dictionary and the store, convert units, and say why a row is
refused. Every check reports file, line, column, value and reason; the other rows go on."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from carta import dictionary
from carta.display import unit_text
from carta.ingest import personal
from carta.ingest.carta_format import Problem, TableFile
from carta.measures.numbers import signif

# The values the schema's CHECK constraints allow, checked here first so that one bad row is
# reported instead of failing the whole insert (carta/schema.sql holds the same lists).
ALLOWED = {
    ("sources", "kind"): {"published", "synthetic", "site"},
    ("patients", "sex"): {"M", "F"},
    ("observations", "specimen"): {"blood", "bone_marrow", "urine"},
    ("observations", "qualifier"): {"<", ">", "not_detected"},
    ("observations", "interpretation"): {"negative", "borderline", "positive"},
    ("events", "kind"): {"apheresis", "lymphodepletion", "infusion", "withdrawal", "medication",
                         "procedure", "hospitalisation", "follow_up"},
    ("imaging", "side"): {"left", "right", "bilateral"},
}  # fmt: skip

# Unit conversions to the dictionary's unit and the spellings people use for the same UCUM unit
# are data: data/reference/unit_conversions.csv and unit_spellings.csv, read by carta/dictionary.py
# (conversion_factor, normal_unit). A molar <-> mass conversion holds for its parameter only
# (creatinine 88.4 µmol/L = 1 mg/dL); the others for any parameter (1 µkat/L = 60 U/L).

# How far outside a patient's follow-up a day may lie before it is worth a warning.
FAR_DAYS = 180
FAR_REASON = f"warning: more than {FAR_DAYS} days outside the patient's follow-up; imported"


@dataclass(frozen=True)
class StoreFacts:
    """What the checks need to know of the store the rows go into."""

    patients: dict[str, int | None]  # patient_id -> follow_up_days
    sources: set[str]
    parameters: pd.DataFrame  # the dictionary, indexed by code
    # (patient_id, day, code, specimen) already stored, for the patients of the import
    observation_keys: frozenset[tuple] = frozenset()
    # every name a parameter goes by -> its code (dictionary.code_lookup)
    codes: dict[str, str] = field(default_factory=dictionary.code_lookup)
    # plausible_low and plausible_high per code in the dictionary unit (dictionary.plausible_ranges)
    plausible: pd.DataFrame = field(
        default_factory=lambda: dictionary.plausible_ranges().set_index("code")
    )
    # low and high per (table, column) of the other numbers (dictionary.column_bounds)
    bounds: pd.DataFrame = field(default_factory=dictionary.column_bounds)
    # The source_id of files without a source_id column, named once at import (--source)
    source: str | None = None
    # The sources the importing person may write (carta/access.py); None: every source
    writable: frozenset[str] | None = None
    # The visits of the sources' own schedules already stored (queries/visit_schedule_rows.sql)
    schedules: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["source_id", "visit", "day_from", "day_to"])
    )


def normal_unit(unit: object) -> object:
    return dictionary.normal_unit(unit)


def check(table_file: TableFile, facts: StoreFacts) -> tuple[pd.DataFrame, list[Problem]]:
    """The rows that pass every check (units converted) and the problems of the others."""
    rows = table_file.rows.copy(deep=False)  # copy-on-write: a column is copied when changed
    problems: list[Problem] = []
    refused = pd.Series(False, index=rows.index)

    def refuse(mask: pd.Series, column: str, reason, hide_value: bool = False) -> None:
        nonlocal refused
        mask = mask.astype("boolean").fillna(False).astype(bool)  # a missing value is no finding
        for line in mask[mask & ~refused].index:
            value = rows.at[line, column] if column in rows and not hide_value else None
            text = reason(rows.loc[line]) if callable(reason) else reason
            problems.append(Problem(table_file.path.name, int(line), column, _text(value), text))
        refused = refused | mask

    name = table_file.table
    _numbers(rows, name, facts, refuse)
    for (table, column), allowed in ALLOWED.items():
        if table == name:
            present = rows[column].notna()
            refuse(present & ~rows[column].isin(allowed), column,
                   f"not one of {', '.join(sorted(allowed))}")  # fmt: skip
    if name == "patients" and "patient_id" in rows:
        # A name or a date is not a pseudonym; the value is not repeated anywhere.
        refuse(rows["patient_id"].map(personal.looks_like_name_or_date, na_action="ignore"),
               "patient_id", personal.ID_REASON, hide_value=True)  # fmt: skip
    if "source_id" in rows and facts.writable is not None:
        refuse(~rows["source_id"].isin(facts.writable), "source_id",
               "not a source you may import into (an admin grants the role)")  # fmt: skip
    if "source_id" in rows and name != "sources":
        refuse(~rows["source_id"].isin(facts.sources), "source_id",
               "unknown source: add it to sources.csv")  # fmt: skip
    if "patient_id" in rows and name != "patients":
        refuse(~rows["patient_id"].isin(facts.patients), "patient_id",
               "unknown patient: add them to patients.csv")  # fmt: skip
    if name == "patients" and "indication" in rows:
        rows = _indications(rows, refuse)
    if name == "observations":
        undated = rows["day"].isna() & rows["timing"].isna() & rows["day_precision"].isna()
        refuse(undated, "day",
               "required: the study day, or the timing in words when the source gives no day "
               "(column timing)")  # fmt: skip
        rows = _observations(rows, facts, refuse)
    if name == "adverse_events":
        refuse(rows["grade"].notna() & ~rows["grade"].between(0, 5), "grade", "grade is 0 to 5")
        # Nothing is graded that the source did not grade: a severity stays a severity.
        refuse(rows["grade"].isna() & rows["severity"].isna(), "grade",
               "required: the grade (0 to 5), or the severity as the source reports it "
               "(column severity)")  # fmt: skip
    if name == "visit_schedules":
        _schedule(rows, facts, refuse)
    if "day" in rows or "start_day" in rows or "onset_day" in rows:
        problems += _far_days(table_file, rows[~refused], facts)
    return rows[~refused], problems


def _numbers(rows: pd.DataFrame, table: str, facts: StoreFacts, refuse) -> None:
    """Every number finite, and the table's bounded columns inside their bounds (as data)."""
    for column in rows.columns:
        if pd.api.types.is_float_dtype(rows[column]):
            values = rows[column].astype("float64")
            refuse(values.notna() & ~np.isfinite(values.fillna(0.0)), column,
                   "not a finite number")  # fmt: skip
    for bound in facts.bounds[facts.bounds["table"] == table].itertuples():
        if bound.column not in rows:
            continue
        values = pd.to_numeric(rows[bound.column], errors="coerce").astype("float64")
        outside = values.notna() & np.isfinite(values.fillna(0.0)) & ~values.between(
            bound.low, bound.high)  # fmt: skip
        refuse(outside, bound.column,
               f"outside the plausible range {bound.low:g} to {bound.high:g} {bound.unit} "
               "(data/reference/column_bounds.csv)")  # fmt: skip


def _observations(rows: pd.DataFrame, facts: StoreFacts, refuse) -> pd.DataFrame:
    params = facts.parameters
    # "CPK", "Creatine kinase" and 2157-6 all mean CK; the file's own name is kept in the note.
    # Per distinct name, not per row: a million rows hold a few dozen names.
    names = rows["code"].dropna().unique()
    resolved = rows["code"].map({n: dictionary.resolve_code(n, facts.codes) for n in names})
    renamed = resolved.ne(rows["code"]) & resolved.isin(params.index)
    rows.loc[renamed, "note"] = [
        f"named {name} in the file" + (f"; {n}" if isinstance(n, str) else "")
        for name, n in zip(rows.loc[renamed, "code"], rows.loc[renamed, "note"], strict=True)
    ]
    rows["code"] = resolved
    known = rows["code"].isin(params.index)
    refuse(~known, "code", "unknown parameter code (see docs/data-dictionary.md)")
    target = rows["code"].map(params["unit"])
    value = rows["value"]
    refuse(value.notna() & value.lt(0), "value", "negative values are impossible")
    rows = _without_unit(rows, known, target, facts.plausible, refuse)
    given = rows["unit"].map({u: normal_unit(u) for u in rows["unit"].dropna().unique()})
    pairs = pd.MultiIndex.from_arrays([given, target, rows["code"]])
    factors = {(g, t, c): _factor(g, t, c) for g, t, c in pairs.unique()}
    factor = pd.Series(pairs.map(factors.get), index=rows.index, dtype="float64")
    refuse(known & factor.isna(), "unit", lambda r: _no_conversion(r, params))
    written = rows["value"], given  # as the file gave them, for the reasons below
    converted = factor.notna() & factor.ne(1.0)
    for column in ("value", "ref_low", "ref_high"):
        # 121 g/L x 0.1 is 12.1 g/dL, not 12.100000000000001: round away the float residue.
        product = rows.loc[converted, column].astype("float64") * factor[converted]
        rows.loc[converted, column] = signif(product.to_numpy(), 12)
    rows.loc[converted, "note"] = [
        f"converted from {u}" + (f"; {n}" if isinstance(n, str) else "")
        for u, n in zip(rows.loc[converted, "unit"], rows.loc[converted, "note"], strict=True)
    ]
    rows.loc[known, "unit"] = target[known]
    value = rows["value"]
    if "scale_max" in rows:
        refuse(rows["scale_max"].notna() & ~_known_scale(rows["code"], rows["scale_max"]),
               "scale_max", _unknown_scale)  # fmt: skip
        own = rows["scale_max"]
    else:
        own = pd.Series(np.nan, index=rows.index)
    low = rows["code"].map(params["scale_min"])
    # A value is checked against the scale it names (MMT8 0-150), else the dictionary's.
    high = own.astype("Float64").fillna(rows["code"].map(params["scale_max"]).astype("Float64"))
    outside = value.notna() & ((low.notna() & value.lt(low)) | (high.notna() & value.gt(high)))
    refuse(outside, "value", lambda r: _outside_scale(r, params))
    # With its unit given (and converted), a value must still be one a person can have.
    implausible = known & ~_plausible(value, rows["code"], facts.plausible)
    refuse(implausible, "value", lambda r: _outside_plausible(r, written, facts.plausible))
    interpreted = rows["interpretation"].notna() if "interpretation" in rows else False
    refuse(value.isna() & rows["qualifier"].fillna("").ne("not_detected") & ~interpreted,
           "value", "a value is needed unless qualifier is not_detected or the result is given "
           "as negative, borderline or positive (column interpretation)")  # fmt: skip
    key = ["patient_id", "day", "code", "specimen"]
    distinct = rows.drop_duplicates([*key, "value", "qualifier"])
    clashing = distinct[distinct.duplicated(key, keep=False)].set_index(key).index
    keys = rows.set_index(key).index
    conflict = pd.Series(keys.isin(clashing), index=rows.index)
    refuse(conflict, "value", "conflicting duplicate: same patient, day, parameter and specimen")
    repeated = pd.Series(keys.duplicated(keep="first"), index=rows.index)
    refuse(
        repeated, "value", "duplicate of an earlier line: same patient, day, parameter, specimen"
    )
    stored = pd.Series(keys.isin(list(facts.observation_keys)), index=rows.index)
    refuse(stored, "day", "the store already has a value for this patient, day, parameter "
                          "and specimen")  # fmt: skip
    return rows


def _factor(given: object, target: object, code: object) -> float:
    """The factor from the given unit to the dictionary's, NaN when there is none."""
    factor = dictionary.conversion_factor(given, target, code)
    return np.nan if factor is None else factor


def _without_unit(rows, known, target, plausible, refuse) -> pd.DataFrame:
    """Rows that came without a unit (a wide-sheet column with none in its header, an SDTM
    result without LBORRESU/LBSTRESU) take the dictionary unit only when nothing speaks against
    it: the value lies in the parameter's plausible range, and so does every other value of that
    parameter without a unit in the file. One implausible value puts the whole "column" in doubt
    (450 in an ANC column says its unit is not 10^9/L, and an 80 next to it is then more likely
    80 cells/uL than 80 x10^9/L), so every valued row of it is refused, each with its reason;
    nothing is converted by guess. A score ({score}) has no other unit to mistake it for and
    always takes it; a row without a number (not detected) has nothing to misread and takes it
    too."""
    unit = rows["unit"]
    missing = known & (unit.isna() | unit.astype("string").str.strip().eq(""))
    if not missing.any():
        return rows
    value, code = rows["value"], rows["code"]
    dimensionless = target.astype("string").str.fullmatch(r"\{[^}]*\}").fillna(False)
    judged = missing & ~dimensionless & value.notna()
    in_range = _plausible(value, code, plausible)
    ranged = code.isin(plausible.index)
    refuse(judged & ~ranged, "value",
           lambda r: f"{r['code']} has no unit and no plausible range is set for it in "
                     "data/reference/plausible_ranges.csv: give the unit")  # fmt: skip
    # A parameter whose common units give values of the same size (Hb 7.8 g/dL or mmol/L, CRP
    # in mg/L or mg/dL, enzymes in U/L or ukat/L, IgG in g/L or mg/dL) needs its unit: the
    # plausible range cannot tell them apart (data/reference/plausible_ranges.csv, unit_required).
    required = code.map(plausible["unit_required"]).fillna(False).astype(bool) & ranged
    refuse(judged & required, "value",
           lambda r: f"{r['code']} has no unit, and its common units give values of the same "
                     "size, so the value cannot tell which: give the unit")  # fmt: skip
    judged = judged & ~required
    wrong = judged & ranged & ~in_range & value.ge(0)  # a negative value is refused as such
    refuse(wrong, "value", lambda r: _no_unit_implausible(r, target, plausible))
    # The first implausible value of each parameter, named in the other rows' reasons.
    example = value[wrong].groupby(code[wrong]).first()
    doubtful = judged & ranged & code.isin(example.index)
    refuse(doubtful, "value", lambda r: _no_unit_in_doubt(r, example, target, plausible))
    taken = missing & ~(judged & ~ranged) & ~doubtful & ~(value.notna() & required)
    rows.loc[taken, "unit"] = target[taken]
    noted = taken & judged
    rows.loc[noted, "note"] = [
        f"no unit in the file: taken as {unit_text(t)}, the dictionary unit, as the value lies "
        f"in its plausible range {_range(plausible, c)}" + (f"; {n}" if isinstance(n, str) else "")
        for t, c, n in zip(target[noted], code[noted], rows.loc[noted, "note"], strict=True)
    ]
    return rows


def _plausible(value: pd.Series, code: pd.Series, plausible: pd.DataFrame) -> pd.Series:
    """True where the value lies in its parameter's plausible range (bounds included), or there
    is no value or no range to judge it by."""
    low = code.map(plausible["plausible_low"]).astype("Float64")
    high = code.map(plausible["plausible_high"]).astype("Float64")
    value = value.astype("Float64")
    inside = (low.isna() | value.ge(low)) & (high.isna() | value.le(high))
    return inside.fillna(True).astype(bool)


def _number(value: float) -> str:
    """A number as a data manager reads it: 450, 0.45, 50,000,000 (never rounded away)."""
    return f"{float(value):,.12g}"


def _range(plausible: pd.DataFrame, code: str) -> str:
    low, high = plausible.at[code, "plausible_low"], plausible.at[code, "plausible_high"]
    if pd.isna(high):
        return f"at least {_number(low)}"
    if pd.isna(low):
        return f"at most {_number(high)}"
    return f"{_number(low)}–{_number(high)}"


def _no_unit_implausible(row: pd.Series, target: pd.Series, plausible: pd.DataFrame) -> str:
    code, unit = row["code"], unit_text(target[row.name])
    return (
        f"{code} {_number(row['value'])} has no unit and is not plausible in {unit} "
        f"({_range(plausible, code)}): give the unit"
    )


def _no_unit_in_doubt(row, example: pd.Series, target, plausible) -> str:
    code, unit = row["code"], unit_text(target[row.name])
    return (
        f"{code} has no unit, and another {code} value without a unit in this file "
        f"({_number(example[code])}) is not plausible in {unit} ({_range(plausible, code)}), so "
        f"the unit of these values is not known: give the unit"
    )


def _outside_plausible(row: pd.Series, written, plausible: pd.DataFrame) -> str:
    code, unit = row["code"], unit_text(row["unit"])
    value, given = written[0][row.name], written[1][row.name]
    said = f"{code} {_number(value)} {unit_text(given)}"
    if given != row["unit"]:
        said += f" ({_number(row['value'])} {unit})"
    return (
        f"{said} is outside the plausible range {_range(plausible, code)} {unit}: check the "
        "value and its unit"
    )


def _no_conversion(row: pd.Series, params: pd.DataFrame) -> str:
    return f"unit {row['unit']} cannot be converted to {params.at[row['code'], 'unit']}"


def _outside_scale(row: pd.Series, params: pd.DataFrame) -> str:
    low, high = params.at[row["code"], "scale_min"], params.at[row["code"], "scale_max"]
    own = row.get("scale_max")
    if own is not None and not pd.isna(own):
        return f"outside the {row['code']} scale {low:g}–{float(own):g} it names"
    others = _scales_of(row["code"])
    hint = (
        f" (for the {' or '.join(f'{lo:g}–{hi:g}' for lo, hi in others if hi != high)} scale, "
        "give it in column scale_max)"
        if len(others) > 1
        else ""
    )
    return f"outside the {row['code']} scale {low:g}–{high:g}{hint}"


def _scales_of(code: object) -> list[tuple[float, float]]:
    scales = dictionary.parameter_scales()
    mine = scales[scales["code"] == code]
    return list(zip(mine["scale_min"].astype(float), mine["scale_max"].astype(float), strict=True))


def _known_scale(codes: pd.Series, scale_max: pd.Series) -> pd.Series:
    """True where the scale a value names is one its parameter is recorded on."""
    scales = dictionary.parameter_scales()
    known = set(zip(scales["code"], scales["scale_max"].astype(float), strict=True))
    return pd.Series(
        [
            (c, float(m)) in known if not pd.isna(m) else True
            for c, m in zip(codes, scale_max, strict=True)
        ],
        index=codes.index,
    )


def _unknown_scale(row: pd.Series) -> str:
    others = _scales_of(row["code"])
    if not others:
        return f"{row['code']} is recorded on one scale only: leave scale_max empty"
    listed = " or ".join(f"{hi:g}" for _, hi in others)
    return f"not a scale {row['code']} is recorded on (scale_max {listed})"


def _indications(rows: pd.DataFrame, refuse) -> pd.DataFrame:
    """The indication as a code of data/reference/indications.csv: as written ('lupus' -> SLE),
    else read from the diagnosis where that names one; a given one Carta does not know is
    refused, a diagnosis that names none leaves it empty."""
    # As plain objects: an all-empty column is read as Arrow's null type, which maps to nothing.
    given = rows["indication"].astype(object).where(rows["indication"].notna(), None)
    named = pd.Series([dictionary.indication_of(v) for v in given], index=rows.index, dtype=object)
    known = ", ".join(dictionary.indications()["indication"])
    refuse(given.notna() & named.isna(), "indication",
           f"not an indication Carta knows ({known}; docs/import-format.md)")  # fmt: skip
    if "diagnosis" in rows:
        diagnosis = rows["diagnosis"].astype(object).where(rows["diagnosis"].notna(), None)
        read = pd.Series([dictionary.indication_of(v) for v in diagnosis], index=rows.index)
        named = named.where(named.notna(), read)
    rows["indication"] = pd.array(named.where(named.notna(), None).tolist(), dtype="string")
    return rows


def _schedule(rows: pd.DataFrame, facts: StoreFacts, refuse) -> None:
    """A source's own visits: the nominal day inside its window, measure groups Carta knows, and
    within one source no visit named twice and no window overlapping another (a measured day
    belongs to one visit at most), counting the visits already stored."""
    known = dictionary.schedule_measures()["group"].unique().tolist()
    groups = rows["expected"].fillna("").str.split(";").map(lambda gs: [g.strip() for g in gs])
    rows["expected"] = pd.array(groups.map(";".join).tolist(), dtype="string")
    unknown = groups.map(lambda gs: [g for g in gs if g not in known])
    refuse(
        unknown.map(bool),
        "expected",
        f"not a measure group of data/reference/schedule_measures.csv ({', '.join(known)})",
    )
    day_from, day_to = rows["day_from"].astype("Float64"), rows["day_to"].astype("Float64")
    nominal = rows["nominal_day"].astype("Float64")
    refuse(day_from > day_to, "day_from", "the window opens after it closes (day_from > day_to)")
    outside = (nominal < day_from) | (nominal > day_to)
    refuse(outside, "nominal_day", "the nominal day is outside its window (day_from to day_to)")
    bad = (unknown.map(bool) | (day_from > day_to) | outside).fillna(True)
    taken: dict[str, list[tuple[str, float, float]]] = {}
    for visit in facts.schedules.itertuples():
        taken.setdefault(visit.source_id, []).append((visit.visit, visit.day_from, visit.day_to))
    clash = pd.Series("", index=rows.index, dtype=object)
    for line, row in rows.iterrows():  # a schedule is a few dozen visits
        if bad[line]:
            continue
        visits = taken.setdefault(row["source_id"], [])
        for name, low, high in visits:
            if name == row["visit"]:
                clash[line] = f"visit {name!r} is already in this source's schedule"
                break
            if row["day_from"] <= high and low <= row["day_to"]:
                clash[line] = f"its window overlaps visit {name!r} (days {low:g} to {high:g})"
                break
        else:
            visits.append((row["visit"], row["day_from"], row["day_to"]))
    refuse(clash != "", "day_from", lambda r: clash[r.name])


def _far_days(table_file: TableFile, rows: pd.DataFrame, facts: StoreFacts) -> list[Problem]:
    """A warning, not a refusal: a day far outside the follow-up is often a typing error."""
    column = next(c for c in ("day", "start_day", "onset_day") if c in rows)
    if "patient_id" not in rows:
        return []
    follow_up = rows["patient_id"].map(facts.patients).astype("Float64").fillna(365)
    day = rows[column].astype("Float64")
    far = day.notna() & ((day < -FAR_DAYS) | (day > follow_up + FAR_DAYS))
    return [
        Problem(table_file.path.name, int(line), column, _text(rows.at[line, column]),
                FAR_REASON)
        for line in far[far.fillna(False)].index
    ]  # fmt: skip


def _text(value: object) -> str | None:
    """A value as the file gave it: -5, not the -5.0 its column's type made of it."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
