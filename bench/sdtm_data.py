"""A synthetic SDTM package for the import benchmarks: DM, EX (one CD19 CAR T infusion per
subject) and an LB domain of any number of rows, made deterministically from a numpy seed.

LB holds ten tests the dictionary knows (ALT, AST, CK, CREAT, CRP, HGB, NEUT, PLAT, WBC, LYM) and
three it does not (B2MICG, HAPTOG, IL2R: kept as other observations). Original results are in
conventional units (mg/dL, g/dL, 10^3/uL), standard results in SI units (umol/L, g/L, 10^9/L),
as CDISC standard units usually are, so creatinine and haemoglobin are converted at import. Each
subject has one result per test and visit (unique per subject, test and day); visits are daily
from the infusion to day 28, weekly after. About 0.5 % of the dates are partial (YYYY-MM, once
per subject and test at most), 5 % of CRP results are below the detection limit ("<0.3"), and
about 0.2 % of the records are NOT DONE (refused at import, with their reason).

Dates: RFSTDTC is the first lymphodepletion day, five days before the infusion (RFXSTDTC, EXSTDTC),
so LBDY counts from RFSTDTC while Carta's day 0 is the infusion. RFPENDTC is a month after the
last lab visit, so no result lies far beyond the follow-up.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

STUDY = "CARTA-BENCH-01"
SUBJECTS = 500
SEED = 20_240_611
LYMPHODEPLETION_DAYS = 5  # RFSTDTC is this many days before the infusion
PARTIAL = 0.005  # the share of LB dates given only as YYYY-MM
RACES = np.array(["WHITE", "ASIAN", "BLACK OR AFRICAN AMERICAN"])

# code, name, category, specimen, original unit, standard unit, standard = original x factor,
# median and log-normal spread of the original value, original reference range, decimals
# (original, standard).
TESTS = [
    ("ALT", "Alanine Aminotransferase", "CHEMISTRY", "SERUM", "U/L", "U/L", 1.0,
     25.0, 0.5, 0, 40, 0, 0),
    ("AST", "Aspartate Aminotransferase", "CHEMISTRY", "SERUM", "U/L", "U/L", 1.0,
     24.0, 0.5, 0, 34, 0, 0),
    ("CK", "Creatine Kinase", "CHEMISTRY", "SERUM", "U/L", "U/L", 1.0,
     90.0, 0.6, 26, 252, 0, 0),
    ("CREAT", "Creatinine", "CHEMISTRY", "SERUM", "mg/dL", "umol/L", 88.4,
     0.8, 0.3, 0.5, 1.1, 2, 0),
    ("CRP", "C Reactive Protein", "CHEMISTRY", "SERUM", "mg/dL", "mg/L", 10.0,
     0.8, 1.0, 0, 0.5, 2, 1),
    ("HGB", "Hemoglobin", "HEMATOLOGY", "BLOOD", "g/dL", "g/L", 10.0,
     11.5, 0.15, 12, 16, 1, 0),
    ("NEUT", "Neutrophils", "HEMATOLOGY", "BLOOD", "10^3/uL", "10^9/L", 1.0,
     3.0, 0.7, 1.8, 7.5, 2, 2),
    ("PLAT", "Platelets", "HEMATOLOGY", "BLOOD", "10^3/uL", "10^9/L", 1.0,
     180.0, 0.5, 150, 400, 0, 0),
    ("WBC", "Leukocytes", "HEMATOLOGY", "BLOOD", "10^3/uL", "10^9/L", 1.0,
     5.0, 0.5, 4, 11, 2, 2),
    ("LYM", "Lymphocytes", "HEMATOLOGY", "BLOOD", "10^3/uL", "10^9/L", 1.0,
     0.9, 0.7, 1, 4, 2, 2),
    ("B2MICG", "Beta-2 Microglobulin", "CHEMISTRY", "SERUM", "mg/L", "mg/L", 1.0,
     2.0, 0.4, 0.8, 2.4, 1, 1),
    ("HAPTOG", "Haptoglobin", "CHEMISTRY", "SERUM", "mg/dL", "g/L", 0.01,
     120.0, 0.4, 30, 200, 0, 2),
    ("IL2R", "Interleukin-2 Receptor, Soluble", "CHEMISTRY", "SERUM", "U/mL", "U/mL", 1.0,
     600.0, 0.6, 158, 623, 0, 0),
]  # fmt: skip
KNOWN = 10  # the first ten tests are in the dictionary
# Blood counts in aplasia after lymphodepletion and the infusion: days 0 to 14, times this.
APLASIA = {"NEUT": 0.15, "LYM": 0.1, "WBC": 0.3, "PLAT": 0.5}

LB_COLUMNS = [
    "STUDYID", "DOMAIN", "USUBJID", "LBSEQ", "LBTESTCD", "LBTEST", "LBCAT", "LBORRES",
    "LBORRESU", "LBORNRLO", "LBORNRHI", "LBSTRESC", "LBSTRESN", "LBSTRESU", "LBSTNRLO",
    "LBSTNRHI", "LBNRIND", "LBSTAT", "LBREASND", "LBSPEC", "LBBLFL", "VISITNUM", "VISIT",
    "LBDTC", "LBDY",
]  # fmt: skip
LB_NUMERIC = ["LBSEQ", "LBSTRESN", "LBSTNRLO", "LBSTNRHI", "VISITNUM", "LBDY"]


def records_per_subject(rows: int, subjects_count: int) -> np.ndarray:
    """The LB records of each subject: as even as `rows` allows."""
    return np.full(subjects_count, rows // subjects_count) + (
        np.arange(subjects_count) < rows % subjects_count
    )


def visit_day(visit: np.ndarray) -> np.ndarray:
    """Carta's study day (0 = the infusion) of each visit: days -7 and -3, then daily to day 28,
    then weekly."""
    return np.select(
        [visit == 0, visit == 1, visit <= 30], [-7, -3, visit - 2], 28 + 7 * (visit - 30)
    )


def visit_name(day: int) -> str:
    return "SCREENING" if day == -7 else "BASELINE" if day == -3 else f"DAY {day}"


def _texts(values: np.ndarray, decimals: int) -> np.ndarray:
    return np.array([f"{v:.{decimals}f}" for v in values.tolist()], dtype=object)


def _dates(days: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(days.astype("datetime64[D]"), unit="D").astype(object)


def subjects(count: int = SUBJECTS, seed: int = SEED) -> pd.DataFrame:
    """One row per subject: USUBJID and the infusion date (days since 1970-01-01)."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2019-01-07", "D").astype(np.int64)
    return pd.DataFrame(
        {
            "USUBJID": [f"{STUDY}-{i:04d}" for i in range(1, count + 1)],
            "infusion": start + rng.integers(0, 5 * 365, count),
            "age": rng.integers(18, 76, count),
            "sex": rng.choice(np.array(["F", "M"]), count),
            "race": rng.choice(RACES, count, p=[0.8, 0.12, 0.08]),
        }
    )


def lb_frame(rows: int, people: pd.DataFrame, seed: int = SEED) -> pd.DataFrame:
    """The LB domain, `rows` records over the subjects of `people`, every value as text (CSV)."""
    rng = np.random.default_rng(seed + 1)
    n, tests = len(people), len(TESTS)
    per_subject = records_per_subject(rows, n)
    subject = np.repeat(np.arange(n), per_subject)
    within = np.arange(rows) - np.repeat(np.cumsum(per_subject) - per_subject, per_subject)
    visit, test = within // tests, within % tests
    order = np.lexsort((visit, test, subject))  # SDTM order: subject, test, visit
    subject, visit, test = subject[order], visit[order], test[order]
    visits = -(-per_subject // tests)  # each subject's number of visits
    day = visit_day(visit)
    table = pd.DataFrame(TESTS, columns=["code", "name", "cat", "spec", "ou", "su", "factor",
                                         "median", "spread", "lo", "hi", "od", "sd"])  # fmt: skip
    median = table["median"].to_numpy()[test]
    spread = table["spread"].to_numpy()[test]
    original = median * np.exp(spread * rng.standard_normal(rows))
    codes = table["code"].to_numpy()
    for code, factor in APLASIA.items():
        low = (codes[test] == code) & (day >= 0) & (day <= 14)
        original[low] *= factor
    original[codes[test] == "HGB"] = np.clip(original[codes[test] == "HGB"], 6.0, 18.0)
    factor = table["factor"].to_numpy()[test]
    standard = original * factor
    out = {
        "STUDYID": np.full(rows, STUDY, dtype=object),
        "DOMAIN": np.full(rows, "LB", dtype=object),
        "USUBJID": people["USUBJID"].to_numpy()[subject],
        "LBSEQ": None,
        "LBTESTCD": codes[test],
        "LBTEST": table["name"].to_numpy()[test],
        "LBCAT": table["cat"].to_numpy()[test],
        "LBORRES": np.empty(rows, dtype=object),
        "LBORRESU": table["ou"].to_numpy()[test],
        "LBORNRLO": np.empty(rows, dtype=object),
        "LBORNRHI": np.empty(rows, dtype=object),
        "LBSTRESC": np.empty(rows, dtype=object),
        "LBSTRESN": np.empty(rows, dtype=object),
        "LBSTRESU": table["su"].to_numpy()[test],
        "LBSTNRLO": np.empty(rows, dtype=object),
        "LBSTNRHI": np.empty(rows, dtype=object),
        "LBNRIND": np.where(
            standard < (table["lo"] * table["factor"]).to_numpy()[test], "LOW",
            np.where(standard > (table["hi"] * table["factor"]).to_numpy()[test], "HIGH",
                     "NORMAL"),
        ).astype(object),
        "LBSTAT": np.full(rows, "", dtype=object),
        "LBREASND": np.full(rows, "", dtype=object),
        "LBSPEC": table["spec"].to_numpy()[test],
        "LBBLFL": np.where(day == -3, "Y", "").astype(object),
        "VISITNUM": (visit + 1).astype(str).astype(object),
        "VISIT": np.array([visit_name(d) for d in range(-7, 29)] + [""], dtype=object)[
            np.clip(day + 7, 0, 36)
        ],
    }  # fmt: skip
    weekly = day > 28
    out["VISIT"][weekly] = [f"WEEK {d // 7}" for d in day[weekly].tolist()]
    for number, row in table.iterrows():
        mine = test == number
        out["LBORRES"][mine] = _texts(original[mine], int(row["od"]))
        out["LBSTRESC"][mine] = _texts(standard[mine], int(row["sd"]))
        out["LBORNRLO"][mine] = _texts(np.array([row["lo"]]), int(row["od"]))[0]
        out["LBORNRHI"][mine] = _texts(np.array([row["hi"]]), int(row["od"]))[0]
        out["LBSTNRLO"][mine] = _texts(np.array([row["lo"] * row["factor"]]), int(row["sd"]))[0]
        out["LBSTNRHI"][mine] = _texts(np.array([row["hi"] * row["factor"]]), int(row["sd"]))[0]
    out["LBSTRESN"] = out["LBSTRESC"].copy()
    # CRP below the detection limit: a text result with a qualifier, no LBSTRESN.
    below = (codes[test] == "CRP") & (rng.random(rows) < 0.05)
    out["LBORRES"][below], out["LBSTRESC"][below], out["LBSTRESN"][below] = "<0.03", "<0.3", ""
    out["LBNRIND"][below] = "NORMAL"
    # Not done: no result, with the reason.
    not_done = rng.random(rows) < 0.002
    for column in ("LBORRES", "LBORRESU", "LBSTRESC", "LBSTRESN", "LBSTRESU", "LBNRIND"):
        out[column][not_done] = ""
    out["LBSTAT"][not_done] = "NOT DONE"
    out["LBREASND"][not_done] = rng.choice(
        np.array(["SAMPLE HEMOLYZED", "INSUFFICIENT SAMPLE"], dtype=object), int(not_done.sum())
    )
    # Dates: the infusion date + the study day; a third with a time; about 0.5 % only YYYY-MM,
    # once per subject and test at most (two partial dates of one test would share a key).
    date = people["infusion"].to_numpy()[subject] + day
    text = _dates(date)
    timed = rng.random(rows) < 0.3
    text[timed] = text[timed] + "T08:30"
    chosen = (rng.random((n, tests)) * visits[:, None]).astype(np.int64)  # a visit per pair
    likely = rng.random((n, tests)) < np.minimum(1.0, PARTIAL * visits)[:, None]
    partial = (visit == chosen[subject, test]) & likely[subject, test]
    text[partial] = [t[:7] for t in text[partial]]
    out["LBDTC"] = text
    sdtm_day = day + LYMPHODEPLETION_DAYS
    sdtm_day = np.where(sdtm_day >= 0, sdtm_day + 1, sdtm_day)  # no day 0 in SDTM
    out["LBDY"] = np.where(partial, "", sdtm_day.astype(str)).astype(object)
    seq = np.arange(rows) - np.repeat(np.cumsum(per_subject) - per_subject, per_subject) + 1
    out["LBSEQ"] = seq.astype(str).astype(object)
    return pd.DataFrame(out, columns=LB_COLUMNS)


def dm_frame(people: pd.DataFrame, last_day: np.ndarray) -> pd.DataFrame:
    infusion = people["infusion"].to_numpy()
    n = len(people)
    return pd.DataFrame(
        {
            "STUDYID": STUDY,
            "DOMAIN": "DM",
            "USUBJID": people["USUBJID"],
            "SUBJID": [u[-4:] for u in people["USUBJID"]],
            "RFSTDTC": _dates(infusion - LYMPHODEPLETION_DAYS),
            "RFENDTC": _dates(infusion + last_day),
            "RFXSTDTC": _dates(infusion),
            "RFXENDTC": _dates(infusion),
            "RFPENDTC": _dates(infusion + last_day + 30),
            "SITEID": [f"{1 + i % 12:03d}" for i in range(n)],
            "AGE": people["age"].astype(str),
            "AGEU": "YEARS",
            "SEX": people["sex"],
            "RACE": people["race"],
            "ETHNIC": "NOT HISPANIC OR LATINO",
            "ARMCD": "CART",
            "ARM": "CD19 CAR T cells",
            "ACTARMCD": "CART",
            "ACTARM": "CD19 CAR T cells",
            "COUNTRY": "DEU",
        }
    )


def ex_frame(people: pd.DataFrame) -> pd.DataFrame:
    infusion = _dates(people["infusion"].to_numpy())
    dose = np.random.default_rng(SEED + 2).choice([0.5e6, 1e6, 2e6], len(people))
    day = str(LYMPHODEPLETION_DAYS + 1)
    return pd.DataFrame(
        {
            "STUDYID": STUDY,
            "DOMAIN": "EX",
            "USUBJID": people["USUBJID"],
            "EXSEQ": "1",
            "EXTRT": "CD19 CAR T cells",
            "EXDOSE": [f"{d:.0f}" for d in dose],
            "EXDOSU": "cells/kg",
            "EXDOSFRM": "SUSPENSION",
            "EXDOSFRQ": "ONCE",
            "EXROUTE": "INTRAVENOUS",
            "EXSTDTC": infusion,
            "EXENDTC": infusion,
            "EXSTDY": day,
            "EXENDY": day,
        }
    )


def write_package(
    folder: Path, rows: int, form: str = "csv", subjects_count: int = SUBJECTS, seed: int = SEED
) -> Path:
    """dm.csv, ex.csv and lb.csv (form "csv") or lb.xpt (form "xpt", SAS transport v5, member
    LB) in `folder`; returns the LB file."""
    folder.mkdir(parents=True, exist_ok=True)
    people = subjects(subjects_count, seed)
    lb = lb_frame(rows, people, seed)
    visits = -(-records_per_subject(rows, len(people)) // len(TESTS))
    last_day = np.maximum(visit_day(np.maximum(visits - 1, 0)), 0)
    dm_frame(people, last_day).to_csv(folder / "dm.csv", index=False)
    ex_frame(people).to_csv(folder / "ex.csv", index=False)
    if form == "csv":
        path = folder / "lb.csv"
        lb.to_csv(path, index=False)
    elif form == "xpt":
        path = folder / "lb.xpt"
        typed = lb.copy()
        for column in LB_NUMERIC:
            typed[column] = pd.to_numeric(typed[column].replace("", None), errors="coerce")
        pyreadstat.write_xport(typed, str(path), table_name="LB", file_format_version=5,
                               file_label="Laboratory Test Results")  # fmt: skip
    else:
        raise ValueError(f"form is csv or xpt, not {form}")
    return path
