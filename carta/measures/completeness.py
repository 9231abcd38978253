"""Follow-up completeness: which expected measure of which visit is done, missing, due, overdue or
not yet due at the data cut, per patient (docs/rules.md, "Follow-up schedule").

The schedule is data (data/reference/visit_schedule.csv: visits with their windows in study days
and the measure groups expected at each; data/reference/schedule_measures.csv: the parameter
codes of each group, by indication). Rules as implemented [U: design rules, settings]:

- A group is **done** at a visit when every one of its codes has a value on a day inside the
  visit's window (days day_from to day_to, both included).
- A group recorded in the adverse events (`recorded_in` adverse_events: the CRS and ICANS
  assessment of the acute period) is done when the patient has a graded record (grade 0, assessed
  and not observed, included) of each of its categories, undated or with its onset on or before
  the window's end. A severity without a grade does not count: no grade is made from it. A visit
  without adverse events leaves no row in any format Carta reads, so no other adverse-event
  assessment can be judged.
- Otherwise, against the patient's last day (the follow-up; without one, the last dated
  value):
  **not yet due** when the window opens after it; **due** when the window is open on it;
  once the window has closed, **missing** when anything else was measured in the window (the
  visit was held without this measure) and **overdue** when nothing was (the visit is not
  recorded).
- A patient with neither is judged on what was measured only: done or missing.
- Windows do not overlap, so a measured day belongs to one visit at most.
- A source's own schedule (table visit_schedules) replaces the default for its patients
  (:func:`schedules`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from carta import dictionary

DONE, MISSING, DUE, OVERDUE, NOT_YET_DUE = "done", "missing", "due", "overdue", "not yet due"
STATUSES = (DONE, MISSING, DUE, OVERDUE, NOT_YET_DUE)
COLUMNS = ["patient_id", "visit", "visit_sort", "nominal_day", "day_from", "day_to",
           "measure_group", "label", "status", "codes_missing"]  # fmt: skip
OBSERVATIONS, ADVERSE_EVENTS = "observations", "adverse_events"
DEFAULT_SCHEDULE = "default"
VISIT_COLUMNS = ["visit", "nominal_day", "day_from", "day_to", "expected", "note"]


def schedules(
    patients: pd.DataFrame, own: pd.DataFrame, default: pd.DataFrame | None = None
) -> list[tuple[str, pd.DataFrame, pd.DataFrame]]:
    """The schedule of every patient: (name, visits in day order, its patients). A source with
    rows in `own` (table visit_schedules: source_id and VISIT_COLUMNS) follows them, named after
    the source; every other patient follows `default` (data/reference/visit_schedule.csv)."""
    default = dictionary.visit_schedule() if default is None else default
    mine = patients["source_id"].isin(set(own["source_id"]))
    out = [(DEFAULT_SCHEDULE, default, patients[~mine])] if (~mine).any() else []
    for source, visits in own.groupby("source_id", sort=True):
        people = patients[patients["source_id"] == source]
        if len(people):
            visits = visits[VISIT_COLUMNS].sort_values("day_from").reset_index(drop=True)
            out.append((str(source), visits, people))
    return out


def expected_cells(
    patients: pd.DataFrame, visits: pd.DataFrame, groups: pd.DataFrame
) -> pd.DataFrame:
    """One row per patient, visit and expected group of the patient's indication: patient_id,
    visit, visit_sort, nominal_day, day_from, day_to, measure_group, label, codes (the group's
    codes, ';'-separated), recorded_in (observations or adverse_events). A group with
    indications listed applies to those only; one without, to every patient."""
    visits = visits.reset_index(drop=True).assign(visit_sort=lambda v: np.arange(len(v)))
    per_visit = visits.assign(measure_group=visits["expected"].str.split(";")).explode(
        "measure_group"
    )[["visit", "visit_sort", "nominal_day", "day_from", "day_to", "measure_group"]]
    rules = groups.rename(columns={"group": "measure_group"})
    rules["recorded_in"] = rules.get("recorded_in", pd.Series(index=rules.index, dtype=object))
    rules["recorded_in"] = rules["recorded_in"].fillna(OBSERVATIONS)
    rules = rules.assign(indication=rules["indications"].fillna("").str.split(";")).explode(
        "indication"
    )[["measure_group", "indication", "label", "codes", "recorded_in"]]
    # Per indication first (a few rows), then per patient: the large merge is one of keys.
    indications = pd.Series(patients["indication"].fillna("").unique(), name="indication")
    general = rules[rules["indication"] == ""].drop(columns="indication")
    plan = pd.concat([
        indications.to_frame().merge(general, how="cross"),
        rules[rules["indication"].isin(indications) & (rules["indication"] != "")],
    ], ignore_index=True).merge(per_visit, on="measure_group")  # fmt: skip
    people = patients[["patient_id"]].assign(indication=patients["indication"].fillna(""))
    out = people.merge(plan, on="indication")
    keep = ["patient_id", "visit", "visit_sort", "nominal_day", "day_from", "day_to",
            "measure_group", "label", "codes", "recorded_in"]  # fmt: skip
    return (
        out[keep].sort_values(["patient_id", "visit_sort", "measure_group"]).reset_index(drop=True)
    )


def grid_parameters(
    default: pd.DataFrame | None = None, groups: pd.DataFrame | None = None
) -> dict[str, list]:
    """The parameters of queries/follow_up_completeness_grid.sql, the grid computed in the store:
    the default schedule's visits in day order, every expected group's codes one per row (in
    the group's own order, which codes_missing keeps) and the codes measured in observations."""
    default = dictionary.visit_schedule() if default is None else default
    groups = dictionary.schedule_measures() if groups is None else groups
    visits = default.reset_index(drop=True).assign(visit_sort=lambda v: np.arange(len(v)))
    rules = groups.rename(columns={"group": "measure_group"}).reset_index(drop=True)
    rules = rules.assign(
        rule=np.arange(len(rules)),
        recorded_in=rules.get("recorded_in", pd.Series(index=rules.index, dtype=object)).fillna(
            OBSERVATIONS
        ),
        indication=rules["indications"].fillna("").str.split(";"),
        code=rules["codes"].str.split(";"),
    )
    rules = rules.explode("indication").explode("code")
    rules["code_pos"] = rules.groupby(["rule", "indication"]).cumcount()
    keep = ["rule", "measure_group", "indication", "label", "codes", "recorded_in", "code",
            "code_pos"]  # fmt: skip
    return {
        "default_visits": _records(visits[[*VISIT_COLUMNS[:5], "visit_sort"]]),
        "groups": _records(rules[keep]),
        "codes": scheduled_codes(groups),
    }


def scheduled_codes(groups: pd.DataFrame | None = None) -> list[str]:
    """The codes the schedule expects to be measured (its groups recorded in observations)."""
    groups = dictionary.schedule_measures() if groups is None else groups
    measured = groups[groups["recorded_in"].fillna(OBSERVATIONS) == OBSERVATIONS]
    return sorted({c for cs in measured["codes"] for c in cs.split(";")})


def _records(frame: pd.DataFrame) -> list[dict]:
    # Plain Python values: DuckDB binds a list of dicts as a list of structs.
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
            for row in frame.to_dict("records")]  # fmt: skip


def grid(
    observations: pd.DataFrame,
    patients: pd.DataFrame,
    visits: pd.DataFrame | None = None,
    groups: pd.DataFrame | None = None,
    graded_events: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The completeness grid (COLUMNS), one row per patient, visit and expected group.

    `observations`: patient_id, day, code (dated values); `patients`: patient_id, indication,
    last_day (NaN when not known); `graded_events`: patient_id, code (the adverse-event
    category), day (the onset, NaN when undated) of the graded adverse events."""
    visits = dictionary.visit_schedule() if visits is None else visits
    groups = dictionary.schedule_measures() if groups is None else groups
    cells = expected_cells(patients, visits, groups)
    if cells.empty:
        return pd.DataFrame(columns=COLUMNS)
    ordered = visits.reset_index(drop=True)
    dated = observations.dropna(subset=["day"])
    day = dated["day"].to_numpy(dtype="float64")
    # The visit of each measured day: the last window opening on or before it, if it is open.
    at = np.searchsorted(ordered["day_from"].to_numpy(dtype="float64"), day, side="right") - 1
    inside = (at >= 0) & (day <= ordered["day_to"].to_numpy(dtype="float64")[np.clip(at, 0, None)])
    seen = dated[inside].assign(visit_sort=at[inside])[["patient_id", "visit_sort", "code"]]
    seen = seen.drop_duplicates()
    # Each cell's codes one per row, matched against what was seen: merges, not row loops.
    cells["cell"] = np.arange(len(cells))
    pairs = (
        cells[["cell", "patient_id", "visit_sort", "day_to", "codes", "recorded_in"]]
        .assign(code=cells["codes"].str.split(";"))
        .explode("code")
        .reset_index(drop=True)
    )
    pairs["hit"] = pairs.merge(seen.assign(hit=True), on=["patient_id", "visit_sort", "code"],
                               how="left")["hit"].notna().to_numpy()  # fmt: skip
    pairs["hit"] &= pairs["recorded_in"] == OBSERVATIONS
    pairs.loc[pairs["recorded_in"] == ADVERSE_EVENTS, "hit"] = _graded_by_then(
        pairs[pairs["recorded_in"] == ADVERSE_EVENTS], graded_events
    )
    n_hit = pairs.groupby("cell")["hit"].sum().to_numpy()
    n_codes = pairs.groupby("cell").size().to_numpy()
    done, none_seen = n_hit == n_codes, n_hit == 0
    partial = ~done & ~none_seen
    missing = pd.Series(None, index=cells.index, dtype=object)
    missing[none_seen] = cells.loc[none_seen, "codes"].str.replace(";", "; ").to_numpy()
    if partial.any():
        lacking = pairs[~pairs["hit"] & pairs["cell"].isin(cells.index[partial])]
        missing[partial] = lacking.groupby("cell")["code"].agg("; ".join).to_numpy()
    visited = seen[["patient_id", "visit_sort"]].drop_duplicates().assign(held=True)
    was_held = cells.merge(visited, on=["patient_id", "visit_sort"], how="left")["held"]
    was_held = was_held.notna().to_numpy()
    # Without a follow-up day (a publication that gives it in words), the last dated value
    # stands in for it, as on the safety view.
    last_day = patients.set_index("patient_id")["last_day"].astype("float64")
    last_day = last_day.fillna(dated.groupby("patient_id")["day"].max().astype("float64"))
    last = cells["patient_id"].map(last_day).astype("float64").to_numpy()
    known = ~np.isnan(last)
    opens, closes = cells["day_from"].to_numpy(dtype="float64"), cells["day_to"].to_numpy()
    status = np.select(
        [done, ~known, opens > last, closes >= last, was_held],
        [DONE, MISSING, NOT_YET_DUE, DUE, MISSING],
        default=OVERDUE,
    )
    return cells.assign(status=status, codes_missing=missing)[COLUMNS]


def _graded_by_then(pairs: pd.DataFrame, graded: pd.DataFrame | None) -> np.ndarray:
    """Per (cell, code) pair of an adverse-event group: is there a graded record of the code,
    undated or with its onset on or before the window's end?"""
    if pairs.empty or graded is None or graded.empty:
        return np.zeros(len(pairs), dtype=bool)
    matched = (
        pairs[["patient_id", "code", "day_to"]]
        .reset_index()
        .merge(graded[["patient_id", "code", "day"]], on=["patient_id", "code"], how="inner")
    )
    onset = matched["day"].astype("float64")
    matched = matched[onset.isna() | (onset <= matched["day_to"].astype("float64"))]
    return pairs.index.isin(matched["index"])


def worklist(cells: pd.DataFrame) -> pd.DataFrame:
    """What a data manager chases: the overdue and missing cells, one row per patient, visit and
    group, the oldest visit first."""
    wanted = cells[cells["status"].isin([OVERDUE, MISSING])]
    return wanted.sort_values(["visit_sort", "patient_id", "measure_group"]).reset_index(drop=True)
