"""A file in Carta's format typed in SQL: the one statement of the import that is composed, not
read from queries/, because its columns are the table's (carta/schema.sql), one expression each.

Every name in it comes from the schema, never from a file or a person; every value (the source
named at import, the serology units) is a $named parameter. It reads table `incoming`, a batch of
the file's text (carta/ingest/checking.py): per row its `line` and `batch`, and per column of the
table the file has, `s_<column>`, the cell trimmed of whitespace, and `r_<column>`, the cell as
written where trimming changed it (else NULL). It gives per row its line and batch, every column
typed as the store wants it, and `parse_problems`: NULL for a row whose every cell was read, else
the cells that were not, each as {position, missing, text} (the column's place in the table,
whether a required value is missing or a value is not of the column's type, and the text as
written).

The rules are those Carta's format always had (docs/import-format.md): a cell is trimmed of
whitespace (what Python's str.strip() removes; pyarrow trims it, as pandas did); empty is
missing; a whole number is a number without a fraction that fits in 32 bits (1e3 and 7.0 are
whole); a number is a decimal or exponent number, not NaN, read to the nearest double (inf is a
number, refused later as not finite); a date is YYYY-MM-DD; true and false are true/t/yes/y/1
and false/f/no/n/0 in any case.
"""

from __future__ import annotations

from carta import dictionary
from carta.schema import required_columns, table_columns

TRUE = ("true", "t", "yes", "y", "1")
FALSE = ("false", "f", "no", "n", "0")
# In a data manager's words, not the store's type names.
NOT_PARSED = {
    "INTEGER": "not a whole number",
    "BIGINT": "not a whole number",
    "DOUBLE": "not a number",
    "BOOLEAN": "not true or false",
    "DATE": "not a date (YYYY-MM-DD)",
}
MISSING = "required: the value is missing"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_list(words: tuple[str, ...]) -> str:
    # Constants of this module, never a file's text.
    return "(" + ", ".join(f"'{w}'" for w in words) + ")"


def _typed(column: str, dtype: str) -> str:
    """The expression that types the trimmed text `s_<column>` (and its number `d_<column>`)."""
    text, number = _quoted(f"s_{column}"), _quoted(f"d_{column}")
    whole = f"{number} = floor({number}) AND abs({number}) < 2147483648"
    if dtype in ("INTEGER", "BIGINT"):
        return f"CASE WHEN {whole} THEN CAST({number} AS {dtype}) END"
    if dtype == "DOUBLE":
        return f"CASE WHEN NOT isnan({number}) THEN {number} END"
    if dtype == "DATE":
        return (
            f"CASE WHEN regexp_full_match({text}, '[0-9]{{4}}-[0-9]{{1,2}}-[0-9]{{1,2}}') "
            f"THEN CAST(try_strptime({text}, '%Y-%m-%d') AS DATE) END"
        )
    if dtype == "BOOLEAN":
        return (
            f"CASE WHEN lower({text}) IN {_sql_list(TRUE)} THEN true "
            f"WHEN lower({text}) IN {_sql_list(FALSE)} THEN false END"
        )
    return f"NULLIF({text}, '')"


def _cells(column: str, present: set[str], given: set[str]) -> tuple[str, str]:
    """A column's text trimmed and as written: the file's cells, the value named at import for
    every row (source_id: parameters `<column>` trimmed, `<column>_as_written`), or empty for a
    column the file leaves out."""
    if column in present:
        trimmed = _quoted(f"s_{column}")
        return trimmed, f"coalesce({_quoted(f'r_{column}')}, {trimmed})"
    if column in given:
        return f"CAST(${column} AS VARCHAR)", f"CAST(${column}_as_written AS VARCHAR)"
    return "''", "''"


def _reading_unit(cells: dict[str, tuple[str, str]]) -> tuple[str, str]:
    """observations.unit: a serology result given only as negative, borderline or positive has
    no number, so its unit cannot be wrong: it takes the dictionary's ({titer}) rather than being
    refused."""
    unit, value, code, reading = (cells[c][0] for c in ("unit", "value", "code", "interpretation"))
    reading_only = (
        f"{unit} = '' AND {value} = '' AND {reading} <> '' "
        f"AND list_contains($serology_codes, {code})"
    )
    dictionary_unit = f"$serology_units[list_position($serology_codes, {code})]"
    return (
        f"CASE WHEN {reading_only} THEN {dictionary_unit} ELSE {unit} END",
        f"CASE WHEN {reading_only} THEN {dictionary_unit} ELSE {cells['unit'][1]} END",
    )


def typing_statement(table: str, present: set[str], given: set[str]) -> str:
    """The SELECT that types a batch of `table`'s file: `present` are the table's columns the
    file has, `given` those named once at import (parameters of the same name)."""
    columns = table_columns()[table]
    required = required_columns(table)
    cells = {c: _cells(c, present, given) for c, _ in columns}
    if table == "observations":
        cells["unit"] = _reading_unit(cells)
    numeric = [c for c, t in columns if t in ("INTEGER", "BIGINT", "DOUBLE")]
    read = ",\n            ".join(
        f"{trimmed} AS {_quoted(f's_{c}')}, {written} AS {_quoted(f'r_{c}')}"
        for c, (trimmed, written) in cells.items()
    )
    # "1_000" and "+-3" are no numbers to a data manager (nor were they to the import), though
    # DuckDB would read 1000 and -3. (An empty cell is made NULL before the cast: a failed cast
    # costs DuckDB four times a NULL one, and most cells of a file's optional columns are empty.)
    numbers = ",\n        ".join(
        f"CASE WHEN NOT contains({_quoted(f's_{c}')}, '_') "
        f"AND NOT starts_with({_quoted(f's_{c}')}, '+-') "
        f"THEN TRY_CAST(nullif({_quoted(f's_{c}')}, '') AS DOUBLE) END AS {_quoted(f'd_{c}')}"
        for c in numeric
    )
    typed = ",\n        ".join(f"{_typed(c, t)} AS {_quoted(c)}" for c, t in columns)
    checks = []
    for position, (column, dtype) in enumerate(columns):
        text, cell = _quoted(f"s_{column}"), _quoted(f"r_{column}")
        if column in required:
            checks.append(
                (f"{text} = ''", f"{{'position': {position}, 'missing': true, 'text': {cell}}}")
            )
        if dtype in NOT_PARSED:
            checks.append(
                (
                    f"{text} <> '' AND {_quoted(column)} IS NULL",
                    f"{{'position': {position}, 'missing': false, 'text': {cell}}}",
                )
            )
    anything = " OR ".join(f"({when})" for when, _ in checks) or "false"
    listed = ",\n            ".join(f"CASE WHEN {when} THEN {item} END" for when, item in checks)
    problems = (
        f"CASE WHEN {anything} THEN list_filter([\n            {listed}\n        ], "
        "lambda p: p IS NOT NULL) END"
    )
    names = ", ".join(_quoted(c) for c, _ in columns)
    return f"""
SELECT line, batch, {names}, {problems} AS parse_problems
FROM (
    SELECT line, batch, COLUMNS('^[rs]_'),
        {typed}
    FROM (
        SELECT line, batch, COLUMNS('^[rs]_'){"," if numbers else ""}
        {numbers}
        FROM (
            SELECT line, batch,
            {read}
            FROM incoming
        )
    )
)"""


def typing_parameters(table: str, given: dict[str, str]) -> dict[str, object]:
    """The statement's parameters: the values named at import, trimmed and as written, and for
    observations the serology codes with their dictionary units."""
    params: dict[str, object] = {}
    for column, value in given.items():
        params |= {column: value.strip(), f"{column}_as_written": value}
    if table == "observations":
        codes = sorted(dictionary.serology_codes())
        units = dictionary.parameters().set_index("code")["unit"]
        params |= {"serology_codes": codes, "serology_units": [units[c] for c in codes]}
    return params
