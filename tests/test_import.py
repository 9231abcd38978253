"""Importing a centre's files: messy input, the expected report written out, nothing lost."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from carta import derive
from carta.build import build_store
from carta.ingest import importer
from carta.ingest.importer import import_files
from carta.schema import columns
from carta.store import (
    ROOT,
    StoreError,
    open_read_only,
    real_path,
    use_version,
    versions_dir,
)
from tests.handmade import file_header

PATIENTS = (
    file_header("patients")
    + ",name\n"
    + "\n".join(
        [
            "SITE-01,site-a,Site A,F,9,JDM,anti-NXP2,,,,,240,,false,Alice Example",
            "SITE-02,site-a,Site A,X,11,Juvenile dermatomyositis,,,,,,200,,false,Bob Example",
            "SYN-00001,site-a,Site A,M,10,JDM,,,,,,200,,false,Carol Example",
        ]
    )
)
SOURCES = file_header("sources") + "\nsite-a,site,Site A JDM registry export 2026-11,,\n"
OBSERVATIONS = (
    file_header("observations")
    + "\n"
    + "\n".join(
        [
            "SITE-01,-3,CK,2400,U/L,26,252,blood,,site-a,",  # line 2: fine
            "SITE-01,7,CK,2,ukat/L,,,blood,,site-a,",  # line 3: converted to 120 U/L
            "SITE-01,7,FOO,1,U/L,,,blood,,site-a,",  # line 4: unknown parameter
            "NOBODY,7,CK,100,U/L,,,blood,,site-a,",  # line 5: unknown patient
            "SITE-01,14,ANC,-0.4,10*9/L,,,blood,,site-a,",  # line 6: negative
            "SITE-01,28,CMAS,60,{score},,,blood,,site-a,",  # line 7: outside 0-52
            "SITE-01,28,CK,200,U/L,,,blood,,site-a,",  # line 8: conflicts with line 9
            "SITE-01,28,CK,210,U/L,,,blood,,site-a,",  # line 9
            'SITE-01,30,CK,"1,2",U/L,,,blood,,site-a,',  # line 10: not a number
            "SITE-01,900,CK,150,U/L,,,blood,,site-a,",  # line 11: imported, with a warning
            "SITE-01,7,ANC,500,/mm3,,,blood,,site-a,",  # line 12: converted to 0.5 x10^9/L
        ]
    )
)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return build_store(tmp_path / "store" / "carta.duckdb", n_patients=2).path


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "centre"
    folder.mkdir()
    for name, text in (("sources", SOURCES), ("patients", PATIENTS),
                       ("observations", OBSERVATIONS)):  # fmt: skip
        (folder / f"{name}.csv").write_text(text + "\n", encoding="utf-8")
    return sorted(folder.iterdir())


def report_lines(report) -> list[tuple]:
    return [(p.row, p.column, p.reason.split(":")[0].split(";")[0]) for p in report.problems]


def test_the_report_says_what_was_refused_and_why(store, files) -> None:
    result = import_files(files, store)
    by_table = {r.table: r for r in result.files}
    assert report_lines(by_table["patients"]) == [
        (None, "name", "personal data (it identifies a person)"),
        (3, "sex", "not one of F, M"),
        (4, "patient_id", "patient_id is already in the store or earlier in this file"),
    ]
    assert report_lines(by_table["observations"]) == [
        (10, "value", "not a number"),
        (5, "patient_id", "unknown patient"),
        (4, "code", "unknown parameter code (see docs/data-dictionary.md)"),
        (6, "value", "negative values are impossible"),
        (7, "value", "outside the CMAS scale 0–52"),
        (8, "value", "conflicting duplicate"),
        (9, "value", "conflicting duplicate"),
        (11, "day", "warning"),
    ]
    assert (by_table["observations"].accepted, by_table["observations"].rejected) == (4, 7)
    assert (by_table["patients"].accepted, by_table["patients"].rejected) == (1, 2)
    assert result.version == 2


def test_accepted_rows_are_published_converted_and_nothing_personal_is_stored(store, files):
    import_files(files, store)
    con = open_read_only(store)
    rows = con.execute(
        "SELECT day, code, value, unit, note FROM observations WHERE patient_id = 'SITE-01' "
        "ORDER BY day, code"
    ).fetchall()
    assert rows == [
        (-3, "CK", 2400.0, "U/L", None),
        (7, "ANC", 0.5, "10*9/L", "converted from /mm3"),
        (7, "CK", 120.0, "U/L", "converted from ukat/L"),
        (900, "CK", 150.0, "U/L", None),
    ]
    assert con.execute(
        "SELECT count(*) FROM patients WHERE patient_id LIKE 'SITE-%'"
    ).fetchall() == [(1,)]
    assert (
        con.execute("SELECT count(*) FROM lab_grades WHERE patient_id = 'SITE-01'").fetchall()[0][0]
        == 4
    )  # the derived tables were computed again
    history = con.execute(
        "SELECT file_name, rows_accepted, rows_rejected FROM imports "
        "WHERE file_name NOT LIKE 'data/seed/%' ORDER BY import_id"
    ).fetchall()
    con.close()
    assert history == [("sources.csv", 1, 0), ("patients.csv", 1, 2), ("observations.csv", 4, 7)]
    content = real_path(store).read_bytes()
    for name in (b"Alice Example", b"Bob Example", b"Carol Example"):
        assert name not in content


def test_refused_rows_go_to_a_quarantine_file_with_their_reasons(store, files) -> None:
    result = import_files(files, store)
    observations = next(r for r in result.files if r.table == "observations")
    quarantine = pd.read_csv(observations.quarantine, dtype=str, keep_default_na=False)
    assert quarantine["line"].astype(int).tolist() == [4, 5, 6, 7, 8, 9, 10]
    assert quarantine.loc[0, "code"] == "FOO"
    assert "unknown parameter" in quarantine.loc[0, "reason"]


def test_a_semicolon_export_with_a_broken_row_imports_the_rest(store, files) -> None:
    # As a spreadsheet in a European locale saves it: semicolons, Windows-1252, CRLF line ends.
    observations = files[0]
    text = observations.read_text(encoding="utf-8").replace(",", ";")
    text = text.replace("SITE-01;-3;CK", "SITE-01;-3;CK;2400;U/L;oops\nSITE-01;-2;CK")
    text = text.replace(";site-a;\n", ";site-a;Labor München – Befund\n", 1)  # not ASCII
    observations.write_bytes(text.replace("\n", "\r\n").encode("cp1252"))
    result = import_files(files, store)
    report = next(r for r in result.files if r.table == "observations")
    assert report.accepted == 4 and result.version == 2
    broken = next(p for p in report.problems if p.column is None and p.row == 2)
    assert broken.reason == "6 fields where the header has 11; refused"
    quarantine = pd.read_csv(report.quarantine, dtype=str, keep_default_na=False)
    assert quarantine.loc[0, "line"] == "2"
    # A line of the wrong width is kept by its number and reason only: its text could hold
    # anything, a name or a date among it.
    assert quarantine.loc[0, "reason"] == "6 fields where the header has 11; refused"
    assert "oops" not in report.quarantine.read_text(encoding="utf-8")
    assert quarantine["line"].astype(int).tolist() == [2, 5, 6, 7, 8, 9, 10, 11]
    con = open_read_only(store)
    notes = [n for (n,) in con.execute("SELECT note FROM observations WHERE patient_id = "
                                       "'SITE-01' AND day = -2").fetchall()]  # fmt: skip
    con.close()
    assert notes == ["Labor München – Befund"]


def test_importing_the_same_files_again_changes_nothing(store, files) -> None:
    first = import_files(files, store)
    published = real_path(store)
    again = import_files(files, store)
    assert again.version is None
    assert {r.status for r in again.files} == {"already imported"}
    assert real_path(store) == published
    assert first.version == 2


def test_a_dry_run_publishes_nothing(store, files) -> None:
    before = real_path(store)
    result = import_files(files, store, dry_run=True)
    assert result.version is None and real_path(store) == before
    assert {r.status for r in result.files} == {"checked"}


def test_an_import_killed_midway_leaves_the_store_as_it_was(store, files, monkeypatch) -> None:
    before = real_path(store)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(importer, "derive_tables", killed)
    with pytest.raises(KeyboardInterrupt):
        import_files(files, store)
    assert real_path(store) == before
    assert sorted(p.name for p in versions_dir(store).glob("*.duckdb")) == [before.name]
    con = open_read_only(store)
    assert con.execute(
        "SELECT count(*) FROM patients WHERE patient_id LIKE 'SITE-%'"
    ).fetchall() == [(0,)]
    con.close()
    assert derive.derive_tables is not killed


def test_building_the_default_store_over_imported_data_needs_force(store, files) -> None:
    import_files(files, store)
    with pytest.raises(StoreError, match="holds imported data"):
        build_store(store, n_patients=2)
    assert build_store(store, n_patients=2, force=True).published


def test_a_file_named_after_no_table_is_refused(store, tmp_path) -> None:
    odd = tmp_path / "labs.csv"
    odd.write_text("a,b\n1,2\n")
    [report] = import_files([odd], store).files
    assert report.status == "refused" and "not a file Carta reads" in report.problems[0].reason


def test_a_file_is_known_by_its_columns_whatever_its_name(store, files, tmp_path) -> None:
    """A centre's export named as it likes: with exactly one table's columns, it is that table."""
    renamed = tmp_path / "exports"
    renamed.mkdir()
    names = {"sources": "registry_sources.csv", "patients": "cohort 2026.csv",
             "observations": "my_lab_export.csv"}  # fmt: skip
    for file in files:
        (renamed / names[file.stem]).write_bytes(file.read_bytes())
    expected = {r.table: r for r in import_files(files, store, dry_run=True).files}
    by_table = {r.table: r for r in import_files(sorted(renamed.iterdir()), store).files}
    assert set(by_table) == {"sources", "patients", "observations"}
    for table, report in by_table.items():
        assert report.file.name == names[table]
        assert (report.accepted, report.rejected) == (expected[table].accepted,
                                                      expected[table].rejected)  # fmt: skip
    # The columns of no table, or a table's columns and more: not Carta's format.
    assert importer.own_table(tmp_path / "none.csv") is None
    extra = tmp_path / "extra.csv"
    extra.write_text(file_header("observations") + ",CK\n")
    assert importer.own_table(extra) is None


def test_a_refused_value_is_said_as_the_file_gave_it(store, tmp_path) -> None:
    folder = tmp_path / "centre"
    folder.mkdir()
    (folder / "sources.csv").write_text(SOURCES)
    (folder / "observations.csv").write_text(
        file_header("observations") + "\nSYN-00001,-5,ANC,-5,10*9/L,,,blood,,site-a,\n"
    )
    [_, report] = import_files(sorted(folder.iterdir()), store, dry_run=True).files
    [problem] = report.problems
    assert (problem.column, problem.value) == ("value", "-5")
    assert problem.reason.startswith("negative values are impossible")


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "carta", "import", *args],
        cwd=ROOT, capture_output=True, text=True, env=dict(os.environ), timeout=120,
    )  # fmt: skip


def test_cli_summary_and_exit_status(store, files, tmp_path) -> None:
    done = run_cli(*map(str, files), "--store", str(store))
    assert done.returncode == 0, done.stderr
    assert "Published store version 2" in done.stdout
    assert "line 5, patient_id = 'NOBODY': unknown patient" in done.stdout
    again = run_cli(*map(str, files), "--store", str(store))
    assert again.returncode == 0 and "imported before; nothing changed" in again.stdout
    bad = tmp_path / "observations.csv"
    bad.write_text(file_header("observations") + "\nNOBODY,1,CK,1,U/L,,,blood,,x,\n")
    refused = run_cli(str(bad), "--store", str(store))
    assert refused.returncode == 1 and "Nothing could be imported" in refused.stdout
    missing = run_cli(str(tmp_path / "nope.csv"), "--store", str(store))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr


def test_a_running_reader_keeps_its_version_while_an_import_publishes(store, files) -> None:
    reader = duckdb.connect(str(real_path(store)), read_only=True)
    before = reader.execute("SELECT count(*) FROM observations").fetchall()
    import_files(files, store)
    assert reader.execute("SELECT count(*) FROM observations").fetchall() == before
    reader.close()


def test_parameters_are_recognised_by_common_names_loinc_and_a_mapping_file(store, tmp_path):
    rows = (
        file_header("observations")
        + "\n"
        + "\n".join(
            [
                "SYN-00001,301,CPK,400,U/L,,,blood,,synthetic,",
                "SYN-00001,301,2532-0,300,U/L,,,blood,,synthetic,",
                "SYN-00001,301,Haemoglobin,120,g/L,,,blood,,synthetic,",
                "SYN-00001,301,Kreatinin,1,mg/dL,,,blood,,synthetic,",
            ]
        )
    )
    (tmp_path / "observations.csv").write_text(rows + "\n")
    mapping = tmp_path / "mapping.csv"
    mapping.write_text("name,code\nAldolasa,ALDOLASE\n")
    result = import_files(
        [tmp_path / "observations.csv"], store, mapping=importer.read_mapping(mapping)
    )
    [report] = result.files
    assert report.rows["code"].tolist() == ["CK", "LDH", "HGB"]
    assert report.rows["note"].tolist() == [
        "named CPK in the file",
        "named 2532-0 in the file",
        "converted from g/L; named Haemoglobin in the file",
    ]
    assert report.rows["value"].tolist() == [400, 300, 12.0]
    assert report_lines(report) == [
        (5, "code", "unknown parameter code (see docs/data-dictionary.md)")
    ]
    bad = tmp_path / "bad-mapping.csv"
    bad.write_text("name,code\nfoo,NOPE\n")
    with pytest.raises(StoreError, match="unknown parameter codes NOPE"):
        importer.read_mapping(bad)


def test_a_wide_lab_sheet_becomes_observations(store, tmp_path) -> None:
    sheet = tmp_path / "labs-2026-11.csv"
    sheet.write_text(
        "patient_id,date,infusion_date,source_id,CK (U/L),Hb [g/L],CRP,CD19 (cells/µL),Kreatin\n"
        "SYN-00002,2026-03-01,2026-03-10,synthetic,2400,121,<0.5,312,1\n"  # line 2: day -9
        "SYN-00002,2026-03-17,2026-03-10,synthetic,abc,95,,n.d.,1\n"  # line 3: day 7
        "SYN-00002,2026-03-20,,synthetic,300,,,,\n"  # line 4: no infusion date
    )
    [report] = import_files([sheet], store, dry_run=True).files
    assert report.table == "observations"
    rows = report.rows.sort_values(["day", "code"])
    got = [(r.day, r.code, r.value, r.unit, r.qualifier) for r in rows.itertuples()]
    assert [(d, c, None if pd.isna(v) else v, u, None if pd.isna(q) else q)
            for d, c, v, u, q in got] == [
        (-9, "CD19", 312.0, "{cells}/uL", None),
        (-9, "CK", 2400.0, "U/L", None),
        (-9, "HGB", 12.1, "g/dL", None),
        (7, "CD19", None, "{cells}/uL", "not_detected"),
        (7, "HGB", 9.5, "g/dL", None),
    ]  # fmt: skip
    # CRP without a unit (mg/L or mg/dL?) is refused: its common units read alike.
    assert report_lines(report) == [
        (4, "date", "a date needs the patient's infusion date (column infusion_date)"),
        (None, "Kreatin", "not a known parameter"),
        (3, "CK (U/L)", "not a number, <x, >x or n.d."),
        (2, "value", "CRP has no unit, and its common units give values of the same size, so the "
         "value cannot tell which"),
    ]  # fmt: skip
    published = import_files([sheet], store)
    assert published.version == 2
    con = open_read_only(store)
    stored = con.execute(
        "SELECT count(*) FROM observations WHERE patient_id = 'SYN-00002' AND day = -9"
        " AND code IN ('CK', 'HGB', 'CRP', 'CD19') AND source_id = 'synthetic' AND note IS NOT NULL"
    ).fetchall()[0][0]
    con.close()
    assert stored >= 1  # Hb came in g/L: converted, and the note says so


def test_sdtm_lb_and_ae_datasets(store, tmp_path) -> None:
    lb = tmp_path / "lb.csv"
    lb.write_text(
        "STUDYID,USUBJID,LBTESTCD,LBTEST,LBORRES,LBORRESU,LBSTRESN,LBSTRESU,LBORNRLO,LBORNRHI,"
        "LBSPEC,LBDY\n"
        "synthetic,SYN-00002,CK,Creatine Kinase,2400,U/L,2400,U/L,26,252,SERUM,-3\n"
        "synthetic,SYN-00002,NEUT,Neutrophils,400,/uL,,,,,BLOOD,8\n"
        "synthetic,SYN-00002,CRP,C Reactive Protein,<0.5,mg/L,,,,,SERUM,15\n"
        "synthetic,SYN-00002,XYZ,Something,1,U/L,,,,,SERUM,15\n"
        "synthetic,SYN-00002,ALT,ALT,12,U/L,,,,,SERUM,\n"
    )
    ae = tmp_path / "ae.csv"
    ae.write_text(
        "STUDYID,USUBJID,AETERM,AEDECOD,AETOXGR,AESTDY,AEENDY,AESER\n"
        "synthetic,SYN-00002,fever / CRS,Cytokine release syndrome,2,3,5,N\n"
        "synthetic,SYN-00002,rash,Rash,,4,,N\n"
    )
    result = import_files([lb, ae], store, dry_run=True)
    labs = next(r for r in result.files if r.file == lb)
    got = [(r.day, r.code, r.value, r.unit, r.qualifier if isinstance(r.qualifier, str) else None)
           for r in labs.rows.itertuples()]  # fmt: skip
    # LBDY has no day 0: LBDY 8 is study day 7 and -3 stays -3 (infusion = reference start).
    assert got == [
        (-3, "CK", 2400.0, "U/L", None),
        (7, "ANC", 0.4, "10*9/L", None),
        (14, "CRP", 0.5, "mg/L", "<"),
    ]
    # Problems are at their line in the CSV file (line 6 = the ALT without a day).
    assert report_lines(labs) == [(6, "LBDTC", "no study day")]
    # A test the dictionary does not know is kept as another test, with its own code and unit.
    other = next(r for r in result.files if r.file == lb and r.table == "other_observations")
    assert other.rows[["test_code", "value", "unit"]].values.tolist() == [["XYZ", 1.0, "U/L"]]
    events = next(r for r in result.files if r.file == ae)
    row = events.rows.iloc[0]
    assert (row["term"], row["grade"], row["onset_day"], row["end_day"], row["serious"]) == (
        "Cytokine release syndrome",
        2,
        2,
        4,
        False,
    )
    # Neither a grade nor a severity: refused, never graded from nothing.
    [refused] = events.problems
    assert (refused.row, refused.column) == (3, "AESEV")
    assert refused.reason.startswith("neither a toxicity grade")


def test_an_excel_workbook_in_carta_format(store, tmp_path) -> None:
    sources = pd.DataFrame([{"source_id": "site-x", "kind": "site", "citation": "Site X export",
                             "doi": "", "note": ""}])  # fmt: skip
    patients = pd.DataFrame(
        [{c: "" for c in columns("patients")} | {
            "patient_id": "XL-01", "source_id": "site-x", "cohort": "Site X", "sex": "F",
            "age_years": "7", "follow_up_days": "240", "synthetic": "no"}]
    )  # fmt: skip
    sources.to_excel(tmp_path / "sources.xlsx", index=False)
    patients.to_excel(tmp_path / "patients.xlsx", index=False)
    result = import_files([tmp_path / "patients.xlsx", tmp_path / "sources.xlsx"], store)
    assert [(r.table, r.accepted, r.rejected) for r in result.files] == [
        ("sources", 1, 0),
        ("patients", 1, 0),
    ]
    con = open_read_only(store)
    assert con.execute("SELECT age_years, synthetic FROM patients WHERE patient_id = 'XL-01'"
                       ).fetchall() == [(7.0, False)]  # fmt: skip
    con.close()


def test_an_import_is_undone_by_publishing_the_previous_version(store, files) -> None:
    import_files(files, store)
    listing = subprocess.run(
        [sys.executable, "-m", "carta", "versions", "--store", str(store)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert listing.returncode == 0
    assert "* version 2" in listing.stdout
    assert "imported: observations.csv, patients.csv, sources.csv" in listing.stdout
    undo = subprocess.run(
        [sys.executable, "-m", "carta", "versions", "--use", "1", "--store", str(store)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert undo.returncode == 0 and "* version 1" in undo.stdout
    con = open_read_only(store)
    assert con.execute(
        "SELECT count(*) FROM patients WHERE patient_id LIKE 'SITE-%'"
    ).fetchall() == [(0,)]
    con.close()
    with pytest.raises(StoreError, match="No version 9"):
        use_version(store, 9)


def test_progress_moves_within_a_large_file(store, files, monkeypatch) -> None:
    from carta.ingest import reading

    monkeypatch.setattr(reading, "BATCH_BYTES", 128)  # several batches from a dozen lines
    heard: list[tuple[float, str]] = []
    import_files(files, store, progress=lambda fraction, message: heard.append((fraction, message)))
    fractions = [f for f, _ in heard]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    within = {f for f, m in heard if m == "checking observations.csv"}
    assert len(within) > 2
    assert heard[-2][1] == "writing the new store version"
    assert heard[-1][1] == "published version 2"
