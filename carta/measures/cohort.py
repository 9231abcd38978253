"""The cohort explorer's rules: which patients each view counts, and the summaries it draws.

Pure functions of frames from queries/cohort_*.sql. The heavy lifting (a registry's observations
down to one value per patient and visit window) is done in DuckDB; what arrives here is at most a
row per patient and window, and what leaves for the browser is capped at MAX_CHART_ROWS.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from carta.membership import among

# No chart is sent more rows than this, whatever the cohort size (issue 6's benchmark target).
MAX_CHART_ROWS = 5_000
# The waterfall is half a page wide (about 420 pixels): past two bars a pixel, more bars draw the
# same curve and only add bytes (5,000 bars were a quarter of the cohort page, bench/home_page.py).
MAX_WATERFALL_BARS = 1_000

CATEGORIES = ["none", "minimal", "moderate", "major"]  # TIS categories, clinical-rules §3.1

# cBioPortal's study view: each view's counts leave out its own selection, so that what was not
# picked stays visible there. The views below own one selection each; the others own none.
SELECTION_OWNER = {"brush": "distribution", "category": "response", "lanes": "swimmer"}
SELECTION_LABELS = {"brush": "Value range", "category": "Response", "lanes": "Patients picked"}


@dataclass(frozen=True)
class Filters:
    """The cohort filters, as queries/cohort_patients.sql takes them ([] and None mean any)."""

    diagnoses: tuple[str, ...] = ()
    autoantibodies: tuple[str, ...] = ()
    sexes: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    age: tuple[float | None, float | None] = (None, None)
    dose: tuple[float | None, float | None] = (None, None)
    indications: tuple[str, ...] = ()

    def params(self) -> dict[str, object]:
        return {
            "indications": list(self.indications),
            "diagnoses": list(self.diagnoses),
            "autoantibodies": list(self.autoantibodies),
            "sexes": list(self.sexes),
            "products": list(self.products),
            "sources": list(self.sources),
            "age_min": self.age[0],
            "age_max": self.age[1],
            "dose_min": self.dose[0],
            "dose_max": self.dose[1],
        }


@dataclass(frozen=True)
class Selections:
    """What was picked in the charts; None is no selection."""

    brush: tuple[float, float, float, float] | None = None  # sort from, sort to, value lo, hi
    category: tuple[str, str] | None = None  # (timepoint, TIS category)
    lanes: tuple[str, ...] | None = None  # patient ids

    def active(self) -> dict[str, object]:
        return {name: value for name, value in self.__dict__.items() if value is not None}


@dataclass
class Crossfilter:
    """The patients of the filtered cohort, and the patients each selection keeps."""

    cohort: list[str]
    kept: dict[str, set[str]] = field(default_factory=dict)  # selection name -> patients

    def patients_for(self, view: str | None = None) -> list[str]:
        """The cohort narrowed by every selection except the one `view` owns."""
        chosen = set(self.cohort)
        for name, patients in self.kept.items():
            if SELECTION_OWNER.get(name) != view:
                chosen &= patients
        return [p for p in self.cohort if p in chosen]


def windows_param(timepoints: pd.DataFrame) -> list[dict[str, object]]:
    """The visit windows, in the order given (display order), as
    queries/cohort_values_at_timepoints.sql takes them."""
    ordered = timepoints
    return [
        {"name": str(r.name), "nominal_day": int(r.nominal_day), "day_from": int(r.day_from),
         "day_to": int(r.day_to)}
        for r in ordered.itertuples(index=False)
    ]  # fmt: skip


def window_problems(timepoints: pd.DataFrame) -> list[str]:
    """Why edited windows cannot be used (empty when they can)."""
    problems = []
    if timepoints["name"].isna().any() or timepoints["name"].astype(str).str.strip().eq("").any():
        problems.append("every window needs a name")
    if timepoints["name"].duplicated().any():
        problems.append("window names must differ")
    numbers = timepoints[["nominal_day", "day_from", "day_to"]]
    if numbers.isna().any().any():
        problems.append("every window needs its nominal day, from and to")
    elif not (
        (numbers["day_from"] <= numbers["nominal_day"])
        & (numbers["nominal_day"] <= numbers["day_to"])
    ).all():
        problems.append("each window must hold its nominal day (from ≤ nominal ≤ to)")
    if timepoints.empty:
        problems.append("at least one window is needed")
    return problems


# Points are jittered by up to this much either side of their window's position.
JITTER = 0.175


def brushed_patients(values: pd.DataFrame, brush: tuple[float, float, float, float]) -> set[str]:
    """Patients with a value inside the brushed value range at a visit window the brush touches
    (the windows whose band of jittered points the brush overlaps)."""
    x_from, x_to, low, high = brush
    position = values["timepoint_sort"]
    touched = (position + JITTER >= x_from) & (position - JITTER <= x_to)
    return set(values.loc[touched & values["plotted"].between(low, high), "patient_id"])


def category_patients(response: pd.DataFrame, category: tuple[str, str]) -> set[str]:
    timepoint, name = category
    chosen = response["timepoint"].eq(timepoint) & response["category"].eq(name)
    return set(response.loc[chosen, "patient_id"])


def plotted_column(view: str) -> str:
    return {"Values": "value", "Change": "chg", "% change": "pchg"}[view]


def at_windows(values: pd.DataFrame, shown: list[str]) -> pd.DataFrame:
    """The values at the `shown` windows, `timepoint_sort` renumbered 1.. over them: the charts
    place each window at its position among those shown."""
    values = values[values["timepoint"].isin(shown)]
    position = {t: i for i, t in enumerate(shown, start=1)}
    return values.assign(timepoint_sort=values["timepoint"].map(position))


def with_plotted(values: pd.DataFrame, view: str) -> pd.DataFrame:
    """The values with the column the charts draw (AVAL, CHG or PCHG) as `plotted`, without the
    rows where it is missing (no baseline, or a baseline of 0 for PCHG)."""
    out = values.assign(plotted=values[plotted_column(view)].astype("Float64"))
    return out[out["plotted"].notna()]


def box_stats(values: pd.DataFrame) -> pd.DataFrame:
    """Per visit window: n, quartiles and Tukey whiskers (the furthest values within 1.5 IQR)."""
    rows = []
    for (sort, timepoint), group in values.groupby(["timepoint_sort", "timepoint"], sort=True):
        v = group["plotted"].to_numpy(dtype=float)
        q1, median, q3 = np.quantile(v, [0.25, 0.5, 0.75])
        reach = 1.5 * (q3 - q1)
        inside = v[(v >= q1 - reach) & (v <= q3 + reach)]
        rows.append(
            {"timepoint_sort": sort, "timepoint": timepoint, "n": len(v), "q1": q1,
             "median": median, "q3": q3, "whisker_low": inside.min(),
             "whisker_high": inside.max()}
        )  # fmt: skip
    columns = ["timepoint_sort", "timepoint", "n", "q1", "median", "q3", "whisker_low",
               "whisker_high"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def capped(frame: pd.DataFrame, by: str, limit: int = MAX_CHART_ROWS) -> tuple[pd.DataFrame, int]:
    """At most `limit` rows, keeping whole groups of `by` (a patient's line or points), chosen by a
    fixed hash of the group's key so the same patients stay shown between reruns. Returns the
    rows and the number of groups left out."""
    if len(frame) <= limit:
        return frame, 0
    groups = pd.Index(frame[by].unique())
    per_group = len(frame) / len(groups)
    keep_n = max(1, int(limit // per_group))
    order = np.argsort(pd.util.hash_array(groups.to_numpy(dtype=object)), kind="stable")
    keep = set(groups[order[:keep_n]])
    kept = frame[among(frame[by], keep)]
    while len(kept) > limit and keep_n > 1:  # uneven groups: trim until it fits
        keep_n = int(keep_n * 0.9)
        keep = set(groups[order[:keep_n]])
        kept = frame[among(frame[by], keep)]
    return kept, len(groups) - keep_n


def median_band(values: pd.DataFrame) -> pd.DataFrame:
    """Median and interquartile range of the plotted value per visit window, with n."""
    grouped = values.groupby(["timepoint_sort", "timepoint"], sort=True)["plotted"]
    return (
        grouped.quantile([0.25, 0.5, 0.75])
        .unstack()
        .set_axis(["q1", "median", "q3"], axis=1)
        .join(grouped.size().rename("n"))
        .reset_index()
    )


def waterfall(
    values: pd.DataFrame, response: pd.DataFrame, timepoint: str, better: str, baseline: str
) -> pd.DataFrame:
    """One bar per patient: percent change from baseline at `timepoint`, or the best change over
    the windows other than `baseline` when `timepoint` is "Best change" (the lowest for a
    parameter where lower is better, the highest otherwise), sorted from worst to best, with the
    patient's TIS category at that window (at the best change's window for the best change)."""
    after = values[(values["timepoint"] != baseline) & values["pchg"].notna()]
    if timepoint == "Best change":
        ascending = better == "lower"
        chosen = after.sort_values(["patient_id", "pchg"], ascending=[True, ascending])
        chosen = chosen.drop_duplicates("patient_id")
    else:
        chosen = after[after["timepoint"] == timepoint]
    chosen = chosen.merge(
        response[["patient_id", "timepoint", "category"]], on=["patient_id", "timepoint"],
        how="left",
    )  # fmt: skip
    chosen["category"] = chosen["category"].fillna("not evaluable")
    worst_first = better != "lower"  # bars run from the worst change to the best
    chosen = chosen.sort_values("pchg", ascending=worst_first).reset_index(drop=True)
    chosen["rank"] = np.arange(1, len(chosen) + 1)
    return chosen[["patient_id", "rank", "timepoint", "day", "pchg", "value", "base", "category",
                   "source_id"]]  # fmt: skip


def thinned_by_rank(
    frame: pd.DataFrame, limit: int = MAX_WATERFALL_BARS
) -> tuple[pd.DataFrame, int]:
    """Every k-th bar of a sorted waterfall when there are more than `limit`, and the last: the
    curve keeps its shape and both ends, and every bar shown is a real patient. Returns the bars
    and k."""
    if len(frame) <= limit:
        return frame, 1
    step = int(np.ceil((len(frame) - 1) / (limit - 1)))
    kept = list(range(0, len(frame), step))
    if kept[-1] != len(frame) - 1:
        kept.append(len(frame) - 1)
    return frame.iloc[kept], step


def remission_table(counts: pd.DataFrame) -> pd.DataFrame:
    """queries/cohort_remission_counts.sql as a reader reads it: per window and definition, the
    patients decided, met and its share of the decided, and the undecided."""
    if counts.empty:
        return pd.DataFrame()
    return pd.DataFrame(
        {
            "Visit": counts["timepoint"],
            "Definition": counts["definition"],
            "Decided": counts["decided"].astype(int),
            "Met": counts["met"].astype(int),
            "Met %": [_percent(int(m), int(d)) for m, d in zip(counts["met"], counts["decided"],
                                                              strict=True)],
            "Undecided (input missing)": counts["undecided"].astype(int),
        }
    )  # fmt: skip


RESPONSE_COLUMNS = ["patient_id", "timepoint", "complete", "category", "cid"]


def counted_responses(
    response: pd.DataFrame, patients: Iterable[str], order: list[str]
) -> pd.DataFrame:
    """queries/cohort_response_counts.sql over `response` (rows of table response_by_timepoint,
    or computed again with edited windows) rather than over the store: one counting rule for
    both."""
    import duckdb

    from carta.store import run_query

    con = duckdb.connect()
    try:
        # A table, not a registered frame: the query runs on a cursor, which does not see those.
        rows = response[RESPONSE_COLUMNS]  # noqa: F841 (read by name in the statement)
        con.execute("CREATE TABLE response_by_timepoint AS SELECT * FROM rows")
        return run_query(con, "cohort_response_counts", patients=list(patients),
                         timepoints=list(order), categories=CATEGORIES)  # fmt: skip
    finally:
        con.close()


def response_table_of(counts: pd.DataFrame) -> pd.DataFrame:
    """The rows of queries/cohort_response_counts.sql as a reader reads them, one per visit
    window: patients evaluable for TIS (all core set measures), the number and share in each TIS
    category, and PRINTO CID among those assessed for it (clinical-rules §3.1, §3.2)."""
    rows = []
    for (timepoint, _), window in counts.groupby(["timepoint", "timepoint_sort"], sort=False):
        first = window.iloc[0]
        n = int(first["evaluable"])
        row: dict[str, object] = {"timepoint": timepoint, "n evaluable (TIS)": n}
        for name, count in zip(window["category"], window["patients"], strict=True):
            row[name] = int(count)
            row[f"{name} %"] = _percent(int(count), n)
        n_cid, cid = int(first["cid_assessed"]), int(first["cid_met"])
        row["n assessed (CID)"] = n_cid
        row["CID"] = cid
        row["CID %"] = _percent(cid, n_cid)
        rows.append(row)
    return pd.DataFrame(rows)


def response_chart_counts(counts: pd.DataFrame) -> pd.DataFrame:
    """The rows of queries/cohort_response_counts.sql for the response chart: (timepoint,
    category, patients, share of the evaluable), `timepoint_sort` from 0."""
    out = counts[["timepoint", "timepoint_sort", "category", "evaluable", "patients"]].copy()
    out["timepoint_sort"] = out["timepoint_sort"] - 1
    out["share"] = [
        _percent(int(p), int(n)) for p, n in zip(out["patients"], out["evaluable"], strict=True)
    ]
    return out.reset_index(drop=True)


def response_table(
    response: pd.DataFrame, patients: Iterable[str], order: list[str]
) -> pd.DataFrame:
    """The response table of `patients` at the windows of `order` (response_table_of)."""
    return response_table_of(counted_responses(response, patients, order))


def response_counts(response: pd.DataFrame, patients: Iterable[str], order: list[str]):
    """Long counts for the response chart (response_chart_counts)."""
    return response_chart_counts(counted_responses(response, patients, order))


THRESHOLDS = {
    "≤ ULN": lambda v: v["value"] <= v["ref_high"],
    "≥ LLN": lambda v: v["value"] >= v["ref_low"],
    "≤ 1.5 × ULN": lambda v: v["value"] <= 1.5 * v["ref_high"],
}


def threshold_table(values: pd.DataFrame, rule: str, order: list[str]) -> pd.DataFrame:
    """Per visit window: patients with a value and a reference limit, and how many meet `rule`
    (e.g. CK ≤ ULN, with each value's own reference range)."""
    rows = []
    limit = "ref_low" if "LLN" in rule else "ref_high"
    for timepoint in order:
        at = values[(values["timepoint"] == timepoint) & values[limit].notna()]
        met = int(THRESHOLDS[rule](at).fillna(False).sum())
        rows.append({"timepoint": timepoint, "n with a value": len(at), f"{rule}": met,
                     f"{rule} %": _percent(met, len(at))})  # fmt: skip
    return pd.DataFrame(rows)


def adverse_event_table(events: pd.DataFrame, n_patients: int) -> pd.DataFrame:
    """The safety table with percentages of the cohort beside the counts."""
    out = events.copy()
    out.insert(2, "% of patients", [_percent(n, n_patients) for n in out["patients_any_grade"]])
    out["grade ≥3 %"] = [_percent(n, n_patients) for n in out["grade_3_or_more"]]
    return out


def swimmer_lanes(
    marks: pd.DataFrame,
    aplasia: pd.DataFrame,
    response: pd.DataFrame,
    sort_by: str,
    limit: int,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, int]:
    """(lanes, periods, events, lanes left out) for the swimmer plot.

    lanes: one row per patient with its follow-up, in the chosen order; periods: B-cell aplasia and
    CID spans (from a CID visit window to the next window without CID, or the last); events:
    infusion, CRS, ICANS and the first TIS response (day = nominal day of its window).
    """
    last = marks[marks["mark"] == "last contact"].set_index("patient_id")["day"]
    # Unique and sorted by pandas: iterating the Arrow strings in Python took a third of the time.
    lanes = pd.DataFrame({"patient_id": marks["patient_id"].drop_duplicates().sort_values().array})
    lanes["follow_up"] = lanes["patient_id"].map(last)
    first = _first_response(response)
    lanes["first_response_day"] = lanes["patient_id"].map(first.set_index("patient_id")["day"])
    worst_crs = marks[marks["mark"] == "CRS"].groupby("patient_id")["grade"].max()
    lanes["worst_crs"] = lanes["patient_id"].map(worst_crs).astype("Float64")
    key = {
        "Follow-up (longest first)": (["follow_up", "patient_id"], [False, True]),
        "First response (earliest first)": (["first_response_day", "patient_id"], [True, True]),
        "Worst CRS grade (highest first)": (["worst_crs", "patient_id"], [False, True]),
        "Patient id": (["patient_id"], [True]),
    }[sort_by]
    lanes = lanes.sort_values(key[0], ascending=key[1], na_position="last")
    left_out = max(0, len(lanes) - limit)
    lanes = lanes.head(limit).reset_index(drop=True)
    lanes["lane"] = np.arange(len(lanes))
    shown = set(lanes["patient_id"])
    aplasia = aplasia[among(aplasia["patient_id"], shown)]
    response = response[among(response["patient_id"], shown)]
    periods = pd.concat(
        [
            pd.DataFrame(
                {
                    "patient_id": aplasia["patient_id"],
                    "period": "B-cell aplasia",
                    "start": aplasia["onset_day"],
                    "end": aplasia["recovery_day"].fillna(aplasia["last_day"]),
                    "ongoing": aplasia["ongoing_at_last_value"].fillna(False).astype(bool),
                }
            ),
            _cid_periods(response),
        ],
        ignore_index=True,
    )
    periods = periods[among(periods["patient_id"], shown) & periods["start"].notna()]
    # A period ends by the last contact at the latest: a CID run is dated by its windows' nominal
    # days, and the last window's nominal day can lie after the patient's follow-up.
    follow_up = periods["patient_id"].map(lanes.set_index("patient_id")["follow_up"])
    periods = periods.assign(end=periods["end"].where(
        follow_up.isna() | (periods["end"] <= follow_up), follow_up
    ))  # fmt: skip
    periods = periods[follow_up.isna() | (periods["start"] <= follow_up)]
    # Only the lanes drawn: labels made for the whole cohort took most of this function's time.
    placed = marks[marks["mark"].isin(["infusion", "CRS", "ICANS"]) & marks["day"].notna()
                   & among(marks["patient_id"], shown)]  # fmt: skip
    first = first[among(first["patient_id"], shown)]
    events = pd.concat(
        [
            placed.assign(
                label=[f"{m} grade {int(g)}" if pd.notna(g) else m
                       for m, g in zip(placed["mark"], placed["grade"], strict=True)]
            )[["patient_id", "mark", "day", "grade", "label"]],
            first.assign(mark="first response", grade=np.nan,
                         label="first TIS response: " + first["category"])[
                ["patient_id", "mark", "day", "grade", "label"]],
        ],
        ignore_index=True,
    )  # fmt: skip
    lane_of = lanes.set_index("patient_id")["lane"]
    periods = periods.assign(lane=periods["patient_id"].map(lane_of))
    events = events.assign(lane=events["patient_id"].map(lane_of))
    return lanes, periods.reset_index(drop=True), events.reset_index(drop=True), left_out


def unplaced_marks(marks: pd.DataFrame, patients: Iterable[str]) -> pd.DataFrame:
    """CRS and ICANS reported without a day: listed beside the swimmer plot, never placed."""
    chosen = marks[among(marks["patient_id"], patients)]
    return chosen[chosen["mark"].isin(["CRS", "ICANS"]) & chosen["day"].isna()]


def _first_response(response: pd.DataFrame) -> pd.DataFrame:
    """The first window with a TIS category of at least minimal improvement, per patient."""
    improved = response[response["category"].isin(CATEGORIES[1:])]
    first = improved.sort_values(["patient_id", "timepoint_sort"]).drop_duplicates("patient_id")
    return first.assign(day=first["nominal_day"])[["patient_id", "day", "category"]]


def _cid_periods(response: pd.DataFrame) -> pd.DataFrame:
    """Runs of consecutive assessed windows with CID: from the first window of a run to the next
    assessed window without CID, or to the last assessed window when the run is still going."""
    assessed = response[response["cid"].notna()].sort_values(["patient_id", "timepoint_sort"])
    cid = assessed["cid"].astype(bool).to_numpy()
    patient = assessed["patient_id"].to_numpy()
    day = assessed["nominal_day"].to_numpy()
    rows = []
    start = None
    for i in range(len(assessed)):
        new_patient = i == 0 or patient[i] != patient[i - 1]
        if new_patient and start is not None:  # a run still going at the previous patient's end
            rows.append((patient[i - 1], start, day[i - 1]))
            start = None
        if cid[i] and start is None:
            start = day[i]
        elif not cid[i] and start is not None:
            rows.append((patient[i], start, day[i]))
            start = None
    if start is not None:
        rows.append((patient[-1], start, day[-1]))
    frame = pd.DataFrame(rows, columns=["patient_id", "start", "end"])
    return frame.assign(period="CID", ongoing=False)


def adam_bds(values: pd.DataFrame, parameters: pd.DataFrame, sources: Mapping[str, str]):
    """The shown values as an analysis-ready long table in ADaM BDS style (clinical-rules §6.2).

    The study day keeps day 0 = infusion, so it is named STUDYDAY_INF rather than ADY: ADaM's
    ADY has no day 0 (admiral derive_vars_dy)."""
    meta = parameters.set_index("code")
    return pd.DataFrame(
        {
            "USUBJID": values["patient_id"],
            "PARAMCD": values["code"],
            "PARAM": values["code"].map(meta["label"]) + " (" + values["unit"] + ")",
            "AVAL": values["value"],
            "AVALU": values["unit"],
            "AVALQUAL": values["qualifier"],
            "BASE": values["base"],
            "CHG": values["chg"],
            "PCHG": values["pchg"],
            "AVISIT": values["timepoint"],
            "AVISITN": values["timepoint_sort"],
            "STUDYDAY_INF": values["day"],
            "ANRLO": values["ref_low"],
            "ANRHI": values["ref_high"],
            "SRCID": values["source_id"],
            "SRCKIND": values["source_id"].map(sources),
        }
    ).reset_index(drop=True)


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None
