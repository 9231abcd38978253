"""The store's tables as the schema file declares them: one source of truth for column names."""

from functools import cache
from pathlib import Path

import duckdb

SCHEMA_FILE = Path(__file__).with_name("schema.sql")

# Bump when schema.sql changes; a store with another version is refused with a rebuild hint.
SCHEMA_VERSION = 9

# The tables users import against, in load order (sources before the rows that cite them).
DATA_TABLES = (
    "sources",
    "patients",
    "observations",
    "other_observations",
    "events",
    "adverse_events",
    "imaging",
    "reported_findings",
    "visit_schedules",
)
REFERENCE_TABLES = ("parameters", "timepoints", "ae_categories")
# Computed from the data tables by carta/derive.py at every publish; never imported.
DERIVED_TABLES = (
    "timepoint_values",
    "lab_grades",
    "lab_toxicity",
    "patient_kinetics",
    "bcell_aplasia",
    "patient_recovery",
    "patient_hematotox",
    "response_by_timepoint",
    "patient_exposure",
    "remission_by_timepoint",
    "serology_status",
    "follow_up_completeness",
    "quality_findings",
)
# Carried from each published version into the next, never recomputed.
HISTORY_TABLES = ("imports", "quality_history")
ALL_TABLES = ("store_meta", *REFERENCE_TABLES, *DATA_TABLES, *DERIVED_TABLES, *HISTORY_TABLES)


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SCHEMA_FILE.read_text(encoding="utf-8"))


@cache
def table_columns() -> dict[str, tuple[tuple[str, str], ...]]:
    """{table: ((column, duckdb type), ...)} in declared order, read from an in-memory copy."""
    con = duckdb.connect()
    try:
        create_tables(con)
        rows = con.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "ORDER BY table_name, ordinal_position"
        ).fetchall()
    finally:
        con.close()
    out: dict[str, list[tuple[str, str]]] = {}
    for table, column, dtype in rows:
        out.setdefault(table, []).append((column, dtype))
    return {table: tuple(cols) for table, cols in out.items()}


def columns(table: str) -> list[str]:
    return [name for name, _ in table_columns()[table]]


@cache
def required_columns(table: str) -> frozenset[str]:
    """The columns declared NOT NULL: a row without them cannot be stored."""
    return _required_columns().get(table, frozenset())


@cache
def _required_columns() -> dict[str, frozenset[str]]:
    """Every table's NOT NULL columns, read once from an in-memory copy of the schema."""
    con = duckdb.connect()
    try:
        create_tables(con)
        rows = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE is_nullable = 'NO'"
        ).fetchall()
    finally:
        con.close()
    required: dict[str, set[str]] = {}
    for table, name in rows:
        required.setdefault(table, set()).add(name)
    return {table: frozenset(names) for table, names in required.items()}
