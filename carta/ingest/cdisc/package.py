"""An SDTM or ADaM package (a folder of datasets, or the datasets given one by one) read into
Carta's tables: patients and their study from DM or ADSL, study day 0 from the CAR T infusion,
then every other dataset against it (CDISC SDTMIG; clinical-rules §6).

Day 0 per patient, in this order (the report says which for how many patients):

1. the first complete start date (EXSTDTC, else ECSTDTC) of a CAR T product in EX or EC: a
   treatment named by ``--day0-treatment`` or, by default, matching ``CAR_T_PRODUCT`` (a
   documented design rule on EXTRT);
2. else the date of first study treatment, DM RFXSTDTC (ADaM ADSL TRTSDT);
3. else the subject's reference start, DM RFSTDTC, SDTM's day 1; without it, rows are placed by
   their --DY, SDTM's day relative to the reference start (day 1 = the reference day, no day 0),
   as Carta's day --DY − 1 (clinical-rules §6.2).

--DY is used for a row without a date only when day 0 is the reference start itself (rule 3, or
RFSTDTC on the same day as day 0), or for a patient with no day-0 date (a dataset imported without
its DM); otherwise the row has no day. No date is kept anywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from carta.ingest.cdisc import dates
from carta.ingest.cdisc.datasets import Dataset
from carta.ingest.problems import Problem

# CD19 CAR T products by generic or code name, and descriptions of them (design rule, documented
# in docs/import-format.md): matched case-insensitively on EXTRT / ECTRT.
CAR_T_PRODUCT = re.compile(
    r"^(?!.*placebo).*(?:car[\s-]?t\b|chimeric antigen|\bcart\b|"
    r"cd19[\s-]*(?:directed|targeted|specific|car)|cabtagene|tisagenlecleucel|"
    r"kyv[\s-]?101|mb[\s-]?cart|zorpo|rese-cel|cabaletta|caba[\s-]?201|ytb[\s-]?323|"
    r"bms[\s-]?986353|obe[\s-]?cel|rapcabtagene)",
    re.IGNORECASE,
)
LYMPHODEPLETION = re.compile(r"fludarabin|cyclophosphamid|bendamustin", re.IGNORECASE)

DAY0_FROM_EX = "the CAR T infusion in {domain} ({treatment})"
DAY0_FROM_FIRST_TREATMENT = "the first study treatment ({column})"
DAY0_FROM_REFERENCE = "the SDTM reference start (RFSTDTC; without it, rows placed by --DY)"


@dataclass
class Subjects:
    """Each patient's study, day 0 and how it was found, indexed by USUBJID."""

    frame: pd.DataFrame  # columns: source_id, day0 (Timestamp or NaT), rule, by_reference (bool)
    notes: list[str] = field(default_factory=list)
    day0_treatment: str | None = None  # the EXTRT named by --day0-treatment

    def is_car_t(self, treatment: pd.Series) -> pd.Series:
        """Exposure rows of the CAR T product: the named treatment, or CAR_T_PRODUCT."""
        if self.day0_treatment:
            named = self.day0_treatment.strip().lower()
            return treatment.str.strip().str.lower().eq(named).fillna(False)
        return treatment.str.contains(CAR_T_PRODUCT, na=False)

    def column(self, ids: pd.Series, name: str) -> pd.Series:
        return ids.map(self.frame[name])

    def source(self, data: pd.DataFrame) -> pd.Series:
        """Each row's study: its patient's in DM, else the row's own STUDYID (a dataset
        imported without its DM, for patients already in the store)."""
        own = data["STUDYID"] if "STUDYID" in data else pd.Series(pd.NA, index=data.index)
        known = self.column(data["USUBJID"], "source_id").astype("string")
        return known.fillna(own.astype("string"))

    def days(self, data: pd.DataFrame, dtc: str, dy: str | None) -> dates.StudyDays:
        """Study days of the column `dtc` of `data` (by USUBJID), with --DY where allowed."""
        ids = data["USUBJID"]
        text = data[dtc] if dtc in data else pd.Series(pd.NA, index=data.index, dtype="string")
        found = dates.study_days(text, self.column(ids, "day0"))
        if dy and dy in data:
            by_dy = dates.sdtm_day_to_study_day(data[dy])
            # A patient the package's DM does not describe has no known day-0 date: --DY.
            allowed = self.column(ids, "by_reference").fillna(True).astype(bool)
            # Where there is no date, or no day-0 date to count it from (a dataset imported
            # without its DM), --DY places the row: it counts from the reference start.
            no_day0 = self.column(ids, "day0").isna()
            use = found.day.isna() & found.precision.isna() & allowed & (text.isna() | no_day0)
            found = dates.StudyDays(
                found.day.mask(use, by_dy), found.earliest, found.latest, found.precision,
                found.unreadable,
            )  # fmt: skip
        return found


def find_subjects(datasets: dict[str, Dataset], day0_treatment: str | None) -> Subjects:
    """Day 0 for every patient of DM (or ADSL), by the rules of the module doc."""
    demography = datasets.get("DM") or datasets.get("ADSL")
    if demography is None:
        return Subjects(pd.DataFrame(columns=["source_id", "day0", "rule", "by_reference"]))
    dm = demography.frame
    ids = dm["USUBJID"]
    frame = pd.DataFrame(
        {"source_id": dm["STUDYID"].to_numpy() if "STUDYID" in dm else pd.NA}, index=ids.to_numpy()
    )
    frame["day0"] = pd.NaT
    frame["rule"] = DAY0_FROM_REFERENCE
    for name in ("EX", "EC"):
        if name not in datasets:
            continue
        ex = datasets[name].frame
        treatment = ex.get(f"{name}TRT", pd.Series(pd.NA, index=ex.index, dtype="string"))
        if day0_treatment:
            is_car_t = treatment.str.strip().str.lower().eq(day0_treatment.strip().lower())
        else:
            is_car_t = treatment.str.contains(CAR_T_PRODUCT, na=False)
        start = dates.exact_dates(ex.get(f"{name}STDTC", pd.Series(pd.NA, index=ex.index)))
        hits = ex[is_car_t.fillna(False) & start.notna()].assign(start=start)
        first = hits.sort_values("start").drop_duplicates("USUBJID").set_index("USUBJID")
        new = first.index.intersection(frame.index[frame["day0"].isna()])
        frame.loc[new, "day0"] = first.loc[new, "start"]
        frame.loc[new, "rule"] = [
            DAY0_FROM_EX.format(domain=name, treatment=first.at[i, f"{name}TRT"]) for i in new
        ]
    for column in ("RFXSTDTC", "TRTSDT"):
        if column not in dm:
            continue
        first_treatment = pd.Series(dates.exact_dates(dm[column]).to_numpy(), index=ids.to_numpy())
        if column == "TRTSDT" and not pd.api.types.is_string_dtype(dm[column]):
            first_treatment = pd.Series(_sas_dates(dm[column]).to_numpy(), index=ids.to_numpy())
        use = frame["day0"].isna() & first_treatment.notna()
        frame.loc[use, "day0"] = first_treatment[use]
        frame.loc[use, "rule"] = DAY0_FROM_FIRST_TREATMENT.format(column=column)
    reference = (
        pd.Series(dates.exact_dates(dm["RFSTDTC"]).to_numpy(), index=ids.to_numpy())
        if "RFSTDTC" in dm
        else pd.Series(pd.NaT, index=ids.to_numpy())
    )
    # Rule 3: the reference start itself is day 0 (SDTM's day 1), by its date where it has one.
    unset = frame["day0"].isna()
    frame.loc[unset, "day0"] = reference[unset]
    frame["by_reference"] = unset | frame["day0"].eq(reference)
    counts = frame["rule"].value_counts()
    notes = [f"day 0 = {rule}: {n} patient(s)" for rule, n in counts.items()]
    return Subjects(frame, notes)


def _sas_dates(values: pd.Series) -> pd.Series:
    """SAS date numbers (days since 1960-01-01), as ADaM stores *DT variables in .xpt files."""
    number = pd.to_numeric(values, errors="coerce")
    return pd.to_datetime("1960-01-01") + pd.to_timedelta(number, unit="D")


def problem(dataset: Dataset, line: int | None, column: str | None, reason: str) -> Problem:
    """A problem of a dataset record; never with the value of a date column."""
    return Problem(dataset.path.name, line, column, None, reason)


def record_lines(frame: pd.DataFrame) -> pd.Series:
    """The 1-based record number of each row of a dataset, as the report counts them."""
    return pd.Series(range(1, len(frame) + 1), index=frame.index)


def merge_supplemental(parent: Dataset, supp: Dataset) -> tuple[pd.DataFrame, int, list[Problem]]:
    """The parent's records with the SUPP-- qualifiers as columns (QNAM -> QVAL), matched on
    USUBJID and IDVAR = IDVARVAL (IDVAR empty: the qualifier is for every record of the
    subject). Returns the frame, how many SUPP records were merged, and a problem for each one
    that matched no parent record."""
    frame = parent.frame.copy()
    s = supp.frame
    merged = pd.Series(False, index=s.index)
    problems = []
    for (idvar, qnam), group in s.groupby([s["IDVAR"].fillna(""), s["QNAM"]], sort=False):
        column = str(qnam).upper()
        if idvar:
            if idvar not in frame:
                continue
            keys = frame["USUBJID"].astype("string") + "\0" + _text(frame[idvar])
            lookup = dict(zip(group["USUBJID"].astype("string") + "\0" + _text(group["IDVARVAL"]),
                              group["QVAL"], strict=True))  # fmt: skip
            values = keys.map(lookup)
            hit = (group["USUBJID"].astype("string") + "\0" + _text(group["IDVARVAL"])).isin(
                set(keys)
            )
        else:
            lookup = dict(zip(group["USUBJID"], group["QVAL"], strict=True))
            values = frame["USUBJID"].map(lookup)
            hit = group["USUBJID"].isin(set(frame["USUBJID"]))
        frame[column] = values.astype("string") if column not in frame else frame[column]
        merged[group.index] = hit
    for index in merged[~merged].index:
        problems.append(
            Problem(supp.path.name, int(s.index.get_loc(index)) + 1, "IDVARVAL", None,
                    f"no {parent.name} record of this subject has this {s.at[index, 'IDVAR']}")
        )  # fmt: skip
    return frame, int(merged.sum()), problems


def _text(values: pd.Series) -> pd.Series:
    """Key values as text: 3.0 and "3" are the same sequence number."""
    number = pd.to_numeric(values, errors="coerce")
    as_number = number.map(lambda v: f"{v:g}" if pd.notna(v) else None)
    return as_number.where(number.notna(), values.astype("string").str.strip()).astype("string")


def read_day0_notes(subjects: Subjects, path: Path) -> list[str]:
    return [f"{path.name}: {note}" for note in subjects.notes]
