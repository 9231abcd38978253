"""Plain-text renderings for pages and exports: a missing value says so instead of looking blank."""

from __future__ import annotations

import math

import pandas as pd

NOT_REPORTED = "not reported"
DAYS_PER_MONTH = 365.25 / 12


# What makes Markdown or a Streamlit directive of plain text: emphasis, code, links and images
# (brackets), colours and emoji (":red[", ":smile:"), maths, HTML, strikethrough, tables.
_MARKDOWN = str.maketrans({c: f"\\{c}" for c in "\\`*_[]<>:~$|"})


def escape_markdown(text: object) -> str:
    """Text from a file or a URL, safe inside Streamlit Markdown: no link, image, colour or
    emphasis of its own (every Markdown and Streamlit directive character is escaped)."""
    return "" if is_missing(text) else str(text).translate(_MARKDOWN)


def is_missing(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def text_or_not_reported(value: object) -> str:
    return NOT_REPORTED if is_missing(value) or value == "" else str(value)


def follow_up(days: object, reported: object) -> str:
    """'243 d (8.0 mo)' from a day count; the source's own words when it gives no count."""
    if not is_missing(days):
        return f"{int(days)} d ({int(days) / DAYS_PER_MONTH:.1f} mo)"
    if not is_missing(reported) and reported:
        return f"{reported} (as reported; day not given)"
    return NOT_REPORTED


def study_day(day: object) -> str:
    return "day not reported" if is_missing(day) else f"day {int(day)}"


def day_or_range(day: object, earliest: object, latest: object, precision: object) -> str:
    """'day 12', or for a partial source date 'days −19 to 11 (only the month is reported)':
    what the source gave, never a guessed day, and never the date itself."""
    if not is_missing(day):
        return f"day {int(day)}"
    if is_missing(earliest) or is_missing(latest):
        return "day not reported"
    what = {"month": "only the month is reported", "year": "only the year is reported"}.get(
        str(precision), "the exact day is not reported"
    )
    return f"days {int(earliest)} to {int(latest)} ({what})"


def day_span(start: object, end: object) -> str:
    if is_missing(start):
        return "day not reported"
    if is_missing(end) or int(end) == int(start):
        return f"day {int(start)}"
    return f"days {int(start)} to {int(end)}"


def number(value: object, unit_code: object = None, qualifier: object = None) -> str:
    """'32.69 cells/µL', '< 1 {cells}/uL', or 'not detected (no count reported)'."""
    if qualifier == "not_detected":
        return "not detected (no count reported)"
    if is_missing(value):
        return NOT_REPORTED
    prefix = f"{qualifier} " if qualifier in ("<", ">") else ""
    return f"{prefix}{plain_number(value)} {unit_text(unit_code)}".strip()


# Severities as sources word them (CDISC AESEV: MILD, MODERATE, SEVERE), mildest first.
SEVERITY_ORDER = ("mild", "moderate", "severe", "life-threatening", "fatal")


def ae_grade(grade: object, severity: object = None) -> str:
    """'grade 3', 'not observed' (grade 0), or 'severity: moderate, not graded' when the source
    gave a severity and no grade (nothing is graded that the source did not grade)."""
    if not is_missing(grade):
        return "not observed" if int(grade) == 0 else f"grade {int(grade)}"
    if not is_missing(severity) and str(severity).strip():
        return f"severity: {str(severity).strip().lower()}, not graded"
    return NOT_REPORTED


def severity_rank(severity: object) -> int:
    """Order of a severity in SEVERITY_ORDER; -1 when missing or not one of them."""
    text = "" if is_missing(severity) else str(severity).strip().lower()
    return SEVERITY_ORDER.index(text) if text in SEVERITY_ORDER else -1


_DOSE_BASIS = {"total": "total", "per_day": "per day", "per_dose": "per dose"}


def dose(value: object, unit_code: object, basis: object = None) -> str:
    """'1,000 mg/m² total', '25 mg/m² per day'; a unit that says its own basis (/day) alone."""
    if is_missing(value):
        return NOT_REPORTED
    text = f"{plain_number(value)} {unit_text(unit_code)}".strip()
    says_basis = isinstance(unit_code, str) and unit_code.rsplit("/", 1)[-1] in ("day", "week")
    if isinstance(basis, str) and basis in _DOSE_BASIS and not says_basis:
        text += f" {_DOSE_BASIS[basis]}"
    return text


def plain_number(value: float) -> str:
    """Four significant digits, thousands separated, never scientific notation: 13,600 / 0.45."""
    value = float(value)
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


# How a table's machine column names read on screen (downloads keep the machine names).
HEADINGS = {
    "term": "Event",
    "patients_any_grade": "Patients, any grade",
    "grade_3_or_more": "Grade ≥3",
    "grade ≥3 %": "Grade ≥3 %",
    "not_graded_severity_only": "Severity only, not graded",
    "grading_systems": "Grading",
    "patients_on_default_range": "Graded on the default range ⚑",
    **{f"grade_{g}": f"Grade {g}" for g in range(6)},
}


def headed(frame: pd.DataFrame) -> pd.DataFrame:
    """The table with its column names in words (HEADINGS); other columns as they are."""
    return frame.rename(columns={c: HEADINGS[c] for c in frame.columns if c in HEADINGS})


def table_style(frame: pd.DataFrame):
    """A table as shown: a missing cell is a dash, never "None", and numbers read as
    `plain_number` writes them; the values stay numbers, so columns still sort as numbers."""
    numbers = [c for c in frame.columns if pd.api.types.is_float_dtype(frame[c])]
    # Formatting some columns leaves the others as they were: the dash is given to all first.
    return frame.style.format(na_rep="—").format(dict.fromkeys(numbers, plain_number), na_rep="—")


def age(years: object) -> str:
    return NOT_REPORTED if is_missing(years) else f"{float(years):g} y"


def cell_dose(per_kg: object) -> str:
    if is_missing(per_kg):
        return NOT_REPORTED
    mantissa, exponent = f"{float(per_kg):.2e}".split("e")
    return f"{float(mantissa):g} × 10{_superscript(int(exponent))} cells/kg"


def _superscript(number: int) -> str:
    return str(number).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))


_UNIT_TEXT = {"{cells}/uL": "cells/µL", "10*9/L": "×10⁹/L", "{score}": "points", "mg/m2": "mg/m²",
              "[IU]/mL": "IU/mL", "mL/min/{1.73_m2}": "mL/min/1.73 m²",
              "{titer}": "titre (reciprocal)"}  # fmt: skip


def unit_text(ucum: object) -> str:
    """A UCUM unit as people read it: {cells}/uL -> cells/µL, 10*9/L -> ×10⁹/L."""
    if is_missing(ucum):
        return ""
    return _UNIT_TEXT.get(str(ucum), str(ucum).replace("uL", "µL"))
