"""Indications as data: a patient's indication is read at import (as written, or from the
diagnosis), decides the TIS thresholds (JDM 30/45/70, adult myositis 20/40/60) and which
definitions are computed; MMT8 is scored on the scale its value names (0-80 or 0-150)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from carta import dictionary
from carta.build import build_store
from carta.ingest.importer import import_files
from carta.measures import remission
from tests.conftest import open_page
from tests.handmade import PATIENT, hand_store
from tests.test_cohort_page import chart_rows


@pytest.mark.parametrize(
    ("text", "code"),
    [("JDM", "JDM"), ("Juvenile dermatomyositis", "JDM"), ("lupus nephritis", "SLE"),
     ("Systemic lupus erythematosus", "SLE"), ("diffuse cutaneous systemic sclerosis", "SSC"),
     ("Antisynthetase syndrome", "IIM"), ("IMNM", "IIM"), ("scleroderma", "SSC"),
     ("rheumatoid arthritis", None), ("", None), (None, None)],
)  # fmt: skip
def test_an_indication_is_read_from_what_is_written(text, code) -> None:
    assert dictionary.indication_of(text) == code


def test_every_indication_names_its_thresholds_definitions_and_panel() -> None:
    known = dictionary.indications().set_index("indication")
    assert list(known.index) == ["JDM", "IIM", "SLE", "SSC"]
    assert known.loc["JDM", "tis_population"] == "JDM"
    assert known.loc["IIM", "tis_population"] == "adult"
    assert known[["tis_population"]].loc[["SLE", "SSC"]].isna().all().all()
    codes = set(dictionary.parameters()["code"])
    for panel in known["panel_codes"]:
        assert set(panel.split(";")) <= codes, panel
    assert set(dictionary.indication_aliases()["indication"]) <= set(known.index)


PATIENT_COLUMNS = "patient_id,source_id,cohort,sex,age_years,diagnosis,indication,synthetic"
OBSERVATION_COLUMNS = "patient_id,day,code,value,unit,specimen,source_id,scale_max"


def centre_files(folder: Path) -> list[Path]:
    folder.mkdir()
    texts = {
        "sources": "source_id,kind,citation\nsite-b,site,Site B registry\n",
        "patients": PATIENT_COLUMNS + "\n"
        "B-01,site-b,Site B,F,34,Systemic lupus erythematosus,,false\n"  # from the diagnosis
        "B-02,site-b,Site B,M,52,Anti-Jo-1 myositis,IIM,false\n"  # as written
        "B-03,site-b,Site B,F,41,Overlap,vasculitis,false\n"  # refused: not an indication
        "B-04,site-b,Site B,F,29,Undifferentiated,,false\n",  # none: left empty
        "observations": OBSERVATION_COLUMNS + "\n"
        "B-02,0,MMT8,120,{score},blood,site-b,150\n"  # bilateral: accepted
        "B-02,90,MMT8,120,{score},blood,site-b,\n"  # no scale named: 0-80, refused
        "B-02,180,MMT8,120,{score},blood,site-b,100\n",  # not a scale of MMT8: refused
    }
    for name, text in texts.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return sorted(folder.iterdir())


def test_the_import_reads_the_indication_and_the_scale(tmp_path: Path) -> None:
    store = build_store(tmp_path / "store" / "carta.duckdb", n_patients=2).path
    result = import_files(centre_files(tmp_path / "centre"), store)
    reports = {r.table: r for r in result.files}
    patients, observations = reports["patients"], reports["observations"]
    assert (patients.accepted, patients.rejected) == (3, 1)
    refused = patients.problems[0]
    assert refused.column == "indication" and "not an indication Carta knows" in refused.reason
    assert (observations.accepted, observations.rejected) == (1, 2)
    reasons = {p.row: p.reason for p in observations.problems}
    assert reasons[3] == (
        "outside the MMT8 scale 0–80 (for the 0–150 scale, give it in column scale_max)"
    )
    assert reasons[4] == "not a scale MMT8 is recorded on (scale_max 80 or 150)"
    con = duckdb.connect(str(result_store(store)), read_only=True)
    stored = dict(con.execute("SELECT patient_id, indication FROM patients "
                              "WHERE source_id = 'site-b'").fetchall())  # fmt: skip
    scale = con.execute("SELECT scale_max FROM observations WHERE patient_id = 'B-02'").fetchall()
    con.close()
    assert stored == {"B-01": "SLE", "B-02": "IIM", "B-04": None}
    assert scale == [(150.0,)]


def result_store(store: Path) -> Path:
    from carta.store import real_path

    return real_path(store)


# The core set of tests/test_derive.py with PGA 6 -> 4.5 (15 % of 10: 7.5 points): TIS 60,
# moderate by the JDM thresholds (>= 45), major by the adult ones (>= 60).
CORE_SET = [
    (-6, "PGA", 6.0), (90, "PGA", 4.5), (-6, "PARENT_GA", 5.0), (90, "PARENT_GA", 4.0),
    (-6, "CHAQ", 1.5), (90, "CHAQ", 0.9), (-6, "EXTRAMUSC", 4.0), (90, "EXTRAMUSC", 1.0),
    (-6, "CK", 2000.0), (90, "CK", 200.0),
]  # fmt: skip


def month_3(tmp_path: Path, name: str, strength: list[tuple], indication: str | None):
    store = hand_store(tmp_path / f"{name}.duckdb", [*CORE_SET, *strength], indication=indication)
    con = duckdb.connect(str(store), read_only=True)
    rows = con.execute(
        "SELECT * FROM response_by_timepoint WHERE patient_id = ? AND timepoint = 'M3'", [PATIENT]
    ).df()
    con.close()
    return rows.iloc[0] if len(rows) else None


def test_the_thresholds_are_the_indications(tmp_path: Path) -> None:
    unilateral = [(-6, "MMT8", 60.0), (90, "MMT8", 72.0)]  # 15 % of 80: 20 points
    jdm = month_3(tmp_path, "jdm", unilateral, "JDM")
    adult = month_3(tmp_path, "adult", unilateral, "IIM")
    assert jdm["tis"] == adult["tis"] == pytest.approx(60.0)
    assert (jdm["population"], jdm["category"]) == ("JDM", "moderate")
    assert (adult["population"], adult["category"]) == ("adult", "major")
    # PRINTO inactive disease is a JDM definition: an adult has none.
    assert not pd.isna(jdm["cid"]) and pd.isna(adult["cid"])
    # Lupus has no TIS at all, whatever scores it has.
    assert month_3(tmp_path, "sle", unilateral, "SLE") is None


def test_mmt8_is_scored_on_the_scale_its_values_name(tmp_path: Path) -> None:
    # Bilateral 112.5 -> 135: 22.5 of 150 = 15 %, the same 20 points as 60 -> 72 of 80.
    bilateral = month_3(
        tmp_path,
        "bilateral",
        [(-6, "MMT8", 112.5, None, 150), (90, "MMT8", 135.0, None, 150)],
        "IIM",
    )
    assert bilateral["points_strength"] == 20 and bilateral["pct_strength"] == pytest.approx(15)
    assert bilateral["tis"] == pytest.approx(60.0)
    # From one scale to the other is not a change of the patient: the slot stays missing.
    mixed = month_3(tmp_path, "mixed", [(-6, "MMT8", 60.0), (90, "MMT8", 135.0, None, 150)], "IIM")
    assert pd.isna(mixed["points_strength"]) and not mixed["complete"]
    assert mixed["n_components"] == 5 and pd.isna(mixed["category"])  # fmt: skip


def test_the_cid_cutoff_of_78_is_read_on_the_0_to_80_scale_only(tmp_path: Path) -> None:
    store = hand_store(
        tmp_path / "cid.duckdb",
        [(180, "CK", 100.0), (180, "CMAS", 50.0), (180, "MMT8", 79.0, None, 150)],
        indication="JDM",
    )
    con = duckdb.connect(str(store), read_only=True)
    row = con.execute(
        "SELECT cid, cid_n_assessed, cid_criteria_met FROM response_by_timepoint "
        "WHERE timepoint = 'M6'"
    ).df().iloc[0]  # fmt: skip
    con.close()
    # CK and CMAS met; MMT8 79 of 150 is not assessed (not "met" as 79 of 80 would be).
    assert row["cid_n_assessed"] == 2 and "MMT8" not in row["cid_criteria_met"]
    assert pd.isna(row["cid"])


# The default store's synthetic patients of each indication, under AppTest.
PANELS_OF = {
    "SYN-SLE-0001": {"Remission and low disease activity", "Anti-dsDNA antibodies (IU/mL)",
                     "Complement C3 (g/L)", "Clinical scores"},
    "SYN-SSC-0001": {"Remission and low disease activity", "Forced vital capacity (% predicted)",
                     "Clinical scores"},
    "SYN-IIM-0001": {"Response: TIS and inactive disease (CID)", "Muscle enzymes",
                     "Clinical scores"},
}  # fmt: skip


@pytest.mark.parametrize("patient", list(PANELS_OF))
def test_each_indication_draws_its_own_panels(default_store, monkeypatch, patient) -> None:
    at = open_page(default_store, monkeypatch, "pages/trajectory.py", patient=patient)
    assert not at.exception
    [chart] = at.get("vega_lite_chart")
    titles = {v["title"]["text"] for v in json.loads(chart.proto.spec)["vconcat"]}
    assert PANELS_OF[patient] <= titles, titles
    if patient != "SYN-IIM-0001":
        assert "Response: TIS and inactive disease (CID)" not in titles


@pytest.mark.parametrize("patient", list(PANELS_OF))
def test_each_indication_has_its_summary_cards(default_store, monkeypatch, patient) -> None:
    at = open_page(default_store, monkeypatch, "pages/summary.py", patient=patient)
    assert not at.exception
    text = "\n".join(str(m.value) for m in [*at.markdown, *at.caption])
    expected = {"SYN-SLE-0001": ("DORIS 2021", "LLDAS", "Glucocorticoids"),
                "SYN-SSC-0001": ("EUSTAR-AI < 2.5", "Glucocorticoids"),
                "SYN-IIM-0001": ("TIS category", "Glucocorticoids")}[patient]  # fmt: skip
    for card in expected:
        assert card in text, card
    assert ("Inactive disease (CID)" in text) is False  # no PRINTO CID outside JDM


def test_the_cohort_filters_and_counts_by_indication(default_store, monkeypatch) -> None:
    at = open_page(default_store, monkeypatch, "pages/cohort.py", ind="SLE", param="CRP")
    assert not at.exception
    assert at.multiselect(key="ind").value == ["SLE"]
    text = "\n".join(str(m.value) for m in at.markdown)
    assert "**8 of 40 patients**" in text
    [remission_table] = [d for d in at.dataframe if "Definition" in d.value.columns]
    table = remission_table.value
    assert set(table["Definition"]) == {"DORIS 2021", "LLDAS", remission.RENAL_RESPONSE}
    # The table counts what the stored table holds for these patients.
    con = duckdb.connect(str(default_store), read_only=True)
    stored = con.execute(
        "SELECT count(*) FILTER (WHERE met) FROM remission_by_timepoint r JOIN patients p "
        "USING (patient_id) WHERE p.indication = 'SLE' AND r.definition = 'LLDAS'"
    ).fetchone()[0]
    con.close()
    assert table.loc[table["Definition"] == "LLDAS", "Met"].sum() == stored > 0


def test_the_cohort_charts_compare_the_indications_by_colour(default_store, monkeypatch) -> None:
    at = open_page(default_store, monkeypatch, "pages/cohort.py", param="CRP")
    charts = at.get("vega_lite_chart")
    distribution = next(c for c in charts if "distribution_points" in c.proto.spec)
    spec = json.loads(distribution.proto.spec)
    [points] = [layer for layer in spec["layer"] if layer.get("name") == "distribution_points"]
    assert points["encoding"]["color"]["field"] == "indication"
    rows = chart_rows(distribution)
    drawn = rows.dropna(subset=["indication"]).drop_duplicates("patient_id")
    con = duckdb.connect(str(default_store), read_only=True)
    stored = dict(con.execute("SELECT patient_id, coalesce(indication, 'not given') "
                              "FROM patients").fetchall())  # fmt: skip
    con.close()
    assert {"JDM", "SLE", "SSC"} <= set(drawn["indication"])
    assert all(stored[p] == i for p, i in zip(drawn["patient_id"], drawn["indication"],
                                              strict=True))  # fmt: skip
    # Filtered to one indication, one colour again.
    lupus = open_page(default_store, monkeypatch, "pages/cohort.py", param="CRP", ind="SLE")
    one = next(c for c in lupus.get("vega_lite_chart") if "distribution_points" in c.proto.spec)
    [points] = [la for la in json.loads(one.proto.spec)["layer"]
                if la.get("name") == "distribution_points"]  # fmt: skip
    assert "color" not in points["encoding"]


@pytest.mark.parametrize(
    ("text", "scale"),
    [("MMT8 (0-150)", 150), ("MMT-8 bilateral", 150), ("MMT8 unilateral", 80),
     ("MMT8 total /80", 80), ("MMT8 (0–80)", 80), ("Manual muscle testing", None)],
)  # fmt: skip
def test_a_scale_is_read_from_a_tests_name(text, scale) -> None:
    assert dictionary.scale_named("MMT8", text) == scale
    assert dictionary.scale_named("CK", text) is None  # CK has one scale


def test_sdtm_and_redcap_name_the_scale_of_mmt8(tmp_path: Path) -> None:
    from carta.ingest import redcap
    from tests.test_cdisc_import import package_with_dm, write_csv
    from tests.test_redcap import ENROLMENT_1, P1, TREATMENT_1, UNTICKED, write_export

    folder = package_with_dm(tmp_path)
    write_csv(folder / "qs.csv", "STUDYID,DOMAIN,USUBJID,QSTESTCD,QSTEST,QSORRES,QSDTC",
              "S1,QS,S1-001,MMT8,MMT8 (0-150),120,2023-01-05",
              "S1,QS,S1-001,MMT8,MMT8,70,2023-04-05")  # fmt: skip
    store = build_store(tmp_path / "store" / "carta.duckdb", n_patients=0,
                        include_published=False).path  # fmt: skip
    result = import_files([folder], store)
    [qs] = [r for r in result.files if r.file.name == "qs.csv" and r.table == "observations"]
    assert (qs.accepted, qs.rejected) == (2, 0)
    con = duckdb.connect(str(result_store(store)), read_only=True)
    stored = con.execute("SELECT day, value, scale_max FROM observations ORDER BY day").fetchall()
    con.close()
    assert stored == [(0, 120.0, 150.0), (90, 70.0, None)]
    lines = [
        (P1, "baseline_arm_1", "", "", ENROLMENT_1 | TREATMENT_1 | {
            "score_day": "-3", "mmt8": "120", "mmt8_scale": "150", "scores_complete": "2"}),
        (P1, "day_7_arm_1", "", "", UNTICKED | {
            "score_day": "7", "mmt8": "75", "scores_complete": "2"}),
    ]  # fmt: skip
    export = write_export(tmp_path / "export.csv", lines=lines)
    [observations] = [t for t in redcap.read_redcap(export) if t.table == "observations"]
    got = sorted((r.day, r.value, None if pd.isna(r.scale_max) else r.scale_max)
                 for r in observations.rows.itertuples() if r.code == "MMT8")  # fmt: skip
    assert got == [(-3, 120.0, 150.0), (7, 75.0, None)]
