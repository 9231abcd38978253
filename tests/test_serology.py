"""Autoantibodies over time, worked by hand: the serology rule (carta/measures/serology.py), the
import of results in words from SDTM and REDCap, the stored table serology_status, and the same
case on the trajectory's track and the summary's card."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from carta.build import build_store
from carta.charts.trajectory import PANELS
from carta.ingest import redcap
from carta.ingest.importer import import_files
from carta.measures import serology
from carta.store import real_path
from tests.conftest import open_page
from tests.test_cdisc_import import package_with_dm, write_csv
from tests.test_redcap import ENROLMENT_1, P1, TREATMENT_1, UNTICKED, write_export
from tests.test_trajectory_page import the_spec


def results(*rows: tuple) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["patient_id", "code", "day", "interpretation"])


@pytest.mark.parametrize(
    ("series", "status", "first_negative"),
    [
        ([(-7, "positive"), (90, "borderline"), (180, "negative")], "seroconverted", 180),
        ([(-7, "positive"), (90, "negative"), (180, "positive")], "persisting", 90),
        ([(-7, "positive"), (180, "borderline")], "persisting", None),
        ([(-7, "negative"), (90, "negative")], "negative at baseline", None),
        ([(0, "borderline"), (90, "negative")], "borderline at baseline", None),
        ([(-30, "positive"), (-7, "positive")], "no result after the infusion", None),
        ([(28, "positive"), (90, "negative")], "no baseline", None),
    ],
)
def test_each_status_of_the_rule(series, status, first_negative) -> None:
    rows = results(*[("P", "ANTI_SCL70", day, result) for day, result in series])
    [row] = serology.serology_status(rows).to_dict("records")
    assert row["status"] == status and row["results"] == len(series)
    assert (None if pd.isna(row["first_negative_day"]) else row["first_negative_day"]) == (
        first_negative
    )


def test_the_baseline_is_the_last_result_up_to_day_0_and_a_titre_alone_is_not_read() -> None:
    rows = results(
        ("P", "ANTI_JO1", -60, "negative"), ("P", "ANTI_JO1", 0, "positive"),
        ("P", "ANTI_JO1", 90, "negative"), ("P", "ANA", -7, None), ("P", "ANA", 90, None),
    )  # fmt: skip
    out = serology.serology_status(rows)
    assert out["code"].tolist() == ["ANTI_JO1"]  # the ANA titres carry no reading
    assert out.loc[0, "baseline_day"] == 0 and out.loc[0, "status"] == "seroconverted"


# --- import ------------------------------------------------------------------------------------


def empty_store(folder: Path) -> Path:
    return build_store(folder / "store" / "carta.duckdb", n_patients=0,
                       include_published=False).path  # fmt: skip


def test_sdtm_results_in_words_and_titres_are_read_and_the_rest_kept(tmp_path: Path) -> None:
    folder = package_with_dm(tmp_path)  # day 0 = 2023-01-05
    write_csv(
        folder / "lb.csv",
        "STUDYID,DOMAIN,USUBJID,LBTESTCD,LBTEST,LBORRES,LBSTRESC,LBNRIND,LBSPEC,LBDTC",
        "S1,LB,S1-001,SCL70,Anti-Scl-70,POSITIVE,POSITIVE,,SERUM,2023-01-01",
        "S1,LB,S1-001,SCL70,Anti-Scl-70,Equivocal,Equivocal,,SERUM,2023-04-05",
        "S1,LB,S1-001,SCL70,Anti-Scl-70,NEGATIVE,NEGATIVE,,SERUM,2023-07-04",
        "S1,LB,S1-001,ANA,Antinuclear antibodies,1:640,1:640,POSITIVE,SERUM,2023-01-01",
        "S1,LB,S1-001,ANA,Antinuclear antibodies,1:160,1:160,,SERUM,2023-04-05",
        "S1,LB,S1-001,SCL70,Anti-Scl-70,weakly reactive,weakly reactive,,SERUM,2023-10-02",
    )
    store = empty_store(tmp_path)
    result = import_files([folder], store)
    reports = {r.table: r for r in result.files if r.file.name == "lb.csv"}
    # Five results in Carta's observations; the one in other words kept as another test.
    assert reports["observations"].accepted == 5 and reports["observations"].rejected == 0
    assert reports["other_observations"].accepted == 1
    con = duckdb.connect(str(real_path(store)), read_only=True)
    stored = con.execute("SELECT code, day, value, unit, interpretation FROM observations "
                         "ORDER BY code, day").fetchall()  # fmt: skip
    other = con.execute("SELECT test_code, result_text FROM other_observations").fetchall()
    status = con.execute("SELECT code, status, first_negative_day FROM serology_status "
                         "ORDER BY code").fetchall()  # fmt: skip
    con.close()
    assert stored == [
        ("ANA", -4, 640.0, "{titer}", "positive"),
        ("ANA", 90, 160.0, "{titer}", None),  # a titre with no reading: not made positive
        ("ANTI_SCL70", -4, None, "{titer}", "positive"),
        ("ANTI_SCL70", 90, None, "{titer}", "borderline"),
        ("ANTI_SCL70", 180, None, "{titer}", "negative"),
    ]
    assert other == [("SCL70", "weakly reactive")]
    assert status == [("ANA", "no result after the infusion", None),
                      ("ANTI_SCL70", "seroconverted", 180)]  # fmt: skip


def test_redcap_result_fields_are_read(tmp_path: Path) -> None:
    lines = [
        (P1, "baseline_arm_1", "", "", ENROLMENT_1 | TREATMENT_1 | {
            "visit_day": "-3", "anti_scl70_result": "pos", "ana": "640", "ana_result": "pos",
            "labs_complete": "2"}),
        (P1, "day_7_arm_1", "", "", UNTICKED | {
            "visit_day": "90", "anti_scl70_result": "neg", "ana": "160",
            "labs_complete": "2"}),
        (P1, "day_28_arm_1", "", "", UNTICKED | {
            "visit_day": "120", "anti_scl70_result": "maybe", "labs_complete": "2"}),
    ]  # fmt: skip
    export = write_export(tmp_path / "export.csv", lines=lines)
    [observations] = [t for t in redcap.read_redcap(export) if t.table == "observations"]
    got = sorted(
        (
            r.code,
            r.day,
            None if pd.isna(r.value) else r.value,
            None if pd.isna(r.interpretation) else r.interpretation,
        )
        for r in observations.rows.itertuples()
    )
    assert got == [("ANA", -3, 640.0, "positive"), ("ANA", 90, 160.0, None),
                   ("ANTI_SCL70", -3, None, "positive"),
                   ("ANTI_SCL70", 90, None, "negative")]  # fmt: skip
    [refused] = [p for p in observations.problems if p.column == "anti_scl70_result"]
    assert refused.row == 4


# --- stored table, trajectory and summary: one case ------------------------------------------


def centre(tmp_path: Path) -> Path:
    """One systemic sclerosis patient whose anti-Scl-70 turns negative on day 180, imported as
    a centre would send it (Carta's CSV with an interpretation column)."""
    folder = tmp_path / "centre"
    folder.mkdir()
    (folder / "sources.csv").write_text("source_id,kind,citation\nsite-c,site,Site C\n")
    (folder / "patients.csv").write_text(
        "patient_id,source_id,cohort,sex,age_years,diagnosis,indication,follow_up_days,synthetic\n"
        "C-01,site-c,Site C,F,48,Diffuse cutaneous systemic sclerosis,SSC,240,false\n"
    )
    (folder / "observations.csv").write_text(
        "patient_id,day,code,value,unit,specimen,source_id,interpretation\n"
        "C-01,-5,ANTI_SCL70,,,blood,site-c,positive\n"
        "C-01,90,ANTI_SCL70,,,blood,site-c,borderline\n"
        "C-01,180,ANTI_SCL70,,,blood,site-c,negative\n"
        "C-01,-5,ANA,1280,{titer},blood,site-c,positive\n"
        "C-01,180,ANA,320,{titer},blood,site-c,\n"
    )
    store = empty_store(tmp_path)
    result = import_files(sorted(folder.iterdir()), store)
    assert all(r.rejected == 0 for r in result.files), [r.problems for r in result.files]
    return store


def test_one_case_on_the_stored_table_the_track_and_the_card(tmp_path: Path, monkeypatch) -> None:
    store = centre(tmp_path)
    con = duckdb.connect(str(real_path(store)), read_only=True)
    stored = con.execute("SELECT code, baseline_result, first_negative_day, last_result, status "
                         "FROM serology_status ORDER BY code").fetchall()  # fmt: skip
    con.close()
    # ANA 1:320 on day 180 has no reading, so ANA has no result after the infusion.
    assert stored == [("ANA", "positive", None, None, "no result after the infusion"),
                      ("ANTI_SCL70", "positive", 180, "negative", "seroconverted")]  # fmt: skip
    at = open_page(store, monkeypatch, "pages/trajectory.py", patient="C-01")
    spec = the_spec(at)
    [track] = [v for v in spec["vconcat"] if v["title"]["text"] == PANELS["serology"]]
    drawn = spec["datasets"][track["layer"][0]["data"]["name"]]
    assert [(r["lane"], r["day"], r["result"], r["titre"]) for r in drawn] == [
        ("ANA", -5, "positive", "1:1,280"), ("ANA", 180, "titre, not interpreted", "1:320"),
        ("Anti-Scl-70 (topoisomerase I)", -5, "positive", ""),
        ("Anti-Scl-70 (topoisomerase I)", 90, "borderline", ""),
        ("Anti-Scl-70 (topoisomerase I)", 180, "negative", ""),
    ]  # fmt: skip
    summary = open_page(store, monkeypatch, "pages/summary.py", patient="C-01")
    text = "\n".join(str(m.value) for m in [*summary.markdown, *summary.caption])
    assert "1 of 2 turned negative" in text
    assert "Anti-Scl-70 (topoisomerase I) negative from day 180" in text
    assert "⚑ design rule \\[U\\]" in text  # escaped for Markdown
