"""Derived tables: the clinical rules of carta/measures applied to a whole store at publish time.

Every view and every SQL client then reads the same results, instantly, at any cohort size. The
settings the rules ran with (measure set, thresholds) are returned for store_meta, so that a view
can say which rule produced what it shows.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from carta import dictionary
from carta.measures import (
    cohort,
    completeness,
    ctcae,
    exposure,
    hematotox,
    kinetics,
    quality,
    remission,
    response,
    serology,
    summary,
)
from carta.membership import among
from carta.store import insert_frame, insert_query_result, run_query

# ICAHT and T-ICAHT from sparse counts ([U] design rules, docs/rules.md): a patient's last value
# holds at most this many days, and a window needs this many values for a grade, so that one low
# value is never carried to day 30 and a grade never rests on a single count.
HAEMATOTOX_LAST_HOLD_DAYS = 7
HAEMATOTOX_MIN_VALUES = 2

# The settings the derived tables are computed with. Rules marked [U] in docs/rules.md are here
# so that they are settings, recorded in store_meta, rather than constants in the code.
DEFAULT_SETTINGS = {
    "tis_measure_set": "IMACS",
    "tis_population": "JDM",
    "bcell_depletion_threshold": kinetics.DEFAULT_DEPLETION_THRESHOLD,
    "bcell_recovery_threshold": kinetics.DEFAULT_RECOVERY_THRESHOLD,
    "auc_end_day": kinetics.AUC_END_DAY,
    "car_t_pre_infusion_level": kinetics.PRE_INFUSION_LEVEL,
    "auc_max_gap_days": kinetics.AUC_MAX_GAP_DAYS,
    "hypogamma_igg_threshold": summary.HYPOGAMMA_IGG_THRESHOLD,
    "haematotox_last_hold_days": HAEMATOTOX_LAST_HOLD_DAYS,
    "haematotox_min_values": HAEMATOTOX_MIN_VALUES,
}

RESPONSE_CODES = ["PGA", "PARENT_GA", "CHAQ", "EXTRAMUSC", "MMT8", "CMAS", "DAS",
                  "CK", "ALDOLASE", "LDH", "AST", "ALT"]  # fmt: skip


def derive_tables(con: duckdb.DuckDBPyConnection, settings: dict | None = None) -> dict[str, str]:
    """Fill the derived tables of a store being built; return the settings for store_meta."""
    settings = DEFAULT_SETTINGS | (settings or {})
    for _name, step in STEPS:
        step(con, settings)
    return {f"derived_{key}": str(value) for key, value in settings.items()}


def _timepoint_values(con: duckdb.DuckDBPyConnection, settings: dict) -> None:
    # The one implementation of the rule, the cohort explorer's, with the store's windows.
    windows = cohort.windows_param(run_query(con, "timepoint_windows"))
    codes = run_query(con, "parameter_codes")["code"].tolist()
    for patients in patient_id_batches(con):
        insert_query_result(con, "timepoint_values", "cohort_values_at_timepoints",
                            windows=windows, codes=codes, patients=patients)  # fmt: skip


# Patients computed at a time by the steps: a registry's rows are never all in memory at once
# (about 190 graded results per synthetic patient, so some 2 million rows a batch), and each
# step's time grows with the patients rather than faster. At 100,000 patients the
# haematotoxicity step alone held 4 GB when it took everyone at once, and the timepoint values
# took 35 times as long as for 10,000.
BATCH_PATIENTS = 10_000
EVERYONE = ("", "\uffff")  # the (first, last) patient ids of a range that holds every id


def patient_id_batches(con: duckdb.DuckDBPyConnection) -> list[list[str]]:
    """The patient ids, sorted, in consecutive batches of BATCH_PATIENTS."""
    ids = sorted(run_query(con, "patient_ids", search="", max_rows=2**31 - 1)["patient_id"])
    return [ids[i : i + BATCH_PATIENTS] for i in range(0, len(ids), BATCH_PATIENTS)]


def patient_batches(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(first, last) patient ids of consecutive batches of BATCH_PATIENTS patients, by id."""
    return [(batch[0], batch[-1]) for batch in patient_id_batches(con)]


def _observations(
    con: duckdb.DuckDBPyConnection, codes: list[str], batch: tuple[str, str] = EVERYONE
) -> pd.DataFrame:
    return run_query(con, "observations_of_codes", codes=codes, first_patient=batch[0],
                     last_patient=batch[1])  # fmt: skip


def _lab_grades(con: duckdb.DuckDBPyConnection, settings: dict) -> None:
    # Graded in SQL (queries/lab_grade_rows.sql), held by the tests to ctcae.grade_frame's grades:
    # at 100,000 patients there are some 19 million results to grade.
    for first, last in patient_batches(con):
        insert_query_result(con, "lab_grades", "lab_grade_rows", cuts=ctcae.cut_rows(),
                            first_patient=first, last_patient=last)  # fmt: skip
    insert_query_result(con, "lab_toxicity", "lab_toxicity_rows")


def _kinetics(con: duckdb.DuckDBPyConnection, settings: dict) -> None:
    for batch in patient_batches(con):
        _kinetics_of(con, settings, batch)


def _kinetics_of(con: duckdb.DuckDBPyConnection, settings: dict, batch: tuple[str, str]) -> None:
    cells = _observations(con, ["CART", "CD19"], batch)
    cart = cells[cells["code"] == "CART"]
    cd19 = cells[cells["code"] == "CD19"]
    insert_frame(
        con,
        "patient_kinetics",
        kinetics.car_t_kinetics(
            cart,
            auc_end=settings["auc_end_day"],
            pre_infusion_level=settings["car_t_pre_infusion_level"],
            max_gap=settings["auc_max_gap_days"],
        ),
    )
    insert_frame(
        con,
        "bcell_aplasia",
        kinetics.bcell_aplasia(
            cd19,
            depletion_threshold=settings["bcell_depletion_threshold"],
            recovery_threshold=settings["bcell_recovery_threshold"],
        ),
    )
    labs = _observations(con, ["ANC", "CK"], batch)
    anc = kinetics.anc_recovery(labs[labs["code"] == "ANC"]).rename(
        columns={
            "nadir": "anc_nadir",
            "nadir_day": "anc_nadir_day",
            "severe": "severe_neutropenia",
            "recovery_day": "anc_recovery_day",
            "days_below_0_5_in_0_30": "days_anc_below_0_5_d0_30",
        }
    )
    ck = kinetics.ck_normalisation(labs[labs["code"] == "CK"]).rename(
        columns={
            "sustained_normal_day": "ck_sustained_normal_day",
            "normal_at_last": "ck_normal_at_last",
        }
    )
    recovery = anc.merge(ck, on="patient_id", how="outer")
    insert_frame(con, "patient_recovery", recovery)


def _hematotox(con: duckdb.DuckDBPyConnection, settings: dict) -> None:
    for batch in patient_batches(con):
        _hematotox_of(con, settings, batch)


def _hematotox_of(con: duckdb.DuckDBPyConnection, settings: dict, batch: tuple[str, str]) -> None:
    labs = _observations(con, list(hematotox.HEMATOTOX_COMPONENTS), batch)
    regimen = run_query(con, "lymphodepletion_starts", first_patient=batch[0],
                        last_patient=batch[1])  # fmt: skip
    hold, least = settings["haematotox_last_hold_days"], settings["haematotox_min_values"]
    early = hematotox.icaht(labs[labs["code"] == "ANC"], last_hold_days=hold)
    platelets = hematotox.t_icaht(labs[labs["code"] == "PLT"], last_hold_days=hold)
    early["early_grade"] = early["early_grade"].mask(early["early_n_values"] < least)
    platelets["early_grade"] = platelets["early_grade"].mask(platelets["early_n_values"] < least)
    platelets["below_20"] = platelets["early_days_lt_20"].gt(0) | platelets["late_n_lt_20"].gt(0)
    score = hematotox.car_hematotox(labs, regimen[regimen["start_day"] < 0])
    rows = (
        early.set_index("patient_id")[
            ["early_grade", "late_grade", "early_days_le_500", "early_days_le_100",
             "early_recovery_day"]
        ]
        .set_axis(["icaht_early_grade", "icaht_late_grade", "anc_days_le_500_d0_30",
                   "anc_days_le_100_d0_30", "icaht_recovery_day"], axis=1)
        .join(
            platelets.set_index("patient_id")[
                ["early_grade", "late_grade", "early_days_lt_20", "recovery_day", "below_20"]
            ].set_axis(["t_icaht_early_grade", "t_icaht_late_grade", "plt_days_lt_20_d0_30",
                        "plt_recovery_day", "plt_below_20"], axis=1),
            how="outer",
        )
        .join(
            score.set_index("patient_id")[["score", "risk_group", "missing_components"]]
            .set_axis(["hematotox_score", "hematotox_risk", "hematotox_missing"], axis=1),
            how="outer",
        )
    )  # fmt: skip
    rows["hematotox_missing"] = rows["hematotox_missing"].replace("", None)
    insert_frame(con, "patient_hematotox", rows.rename_axis("patient_id").reset_index())


def _response(con: duckdb.DuckDBPyConnection, settings: dict) -> None:
    patients = run_query(con, "patient_last_days").set_index("patient_id")["indication"]
    for first, last in patient_batches(con):
        values = run_query(con, "timepoint_values_of_codes", codes=RESPONSE_CODES,
                           first_patient=first, last_patient=last)  # fmt: skip
        rows = response_by_indication(
            values, patients, settings["tis_measure_set"], settings["tis_population"]
        )
        if not rows.empty:
            insert_frame(con, "response_by_timepoint", rows)


def tis_population(indication: object, unspecified: str) -> str | None:
    """The TIS thresholds a patient is scored with, from the indication
    (data/reference/indications.csv: JDM 30/45/70, adult myositis 20/40/60); a patient whose
    indication is not given is scored with the setting `unspecified` (flagged where shown);
    None for lupus and systemic sclerosis, which have no TIS."""
    if not isinstance(indication, str) or not indication:
        return unspecified
    known = dictionary.indications().set_index("indication")["tis_population"]
    found = known.get(indication)
    return found if isinstance(found, str) and found else None


def response_by_indication(
    values: pd.DataFrame,
    indications: pd.Series,
    measure_set: str,
    unspecified: str,
    baseline: str = "Baseline",
) -> pd.DataFrame:
    """response_rows for every patient of `values`, each with the thresholds of their
    indication (`indications`: patient_id -> indication); empty when no patient has a TIS."""
    # One lookup per indication, not per patient: a registry has a handful of indications.
    by_indication = {i: tis_population(i, unspecified) for i in indications.dropna().unique()}
    per_patient = indications.map(by_indication).where(indications.notna(), unspecified)
    population = values["patient_id"].map(per_patient)
    frames = [
        response_rows(values[population == group], measure_set, group, baseline=baseline)
        for group in population.dropna().unique()
    ]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _exposure(con: duckdb.DuckDBPyConnection, settings: dict) -> None:
    events = run_query(con, "medication_events")
    patients = run_query(con, "patient_last_days")
    last = patients.set_index("patient_id")["last_day"]
    insert_frame(con, "patient_exposure", exposure.patient_exposure(events, last))


def _remission(con: duckdb.DuckDBPyConnection, settings: dict) -> None:
    patients = run_query(con, "patient_last_days")
    indications = patients.set_index("patient_id")["indication"]
    wanted = indications.isin(list(remission.DEFINITIONS))
    if not wanted.any():
        return
    values = run_query(con, "timepoint_values_of_codes", codes=list(remission.INPUT_CODES),
                       first_patient=EVERYONE[0], last_patient=EVERYONE[1])  # fmt: skip
    events = run_query(con, "medication_events")
    periods = exposure.exposure_periods(events, patients.set_index("patient_id")["last_day"])
    recorded = set(events["patient_id"])
    adverse = run_query(con, "adverse_event_terms")
    rows = remission.remission_rows(values, indications[wanted], periods, recorded, adverse)
    insert_frame(con, "remission_by_timepoint", rows)


def _serology(con: duckdb.DuckDBPyConnection, settings: dict) -> None:
    insert_frame(
        con, "serology_status", serology.serology_status(run_query(con, "serology_results"))
    )


def _completeness(con: duckdb.DuckDBPyConnection, settings: dict) -> None:
    # In SQL: at registry scale the grid has tens of millions of cells (issue 17). The rule's
    # reference implementation, completeness.grid, is held to the same rows by the tests.
    for first, last in patient_batches(con):
        insert_query_result(con, "follow_up_completeness", "follow_up_completeness_grid",
                            first_patient=first, last_patient=last,
                            **completeness.grid_parameters())  # fmt: skip


def _quality(con: duckdb.DuckDBPyConnection, settings: dict) -> None:
    ranges = dictionary.plausible_ranges()
    bounds = {"codes": ranges["code"].tolist(),
              "lows": ranges["plausible_low"].astype("float64").tolist(),
              "highs": ranges["plausible_high"].astype("float64").tolist()}  # fmt: skip
    # A few rows a patient, read once; the gaps and the scheduled values a batch at a time (at
    # 100,000 patients they are millions of rows, and this step held the build's peak memory).
    few = {
        "implausible_values": run_query(con, "implausible_values", **bounds),
        "infusions": run_query(con, "infusion_days"),
        "adverse_events": run_query(con, "adverse_event_onsets"),
    }
    schedules = list(_schedules(con))
    parts = []
    for first, last in patient_batches(con):
        batch = {"first_patient": first, "last_patient": last}
        inputs = few | {
            "gaps": run_query(con, "completeness_gaps", **batch),
            "scheduled": run_query(con, "schedule_observations",
                                   codes=completeness.scheduled_codes(), **batch),
        }  # fmt: skip
        for _name, visits, people in schedules:
            people = people[people["patient_id"].between(first, last)]
            if people.empty:
                continue
            ids = people["patient_id"]
            mine = {key: frame[among(frame["patient_id"], ids)] for key, frame in inputs.items()}
            parts.append(quality.findings(**mine, patients=people, visits=visits))
    if parts:
        insert_frame(con, "quality_findings", pd.concat(parts, ignore_index=True))


def record_quality_history(con: duckdb.DuckDBPyConnection, version: int) -> None:
    """Add this version's findings, counted per source and check, to quality_history (carried
    from the versions before it)."""
    insert_query_result(con, "quality_history", "quality_counts_by_source", version=version,
                        published_at=dt.datetime.now(dt.UTC).replace(tzinfo=None))  # fmt: skip


def _schedules(con: duckdb.DuckDBPyConnection):
    return completeness.schedules(
        run_query(con, "patient_last_days"), run_query(con, "visit_schedule_rows")
    )


def response_rows(
    values: pd.DataFrame,
    measure_set: str,
    population: str,
    baseline: str = "Baseline",
) -> pd.DataFrame:
    """TIS and CID per patient and visit window, as the table response_by_timepoint holds them.

    `values` has the columns of queries/timepoint_values_of_codes.sql. The trajectory page calls
    this too, for one patient, when a user picks another measure set or thresholds.
    """
    tis = response.tis_frame(
        values, measure_set=measure_set, population=population, baseline=baseline
    )
    cid = response.cid_frame(values).rename(
        columns={"n_met": "cid_n_met", "n_assessed": "cid_n_assessed",
                 "criteria_met": "cid_criteria_met"}
    )  # fmt: skip
    if population != "JDM":
        # PRINTO inactive disease is a JDM definition (Lazarevic 2013): adults have none.
        none = [None] * len(cid)
        cid = cid.assign(
            cid=pd.array(none, dtype="boolean"),
            cid_n_met=pd.array(none, dtype="Int64"),
            cid_n_assessed=pd.array(none, dtype="Int64"),
            cid_criteria_met=pd.Series(none, index=cid.index, dtype=object),
        )
    order = values.drop_duplicates("timepoint")[["timepoint", "timepoint_sort", "nominal_day"]]
    rows = cid.merge(tis, on=["patient_id", "timepoint"], how="outer").merge(order, on="timepoint")
    # A window where no response measure was taken says nothing: leave it out rather than show
    # an undecidable CID (the published case, for one, reports no score at all).
    assessed = rows["cid_n_assessed"].fillna(0).gt(0) | rows["n_components"].fillna(0).gt(0)
    return rows[assessed].sort_values(["patient_id", "timepoint_sort"]).reset_index(drop=True)


# In order: the response step reads timepoint_values.
STEPS = (
    ("timepoint_values", _timepoint_values),
    ("lab_grades", _lab_grades),
    ("kinetics, aplasia, recovery", _kinetics),
    ("haematotoxicity", _hematotox),
    ("response_by_timepoint", _response),
    ("patient_exposure", _exposure),
    ("remission_by_timepoint", _remission),
    ("serology_status", _serology),
    ("follow_up_completeness", _completeness),
    ("quality_findings", _quality),
)
