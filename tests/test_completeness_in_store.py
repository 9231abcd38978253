"""The completeness grid computed in the store (queries/follow_up_completeness_grid.sql, table
follow_up_completeness) gives the rows of the rule's reference implementation
(carta/measures/completeness.py, grid): on the hand-worked cases, on every indication of the
default store, and for a source that follows its own schedule."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd

from carta.build import reference_table
from carta.measures import completeness
from carta.schema import SCHEMA_VERSION, columns, create_tables
from carta.store import run_query

# The graded adverse events by safety category, as the rule's input (the store's query computes
# the same inside follow_up_completeness_grid.sql).
GRADED_EVENTS = """
    SELECT DISTINCT a.patient_id,
        (SELECT c.category FROM ae_categories c WHERE regexp_matches(lower(a.term), c.pattern)
         ORDER BY c.priority LIMIT 1) AS code,
        a.onset_day AS day
    FROM adverse_events a
    WHERE a.grade IS NOT NULL
"""


def reference_grid(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The grid as the rule computes it from the store's rows, schedule by schedule."""
    observations = run_query(con, "schedule_observations", codes=completeness.scheduled_codes(),
                             first_patient="", last_patient="\uffff")  # fmt: skip
    graded = con.execute(GRADED_EVENTS).df()
    people = run_query(con, "patient_last_days")
    parts = []
    for name, visits, mine in completeness.schedules(people, run_query(con, "visit_schedule_rows")):
        ids = mine["patient_id"]
        cells = completeness.grid(
            observations[observations["patient_id"].isin(ids)], mine, visits,
            graded_events=graded[graded["patient_id"].isin(ids)],
        )  # fmt: skip
        parts.append(cells.assign(schedule=name))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COLUMNS)


COLUMNS = columns("follow_up_completeness")
KEY = ["patient_id", "visit_sort", "measure_group", "label"]


def in_store(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return run_query(con, "follow_up_completeness_grid", first_patient="", last_patient="\uffff",
                     **completeness.grid_parameters())  # fmt: skip


def assert_same(sql: pd.DataFrame, rule: pd.DataFrame) -> None:
    assert len(sql) > 0
    left = sql[COLUMNS].sort_values(KEY).reset_index(drop=True)
    right = rule[COLUMNS].sort_values(KEY).reset_index(drop=True)
    for frame in (left, right):
        frame["codes_missing"] = (
            frame["codes_missing"].astype(object).where(frame["codes_missing"].notna(), None)
        )
    pd.testing.assert_frame_equal(left, right, check_dtype=False)


def hand_store(path: Path) -> duckdb.DuckDBPyConnection:
    """The hand-worked cases of tests/test_completeness.py, as stored rows."""
    con = duckdb.connect(str(path))
    create_tables(con)
    con.register("categories", reference_table("ae_categories"))
    con.execute("INSERT INTO ae_categories SELECT * FROM categories")
    con.execute("INSERT INTO store_meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
    con.execute(
        "INSERT INTO sources (source_id, kind, citation) VALUES "
        "('hand', 'synthetic', 'Hand-made'), ('paper', 'published', 'A paper')"
    )
    people = [
        ("ANC7", "hand", "JDM", 120),  # ANC on days 7 and 14 only
        ("HELD", "hand", "JDM", 400),  # month 3 held without its IgG, IgA and IgM
        ("OPEN", "hand", "SLE", 160),  # month 6 open on its last day
        ("EDGE", "hand", "JDM", 35),  # day 28's window closes on its last day
        ("AE", "hand", "JDM", 60),  # CRS graded by day 28, ICANS after: missing ICANS
        ("WORDS", "paper", "JDM", None),  # a follow-up given in words: the last value stands in
        ("NONE", "paper", None, None),  # no indication, nothing measured
    ]
    con.executemany(
        "INSERT INTO patients (patient_id, source_id, cohort, indication, follow_up_days, "
        "synthetic) VALUES (?, ?, 'Test', ?, ?, true)",
        people,
    )
    values = [("ANC7", 7, "ANC"), ("ANC7", 14, "ANC"), ("HELD", 90, "ANC"), ("HELD", 91, "IGG"),
              ("OPEN", 180, "ANC"), ("AE", 28, "ANC"), ("WORDS", 7, "ANC"), ("WORDS", 30, "CK"),
              ("WORDS", 200, "ANC"), ("ANC7", 300, "ANC")]  # fmt: skip
    con.executemany(
        "INSERT INTO observations (patient_id, day, code, value, unit, specimen, source_id) "
        "VALUES (?, ?, ?, 1.0, 'x', 'blood', 'hand')",
        values,
    )
    con.executemany(
        "INSERT INTO adverse_events (patient_id, term, grade, severity, grading_system, "
        "onset_day, source_id) VALUES ('AE', ?, ?, ?, 'ASTCT 2019', ?, 'hand')",
        [
            ("Cytokine release syndrome", 1, None, 3),
            ("ICANS", 1, None, 40),
            ("ICANS", None, "mild", 5),
        ],
    )
    return con


def test_the_hand_worked_cases_give_the_rule_and_the_rules_statuses(tmp_path) -> None:
    con = hand_store(tmp_path / "hand.duckdb")
    sql = in_store(con)
    assert_same(sql, reference_grid(con))
    cell = sql.set_index(["patient_id", "visit", "measure_group"])
    assert cell.loc[("ANC7", "Day 28", "BLOOD_COUNT"), "status"] == completeness.OVERDUE
    assert cell.loc[("ANC7", "Day 7", "BLOOD_COUNT"), "status"] == completeness.DONE
    assert cell.loc[("ANC7", "Month 6", "BLOOD_COUNT"), "status"] == completeness.NOT_YET_DUE
    held = cell.loc[("HELD", "Month 3", "IMMUNOGLOBULINS")]
    assert (held["status"], held["codes_missing"]) == (completeness.MISSING, "IGA; IGM")
    assert cell.loc[("OPEN", "Month 6", "BLOOD_COUNT"), "status"] == completeness.DONE
    assert cell.loc[("OPEN", "Month 6", "CD19"), "status"] == completeness.DUE
    edge = sql[(sql["patient_id"] == "EDGE") & (sql["visit"] == "Day 28")]
    assert set(edge["status"]) == {completeness.DUE}
    # ICANS graded on day 40 is after day 28's window (21-35); the ungraded one does not count.
    ae = cell.loc[("AE", "Day 28", "ADVERSE_EVENTS")]
    assert (ae["status"], ae["codes_missing"]) == (completeness.MISSING, "ICANS")
    # Day 200 stands in for the follow-up the paper gives in words: month 9 is not yet due.
    assert cell.loc[("WORDS", "Month 9", "BLOOD_COUNT"), "status"] == completeness.NOT_YET_DUE
    assert cell.loc[("WORDS", "Month 6", "BLOOD_COUNT"), "status"] == completeness.DONE
    # Nothing measured and no follow-up: judged on what was measured only.
    assert set(sql.loc[sql["patient_id"] == "NONE", "status"]) == {completeness.MISSING}


def test_the_stored_grid_is_the_rules_grid_for_every_indication(default_store) -> None:
    con = duckdb.connect(str(default_store), read_only=True)
    try:
        stored = con.execute("SELECT * FROM follow_up_completeness").df()
        rule = reference_grid(con)
        indications = set(run_query(con, "patient_last_days")["indication"].dropna())
    finally:
        con.close()
    assert {"JDM", "SLE", "SSC"} <= indications
    assert_same(stored, rule)
    assert set(stored["status"]) == set(completeness.STATUSES)


def test_a_source_with_its_own_schedule_gets_the_rules_grid(fixture_store, tmp_path) -> None:
    path = tmp_path / "own.duckdb"
    shutil.copy(fixture_store, path)
    con = duckdb.connect(str(path))
    try:
        con.executemany(
            "INSERT INTO visit_schedules (source_id, visit, nominal_day, day_from, day_to, "
            "expected) VALUES ('synthetic', ?, ?, ?, ?, ?)",
            [("Week 1", 7, 5, 9, "BLOOD_COUNT;CD19"), ("Month 1", 30, 20, 40,
              "BLOOD_COUNT;ADVERSE_EVENTS"), ("Month 6", 180, 120, 240, "BLOOD_COUNT")],
        )  # fmt: skip
        sql = in_store(con)
        assert_same(sql, reference_grid(con))
    finally:
        con.close()
    assert set(sql["schedule"]) == {"synthetic", completeness.DEFAULT_SCHEDULE}
    own = sql[sql["schedule"] == "synthetic"]
    assert list(dict.fromkeys(own.sort_values("visit_sort")["visit"])) == [
        "Week 1", "Month 1", "Month 6"]  # fmt: skip


def test_an_empty_store_has_an_empty_grid(empty_store) -> None:
    con = duckdb.connect(str(empty_store), read_only=True)
    try:
        assert in_store(con).empty
    finally:
        con.close()
