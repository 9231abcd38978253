"""The CTCAE v5.0 grades the publish stores (queries/lab_grade_rows.sql) are those of the rule,
carta.measures.ctcae.grade_frame: on results drawn next to every threshold, beyond assay limits,
without the limits a grade needs, and on a built store's own results."""

from __future__ import annotations

import math

import duckdb
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carta import dictionary
from carta.measures import ctcae
from carta.schema import table_columns
from carta.store import run_query
from tests.test_ctcae import result_rows

GRADED = sorted(ctcae.GRADABLE)


@pytest.fixture(scope="module")
def con():
    """The three tables the query reads; the dictionary's default limits left out, so that a
    result without its own limits is graded without them."""
    connection = duckdb.connect()
    parameters = dictionary.parameters().assign(ref_low=None, ref_high=None)
    table(connection, "parameters", parameters)
    yield connection
    connection.close()


def table(con, name: str, frame: pd.DataFrame) -> None:
    # A table, not a registered frame: the query runs on a cursor, which sees tables only.
    con.register("_frame", frame)
    con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _frame")
    con.unregister("_frame")


def graded_in_sql(con, results: pd.DataFrame) -> pd.DataFrame:
    dtypes = {"VARCHAR": "string", "INTEGER": "Int64", "DOUBLE": "Float64"}
    observations = pd.DataFrame({
        name: pd.Series(results.get(name), index=results.index, dtype=dtypes[kind])
        for name, kind in table_columns()["observations"]
    })  # fmt: skip
    events = pd.DataFrame({"patient_id": pd.Series(dtype=str), "kind": pd.Series(dtype=str),
                           "start_day": pd.Series(dtype="Int64")})  # fmt: skip
    table(con, "observations", observations)
    table(con, "events", events)
    return run_query(con, "lab_grade_rows", cuts=ctcae.cut_rows(), first_patient="",
                     last_patient="\uffff")  # fmt: skip


def grades(column: pd.Series) -> list[int | None]:
    return [None if pd.isna(g) else int(g) for g in column]


def as_results(rows: list[tuple], qualifiers: list[str | None]) -> pd.DataFrame:
    """A patient per drawn row: the drawn baseline on day -1, the drawn value on day 7."""
    records = []
    for number, ((code, value, low, high, baseline), qualifier) in enumerate(
        zip(rows, qualifiers, strict=True)
    ):

        def finite(x):
            return None if x is None or math.isnan(x) else x

        shared = {"patient_id": f"P{number:03d}", "code": code, "specimen": "blood",
                  "ref_low": finite(low), "ref_high": finite(high)}  # fmt: skip
        records.append(shared | {"day": -1, "value": finite(baseline)})
        records.append(shared | {"day": 7, "value": finite(value), "qualifier": qualifier})
    frame = pd.DataFrame.from_records(records)
    # A result needs a value unless it is reported not detected.
    return frame[frame["value"].notna() | frame["qualifier"].eq("not_detected")]


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_the_stored_grade_is_the_rules_grade(con, data) -> None:
    rows = data.draw(st.lists(result_rows(codes=GRADED), min_size=1, max_size=30))
    qualifiers = data.draw(
        st.lists(st.sampled_from([None, None, "<", ">", "not_detected"]),
                 min_size=len(rows), max_size=len(rows))
    )  # fmt: skip
    results = as_results(rows, qualifiers)
    stored = graded_in_sql(con, results)
    assert len(stored) == len(results)  # every result graded, none made up
    assert grades(stored["grade"]) == grades(ctcae.grade_frame(stored))
    assert stored["term"].tolist() == [ctcae.term(code) for code in stored["code"]]


def test_worked_examples(con) -> None:
    # ANC with an LLN of 2.0: 0.4 -> 4; exactly 1.0 -> 2; '<' 1.0 (below 1.0) -> 3; 1.8 -> 1.
    # CK with a ULN of 200: 500, exactly 2.5 x ULN, -> 1 (G2 is above 2.5 x); 501 -> 2.
    # ALT with a ULN of 40 and a baseline of 100 (abnormal): 150 = 1.5 x baseline -> 1.
    # PLT without an LLN: 80 is above every absolute cut and below the unknown LLN -> ungraded.
    # Eight significant digits: 1.4999999 stays below 1.5 (G2); 1.49999999 is 1.5 (G1).
    cases = [
        ("ANC", 0.4, None, 2.0, None, 4),
        ("ANC", 1.0, None, 2.0, None, 2),
        ("ANC", 1.0, "<", 2.0, None, 3),
        ("ANC", 1.8, None, 2.0, None, 1),
        ("CK", 500.0, None, None, 200.0, 1),
        ("CK", 501.0, None, None, 200.0, 2),
        ("ALT", 150.0, None, None, 40.0, 1),
        ("PLT", 80.0, None, None, None, None),
        ("ANC", 1.4999999, None, 2.0, None, 2),
        ("ANC", 1.49999999, None, 2.0, None, 1),
    ]
    results = pd.DataFrame([
        {"patient_id": f"P{i}", "day": 7, "code": code, "value": value, "qualifier": qualifier,
         "ref_low": low, "ref_high": high, "specimen": "blood"}
        for i, (code, value, qualifier, low, high, _) in enumerate(cases)
    ])  # fmt: skip
    alt_baseline = results.iloc[[6]].assign(day=-2, value=100.0)
    stored = graded_in_sql(con, pd.concat([results, alt_baseline], ignore_index=True))
    stored = stored[stored["day"] == 7].sort_values("patient_id")
    assert grades(stored["grade"]) == [c[-1] for c in cases]


def test_no_set_has_more_cuts_than_the_query_reads() -> None:
    # queries/lab_grade_rows.sql lays a set's cuts side by side, four of them.
    assert max(row["rank"] for row in ctcae.cut_rows()) <= 4
    assert {row["code"] for row in ctcae.cut_rows()} == ctcae.GRADABLE


def test_a_built_stores_grades_are_the_rules(fixture_store) -> None:
    con = duckdb.connect(str(fixture_store), read_only=True)
    try:
        stored = con.execute("SELECT * FROM lab_grades").df()
    finally:
        con.close()
    assert len(stored) > 100
    assert grades(stored["grade"]) == grades(ctcae.grade_frame(stored))
