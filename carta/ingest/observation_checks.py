"""The checks of an observations file in Carta's format, in SQL (queries/check_observations.sql)
over its rows in the import's checking database: the rules of carta/ingest/validate.py, in its
order and with its reasons, at the speed of the engine.

Python does the small things: it resolves each parameter name and unit the file uses once (a
million rows hold a few dozen), hands the store's facts to DuckDB as small tables, and words the
reasons of the refused rows with validate.py's own functions. The accepted rows come back as
Arrow, to be inserted into the new store version as they are.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from carta import dictionary
from carta.ingest import validate
from carta.ingest.checking import CheckingDatabase
from carta.ingest.problems import Problem
from carta.ingest.validate import ALLOWED, FAR_DAYS, FAR_REASON, StoreFacts
from carta.schema import columns
from carta.store import query_sql, run_query

TABLE = "observations"
UNKNOWN_CODE = "unknown parameter code (see docs/data-dictionary.md)"
# Every rule of queries/check_observations.sql: its column and its reason (text, or a function
# of the refused row and the facts), in the order validate.check applies them, which is the order
# the problems are listed in.
RULES: dict[str, tuple[str, object]] = {
    "finite value": ("value", "not a finite number"),
    "finite ref_low": ("ref_low", "not a finite number"),
    "finite ref_high": ("ref_high", "not a finite number"),
    "finite scale_max": ("scale_max", "not a finite number"),
    "bounds day": ("day", None),  # worded from data/reference/column_bounds.csv
    **{
        f"allowed {column}": (column, f"not one of {', '.join(sorted(allowed))}")
        for (table, column), allowed in ALLOWED.items()
        if table == TABLE
    },
    "writable": ("source_id", "not a source you may import into (an admin grants the role)"),
    "source": ("source_id", "unknown source: add it to sources.csv"),
    "patient": ("patient_id", "unknown patient: add them to patients.csv"),
    "undated": (
        "day",
        "required: the study day, or the timing in words when the source gives no day "
        "(column timing)",
    ),
    "code": ("code", UNKNOWN_CODE),
    "negative": ("value", "negative values are impossible"),
    "unit": ("unit", lambda row, facts: validate._no_conversion(row, facts.parameters)),
    "scale": ("scale_max", lambda row, facts: validate._unknown_scale(row)),
    "outside scale": ("value", lambda row, facts: validate._outside_scale(row, facts.parameters)),
    "implausible": ("value", lambda row, facts: _outside_plausible(row, facts)),
    "value needed": (
        "value",
        "a value is needed unless qualifier is not_detected or the result is given as negative, "
        "borderline or positive (column interpretation)",
    ),
    "conflict": ("value", "conflicting duplicate: same patient, day, parameter and specimen"),
    "repeated": ("value", "duplicate of an earlier line: same patient, day, parameter, specimen"),
    "stored": (
        "day",
        "the store already has a value for this patient, day, parameter and specimen",
    ),
}
RULES_IN_ORDER = list(RULES)
# The value a reason quotes is the row's as validate.check held it when the rule refused it:
# as written before the unit was converted, as converted after.
_WRITTEN = {"finite value": "value_written", "negative": "value_written", "unit": "unit_written"}


def check_observations(
    db: CheckingDatabase, facts: StoreFacts, stored_keys: pd.DataFrame, file_name: str
) -> tuple[pa.Table, list[Problem]]:
    """The accepted rows of `typed` (Arrow, with their line) and the problems of the others,
    then the warnings of the accepted ones. `stored_keys`: the store's (patient_id, day, code,
    specimen) of the file's patients (queries/observation_keys.sql)."""
    register_facts(db, facts, stored_keys)
    bounds = facts.bounds[facts.bounds["table"] == TABLE].set_index("column")
    if set(bounds.index) - {"day"}:
        # queries/check_observations.sql bounds the day only: a new bound needs its rule there.
        raise NotImplementedError(f"no SQL check for the bounds of {sorted(bounds.index)}")
    day_low, day_high = (
        (float(bounds.at["day", "low"]), float(bounds.at["day", "high"]))
        if "day" in bounds.index
        else (-np.inf, np.inf)
    )
    params = {
        "day_low": day_low,
        "day_high": day_high,
        "specimens": sorted(ALLOWED[(TABLE, "specimen")]),
        "qualifiers": sorted(ALLOWED[(TABLE, "qualifier")]),
        "interpretations": sorted(ALLOWED[(TABLE, "interpretation")]),
        "any_source": facts.writable is None,
        "far_days": FAR_DAYS,
    }
    # One pass of queries/check_observations.sql; its rows split in Arrow, never as objects.
    checked = db.arrow(query_sql("check_observations"), params)
    rule = checked.column("rule")
    if rule.null_count == len(rule):  # nothing refused: nothing to copy
        refused, accepted = checked.slice(0, 0), checked
    else:
        refused, accepted = checked.filter(pc.is_valid(rule)), checked.filter(pc.is_null(rule))
    problems = _refusals(refused.to_pandas(), facts, bounds, file_name)
    days = accepted.select(["line", "day", "far"])
    far = days.filter(days.column("far")).to_pandas()
    problems += [
        Problem(file_name, int(line), "day", validate._text(day), FAR_REASON)
        for line, day in zip(far["line"], far["day"], strict=True)
    ]
    return accepted.select(["line", *columns(TABLE)]), problems


def patients_of_file(db: CheckingDatabase) -> list[str]:
    return run_query(db.con, "check_observation_patients")["patient_id"].tolist()


def register_facts(db: CheckingDatabase, facts: StoreFacts, stored_keys: pd.DataFrame) -> None:
    params = facts.parameters
    names = run_query(db.con, "check_observation_names")
    # "CPK", "Creatine kinase" and 2157-6 all mean CK: each name the file uses, resolved once.
    written = names["code"].drop_duplicates().tolist()
    resolved = {n: dictionary.resolve_code(n, facts.codes) for n in written}
    db.register("code_names", pa.table({
        "written": pa.array(written, pa.string()),
        "code": pa.array([resolved[n] for n in written], pa.string()),
    }))  # fmt: skip
    plausible = facts.plausible.reindex(params.index)
    db.register("parameter_rules", pa.table({
        "code": pa.array(params.index.tolist(), pa.string()),
        "unit": pa.array(params["unit"].tolist(), pa.string()),
        "scale_min": _floats(params["scale_min"]),
        "scale_max": _floats(params["scale_max"]),
        "plausible_low": _floats(plausible["plausible_low"]),
        "plausible_high": _floats(plausible["plausible_high"]),
    }))  # fmt: skip
    # Each unit the file gives a parameter in, with its UCUM spelling and the factor to the
    # dictionary's unit (none: refused), found once per pair.
    pairs = list(dict.fromkeys(zip(names["unit"], names["code"].map(resolved), strict=True)))
    given = [validate.normal_unit(unit) for unit, _ in pairs]
    target = [params.at[code, "unit"] if code in params.index else None for _, code in pairs]
    factors = [validate._factor(g, t, code) for g, t, (_, code) in zip(given, target, pairs,
                                                                       strict=True)]  # fmt: skip
    db.register("unit_factors", pa.table({
        "unit": pa.array([u for u, _ in pairs], pa.string()),
        "code": pa.array([c for _, c in pairs], pa.string()),
        "given": pa.array(given, pa.string()),
        "factor": pa.array([None if np.isnan(f) else f for f in factors], pa.float64()),
    }))  # fmt: skip
    scales = dictionary.parameter_scales()
    db.register("parameter_scales", pa.table({
        "code": pa.array(scales["code"].tolist(), pa.string()),
        "scale_max": _floats(scales["scale_max"]),
    }))  # fmt: skip
    follow_up = [facts.patients[p] for p in facts.patients]
    db.register("known_patients", pa.table({
        "patient_id": pa.array(list(facts.patients), pa.string()),
        "follow_up_days": pa.array([None if pd.isna(d) else float(d) for d in follow_up],
                                   pa.float64()),
    }))  # fmt: skip
    db.register("known_sources", _ids("source_id", facts.sources))
    db.register("writable_sources", _ids("source_id", facts.writable or ()))
    db.register("stored_keys", pa.table({
        "patient_id": pa.array(stored_keys["patient_id"].tolist(), pa.string()),
        "day": pa.array([None if pd.isna(d) else int(d) for d in stored_keys["day"]], pa.int32()),
        "code": pa.array(stored_keys["code"].tolist(), pa.string()),
        "specimen": pa.array(stored_keys["specimen"].tolist(), pa.string()),
    }))  # fmt: skip


def _floats(values: pd.Series) -> pa.Array:
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    return pa.array(numbers.to_numpy(), pa.float64(), mask=numbers.isna().to_numpy())


def _ids(name: str, ids) -> pa.Table:
    return pa.table({name: pa.array(sorted(ids), pa.string())})


def _refusals(refused: pd.DataFrame, facts: StoreFacts, bounds, file_name: str) -> list[Problem]:
    """A problem per refused row, listed rule by rule in validate.check's order, then by line. A
    file may be refused whole (its patients unknown): a reason is worded once per rule, or once
    per distinct value it quotes, never once per row."""
    order = {rule: number for number, rule in enumerate(RULES)}
    refused = refused.assign(_order=refused["rule"].map(order)).sort_values(["_order", "line"])
    problems = []
    for rule, rows in refused.groupby("_order", sort=True):
        rule = RULES_IN_ORDER[rule]
        column, reason = RULES[rule]
        if rule in ("undated", "value needed"):
            values = [None] * len(rows)
        else:
            values = [validate._text(v) for v in rows[_WRITTEN.get(rule, column)]]
        if rule == "bounds day":
            bound = bounds.loc["day"]
            reasons = [f"outside the plausible range {bound.low:g} to {bound.high:g} {bound.unit} "
                       "(data/reference/column_bounds.csv)"] * len(rows)  # fmt: skip
        elif callable(reason):
            reasons = _worded(rule, rows, facts, reason)
        else:
            reasons = [reason] * len(rows)
        problems += [
            Problem(file_name, int(line), column, value, text)
            for line, value, text in zip(rows["line"], values, reasons, strict=True)
        ]
    return problems


# What each worded reason depends on: it is worded once per distinct value of these (a wrong
# unit is often a whole column's).
_QUOTES = {
    "unit": ("code", "unit_written"),
    "scale": ("code",),
    "outside scale": ("code", "scale_max"),
    "implausible": ("code", "value", "value_written", "unit_given", "unit"),
}


def _worded(rule: str, rows: pd.DataFrame, facts: StoreFacts, reason) -> list[str]:
    keys = list(zip(*(rows[c].astype(object).where(rows[c].notna(), None) for c in _QUOTES[rule]),
                    strict=True))  # fmt: skip
    first: dict[tuple, int] = {}
    for number, key in enumerate(keys):
        first.setdefault(key, number)
    worded = {}
    for key, number in first.items():
        # validate.py's functions read the row as validate.check held it: the unit as written
        # when a unit is refused, the dictionary's after the conversion.
        held = rows.iloc[number].copy()
        if rule == "unit":
            held["unit"] = held["unit_written"]
        worded[key] = reason(held, facts)
    return [worded[key] for key in keys]


def _outside_plausible(row: pd.Series, facts: StoreFacts) -> str:
    written = (
        pd.Series({row.name: row["value_written"]}),
        pd.Series({row.name: row["unit_given"]}),
    )
    return validate._outside_plausible(row, written, facts.plausible)
