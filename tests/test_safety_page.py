"""The safety view: the cohort's incidence by grade, recovery curves and infection rate, from the
stored tables, narrowed by the cohort explorer's filters (AppTest), and a hand-made cohort whose
counts are worked out by hand (queries and measures)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from carta.measures import safety
from carta.store import open_read_only, run_query
from tests.conftest import DEFAULT_PATIENT_COUNT, DEFAULT_SYNTHETIC, open_page
from tests.test_pages import texts


def incidence_table(at) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "Category" in d.value.columns)


def test_the_page_shows_incidence_recovery_and_infections(default_store, monkeypatch) -> None:
    at = open_page(default_store, monkeypatch, "pages/safety.py")
    table = incidence_table(at).set_index("Category")
    assert (table["At risk"].loc[safety.CATEGORY_LABELS["CRS"]]) == DEFAULT_PATIENT_COUNT
    # The published case's counts give no ICAHT grade: it is not at risk there.
    assert table["At risk"].loc[safety.CATEGORY_LABELS["ICAHT"]] == DEFAULT_SYNTHETIC
    assert "infections per 100 patient-months" in texts(at)
    assert len(at.get("vega_lite_chart")) == 2  # incidence bars and recovery curves


def test_the_cohort_filters_narrow_every_number(default_store, monkeypatch) -> None:
    everyone = open_page(default_store, monkeypatch, "pages/safety.py")
    women = open_page(default_store, monkeypatch, "pages/safety.py", sex="F")
    assert f"of {DEFAULT_PATIENT_COUNT} patients" in texts(everyone)
    n_women = int(texts(women).split(f" of {DEFAULT_PATIENT_COUNT} patients")[0].split("**")[-1])
    assert 0 < n_women < DEFAULT_PATIENT_COUNT
    crs = safety.CATEGORY_LABELS["CRS"]
    assert incidence_table(women).set_index("Category").loc[crs, "At risk"] == n_women
    at_risk = next(d.value for d in women.dataframe if "Patients at risk" in d.value.columns)
    full = next(d.value for d in everyone.dataframe if "Patients at risk" in d.value.columns)
    assert at_risk["Patients at risk"].sum() < full["Patients at risk"].sum()


def test_the_empty_store_says_so(empty_store, monkeypatch) -> None:
    at = open_page(empty_store, monkeypatch, "pages/safety.py")
    assert "no patients" in texts(at)


@pytest.fixture
def cohort(tmp_path: Path) -> Path:
    """Three patients: P1 CRS 2 and a LICATS of the skin; P2 CRS 1 twice and an infection on day
    40; P3 ICANS reported as not observed (grade 0). Follow-up 100, 200 and 60 days."""
    from tests.handmade import hand_store

    path = hand_store(tmp_path / "s.duckdb", [(7, "CD19", 0.5), (60, "CD19", 150.0),
                                              (90, "CD19", 160.0)])  # fmt: skip
    con = duckdb.connect(str(path))
    for pid, follow in (("P1", 100), ("P2", 200), ("P3", 60)):
        con.execute("INSERT INTO patients (patient_id, source_id, cohort, follow_up_days, "
                    "synthetic) VALUES (?, 'hand', 'T', ?, true)", [pid, follow])  # fmt: skip
    con.executemany(
        "INSERT INTO adverse_events (patient_id, term, grade, grading_system, onset_day, organ, "
        "source_id) VALUES (?, ?, ?, 'x', ?, ?, 'hand')",
        [("P1", "Cytokine release syndrome", 2, 1, None),
         ("P1", "Local immune effector cell-associated toxicity syndrome", 1, 10, "skin"),
         ("P2", "Cytokine release syndrome", 1, 1, None),
         ("P2", "Cytokine release syndrome", 1, 3, None),
         ("P2", "Upper respiratory infection", 2, 40, None),
         ("P3", "Neurotoxicity (ICANS)", 0, None, None)],
    )  # fmt: skip
    con.close()
    return path


def test_hand_made_cohort_counts(cohort: Path) -> None:
    con = open_read_only(cohort)
    try:
        patients = ["P1", "P2", "P3"]
        worst = run_query(con, "safety_worst_grades", patients=patients)
        infections = run_query(con, "safety_infections", patients=patients)
        rows = run_query(con, "safety_recovery_times", patients=patients)
    finally:
        con.close()
    table = safety.incidence(worst)
    n = table.set_index(["category", "grade"])["n"]
    # CRS: P1 grade 2, P2 grade 1 (counted once): 2 of 3; ICANS grade 0 is no event.
    assert (n[("CRS", "1")], n[("CRS", "2")], n[("CRS", "any")]) == (1, 1, 2)
    assert n[("ICANS", "any")] == 0 and n[("LICATS", "any")] == 1 and n[("Infection", "2")] == 1
    assert infections["term"].tolist() == ["Upper respiratory infection"]
    # One infection over 100 + 200 + 60 = 360 days = 11.83 patient-months: 8.45 per 100.
    rate = safety.infection_rate(infections, rows)
    assert rate.events == 1 and rate.rate == pytest.approx(100 / (360 / 30.4375))


def test_an_event_with_a_severity_and_no_grade_counts_but_is_never_graded() -> None:
    worst = pd.DataFrame(
        {
            "patient_id": ["P1", "P2", "P3"],
            "category": ["Infection", "Infection", "CRS"],
            "grade": [pd.NA, 2, 1],
            "ungraded": [True, False, False],
        }
    )
    n = safety.incidence(worst).set_index(["category", "grade"])["n"]
    # P1's infection (severity only) and P2's grade 2: 2 of 3 with any infection; none graded 1.
    assert n[("Infection", "any")] == 2 and n[("Infection", "not graded")] == 1
    assert n[("Infection", "2")] == 1 and n[("Infection", "1")] == 0


def test_a_changed_filter_redraws_the_charts(default_store, monkeypatch) -> None:
    """The charts are shared by sessions in the same state: the filters', not the query string's
    (which the server may not have updated yet on a rerun after a widget changed)."""
    at = open_page(default_store, monkeypatch, "pages/safety.py")

    def drawn() -> list[bytes]:  # every data set of each chart (a reference band stays put)
        return [b"".join(d.data.data for d in c.proto.datasets) for c in at.get("vega_lite_chart")]

    before = drawn()
    at.multiselect(key="sex").set_value(["F"]).run()
    after = drawn()
    assert len(after) == 2 and all(b != a for b, a in zip(before, after, strict=True))
