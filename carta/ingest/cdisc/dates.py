"""ISO 8601 dates of SDTM/ADaM (--DTC) turned into Carta study days, keeping their precision.

A complete date (YYYY-MM-DD, with or without a time) gives an exact study day: the days from the
patient's day 0 (the CAR T infusion). A partial date (YYYY or YYYY-MM, SDTMIG §4.4.2) is never
made exact: it gives the earliest and the latest study day it can mean and its precision
('month' or 'year'), and no day. Nothing of the date itself is kept. Vectorised over a column.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# No \s in the patterns: pandas then hands them to Arrow's regex engine (values are stripped).
_ISO = r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2}))?)?(?:T[\d:.]*)?(?:[+-Z].*)?$"


def regex_groups(values: pd.Series, pattern: str) -> pd.DataFrame:
    """The named groups of `pattern` in each stripped value (NA where it does not match), by
    Arrow's regex engine: a million values in a fraction of a second."""
    text = pa.array(values.astype("string").str.strip(), type=pa.string(), from_pandas=True)
    found = pc.extract_regex(text, pattern)
    names = [found.type.field(i).name for i in range(found.type.num_fields)]
    out = {}
    for name in names:
        group = pc.struct_field(found, name)
        # A group that took no part in the match comes back as "": it is missing.
        group = pc.if_else(pc.equal(group, ""), pa.scalar(None, pa.string()), group)
        out[name] = pd.Series(pd.arrays.ArrowStringArray(group), index=values.index)
    return pd.DataFrame(out)


@dataclass(frozen=True)
class StudyDays:
    """Per row: the exact study day (or NA), the earliest and latest study day a partial date
    allows, its precision ('month', 'year', NA for an exact day or no date), and which rows had
    a date that is not ISO 8601."""

    day: pd.Series  # Int64
    earliest: pd.Series  # Int64
    latest: pd.Series  # Int64
    precision: pd.Series  # string
    unreadable: pd.Series  # bool: a value that is not an ISO 8601 date


def parse(dtc: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """(first day, last day, precision, unreadable) of each ISO 8601 value, as timestamps."""
    text = dtc.astype("string")
    parts = regex_groups(text, _ISO)
    given = text.notna() & text.str.strip().ne("")
    year, month, day = parts["y"], parts["m"], parts["d"]
    exact = year.notna() & month.notna() & day.notna()
    first = pd.to_datetime(
        year + "-" + month.fillna("01") + "-" + day.fillna("01"), format="%Y-%m-%d", errors="coerce"
    )
    # The last day a partial date can mean: the end of its month, or of its year.
    month_end = first + pd.offsets.MonthEnd(0)
    year_end = pd.to_datetime(year + "-12-31", format="%Y-%m-%d", errors="coerce")
    last = first.where(exact, month_end.where(month.notna(), year_end))
    precision = pd.Series(pd.NA, index=dtc.index, dtype="string")
    precision[year.notna() & month.notna() & day.isna()] = "month"
    precision[year.notna() & month.isna()] = "year"
    unreadable = given & first.isna()
    return first, last, precision, unreadable


def study_days(dtc: pd.Series, day0: pd.Series) -> StudyDays:
    """Study days of `dtc` against each row's day-0 date (a timestamp; NaT = not known)."""
    first, last, precision, unreadable = parse(dtc)
    zero = pd.to_datetime(day0, errors="coerce")
    offset_first = (first - zero).dt.days
    offset_last = (last - zero).dt.days
    exact = precision.isna() & first.notna()
    return StudyDays(
        day=_ints(offset_first.where(exact)),
        earliest=_ints(offset_first.where(~exact)),
        latest=_ints(offset_last.where(~exact)),
        precision=precision.where(first.notna() & zero.notna()),
        unreadable=unreadable,
    )


def exact_dates(dtc: pd.Series) -> pd.Series:
    """The complete dates of `dtc` as timestamps; NaT for a partial or missing date."""
    first, _, precision, _ = parse(dtc)
    return first.where(precision.isna())


def sdtm_day_to_study_day(dy: pd.Series) -> pd.Series:
    """SDTM --DY (day 1 = the reference day, no day 0; clinical-rules §6.2) to a day-0 count."""
    number = pd.to_numeric(dy, errors="coerce")
    whole = number.where(number.notna() & (number % 1 == 0))
    return _ints(whole.where(whole < 0, whole - 1))


def _ints(values: pd.Series) -> pd.Series:
    number = pd.to_numeric(values, errors="coerce")
    return pd.Series(
        pd.arrays.IntegerArray(
            np.nan_to_num(number.to_numpy(dtype="float64")).astype(np.int64),
            number.isna().to_numpy(),
        ),
        index=values.index,
    )
