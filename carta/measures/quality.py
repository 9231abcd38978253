"""Data-quality checks run at every publish, in the three categories of the harmonized framework
of Kahn MG et al. (eGEMs 2016;4:1244): conformance, completeness and plausibility. Each finding
names the rows behind it (patient, visit, parameter, day), so that a figure leads back to them.

Checks as implemented (docs/rules.md, "Data quality"; design rules [U]):

- completeness / `missing measure`, `overdue visit`: the cells of follow_up_completeness;
- plausibility / `implausible value`: a stored value outside its code's plausible range
  (data/reference/plausible_ranges.csv; the import refuses them, so this finds rows stored
  before a range was tightened);
- plausibility / `infusion after the last follow-up`: the infusion's day after the follow-up;
- conformance / `no infusion recorded`: a patient with no dated infusion event (day 0 rests on
  it);
- plausibility / `outside every visit window`: a dated value of a scheduled code after day 35
  (the first weeks are sampled as the course needs) on a day that no visit window holds;
- plausibility / `duplicated visit`: one code measured on two or more days inside one visit
  window after day 35 (which of them is the visit's value is the reader's guess);
- plausibility / `adverse event before enrolment`: an adverse event whose onset is before the
  schedule's first window opens (screening: day -90 in the default schedule). Carta stores no
  consent day, so the first window stands in for it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from carta.measures import completeness

COLUMNS = ["category", "check_name", "patient_id", "visit", "code", "day", "detail"]
CATEGORIES = ("conformance", "completeness", "plausibility")
# Up to this day (the end of the day-28 window) values are taken as the course needs, daily in
# hospital: the window checks leave them out [U].
SAMPLED_AS_NEEDED_UNTIL = 35


def _rows(category: str, check: str, frame: pd.DataFrame, **columns) -> pd.DataFrame:
    out = pd.DataFrame(
        {"category": category, "check_name": check, "patient_id": frame["patient_id"].to_numpy()},
        index=frame.index,
    )
    for name in ("visit", "code", "day", "detail"):
        value = columns.get(name)
        out[name] = value.to_numpy() if isinstance(value, pd.Series) else value
    return out[COLUMNS]


def implausible(observations: pd.DataFrame, plausible: pd.DataFrame) -> pd.DataFrame:
    """The values outside their code's plausible range, with the range: what
    queries/implausible_values.sql gives from the store (the same rule, for a frame)."""
    bounds = observations.merge(plausible, on="code", how="inner")
    value = bounds["value"].astype("float64")
    outside = value.notna() & (
        (bounds["plausible_low"].notna() & value.lt(bounds["plausible_low"]))
        | (bounds["plausible_high"].notna() & value.gt(bounds["plausible_high"]))
    )
    return bounds[outside].reset_index(drop=True)


def findings(
    gaps: pd.DataFrame,
    implausible_values: pd.DataFrame,
    scheduled: pd.DataFrame,
    patients: pd.DataFrame,
    infusions: pd.DataFrame,
    visits: pd.DataFrame,
    adverse_events: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every finding (COLUMNS).

    `gaps`: the missing and overdue cells of follow_up_completeness; `implausible_values`:
    patient_id, day, code, value, plausible_low, plausible_high (:func:`implausible`);
    `scheduled`: patient_id, day, code of the dated values of the codes the schedule expects;
    `patients`: patient_id, last_day; `infusions`: patient_id, start_day of the infusion events;
    `visits`: the schedule; `adverse_events`: patient_id, term, onset_day of the dated events."""
    out = []
    check = np.where(gaps["status"] == completeness.OVERDUE, "overdue visit", "missing measure")
    detail = gaps["label"] + ": " + gaps["codes_missing"].fillna("") + " not measured in days " \
        + gaps["day_from"].astype(str) + " to " + gaps["day_to"].astype(str)  # fmt: skip
    frame = _rows("completeness", "", gaps, visit=gaps["visit"], code=gaps["codes_missing"],
                  detail=detail)  # fmt: skip
    frame["check_name"] = check
    out.append(frame)

    bad = implausible_values
    out.append(_rows("plausibility", "implausible value", bad, code=bad["code"], day=bad["day"],
                     detail="value " + bad["value"].astype(str) + " outside "
                     + bad["plausible_low"].astype(str) + " to "
                     + bad["plausible_high"].astype(str)))  # fmt: skip

    first_infusion = infusions.dropna(subset=["start_day"]).groupby("patient_id")["start_day"].min()
    last = patients.set_index("patient_id")["last_day"]
    late = pd.DataFrame({"patient_id": first_infusion.index, "day": first_infusion.to_numpy()})
    late = late[late["day"].to_numpy() > last.reindex(late["patient_id"]).to_numpy()]
    out.append(_rows("plausibility", "infusion after the last follow-up", late, day=late["day"],
                     detail="infusion on day " + late["day"].astype(str) + " after the last day "
                     + late["patient_id"].map(last).astype(str)))  # fmt: skip
    none = patients[~patients["patient_id"].isin(first_infusion.index)]
    why = "no dated infusion event: day 0 is not known from the events"
    out.append(_rows("conformance", "no infusion recorded", none, detail=why))

    scheduled = scheduled.dropna(subset=["day"]).drop_duplicates(["patient_id", "day", "code"])
    scheduled = scheduled.reset_index(drop=True)
    ordered = visits.reset_index(drop=True)
    day = scheduled["day"].to_numpy(dtype="float64")
    at = np.searchsorted(ordered["day_from"].to_numpy(dtype="float64"), day, side="right") - 1
    inside = (at >= 0) & (day <= ordered["day_to"].to_numpy(dtype="float64")[np.clip(at, 0, None)])
    # The window checks start after the day-28 window: before it (and before screening) a
    # patient is sampled as the course needs, not by the schedule.
    scheduled_part = day > SAMPLED_AS_NEEDED_UNTIL
    stray = scheduled[~inside & scheduled_part]
    out.append(_rows("plausibility", "outside every visit window", stray, code=stray["code"],
                     day=stray["day"], detail="day " + stray["day"].astype(str)
                     + " is in no visit window of the schedule"))  # fmt: skip
    placed = scheduled[inside & scheduled_part]
    placed = placed.assign(visit=ordered["visit"].to_numpy()[at[inside & scheduled_part]])
    days = placed.groupby(["patient_id", "visit", "code"])["day"].agg(["nunique", "min", "max"])
    twice = days[days["nunique"] > 1].reset_index()
    span = twice["min"].astype(str) + " to " + twice["max"].astype(str)
    detail = twice["nunique"].astype(str) + " days in one window (days " + span + ")"
    out.append(_rows("plausibility", "duplicated visit", twice, visit=twice["visit"],
                     code=twice["code"], day=twice["min"], detail=detail))  # fmt: skip
    if adverse_events is not None and len(visits):
        opens = float(visits["day_from"].min())
        early = adverse_events[adverse_events["onset_day"].astype("float64") < opens]
        out.append(_rows("plausibility", "adverse event before enrolment", early,
                         day=early["onset_day"], detail=early["term"] + " on day "
                         + early["onset_day"].astype(str) + ", before the first visit window "
                         + f"opens (day {opens:g})"))  # fmt: skip
    frames = [f for f in out if len(f)]
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    result = pd.concat(frames, ignore_index=True)
    result["day"] = result["day"].astype("Float64").round().astype("Int64")
    return result.sort_values(["category", "check_name", "patient_id"], kind="stable").reset_index(
        drop=True
    )
