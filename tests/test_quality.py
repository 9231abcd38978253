"""The data-quality checks worked by hand (carta/measures/quality.py), the stored table
quality_findings and `python -m carta quality`: every check, and the issue's patient whose ANC
was measured on days 7 and 14 only with 120 days of follow-up."""

from __future__ import annotations

import io

import pandas as pd

from carta import dictionary
from carta.cli import main
from carta.measures import completeness, quality
from tests.handmade import PATIENT, hand_store


def run_checks(observations: list[tuple], patients: list[tuple], infusions: list[tuple]):
    obs = pd.DataFrame(observations, columns=["patient_id", "day", "code", "value"])
    people = pd.DataFrame(patients, columns=["patient_id", "indication", "last_day"])
    cells = completeness.grid(obs, people)
    groups = dictionary.schedule_measures()
    scheduled = {c for cs in groups["codes"] for c in cs.split(";")}
    return quality.findings(
        gaps=cells[cells["status"].isin([completeness.MISSING, completeness.OVERDUE])],
        implausible_values=quality.implausible(obs, dictionary.plausible_ranges()),
        scheduled=obs[obs["code"].isin(scheduled)], patients=people,
        infusions=pd.DataFrame(infusions, columns=["patient_id", "start_day"]),
        visits=dictionary.visit_schedule(),
    )  # fmt: skip


def test_every_check_finds_its_case_and_names_the_rows() -> None:
    found = run_checks(
        [("A", 90, "ANC", 2.0), ("A", 95, "ANC", 2.1),  # two days in the month-3 window
         ("A", 120, "CD19", 50.0),  # day 120: between month 3 (76-104) and month 6 (150-210)
         ("A", 7, "CK", 900_000.0),  # beyond CK's plausible 500,000 U/L
         ("B", 7, "ANC", 1.0)],
        [("A", "JDM", 200), ("B", "JDM", 30)],
        [("A", 0), ("B", 40)],  # B's infusion after B's last day; C has none
    )  # fmt: skip
    by = {name: rows for name, rows in found.groupby("check_name")}
    [twice] = by["duplicated visit"].itertuples()
    assert (twice.patient_id, twice.visit, twice.code, twice.day) == ("A", "Month 3", "ANC", 90)
    [stray] = by["outside every visit window"].itertuples()
    assert (stray.patient_id, stray.code, stray.day) == ("A", "CD19", 120)
    [wild] = by["implausible value"].itertuples()
    assert (wild.patient_id, wild.code, wild.day) == ("A", "CK", 7)
    [late] = by["infusion after the last follow-up"].itertuples()
    assert (late.patient_id, late.day) == ("B", 40)
    assert "no infusion recorded" not in by  # A and B have one
    assert {"missing measure", "overdue visit"} <= set(by)
    assert set(found["category"]) == set(quality.CATEGORIES) - {"conformance"}
    none = run_checks([("C", 7, "ANC", 1.0)], [("C", "JDM", 30)], [])
    assert "no infusion recorded" in set(none["check_name"])


def test_the_cli_lists_the_missing_day_28_and_month_3_counts(tmp_path, capsys) -> None:
    store = hand_store(tmp_path / "anc.duckdb", [(7, "ANC", 0.4), (14, "ANC", 1.1)],
                       follow_up_days=120)  # fmt: skip
    assert main(["quality", "--store", str(store), "--format", "csv"]) == 0
    rows = pd.read_csv(io.StringIO(capsys.readouterr().out))
    counts = rows[(rows["code"] == "ANC") & (rows["patient_id"] == PATIENT)]
    assert {"Day 28", "Month 3"} <= set(counts["visit"])
    assert set(counts.loc[counts["visit"].isin(["Day 28", "Month 3"]), "check_name"]) == {
        "overdue visit"}  # fmt: skip
    assert not {"Day 7", "Day 14", "Month 6"} & set(counts["visit"])
    assert list(rows.columns) == ["category", "check_name", "source_id", "patient_id", "visit",
                                  "code", "day", "detail"]  # fmt: skip
    # The text summary counts them by check.
    assert main(["quality", "--store", str(store)]) == 0
    text = capsys.readouterr().out
    assert "overdue visit" in text and "findings" in text


def test_the_stored_check_finds_what_the_rule_finds(tmp_path) -> None:
    """An implausible CK stored before its range was tightened: the SQL of the publish and the
    pure rule give the same row."""
    import duckdb

    store = hand_store(tmp_path / "ck.duckdb", [(7, "CK", 900.0), (14, "CK", 120.0)])
    ranges = pd.DataFrame({"code": ["CK"], "plausible_low": [0.0], "plausible_high": [500.0]})
    con = duckdb.connect(str(store))
    from carta.store import run_query

    stored = run_query(con, "implausible_values", codes=["CK"], lows=[0.0], highs=[500.0])
    values = con.execute("SELECT patient_id, day, code, value FROM observations").df()
    con.close()
    rule = quality.implausible(values, ranges)
    columns = ["patient_id", "day", "code", "value"]
    assert stored[columns].values.tolist() == rule[columns].values.tolist()
    assert rule[columns].values.tolist() == [[PATIENT, 7, "CK", 900.0]]


def test_an_adverse_event_before_the_first_visit_window_is_found() -> None:
    obs = pd.DataFrame([("A", 7, "ANC", 1.0)], columns=["patient_id", "day", "code", "value"])
    people = pd.DataFrame([("A", "JDM", 30)], columns=["patient_id", "indication", "last_day"])
    events = pd.DataFrame([("A", "Rash", -120), ("A", "Fever", -90), ("A", "CRS", 2)],
                          columns=["patient_id", "term", "onset_day"])  # fmt: skip
    found = quality.findings(
        gaps=completeness.grid(obs, people).iloc[:0],
        implausible_values=quality.implausible(obs, dictionary.plausible_ranges()),
        scheduled=obs, patients=people, infusions=pd.DataFrame({"patient_id": ["A"],
        "start_day": [0]}), visits=dictionary.visit_schedule(), adverse_events=events,
    )  # fmt: skip
    [early] = found[found["check_name"] == "adverse event before enrolment"].itertuples()
    # Screening opens on day -90: day -90 is inside, day -120 before it.
    assert (early.patient_id, early.day, early.category) == ("A", -120, "plausibility")
    assert early.detail == "Rash on day -120, before the first visit window opens (day -90)"


def test_a_sources_schedule_is_imported_checked_and_followed_and_the_trend_kept(tmp_path, capsys):
    """A site's own schedule through the real import: the rows that cannot be a schedule are
    refused with their reasons, the site's patients are judged by it, and each publish adds its
    findings per source to the history."""
    import duckdb

    from carta.build import build_store
    from carta.ingest.importer import import_files

    store = build_store(tmp_path / "store" / "carta.duckdb", n_patients=2).path
    schedule = tmp_path / "protocol.csv"  # known by its columns, whatever its name
    schedule.write_text(
        "source_id,visit,nominal_day,day_from,day_to,expected\n"
        "synthetic,Week 1,7,5,9,BLOOD_COUNT; CD19\n"
        "synthetic,Month 1,30,20,40,BLOOD_COUNT;ADVERSE_EVENTS\n"
        "synthetic,Month 6,180,120,240,BLOOD_COUNT\n"
        "synthetic,Late,200,190,260,BLOOD_COUNT\n"  # overlaps month 6
        "synthetic,Odd,300,310,320,BLOOD_COUNT\n"  # nominal day outside
        "synthetic,Other,400,380,420,FOO\n"  # no such group
        "synthetic,Week 1,500,450,550,BLOOD_COUNT\n"  # named twice
        "nowhere,Week 1,7,5,9,BLOOD_COUNT\n",  # unknown source
        encoding="utf-8",
    )
    [report] = import_files([schedule], store).files
    assert (report.table, report.accepted, report.rejected) == ("visit_schedules", 3, 5)
    reasons = {p.row: p.reason for p in report.problems}
    assert reasons[5] == "its window overlaps visit 'Month 6' (days 120 to 240)"
    assert reasons[6] == "the nominal day is outside its window (day_from to day_to)"
    assert reasons[7].startswith("not a measure group of data/reference/schedule_measures.csv")
    assert reasons[8] == "visit 'Week 1' is already in this source's schedule"
    assert reasons[9].startswith("unknown source")
    con = duckdb.connect(str(store), read_only=True)
    try:
        visits = con.execute("SELECT DISTINCT schedule, visit FROM follow_up_completeness "
                             "ORDER BY ALL").fetchall()  # fmt: skip
        stored = con.execute("SELECT expected FROM visit_schedules ORDER BY day_from").fetchall()
        history = con.execute("SELECT store_version, source_id, check_name, findings "
                              "FROM quality_history ORDER BY ALL").df()  # fmt: skip
        now = con.execute("SELECT p.source_id, q.check_name, count(*) AS n FROM quality_findings q "
                          "JOIN patients p USING (patient_id) GROUP BY ALL").df()  # fmt: skip
    finally:
        con.close()
    assert stored[0] == ("BLOOD_COUNT;CD19",)  # spaces after ';' dropped
    assert {v for s, v in visits if s == "synthetic"} == {"Week 1", "Month 1", "Month 6"}
    assert {v for s, v in visits if s == "default"} >= {"Day 7", "Month 3"}  # the published case
    versions = sorted(set(history["store_version"]))
    assert len(versions) == 2  # the build's and the import's
    latest = history[history["store_version"] == versions[-1]]
    counted = latest.set_index(["source_id", "check_name"])["findings"].sort_index()
    assert main(["quality", "--store", str(store), "--history", "--format", "csv"]) == 0
    printed = pd.read_csv(io.StringIO(capsys.readouterr().out))
    columns = ["store_version", "source_id", "check_name", "findings"]
    assert sorted(printed[columns].values.tolist()) == sorted(history.values.tolist())
    assert (
        counted.to_dict() == now.set_index(["source_id", "check_name"])["n"].sort_index().to_dict()
    )
