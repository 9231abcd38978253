"""Roles per source, the scoped store, small-cell suppression and the audit trail, without a
browser: the rules the pages ask and the store enforces."""

from __future__ import annotations

import datetime as dt
import multiprocessing
from pathlib import Path

import pandas as pd
import pytest

from carta import audit, cli
from carta.access import (
    LOCAL,
    AccessFileError,
    access_for,
    parse_access,
    rank,
    read_access_file,
)
from carta.measures import disclosure
from carta.store import open_read_only, open_scoped, query_names, query_sql, reads_patients
from tests.conftest import PUBLISHED_ID
from tests.test_queries import parameter_sets, store_query_names

ACCESS_FILE = """
[users."Alice@Example.org"]
role = "clinician"
sources = ["synthetic"]

[users."dora@example.org"]
role = "data_manager"
sources = ["site-a"]

[users."root@example.org"]
role = "admin"
sources = "*"

[groups."carta-viewers"]
role = "viewer"
sources = "*"
"""


@pytest.fixture
def grants():
    return parse_access(ACCESS_FILE)


# --- roles -------------------------------------------------------------------------------------


def test_a_clinician_sees_the_patients_of_their_sources_only(grants) -> None:
    alice = access_for("alice@example.org", [], grants)
    assert alice.patient_sources == frozenset({"synthetic"})
    assert alice.cohort_sources == frozenset({"synthetic"})
    assert not alice.aggregate_only and not alice.can_import and not alice.is_admin


def test_e_mails_match_whatever_their_case(grants) -> None:
    assert access_for("ALICE@example.ORG", [], grants).patient_sources == {"synthetic"}


def test_a_viewer_sees_aggregates_of_every_source(grants) -> None:
    viewer = access_for("vic@example.org", ["carta-viewers"], grants)
    assert viewer.aggregate_only
    assert viewer.patient_sources == frozenset()
    assert viewer.cohort_sources is None  # every source, as aggregates


def test_a_group_and_a_personal_grant_combine_without_mixing_scopes(grants) -> None:
    # Clinician of one source and viewer of all: the cohort views count only the patients they may
    # see, so that no patient-level chart holds a patient of a source granted as aggregates.
    alice = access_for("alice@example.org", ["carta-viewers"], grants)
    assert not alice.aggregate_only
    assert alice.cohort_sources == frozenset({"synthetic"})


def test_a_data_manager_writes_their_sources_only(grants) -> None:
    dora = access_for("dora@example.org", [], grants)
    assert dora.can_import and dora.writable_sources == frozenset({"site-a"})
    assert dora.can_write("site-a") and not dora.can_write("synthetic")
    assert dora.patient_sources == frozenset({"site-a"})  # each role includes the one before


def test_an_admin_of_every_source_may_undo(grants) -> None:
    root = access_for("root@example.org", [], grants)
    assert root.is_admin and root.patient_sources is None and root.writable_sources is None


def test_someone_without_an_entry_sees_nothing(grants) -> None:
    nobody = access_for("eve@example.org", ["other-group"], grants)
    assert not nobody.anyone
    assert nobody.cohort_sources == frozenset() and nobody.patient_sources == frozenset()


def test_local_mode_is_one_admin_of_everything() -> None:
    assert LOCAL.local and LOCAL.is_admin and LOCAL.cohort_sources is None
    assert "local single-user mode" in LOCAL.describe()


def test_roles_are_ordered() -> None:
    assert rank("viewer") < rank("clinician") < rank("data_manager") < rank("admin")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[users.x", "not valid TOML"),
        ('[people."a@b"]\nrole = "viewer"\nsources = "*"', "unknown section"),
        ('[users."a@b"]\nrole = "owner"\nsources = "*"', "role must be one of"),
        ('[users."a@b"]\nrole = "viewer"', "sources must be"),
        ('[users."a@b"]\nrole = "viewer"\nsources = []', "sources must be"),
        ('[users."a@b"]\nrole = "viewer"\nsources = "site-a"', "sources must be"),
    ],
)
def test_a_broken_access_file_is_refused_with_the_entry_named(text, message) -> None:
    with pytest.raises(AccessFileError, match=message):
        parse_access(text)


def test_no_access_file_with_login_on_is_an_error_that_says_what_to_set(tmp_path) -> None:
    with pytest.raises(AccessFileError, match="CARTA_ACCESS"):
        read_access_file(None)
    with pytest.raises(AccessFileError, match="cannot be read"):
        read_access_file(tmp_path / "missing.toml")


# --- the store, scoped ---------------------------------------------------------------------------


def _rows(con, name: str) -> list[pd.DataFrame]:
    frames = []
    for params in parameter_sets(name):
        cursor = con.cursor()
        frames.append(cursor.execute(query_sql(name), params).df())
        cursor.close()
    return frames


@pytest.mark.parametrize("name", store_query_names())
def test_every_query_read_over_one_source_returns_only_its_rows(name, fixture_store) -> None:
    con = open_scoped(fixture_store, frozenset({"synthetic"}))
    try:
        for frame in _rows(con, name):
            if "patient_id" in frame:
                assert PUBLISHED_ID not in set(frame["patient_id"]), name
            if "source_id" in frame:
                assert set(frame["source_id"].dropna()) <= {"synthetic"}, name
            if "source_kind" in frame:
                assert set(frame["source_kind"].dropna()) <= {"synthetic"}, name
    finally:
        con.close()


def test_a_scope_of_no_source_holds_no_patient(fixture_store) -> None:
    con = open_scoped(fixture_store, frozenset())
    try:
        assert con.execute(query_sql("patient_count")).fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM observations").fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM parameters").fetchone()[0] > 0  # reference data
    finally:
        con.close()


def test_derived_tables_are_scoped_through_their_patients(fixture_store) -> None:
    full = open_read_only(fixture_store)
    scoped = open_scoped(fixture_store, frozenset({"nicolai2024"}))
    try:
        for table in ("lab_grades", "response_by_timepoint", "patient_kinetics"):
            expected = full.execute(
                f"SELECT count(*) FROM {table} WHERE patient_id = ?", [PUBLISHED_ID]
            ).fetchone()
            assert scoped.execute(f"SELECT count(*) FROM {table}").fetchone() == expected
    finally:
        full.close()
        scoped.close()


def test_a_source_id_with_a_quote_is_a_value_not_sql(fixture_store) -> None:
    con = open_scoped(fixture_store, frozenset({"x') OR ('1'='1"}))
    try:
        assert con.execute("SELECT count(*) FROM patients").fetchone() == (0,)
    finally:
        con.close()


def test_patient_level_queries_say_so() -> None:
    tagged = {n for n in query_names() if reads_patients(n)}
    assert tagged == {n for n in query_names() if n.startswith(("patient_", "patients_"))}


# --- small cells -------------------------------------------------------------------------------


def test_small_counts_are_suppressed_with_what_rests_on_them() -> None:
    table = pd.DataFrame(
        {"window": ["M1", "M3"], "n": [17, 3], "major": [12, 3], "major %": [70.6, 100.0],
         "minor": [1, 0], "other": [4, 0]}
    )  # fmt: skip
    out = disclosure.suppress(table, ["n", "major", "minor", "other"], {"major": ["major %"]},
                              parts=[["major", "minor", "other"]])  # fmt: skip
    assert out["n"].tolist() == ["17", "<5"]
    # Row M1: 1 and 4 are small; 12 stays (two cells hidden already, none can be worked out).
    assert out.loc[0, ["major", "minor", "other"]].tolist() == ["12", "<5", "<5"]
    assert out.loc[1, "major"] == "<5" and pd.isna(out.loc[1, "major %"])
    assert out.loc[1, "minor"] == "0"  # no one is no one: 0 reveals nobody


def test_one_small_cell_in_a_row_takes_the_next_smallest_with_it() -> None:
    table = pd.DataFrame({"n": [20], "a": [2], "b": [6], "c": [12]})
    out = disclosure.suppress(table, ["a", "b", "c"], parts=[["a", "b", "c"]])
    assert out.loc[0, ["a", "b", "c"]].tolist() == ["<5", "<5", "12"]


# --- the audit trail ---------------------------------------------------------------------------


def test_records_are_appended_and_read_back_by_user_and_day(tmp_path) -> None:
    path = tmp_path / "audit.csv"
    audit.record(path, "alice@example.org", "view patient", "SYN-00001", "trajectory")
    audit.record(path, "bob@example.org", "export", "carta-cohort-ck-adam.csv")
    frame = audit.read(path)
    assert frame["action"].tolist() == ["view patient", "export"]
    assert audit.read(path, user="ALICE@example.org")["target"].tolist() == ["SYN-00001"]
    tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    assert audit.read(path, since=tomorrow).empty


def test_a_record_stays_one_line_whatever_it_holds(tmp_path) -> None:
    path = tmp_path / "audit.csv"
    audit.record(path, "a@b\nforged,line", "export", "x" * 1000)
    assert len(path.read_text().splitlines()) == 2
    assert len(audit.read(path).at[0, "target"]) == 300


def test_only_audited_actions_are_recorded(tmp_path) -> None:
    with pytest.raises(ValueError, match="not an audited action"):
        audit.record(tmp_path / "audit.csv", "a@b", "delete everything")


def _append_many(path: str, who: str) -> None:
    for i in range(200):
        audit.record(Path(path), who, "view patient", f"SYN-{i:05d}")


def test_concurrent_writers_never_interleave_records(tmp_path) -> None:
    path = tmp_path / "audit.csv"
    workers = [multiprocessing.Process(target=_append_many, args=(str(path), f"u{i}@x"))
               for i in range(4)]  # fmt: skip
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    frame = audit.read(path)
    assert len(frame) == 800
    assert frame.groupby("user").size().tolist() == [200] * 4
    assert path.read_text().count("at,user,action") == 1


def test_the_trail_survives_an_undo_and_is_read_by_the_command_line(
    fixture_store, tmp_path, monkeypatch, capsys
) -> None:
    import shutil

    store_dir = tmp_path / "store"
    shutil.copytree(fixture_store.parent, store_dir, symlinks=True)
    store = store_dir / fixture_store.name
    monkeypatch.setenv("CARTA_STORE", str(store))
    sheet = tmp_path / "observations.csv"
    sheet.write_text("patient_id,day,code,value,unit,specimen\nSYN-00001,400,CK,120,U/L,blood\n")
    assert cli.main(["import", str(sheet), "--source", "synthetic"]) == 0
    versions = sorted(
        int(p.stem.split("-v")[1]) for p in (store_dir / "carta.versions").glob("*.duckdb")
    )
    assert cli.main(["versions", "--use", str(versions[0])]) == 0
    capsys.readouterr()
    assert cli.main(["audit"]) == 0
    out = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out))
    assert out["action"].tolist() == ["import", "undo"]
    assert out["user"].str.startswith("cli:").all()
    assert (store_dir / "audit.csv").exists()  # beside the pointer, not among the versions


def test_rows_of_a_source_the_importer_may_not_write_are_refused(fixture_store, tmp_path) -> None:
    from carta.ingest.importer import import_files

    sheet = tmp_path / "observations.csv"
    sheet.write_text("patient_id,day,code,value,unit,specimen,source_id\n"
                     "SYN-00001,400,CK,120,U/L,blood,synthetic\n")  # fmt: skip
    result = import_files([sheet], fixture_store, dry_run=True, writable=frozenset({"site-a"}))
    [problem] = result.files[0].problems
    assert (problem.column, problem.reason) == (
        "source_id",
        "not a source you may import into (an admin grants the role)",
    )
    assert result.accepted == 0


def test_a_file_without_a_source_column_needs_the_source_named(fixture_store, tmp_path) -> None:
    from carta.ingest.importer import import_files

    sheet = tmp_path / "observations.csv"
    sheet.write_text("patient_id,day,code,value,unit,specimen\nSYN-00001,400,CK,120,U/L,blood\n")
    assert import_files([sheet], fixture_store, dry_run=True).accepted == 0
    named = import_files([sheet], fixture_store, dry_run=True, source="synthetic")
    assert named.accepted == 1
