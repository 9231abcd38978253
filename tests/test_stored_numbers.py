"""Every grade and figure right on the stored tables: hand-made patients whose derived rows are
worked out by hand, and the whole default store checked row by row against the pure rules."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from carta.measures import ctcae, hematotox, kinetics, summary
from carta.store import open_read_only, run_query
from tests.handmade import PATIENT, hand_store

# Lymphodepletion from day -5: the pre-treatment baseline is the last value before day -5.
REGIMEN = [("lymphodepletion", "Fludarabine", -5, -3), ("infusion", "CD19 CAR T", 0, 0)]


def stored(tmp_path: Path, observations: list[tuple], events=REGIMEN) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(hand_store(tmp_path / "hand.duckdb", observations, events)))


def grades(con, code: str) -> dict[int, int | None]:
    rows = con.execute(
        "SELECT day, grade FROM lab_grades WHERE code = ? ORDER BY day", [code]
    ).fetchall()
    return {day: grade for day, grade in rows}


def toxicity(con, code: str) -> pd.Series:
    return con.execute("SELECT * FROM lab_toxicity WHERE code = ?", [code]).df().iloc[0]


# --- CTCAE grades on the stored tables --------------------------------------------------------


def test_ast_after_an_abnormal_baseline_is_graded_against_the_baseline(tmp_path: Path) -> None:
    # ULN 34 U/L (dictionary default). Baseline day -6: 200 U/L, above the ULN, so CTCAE v5.0
    # grades against multiples of the baseline: 180 = 0.9 x baseline -> 0 (against the ULN it
    # would be 5.3 x ULN, grade 3); 400 = 2.0 x -> 1 (1.5-3.0); 1,100 = 5.5 x -> 3 (>5.0-20.0).
    con = stored(tmp_path, [(-6, "AST", 200.0), (14, "AST", 180.0), (21, "AST", 400.0),
                            (28, "AST", 1100.0)])  # fmt: skip
    assert grades(con, "AST") == {-6: 0, 14: 0, 21: 1, 28: 3}
    baselines = con.execute("SELECT DISTINCT baseline FROM lab_grades WHERE code = 'AST'")
    assert baselines.fetchall() == [(200.0,)]
    row = toxicity(con, "AST")
    assert (row["baseline_day"], row["baseline_grade"]) == (-6, 0)
    assert (row["emergent_grade"], row["emergent_day"]) == (3, 28)
    assert row["range_default"]  # ULN from the dictionary, not the lab


def test_values_beyond_an_assay_limit_are_graded_just_past_the_limit(tmp_path: Path) -> None:
    # '<0.5' ANC: below 0.5 -> grade 4; exactly 0.5 -> grade 3 (strict "<0.5" for grade 4);
    # not detected -> 0 -> grade 4. '<25' platelets -> grade 4; '>100' platelets (LLN 150) ->
    # just above 100 -> grade 1. '<0.2' lymphocytes -> grade 4. '<20' CK -> grade 0.
    con = stored(
        tmp_path,
        [(7, "ANC", 0.5, "<"), (8, "ANC", 0.5), (9, "ANC", None, "not_detected"),
         (7, "PLT", 25.0, "<"), (8, "PLT", 100.0, ">"), (7, "LYMPH", 0.2, "<"),
         (7, "CK", 20.0, "<")],
    )  # fmt: skip
    assert grades(con, "ANC") == {7: 4, 8: 3, 9: 4}
    assert grades(con, "PLT") == {7: 4, 8: 1}
    assert grades(con, "LYMPH") == {7: 4}
    assert grades(con, "CK") == {7: 0}


def test_anaemia_of_the_disease_before_treatment_is_no_toxicity(tmp_path: Path) -> None:
    # Hb 7.5 g/dL on day -6 is grade 3 before any treatment; 8.5 and 9.5 after the infusion are
    # grade 2, not worse than baseline: the worst treatment-emergent grade is none.
    con = stored(tmp_path, [(-6, "HGB", 7.5), (10, "HGB", 8.5), (20, "HGB", 9.5)])
    row = toxicity(con, "HGB")
    assert (row["baseline_grade"], row["worst_grade"], row["emergent_grade"]) == (3, 2, 0)
    con.close()
    con = open_read_only(tmp_path / "hand.duckdb")
    table = run_query(con, "patient_lab_toxicity", patient_id=PATIENT)
    empty = pd.DataFrame({"term": pd.Series(dtype="str"), "grade": pd.Series(dtype="Int64")})
    figure = summary._cytopenia(empty, table, "Anemia", "Anemia")
    assert figure.value == "none" and "baseline grade 3" in figure.detail
    con.close()


def test_a_neutropenia_after_a_normal_baseline_is_treatment_emergent(tmp_path: Path) -> None:
    # ANC 3.0 on day -7 (baseline, grade 0); 0.8 on day 2 is after lymphodepletion but before
    # the infusion's day 1, so it does not count; 0.3 on day 7 is grade 4; 1.2 on day 14 grade 2.
    con = stored(tmp_path, [(-7, "ANC", 3.0), (0, "ANC", 0.8), (7, "ANC", 0.3), (14, "ANC", 1.2)])
    row = toxicity(con, "ANC")
    assert (row["baseline_day"], row["baseline_grade"]) == (-7, 0)
    assert (row["worst_grade"], row["worst_day"]) == (4, 7)
    assert (row["emergent_grade"], row["emergent_day"]) == (4, 7)
    assert row["n_graded_after"] == 2


# --- CAR T kinetics on the stored table -------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ([(7, 32.69)], "fewer than two values on days 0-28"),
        ([(28, 12.0), (35, 8.0)], "fewer than two values on days 0-28"),
        ([(7, 20.0), (60, 2.0)], "fewer than two values on days 0-28"),
        ([(7, 20.0), (14, 10.0), (60, 2.0)], "samples 46 days apart, more than 14"),
        ([(7, 20.0), (14, 10.0)], "no value on or after day 28"),
    ],
)
def test_an_auc_that_cannot_be_computed_is_empty_with_its_reason(tmp_path, values, reason):
    con = stored(tmp_path, [(day, "CART", value) for day, value in values])
    row = con.execute("SELECT * FROM patient_kinetics").df().iloc[0]
    assert pd.isna(row["auc_0_28"]) and row["auc_not_evaluable"] == reason


def test_an_auc_starts_at_day_0_with_no_car_t_cells_before_the_infusion(tmp_path: Path) -> None:
    # (0, 0) - (7, 20) - (14, 10) - (28, 4) - (35, 1): 70 + 105 + 98 = 273 cells/µL x days.
    con = stored(tmp_path, [(7, "CART", 20.0), (14, "CART", 10.0), (28, "CART", 4.0),
                            (35, "CART", 1.0)])  # fmt: skip
    row = con.execute("SELECT * FROM patient_kinetics").df().iloc[0]
    assert row["auc_0_28"] == pytest.approx(273.0) and row["auc_from_day"] == 0
    # Still detectable at the last sample: persistence has not ended, so no "last detectable".
    assert pd.isna(row["last_detectable_day"]) and row["last_sample_day"] == 35
    assert summary.car_t_lines(con.execute("SELECT * FROM patient_kinetics").df())[1] == (
        "Last measured",
        "day 35 (still detectable)",
    )


def test_last_detectable_needs_a_later_sample_that_was_not_detectable(tmp_path: Path) -> None:
    con = stored(tmp_path, [(7, "CART", 20.0), (90, "CART", 3.0), (120, "CART", 0.5, "<")])
    row = con.execute("SELECT * FROM patient_kinetics").df().iloc[0]
    assert row["last_detectable_day"] == 90 and not row["detectable_at_last"]


# --- the published case -----------------------------------------------------------------------


def test_the_published_case_says_only_what_the_abstract_says(default_store: Path) -> None:
    con = open_read_only(default_store)
    try:
        k = run_query(con, "patient_kinetics", patient_id="NICOLAI-2024")
        undated = run_query(con, "patient_undated_observations", patient_id="NICOLAI-2024")
    finally:
        con.close()
    # One reported value: no AUC, and "last measured", not "last detectable" (the abstract
    # reports the peak, not when CAR T cells became undetectable).
    assert summary.car_t_lines(k) == [
        ("AUC0–28", "not evaluable (fewer than two values on days 0-28)"),
        ("Last measured", "day 7 (still detectable)"),
    ]
    # "At week 2 in the bone marrow": kept in the source's words, not as day 14.
    assert undated[["specimen", "timing", "qualifier"]].values.tolist() == [
        ["bone_marrow", "week 2", "not_detected"]
    ]


# --- the whole default store against the pure rules -------------------------------------------


def _read(store: Path, sql: str) -> pd.DataFrame:
    con = duckdb.connect(str(store), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def _pre_treatment_baseline(obs: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """The baseline rule written out plainly, patient by patient (not the store's SQL)."""
    starts = (
        events[(events["kind"] == "lymphodepletion") & events["start_day"].notna()]
        .groupby("patient_id")["start_day"]
        .min()
    )
    rows = []
    for (pid, code, specimen), group in obs.groupby(["patient_id", "code", "specimen"]):
        start = starts.get(pid)
        before = group[group["day"] <= 0]
        if start is not None:
            before = before[before["day"] < start]
        last = before.sort_values("day").tail(1)
        value = last["value"].fillna(0.0).iloc[0] if len(last) else None  # not detected: 0
        rows.append({"patient_id": pid, "code": code, "specimen": specimen,
                     "baseline_day": last["day"].iloc[0] if len(last) else None,
                     "baseline": value})  # fmt: skip
    return pd.DataFrame(rows)


def test_every_stored_grade_equals_the_rule_applied_to_its_row(default_store: Path) -> None:
    codes = "', '".join(sorted(ctcae.GRADABLE))
    obs = _read(
        default_store,
        "SELECT o.patient_id, o.day, o.code, o.specimen, o.value, o.qualifier, "
        "coalesce(o.ref_low, p.ref_low) AS ref_low, coalesce(o.ref_high, p.ref_high) AS ref_high "
        f"FROM observations o JOIN parameters p USING (code) WHERE o.code IN ('{codes}') "
        "AND o.day IS NOT NULL",
    )
    events = _read(default_store, "SELECT patient_id, kind, start_day FROM events")
    expected = obs.merge(_pre_treatment_baseline(obs, events),
                         on=["patient_id", "code", "specimen"])  # fmt: skip
    expected["expected"] = [
        ctcae.grade(r.code, r.value, r.ref_low, r.ref_high, r.baseline,
                    None if pd.isna(r.qualifier) else r.qualifier)
        for r in expected.itertuples()
    ]  # fmt: skip
    got = _read(default_store, "SELECT patient_id, day, code, specimen, grade FROM lab_grades")
    both = expected.merge(got, on=["patient_id", "day", "code", "specimen"], how="outer",
                          indicator=True)  # fmt: skip
    assert (both["_merge"] == "both").all(), both[both["_merge"] != "both"].head()
    stored_grade = both["grade"].astype("Float64").fillna(-1).to_numpy()
    rule_grade = pd.Series(both["expected"], dtype="Float64").fillna(-1).to_numpy()
    mismatch = both[stored_grade != rule_grade]
    assert mismatch.empty, mismatch.head()
    # The abnormal-baseline rule matters on this store: ALT/AST after an abnormal baseline graded
    # against the ULN would be over-graded.
    transaminases = expected[expected["code"].isin(["ALT", "AST"]) & (expected["day"] > 0)]
    naive = [
        ctcae.grade(r.code, r.value, r.ref_low, r.ref_high) for r in transaminases.itertuples()
    ]
    over = (np.array(naive, dtype=float) > transaminases["expected"].to_numpy(dtype=float)).sum()
    assert over > 0.2 * len(transaminases)


def test_every_treatment_emergent_grade_follows_the_rule(default_store: Path) -> None:
    graded = _read(default_store, "SELECT * FROM lab_grades WHERE specimen = 'blood'")
    table = _read(default_store, "SELECT * FROM lab_toxicity").set_index(["patient_id", "code"])
    events = _read(default_store, "SELECT patient_id, kind, start_day FROM events")
    base = _pre_treatment_baseline(graded, events).set_index(["patient_id", "code"])
    assert len(table) == graded.groupby(["patient_id", "code"]).ngroups
    for (pid, code), rows in graded.groupby(["patient_id", "code"]):
        baseline_day = base.loc[(pid, code), "baseline_day"]
        at_base = rows[rows["day"] == baseline_day]["grade"]
        baseline_grade = at_base.iloc[0] if len(at_base) and pd.notna(at_base.iloc[0]) else None
        after = rows[(rows["day"] >= 1) & rows["grade"].notna()]
        worse = after[after["grade"] > (baseline_grade or 0)]
        emergent = int(worse["grade"].max()) if len(worse) else (0 if len(after) else None)
        row = table.loc[(pid, code)]
        assert (None if pd.isna(row["emergent_grade"]) else row["emergent_grade"]) == emergent
        assert (None if pd.isna(row["baseline_grade"]) else row["baseline_grade"]) == (
            baseline_grade
        )


def test_every_derived_kinetics_row_equals_the_rule_on_the_raw_table(default_store: Path) -> None:
    obs = _read(default_store, "SELECT * FROM observations WHERE day IS NOT NULL")
    meta = dict(_read(default_store, "SELECT key, value FROM store_meta").values.tolist())
    cart = kinetics.car_t_kinetics(
        obs[obs["code"] == "CART"],
        auc_end=int(meta["derived_auc_end_day"]),
        pre_infusion_level=float(meta["derived_car_t_pre_infusion_level"]),
        max_gap=int(meta["derived_auc_max_gap_days"]),
    )
    got = _read(default_store, "SELECT * FROM patient_kinetics ORDER BY patient_id")
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True), cart.reset_index(drop=True), check_dtype=False
    )
    aplasia = kinetics.bcell_aplasia(obs[obs["code"] == "CD19"])
    got = _read(default_store, "SELECT * FROM bcell_aplasia ORDER BY patient_id")
    pd.testing.assert_frame_equal(got, aplasia, check_dtype=False)
    events = _read(default_store, "SELECT * FROM events")
    early = hematotox.icaht(obs[obs["code"] == "ANC"]).set_index("patient_id")
    got = _read(default_store, "SELECT * FROM patient_hematotox").set_index("patient_id")
    assert got["icaht_early_grade"].to_dict() == early["early_grade"].astype(object).to_dict()
    score = hematotox.car_hematotox(
        obs[obs["code"].isin(hematotox.HEMATOTOX_COMPONENTS)],
        events[(events["kind"] == "lymphodepletion") & (events["start_day"] < 0)],
    ).set_index("patient_id")
    assert got["hematotox_score"].to_dict() == score["score"].astype(object).to_dict()


def test_a_new_users_import_is_graded_by_the_rule(tmp_path: Path) -> None:
    """The cases at the top of issue 11, through `carta import` as a new user would bring them."""
    from carta.build import build_store
    from carta.ingest.importer import import_files
    from tests.handmade import file_header

    store = build_store(tmp_path / "store" / "carta.duckdb", n_patients=0,
                        include_published=False).path  # fmt: skip
    folder = tmp_path / "centre"
    folder.mkdir()
    (folder / "sources.csv").write_text(
        file_header("sources") + "\nsite-a,site,Site A,,\n", encoding="utf-8"
    )
    (folder / "patients.csv").write_text(
        file_header("patients") + "\nA-01,site-a,Site A,M,12,JDM,,,,,,120,,false\n",
        encoding="utf-8",
    )
    rows = [
        "A-01,-6,AST,200,U/L,,34,blood,,site-a,",  # baseline above the ULN
        "A-01,14,AST,180,U/L,,34,blood,,site-a,",  # 0.9 x baseline: grade 0
        "A-01,7,ANC,0.5,10*9/L,1.5,,blood,<,site-a,",  # < 0.5: grade 4
        "A-01,8,PLT,25,10*9/L,150,,blood,<,site-a,",  # < 25: grade 4
        "A-01,9,LYMPH,0.2,10*9/L,1.0,,blood,<,site-a,",  # < 0.2: grade 4
        "A-01,10,ANC,,10*9/L,1.5,,blood,not_detected,site-a,",  # not detected: grade 4
    ]
    (folder / "observations.csv").write_text(
        file_header("observations") + "\n" + "\n".join(rows) + "\n", encoding="utf-8"
    )
    result = import_files(sorted(folder.iterdir()), store)
    assert all(f.rejected == 0 for f in result.files), [f.problems for f in result.files]
    assert result.accepted == 1 + 1 + len(rows) and result.version is not None
    con = open_read_only(store)
    try:
        got = run_query(con, "patient_observations", patient_id="A-01", baseline_from=-60,
                        baseline_to=0)  # fmt: skip
        toxicity = run_query(con, "patient_lab_toxicity", patient_id="A-01")
    finally:
        con.close()
    grade = {(r.code, r.day): r.grade for r in got.itertuples()}
    assert grade[("AST", 14)] == 0
    assert grade[("ANC", 7)] == grade[("PLT", 8)] == grade[("LYMPH", 9)] == grade[("ANC", 10)] == 4
    ast = toxicity.set_index("code").loc["AST"]
    assert (ast["baseline_grade"], ast["emergent_grade"]) == (0, 0) and not ast["range_default"]


def test_every_stored_haematotoxicity_and_recovery_row_follows_the_rules(default_store) -> None:
    """patient_hematotox and patient_recovery, column by column, against the pure rules run on
    the raw observations with the store's recorded settings."""
    from carta import derive

    obs = _read(default_store, "SELECT * FROM observations WHERE day IS NOT NULL")
    meta = dict(_read(default_store, "SELECT key, value FROM store_meta").values.tolist())
    hold = int(meta["derived_haematotox_last_hold_days"])
    least = int(meta["derived_haematotox_min_values"])
    assert (hold, least) == (derive.HAEMATOTOX_LAST_HOLD_DAYS, derive.HAEMATOTOX_MIN_VALUES)
    anc = hematotox.icaht(obs[obs["code"] == "ANC"], last_hold_days=hold).set_index("patient_id")
    plt = hematotox.t_icaht(obs[obs["code"] == "PLT"], last_hold_days=hold).set_index("patient_id")
    got = _read(default_store, "SELECT * FROM patient_hematotox").set_index("patient_id")
    expected = {
        "icaht_early_grade": anc["early_grade"].mask(anc["early_n_values"] < least),
        "icaht_late_grade": anc["late_grade"],
        "anc_days_le_500_d0_30": anc["early_days_le_500"],
        "anc_days_le_100_d0_30": anc["early_days_le_100"],
        "icaht_recovery_day": anc["early_recovery_day"],
        "t_icaht_early_grade": plt["early_grade"].mask(plt["early_n_values"] < least),
        "t_icaht_late_grade": plt["late_grade"],
        "plt_days_lt_20_d0_30": plt["early_days_lt_20"],
        "plt_recovery_day": plt["recovery_day"],
        "plt_below_20": plt["early_days_lt_20"].gt(0) | plt["late_n_lt_20"].gt(0),
    }
    for column, values in expected.items():
        mine = got[column].reindex(values.index)
        assert (
            mine.astype("Float64").fillna(-1).tolist()
            == values.astype("Float64").fillna(-1).tolist()
        ), column
    recovery = kinetics.anc_recovery(obs[obs["code"] == "ANC"]).set_index("patient_id")
    stored = _read(default_store, "SELECT * FROM patient_recovery").set_index("patient_id")
    for mine, rule in (("anc_nadir", "nadir"), ("anc_recovery_day", "recovery_day"),
                       ("days_anc_below_0_5_d0_30", "days_below_0_5_in_0_30")):  # fmt: skip
        left = stored[mine].reindex(recovery.index).astype("Float64").fillna(-1)
        assert left.tolist() == recovery[rule].astype("Float64").fillna(-1).tolist(), mine


def test_a_single_count_gives_no_icaht_grade(tmp_path: Path) -> None:
    # One ANC '<0.5' on day 7: no longer held to day 30, and one value is not enough for a grade.
    con = stored(tmp_path, [(7, "ANC", 0.5, "<"), (7, "PLT", 15.0)])
    row = con.execute("SELECT * FROM patient_hematotox").df().iloc[0]
    assert pd.isna(row["icaht_early_grade"]) and pd.isna(row["t_icaht_early_grade"])


def test_two_counts_give_an_icaht_grade_from_what_they_show(tmp_path: Path) -> None:
    # ANC 0.4 on day 3 and 0.3 on day 10, then 2.0 on day 14: <= 0.5 from day 3 to day 13,
    # 11 days (each value held to the next) -> ICAHT early grade 2 (7-13 days).
    con = stored(tmp_path, [(3, "ANC", 0.4), (10, "ANC", 0.3), (14, "ANC", 2.0), (17, "ANC", 2.2),
                            (21, "ANC", 2.5)])  # fmt: skip
    row = con.execute("SELECT * FROM patient_hematotox").df().iloc[0]
    assert row["anc_days_le_500_d0_30"] == 11 and row["icaht_early_grade"] == 2


def test_a_lymphodepletion_dated_after_the_infusion_does_not_move_the_baseline(tmp_path) -> None:
    # Lymphodepletion wrongly dated day 2: the baseline is still on or before day 0 (ANC 3.0 on
    # day -6), so the grade-4 count on day 10 is treatment-emergent.
    events = [("lymphodepletion", "Fludarabine", 2, 4), ("infusion", "CD19 CAR T", 0, 0)]
    con = stored(tmp_path, [(-6, "ANC", 3.0), (1, "ANC", 0.2), (10, "ANC", 0.3)], events)
    row = toxicity(con, "ANC")
    assert (row["baseline_day"], row["baseline_grade"], row["emergent_grade"]) == (-6, 0, 4)


def test_a_not_detected_baseline_is_the_baseline_value_of_its_day(tmp_path: Path) -> None:
    # ANC 3.0 on day -7, not detected on day -6 (grade 4): the baseline is day -6's, and day and
    # value come from the same row.
    con = stored(tmp_path, [(-7, "ANC", 3.0), (-6, "ANC", None, "not_detected"), (7, "ANC", 0.8)])
    baseline = con.execute(
        "SELECT DISTINCT baseline_day, baseline FROM lab_grades WHERE code = 'ANC'"
    ).fetchall()
    assert baseline == [(-6, 0.0)]


def test_licats_is_never_read_as_icans_or_crs(default_store: Path) -> None:
    from carta import case
    from carta.store import store_info

    con = open_read_only(default_store)
    try:
        events = run_query(con, "patient_adverse_events", patient_id="SYN-00002")
        assert (events["category"] == "LICATS").any() and not (events["category"] == "ICANS").any()
        summary_case = case.load_case(
            lambda name, **p: run_query(con, name, **p), store_info(con), "SYN-00002", False
        )
    finally:
        con.close()
    figures = {f.label: f.value for f in summary_case.document.figures}
    assert figures["Worst ICANS"] == "not reported"


def test_infection_categories_follow_the_term(tmp_path: Path) -> None:
    con = duckdb.connect(str(hand_store(tmp_path / "s.duckdb", [])))
    terms = ["Septic shock", "Bacteremia", "Cystitis noninfective", "Upper respiratory infection"]
    for term in terms:
        con.execute(
            "INSERT INTO adverse_events (patient_id, term, grade, grading_system, onset_day, "
            "source_id) VALUES (?, ?, 2, 'CTCAE v5.0', 20, 'hand')",
            [PATIENT, term],
        )
    con.close()
    con = open_read_only(tmp_path / "s.duckdb")
    try:
        infections = run_query(con, "safety_infections", patients=[PATIENT])
    finally:
        con.close()
    assert sorted(infections["term"]) == ["Bacteremia", "Septic shock",
                                          "Upper respiratory infection"]  # fmt: skip


def test_immune_reconstitution_lines() -> None:
    observations = pd.DataFrame(
        {"code": ["IGG"] * 4, "day": [-6, 28, 90, 180], "value": [9.8, 5.1, 3.2, 3.6]}
    )
    events = pd.DataFrame(
        {"kind": ["medication"], "name": ["IVIG"], "start_day": [90], "end_day": [180]}
    )
    assert summary.immune_lines(observations, events, 4.0) == [
        "IgG below 4 g/L from day 90 (2 of 3 values; lowest 3.2 g/L on day 90)",
        "IVIG: 1 course(s), days 90 to 180",
    ]
    assert summary.immune_lines(observations[:2], events.iloc[0:0], 4.0) == [
        "IgG never below 4 g/L after the infusion (lowest 5.1 g/L on day 28)"
    ]


def test_a_published_follow_up_in_words_is_not_censored_at_the_last_value(default_store):
    con = open_read_only(default_store)
    try:
        rows = run_query(con, "safety_recovery_times", patients=["NICOLAI-2024"])
    finally:
        con.close()
    from carta.measures import safety

    assert pd.isna(rows["follow_up_day"].iloc[0])
    left_out = safety.recovery_durations(rows).left_out
    assert left_out["patient_id"].tolist() == ["NICOLAI-2024"]
