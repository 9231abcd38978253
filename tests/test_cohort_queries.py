"""The cohort explorer's queries and crossfilter on a four-patient store written out here, so that
every expected answer can be checked by hand."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from carta import dictionary, exports
from carta.build import reference_table
from carta.measures import cohort
from carta.measures.cohort import Crossfilter, Filters
from carta.schema import SCHEMA_VERSION, columns, create_tables
from carta.store import open_read_only, run_query

# patient, sex, age, diagnosis, autoantibody, product, dose per kg, follow-up
PATIENTS = [
    ("P1", "F", 10.0, "JDM", "anti-NXP2", "CAR-A", 1.0e6, 240),
    ("P2", "M", 14.0, "JDM", "anti-MDA5", "CAR-A", 0.5e6, 180),
    ("P3", "F", 8.0, "JDM", None, "CAR-B", None, 90),
    ("P4", "M", 12.0, "Juvenile polymyositis", "anti-NXP2", "CAR-B", 1.0e6, 60),
]
# patient, day, CK (U/L)
CK = [
    ("P1", -2, 1000.0),
    ("P1", 7, 500.0),  # D7 window 4..10, nominal 7: day 7 is closest
    ("P1", 9, 400.0),
    ("P1", 28, 200.0),  # M1
    ("P2", -10, 2000.0),
    ("P2", 5, 1500.0),  # days 5 and 9 are both 2 from day 7: the earlier wins
    ("P2", 9, 900.0),
    ("P2", 30, 2200.0),  # M1
    ("P3", 0, 0.0),  # a baseline of 0: no percent change
    ("P3", 28, 50.0),
    ("P4", 300, 100.0),  # outside every window below
]
# patient, window, TIS category, complete, CID
RESPONSE = [
    ("P1", "M1", "major", True, True),
    ("P2", "M1", "none", True, False),
    ("P3", "M1", "minimal", True, None),
    ("P4", "M1", None, False, False),
]
WINDOWS = [
    {"name": "Baseline", "nominal_day": 0, "day_from": -30, "day_to": 0},
    {"name": "D7", "nominal_day": 7, "day_from": 4, "day_to": 10},
    {"name": "M1", "nominal_day": 28, "day_from": 21, "day_to": 42},
]


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cohort") / "cohort.duckdb"
    con = duckdb.connect(str(path))
    create_tables(con)
    con.register("frame", dictionary.parameters())
    con.execute(f"INSERT INTO parameters SELECT {', '.join(columns('parameters'))} FROM frame")
    con.register("categories", reference_table("ae_categories"))
    con.execute("INSERT INTO ae_categories SELECT * FROM categories")
    con.execute("INSERT INTO store_meta VALUES ('schema_version', ?), ('store_version', '1')",
                [str(SCHEMA_VERSION)])  # fmt: skip
    con.execute("INSERT INTO sources (source_id, kind, citation) VALUES ('hand', 'synthetic', "
                "'Hand-made')")  # fmt: skip
    for pid, sex, age, dx, ab, product, dose, follow in PATIENTS:
        con.execute(
            "INSERT INTO patients (patient_id, source_id, cohort, sex, age_years, diagnosis, "
            "autoantibody, product, cell_dose_per_kg, follow_up_days, synthetic) "
            "VALUES (?, 'hand', 'Test', ?, ?, ?, ?, ?, ?, ?, true)",
            [pid, sex, age, dx, ab, product, dose, follow],
        )
    con.executemany(
        "INSERT INTO observations (patient_id, day, code, value, unit, specimen, source_id) "
        "VALUES (?, ?, 'CK', ?, 'U/L', 'blood', 'hand')",
        CK,
    )
    con.execute(  # CK in bone marrow is not a blood value: never chosen
        "INSERT INTO observations (patient_id, day, code, value, unit, specimen, source_id) "
        "VALUES ('P1', 7, 'CK', 9999, 'U/L', 'bone_marrow', 'hand')"
    )
    for pid, window, category, complete, cid in RESPONSE:
        con.execute(
            "INSERT INTO response_by_timepoint (patient_id, timepoint, timepoint_sort, category, "
            "complete, cid) VALUES (?, ?, 3, ?, ?, ?)",
            [pid, window, category, complete, cid],
        )
    con.executemany(
        "INSERT INTO adverse_events (patient_id, term, grade, grading_system, onset_day, "
        "source_id) VALUES (?, ?, ?, 'ASTCT 2019', ?, 'hand')",
        [("P1", "Cytokine release syndrome", 1, 1), ("P1", "Cytokine release syndrome", 2, 3),
         ("P2", "Cytokine release syndrome", 3, 2), ("P3", "Cytokine release syndrome", 0, None),
         ("P4", "Neurotoxicity (ICANS)", 1, None)],
    )  # fmt: skip
    con.close()
    return path


def query(store: Path, name: str, **params) -> pd.DataFrame:
    con = open_read_only(store)
    try:
        return run_query(con, name, **params)
    finally:
        con.close()


def everyone(store: Path, filters: Filters | None = None) -> list[str]:
    params = (filters or Filters()).params()
    return query(store, "cohort_patients", **params)["patient_id"].tolist()


def test_filters_select_patients_and_a_missing_value_is_not_reported(store) -> None:
    assert everyone(store) == ["P1", "P2", "P3", "P4"]
    assert everyone(store, Filters(sexes=("F",))) == ["P1", "P3"]
    assert everyone(store, Filters(autoantibodies=("not reported",))) == ["P3"]
    assert everyone(store, Filters(autoantibodies=("anti-NXP2",), sexes=("M",))) == ["P4"]
    assert everyone(store, Filters(age=(9.0, 12.0))) == ["P1", "P4"]
    # A dose range leaves out the patient whose dose is not reported.
    assert everyone(store, Filters(dose=(0.4e6, 2e6))) == ["P1", "P2", "P4"]
    assert everyone(store, Filters(diagnoses=("Juvenile polymyositis",), sexes=("F",))) == []


def test_filter_options_count_patients_per_value(store) -> None:
    options = query(store, "cohort_filter_options")
    antibodies = options[options["field"] == "autoantibody"]
    assert dict(zip(antibodies["value"], antibodies["patients"], strict=True)) == {
        "anti-NXP2": 2, "anti-MDA5": 1, "not reported": 1,
    }  # fmt: skip
    assert options.loc[options["field"] == "source", "label"].tolist() == ["hand (synthetic)"]


def test_value_at_each_window_follows_the_timepoint_rule(store) -> None:
    values = query(store, "cohort_values_at_timepoints", windows=WINDOWS, codes=["CK"],
                   patients=["P1", "P2", "P3", "P4"])  # fmt: skip
    got = {(r.patient_id, r.timepoint): (r.day, r.value) for r in values.itertuples()}
    assert got == {
        ("P1", "Baseline"): (-2, 1000.0),
        ("P1", "D7"): (7, 500.0),  # closest to day 7, and the marrow value is not blood
        ("P1", "M1"): (28, 200.0),
        ("P2", "Baseline"): (-10, 2000.0),
        ("P2", "D7"): (5, 1500.0),  # a tie: the earlier day
        ("P2", "M1"): (30, 2200.0),
        ("P3", "Baseline"): (0, 0.0),
        ("P3", "M1"): (28, 50.0),
    }  # P4's only value lies outside every window
    p1 = values[values["patient_id"] == "P1"].set_index("timepoint")
    assert p1.loc["M1", "base"] == 1000 and p1.loc["M1", "chg"] == -800
    assert p1.loc["M1", "pchg"] == pytest.approx(-80.0)
    assert p1["timepoint_sort"].tolist() == [1, 2, 3]
    p3 = values[values["patient_id"] == "P3"].set_index("timepoint")
    assert p3.loc["M1", "chg"] == 50 and pd.isna(p3.loc["M1", "pchg"])  # BASE = 0


def test_edited_windows_change_the_values_chosen(store) -> None:
    wider = [{"name": "Baseline", "nominal_day": 0, "day_from": -30, "day_to": 0},
             {"name": "Week 1", "nominal_day": 9, "day_from": 8, "day_to": 12}]  # fmt: skip
    values = query(store, "cohort_values_at_timepoints", windows=wider, codes=["CK"],
                   patients=["P1", "P2"])  # fmt: skip
    week = values[values["timepoint"] == "Week 1"].set_index("patient_id")
    assert week["value"].to_dict() == {"P1": 400.0, "P2": 900.0}
    assert week["pchg"].round(1).to_dict() == {"P1": -60.0, "P2": -55.0}


def test_each_view_counts_the_cohort_without_its_own_selection(store) -> None:
    patients = everyone(store)
    found = query(store, "cohort_values_at_timepoints", windows=WINDOWS, codes=["CK"],
                  patients=patients)  # fmt: skip
    values = cohort.with_plotted(cohort.at_windows(found, ["Baseline", "D7", "M1"]), "Values")
    response = query(store, "cohort_response", patients=patients)
    crossfilter = Crossfilter(patients)
    # A brush over the M1 points (position 3) from 100 to 300 U/L: P1 (200) only.
    crossfilter.kept["brush"] = cohort.brushed_patients(values, (2.9, 3.1, 100, 300))
    # A click on "none" at M1 in the response chart: P2 only.
    crossfilter.kept["category"] = cohort.category_patients(response, ("M1", "none"))
    assert crossfilter.kept == {"brush": {"P1"}, "category": {"P2"}}
    assert crossfilter.patients_for("distribution") == ["P2"]  # its brush left out
    assert crossfilter.patients_for("response") == ["P1"]  # its click left out
    assert crossfilter.patients_for("swimmer") == []
    assert crossfilter.patients_for(None) == []
    # The response view still shows P1's category, so the rest of the cohort stays visible there.
    counts = cohort.response_counts(response, crossfilter.patients_for("response"), ["M1"])
    assert counts.set_index("category")["patients"].to_dict() == {
        "none": 0, "minimal": 0, "moderate": 0, "major": 1,
    }  # fmt: skip
    # Clearing the click (its chip) leaves the brush: every view then counts P1.
    crossfilter.kept.pop("category")
    assert crossfilter.patients_for(None) == crossfilter.patients_for("swimmer") == ["P1"]
    assert crossfilter.patients_for("distribution") == ["P1", "P2", "P3", "P4"]


def test_response_table_counts_evaluable_patients_and_cid(store) -> None:
    response = query(store, "cohort_response", patients=["P1", "P2", "P3", "P4"])
    table = cohort.response_table(response, ["P1", "P2", "P3", "P4"], ["M1"]).iloc[0]
    assert table["n evaluable (TIS)"] == 3  # P4 is not complete
    assert (table["none"], table["minimal"], table["moderate"], table["major"]) == (1, 1, 0, 1)
    assert table["major %"] == pytest.approx(33.3)
    assert (table["n assessed (CID)"], table["CID"], table["CID %"]) == (3, 1, 33.3)


def test_adverse_events_count_patients_by_worst_grade(store) -> None:
    table = query(store, "cohort_adverse_events", patients=["P1", "P2", "P3", "P4"])
    crs = table.set_index("term").loc["Cytokine release syndrome"]
    # P1's worst is grade 2, P2's grade 3; P3's grade 0 ("not observed") is no event.
    assert crs["patients_any_grade"] == 2
    assert (crs["grade_1"], crs["grade_2"], crs["grade_3"], crs["grade_3_or_more"]) == (0, 1, 1, 1)
    only_p1 = query(store, "cohort_adverse_events", patients=["P1"])
    assert only_p1["patients_any_grade"].tolist() == [1]


def test_lane_marks_keep_a_day_not_reported_unplaced(store) -> None:
    marks = query(store, "cohort_lane_marks", patients=["P1", "P4"])
    icans = marks[marks["mark"] == "ICANS"]
    assert icans["patient_id"].tolist() == ["P4"] and icans["day"].isna().all()
    assert cohort.unplaced_marks(marks, ["P4"])["mark"].tolist() == ["ICANS"]
    last = marks[marks["mark"] == "last contact"].set_index("patient_id")["day"].to_dict()
    assert last == {"P1": 240, "P4": 60}


@pytest.mark.parametrize("file_format", ["csv", "parquet"])
def test_the_long_data_download_holds_every_observation_of_the_patients(store, file_format):
    con = open_read_only(store)
    try:
        expected = run_query(con, "cohort_observations", patients=["P1", "P2"])
        with exports.stream_query(con, "cohort_observations", {"patients": ["P1", "P2"]},
                                  file_format) as written:  # fmt: skip
            data = written.read()
        with exports.stream_query(con, "cohort_observations", {"patients": []}, file_format) as f:
            assert exports.written_rows(f, file_format) == 0
    finally:
        con.close()
    read = pd.read_csv if file_format == "csv" else pd.read_parquet
    got = read(io.BytesIO(data))
    assert len(got) == len(expected) == 9  # P1: 4 blood CK values and 1 marrow; P2: 4
    assert list(got.columns) == list(expected.columns)
    key = ["patient_id", "study_day", "specimen"]
    assert got.sort_values(key)["value"].tolist() == expected.sort_values(key)["value"].tolist()
    assert set(got["source_kind"]) == {"synthetic"}


def test_grading_systems_are_listed_once_each_in_order(store, tmp_path) -> None:
    # Systems were joined in the order rows arrived, so the same store gave "not reported, CTCAE"
    # on one backend and "CTCAE, not reported" on another.
    copy = tmp_path / "systems.duckdb"
    shutil.copy(store, copy)
    con = duckdb.connect(str(copy))
    con.executemany(
        "INSERT INTO adverse_events (patient_id, term, grade, grading_system, onset_day, "
        "source_id) VALUES (?, 'Neutropenia', ?, ?, 10, 'hand')",
        [("P1", 2, "not reported"), ("P1", 3, "CTCAE v5.0"), ("P2", 1, "CTCAE v5.0"),
         ("P3", 2, "not reported")],
    )  # fmt: skip
    con.close()
    for patients in (["P1", "P2", "P3"], ["P3", "P2", "P1"], ["P2"]):
        table = query(copy, "cohort_adverse_events", patients=patients).set_index("term")
        expected = "CTCAE v5.0" if patients == ["P2"] else "CTCAE v5.0, not reported"
        assert table.loc["Neutropenia", "grading_systems"] == expected


def test_response_counts_on_the_store_equal_those_over_its_rows(store) -> None:
    """The page counts over the store with its windows and over the rows computed again with
    edited ones: one query, both ways, the same counts. A window no one reached keeps its rows."""
    patients, shown = ["P1", "P2", "P3", "P4"], ["M1", "M9"]
    stored = query(store, "cohort_response_counts", patients=patients, timepoints=shown,
                   categories=cohort.CATEGORIES)  # fmt: skip
    response = query(store, "cohort_response", patients=patients)
    over_rows = cohort.counted_responses(response, patients, shown)
    pd.testing.assert_frame_equal(stored, over_rows, check_dtype=False)
    table = cohort.response_table_of(stored).set_index("timepoint")
    assert table.loc["M9", "n evaluable (TIS)"] == 0 and table.loc["M9", "major"] == 0
    assert pd.isna(table.loc["M9", "major %"])
    chart = cohort.response_chart_counts(stored)
    at_m1 = chart[chart["timepoint"] == "M1"].set_index("category")
    assert at_m1["patients"].to_dict() == {"none": 1, "minimal": 1, "moderate": 0, "major": 1}
    assert at_m1["share"].to_dict() == {"none": 33.3, "minimal": 33.3, "moderate": 0.0,
                                        "major": 33.3}  # fmt: skip
    assert set(at_m1["timepoint_sort"]) == {0}


def test_values_at_the_stores_windows_are_those_computed_from_the_observations(
    default_store,
) -> None:
    """The page reads the values at the store's own windows from timepoint_values, and computes
    them from the observations only for edited windows: both ways give the same rows, with the
    result's own reference limits, the baseline and the change, for every parameter."""
    patients = everyone(default_store)
    codes = query(default_store, "parameter_codes")["code"].tolist()
    windows = cohort.windows_param(query(default_store, "timepoint_windows"))
    computed = query(default_store, "cohort_values_at_timepoints", windows=windows, codes=codes,
                     patients=patients)  # fmt: skip
    stored = query(default_store, "cohort_values_at_store_windows", codes=codes,
                   patients=patients)  # fmt: skip
    assert len(computed) > 1000 and computed["pchg"].notna().any()
    assert computed["ref_low"].notna().any()
    pd.testing.assert_frame_equal(stored, computed, check_dtype=False)
    few = query(default_store, "cohort_values_at_store_windows", codes=["CK"],
                patients=patients[:3])  # fmt: skip
    assert set(few["code"]) == {"CK"} and set(few["patient_id"]) <= set(patients[:3])
