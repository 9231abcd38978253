"""SDTM-style LB (laboratory) and AE (adverse events) datasets as CSV (CDISC SDTMIG; clinical-rules
§6.1), read into Carta's observations and adverse_events.

Study days: SDTM's --DY counts from the reference start date with no day 0 (day 1 is the reference
day itself, day −1 the day before; clinical-rules §6.2). With the CAR T infusion as the reference
start, Carta's study day is --DY − 1 for positive --DY and --DY for negative ones. A --DTC date
is used instead when an RFSTDTC column (the infusion date) is present. Dates are not stored.
The source is the STUDYID column, which must name a source in the store or the import.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from carta import dictionary
from carta.ingest.carta_format import Problem, TableFile, sha256_of
from carta.ingest.reading import header, read_whole
from carta.schema import columns

_RESULT = re.compile(
    r"^\s*(?P<qualifier>[<>])?\s*(?P<number>[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*$"
)
_SPECIMENS = {"BLOOD": "blood", "SERUM": "blood", "PLASMA": "blood", "WHOLE BLOOD": "blood",
              "BONE MARROW": "bone_marrow"}  # fmt: skip


def kind(path: Path) -> str | None:
    """'observations' for an LB dataset, 'adverse_events' for an AE one, else None."""
    names = {c.strip().upper() for c in header(path)}
    if {"USUBJID", "LBTESTCD"} <= names:
        return "observations"
    if {"USUBJID", "AETERM"} <= names:
        return "adverse_events"
    return None


def read_sdtm(path: Path, lookup: dict[str, str]) -> TableFile:
    table = kind(path)
    result = TableFile(table, path, sha256_of(path), pd.DataFrame(), [])
    raw = read_whole(path, result.problems)
    raw.columns = [c.strip().upper() for c in raw.columns]
    prefix = "LB" if table == "observations" else "AE"
    days = _study_days(raw, prefix, "" if table == "observations" else "ST", result)
    build = _lab_rows if table == "observations" else _ae_rows
    result.rows = build(raw, days, lookup, result)
    return result


def _column(raw: pd.DataFrame, name: str) -> pd.Series:
    return raw[name].str.strip() if name in raw else pd.Series("", index=raw.index)


def _study_days(raw: pd.DataFrame, prefix: str, start: str, result: TableFile) -> pd.Series:
    dy = pd.to_numeric(_column(raw, f"{prefix}{start}DY"), errors="coerce")
    days = dy.where(dy < 0, dy - 1)
    if "RFSTDTC" in raw:
        date = pd.to_datetime(_column(raw, f"{prefix}{start}DTC"), errors="coerce", format="mixed")
        reference = pd.to_datetime(_column(raw, "RFSTDTC"), errors="coerce", format="mixed")
        days = days.fillna((date - reference).dt.days)
    for line in days[days.isna()].index:
        result.problems.append(
            Problem(result.path.name, int(line), f"{prefix}{start}DY", None,
                    f"no study day: give {prefix}{start}DY, or {prefix}{start}DTC with RFSTDTC")
        )  # fmt: skip
    return days


def _lab_rows(raw, days, lookup, result) -> pd.DataFrame:
    units = dictionary.parameters().set_index("code")["unit"]
    records = []
    for line in raw.index:
        if pd.isna(days[line]):
            continue
        test = _column(raw, "LBTESTCD")[line] or _column(raw, "LBTEST")[line]
        code = dictionary.resolve_code(test, lookup)
        if code not in units.index:
            code = dictionary.resolve_code(_column(raw, "LBTEST")[line], lookup)
        standard = _column(raw, "LBSTRESN")[line]
        text, unit = (
            (standard, _column(raw, "LBSTRESU")[line])
            if standard
            else (_column(raw, "LBORRES")[line], _column(raw, "LBORRESU")[line])
        )
        match = _RESULT.match(text)
        if not match:
            result.problems.append(
                Problem(result.path.name, int(line), "LBORRES", text, "not a numeric result")
            )
            continue
        records.append(
            {
                "line": int(line),
                "patient_id": _column(raw, "USUBJID")[line],
                "day": int(days[line]),
                "code": code,
                "value": float(match["number"]),
                "unit": unit or None,  # none given: see validate.py
                "ref_low": pd.to_numeric(_column(raw, "LBORNRLO")[line] or None),
                "ref_high": pd.to_numeric(_column(raw, "LBORNRHI")[line] or None),
                "specimen": _SPECIMENS.get(_column(raw, "LBSPEC")[line].upper(), "blood"),
                "qualifier": match["qualifier"],
                "source_id": _column(raw, "STUDYID")[line],
                "note": f"SDTM LB, {test}" if test != code else None,
            }
        )
    frame = pd.DataFrame(records, columns=["line", *columns("observations")])
    return frame.astype({"value": "Float64", "ref_low": "Float64", "ref_high": "Float64"})


def _ae_rows(raw, days, lookup, result) -> pd.DataFrame:
    end = pd.to_numeric(_column(raw, "AEENDY"), errors="coerce")
    end = end.where(end < 0, end - 1)
    grade = pd.to_numeric(_column(raw, "AETOXGR"), errors="coerce")
    records = []
    for line in raw.index:
        if pd.isna(days[line]):
            continue
        if pd.isna(grade[line]):
            result.problems.append(
                Problem(result.path.name, int(line), "AETOXGR", _column(raw, "AETOXGR")[line],
                        "a toxicity grade (0 to 5) is needed")
            )  # fmt: skip
            continue
        term = _column(raw, "AEDECOD")[line] or _column(raw, "AETERM")[line]
        records.append(
            {
                "line": int(line),
                "patient_id": _column(raw, "USUBJID")[line],
                "term": term,
                "grade": int(grade[line]),
                "grading_system": _column(raw, "AETOXGRS")[line] or "as reported (SDTM AETOXGR)",
                "onset_day": int(days[line]),
                "end_day": None if pd.isna(end[line]) else int(end[line]),
                "serious": {"Y": True, "N": False}.get(_column(raw, "AESER")[line].upper()),
                "treatment": None,
                "source_id": _column(raw, "STUDYID")[line],
                "note": f"SDTM AE, reported as {_column(raw, 'AETERM')[line]}",
            }
        )
    frame = pd.DataFrame(records, columns=["line", *columns("adverse_events")])
    return frame.astype({"onset_day": "Int64", "end_day": "Int64", "grade": "Int64"})
