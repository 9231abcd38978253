"""SLEDAI-2K, DORIS 2021, LLDAS and the revised EUSTAR activity index, worked by hand: the pure
rules (carta/measures/remission.py) and the stored table remission_by_timepoint give the same
answers, including at the boundaries the definitions draw (PGA exactly 0.5 and 1, prednisone
exactly 5 and 7.5 mg/day)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from carta.charts.trajectory import GLUCOCORTICOID_TITLE
from carta.measures import exposure, remission
from tests.conftest import open_page
from tests.handmade import PATIENT, hand_store
from tests.test_trajectory_page import the_spec

NO_ITEMS = dict.fromkeys(remission.WEIGHTS, 0)


def test_sledai_2k_adds_the_weights_of_the_items_present() -> None:
    # Arthritis 4 + proteinuria 4 + low complement 2 + DNA binding 2 = 12; clinical: 8.
    items = NO_ITEMS | {"ARTHRITIS": 1, "PROTEINURIA": 1, "LOWCOMP": 1, "DNA": 1}
    assert remission.sledai_total(items) == (12, 8)
    assert remission.sledai_total(dict.fromkeys(remission.WEIGHTS, 1)) == (105, 101)
    assert remission.sledai_total(NO_ITEMS) == (0, 0)
    # An item not recorded leaves the total unknown; the serology items only the full total.
    assert remission.sledai_total({k: 0 for k in remission.WEIGHTS if k != "RASH"}) == (None, None)
    assert remission.sledai_total({k: 0 for k in remission.WEIGHTS if k != "DNA"}) == (None, 0)


def visit(patient: str, timepoint: str, sort: int, day: int, **values: float) -> list[dict]:
    return [
        {"patient_id": patient, "timepoint": timepoint, "timepoint_sort": sort,
         "nominal_day": day, "code": code, "day": day, "value": value}
        for code, value in values.items()
    ]  # fmt: skip


def items(**present: int) -> dict[str, int]:
    return {f"SLEDAI_{k}": v for k, v in (NO_ITEMS | present).items()}


def prednisone(patient: str, dose: float, start: int = 0, end: int = 400) -> dict:
    return {"patient_id": patient, "kind": "medication", "name": "Prednisone", "start_day": start,
            "end_day": end, "dose": dose, "dose_unit": "mg/day", "dose_basis": None,
            "drug_class": None}  # fmt: skip


def evaluate(values: list[dict], events: list[dict], indication: str = "SLE") -> pd.DataFrame:
    frame = pd.DataFrame(values)
    patients = frame["patient_id"].unique()
    last = pd.Series(400, index=patients)
    periods = exposure.exposure_periods(pd.DataFrame(events), last)
    rows = remission.remission_rows(
        frame, pd.Series(indication, index=patients), periods, set(patients)
    )
    return rows.set_index(["patient_id", "timepoint", "definition"])


@pytest.mark.parametrize(
    ("pga", "dose", "doris", "lldas"),
    [
        (0.4, 5.0, True, True),  # prednisone exactly 5 mg/day: DORIS allows it
        (0.5, 5.0, False, True),  # PGA exactly 0.5 is not below 0.5; LLDAS allows up to 1
        (1.0, 5.0, False, True),  # PGA exactly 1: LLDAS
        (1.01, 5.0, False, False),
        (0.4, 5.01, False, True),
        (0.4, 7.5, False, True),  # prednisone exactly 7.5 mg/day: LLDAS
        (0.4, 7.51, False, False),
    ],
)
def test_doris_and_lldas_at_their_boundaries(pga, dose, doris, lldas) -> None:
    values = visit("L", "Baseline", 0, -7, **items(), PGA_SLE=pga) + visit(
        "L", "M3", 5, 90, **items(), PGA_SLE=pga
    )
    rows = evaluate(values, [prednisone("L", dose, start=-30)])
    assert rows.loc[("L", "M3", "DORIS 2021"), "met"] == doris
    assert rows.loc[("L", "M3", "LLDAS"), "met"] == lldas


def test_clinical_sledai_leaves_out_the_serology_items() -> None:
    # Serologically active, clinically quiet: DORIS in remission, LLDAS at SLEDAI-2K 4.
    values = visit(
        "L", "Baseline", 0, -7, **items(ARTHRITIS=1, LOWCOMP=1, DNA=1), PGA_SLE=2
    ) + visit("L", "M3", 5, 90, **items(LOWCOMP=1, DNA=1), PGA_SLE=0)
    rows = evaluate(values, [prednisone("L", 0, start=0, end=0)])
    doris, lldas = rows.loc[("L", "M3", "DORIS 2021")], rows.loc[("L", "M3", "LLDAS")]
    assert doris["met"] and lldas["met"] and lldas["score"] == 4
    assert "clinical SLEDAI 0 (from the items)" in doris["inputs"]
    baseline = rows.loc[("L", "Baseline", "LLDAS")]
    # Arthritis (4) and serology (2 + 2): SLEDAI-2K 8, and PGA 2.
    assert baseline["criteria_not_met"] == "SLEDAI-2K ≤ 4; physician global ≤ 1"
    assert baseline["criteria_missing"] == "no new activity"  # nothing to compare with


def test_a_major_organ_or_a_new_item_keeps_lldas_away() -> None:
    values = (
        visit("R", "Baseline", 0, -7, **items(), PGA_SLE=0.5)
        + visit("R", "M3", 5, 90, **items(PROTEINURIA=1), PGA_SLE=0.5)  # renal: major, new
        + visit("F", "Baseline", 0, -7, **items(RASH=1), PGA_SLE=0.5)
        + visit("F", "M3", 5, 90, **items(ALOPECIA=1), PGA_SLE=0.5)  # not major, but new
    )
    rows = evaluate(values, [prednisone("R", 0), prednisone("F", 0)])
    renal = rows.loc[("R", "M3", "LLDAS")]
    assert renal["criteria_not_met"] == "no major organ activity; no new activity"
    assert renal["criteria_met"].startswith("SLEDAI-2K ≤ 4")
    assert rows.loc[("F", "M3", "LLDAS"), "criteria_not_met"] == "no new activity"


def test_a_missing_input_is_never_met_and_one_failure_decides() -> None:
    values = visit("M", "M3", 5, 90, CSLEDAI=0, PGA_SLE=0.2) + visit(
        "N", "M3", 5, 90, CSLEDAI=2, PGA_SLE=0.2
    )
    frame = pd.DataFrame(values)
    # No medication recorded at all for these patients: the dose is missing, not 0.
    rows = remission.remission_rows(
        frame, pd.Series("SLE", index=["M", "N"]), exposure.exposure_periods(
            pd.DataFrame([prednisone("other", 1)]), pd.Series({"other": 400})), set()
    ).set_index(["patient_id", "definition"])  # fmt: skip
    undecided = rows.loc[("M", "DORIS 2021")]
    assert pd.isna(undecided["met"]) and undecided["criteria_missing"] == "prednisone ≤ 5 mg/day"
    decided = rows.loc[("N", "DORIS 2021")]
    assert decided["met"] is False or not decided["met"]
    assert decided["criteria_not_met"] == "clinical SLEDAI = 0"


def test_a_recorded_total_of_zero_means_nothing_is_active() -> None:
    values = visit("Z", "M6", 6, 180, SLEDAI2K=0, PGA_SLE=0)
    rows = evaluate(values, [prednisone("Z", 0)])
    assert rows.loc[("Z", "M6", "DORIS 2021"), "met"]
    lldas = rows.loc[("Z", "M6", "LLDAS")]
    assert lldas["met"] and "SLEDAI-2K 0 (recorded)" in lldas["inputs"]


def test_the_revised_eustar_activity_index() -> None:
    # mRSS 20 (> 18: 1.5) and CRP 12 mg/L (> 1 mg/dL: 2.25) = 3.75 >= 2.5: active, though four
    # items are not recorded. DLCO 65 % alone (1.0) with the other five recorded: 1.0, inactive.
    values = visit("S", "M3", 5, 90, MRSS=20, CRP=12) + visit(
        "S", "M6", 6, 180, SKIN_WORSE=0, MRSS=10, DIGITAL_ULCERS=0, TFR=0, CRP=3, DLCO_PCT=65
    )
    rows = evaluate(values, [], indication="SSC")
    early = rows.loc[("S", "M3", "EUSTAR-AI < 2.5")]
    assert early["met"] is False or not early["met"]
    assert pd.isna(early["score"])  # not every item: no score, but the answer is decided
    late = rows.loc[("S", "M6", "EUSTAR-AI < 2.5")]
    assert late["met"] and late["score"] == 1.0
    # Tendon friction rubs alone (2.25) with the rest missing could still reach 2.5: undecided.
    undecided = evaluate(visit("T", "M3", 5, 90, TFR=1), [], indication="SSC")
    assert pd.isna(undecided.loc[("T", "M3", "EUSTAR-AI < 2.5"), "met"])


def test_the_stored_table_holds_what_the_rule_gives(tmp_path: Path) -> None:
    baseline = [(-7, code, v) for code, v in items(ARTHRITIS=1, LOWCOMP=1, DNA=1).items()]
    month3 = [(90, code, v) for code, v in items(LOWCOMP=1, DNA=1).items()]
    store = hand_store(
        tmp_path / "sle.duckdb",
        [*baseline, (-7, "PGA_SLE", 1.5), *month3, (90, "PGA_SLE", 0.5)],
        indication="SLE",
        # 4 mg methylprednisolone = 5 mg prednisone [U]; tapered from 8 mg to 4 mg on day 60.
        medications=[("Methylprednisolone", -30, 59, 8, "mg/day"),
                     ("Methylprednisolone", 60, None, 4, "mg/day")],
    )  # fmt: skip
    con = duckdb.connect(str(store), read_only=True)
    stored = con.execute(
        "SELECT timepoint, definition, met, score, criteria_not_met, inputs "
        "FROM remission_by_timepoint WHERE patient_id = ? ORDER BY timepoint_sort, definition",
        [PATIENT],
    ).df()
    exposure_row = con.execute(
        "SELECT * FROM patient_exposure WHERE patient_id = ?", [PATIENT]
    ).df()
    con.close()
    month = stored[stored["timepoint"] == "M3"].set_index("definition")
    # DORIS: clinical SLEDAI 0 and prednisone 5 mg/day, but PGA exactly 0.5 is not below 0.5.
    assert month.loc["DORIS 2021", "criteria_not_met"] == "physician global < 0.5"
    assert "prednisone-equivalent 5 mg/day (day 90)" in month.loc["DORIS 2021", "inputs"]
    # LLDAS: SLEDAI-2K 4 (serology only), PGA 0.5 <= 1, 5 <= 7.5: met.
    assert bool(month.loc["LLDAS", "met"]) and month.loc["LLDAS", "score"] == 4
    base = stored[stored["timepoint"] == "Baseline"].set_index("definition")
    assert base.loc["LLDAS", "score"] == 8 and base.loc["DORIS 2021", "met"] == False  # noqa: E712
    # Exposure: 8 mg MP = 10 mg prednisone on days 0-59 (60 days), 4 mg = 5 mg on days 60-240
    # (181 days): 600 + 905 = 1,505 mg from the infusion; still on it at the last day (240).
    row = exposure_row.iloc[0]
    assert row["cumulative_pred_eq_mg"] == 1505 and row["pred_eq_mg_at_last"] == 5
    assert row["days_off_glucocorticoids"] == 0 and row["glucocorticoid_events"] == 2


def test_the_dose_lane_on_screen_is_the_stored_dose(tmp_path: Path, monkeypatch) -> None:
    """The same tapered lupus patient on the trajectory: the dose lane steps from 0 to 10 mg/day
    on day -30 and to 5 mg/day on day 60, and its last step is the stored pred_eq_mg_at_last;
    the DORIS and LLDAS ceilings are drawn on it."""
    store = hand_store(
        tmp_path / "sle.duckdb", [(-7, "PGA_SLE", 1.5), (90, "PGA_SLE", 0.5)], indication="SLE",
        medications=[("Methylprednisolone", -30, 59, 8, "mg/day"),
                     ("Methylprednisolone", 60, None, 4, "mg/day")],
    )  # fmt: skip
    con = duckdb.connect(str(store), read_only=True)
    stored = con.execute("SELECT pred_eq_mg_at_last, last_day FROM patient_exposure").fetchone()
    con.close()
    at = open_page(store, monkeypatch, "pages/trajectory.py", patient=PATIENT)
    spec = the_spec(at)
    [lane] = [v for v in spec["vconcat"] if v["title"]["text"] == GLUCOCORTICOID_TITLE]
    line = next(layer for layer in lane["layer"] if layer.get("mark", {}).get("type") == "line")
    steps = [(r["day"], r["pred_eq_mg_per_day"]) for r in spec["datasets"][line["data"]["name"]]]
    assert steps[1:] == [(-30, 10.0), (60, 5.0), (stored[1] + 1, 5.0)]
    assert steps[-1][1] == stored[0] == 5
    rules = [layer for layer in lane["layer"] if "y" in layer.get("encoding", {})
             and layer["mark"]["type"] == "rule"]  # fmt: skip
    ceilings = {r["y"] for layer in rules for r in spec["datasets"][layer["data"]["name"]]}
    assert ceilings == {5.0, 7.5}


def test_the_renal_response_targets_at_3_6_and_12_months(tmp_path: Path) -> None:
    """Lupus nephritis, UPCR 2.0 g/g and eGFR 70 at baseline: 1.5 at month 3 is exactly 25 %
    lower (met); 1.2 at month 6 is 40 % lower, short of 50 % (not met); 0.4 with eGFR 65 at
    month 12 is a complete response (UPCR < 0.5, eGFR within 10 % of baseline); and a patient
    without proteinuria at baseline is not assessed."""
    observations = [(-7, "UPCR", 2.0), (-7, "EGFR", 70.0), (90, "UPCR", 1.5), (180, "UPCR", 1.2),
                    (365, "UPCR", 0.4), (365, "EGFR", 65.0)]  # fmt: skip
    store = hand_store(tmp_path / "ln.duckdb", observations, indication="SLE")
    con = duckdb.connect(str(store), read_only=True)
    stored = con.execute(
        "SELECT timepoint, met, score, criteria_not_met FROM remission_by_timepoint "
        "WHERE definition = ? ORDER BY timepoint_sort",
        [remission.RENAL_RESPONSE],
    ).fetchall()
    con.close()
    assert stored == [("M3", True, 25.0, None),
                      ("M6", False, 40.0, "proteinuria ≥ 50 % lower (6 months)"),
                      ("M12", True, 80.0, None)]  # fmt: skip
    # eGFR 62 at month 12 is neither >= 90 nor within 10 % of 70 (63): not a complete response.
    lower = hand_store(tmp_path / "ln2.duckdb", [*observations[:-1], (365, "EGFR", 62.0)],
                       indication="SLE")  # fmt: skip
    con = duckdb.connect(str(lower), read_only=True)
    [(met, not_met)] = con.execute(
        "SELECT met, criteria_not_met FROM remission_by_timepoint "
        "WHERE definition = ? AND timepoint = 'M12'",
        [remission.RENAL_RESPONSE],
    ).fetchall()
    no_proteinuria = hand_store(tmp_path / "ln3.duckdb", [(-7, "UPCR", 0.3), (90, "UPCR", 0.1)],
                                indication="SLE")  # fmt: skip
    con.close()
    assert (met, not_met) == (False, "near-normal eGFR")
    con = duckdb.connect(str(no_proteinuria), read_only=True)
    assert con.execute("SELECT count(*) FROM remission_by_timepoint WHERE definition = ?",
                       [remission.RENAL_RESPONSE]).fetchone() == (0,)  # fmt: skip
    con.close()


# ACR-CRISS: baseline mRSS 25, FVC 70, patient global 6, physician global 5, HAQ-DI 1.25; at
# month 12 mRSS 20, FVC 75, globals 4 and 3, HAQ-DI 1.0. x = -5.54 - 0.81(-5) + 0.21(+5)
# - 0.40(-2) - 0.44(-2) - 3.41(-0.25) = 2.0925, probability 1 / (1 + e^-2.0925) = 0.8902.
CRISS_BASELINE = {"MRSS": 25.0, "FVC_PCT": 70.0, "PARENT_GA": 6.0, "PGA": 5.0, "CHAQ": 1.25}
CRISS_MONTH_12 = {"MRSS": 20.0, "FVC_PCT": 75.0, "PARENT_GA": 4.0, "PGA": 3.0, "CHAQ": 1.0}


def criss(month_12: dict, adverse: list[tuple] = ()) -> pd.Series:
    values = pd.DataFrame([*visit("S", "Baseline", 0, 0, **CRISS_BASELINE),
                           *visit("S", "M12", 8, 365, **month_12)])  # fmt: skip
    events = pd.DataFrame(adverse or [("S", "Fever", 2)],
                          columns=["patient_id", "term", "onset_day"])  # fmt: skip
    periods = exposure.exposure_periods(pd.DataFrame(), pd.Series({"S": 400}))
    rows = remission.remission_rows(values, pd.Series({"S": "SSC"}), periods, {"S"}, events)
    return rows.set_index("definition").loc[remission.CRISS]


def test_acr_criss_step_2_by_hand_and_step_1_events() -> None:
    changes = {c: CRISS_MONTH_12[c] - CRISS_BASELINE[c] for c in CRISS_BASELINE}
    assert round(remission.criss_probability(changes), 4) == 0.8902
    row = criss(CRISS_MONTH_12)
    assert bool(row["met"]) and round(row["score"], 4) == 0.8902
    # Step 1: FVC exactly 15 % lower (70 -> 59.5) sets the probability to 0, as does a renal
    # crisis recorded before the window; 15 % less a hair does not.
    row = criss(CRISS_MONTH_12 | {"FVC_PCT": 59.5})
    assert row["met"] == False and row["score"] == 0  # noqa: E712
    assert "FVC not ≥ 15 % lower" in row["criteria_not_met"]
    hair = criss(CRISS_MONTH_12 | {"FVC_PCT": 59.51})  # step 1 passed; step 2: x = -1.1604
    assert hair["met"] == False and round(hair["score"], 4) == 0.2386  # noqa: E712
    crisis = criss(CRISS_MONTH_12, [("S", "Scleroderma renal crisis", 200)])
    assert crisis["met"] == False and crisis["score"] == 0  # noqa: E712
    # A change not recorded leaves the probability, and the definition, undecided.
    missing = criss({k: v for k, v in CRISS_MONTH_12.items() if k != "CHAQ"})
    assert pd.isna(missing["met"]) and missing["criteria_missing"] == "probability ≥ 0.6 ⚑"


def test_acr_criss_on_the_stored_table(tmp_path: Path) -> None:
    observations = [*[(-7, code, v) for code, v in CRISS_BASELINE.items()],
                    *[(365, code, v) for code, v in CRISS_MONTH_12.items()]]  # fmt: skip
    store = hand_store(tmp_path / "ssc.duckdb", observations, indication="SSC")
    con = duckdb.connect(str(store), read_only=True)
    [(timepoint, met, score, missing)] = con.execute(
        "SELECT timepoint, met, score, criteria_missing FROM remission_by_timepoint "
        "WHERE definition = ?",
        [remission.CRISS],
    ).fetchall()
    con.close()
    # The hand-made patient's source records no adverse events: step 1 cannot be decided, so
    # neither can the index (a missing input is never met), though step 2 gives 0.8902.
    assert (timepoint, met) == ("M12", None) and round(score, 4) == 0.8902
    assert missing == "no renal crisis, heart failure or PAH recorded"
