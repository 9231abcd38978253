"""REDCap round trip: the shipped project, a records export written here in REDCap's layout (raw
and labels), read with no mapping, checked value by value, accounted cell by cell, checked by
validate.check and published."""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import replace
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from carta import dictionary
from carta.build import build_store
from carta.display import unit_text
from carta.ingest import redcap
from carta.ingest.importer import import_files
from carta.ingest.validate import StoreFacts, check
from carta.schema import columns

SHIPPED = pd.read_csv(redcap.DICTIONARY_FILE, dtype=str, keep_default_na=False)
FIELDS = {r["Variable / Field Name"]: r for r in SHIPPED.to_dict("records")}

P1, P2 = "SITE-001", "SITE-002"
INFUSION = {P1: "2025-03-10", P2: "2025-05-02"}
CITATION = "Site A CAR T follow-up registry (REDCap)"

# The lines of the export, in REDCap's order (record, event, the event's line, then the
# instances of its repeating instruments): raw values by field, checkbox columns as field___code.
ENROLMENT_1 = {
    "source_id": "site-a", "source_citation": CITATION, "cohort": "Site A", "sex": "F",
    "age_years": "14", "race": "White", "diagnosis": "jdm", "autoantibody": "nxp2",
    "disease_duration_years": "3.5", "prior_therapies": "Methotrexate; IVIG; rituximab",
    "product": "Autologous CD19 CAR T cells", "cell_dose_per_kg": "1000000",
    "infusion_date": INFUSION[P1], "follow_up_date": "2025-09-06", "enrolment_complete": "2",
}  # fmt: skip
TREATMENT_1 = {
    "apheresis_date": "2025-02-17", "ld_drug___cy": "1", "ld_drug___flu": "1",
    "ld_drug___benda": "0", "ld_drug___other": "0", "ld_start_date": "2025-03-05",
    "ld_end_date": "2025-03-07", "ld_cy_dose": "1000", "ld_flu_dose": "75",
    "treatment_complete": "2",
}  # fmt: skip
ENROLMENT_2 = {
    "source_id": "site-a", "source_citation": CITATION, "cohort": "Site A", "sex": "M",
    "age_years": "11", "diagnosis": "other", "diagnosis_other": "Overlap myositis",
    "autoantibody": "none", "cell_dose_per_kg": "1000000", "infusion_date": INFUSION[P2],
    "follow_up_day": "90", "enrolment_complete": "2",
}  # fmt: skip
TREATMENT_2 = {
    "ld_drug___cy": "1", "ld_drug___flu": "1", "ld_drug___benda": "0", "ld_drug___other": "0",
    "ld_start_day": "-5", "ld_end_day": "-3", "ld_cy_dose": "1500", "ld_flu_dose": "90",
    "treatment_complete": "1",
}  # fmt: skip
UNTICKED = {"ld_drug___cy": "0", "ld_drug___flu": "0", "ld_drug___benda": "0",
            "ld_drug___other": "0"}  # fmt: skip
LINES = [
    # line 2
    (P1, "baseline_arm_1", "", "", ENROLMENT_1 | TREATMENT_1 | {
        "visit_date": "2025-03-04", "ck": "2400", "crp": "12.5", "anc": "3.1", "cd19": "150",
        "igg": "6.2", "labs_complete": "2", "vitals_complete": "0",
        "score_date": "2025-03-04", "cmas": "30", "pga": "6.5", "scores_complete": "2"}),
    # line 3
    (P1, "day_7_arm_1", "", "", UNTICKED | {
        "visit_date": "2025-03-17", "ck": "300", "anc": "0.4", "cd19_qual": "nd", "crp": "0.5",
        "crp_qual": "lt", "cart": "45", "labs_complete": "2", "score_day": "7", "cmas": "38",
        "scores_complete": "1"}),
    # lines 4 and 5: the repeating adverse events instrument, two instances
    (P1, "day_7_arm_1", "adverse_events", "1", {
        "ae_term": "Cytokine release syndrome", "ae_grade": "1", "ae_grading_system": "astct2019",
        "ae_onset_date": "2025-03-11", "ae_end_date": "2025-03-13", "ae_serious": "0",
        "ae_treatment": "Tocilizumab", "adverse_events_complete": "2"}),
    (P1, "day_7_arm_1", "adverse_events", "2", {
        "ae_term": "Neutropenia", "ae_grade": "3", "ae_grading_system": "ctcae50",
        "ae_severity": "severe", "ae_onset_day": "5", "ae_end_day": "20", "ae_serious": "1",
        "adverse_events_complete": "2"}),
    # line 6
    (P1, "day_7_arm_1", "medications", "1", {
        "med_name": "Tocilizumab", "med_start_day": "1", "med_end_day": "1", "med_dose": "8",
        "med_dose_unit": "mg/kg", "med_dose_basis": "per_dose", "medications_complete": "2"}),
    # line 7: one bad value (ferritin)
    (P1, "day_28_arm_1", "", "", UNTICKED | {
        "visit_day": "28", "ck": "120", "anc": "1.8", "ferritin": "12a0", "labs_complete": "1"}),
    # line 8
    (P2, "baseline_arm_1", "", "", ENROLMENT_2 | TREATMENT_2 | {
        "visit_day": "-2", "ck": "5000", "ldh": "800", "labs_complete": "2"}),
    # line 9: an impossible date: the visit's values are refused with it
    (P2, "day_7_arm_1", "", "", UNTICKED | {
        "visit_date": "2025-02-30", "ck": "800", "anc": "0.9", "labs_complete": "1"}),
    # line 10
    (P2, "day_7_arm_1", "adverse_events", "1", {
        "ae_term": "ICANS", "ae_grade": "0", "ae_grading_system": "astct2019",
        "adverse_events_complete": "2"}),
    # line 11: scores with neither date nor day take the event as their timing
    (P2, "day_28_arm_1", "", "", UNTICKED | {
        "visit_date": "2025-05-30", "crp": "200", "crp_qual": "gt", "cd19": "12",
        "labs_complete": "2", "cmas": "45", "scores_complete": "2"}),
]  # fmt: skip
WRITTEN_DATES = {v for *_, values in LINES for k, v in values.items() if k.endswith("_date")} | set(
    INFUSION.values()
)
BAD = {(7, "ferritin"), (9, "visit_date"), (9, "ck"), (9, "anc")}


def export_layout(fields: dict) -> list[tuple[str, str, str, str | None]]:
    """(raw header, label header, field, choice) in REDCap's export order: the record id, the
    event and repeat columns, the data access group, then each form's fields (a checkbox as one
    column per choice) followed by its status column."""
    out = [
        ("record_id", fields["record_id"]["Field Label"], "record_id", None),
        ("redcap_event_name", "Event Name", "redcap_event_name", None),
        ("redcap_repeat_instrument", "Repeat Instrument", "redcap_repeat_instrument", None),
        ("redcap_repeat_instance", "Repeat Instance", "redcap_repeat_instance", None),
        ("redcap_data_access_group", "Data Access Group", "redcap_data_access_group", None),
    ]
    forms = list(dict.fromkeys(r["Form Name"] for r in fields.values()))
    for form in forms:
        for name, r in fields.items():
            if r["Form Name"] != form or name == "record_id":
                continue
            if r["Field Type"] == "checkbox":
                for code, label in choices(r):
                    out.append((f"{name}___{code}", f"{r['Field Label']} (choice={label})",
                                name, code))  # fmt: skip
            else:
                out.append((name, r["Field Label"], name, None))
        out.append((f"{form}_complete", "Complete?", f"{form}_complete", None))
    return out


def choices(r: dict) -> list[tuple[str, str]]:
    text = r["Choices, Calculations, OR Slider Labels"]
    return [tuple(p.strip() for p in c.split(",", 1)) for c in text.split("|") if c.strip()]


def label_value(name: str, choice: str | None, raw: str, fields: dict) -> str:
    """A raw value as REDCap's labels export writes it."""
    if not raw:
        return raw
    if name == "redcap_event_name":
        event = dict((u, n) for n, u, _ in redcap.EVENTS)[raw]
        return f"{event} (Arm 1: Arm 1)"
    if name == "redcap_repeat_instrument":
        return raw.replace("_", " ").title()
    if name.endswith("_complete"):
        return {"0": "Incomplete", "1": "Unverified", "2": "Complete"}[raw]
    r = fields.get(name)
    if r is None:
        return raw
    if r["Field Type"] == "checkbox":
        return "Checked" if raw == "1" else "Unchecked"
    if r["Field Type"] == "yesno":
        return {"1": "Yes", "0": "No"}[raw]
    if r["Field Type"] in ("radio", "dropdown"):
        return dict(choices(r))[raw]
    return raw


def write_export(path: Path, layout: str = "raw", lines=LINES, fields=FIELDS, extra=None) -> Path:
    cols = export_layout(fields)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([c[0] if layout == "raw" else c[1] for c in cols])
        for record, event, instrument, instance, values in lines:
            values = {"record_id": record, "redcap_event_name": event,
                      "redcap_repeat_instrument": instrument, "redcap_repeat_instance": instance,
                      "redcap_data_access_group": "site_a", **values, **(extra or {})}  # fmt: skip
            row = []
            for raw_name, _, name, _choice in cols:
                raw = values.get(raw_name, "")
                row.append(raw if layout == "raw" else label_value(name, _choice, raw, fields))
            writer.writerow(row)
    return path


def day(date: str, patient: str) -> int:
    return (dt.date.fromisoformat(date) - dt.date.fromisoformat(INFUSION[patient])).days


EXPECTED_OBSERVATIONS = {
    # (patient, day, code, value, unit, specimen, qualifier, timing)
    (P1, day("2025-03-04", P1), "CK", 2400.0, "U/L", "blood", None, None),
    (P1, -6, "CRP", 12.5, "mg/L", "blood", None, None),
    (P1, -6, "ANC", 3.1, "10*9/L", "blood", None, None),
    (P1, -6, "CD19", 150.0, "{cells}/uL", "blood", None, None),
    (P1, -6, "IGG", 6.2, "g/L", "blood", None, None),
    (P1, -6, "CMAS", 30.0, "{score}", "blood", None, None),
    (P1, -6, "PGA", 6.5, "cm", "blood", None, None),
    (P1, day("2025-03-17", P1), "CK", 300.0, "U/L", "blood", None, None),
    (P1, 7, "ANC", 0.4, "10*9/L", "blood", None, None),
    (P1, 7, "CD19", None, "{cells}/uL", "blood", "not_detected", None),
    (P1, 7, "CRP", 0.5, "mg/L", "blood", "<", None),
    (P1, 7, "CART", 45.0, "{cells}/uL", "blood", None, None),
    (P1, 7, "CMAS", 38.0, "{score}", "blood", None, None),
    (P1, 28, "CK", 120.0, "U/L", "blood", None, None),
    (P1, 28, "ANC", 1.8, "10*9/L", "blood", None, None),
    (P2, -2, "CK", 5000.0, "U/L", "blood", None, None),
    (P2, -2, "LDH", 800.0, "U/L", "blood", None, None),
    (P2, day("2025-05-30", P2), "CRP", 200.0, "mg/L", "blood", ">", None),
    (P2, 28, "CD19", 12.0, "{cells}/uL", "blood", None, None),
    (P2, None, "CMAS", 45.0, "{score}", "blood", None, "Day 28"),
}
EXPECTED_PATIENTS = {
    # (patient, source, cohort, sex, age, race, diagnosis, autoantibody, duration, prior, product,
    #  dose, follow-up days, synthetic)
    (P1, "site-a", "Site A", "F", 14.0, "White", "Juvenile dermatomyositis", "anti-NXP2", 3.5,
     "Methotrexate; IVIG; rituximab", "Autologous CD19 CAR T cells", 1e6,
     day("2025-09-06", P1), False),
    (P2, "site-a", "Site A", "M", 11.0, None, "Overlap myositis", "None detected", None, None,
     None, 1e6, 90, False),
}  # fmt: skip
EXPECTED_EVENTS = {
    # (patient, kind, name, start, end, dose, unit, basis)
    (P1, "infusion", "CD19 CAR T infusion", 0, 0, 1e6, "cells/kg", "per_dose"),
    (P1, "apheresis", "Leukapheresis", day("2025-02-17", P1), None, None, None, None),
    (P1, "lymphodepletion", "Cyclophosphamide", -5, -3, 1000.0, "mg/m2", "total"),
    (P1, "lymphodepletion", "Fludarabine", -5, -3, 75.0, "mg/m2", "total"),
    (P1, "medication", "Tocilizumab", 1, 1, 8.0, "mg/kg", "per_dose"),
    (P2, "infusion", "CD19 CAR T infusion", 0, 0, 1e6, "cells/kg", "per_dose"),
    (P2, "lymphodepletion", "Cyclophosphamide", -5, -3, 1500.0, "mg/m2", "total"),
    (P2, "lymphodepletion", "Fludarabine", -5, -3, 90.0, "mg/m2", "total"),
}
EXPECTED_AES = {
    # (patient, term, grade, grading system, onset, end, serious, treatment)
    (P1, "Cytokine release syndrome", 1, "ASTCT 2019", 1, 3, False, "Tocilizumab"),
    (P1, "Neutropenia", 3, "CTCAE v5.0", 5, 20, True, None),
    (P2, "ICANS", 0, "ASTCT 2019", None, None, None, None),
}


def tuples(frame: pd.DataFrame, names: list[str]) -> set[tuple]:
    out = set()
    for row in frame[names].itertuples(index=False):
        out.add(tuple(None if pd.isna(v) else v for v in row))
    return out


def by_table(tables) -> dict:
    return {t.table: t for t in tables}


@pytest.fixture(params=["raw", "labels"])
def export(request, tmp_path: Path) -> Path:
    return write_export(tmp_path / f"records_{request.param}.csv", request.param)


# --- the shipped project -------------------------------------------------------------------------


def test_dictionary_has_redcaps_layout_and_a_field_per_parameter() -> None:
    assert tuple(SHIPPED.columns) == redcap.DICTIONARY_COLUMNS
    assert next(iter(FIELDS)) == "record_id"
    params = dictionary.parameters()  # read at run time: new codes must have their field
    for p in params.itertuples():
        name = redcap.field_name(p.code)
        assert name in FIELDS, f"{p.code}: no field {name}; run python -m carta.ingest.redcap"
        r = FIELDS[name]
        assert r["Form Name"] == redcap.form_of(p.domain)
        assert r["Field Note"].startswith(unit_text(p.unit))
        assert r["Text Validation Type OR Show Slider Number"] == "number"
        if r["Form Name"] == "labs":
            qual = FIELDS[f"{name}_qual"]
            assert [c for c, _ in choices(qual)] == list(redcap.QUALIFIERS)
    for name, r in FIELDS.items():
        assert re.fullmatch(r"[a-z][a-z0-9_]*", name) and "___" not in name, name
        assert r["Field Type"] in {"text", "notes", "radio", "dropdown", "checkbox", "yesno"}
    labels = [r["Field Label"] for r in FIELDS.values()]
    assert len(labels) == len(set(labels)), "a labels export maps headers back by label"
    assert FIELDS["ae_grade"]["Choices, Calculations, OR Slider Labels"].startswith("0, ")
    assert not any(r["Identifier?"] for r in FIELDS.values())


def test_shipped_files_are_the_generated_project(tmp_path: Path) -> None:
    written = redcap.write_project(tmp_path)
    for path in written:
        shipped = redcap.PROJECT_DIR / path.name
        assert shipped.read_text(encoding="utf-8") == path.read_text(encoding="utf-8"), (
            f"data/redcap/{path.name} is out of date: run python -m carta.ingest.redcap"
        )
    assert (redcap.PROJECT_DIR / "README.md").exists()


def test_events_mapping_and_repeating_instruments_fit_the_dictionary() -> None:
    events = pd.read_csv(redcap.EVENTS_FILE, dtype=str, keep_default_na=False)
    assert list(events.columns) == ["event_name", "arm_num", "unique_event_name",
                                    "custom_event_label"]  # fmt: skip
    for name, unique in zip(events["event_name"], events["unique_event_name"], strict=True):
        # REDCap's rule: lower case, spaces as underscores, other characters dropped, the arm.
        assert unique == re.sub(r"[^a-z0-9_]", "", name.lower().replace(" ", "_")) + "_arm_1"
    mapping = pd.read_csv(redcap.MAPPING_FILE, dtype=str, keep_default_na=False)
    assert list(mapping.columns) == ["arm_num", "unique_event_name", "form"]
    forms = set(SHIPPED["Form Name"])
    assert set(mapping["form"]) == forms
    assert set(mapping["unique_event_name"]) <= set(events["unique_event_name"])
    repeating = pd.read_csv(redcap.REPEATING_FILE, dtype=str, keep_default_na=False)
    assert list(repeating.columns) == ["event_name", "form_name", "custom_form_label"]
    assert set(repeating["form_name"]) - {""} == {"adverse_events", "medications"}
    designated = set(zip(mapping["unique_event_name"], mapping["form"], strict=True))
    for event, form in zip(repeating["event_name"], repeating["form_name"], strict=True):
        assert not form or (event, form) in designated


# --- the round trip ------------------------------------------------------------------------------


def test_recognised_by_content(export: Path, tmp_path: Path) -> None:
    assert redcap.is_redcap_export(export)
    wide = tmp_path / "sheet.csv"
    wide.write_text("patient_id,day,source_id,CK\nP1,0,site-a,100\n", encoding="utf-8")
    lb = tmp_path / "lb.csv"
    lb.write_text("STUDYID,USUBJID,LBTESTCD,LBORRES\ns,P1,CK,100\n", encoding="utf-8")
    own = tmp_path / "patients.csv"
    own.write_text(",".join(columns("patients")) + "\n", encoding="utf-8")
    assert not any(redcap.is_redcap_export(p) for p in (wide, lb, own))


def test_every_value_comes_back(export: Path) -> None:
    tables = by_table(redcap.read_redcap(export))
    assert list(tables) == list(redcap.TABLES)
    obs = tables["observations"].rows
    got = tuples(obs, ["patient_id", "day", "code", "value", "unit", "specimen", "qualifier",
                       "timing"])  # fmt: skip
    assert got == EXPECTED_OBSERVATIONS
    assert set(obs["source_id"]) == {"site-a"}
    assert (obs.groupby("line").size().to_dict()) == {2: 7, 3: 6, 7: 2, 8: 2, 11: 3}
    patients = tables["patients"].rows
    assert tuples(patients, ["patient_id", "source_id", "cohort", "sex", "age_years", "race",
                             "diagnosis", "autoantibody", "disease_duration_years",
                             "prior_therapies", "product", "cell_dose_per_kg",
                             "follow_up_days", "synthetic"]) == EXPECTED_PATIENTS  # fmt: skip
    assert tuples(tables["sources"].rows, ["source_id", "kind", "citation"]) == {
        ("site-a", "site", CITATION)
    }
    events = tables["events"].rows
    assert tuples(events, ["patient_id", "kind", "name", "start_day", "end_day", "dose",
                           "dose_unit", "dose_basis"]) == EXPECTED_EVENTS  # fmt: skip
    aes = tables["adverse_events"].rows
    assert tuples(aes, ["patient_id", "term", "grade", "grading_system", "onset_day",
                        "end_day", "serious", "treatment"]) == EXPECTED_AES  # fmt: skip
    assert list(aes["line"]) == [4, 5, 10]
    assert list(aes["note"]) == ["REDCap adverse_events #1", "REDCap adverse_events #2",
                                 "REDCap adverse_events #1"]  # fmt: skip
    if "severity" in aes:
        assert list(aes["severity"].fillna("")) == ["", "severe", ""]
    for t in tables.values():
        assert list(t.rows.columns) == ["line", *columns(t.table)]


def test_refused_with_reasons(export: Path) -> None:
    tables = redcap.read_redcap(export)
    refused = {
        (p.row, p.column): p for t in tables for p in t.problems
        if p.row is not None and not p.is_warning
    }  # fmt: skip
    header = list(pd.read_csv(export, nrows=0).columns)
    raw = [c[0] for c in export_layout(FIELDS)]
    name = dict(zip(raw, header, strict=True))
    assert set(refused) == {(7, name["ferritin"]), (9, name["visit_date"])}
    assert refused[(7, name["ferritin"])].value == "12a0"
    assert refused[(7, name["ferritin"])].reason.startswith("not a number")
    impossible = refused[(9, name["visit_date"])]
    assert impossible.value is None  # a date is never echoed
    assert "not a real calendar date" in impossible.reason
    # Whole columns refused: the form status, the data access group; nothing else.
    whole = [p for t in tables for p in t.problems if p.row is None]
    assert {p.reason for p in whole} == {redcap._STATUS, redcap._SPECIAL_RAW[
        "redcap_data_access_group"][1]}  # fmt: skip
    assert not any(p.is_warning for t in tables for p in t.problems)


def test_every_cell_is_accounted_for(export: Path) -> None:
    text = pd.read_csv(export, dtype=str, keep_default_na=False)
    cells = {
        (line + 2, column) for column in text.columns for line in range(len(text))
        if text.at[line, column] != ""
    }  # fmt: skip
    ledger = redcap.account(export)
    assert len(ledger) == len(cells) == len(set(zip(ledger["line"], ledger["column"], strict=True)))
    assert set(zip(ledger["line"], ledger["column"], strict=True)) == cells
    counts = ledger["outcome"].value_counts().to_dict()
    assert set(counts) <= {"stored", "read", "refused", "not stored"}
    assert sum(counts.values()) == len(cells)  # accepted (stored, read) + refused
    header = dict(zip([c[0] for c in export_layout(FIELDS)], text.columns, strict=True))
    fate = {(r.line, r.column): r.outcome for r in ledger.itertuples()}
    assert {c for c, o in fate.items() if o == "refused"} == {(ln, header[c]) for ln, c in BAD}
    assert fate[(2, header["ck"])] == "stored"
    assert fate[(2, header["record_id"])] == "stored"
    assert fate[(2, header["infusion_date"])] == "read"  # day 0, never stored
    assert fate[(2, header["visit_date"])] == "read"  # made study day -6
    assert fate[(2, header["ld_drug___cy"])] == "stored"
    assert fate[(2, header["ld_drug___benda"])] == "read"  # unticked
    assert fate[(3, header["ld_drug___cy"])] == "read"
    assert fate[(2, header["redcap_data_access_group"])] == "not stored"
    assert fate[(2, header["enrolment_complete"])] == "not stored"
    assert fate[(8, header["source_citation"])] == "stored"  # the same source, given again
    # The refused and not-stored cells each have their problem.
    problems = redcap.read_redcap(export)
    rows = {p.row for t in problems for p in t.problems if p.row is not None}
    whole = {c.strip() for t in problems for p in t.problems if p.row is None
             for c in p.column.split(", ")}  # fmt: skip
    for r in ledger.itertuples():
        if r.outcome == "refused":
            assert r.line in rows and r.reason
        if r.outcome == "not stored":
            assert r.column in whole and r.reason


def test_raw_and_labels_give_the_same_rows(tmp_path: Path) -> None:
    raw = by_table(redcap.read_redcap(write_export(tmp_path / "raw.csv", "raw")))
    labels = by_table(redcap.read_redcap(write_export(tmp_path / "labels.csv", "labels")))
    for table in redcap.TABLES:
        pd.testing.assert_frame_equal(raw[table].rows, labels[table].rows)


def test_no_date_anywhere(export: Path) -> None:
    tables = redcap.read_redcap(export)
    ledger = redcap.account(export)
    iso = re.compile(r"\d{4}-\d{2}-\d{2}")
    for t in tables:
        for column in t.rows.columns:
            text = t.rows[column].astype("string").dropna()
            assert not text.str.contains(iso).any(), (t.table, column)
        for p in t.problems:
            said = f"{p.value} {p.reason}"
            assert not iso.search(said) and not any(d in said for d in WRITTEN_DATES), p
    assert not ledger["reason"].dropna().str.contains(iso).any()


def facts_for(tables: dict) -> StoreFacts:
    """As importer.import_files builds them for an empty store, then updated by the patients and
    sources of the import."""
    patients = tables["patients"].rows
    return StoreFacts(
        patients=dict(zip(patients["patient_id"], patients["follow_up_days"], strict=True)),
        sources=set(tables["sources"].rows["source_id"]),
        parameters=dictionary.parameters().set_index("code"),
        codes=dictionary.code_lookup(),
    )


def checked(tables: dict) -> dict[str, tuple[pd.DataFrame, list]]:
    """validate.check as the importer runs it on a reader's rows: under a running index, each
    problem then named by its line in the file."""
    facts = facts_for(tables)
    out = {}
    for name, t in tables.items():
        long = t.rows.reset_index(drop=True)
        rows, found = check(replace(t, rows=long), facts)
        found = [replace(p, row=int(long.at[p.row, "line"])) if p.row is not None else p
                 for p in found]  # fmt: skip
        out[name] = rows, found
    return out


def test_rows_pass_the_importers_checks(export: Path) -> None:
    tables = by_table(redcap.read_redcap(export))
    for name, (rows, found) in checked(tables).items():
        assert len(rows) == len(tables[name].rows), (name, found)
        assert not [p for p in found if not p.is_warning], found


def test_published_into_a_store(export: Path, tmp_path: Path) -> None:
    """The accepted rows, written as Carta's own files, publish through import_files."""
    store = build_store(tmp_path / "store" / "carta.duckdb", n_patients=0,
                        include_published=False).path  # fmt: skip
    tables = by_table(redcap.read_redcap(export))
    folder = tmp_path / "carta"
    folder.mkdir()
    files = []
    for name, (rows, _) in checked(tables).items():
        path = folder / f"{name}.csv"
        rows.drop(columns="line").to_csv(path, index=False)
        files.append(path)
    result = import_files(files, store)
    assert result.version is not None, [(r.file.name, r.problems) for r in result.files]
    assert not [p for r in result.files for p in r.problems if not p.is_warning]
    assert_store_holds_the_export(store)


def assert_store_holds_the_export(store: Path) -> None:
    con = duckdb.connect(str(store), read_only=True)
    try:
        counts = {
            t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # schema table names
            for t in redcap.TABLES
        }
        assert counts == {"sources": 1, "patients": 2, "observations": 20, "events": 8,
                          "adverse_events": 3}  # fmt: skip
        obs = con.execute("SELECT patient_id, day, code, value FROM observations").df()
        assert tuples(obs, ["patient_id", "day", "code", "value"]) == {
            (p, d, c, v) for p, d, c, v, *_ in EXPECTED_OBSERVATIONS
        }
        for table in redcap.TABLES:
            frame = con.execute(f"SELECT * FROM {table}").df()  # schema table names
            for column in frame.columns:
                text = frame[column].astype("string").dropna()
                assert not text.str.contains(r"\d{4}-\d{2}-\d{2}").any(), (table, column)
    finally:
        con.close()


def test_published_by_the_importer_itself(tmp_path: Path) -> None:
    """import_files given the export: possible once the importer dispatches REDCap exports to
    carta.ingest.redcap (the hook in importer._other_format)."""
    store = build_store(tmp_path / "store" / "carta.duckdb", n_patients=0,
                        include_published=False).path  # fmt: skip
    export = write_export(tmp_path / "records_raw.csv")
    result = import_files([export], store)
    if result.version is None and all(r.table is None and r.status == "refused"
                                      for r in result.files):  # fmt: skip
        pytest.skip("importer.import_files does not dispatch REDCap exports yet")
    assert result.version is not None
    assert_store_holds_the_export(store)


def test_published_through_the_importers_reading_path(tmp_path: Path, monkeypatch) -> None:
    """The export through import_files as the hook would take it: a reading of several tables
    checked by importer._check_reading (here in place of a CDISC package), published, and its
    refused lines written to quarantine files without a date."""
    from carta.ingest import importer

    if not all(hasattr(importer, n) for n in ("_check_reading", "_is_cdisc", "cdisc_reader")):
        pytest.skip("the importer has no path for readings of several tables")
    monkeypatch.setattr(importer, "_is_cdisc", redcap.is_redcap_export)
    monkeypatch.setattr(importer.cdisc_reader, "read_package",
                        lambda paths, *_: ([redcap.reading(p) for p in paths], []))  # fmt: skip
    store = build_store(tmp_path / "store" / "carta.duckdb", n_patients=0,
                        include_published=False).path  # fmt: skip
    export = write_export(tmp_path / "records_raw.csv")
    result = import_files([export], store)
    assert result.version is not None
    assert [r.table for r in result.files] == list(redcap.TABLES)
    assert {r.table: r.rejected for r in result.files}["observations"] == 2  # lines 7 and 9
    assert_store_holds_the_export(store)
    quarantined = [r.quarantine for r in result.files if r.quarantine]
    assert len(quarantined) == 1
    text = quarantined[0].read_text(encoding="utf-8")
    assert "12a0" in text and "ferritin" in text
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text)
    assert "site_a" not in text  # the data access group is not written either


# --- what is refused -----------------------------------------------------------------------------


def test_identifiers_personal_columns_and_unused_dates_are_refused_whole(tmp_path: Path) -> None:
    """A site's own dictionary, with fields it added: flagged identifiers, a date of birth and a
    consent date. Nothing of them reaches a row, a problem or the ledger's reasons."""
    added = [
        redcap._field("initials", "enrolment", "text", "Initials", identifier="y"),
        redcap._field(
            "dob", "enrolment", "text", "Date of birth", validation="date_ymd", identifier="y"
        ),
        redcap._field("consent_date", "enrolment", "text", "Consent", validation="date_ymd"),
        redcap._field("hospital_number", "enrolment", "text", "Hospital number"),
    ]
    site = pd.concat([SHIPPED.iloc[:3], pd.DataFrame(added), SHIPPED.iloc[3:]])
    site_file = tmp_path / "site_dictionary.csv"
    site.to_csv(site_file, index=False)
    fields = {r["Variable / Field Name"]: r for r in site.to_dict("records")}
    personal = {"initials": "AB", "dob": "2011-04-05", "consent_date": "2025-01-20",
                "hospital_number": "H123456"}  # fmt: skip
    lines = [(*LINES[0][:4], {**LINES[0][4], **personal}), *LINES[1:]]
    export = write_export(tmp_path / "site.csv", lines=lines, fields=fields)
    tables = redcap.read_redcap(export, dictionary=site_file)
    ledger = redcap.account(export, dictionary=site_file)
    whole = {p.column: p.reason for t in tables for p in t.problems if p.row is None}
    assert whole["initials, dob"] == redcap._IDENTIFIER
    assert whole["consent_date"] == redcap._UNUSED_DATE
    assert whole["hospital_number"] == redcap._PERSONAL
    for name in personal:
        assert ledger.loc[ledger["column"] == name, "outcome"].tolist() == ["not stored"]
    said = " ".join(
        [str(v) for t in tables for c in t.rows.columns for v in t.rows[c].dropna()]
        + [f"{p.value} {p.reason}" for t in tables for p in t.problems]
    )
    assert not any(v in said for v in personal.values())
    # The rest of the export reads as before.
    assert tuples(by_table(tables)["observations"].rows, ["patient_id", "day", "code", "value",
                  "unit", "specimen", "qualifier", "timing"]) == EXPECTED_OBSERVATIONS  # fmt: skip


def test_a_personal_record_id_refuses_the_file(tmp_path: Path) -> None:
    export = tmp_path / "mrn.csv"
    export.write_text("mrn,redcap_event_name,ck\n1234567,baseline_arm_1,100\n", encoding="utf-8")
    tables = redcap.read_redcap(export)
    assert all(t.rows.empty for t in tables)
    assert set(redcap.account(export)["outcome"]) == {"not stored"}


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("2025-03", "a partial date"),
        ("2025", "a partial date"),
        ("04/03/2025", "not a date as REDCap exports it"),
        ("2025-13-01", "not a real calendar date"),
        ("yesterday", "not a date as REDCap exports it"),
    ],
)
def test_partial_and_unreadable_dates(tmp_path: Path, written: str, reason: str) -> None:
    lines = [LINES[0], (P1, "day_7_arm_1", "", "", {"visit_date": written, "ck": "300"})]
    export = write_export(tmp_path / "dates.csv", lines=lines)
    tables = by_table(redcap.read_redcap(export))
    problem = next(p for p in tables["observations"].problems if p.row == 3)
    assert problem.column == "visit_date" and problem.value is None
    assert reason in problem.reason
    assert 300.0 not in set(tables["observations"].rows["value"])
    ledger = redcap.account(export)
    assert ledger.loc[ledger["line"] == 3].set_index("column")["outcome"].to_dict() == {
        "record_id": "read", "redcap_event_name": "read", "redcap_data_access_group":
        "not stored", "visit_date": "refused", "ck": "refused"}  # fmt: skip


def test_more_refusals(tmp_path: Path) -> None:
    lines = [
        (P1, "baseline_arm_1", "", "", ENROLMENT_1 | {
            "prior_therapies": "rituximab 12.03.2024", "age_years": "fourteen"}),
        # a date without the record's infusion date, a qualifier without its limit, a day that
        # disagrees with the date, a dose for a drug not ticked
        (P2, "baseline_arm_1", "", "", {"source_id": "site-a", "cohort": "Site A",
                                        "visit_date": "2025-03-01", "ck": "1"}),
        (P1, "day_7_arm_1", "", "", {"visit_date": "2025-03-17", "visit_day": "8", "ck": "300"}),
        (P1, "day_14_arm_1", "", "", {"visit_day": "14", "anc_qual": "lt"}),
        (P1, "day_28_arm_1", "", "", {"ld_drug___cy": "0", "ld_benda_dose": "90",
                                      "score_day": "28", "cmas": "abc"}),
    ]  # fmt: skip
    export = write_export(tmp_path / "more.csv", lines=lines)
    tables = redcap.read_redcap(export)
    found = {(p.row, p.column): p.reason for t in tables for p in t.problems if p.row}
    assert found[(2, "prior_therapies")].startswith("warning: prior_therapies: holds what looks")
    assert found[(2, "age_years")].startswith("warning: age_years: not a number")
    assert "infusion date" in found[(3, "visit_date")]
    assert "disagrees with visit_date" in found[(4, "visit_day")]
    assert "needs the assay limit" in found[(5, "anc_qual")]
    assert "not ticked" in found[(6, "ld_benda_dose")]
    assert found[(6, "cmas")].startswith("not a number")
    t = by_table(tables)
    patient = t["patients"].rows.set_index("patient_id")
    assert pd.isna(patient.at[P1, "prior_therapies"]) and pd.isna(patient.at[P1, "age_years"])
    assert t["observations"].rows.empty
    said = " ".join(f"{p.value} {p.reason}" for x in tables for p in x.problems)
    assert "12.03.2024" not in said and "2025-03-17" not in said
    ledger = redcap.account(export)
    assert "refused" in set(ledger["outcome"]) and ledger["outcome"].notna().all()


def test_another_project_with_a_mapping_file(tmp_path: Path) -> None:
    mapping_file = tmp_path / "mapping.csv"
    mapping_file.write_text(
        "name,code\nsite,source_id\ncite,source_citation\ngrp,cohort\ninf_dt,infusion_date\n"
        "lab_dt,visit_date\nck_ul,CK\n",
        encoding="utf-8",
    )
    mapping = redcap.read_mapping(mapping_file)
    export = tmp_path / "other.csv"
    export.write_text(
        "study_no,redcap_event_name,site,cite,grp,inf_dt,patient_name,lab_dt,ck_ul,hb,mood\n"
        "7,screening_arm_1,site-b,Site B registry,Site B,2025-01-10,Jane Example,2025-01-03,"
        "2400,12.1,good\n"
        "7,week_2_arm_1,,,,,,2025-01-24,310,9.8,\n",
        encoding="utf-8",
    )
    assert redcap.is_redcap_export(export)
    tables = by_table(redcap.read_redcap(export, mapping))
    obs = tables["observations"].rows
    assert tuples(obs, ["patient_id", "day", "code", "value", "unit"]) == {
        ("7", -7, "CK", 2400.0, None), ("7", 14, "CK", 310.0, None),
        ("7", -7, "HGB", 12.1, None), ("7", 14, "HGB", 9.8, None),
    }  # fmt: skip
    assert tuples(tables["patients"].rows, ["patient_id", "source_id", "cohort"]) == {
        ("7", "site-b", "Site B")
    }
    whole = {p.column: p.reason for t in tables.values() for p in t.problems if p.row is None}
    assert whole["patient_name"] == redcap._PERSONAL
    assert whole["mood"] == redcap._UNKNOWN
    # No unit given: CK (U/L or µkat/L) and Hb (g/dL or mmol/L) read alike in their common
    # units, so validate.check refuses them rather than take the dictionary unit by guess.
    rows, found = checked(tables)["observations"]
    assert rows.empty and {p.reason.split(",")[0] for p in found} == {
        "CK has no unit", "HGB has no unit"}  # fmt: skip
    said = " ".join(f"{p.value} {p.reason}" for t in tables.values() for p in t.problems)
    assert "Jane" not in said


def test_mapping_file_codes_must_exist(tmp_path: Path) -> None:
    bad = tmp_path / "mapping.csv"
    bad.write_text("name,code\nfoo,NOT_A_CODE\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not a parameter code or project field"):
        redcap.read_mapping(bad)
