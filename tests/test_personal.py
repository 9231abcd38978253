"""No personal data at rest: one rule for personal columns and ids, applied by every reader, and
quarantine files without personal columns, dates or names."""

from __future__ import annotations

import pandas as pd
import pytest

from carta.ingest import personal
from carta.ingest.importer import import_files
from tests.test_cdisc_import import empty_store, package_with_dm, write_csv


@pytest.mark.parametrize(
    "name",
    ["Patient Name", "patient_name", "NAME", "Surname", "Nachname", "Prénom", "Cognome",
     "Apellidos", "Achternaam", "DOB", "D.O.B.", "Date of birth", "date-of-birth",
     "Geburtsdatum", "Date de naissance", "Data di nascita", "Fecha de nacimiento",
     "Födelsedatum", "MRN", "Patient MRN", "Medical record number", "NHS no", "NHS Number",
     "SSN", "Codice fiscale", "Personnummer", "BSN", "Address", "Straße", "Adresse", "PLZ",
     "Phone", "Téléphone", "Handy", "E-mail", "Email address", "Courriel", "BRTHDTC",
     "INVNAM", "Mother's maiden name", "Next of kin name"],
)  # fmt: skip
def test_personal_columns_are_recognised_in_any_spelling(name) -> None:
    assert personal.is_personal(name), name


@pytest.mark.parametrize(
    "name",
    ["patient_id", "USUBJID", "day", "CK", "ALT (U/L)", "Hb [g/L]", "code", "unit", "specimen",
     "source_id", "note", "Drug name", "LBTEST", "AETERM", "parameter name", "cohort"],
)  # fmt: skip
def test_clinical_columns_are_not_personal(name) -> None:
    assert not personal.is_personal(name), name


@pytest.mark.parametrize(
    ("patient_id", "personal_looking"),
    [("Müller, Hans", True), ("Hans Müller", True), ("van der Berg, Anna", True),
     ("2012-05-03", True), ("03/05/2012", True), ("JD-12MAR2014", True),
     ("SYN-00001", False), ("NICOLAI-2024", False), ("SITE-01", False), ("01-001", False),
     ("S1-001", False), ("P7", False), ("CART19-AI-0003", False)],
)  # fmt: skip
def test_an_id_that_looks_like_a_name_or_a_date(patient_id, personal_looking) -> None:
    assert personal.looks_like_name_or_date(patient_id) is personal_looking


def test_names_are_normalised_across_case_accents_and_punctuation() -> None:
    assert personal.normalise("  Date-de NAISSANCE ") == "date_de_naissance"
    assert personal.normalise("Straße") == "strasse"
    assert personal.normalise("Prénom") == "prenom"


SOURCES = "source_id,kind,citation\nsite-a,site,Site A records\n"


def _files(tmp_path, patients: str, observations: str | None = None):
    (tmp_path / "sources.csv").write_text(SOURCES)
    (tmp_path / "patients.csv").write_text(patients)
    files = [tmp_path / "sources.csv", tmp_path / "patients.csv"]
    if observations is not None:
        (tmp_path / "observations.csv").write_text(observations)
        files.append(tmp_path / "observations.csv")
    return files


def test_carta_format_refuses_personal_columns_and_keeps_them_out_of_quarantine(
    tmp_path, fixture_store
) -> None:
    files = _files(
        tmp_path,
        "patient_id,source_id,cohort,sex,synthetic,patient_name,dob,Telefon\n"
        "A-001,site-a,demo,F,false,Anna Schmidt,2011-04-02,+49 30 1234567\n"
        "A-002,site-a,demo,X,false,Ben Meier,2012-06-30,+49 30 7654321\n",
    )
    result = import_files(files, fixture_store, dry_run=True)
    report = next(r for r in result.files if r.table == "patients")
    refused_columns = {p.column for p in report.problems if p.reason == personal.REASON}
    assert refused_columns == {"patient_name", "dob", "Telefon"}
    result = import_files(files, fixture_store)
    report = next(r for r in result.files if r.table == "patients")
    text = report.quarantine.read_text(encoding="utf-8")
    assert "A-002" in text and "not one of F, M" in text  # the line and its reason are kept
    for value in ("Ben Meier", "2012-06-30", "7654321", "patient_name", "dob"):
        assert value not in text


def test_an_id_that_is_a_name_is_refused_and_withheld(tmp_path, fixture_store) -> None:
    files = _files(tmp_path, "patient_id,source_id,cohort,sex,synthetic\n"
                   "\"Müller, Hans\",site-a,demo,M,false\nA-003,site-a,demo,F,false\n")  # fmt: skip
    result = import_files(files, fixture_store)
    report = next(r for r in result.files if r.table == "patients")
    [problem] = [p for p in report.problems if p.reason == personal.ID_REASON]
    assert problem.value is None  # never repeated, not even on screen
    text = report.quarantine.read_text(encoding="utf-8")
    assert "Müller" not in text and personal.WITHHELD in text
    assert report.accepted == 1


def test_a_wide_sheet_refuses_name_dob_and_mrn_as_personal(tmp_path, fixture_store) -> None:
    sheet = tmp_path / "lab_export.csv"
    sheet.write_text(
        "patient_id,day,Patient Name,DOB,MRN,CK (U/L)\n"
        "SYN-00001,400,Anna Schmidt,2011-04-02,123456,120\n"
        "SYN-00001,401,Anna Schmidt,2011-04-02,123456,-5\n"
    )
    result = import_files([sheet], fixture_store, source="synthetic")
    [report] = result.files
    personal_columns = {p.column for p in report.problems if p.reason == personal.REASON}
    assert personal_columns == {"Patient Name", "DOB", "MRN"}
    assert report.accepted == 1 and report.rejected == 1
    text = report.quarantine.read_text(encoding="utf-8")
    for value in ("Anna", "2011-04-02", "123456", "Patient Name"):
        assert value not in text


def test_sdtm_personal_variables_are_refused_by_name(tmp_path) -> None:
    folder = package_with_dm(tmp_path)
    write_csv(folder / "dm.csv", "STUDYID,DOMAIN,USUBJID,RFSTDTC,RFXSTDTC,AGE,SEX,BRTHDTC,INVNAM",
              "S1,DM,S1-001,2023-01-05,2023-01-05,34,F,1989-02-01,Dr Jane Roe")  # fmt: skip
    result = import_files([folder], empty_store(tmp_path), dry_run=True)
    problems = [p for r in result.files for p in r.problems if p.reason == personal.REASON]
    assert {p.column for p in problems} == {"BRTHDTC", "INVNAM"}


def test_quarantine_rows_keep_other_values_without_dates() -> None:
    frame = pd.DataFrame(
        {"USUBJID": ["S1-001", "2012-01-01"], "LBORRES": ["12", "x"], "LBDTC": ["2023", "2023"],
         "comment": ["seen 03/05/2023", "ok"], "date": ["a", "b"]}
    )  # fmt: skip
    out = personal.for_quarantine(frame)
    assert list(out.columns) == ["USUBJID", "LBORRES"]
    assert out["USUBJID"].tolist() == ["S1-001", personal.WITHHELD]
