"""Every SQL file in queries/ runs against a fixture store (the Evidence/Rill habit)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest

from carta import dictionary
from carta.ingest.carta_format import stage_table_file
from carta.ingest.checking import CheckingDatabase
from carta.ingest.observation_checks import register_facts
from carta.ingest.validate import StoreFacts
from carta.measures import completeness, ctcae
from carta.schema import columns
from carta.store import QUERIES_DIR, ROOT, open_read_only, query_names, query_parameters, query_sql
from tests.conftest import PUBLISHED_ID

GRID = completeness.grid_parameters()
# A value for every $parameter any query takes; a new parameter name must be added here.
FIXTURE_PARAMETERS = {
    "patient_id": [PUBLISHED_ID, "SYN-00001"],
    "search": ["", "nxp2"],
    "max_rows": [500, 1],
    "baseline_from": [-60, -30],
    "baseline_to": [0, -7],
    "day": [7, 90],
    "window": [3, 0],
    "codes": [["CK", "ANC"], ["CART"]],
    "lows": [[0.0, 0.0], [0.0]],  # the plausible ranges of `codes`
    "highs": [[500_000.0, 100.0], [10_000.0]],
    "patients": [[PUBLISHED_ID, "SYN-00001"], []],
    "diagnoses": [[], ["Juvenile dermatomyositis"]],
    "indications": [[], ["JDM"]],
    "autoantibodies": [[], ["not reported"]],
    "sexes": [[], ["M"]],
    "products": [[], ["not reported"]],
    "sources": [[], ["nicolai2024"]],
    "age_min": [None, 5],
    "age_max": [None, 12.5],
    "dose_min": [None, 0.5],
    "dose_max": [None, 2.0],
    "windows": [
        [
            {"name": "Baseline", "nominal_day": 0, "day_from": -60, "day_to": 0},
            {"name": "D7", "nominal_day": 7, "day_from": 4, "day_to": 10},
        ],
        [{"name": "Start", "nominal_day": -1, "day_from": -5, "day_to": 0}],
    ],
    "timepoints": [["Baseline", "M1", "M3"], ["M6"]],
    "categories": [["none", "minimal", "moderate", "major"], ["major"]],
    "version": [2, 3],
    "first_patient": ["", "NICOLAI-2024"],
    "last_patient": ["\uffff", "SYN-00003"],
    "published_at": [dt.datetime(2026, 12, 1, 9, 30), dt.datetime(2026, 12, 3, 12, 0)],
    # The default schedule and its groups, then a one-visit schedule expecting CK only.
    "default_visits": [
        GRID["default_visits"],
        [
            {
                "visit": "Day 7",
                "visit_sort": 0,
                "nominal_day": 7,
                "day_from": 4,
                "day_to": 10,
                "expected": "ENZYMES",
            }
        ],
    ],
    "groups": [
        GRID["groups"],
        [
            {
                "rule": 0,
                "measure_group": "ENZYMES",
                "indication": "",
                "label": "CK",
                "codes": "CK",
                "recorded_in": "observations",
                "code": "CK",
                "code_pos": 0,
            }
        ],
    ],
    # The import's checks (queries/check_observations.sql)
    "day_low": [-3650.0, 0.0],
    "day_high": [36500.0, 100.0],
    "specimens": [["blood", "bone_marrow", "urine"], ["blood"]],
    "qualifiers": [["<", ">", "not_detected"], []],
    "interpretations": [["borderline", "negative", "positive"], []],
    "any_source": [True, False],
    "far_days": [180, 0],
    # The CTCAE criteria (queries/lab_grade_rows.sql), then those of CK alone.
    "cuts": [ctcae.cut_rows(), [row for row in ctcae.cut_rows() if row["code"] == "CK"]],
}
# Queries that run on the import's checking database (carta/ingest/checking.py) say so.
CHECKING_DATABASE = re.compile(r"^-- database: checking\b", re.MULTILINE)


def runs_on_checking_database(name: str) -> bool:
    return CHECKING_DATABASE.search(query_sql(name)) is not None


def store_query_names() -> list[str]:
    """The queries that read a store (the others read the import's checking database)."""
    return [name for name in query_names() if not runs_on_checking_database(name)]


@pytest.fixture(scope="module")
def checking_database(tmp_path_factory):
    """The import's checking database as the checks find it: an observations file read into
    table `typed` (a good row, a refused one, one that does not parse) and the store's facts."""
    path = tmp_path_factory.mktemp("checking") / "observations.csv"
    path.write_text(
        ",".join(columns("observations")) + "\n"
        "P1,7,CK,120,U/L,,,blood,,src,,,,,,,\n"
        "P1,8,CPK,2,ukat/L,,,blood,,src,,,,,,,\n"
        "P2,seven,CK,120,U/L,,,blood,,src,,,,,,,\n",
        encoding="utf-8",
    )
    db = CheckingDatabase()
    stage_table_file(db, path, "observations")
    facts = StoreFacts(patients={"P1": 240}, sources={"src"},
                       parameters=dictionary.parameters().set_index("code"))  # fmt: skip
    stored = pd.DataFrame({"patient_id": ["P1"], "day": [7], "code": ["CK"], "specimen": ["blood"]})
    register_facts(db, facts, stored)
    yield db
    db.close()


def parameter_sets(name: str) -> list[dict[str, object]]:
    wanted = sorted(query_parameters(query_sql(name)))
    missing = [p for p in wanted if p not in FIXTURE_PARAMETERS]
    assert not missing, f"add fixture values for {missing} to FIXTURE_PARAMETERS"
    if not wanted:
        return [{}]
    return [
        {p: FIXTURE_PARAMETERS[p][i] for p in wanted}
        for i in range(max(len(FIXTURE_PARAMETERS[p]) for p in wanted))
    ]


def test_there_are_queries() -> None:
    assert len(query_names()) >= 5


@pytest.mark.parametrize("name", query_names())
def test_query_runs_on_the_fixture_store(name: str, fixture_store: Path, checking_database) -> None:
    """Every query runs on the database it is written for: the fixture store, or the import's
    checking database."""
    checking = runs_on_checking_database(name)
    con = checking_database.con if checking else open_read_only(fixture_store)
    try:
        for params in parameter_sets(name):
            cursor = con.cursor()
            frame = cursor.execute(query_sql(name), params).df()
            cursor.close()
            assert list(frame.columns), f"{name} returned no columns"
            if checking:
                assert len(frame), f"{name} returned no rows from the checking database"
    finally:
        if not checking:
            con.close()


@pytest.mark.parametrize("name", query_names())
def test_query_file_is_one_commented_statement(name: str) -> None:
    sql = query_sql(name)
    assert sql.lstrip().startswith("--"), f"{name}.sql should say what it returns in a comment"
    body = re.sub(r"--[^\n]*|'[^']*'", "", sql).strip().rstrip(";")
    assert ";" not in body, f"{name}.sql holds more than one statement"
    # Struct literals ({'day': ...}) are SQL; {name} or %s placeholders would be string formatting.
    assert not re.search(r"\{\w*\}|%s|%\(", body), f"{name}.sql looks like a format string"


@pytest.mark.parametrize("name", query_names())
def test_every_query_is_used(name: str) -> None:
    code = "\n".join(
        p.read_text(encoding="utf-8")
        for folder in ("carta", "pages")
        for p in (ROOT / folder).rglob("*.py")
    ) + (ROOT / "app.py").read_text(encoding="utf-8")
    assert f'"{name}"' in code, f"queries/{name}.sql is not used by the app"


def test_query_files_are_named_like_queries() -> None:
    for path in QUERIES_DIR.iterdir():
        assert path.suffix == ".sql" and re.fullmatch(r"[a-z][a-z0-9_]*", path.stem), path.name


def test_patient_observations_for_the_published_case(fixture_store: Path) -> None:
    con = open_read_only(fixture_store)
    cursor = con.cursor()
    params = {"patient_id": PUBLISHED_ID, "baseline_from": -60, "baseline_to": 0}
    rows = cursor.execute(query_sql("patient_observations"), params).df()
    con.close()
    # The bone-marrow depletion "at week 2" has no exact day: it is not among the dated rows.
    assert rows["code"].tolist() == ["CART", "CD19"]
    assert rows["specimen"].tolist() == ["blood", "blood"]
    assert set(rows["source_kind"]) == {"published"}
    assert rows.loc[rows["code"] == "CART", "label"].item() == "CAR T cells"
