"""The derived tables of a hand-made store, every expected number worked out by hand."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from carta import derive
from carta.derive import DEFAULT_SETTINGS, derive_tables
from tests.handmade import PATIENT, hand_store

OBSERVATIONS = [
    # CAR T cells/µL: below the limit on day 0, peak on day 7.
    (0, "CART", 0.5, "<"), (7, "CART", 30.0), (14, "CART", 20.0), (21, "CART", 10.0),
    (35, "CART", 4.0),
    # CD19+ B cells/µL: depleted from day 5; 150 then 90 is no recovery; 200, 250 is.
    (-6, "CD19", 300.0), (2, "CD19", 50.0), (5, "CD19", 1.0, "<"), (60, "CD19", 0.5),
    (100, "CD19", 150.0), (120, "CD19", 90.0), (150, "CD19", 200.0), (180, "CD19", 250.0),
    # ANC x10^9/L
    (0, "ANC", 2.0), (3, "ANC", 0.4), (7, "ANC", 0.2), (10, "ANC", 0.6), (14, "ANC", 0.4),
    (17, "ANC", 0.8), (21, "ANC", 1.2), (28, "ANC", 1.5),
    # CK U/L (ULN 252): normal on day 28, above again on day 60, normal for good from day 90.
    (-6, "CK", 2000.0), (7, "CK", 800.0), (28, "CK", 240.0), (60, "CK", 300.0),
    (90, "CK", 200.0), (180, "CK", 150.0),
    # Core set at baseline (day -6) and month 3 (day 90).
    (-6, "PGA", 6.0), (90, "PGA", 3.0),
    (-6, "PARENT_GA", 5.0), (90, "PARENT_GA", 4.0),
    (-6, "CHAQ", 1.5), (90, "CHAQ", 0.9),
    (-6, "EXTRAMUSC", 4.0), (90, "EXTRAMUSC", 1.0),
    (-6, "MMT8", 60.0), (90, "MMT8", 72.0),
    # Month 6: only PGA and MMT8 were scored, so the TIS there is incomplete.
    (180, "PGA", 0.2), (180, "MMT8", 79.0), (180, "CMAS", 50.0),
]  # fmt: skip


@pytest.fixture(scope="module")
def derived(tmp_path_factory):
    path = hand_store(
        tmp_path_factory.mktemp("derive") / "hand.duckdb", OBSERVATIONS, derived=False
    )
    con = duckdb.connect(str(path))
    settings = derive_tables(con)
    yield con, settings
    con.close()


def one(con, table: str) -> pd.Series:
    rows = con.execute(f"SELECT * FROM {table} WHERE patient_id = ?", [PATIENT]).df()
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_settings_are_returned_for_store_meta(derived) -> None:
    _, settings = derived
    assert settings["derived_tis_measure_set"] == DEFAULT_SETTINGS["tis_measure_set"]
    assert settings["derived_bcell_depletion_threshold"] == "1.0"


def test_value_at_a_timepoint_is_the_closest_to_the_nominal_day(derived) -> None:
    con, _ = derived
    rows = con.execute(
        "SELECT timepoint, code, day, value FROM timepoint_values WHERE code = 'CK' "
        "ORDER BY timepoint_sort"
    ).fetchall()
    # Baseline (-60..0, nominal 0): day -6. D7: day 7. M1 (21..42, nominal 28): day 28.
    # M2 (43..75, nominal 60): day 60. M3 (76..135, nominal 90): day 90. M6: day 180.
    assert rows == [
        ("Baseline", "CK", -6, 2000.0),
        ("D7", "CK", 7, 800.0),
        ("M1", "CK", 28, 240.0),
        ("M2", "CK", 60, 300.0),
        ("M3", "CK", 90, 200.0),
        ("M6", "CK", 180, 150.0),
    ]


def test_car_t_kinetics(derived) -> None:
    row = one(derived[0], "patient_kinetics")
    assert row["cmax"] == 30 and row["tmax"] == 7
    # Trapezoids: 0-7 (0+30)/2*7 = 105; 7-14 (30+20)/2*7 = 175; 14-21 (20+10)/2*7 = 105;
    # 21-28 with day 28 interpolated between 10 (day 21) and 4 (day 35) = 7: (10+7)/2*7 = 59.5.
    assert row["auc_0_28"] == pytest.approx(444.5)
    assert row["auc_covers_28"] and pd.isna(row["auc_not_evaluable"])
    # Detectable at the last sample (day 35): persistence has not ended, so there is no "last
    # detectable day", only the last measured one.
    assert pd.isna(row["last_detectable_day"])
    assert row["last_sample_day"] == 35 and row["detectable_at_last"]


def test_bcell_aplasia(derived) -> None:
    row = one(derived[0], "bcell_aplasia")
    assert row["onset_day"] == 5
    assert row["recovery_day"] == 150  # 150 then 90 is one high value; 200, 250 are two
    assert row["duration_days"] == 145
    assert not row["ongoing_at_last_value"]
    assert (row["depletion_threshold"], row["recovery_threshold"]) == (1.0, 100.0)


def test_neutrophil_recovery_and_ck_normalisation(derived) -> None:
    row = one(derived[0], "patient_recovery")
    assert (row["anc_nadir"], row["anc_nadir_day"]) == (0.2, 7)
    assert row["severe_neutropenia"]
    assert row["anc_recovery_day"] == 17  # 0.6 on day 10 is followed by 0.4: not three in a row
    # Below 0.5 from day 3 to 7, 7 to 10 and 14 to 17 (each value carried to the next): 10 days.
    assert row["days_anc_below_0_5_d0_30"] == 10
    assert row["ck_sustained_normal_day"] == 90
    assert row["ck_normal_at_last"]


def test_lab_grades(derived) -> None:
    con, _ = derived
    grades = dict(
        con.execute("SELECT day, grade FROM lab_grades WHERE code = 'ANC' ORDER BY day").fetchall()
    )
    # LLN 1.5 (dictionary default): 2.0 -> 0; 0.4 -> 4; 0.2 -> 4; 0.6 -> 3; 0.8 -> 3; 1.2 -> 2;
    # 1.5 -> 0 (not below the LLN).
    assert grades == {0: 0, 3: 4, 7: 4, 10: 3, 14: 4, 17: 3, 21: 2, 28: 0}
    ck = dict(con.execute("SELECT day, grade FROM lab_grades WHERE code = 'CK'").fetchall())
    assert ck[-6] == 3 and ck[7] == 2 and ck[28] == 0  # 7.9x, 3.2x and 0.95x the ULN


def test_total_improvement_score_at_month_3(derived) -> None:
    con, _ = derived
    row = con.execute("SELECT * FROM response_by_timepoint WHERE timepoint = 'M3'").df().iloc[0]
    # PGA 6 -> 3: 30 % of 10 -> 17.5; parent 5 -> 4: 10 % -> 2.5; CHAQ 1.5 -> 0.9: 20 % of 3
    # -> 7.5; CK (the only enzyme) 2000 -> 200: 90 % relative -> 7.5; extramuscular 4 -> 1:
    # 30 % -> 15; MMT8 60 -> 72: 15 % of 80 -> 20. Total 70: major for JDM (>= 70).
    assert row["points_physician_global"] == 17.5
    assert row["points_parent_global"] == 2.5
    assert row["points_chaq"] == 7.5
    assert row["points_enzyme"] == 7.5 and row["code_enzyme"] == "CK"
    assert row["points_extramuscular"] == 15
    assert row["points_strength"] == 20 and row["code_strength"] == "MMT8"
    assert row["tis"] == pytest.approx(70.0)
    assert row["complete"] and row["category"] == "major"
    # CID: CK 200 > 150, MMT8 72 < 78, PGA 3 > 0.2 not met; CMAS missing: 0 met, no CID.
    assert not row["cid"] and not pd.isna(row["cid"])
    assert row["cid_n_met"] == 0


def test_an_incomplete_tis_has_no_category_and_cid_lists_its_criteria(derived) -> None:
    con, _ = derived
    row = con.execute("SELECT * FROM response_by_timepoint WHERE timepoint = 'M6'").df().iloc[0]
    assert not row["complete"]
    assert pd.isna(row["tis"]) and row["category"] is None
    assert row["n_components"] == 3  # PGA, MMT8 and CK; parent global, CHAQ, extramuscular missing
    # CID: CK 150 <= 150, CMAS 50 >= 48, MMT8 79 >= 78, PGA 0.2 <= 0.2: all four met.
    assert row["cid"] and row["cid_n_met"] == 4
    assert row["cid_criteria_met"] == "CK ≤ 150 U/L; CMAS ≥ 48; MMT8 ≥ 78; PGA ≤ 0.2 cm"


def test_derived_tables_in_batches_of_patients_are_those_of_one_pass(tmp_path, monkeypatch):
    """The publish computes a batch of patients at a time (bounded memory): one patient a batch
    gives the very rows of a single pass, in every derived table, for patients of every
    indication (the published case has no lab value, the others have all)."""
    import duckdb

    from carta.build import build_store
    from carta.schema import DERIVED_TABLES

    def rows(path) -> dict[str, list[tuple]]:
        con = duckdb.connect(str(path), read_only=True)
        try:
            # The history's row is stamped with its publish time: one per build, not per patient.
            return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
                    for t in DERIVED_TABLES if t != "quality_history"}  # fmt: skip
        finally:
            con.close()

    whole = rows(build_store(tmp_path / "one" / "carta.duckdb", n_patients=3,
                             other_indications=3).path)  # fmt: skip
    monkeypatch.setattr(derive, "BATCH_PATIENTS", 1)
    batched = rows(build_store(tmp_path / "many" / "carta.duckdb", n_patients=3,
                               other_indications=3).path)  # fmt: skip
    assert batched == whole
    for table in ("lab_grades", "patient_kinetics", "patient_hematotox", "response_by_timepoint"):
        assert len(whole[table]) > 3, table
