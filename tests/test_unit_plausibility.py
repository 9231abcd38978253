"""No value taken at face value without a unit: a test column without a unit takes the dictionary
unit only when its values are plausible in it (data/reference/plausible_ranges.csv), and a value
that comes with a unit must still be plausible once converted. Every row is accounted for."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from carta import dictionary
from carta.build import build_store
from carta.ingest.importer import import_files
from carta.schema import columns
from carta.store import open_read_only


def table_csv(table: str, rows: list[dict]) -> str:
    """A file of Carta's own format with every column of `table`, the cells not given empty."""
    names = columns(table)
    return "\n".join([",".join(names), *(",".join(r.get(c, "") for c in names) for r in rows)])


SOURCES = table_csv("sources", [{"source_id": "site-u", "kind": "site",
                                 "citation": "Site U lab export"}])  # fmt: skip
PATIENTS = table_csv("patients", [
    {"patient_id": p, "source_id": "site-u", "cohort": "Site U", "sex": "F", "age_years": "10",
     "follow_up_days": "240", "synthetic": "false"}
    for p in ("U-01", "U-02")
])  # fmt: skip


NO_UNIT = "has no unit and is not plausible in ×10⁹/L (0–100): give the unit"


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """An empty store: the centre's sources and patients come in the same import as the labs."""
    return build_store(
        tmp_path / "store" / "carta.duckdb", n_patients=0, include_published=False
    ).path


def centre(tmp_path: Path, name: str, text: str) -> list[Path]:
    folder = tmp_path / "centre"
    folder.mkdir(exist_ok=True)
    (folder / "sources.csv").write_text(SOURCES, encoding="utf-8")
    (folder / "patients.csv").write_text(PATIENTS, encoding="utf-8")
    (folder / name).write_text(text, encoding="utf-8")
    return [folder / "sources.csv", folder / "patients.csv", folder / name]


def labs(result, name: str):
    return next(r for r in result.files if r.file.name == name)


def refused(report) -> dict[int, list[str]]:
    """Refused line -> its reasons (warnings are imported, so not refusals)."""
    out: dict[int, list[str]] = {}
    for p in report.problems:
        if p.row is not None and not p.is_warning:
            out.setdefault(p.row, []).append(p.reason)
    return out


def stored(store: Path, sql: str) -> list[tuple]:
    con = open_read_only(store)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_every_dictionary_code_has_a_plausible_range() -> None:
    params = dictionary.parameters().set_index("code")
    ranges = dictionary.plausible_ranges()
    assert not ranges["code"].duplicated().any()
    missing = sorted(set(params.index) - set(ranges["code"]))
    assert not missing, f"data/reference/plausible_ranges.csv has no row for {missing}"
    assert set(ranges["code"]) <= set(params.index), "a range for a code the dictionary lacks"
    ranges = ranges.set_index("code")
    # In the dictionary unit, bounds in order, and a note saying what each bound rests on.
    assert (ranges["unit"] == params.loc[ranges.index, "unit"]).all()
    assert ranges["plausible_low"].notna().all()
    assert (ranges["plausible_low"] >= 0).all()
    high = ranges["plausible_high"].dropna()
    assert (high > ranges.loc[high.index, "plausible_low"]).all()
    assert ranges["source_note"].str.contains(r"\[[CPU]\]").all()
    # A score's plausible range is its scale, or the widest of its scales (MMT8: 0-150).
    scores = params[params["domain"] == "score"]
    scales = dictionary.parameter_scales().groupby("code")["scale_max"].max()
    pd.testing.assert_series_equal(
        ranges.loc[scores.index, "plausible_low"],
        scores["scale_min"],
        check_names=False,
        check_dtype=False,
    )
    pd.testing.assert_series_equal(
        ranges.loc[scores.index, "plausible_high"],
        scales.reindex(scores.index).fillna(scores["scale_max"]),
        check_names=False,
        check_dtype=False,
    )


def test_the_loader_gives_a_copy() -> None:
    first = dictionary.plausible_ranges()
    first.loc[:, "plausible_high"] = -1
    assert (dictionary.plausible_ranges()["plausible_high"].dropna() > 0).all()


def test_anc_450_without_a_unit_is_refused_with_the_reason_and_not_stored(store, tmp_path):
    # The bug: 450 (a count in cells/µL) was stored as 450 x10^9/L, grade 0.
    files = centre(tmp_path, "labs.csv",
                   "patient_id,day,source_id,ANC,CK (U/L)\nU-01,7,site-u,450,2400\n")  # fmt: skip
    result = import_files(files, store)
    report = labs(result, "labs.csv")
    assert result.version is not None  # the CK of the same line went on
    assert refused(report) == {2: [f"ANC 450 {NO_UNIT}"]}
    [problem] = report.problems
    assert (problem.row, problem.column, problem.value) == (2, "value", "450")
    assert report.accepted == 1 and report.rejected == 1
    assert stored(store, "SELECT code, value, unit FROM observations WHERE patient_id = 'U-01'"
                  ) == [("CK", 2400.0, "U/L")]  # fmt: skip
    assert stored(store, "SELECT count(*) FROM lab_grades WHERE code = 'ANC'") == [(0,)]
    quarantine = pd.read_csv(report.quarantine, dtype=str, keep_default_na=False)
    assert quarantine[["line", "ANC", "reason"]].values.tolist() == [
        ["2", "450", f"value: ANC 450 {NO_UNIT}"]
    ]


def test_anc_045_without_a_unit_is_taken_in_the_dictionary_unit(store, tmp_path) -> None:
    files = centre(tmp_path, "labs.csv", "patient_id,day,source_id,ANC\nU-01,7,site-u,0.45\n")
    result = import_files(files, store)
    report = labs(result, "labs.csv")
    assert (report.accepted, report.rejected, report.problems) == (1, 0, [])
    [(value, unit, note)] = stored(
        store, "SELECT value, unit, note FROM observations WHERE patient_id = 'U-01'"
    )
    assert (value, unit) == (0.45, "10*9/L")
    assert note == (
        "no unit in the file: taken as ×10⁹/L, the dictionary unit, as the value lies in its "
        "plausible range 0–100"
    )
    # 0.45 x10^9/L is grade 4 neutropenia (CTCAE v5: < 0.5), not the grade 0 of 450.
    assert stored(store, "SELECT grade FROM lab_grades WHERE patient_id = 'U-01' "
                         "AND code = 'ANC'") == [(4,)]  # fmt: skip


MIXED = (
    "patient_id,day,source_id,ANC,CK\n"
    "U-01,0,site-u,0.45,2400\n"  # line 2
    "U-01,7,site-u,450,310\n"  # line 3: not plausible in x10^9/L
    "U-01,14,site-u,1.2,150\n"  # line 4
    "U-01,21,site-u,n.d.,90\n"  # line 5: no number, nothing to misread
    "U-02,7,site-u,4.5e2,3e7\n"  # line 6: CK 3e7 is not plausible in U/L either
)


def test_a_mixed_column_without_a_unit_is_refused_whole_and_the_other_columns_go_on(
    store, tmp_path
) -> None:
    files = centre(tmp_path, "labs.csv", MIXED)
    result = import_files(files, store)
    report = labs(result, "labs.csv")
    doubt = ("ANC has no unit, and another ANC value without a unit in this file (450) is not "
             "plausible in ×10⁹/L (0–100), so the unit of these values is not known: give the "
             "unit")  # fmt: skip
    # CK's common units (U/L, µkat/L) give values of the same size: without a unit, every CK
    # is refused (data/reference/plausible_ranges.csv, unit_required).
    ck_unit = ("CK has no unit, and its common units give values of the same size, so the value "
               "cannot tell which: give the unit")  # fmt: skip
    reasons = sorted((p.row, p.reason) for p in report.problems)
    assert reasons == sorted([
        (2, doubt), (3, f"ANC 450 {NO_UNIT}"), (4, doubt), (6, f"ANC 450 {NO_UNIT}"),
        (2, ck_unit), (3, ck_unit), (4, ck_unit), (5, ck_unit), (6, ck_unit),
    ])  # fmt: skip
    # The reason says the number as a number: the cell's text ("4.5e2") is not echoed into it.
    assert all("4.5e2" not in p.reason and "3e7" not in p.reason for p in report.problems)
    # Only the not-detected ANC is kept: it has no number to misread.
    rows = stored(store, "SELECT day, code, value, qualifier, unit FROM observations")
    assert rows == [(21, "ANC", None, "not_detected", "10*9/L")]
    # Every value of the sheet is accounted for: 5 ANC and 5 CK cells.
    assert report.accepted + sum(map(len, refused(report).values())) == 10


def test_the_same_column_with_its_unit_is_converted(store, tmp_path) -> None:
    sheet = MIXED.replace("ANC,CK", "ANC (cells/µL),CK (U/L)").replace("3e7", "300")
    sheet = sheet.replace("0.45", "4500").replace("1.2", "1200")
    files = centre(tmp_path, "labs.csv", sheet)
    report = labs(import_files(files, store), "labs.csv")
    assert report.problems == []
    anc = stored(store, "SELECT day, patient_id, value FROM observations WHERE code = 'ANC' "
                        "ORDER BY patient_id, day")  # fmt: skip
    assert anc == [(0, "U-01", 4.5), (7, "U-01", 0.45), (14, "U-01", 1.2), (21, "U-01", None),
                   (7, "U-02", 0.45)]  # fmt: skip


OBSERVATION_COLUMNS = ["patient_id", "day", "code", "value", "unit", "specimen", "source_id"]
OBSERVATIONS = table_csv("observations", [
    dict(zip(OBSERVATION_COLUMNS, line.split(","), strict=True))
    for line in [
        "U-01,0,CK,2400,U/L,blood,site-u",  # line 2: fine
        "U-01,1,CK,5e7,U/L,blood,site-u",  # line 3: not a human CK
        "U-01,2,ANC,500000,/mm3,blood,site-u",  # line 4: 500 x10^9/L once converted
        "U-01,3,ANC,500,/mm3,blood,site-u",  # line 5: 0.5 x10^9/L, fine
        "U-01,4,HGB,121,g/dL,blood,site-u",  # line 6: g/L written as g/dL
        "U-01,5,HGB,121,g/L,blood,site-u",  # line 7: 12.1 g/dL, fine
        "U-01,6,HGB,0.5,g/dL,blood,site-u",  # line 8: below the plausible 1 g/dL
        "U-01,7,IGG,1200,g/L,blood,site-u",  # line 9: mg/dL written as g/L
        "U-01,8,CK,,U/L,blood,site-u",  # line 10: no value
        "U-01,9,ANC,0.45,,blood,site-u",  # line 11: the unit is required in this format
    ]
])  # fmt: skip


def test_a_value_with_its_unit_outside_the_plausible_range_is_refused(store, tmp_path) -> None:
    files = centre(tmp_path, "observations.csv", OBSERVATIONS)
    result = import_files(files, store)
    report = labs(result, "observations.csv")
    check = ": check the value and its unit"
    assert refused(report) == {
        3: [f"CK 50,000,000 U/L is outside the plausible range 0–500,000 U/L{check}"],
        4: [f"ANC 500,000 /mm3 (500 ×10⁹/L) is outside the plausible range 0–100 ×10⁹/L{check}"],
        6: [f"HGB 121 g/dL is outside the plausible range 1–25 g/dL{check}"],
        8: [f"HGB 0.5 g/dL is outside the plausible range 1–25 g/dL{check}"],
        9: [f"IGG 1,200 g/L is outside the plausible range 0–60 g/L{check}"],
        10: [
            "a value is needed unless qualifier is not_detected or the result is given as "
            "negative, borderline or positive (column interpretation)"
        ],
        11: ["required: the value is missing"],
    }
    rows = stored(store, "SELECT day, code, value, unit FROM observations ORDER BY day")
    assert rows == [(0, "CK", 2400.0, "U/L"), (3, "ANC", 0.5, "10*9/L"),
                    (5, "HGB", 12.1, "g/dL")]  # fmt: skip
    # accepted + refused = rows in the file (10 lines under the header)
    assert report.accepted + len(refused(report)) == 10
    assert (report.accepted, report.rejected) == (3, 7)


def test_an_sdtm_result_without_a_unit_follows_the_same_rule(store, tmp_path) -> None:
    lb = (
        "STUDYID,USUBJID,LBTESTCD,LBTEST,LBORRES,LBORRESU,LBSPEC,LBDY\n"
        "site-u,U-01,NEUT,Neutrophils,450,,BLOOD,8\n"  # line 2: refused
        "site-u,U-02,CRP,C Reactive Protein,12,,SERUM,8\n"  # line 3: mg/L or mg/dL?
        "site-u,U-02,PLT,Platelets,210,,BLOOD,8\n"  # line 4: plausible in 10^9/L
    )
    files = centre(tmp_path, "lb.csv", lb)
    report = labs(import_files(files, store), "lb.csv")
    assert refused(report) == {
        2: [f"ANC 450 {NO_UNIT}"],
        3: ["CRP has no unit, and its common units give values of the same size, so the value "
            "cannot tell which: give the unit"],
    }  # fmt: skip
    assert stored(store, "SELECT patient_id, code, value, unit FROM observations") == [
        ("U-02", "PLT", 210.0, "10*9/L")
    ]


def test_a_score_without_a_unit_keeps_its_scale_and_a_vas_in_mm_needs_its_unit(
    store, tmp_path
) -> None:
    sheet = (
        "patient_id,day,source_id,CMAS,PGA,PARENT_GA (mm)\n"
        "U-01,0,site-u,30,4.5,45\n"  # line 2: all fine; 45 mm is 4.5 cm
        "U-01,7,site-u,60,,\n"  # line 3: CMAS outside its scale, whatever the unit
        "U-02,0,site-u,,45,\n"  # line 4: a 0-10 cm VAS of 45 is in mm: the unit is needed
    )
    files = centre(tmp_path, "labs.csv", sheet)
    report = labs(import_files(files, store, dry_run=True), "labs.csv")
    reasons = {(p.row, p.reason) for p in report.problems}
    assert reasons == {
        (3, "outside the CMAS scale 0–52"),
        (4, "PGA 45 has no unit and is not plausible in cm (0–10): give the unit"),
        (2, "PGA has no unit, and another PGA value without a unit in this file (45) is not "
            "plausible in cm (0–10), so the unit of these values is not known: give the unit"),
    }  # fmt: skip
    got = sorted((r.code, r.value, r.unit) for r in report.rows.itertuples())
    assert got == [("CMAS", 30.0, "{score}"), ("PARENT_GA", 4.5, "cm")]


def test_every_stored_value_of_the_seed_and_synthetic_cohort_is_plausible(read) -> None:
    ranges = dictionary.plausible_ranges()
    values = read("SELECT code, value FROM observations WHERE value IS NOT NULL")
    joined = values.merge(ranges, on="code", how="left")
    assert joined["plausible_low"].notna().all()
    high = joined["plausible_high"].fillna(float("inf"))
    bad = joined[(joined["value"] < joined["plausible_low"]) | (joined["value"] > high)]
    assert bad.empty, bad[["code", "value"]].drop_duplicates().head(10)
