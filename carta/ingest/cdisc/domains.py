"""SDTM and ADaM datasets as Carta rows (CDISC SDTMIG 3.x, ADaMIG; clinical-rules §6.1, §6.2).

Each function takes a dataset (SUPP-- already merged in) and the patients' day 0
(`package.Subjects`) and returns `TableFile`s whose rows hold the store's columns plus `line`,
the record number in the dataset. What cannot be stored is a problem of that record, never
dropped in silence: a record is accepted into some table or refused with its reason. No date is
kept: dates become study days (`dates.py`), partial dates a day range.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from carta import dictionary
from carta.ingest.carta_format import TableFile, sha256_of
from carta.ingest.cdisc import dates
from carta.ingest.cdisc.datasets import Dataset
from carta.ingest.cdisc.package import (
    LYMPHODEPLETION,
    Subjects,
    problem,
    record_lines,
)
from carta.schema import columns

# A result with an optional "<" or ">" (and "<= 5", "< 5"); values are stripped already.
_NUMBER = r"^(?P<qualifier>[<>])?=? ?(?P<number>[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)$"
# A serology result as the laboratory writes it in words, and a titre ("1:160" -> 160); an
# equivocal result is read as borderline [U: design rule]. Results in words of other tests stay
# other observations.
INTERPRETATION_WORDS = {"NEGATIVE": "negative", "NEG": "negative", "POSITIVE": "positive",
                        "POS": "positive", "BORDERLINE": "borderline",
                        "EQUIVOCAL": "borderline"}  # fmt: skip
_TITRE = r"^\s*1\s*:\s*(\d+)\s*$"
SPECIMENS = {"BLOOD": "blood", "SERUM": "blood", "PLASMA": "blood", "WHOLE BLOOD": "blood",
             "SERUM OR PLASMA": "blood", "VENOUS BLOOD": "blood", "ARTERIAL BLOOD": "blood",
             "BONE MARROW": "bone_marrow", "URINE": "urine"}  # fmt: skip
AGE_UNITS = {"YEARS": 1.0, "MONTHS": 1 / 12, "WEEKS": 7 / 365.25, "DAYS": 1 / 365.25}
SEVERITIES = {"MILD": "mild", "MODERATE": "moderate", "SEVERE": "severe"}
GLUCOCORTICOID = re.compile(
    r"predniso|methylpredniso|dexamethason|hydrocortison|betamethason|budesonid|"
    r"triamcinolon|deflazacort|cortison|corticosteroid|glucocorticoid",
    re.IGNORECASE,
)


def _number(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce").astype("float64")


def _domain(dataset: Dataset) -> str:
    """The variable prefix of an SDTM dataset: its DOMAIN (LB for a split LBUR dataset)."""
    values = dataset.frame["DOMAIN"].dropna().unique() if "DOMAIN" in dataset.frame else []
    return str(values[0]).upper() if len(values) == 1 else dataset.name


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame:
        return frame[name]
    return pd.Series(pd.NA, index=frame.index, dtype="string")


def _rows(table: str, data: dict[str, object], index: pd.Index) -> pd.DataFrame:
    """A frame with the table's columns (missing ones empty) and `line`."""
    out = pd.DataFrame(index=index)
    for column in ["line", *columns(table)]:
        value = data.get(column, pd.NA)
        # By position (an array keeps its Arrow strings; to_numpy would make Python objects).
        out[column] = value if not isinstance(value, pd.Series) else value.array
    return out


def _table(dataset: Dataset, table: str, rows: pd.DataFrame, problems: list) -> TableFile:
    return TableFile(table, dataset.path, sha256_of(dataset.path), rows.reset_index(drop=True),
                     problems)  # fmt: skip


# --- DM / ADSL: the study and its patients ----------------------------------------------------


def patients(dataset: Dataset, subjects: Subjects, folder_name: str) -> list[TableFile]:
    """DM (or ADSL) as one source per study and one patient per subject."""
    dm = dataset.frame
    lines = record_lines(dm)
    problems = []
    studies = _col(dm, "STUDYID").dropna().unique()
    sources = _rows(
        "sources",
        {
            "line": 0,
            "source_id": pd.Series(studies),
            "kind": "site",
            "citation": pd.Series(
                [f"Study {s} ({dataset.standard} package {folder_name})" for s in studies]
            ),
            "note": f"Read from {dataset.path.name}; {'; '.join(subjects.notes)}",
        },
        pd.RangeIndex(len(studies)),
    )
    age = pd.to_numeric(_col(dm, "AGE"), errors="coerce")
    unit = _col(dm, "AGEU").fillna("YEARS").str.upper()
    factor = unit.map(AGE_UNITS)
    for line in lines[age.notna() & factor.isna()]:
        problems.append(problem(dataset, int(line), "AGEU", "age unit not one of YEARS, MONTHS, "
                                "WEEKS, DAYS: age not stored"))  # fmt: skip
    sex = _col(dm, "SEX").str.upper().map({"M": "M", "F": "F"})
    ids = dm["USUBJID"]
    last_day = pd.Series(pd.NA, index=dm.index, dtype="Int64")
    for column in ("RFPENDTC", "RFENDTC"):
        if column in dm:
            found = subjects.days(dm, column, None)
            last_day = last_day.fillna(found.day)
    rows = _rows(
        "patients",
        {
            "line": lines,
            "patient_id": ids,
            "source_id": _col(dm, "STUDYID"),
            "cohort": _col(dm, "ARM").fillna(_col(dm, "STUDYID")),
            "sex": sex,
            "age_years": (age * factor).round(2),
            "race": _col(dm, "RACE"),
            "ethnicity": _col(dm, "ETHNIC"),
            "country": _col(dm, "COUNTRY"),
            "arm": _col(dm, "ARM"),
            "follow_up_days": last_day.where(last_day >= 0),
            "day0_basis": subjects.column(ids, "rule").where(
                ~subjects.column(ids, "rule").fillna("").str.startswith("the CAR T infusion")
            ),
            "synthetic": False,
        },
        dm.index,
    )
    return [
        TableFile("sources", dataset.path, sha256_of(dataset.path), sources, []),
        _table(dataset, "patients", rows, problems),
    ]


# --- EX / EC: the treatment course ------------------------------------------------------------


def exposure(dataset: Dataset, subjects: Subjects) -> list[TableFile]:
    """EX or EC as events: the CAR T infusion, lymphodepletion, other study treatment."""
    name = _domain(dataset)
    ex = dataset.frame
    treatment = _col(ex, f"{name}TRT")
    start = subjects.days(ex, f"{name}STDTC", f"{name}STDY")
    end = subjects.days(ex, f"{name}ENDTC", f"{name}ENDY")
    car_t = subjects.is_car_t(treatment)
    depletion = treatment.str.contains(LYMPHODEPLETION, na=False)
    kind = np.select([car_t, depletion], ["infusion", "lymphodepletion"], "medication")
    frequency = _col(ex, f"{name}DOSFRQ").str.upper()
    basis = frequency.map({"ONCE": "per_dose", "QD": "per_day", "BID": "per_dose",
                           "TID": "per_dose", "QID": "per_dose"})  # fmt: skip
    rows = _rows(
        "events",
        {
            "line": record_lines(ex),
            "patient_id": ex["USUBJID"],
            "kind": kind,
            "name": treatment.fillna(f"{name} record"),
            "start_day": start.day,
            "end_day": end.day.where(end.day.isna() | start.day.isna() | (end.day >= start.day)),
            "dose": pd.to_numeric(_col(ex, f"{name}DOSE"), errors="coerce"),
            "dose_unit": _col(ex, f"{name}DOSU"),
            "dose_basis": basis,
            "route": _col(ex, f"{name}ROUTE"),
            "start_earliest": start.earliest,
            "start_latest": start.latest,
            "start_precision": start.precision,
            "source_id": subjects.source(ex),
            "note": f"SDTM {name}" + (", study treatment" if name == "EX" else ""),
        },
        ex.index,
    )
    return [_table(dataset, "events", rows, _unreadable_dates(dataset, start, end))]


def medications(dataset: Dataset, subjects: Subjects) -> list[TableFile]:
    """CM as medication events with dose, unit and route; glucocorticoids recognisable."""
    cm = dataset.frame
    name = _col(cm, "CMDECOD").fillna(_col(cm, "CMTRT"))
    start = subjects.days(cm, "CMSTDTC", "CMSTDY")
    end = subjects.days(cm, "CMENDTC", "CMENDY")
    described = name.fillna("") + " " + _col(cm, "CMCLAS").fillna("")
    rows = _rows(
        "events",
        {
            "line": record_lines(cm),
            "patient_id": cm["USUBJID"],
            "kind": "medication",
            "name": name.fillna("medication (name not given)"),
            "start_day": start.day,
            "end_day": end.day.where(end.day.isna() | start.day.isna() | (end.day >= start.day)),
            "dose": pd.to_numeric(_col(cm, "CMDOSE"), errors="coerce"),
            "dose_unit": _col(cm, "CMDOSU"),
            "route": _col(cm, "CMROUTE"),
            "drug_class": np.where(
                described.str.contains(GLUCOCORTICOID),
                "glucocorticoid",
                _col(cm, "CMCLAS").str.lower(),
            ),
            "start_earliest": start.earliest,
            "start_latest": start.latest,
            "start_precision": start.precision,
            "source_id": subjects.source(cm),
            "note": "SDTM CM"
            + (" (" + _col(cm, "CMINDC").fillna("") + ")").where(_col(cm, "CMINDC").notna(), ""),
        },
        cm.index,
    )
    return [_table(dataset, "events", rows, _unreadable_dates(dataset, start, end))]


# --- AE / ADAE ----------------------------------------------------------------------------------


def adverse_events(dataset: Dataset, subjects: Subjects) -> list[TableFile]:
    """AE (or ADAE) as adverse events: AETOXGR where the source graded, else AESEV kept as the
    severity with no grade. Nothing is graded that the source did not grade."""
    ae = dataset.frame
    adam = dataset.standard == "ADaM" and "ASTDY" in ae  # ADAE's analysis days, else SDTM's
    start = subjects.days(ae, "AESTDTC", "AESTDY") if not adam else _adam_days(ae, "ASTDY")
    end = subjects.days(ae, "AEENDTC", "AEENDY") if not adam else _adam_days(ae, "AENDY")
    grade_text = _col(ae, "AETOXGR").fillna(_col(ae, "ATOXGR"))
    # "3", "3.0" or "Grade 3" (sponsors write all three); anything else is refused, never read.
    digits = grade_text.str.extract(r"^(?i:grade\s*)?(\d+)(?:\.0)?$")[0]
    grade = pd.to_numeric(digits, errors="coerce")
    severity = _col(ae, "AESEV").fillna(_col(ae, "ASEV")).str.upper().map(SEVERITIES)
    lines = record_lines(ae)
    problems = _unreadable_dates(dataset, start, end)
    odd = grade_text.notna() & (grade.isna() | ~grade.between(0, 5))
    problems += [problem(dataset, int(line), "AETOXGR", "the toxicity grade is not a number 0-5")
                 for line in lines[odd]]  # fmt: skip
    neither = grade.isna() & severity.isna() & ~odd
    problems += [problem(dataset, int(line), "AESEV", "neither a toxicity grade (AETOXGR) nor a "
                         "severity (AESEV: MILD, MODERATE, SEVERE) is given")
                 for line in lines[neither]]  # fmt: skip
    system = _col(ae, "AETOXGRS").fillna(_col(ae, "AETOXGRV"))
    grading = system.where(system.notna(), pd.Series(
        np.where(grade.notna(), "as graded by the source (AETOXGR)", "not graded (severity only)"),
        index=ae.index,
    ))  # fmt: skip
    body = _col(ae, "AEBODSYS")
    rows = _rows(
        "adverse_events",
        {
            "line": lines,
            "patient_id": ae["USUBJID"],
            "term": _col(ae, "AEDECOD").fillna(_col(ae, "AETERM")),
            "grade": grade.where(grade.between(0, 5)).astype("Int64"),
            "grading_system": grading,
            "severity": severity,
            "onset_day": start.day,
            "end_day": end.day.where(end.day.isna() | start.day.isna() | (end.day >= start.day)),
            "serious": _col(ae, "AESER").str.upper().map({"Y": True, "N": False}),
            "onset_earliest": start.earliest,
            "onset_latest": start.latest,
            "onset_precision": start.precision,
            "source_id": subjects.source(ae),
            "note": ("reported as " + _col(ae, "AETERM").fillna("")
                     + ("; " + body).where(body.notna(), "")),
        },
        ae.index,
    )  # fmt: skip
    refused = set(lines[odd | neither])
    return [_table(dataset, "adverse_events", rows[~rows["line"].isin(refused)], problems)]


# --- findings: LB, VS, QS, FT, RS and ADaM BDS ------------------------------------------------


def findings(dataset: Dataset, subjects: Subjects) -> list[TableFile]:
    """A findings domain as observations (tests the dictionary knows, with a number, in blood,
    marrow or urine) and other observations (every other result, with its own code and unit).

    LB standard results (LBSTRESN/LBSTRESC with LBSTRESU and LBSTNRLO/HI) are used when given;
    else the original result (LBORRES with LBORRESU and LBORNRLO/HI). The two are never mixed: a
    value in one unit is never judged against the other's range."""
    p = _domain(dataset) if dataset.standard != "ADaM" else ""
    data = dataset.frame
    lines = record_lines(data)
    if dataset.standard == "ADaM":
        day = _adam_days(data, "ADY")
        code_text, name_text = _col(data, "PARAMCD"), _col(data, "PARAM")
        value, qualifier = pd.to_numeric(_col(data, "AVAL"), errors="coerce"), None
        text = _col(data, "AVALC")
        unit = _col(data, "AVALU").fillna(_unit_in_name(name_text))
        low = _number(_col(data, "ANRLO")).fillna(_number(_col(data, "A1LO")))
        high = _number(_col(data, "ANRHI")).fillna(_number(_col(data, "A1HI")))
        specimen_text = _col(data, "LBSPEC")
        category = _col(data, "PARCAT1")
    else:
        day = subjects.days(data, f"{p}DTC", f"{p}DY")
        code_text, name_text = _col(data, f"{p}TESTCD"), _col(data, f"{p}TEST")
        standard_number = _number(_col(data, f"{p}STRESN"))
        standard_text = _col(data, f"{p}STRESC")
        original_text = _col(data, f"{p}ORRES")
        parsed_std = dates.regex_groups(standard_text, _NUMBER)
        parsed_orig = dates.regex_groups(original_text, _NUMBER)
        # The standard result, unless it lost its unit where the original kept one (a
        # haematocrit as a fraction with no LBSTRESU, 46 % in LBORRES): then the original, whole.
        std_unit_lost = _col(data, f"{p}STRESU").isna() & _col(data, f"{p}ORRESU").notna()
        use_std = (standard_number.notna() | parsed_std["number"].notna()) & ~(
            std_unit_lost & parsed_orig["number"].notna()
        )
        value = standard_number.fillna(_number(parsed_std["number"]))
        value = value.where(use_std, _number(parsed_orig["number"]))
        qualifier = parsed_std["qualifier"].where(use_std, parsed_orig["qualifier"])
        qualifier = qualifier.where(standard_number.isna() | ~use_std)
        use_orig = ~use_std & parsed_orig["number"].notna()
        unit = _col(data, f"{p}STRESU").where(use_std, _col(data, f"{p}ORRESU").where(use_orig))
        low = _col(data, f"{p}STNRLO").where(use_std, _col(data, f"{p}ORNRLO").where(use_orig))
        high = _col(data, f"{p}STNRHI").where(use_std, _col(data, f"{p}ORNRHI").where(use_orig))
        text = standard_text.fillna(original_text)
        specimen_text = _col(data, f"{p}SPEC")
        category = _col(data, f"{p}CAT")
    lookup = dictionary.code_lookup()
    known = set(dictionary.parameters()["code"])
    # SDTM names urine and serum protein alike (PROT) and tells them apart by LBSPEC or LBCAT.
    where = specimen_text.fillna(category)
    pairs = pd.DataFrame({"n": code_text, "w": where}).drop_duplicates().dropna(subset=["n"])
    pairs["code"] = [dictionary.resolve_in_specimen(n, w if isinstance(w, str) else None, lookup)
                     for n, w in zip(pairs["n"], pairs["w"], strict=True)]  # fmt: skip
    resolved = (
        pd.DataFrame({"n": code_text, "w": where})
        .merge(pairs, on=["n", "w"], how="left")["code"]
        .set_axis(data.index)
        .fillna(code_text)
    )
    by_name = name_text.map({n: dictionary.resolve_code(n, lookup)
                             for n in name_text.dropna().unique()})  # fmt: skip
    code = resolved.where(resolved.isin(known), by_name)
    specimen = specimen_text.str.upper().map(SPECIMENS)
    # Without a specimen, a lab test is a blood test unless its category says urine; vital
    # signs and scores have none, and are filed as 'blood' (the column is only for lab values).
    urine = category.fillna("").str.upper().str.contains("URIN")
    specimen = specimen.where(specimen_text.notna(), np.where(urine, "urine", "blood"))
    # Serology: a result in words is an interpretation, a titre is its reciprocal; a number with
    # the reference-range indicator POSITIVE or NEGATIVE is interpreted so (LBNRIND, ANRIND).
    serology = code.isin(dictionary.serology_codes())
    titre = _number(text.str.extract(_TITRE)[0])
    value = pd.Series(value, index=data.index)
    value = value.where(~serology | value.notna(), titre)
    indicator = _col(data, f"{p}NRIND" if p else "ANRIND").str.upper()
    interpretation = (
        text.str.strip().str.upper().map(INTERPRETATION_WORDS)
        .fillna(indicator.map({"POSITIVE": "positive", "NEGATIVE": "negative"}))
        .where(serology)
    )  # fmt: skip
    status = _col(data, f"{p}STAT").str.upper()
    not_done = status.eq("NOT DONE").fillna(False)
    numeric = value.notna()
    has_text = text.notna() & ~numeric
    problems = _unreadable_dates(dataset, day)
    reason = _col(data, f"{p}REASND")
    problems += [
        problem(dataset, int(line), f"{p}STAT",
                "not done" + (f" ({r})" if isinstance(r, str) and r else ""))
        for line, r in zip(lines[not_done], reason[not_done], strict=True)
    ]  # fmt: skip
    nothing = ~not_done & ~numeric & ~has_text
    problems += [problem(dataset, int(line), f"{p}ORRES", "no result")
                 for line in lines[nothing]]  # fmt: skip
    undated = ~not_done & ~nothing & day.day.isna() & day.precision.isna()
    problems += [
        problem(
            dataset,
            int(line),
            f"{p}DTC",
            f"no study day: the date is missing or incomplete, and {p}DY cannot stand in for it",
        )
        for line in lines[undated]
    ]
    usable = ~not_done & ~nothing & ~undated
    main = usable & code.isin(known) & (numeric | interpretation.notna()) & specimen.notna()
    # Several results of one test on one day (vital signs by position and time point, repeats):
    # Carta keeps one value per patient, day, test and specimen, and picking one would be a
    # guess, so all of them are kept as other tests, listed with their time point.
    key = pd.DataFrame({"id": data["USUBJID"], "day": day.day, "from": day.earliest,
                        "to": day.latest, "code": code, "sp": specimen})  # fmt: skip
    repeated = main & key[main].duplicated(keep=False).reindex(data.index, fill_value=False)
    main = main & ~repeated
    when = _col(data, f"{p}TPT").fillna(_col(data, f"{p}POS"))
    name_text = name_text.where(~repeated | when.isna(), name_text.fillna("") + " (" + when + ")")
    common = {
        "line": lines,
        "patient_id": data["USUBJID"],
        "day": day.day,
        "day_earliest": day.earliest,
        "day_latest": day.latest,
        "day_precision": day.precision,
        "source_id": subjects.source(data),
    }
    observations = _rows(
        "observations",
        common
        | {
            "code": code,
            "value": value,
            "unit": unit,
            "ref_low": pd.to_numeric(low, errors="coerce"),
            "ref_high": pd.to_numeric(high, errors="coerce"),
            "specimen": specimen,
            "qualifier": qualifier,
            "interpretation": interpretation,
            "scale_max": _scales_named(code, name_text),
            "note": f"{dataset.standard} {dataset.name} " + code_text.fillna(""),
        },
        data.index,
    )[main.to_numpy()]
    other = _rows(
        "other_observations",
        common
        | {
            "test_code": code_text.fillna(name_text).fillna("?"),
            "test_name": name_text,
            "category": category,
            "value": value.where(numeric),
            "result_text": text.where(~numeric),
            "unit": unit,
            "ref_low": pd.to_numeric(low, errors="coerce"),
            "ref_high": pd.to_numeric(high, errors="coerce"),
            "specimen": specimen_text.str.lower(),
            "note": f"{dataset.standard} {dataset.name}",
        },
        data.index,
    )[(usable & ~main).to_numpy()]
    return [
        _table(dataset, "observations", observations, problems),
        _table(dataset, "other_observations", other, []),
    ]


def _scales_named(code: pd.Series, name: pd.Series) -> pd.Series:
    """The scale a score's test name (QSTEST, PARAM) gives where it has more than one: "MMT8
    (0-150)" -> 150 (dictionary.scale_named); otherwise empty, the dictionary's scale."""
    scaled = code.isin(set(dictionary.parameter_scales()["code"]))
    pairs = {(c, n) for c, n in zip(code[scaled], name[scaled], strict=True)}
    found = {pair: dictionary.scale_named(*pair) for pair in pairs}
    return pd.Series([found.get((c, n)) if s else None
                      for c, n, s in zip(code, name, scaled, strict=True)],
                     index=code.index, dtype="Float64")  # fmt: skip


def _unit_in_name(name: pd.Series) -> pd.Series:
    """'Alanine Aminotransferase (U/L)' -> 'U/L': the unit ADaM PARAM often carries."""
    return name.str.extract(r"\(([^()]*)\)\s*$")[0]


def _adam_days(frame: pd.DataFrame, column: str) -> dates.StudyDays:
    """ADaM --DY (no day 0, admiral derive_vars_dy) as study days; no partial dates in ADaM."""
    day = dates.sdtm_day_to_study_day(_col(frame, column))
    empty = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    return dates.StudyDays(day, empty, empty, pd.Series(pd.NA, index=frame.index, dtype="string"),
                           pd.Series(False, index=frame.index))  # fmt: skip


def _unreadable_dates(dataset: Dataset, *found: dates.StudyDays) -> list:
    lines = record_lines(dataset.frame)
    bad = pd.Series(False, index=dataset.frame.index)
    for days in found:
        bad |= days.unreadable
    reason = "warning: a date is not ISO 8601 (YYYY-MM-DD, YYYY-MM or YYYY); its day is not stored"
    return [problem(dataset, int(line), None, reason) for line in lines[bad]]
