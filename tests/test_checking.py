"""The import's checks in SQL: cells typed by DuckDB as Carta's format always typed them, and the
observation rules of queries/check_observations.sql giving the same rows, reasons and order as
validate.check, the pandas rule the other readers use, on hand-worked rows."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from carta import dictionary
from carta.ingest import validate
from carta.ingest.carta_format import Problem, read_table_csv, stage_table_file
from carta.ingest.checking import CheckingDatabase, arrow_frame
from carta.ingest.observation_checks import check_observations
from carta.ingest.validate import FAR_REASON, StoreFacts
from carta.measures.numbers import signif
from carta.schema import columns

HEADER = ",".join(columns("observations"))
FILE = "observations.csv"


def row(patient="P1", day="1", code="CK", value="120", unit="U/L", *, ref_low="", ref_high="",
        specimen="blood", qualifier="", source="src", note="", timing="", scale_max="",
        interpretation="") -> str:  # fmt: skip
    cells = [patient, day, code, value, unit, ref_low, ref_high, specimen, qualifier, source, note,
             timing, "", "", "", scale_max, interpretation]  # fmt: skip
    return ",".join(cells)


def facts(writable: frozenset[str] | None = None) -> StoreFacts:
    return StoreFacts(
        patients={"P1": 240, "P2": None},
        sources={"src", "other-src"},
        parameters=dictionary.parameters().set_index("code"),
        codes=dictionary.code_lookup(),
        writable=writable,
    )


STORED = pd.DataFrame({"patient_id": ["P1"], "day": [34], "code": ["CK"], "specimen": ["blood"]})


def write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / FILE
    path.write_text(HEADER + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def sql_check(path: Path, store_facts: StoreFacts, stored: pd.DataFrame = STORED):
    with CheckingDatabase() as db:
        table_file = stage_table_file(db, path, "observations")
        accepted, found = check_observations(db, store_facts, stored, FILE)
    return arrow_frame(accepted), table_file.problems + found


def pandas_check(path: Path, store_facts: StoreFacts, stored: pd.DataFrame = STORED):
    table_file = read_table_csv(path, "observations")
    keys = frozenset(stored.itertuples(index=False, name=None))
    rows, found = validate.check(table_file, replace(store_facts, observation_keys=keys))
    return rows, table_file.problems + found


def same_rows(sql: pd.DataFrame, rule: pd.DataFrame) -> None:
    """The same rows, lines and values, whatever pandas dtype each path gives a column."""
    assert sql.index.tolist() == rule.index.tolist()
    assert list(sql.columns) == list(rule.columns)
    for column in sql.columns:
        mine = [None if pd.isna(v) else v for v in sql[column].astype(object)]
        theirs = [None if pd.isna(v) else v for v in rule[column].astype(object)]
        assert mine == theirs, column


# Every rule, each with a row it refuses and rows on either side of its boundary.
WORKED = [
    row(),  # 2: accepted
    row(day="2", value="inf"),  # 3: not finite
    row(day="3", ref_low="-inf"),  # 4
    row(day="4", ref_high="inf"),  # 5
    row(day="5", code="MMT8", value="40", unit="{score}", scale_max="inf"),  # 6
    row(day="-3651"),  # 7: outside the day's bounds
    row(day="-3650"),  # 8: the bound itself (and far before the infusion: a warning)
    row(day="9", specimen="plasma"),  # 9
    row(day="10", qualifier="~"),  # 10
    row(day="11", interpretation="maybe"),  # 11
    row(day="12", source="nowhere"),  # 12: unknown source
    row(patient="NOBODY", day="13", code="FOO"),  # 13: unknown patient, first of two reasons
    row(day=""),  # 14: no day and no timing
    row(day="", code="LDH", value="300", timing="at screening"),  # 15: the timing in words
    row(day="16", code="FOO"),  # 16: unknown parameter
    row(day="17", code="ANC", value="-0.4", unit="10*9/L"),  # 17: negative
    row(day="18", unit="mmol/L"),  # 18: no conversion
    row(day="19", code="MMT8", value="70", unit="{score}", scale_max="99"),  # 19: no such scale
    row(day="20", code="CMAS", value="60", unit="{score}"),  # 20: outside 0-52
    row(day="21", code="CMAS", value="52", unit="{score}"),  # 21: the scale's top
    row(day="22", code="MMT8", value="140", unit="{score}", scale_max="150"),  # 22: its own scale
    row(day="23", value="600000"),  # 23: implausible
    row(day="24", value="500000"),  # 24: the plausible top
    row(day="25", code="HGB", value="300", unit="g/L"),  # 25: implausible once converted
    row(day="26", value=""),  # 26: a value is needed
    row(day="27", code="CART", value="", unit="{cells}/uL", qualifier="not_detected"),  # 27
    row(day="28", code="ANA", value="", unit="", interpretation="positive"),  # 28: a reading
    row(day="31", value="200"),  # 29: conflicts with line 30
    row(day="31", value="210"),  # 30
    row(day="32", value="200"),  # 31: repeated by line 32
    row(day="32", value="200"),  # 32
    row(day="33", value="12", unit="ukat/L"),  # 33: 720 U/L, repeated by line 34
    row(day="33", value="720"),  # 34
    row(day="34"),  # 35: the store has it
    row(day="420"),  # 36: follow-up 240 + 180: no warning
    row(day="421"),  # 37: a warning
    row(patient="P2", day="545"),  # 38: no follow-up given: 365 + 180
    row(patient="P2", day="546"),  # 39: a warning
    row(day="40", code="CPK", value="400"),  # 40: named CPK
    row(day="41", code="Haemoglobin", value="121", unit="g/L", note="fasting"),  # 41
    row(day="seven"),  # 42: not a whole number
    row(day="43", value="1_000"),  # 43: not a number
    row(day="44", value="nan"),  # 44
    row(day="2147483648"),  # 45: does not fit 32 bits
    row(day=" 46 ", value="\u00a0130\u2003", unit=" U/L "),  # 46: trimmed
    "",  # 47: a blank line
    "P1,48,CK",  # 48: too few fields
    row(day="49", patient="", unit=""),  # 49: two required values missing
    row(day="50", value="1e2"),  # 50: a number in exponent form
    row(day="7.0"),  # 51: a whole number written with a fraction
]


@pytest.mark.parametrize("writable", [None, frozenset({"src"})])
def test_the_sql_checks_and_validate_check_agree_on_every_rule(tmp_path, writable) -> None:
    path = write(tmp_path, [*WORKED, row(day="52", source="other-src")])
    sql_rows, sql_problems = sql_check(path, facts(writable))
    rule_rows, rule_problems = pandas_check(path, facts(writable))
    assert sql_problems == rule_problems
    same_rows(sql_rows, rule_rows)


def test_each_rule_refuses_with_its_reason(tmp_path) -> None:
    path = write(tmp_path, WORKED)
    rows, problems = sql_check(path, facts())
    refused = {p.row: (p.column, p.value, p.reason) for p in problems if not p.is_warning}
    assert refused[3] == ("value", "inf", "not a finite number")
    assert refused[4] == ("ref_low", "-inf", "not a finite number")
    assert refused[6] == ("scale_max", "inf", "not a finite number")
    assert refused[7] == ("day", "-3651", "outside the plausible range -3650 to 36500 study days "
                                          "(data/reference/column_bounds.csv)")  # fmt: skip
    assert refused[9] == ("specimen", "plasma", "not one of blood, bone_marrow, urine")
    assert refused[10] == ("qualifier", "~", "not one of <, >, not_detected")
    assert refused[11] == ("interpretation", "maybe", "not one of borderline, negative, positive")
    assert refused[12] == ("source_id", "nowhere", "unknown source: add it to sources.csv")
    assert refused[13] == ("patient_id", "NOBODY", "unknown patient: add them to patients.csv")
    assert refused[14][0] == "day" and refused[14][2].startswith("required: the study day")
    assert refused[16] == ("code", "FOO", "unknown parameter code (see docs/data-dictionary.md)")
    assert refused[17] == ("value", "-0.4", "negative values are impossible")
    assert refused[18] == ("unit", "mmol/L", "unit mmol/L cannot be converted to U/L")
    assert refused[19][:2] == ("scale_max", "99")
    assert refused[19][2].startswith("not a scale MMT8 is recorded on")
    assert refused[20] == ("value", "60", "outside the CMAS scale 0–52")
    assert refused[23][2].startswith("CK 600,000 U/L is outside the plausible range 0–500,000")
    assert refused[25][2].startswith("HGB 300 g/L (30 g/dL) is outside the plausible range 1–25")
    assert refused[26][:2] == ("value", None)
    assert (
        refused[29][2]
        == refused[30][2]
        == ("conflicting duplicate: same patient, day, parameter and specimen")
    )
    assert 31 not in refused and refused[32][2].startswith("duplicate of an earlier line")
    assert 33 not in refused and refused[34][2].startswith("duplicate of an earlier line")
    assert refused[35] == ("day", "34", "the store already has a value for this patient, day, "
                                        "parameter and specimen")  # fmt: skip
    assert refused[42] == ("day", "seven", "not a whole number")
    assert refused[43] == ("value", "1_000", "not a number")
    assert refused[44] == ("value", "nan", "not a number")
    assert refused[45] == ("day", "2147483648", "not a whole number")
    assert refused[48][2] == "3 fields where the header has 17; refused"
    missing = [(p.column, p.value, p.reason) for p in problems if p.row == 49]
    assert missing == [("patient_id", "", "required: the value is missing"),
                       ("unit", "", "required: the value is missing")]  # fmt: skip
    assert 47 not in refused  # a blank line is no row
    warned = [p.row for p in problems if p.is_warning]
    assert warned == [8, 37, 39] and all(p.reason == FAR_REASON for p in problems if p.is_warning)
    accepted = set(rows.index)
    assert accepted.isdisjoint(refused)
    assert accepted | set(refused) == set(range(2, 52)) - {47}  # every row accounted for


def test_accepted_rows_are_stored_as_the_rule_converts_and_names_them(tmp_path) -> None:
    rows, _ = sql_check(write(tmp_path, WORKED), facts())
    assert (rows.at[33, "value"], rows.at[33, "unit"]) == (720.0, "U/L")
    assert rows.at[33, "note"] == "converted from ukat/L"
    assert (rows.at[40, "code"], rows.at[40, "note"]) == ("CK", "named CPK in the file")
    assert (rows.at[41, "code"], rows.at[41, "value"], rows.at[41, "unit"]) == ("HGB", 12.1, "g/dL")
    assert rows.at[41, "note"] == "converted from g/L; named Haemoglobin in the file; fasting"
    assert rows.at[28, "unit"] == dictionary.parameters().set_index("code").at["ANA", "unit"]
    assert (rows.at[46, "day"], rows.at[46, "value"], rows.at[46, "unit"]) == (46, 130.0, "U/L")
    assert (rows.at[50, "value"], rows.at[51, "day"]) == (100.0, 7)
    assert rows.at[15, "timing"] == "at screening" and pd.isna(rows.at[15, "day"])
    assert rows.at[22, "scale_max"] == 150.0


def test_a_source_the_person_may_not_write_is_refused_before_an_unknown_one(tmp_path) -> None:
    path = write(tmp_path, [row(source="other-src"), row(day="2", source="nowhere")])
    _, problems = sql_check(path, facts(frozenset({"src"})))
    reasons = [(p.row, p.reason) for p in problems]
    not_yours = "not a source you may import into (an admin grants the role)"
    assert reasons == [(2, not_yours), (3, not_yours)]


@pytest.mark.parametrize(
    ("cell", "dtype", "expected"),
    [
        ("7", "INTEGER", 7), ("7.0", "INTEGER", 7), ("1e3", "INTEGER", 1000), ("+5", "INTEGER", 5),
        ("2147483647", "INTEGER", 2147483647), ("-2147483647", "INTEGER", -2147483647),
        ("-2147483648", "INTEGER", None), ("2147483648", "INTEGER", None),
        ("7.5", "INTEGER", None), ("1_000", "INTEGER", None), ("0x10", "INTEGER", None),
        ("inf", "INTEGER", None), ("nan", "INTEGER", None), ("+-3", "INTEGER", None),
        ("0.1", "DOUBLE", 0.1), (".5", "DOUBLE", 0.5), ("5.", "DOUBLE", 5.0),
        ("1e400", "DOUBLE", np.inf), ("-inf", "DOUBLE", -np.inf), ("1,5", "DOUBLE", None),
        ("NaN", "DOUBLE", None), ("12O", "DOUBLE", None), ("1 000", "DOUBLE", None),
    ],
)  # fmt: skip
def test_numbers_are_read_by_the_rules_of_carta_format(tmp_path, cell, dtype, expected) -> None:
    column = "day" if dtype == "INTEGER" else "value"
    path = write(tmp_path, [row(**{column: f'"{cell}"'})])
    table = read_table_csv(path, "observations")
    if expected is None:
        reason = "not a whole number" if dtype == "INTEGER" else "not a number"
        assert [(p.row, p.column, p.value, p.reason) for p in table.problems] == [
            (2, column, cell, reason)
        ]
    else:
        assert table.problems == [] and table.rows.at[2, column] == expected


def test_dates_and_booleans_are_read_as_they_always_were(tmp_path) -> None:
    sources = tmp_path / "sources.csv"
    sources.write_text(
        "source_id,kind,citation,data_cut\n"
        "a,site,A,2024-1-5\nb,site,B,24-01-05\nc,site,C,2023-02-29\nd,site,D,2024-02-29\n"
    )
    table = read_table_csv(sources, "sources")
    assert [str(d) for d in table.rows["data_cut"]] == ["2024-01-05", "2024-02-29"]
    assert [(p.row, p.value, p.reason) for p in table.problems] == [
        (3, "24-01-05", "not a date (YYYY-MM-DD)"),
        (4, "2023-02-29", "not a date (YYYY-MM-DD)"),
    ]


def test_the_whitespace_trimmed_is_pythons() -> None:
    # Every character of Unicode (but the surrogates, which UTF-8 cannot hold) around a letter.
    cells = [f"{chr(c)}x{chr(c)}" for c in range(sys.maxunicode + 1) if not 0xD800 <= c < 0xE000]
    trimmed = pc.utf8_trim_whitespace(pa.array(cells)).to_pylist()
    assert trimmed == [cell.strip() for cell in cells]


def test_converted_values_are_rounded_by_the_rule_of_the_pandas_checks() -> None:
    rng = np.random.default_rng(7)
    values = np.concatenate([rng.uniform(0, 1e6, 2000), rng.lognormal(0, 6, 2000), [0.0, 1e-320]])
    factors = rng.choice([0.1, 10, 60, 88.4, 1 / 88.4, 0.0555, 1e-3], values.size)
    with CheckingDatabase() as db:
        got = db.arrow("SELECT signif12(v * f) AS x FROM (SELECT unnest($v) AS v, unnest($f) AS f)",
                       {"v": values.tolist(), "f": factors.tolist()})  # fmt: skip
    assert got.column("x").to_numpy().tolist() == signif(values * factors, 12).tolist()


def test_nothing_of_a_personal_column_enters_the_checking_database(tmp_path) -> None:
    path = tmp_path / FILE
    path.write_text(HEADER + ",patient_name\n" + row() + ",Hans Müller\n", encoding="utf-8")
    with CheckingDatabase() as db:
        stage_table_file(db, path, "observations")
        found = db.frame("SELECT table_name, column_name FROM information_schema.columns")
        cells = db.frame("SELECT * FROM typed")
    assert "patient_name" not in set(found["column_name"])
    assert not cells.astype(str).apply(lambda c: c.str.contains("Müller")).any().any()


def test_problems_keep_their_order_across_batches(tmp_path, monkeypatch) -> None:
    from carta.ingest import checking, reading

    monkeypatch.setattr(reading, "BATCH_BYTES", 256)
    monkeypatch.setattr(checking, "GROUP_ROWS", 3)
    lines = [row(day=str(d)) for d in range(40)]
    lines[5] = row(day="five", value="x")
    lines[30] = row(day="thirty")
    path = write(tmp_path, lines)
    nothing_stored = STORED.iloc[:0]
    sql_rows, sql_problems = sql_check(path, facts(), nothing_stored)
    rule_rows, rule_problems = pandas_check(path, facts(), nothing_stored)
    assert [p.row for p in sql_problems if not p.is_warning] == [7, 7, 32]
    assert sql_problems == rule_problems
    same_rows(sql_rows, rule_rows)
    assert Problem(FILE, 7, "value", "x", "not a number") in sql_problems


@pytest.mark.parametrize("text", ["plain ascii", "with µ", "with \x1c separator"])
def test_both_trims_are_pythons(text) -> None:
    from carta.ingest.checking import _trimmed

    cells = [f"{chr(c)}{text}{chr(c)}" for c in range(0x80)] + [f" \t{text}\r\n", "", "  "]
    assert _trimmed(pa.array(cells)).to_pylist() == [cell.strip() for cell in cells]
