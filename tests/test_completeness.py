"""Follow-up completeness worked by hand (carta/measures/completeness.py): the schedule as data,
every status of the grid, and the issue's patient whose ANC was measured on days 7 and 14 only."""

from __future__ import annotations

import pandas as pd

from carta import dictionary
from carta.measures import completeness as rules


def observations(*rows: tuple) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["patient_id", "day", "code"])


def patients(*rows: tuple) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["patient_id", "indication", "last_day"])


def status(cells: pd.DataFrame, patient: str, visit: str, group: str) -> tuple:
    row = cells[(cells["patient_id"] == patient) & (cells["visit"] == visit)
                & (cells["measure_group"] == group)].iloc[0]  # fmt: skip
    return row["status"], None if pd.isna(row["codes_missing"]) else row["codes_missing"]


def test_the_default_schedule_runs_to_15_years_in_windows_that_do_not_overlap() -> None:
    visits = dictionary.visit_schedule()
    assert visits["visit"].iloc[[0, 3, 6, 7, -1]].tolist() == [
        "Screening", "Day 7", "Month 2", "Month 3", "Year 15"]  # fmt: skip
    assert visits["nominal_day"].iloc[-1] == 5479  # 15 years
    assert (visits["day_from"] <= visits["nominal_day"]).all()
    assert (visits["nominal_day"] <= visits["day_to"]).all()
    assert (visits["day_from"].iloc[1:].to_numpy() > visits["day_to"].iloc[:-1].to_numpy()).all()
    groups = dictionary.schedule_measures()
    expected = {g for e in visits["expected"] for g in e.split(";")}
    assert expected <= set(groups["group"])
    measured = groups[groups["recorded_in"] == rules.OBSERVATIONS]
    codes = {c for cs in measured["codes"] for c in cs.split(";")}
    assert codes <= set(dictionary.parameters()["code"])
    graded = groups[groups["recorded_in"] == rules.ADVERSE_EVENTS]
    assert graded["codes"].tolist() == ["CRS;ICANS"]  # ae_categories' categories
    at = visits.set_index("visit")["expected"].str.contains("ADVERSE_EVENTS")
    assert at[at].index.tolist() == ["Day 28"]  # judged once, at the acute period's end
    assert set(visits["expected"].str.contains("BLOOD_COUNT")) == {True}  # at every visit


def test_anc_on_days_7_and_14_only_with_120_days_of_follow_up() -> None:
    cells = rules.grid(observations(("P", 7, "ANC"), ("P", 14, "ANC")),
                       patients(("P", "JDM", 120)))  # fmt: skip
    counts = cells[cells["measure_group"] == "BLOOD_COUNT"].set_index("visit")["status"]
    assert counts["Day 7"] == counts["Day 14"] == rules.DONE
    # Day 28 (days 21-35) and month 3 (76-104) have closed by day 120 without a count.
    assert counts["Day 28"] == rules.OVERDUE and counts["Month 3"] == rules.OVERDUE
    assert counts["Month 2"] == rules.OVERDUE and counts["Screening"] == rules.OVERDUE
    assert counts["Month 6"] == rules.NOT_YET_DUE  # 150-210
    work = rules.worklist(cells)
    listed = work[work["measure_group"] == "BLOOD_COUNT"]["visit"].tolist()
    assert "Day 28" in listed and "Month 3" in listed
    assert "Day 7" not in listed and "Month 6" not in listed
    # On day 160, month 6 is open: due.
    later = rules.grid(observations(("P", 7, "ANC"), ("P", 14, "ANC")),
                       patients(("P", "JDM", 160)))  # fmt: skip
    assert status(later, "P", "Month 6", "BLOOD_COUNT") == (rules.DUE, "ANC")


def test_each_status_of_the_grid() -> None:
    obs = observations(
        ("A", 28, "ANC"),
        ("A", 30, "IGG"),
        ("A", 30, "IGA"),  # day 28: IgM not measured
        ("A", 7, "CART"),  # day 7 held: the count and CD19 were not taken
    )
    cells = rules.grid(obs, patients(("A", "SLE", 200), ("B", "SLE", None)))
    assert status(cells, "A", "Day 28", "BLOOD_COUNT") == (rules.DONE, None)
    assert status(cells, "A", "Day 28", "IMMUNOGLOBULINS") == (rules.MISSING, "IGM")
    assert status(cells, "A", "Day 7", "BLOOD_COUNT") == (rules.MISSING, "ANC")
    assert status(cells, "A", "Day 14", "CD19") == (rules.OVERDUE, "CD19")
    assert status(cells, "A", "Month 6", "CD19") == (rules.DUE, "CD19")  # 150-210, day 200
    assert status(cells, "A", "Month 9", "CD19") == (rules.NOT_YET_DUE, "CD19")
    # No last day known: judged on what was measured only.
    assert status(cells, "B", "Month 9", "CD19") == (rules.MISSING, "CD19")
    # The indication's own groups: lupus has no CK and scores SLEDAI-2K and PGA.
    lupus = cells[cells["patient_id"] == "A"]
    assert "ENZYMES" not in set(lupus["measure_group"])
    assert set(lupus.loc[lupus["measure_group"] == "SCORES", "label"]) == {
        "SLEDAI-2K and physician global"}  # fmt: skip
    assert set(cells["status"]) == set(rules.STATUSES)


def test_a_day_outside_every_window_counts_for_no_visit() -> None:
    # Day 3 lies between day 0 (0-0) and day 7 (4-10).
    cells = rules.grid(observations(("P", 3, "ANC")), patients(("P", "JDM", 30)))
    assert status(cells, "P", "Day 7", "BLOOD_COUNT") == (rules.OVERDUE, "ANC")
    assert status(cells, "P", "Day 0", "BLOOD_COUNT") == (rules.OVERDUE, "ANC")


def graded(*rows: tuple) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["patient_id", "code", "day"])


def test_crs_and_icans_are_done_once_graded_by_the_end_of_day_28() -> None:
    people = patients(("A", "JDM", 60), ("B", "JDM", 60), ("C", "JDM", 60), ("D", "JDM", 30))
    events = graded(
        ("A", "CRS", 2), ("A", "ICANS", None),  # grade 1 CRS on day 2, ICANS graded 0 (undated)
        ("B", "CRS", 3),  # ICANS never graded; its visit (days 21-35) was held
        ("C", "CRS", 40), ("C", "ICANS", None),  # CRS graded on day 40: after the window
        ("D", "CRS", 1),
    )  # fmt: skip
    obs = observations(("B", 28, "ANC"), ("D", 28, "ANC"))
    cells = rules.grid(obs, people, graded_events=events)
    assert status(cells, "A", "Day 28", "ADVERSE_EVENTS") == (rules.DONE, None)
    assert status(cells, "B", "Day 28", "ADVERSE_EVENTS") == (rules.MISSING, "ICANS")
    assert status(cells, "C", "Day 28", "ADVERSE_EVENTS") == (rules.OVERDUE, "CRS")
    assert status(cells, "D", "Day 28", "ADVERSE_EVENTS") == (rules.DUE, "ICANS")  # day 30
    assert "ADVERSE_EVENTS" not in set(cells.loc[cells["visit"] != "Day 28", "measure_group"])
    # An adverse event is no measurement: it does not make the visit held.
    assert status(cells, "A", "Day 28", "BLOOD_COUNT") == (rules.OVERDUE, "ANC")


def test_a_sources_own_schedule_replaces_the_default_for_its_patients() -> None:
    own = pd.DataFrame({
        "source_id": ["site-a", "site-a"], "visit": ["Month 1", "Week 1"],
        "nominal_day": [30, 7], "day_from": [20, 5], "day_to": [40, 9],
        "expected": ["BLOOD_COUNT;CD19", "BLOOD_COUNT"], "note": [None, None],
    })  # fmt: skip
    people = pd.DataFrame({"patient_id": ["A", "B"], "indication": ["JDM", "JDM"],
                           "last_day": [60, 60], "source_id": ["site-a", "site-b"]})  # fmt: skip
    plans = rules.schedules(people, own)
    assert [(name, len(v), p["patient_id"].tolist()) for name, v, p in plans] == [
        ("default", len(dictionary.visit_schedule()), ["B"]), ("site-a", 2, ["A"])]  # fmt: skip
    _, visits, mine = plans[1]
    assert visits["visit"].tolist() == ["Week 1", "Month 1"]  # in day order
    cells = rules.grid(observations(("A", 30, "ANC")), mine, visits)
    assert set(cells["visit"]) == {"Week 1", "Month 1"}
    assert status(cells, "A", "Month 1", "BLOOD_COUNT") == (rules.DONE, None)
    assert status(cells, "A", "Month 1", "CD19") == (rules.MISSING, "CD19")
    assert status(cells, "A", "Week 1", "BLOOD_COUNT") == (rules.OVERDUE, "ANC")
