"""SDTM and ADaM packages as delivered (the public CDISC test data in ../shared/data/cdisc, read
from there, never copied): every dataset imported, every record accounted for, values and days
as the source gives them, partial dates kept partial, severities not made into grades, and no
source date anywhere on disk."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from carta.build import build_store
from carta.ingest.cdisc.datasets import read_dataset
from carta.ingest.importer import import_files, report_table
from carta.store import real_path, versions_dir

CDISC = Path(__file__).resolve().parents[2] / "shared" / "data" / "cdisc"
PACKAGES = ["sdtm-tdf", "sdtm-msg-v1.1", "sdtm-statin-csv", "adam-tdf", "send-dataset-json-v1.0"]
DATE = re.compile(r"\b(?:19|20)\d\d-\d\d(?:-\d\d)?\b")


@pytest.fixture(scope="module", autouse=True)
def shared_data() -> None:
    if not CDISC.is_dir():
        pytest.fail(f"the CDISC test data are missing: {CDISC} (a copy of shared/ beside the repo)")


def empty_store(folder: Path) -> Path:
    return build_store(folder / "store" / "carta.duckdb", n_patients=0,
                       include_published=False).path  # fmt: skip


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> dict[str, tuple[Path, object]]:
    out = {}
    for package in PACKAGES:
        store = empty_store(tmp_path_factory.mktemp(package))
        out[package] = (store, import_files([CDISC / package], store))
    return out


def read(store: Path, sql: str) -> pd.DataFrame:
    con = duckdb.connect(str(real_path(store)), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


@pytest.mark.parametrize("package", PACKAGES)
def test_every_record_of_every_dataset_is_accounted_for(imported, package) -> None:
    _, result = imported[package]
    by_file: dict[str, list] = {}
    for report in result.files:
        by_file.setdefault(report.file.name, []).append(report)
    assert by_file, "nothing was read"
    for name, reports in by_file.items():
        reason = reports[0].problems[0].reason if reports[0].problems else ""
        if reports[0].table is None and reason.startswith("not a dataset Carta reads"):
            continue  # a file that is no dataset (a readme): refused whole, with the formats
        records = read_dataset(reports[0].file).records
        accepted = sum(r.accepted for r in reports if r.table != "sources")
        refused = sum(r.rejected for r in reports)
        assert accepted + refused == records, (name, [(r.table, r.accepted, r.rejected)
                                                      for r in reports])  # fmt: skip
        # Every refused record says why.
        for report in reports:
            lines = {p.row for p in report.problems if p.row is not None and not p.is_warning}
            assert len(lines) == report.rejected or report.status in ("refused", "merged"), name


@pytest.mark.parametrize("package", [p for p in PACKAGES if not p.startswith("send")])
def test_a_package_publishes_its_patients(imported, package) -> None:
    store, result = imported[package]
    assert result.version is not None
    patients = read(store, "SELECT * FROM patients")
    assert len(patients) > 0 and not patients["synthetic"].any()
    assert set(patients["source_id"]) <= set(read(store, "SELECT source_id FROM sources")
                                              ["source_id"])  # fmt: skip


@pytest.mark.parametrize("package", PACKAGES)
def test_no_source_date_reaches_the_disk(imported, package) -> None:
    store, result = imported[package]
    con = duckdb.connect(str(real_path(store)), read_only=True)
    try:
        tables = [t for (t,) in con.execute("SHOW TABLES").fetchall() if t != "store_meta"]
        for table in tables:
            frame = con.execute(f"SELECT * FROM {table}").df()
            # Carta's own timestamps (imports.imported_at) are not source dates.
            text = frame.select_dtypes(exclude=["number", "datetime"]).astype(str)
            hits = text.apply(lambda col: col.str.contains(DATE)).to_numpy().sum()
            assert hits == 0, (table, text[text.apply(lambda c: c.str.contains(DATE))].head())
    finally:
        con.close()
    quarantine = versions_dir(store).parent / "quarantine"
    for file in quarantine.glob("*.csv") if quarantine.exists() else []:
        assert not DATE.search(file.read_text(encoding="utf-8")), file.name
    report = report_table(result).astype(str)
    assert not report.apply(lambda c: c.str.contains(DATE)).to_numpy().any()


def test_study_day_1_is_day_0_and_values_match_the_source(imported) -> None:
    store, _ = imported["sdtm-statin-csv"]
    lb = pd.read_csv(CDISC / "sdtm-statin-csv" / "lb.csv", dtype=str)
    row = lb[(lb["USUBJID"] == "ABC001") & (lb["LBTESTCD"] == "AST")].iloc[0]
    stored = read(store, "SELECT day, value, unit, ref_low, ref_high FROM observations "
                  "WHERE patient_id = 'ABC001' AND code = 'AST' ORDER BY day").iloc[0]  # fmt: skip
    # LBDTC = RFXSTDTC (day 0, the first study treatment: no CAR T in this study): LBDY 1 -> 0.
    assert int(row["LBDY"]) == 1 and stored["day"] == 0
    assert stored["value"] == float(row["LBSTRESN"]) and stored["unit"] == "U/L"
    # The standard-unit range goes with the standard-unit value.
    assert (stored["ref_low"], stored["ref_high"]) == (float(row["LBSTNRLO"]),
                                                       float(row["LBSTNRHI"]))  # fmt: skip


def test_severity_is_kept_and_nothing_is_graded_that_the_source_did_not_grade(imported) -> None:
    store, _ = imported["sdtm-statin-csv"]
    events = read(store, "SELECT * FROM adverse_events WHERE patient_id = 'ABC001'")
    assert len(events) > 0
    assert events["grade"].isna().all() and set(events["severity"]) <= {"mild", "moderate",
                                                                         "severe"}  # fmt: skip
    nausea = events[events["term"] == "Nausea"].iloc[0]
    assert nausea["severity"] == "mild" and nausea["onset_day"] == -5  # 2014-03-21 vs 03-26


def test_partial_dates_are_never_made_exact(imported) -> None:
    found = []
    for package in PACKAGES:
        store, _ = imported[package]
        for table, precision in (("adverse_events", "onset_precision"),
                                 ("events", "start_precision"),
                                 ("observations", "day_precision")):  # fmt: skip
            rows = read(store, f"SELECT * FROM {table} WHERE {precision} IS NOT NULL")
            day = {"adverse_events": "onset_day", "events": "start_day"}.get(table, "day")
            assert rows[day].isna().all()
            low, high = {"adverse_events": ("onset_earliest", "onset_latest"),
                         "events": ("start_earliest", "start_latest")}.get(
                table, ("day_earliest", "day_latest"))  # fmt: skip
            assert (rows[high] >= rows[low]).all()
            found.append(len(rows))
    assert sum(found) > 0, "the test data hold partial dates (e.g. CMSTDTC '2003')"


def test_unknown_tests_are_kept_as_other_tests(imported) -> None:
    store, _ = imported["sdtm-msg-v1.1"]
    other = read(store, "SELECT * FROM other_observations")
    assert len(other) > 0 and other["test_code"].notna().all()
    assert (other["value"].notna() | other["result_text"].notna()).all()


def test_when_nothing_is_accepted_the_refused_rows_are_still_written(tmp_path) -> None:
    # LB alone, for patients the store does not have: every record refused, and written down.
    store = empty_store(tmp_path)
    result = import_files([CDISC / "sdtm-statin-csv" / "lb.csv"], store)
    assert result.version is None
    [report] = [r for r in result.files if r.table == "observations"]
    assert report.accepted == 0 and report.rejected == read_dataset(report.file).records
    assert report.quarantine is not None and report.quarantine.name.startswith("not-imported-")
    written = pd.read_csv(report.quarantine)
    assert len(written) == report.rejected and "reason" in written
    # Neither its study nor its patients are in the store: the first reason of each row says so.
    assert written["reason"].str.contains("unknown source|unknown patient").all()
    assert not DATE.search(report.quarantine.read_text(encoding="utf-8"))
    assert "LBDTC" not in written.columns


def test_the_report_file_has_every_problem_and_no_value(imported, tmp_path) -> None:
    _, result = imported["sdtm-tdf"]
    table = report_table(result)
    assert set(table.columns) == {"file", "table", "status", "accepted", "refused", "line",
                                  "column", "reason"}  # fmt: skip
    notes = table[table["status"] == "note"]
    assert notes["reason"].str.startswith("day 0 = ").any()  # how day 0 was found, in the file
    counts = table[table["reason"].isna()]
    assert counts["accepted"].sum() == sum(r.accepted for r in result.files)
    problems = len(table) - len(counts) - len(notes)
    assert problems == sum(len(r.problems) for r in result.files)


def test_a_severity_is_shown_as_a_severity_on_the_summary(imported) -> None:
    store, _ = imported["sdtm-statin-csv"]
    from carta import case
    from carta.store import open_read_only, run_query, store_info

    con = open_read_only(store)
    try:
        summary = case.load_case(lambda name, **p: run_query(con, name, **p), store_info(con),
                                 "ABC001", False)  # fmt: skip
    finally:
        con.close()
    adverse = summary.data.adverse_events
    assert adverse["grade"].isna().all()
    from carta import display

    shown = {display.ae_grade(g, s) for g, s in zip(adverse["grade"], adverse["severity"],
                                                     strict=True)}  # fmt: skip
    assert shown <= {"severity: mild, not graded", "severity: moderate, not graded",
                     "severity: severe, not graded"}  # fmt: skip


def test_an_animal_study_is_not_imported_as_patients(imported) -> None:
    store, result = imported["send-dataset-json-v1.0"]
    assert result.version is None and read(store, "SELECT count(*) AS n FROM patients")["n"][0] == 0
    refused = [r for r in result.files if r.status == "refused"]
    assert refused and all("animal study (SEND)" in r.problems[0].reason for r in refused)


def write_csv(path: Path, header: str, *rows: str) -> Path:
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


DM = ("STUDYID,DOMAIN,USUBJID,RFSTDTC,RFXSTDTC,AGE,AGEU,SEX",
      "S1,DM,S1-001,2023-01-05,2023-01-05,34,YEARS,F")  # fmt: skip


def package_with_dm(tmp_path: Path) -> Path:
    """A package folder holding one patient's DM (S1-001, study S1); tests add the rest."""
    folder = tmp_path / "pkg"
    folder.mkdir()
    write_csv(folder / "dm.csv", *DM)
    return folder


def test_a_named_car_t_product_is_day_0_and_an_infusion(tmp_path) -> None:
    # RFXSTDTC is the first lymphodepletion dose (day -5); the product's own start is day 0.
    folder = package_with_dm(tmp_path)
    write_csv(folder / "ex.csv", "STUDYID,DOMAIN,USUBJID,EXTRT,EXSTDTC,EXDOSE,EXDOSU",
              "S1,EX,S1-001,FLUDARABINE,2023-01-05,30,mg/m2",
              "S1,EX,S1-001,ABC-123 cells,2023-01-10,1000000,cells/kg")  # fmt: skip
    store = empty_store(tmp_path)
    plain = import_files([folder], store, dry_run=True)
    assert any(n.startswith("warning: no CAR T product recognised") for n in plain.notes)
    named = import_files([folder], store, day0_treatment="ABC-123 cells")
    assert any("the CAR T infusion in EX (ABC-123 cells)" in n for n in named.notes)
    events = read(store, "SELECT kind, name, start_day FROM events ORDER BY start_day")
    assert events.values.tolist() == [["lymphodepletion", "FLUDARABINE", -5],
                                      ["infusion", "ABC-123 cells", 0]]  # fmt: skip


def test_two_files_of_one_domain_are_both_read_and_odd_files_reported(tmp_path) -> None:
    folder = package_with_dm(tmp_path)
    header = "STUDYID,DOMAIN,USUBJID,LBTESTCD,LBTEST,LBORRES,LBORRESU,LBSPEC,LBDTC"
    write_csv(folder / "lb.csv", header, "S1,LB,S1-001,ALT,ALT,20,U/L,SERUM,2023-01-06")
    write_csv(folder / "lab_batch2.csv", header, "S1,LB,S1-001,AST,AST,25,U/L,SERUM,2023-01-07")
    (folder / "notes.txt").write_text("the site's notes\n", encoding="utf-8")
    result = import_files([folder], empty_store(tmp_path), dry_run=True)
    reports = {(r.file.name, r.table): r for r in result.files}
    assert reports[("lb.csv", "observations")].accepted == 1
    assert reports[("lab_batch2.csv", "observations")].accepted == 1
    odd = reports[("notes.txt", None)]
    assert odd.status == "refused" and "SAS transport" in odd.problems[0].reason


def test_a_grade_written_in_words_is_read_and_an_impossible_one_refused(tmp_path) -> None:
    folder = package_with_dm(tmp_path)
    write_csv(folder / "ae.csv", "STUDYID,DOMAIN,USUBJID,AETERM,AETOXGR,AESEV,AESTDTC",
              "S1,AE,S1-001,Fever,Grade 2,,2023-01-07",
              "S1,AE,S1-001,Rash,6,MILD,2023-01-08")  # fmt: skip
    result = import_files([folder], empty_store(tmp_path), dry_run=True)
    [ae] = [r for r in result.files if r.table == "adverse_events"]
    assert ae.rows[["term", "grade"]].values.tolist() == [["Fever", 2]]
    assert [(p.row, p.reason) for p in ae.problems] == [
        (3, "the toxicity grade is not a number 0-5")]  # fmt: skip


def test_a_date_in_any_form_never_reaches_a_quarantine_file(tmp_path) -> None:
    folder = package_with_dm(tmp_path)
    write_csv(folder / "ae.csv", "STUDYID,DOMAIN,USUBJID,AESEQ,AETERM,AETOXGR,AESTDAT,AESTDTC",
              "S1,AE,S1-001,1,Fever,9,12/01/2023,2023-01-07")  # fmt: skip
    write_csv(folder / "suppae.csv", "STUDYID,RDOMAIN,USUBJID,IDVAR,IDVARVAL,QNAM,QVAL",
              "S1,AE,S1-999,AESEQ,1,AEDATE,24FEB2023")  # fmt: skip
    store = empty_store(tmp_path)
    import_files([folder], store)
    files = list((versions_dir(store).parent / "quarantine").glob("*.csv"))
    assert files
    from carta.ingest.problems import DATE_IN_TEXT

    for file in files:
        assert not DATE_IN_TEXT.search(file.read_text(encoding="utf-8")), file.name
