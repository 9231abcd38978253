"""Autoantibodies over time: is a patient's antibody still there after the CAR T infusion?

Seroconversion after CD19 CAR T is one of the field's questions (long-lived plasma cells do not
carry CD19, so some antibodies persist). Rules as implemented (docs/rules.md, "Serology") [U:
design rule, no published definition was checked; a setting, flagged where it is shown]:

- Only results read as negative, borderline or positive count (observations.interpretation). A
  titre without an interpretation is drawn but never read as positive or negative here: assay
  cut-offs differ, and Carta does not guess one.
- The baseline result is the last interpreted result on or before day 0 (the infusion).
- The status of an antibody follows its baseline and its last result after day 0:
  positive at baseline and negative at the last result: 'seroconverted';
  positive at baseline and positive or borderline at the last result: 'persisting';
  borderline at baseline: 'borderline at baseline'; negative at baseline: 'negative at baseline';
  a baseline and nothing after day 0: 'no result after the infusion';
  nothing on or before day 0: 'no baseline'.
- first_negative_day is the first negative result after day 0 of an antibody positive at
  baseline (also when a later result is positive again: the status then says 'persisting').
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SEROCONVERTED = "seroconverted"
PERSISTING = "persisting"
STATUSES = (SEROCONVERTED, PERSISTING, "borderline at baseline", "negative at baseline",
            "no result after the infusion", "no baseline")  # fmt: skip
COLUMNS = ["patient_id", "code", "results", "baseline_day", "baseline_result",
           "first_negative_day", "last_day", "last_result", "status"]  # fmt: skip


def serology_status(observations: pd.DataFrame, infusion_day: int = 0) -> pd.DataFrame:
    """One row per patient and antibody with an interpreted result (COLUMNS).

    `observations` has patient_id, code, day and interpretation (negative, borderline,
    positive or missing); rows without a day or an interpretation are left out.

    >>> rows = pd.DataFrame({"patient_id": "P", "code": "ANTI_SCL70", "day": [-7, 90, 180],
    ...                      "interpretation": ["positive", "borderline", "negative"]})
    >>> serology_status(rows)[["baseline_result", "first_negative_day", "status"]].values.tolist()
    [['positive', 180, 'seroconverted']]
    """
    rows = observations.dropna(subset=["day", "interpretation"])
    rows = rows.sort_values(["patient_id", "code", "day"], kind="stable")
    if rows.empty:
        return pd.DataFrame(columns=COLUMNS)
    key = ["patient_id", "code"]
    before = rows[rows["day"] <= infusion_day].groupby(key).last()
    after = rows[rows["day"] > infusion_day]
    out = rows.groupby(key).size().rename("results").to_frame()
    out["baseline_day"] = before["day"]
    out["baseline_result"] = before["interpretation"]
    last = after.groupby(key).last()
    out["last_day"] = last["day"]
    out["last_result"] = last["interpretation"]
    negative = after[after["interpretation"] == "negative"].groupby(key)["day"].min()
    positive_at_baseline = out["baseline_result"] == "positive"
    out["first_negative_day"] = negative.reindex(out.index).where(positive_at_baseline)
    out["status"] = np.select(
        [
            out["baseline_result"].isna(),
            out["baseline_result"] == "negative",
            out["baseline_result"] == "borderline",
            out["last_result"].isna(),
            out["last_result"] == "negative",
        ],
        ["no baseline", "negative at baseline", "borderline at baseline",
         "no result after the infusion", SEROCONVERTED],
        default=PERSISTING,
    )  # fmt: skip
    out = out.reset_index()
    for column in ("baseline_day", "first_negative_day", "last_day"):
        out[column] = out[column].astype("Int64")
    return out[COLUMNS]
