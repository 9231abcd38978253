"""Tiny stores written by hand, so that tests can state their expected answers in full."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from carta import dictionary
from carta.build import reference_table
from carta.derive import derive_tables
from carta.schema import SCHEMA_VERSION, columns, create_tables

PATIENT = "HAND-01"

# Columns added since schema version 3, which a file may leave out: tests that write rows by hand
# write the columns a file had before them.
OPTIONAL_SINCE_3 = {
    "timing", "race", "data_cut", "dose_basis", "organ",  # schema 3
    "ethnicity", "country", "arm", "day_earliest", "day_latest", "day_precision", "route",
    "drug_class", "start_earliest", "start_latest", "start_precision", "severity",
    "onset_earliest", "onset_latest", "onset_precision", "day0_basis",  # schema 4
    "indication", "scale_max", "interpretation",  # schema 5
}  # fmt: skip


def file_header(table: str) -> str:
    """The header line of a hand-written import file for `table`."""
    return ",".join(c for c in columns(table) if c not in OPTIONAL_SINCE_3)


def hand_store(
    path: Path,
    observations: list[tuple],
    events: list[tuple] = (),
    derived: bool = True,
    indication: str | None = None,
    medications: list[tuple] = (),
    follow_up_days: int = 240,
) -> Path:
    """A store with one synthetic patient.

    observations: (day, code, value[, qualifier[, scale_max]]) in the dictionary unit, blood,
    default ranges.
    events: (kind, name, start_day, end_day).
    derived: fill the derived tables, as every published store has them.
    indication: the patient's indication code (empty: not given).
    medications: (name, start_day, end_day, dose, dose_unit) medication events.
    follow_up_days: the patient's follow-up.
    """
    con = duckdb.connect(str(path))
    create_tables(con)
    for table, frame in (("parameters", dictionary.parameters()),
                         ("timepoints", dictionary.timepoints()),
                         ("ae_categories", reference_table("ae_categories"))):  # fmt: skip
        con.register("frame", frame)
        con.execute(f"INSERT INTO {table} SELECT {', '.join(columns(table))} FROM frame")
        con.unregister("frame")
    units = dictionary.parameters().set_index("code")["unit"]
    con.execute("INSERT INTO store_meta VALUES ('schema_version', ?), ('store_version', '1')",
                [str(SCHEMA_VERSION)])  # fmt: skip
    con.execute(
        "INSERT INTO sources (source_id, kind, citation) "
        "VALUES ('hand', 'synthetic', 'Hand-made test data')"
    )
    con.execute(
        "INSERT INTO patients (patient_id, source_id, cohort, sex, age_years, follow_up_days, "
        "indication, synthetic) VALUES (?, 'hand', 'Test', 'F', 10, ?, ?, true)",
        [PATIENT, follow_up_days, indication],
    )
    rows = [
        (PATIENT, day, code, value, units[code], "blood", (*rest, None, None)[0],
         (*rest, None, None)[1], "hand")
        for day, code, value, *rest in observations
    ]  # fmt: skip
    if rows:
        con.executemany(
            "INSERT INTO observations (patient_id, day, code, value, unit, specimen, qualifier, "
            "scale_max, source_id) VALUES (?,?,?,?,?,?,?,?,?)",
            rows,
        )
    for name, start, end, dose, unit in medications:
        con.execute(
            "INSERT INTO events (patient_id, kind, name, start_day, end_day, dose, dose_unit, "
            "source_id) VALUES (?, 'medication', ?, ?, ?, ?, ?, 'hand')",
            [PATIENT, name, start, end, dose, unit],
        )
    for kind, name, start, end in events:
        con.execute(
            "INSERT INTO events (patient_id, kind, name, start_day, end_day, source_id) "
            "VALUES (?, ?, ?, ?, ?, 'hand')",
            [PATIENT, kind, name, start, end],
        )
    if derived:
        derive_tables(con)
    con.close()
    return path


def observation_frame(
    rows: list[tuple], columns=("patient_id", "day", "value", "qualifier")
) -> pd.DataFrame:
    """Observations from (patient, day, value[, qualifier[, more...]]) tuples, for the rules'
    tests (carta/measures take such long frames of many patients)."""
    width = len(columns)
    padded = [tuple(r) + (None,) * (width - len(r)) for r in rows]
    return pd.DataFrame(padded, columns=list(columns))
