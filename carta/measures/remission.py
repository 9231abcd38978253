"""Remission and low disease activity per visit window: SLE (SLEDAI-2K, DORIS 2021, LLDAS) and
systemic sclerosis (the revised EUSTAR activity index), as the table remission_by_timepoint
holds them.

Every criterion is met (True), not met (False) or missing (NA, an input was not recorded), and a
definition is met when all of its criteria are, not met when one is not, and undecided (NA)
otherwise: a missing input never counts as met. Values are compared after rounding to
``SIGNIF_DIGITS`` significant digits, as in carta/measures/response.py.

Sources and status (docs/rules.md, "Remission"):
- SLEDAI-2K: Gladman DD et al. J Rheumatol 2002;29:288-291. The 24 items and their weights
  (WEIGHTS) as published SLEDAI-2K tables give them [P: the paper not read; the tables agree].
  Clinical SLEDAI leaves out the two serology items (low complement, increased DNA binding).
- DORIS 2021: van Vollenhoven RF et al. Lupus Sci Med 2021;8:e000538 (clinical-rules §10 cites it
  as Ann Rheum Dis 2021;80:181; the abstract read is the Lupus Sci Med one): clinical SLEDAI = 0,
  physician global < 0.5 (0-3), prednisolone <= 5 mg/day, stable antimalarials,
  immunosuppressives and biologics [C: abstract]. Stability is not checked [U].
- LLDAS: Franklyn K et al. Ann Rheum Dis 2016;75:1615-1621: SLEDAI-2K <= 4 with no activity in
  major organ systems (renal, CNS, cardiopulmonary, vasculitis, fever) and no new activity
  against the previous assessment, physician global <= 1 (0-3), prednisolone <= 7.5 mg/day,
  standard maintenance immunosuppression tolerated [P: as a later paper's table restates it;
  haemolytic anaemia and gastrointestinal activity, which SLEDAI-2K does not score, are not
  checked].
- Renal response in lupus nephritis, EULAR/ERA-EDTA 2019 (Fanouriakis A et al. Ann Rheum Dis
  2020;79:713): "at least 25% reduction in proteinuria at 3 months, 50% at 6 months and complete
  renal response (<500-700 mg/day) at 12 months" with "(near-)normal glomerular filtration rate"
  [C: abstract and its companion review, Kostopoulou M et al. RMD Open 2020;6:e001263]. As Carta
  applies it [U: design rules, settings]: UPCR in g/g stands for proteinuria in g/24 h; the
  low end of the range, < 0.5, is the complete response; a near-normal eGFR is >= 90
  mL/min/1.73 m2 or within 10 % of the patient's baseline (the 2012 recommendations' "within 10%
  of normal GFR if previously abnormal", Bertsias 2012 [P]); the 3-, 6- and 12-month targets
  are read at windows from day 60, 150 and 330; a patient is assessed when the baseline UPCR
  is 0.5 g/g or more (proteinuria to respond from).
- ACR-CRISS, Khanna D et al. Arthritis Rheumatol 2016;68:299 (early diffuse cutaneous SSc):
  step 1, the probability of improvement is 0 after a new scleroderma renal crisis, a decline
  in FVC % predicted of 15 % (relative) or more, new left ventricular failure or new pulmonary
  arterial hypertension [C: the companion paper's table]; step 2, the probability from the
  changes since baseline in mRSS, FVC % predicted, the patient's and the physician's global
  (0-10) and HAQ-DI, exp(x) / (1 + exp(x)) with x = -5.54 - 0.81 dMRSS + 0.21 dFVC - 0.40 dPtGA
  - 0.44 dMDGA - 3.41 dHAQ-DI [P: the coefficients' sizes and the sign of dFVC read; the other
  signs are those of the clinical direction (less skin, less activity, less disability is
  better), as the stored copies lost them]; improved at >= 0.6 [P: secondary sources]. As Carta
  applies it [U]: at windows from day 330 (the index is defined at one year); step 1's FVC
  decline is read from the values (without the confirmation a month later and the HRCT the
  definition asks for), its other events from adverse-event terms, for patients whose source
  records adverse events; a HAQ-DI is the CHAQ / HAQ-DI value, the patient's global PARENT_GA.
- Revised EUSTAR activity index: Valentini G et al. Ann Rheum Dis 2017;76:270-276: skin worse
  in the previous month 1.5, mRSS > 18 1.5, digital ulcers 1.5, tendon friction rubs 2.25,
  CRP > 1 mg/dL 2.25, DLCO < 70 % predicted 1.0; >= 2.5 = active disease [C: abstract].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from carta.measures import exposure
from carta.measures.numbers import signif

SIGNIF_DIGITS = 12

# SLEDAI-2K item code (observations.code SLEDAI_<item>, 1 = present) -> weight [P].
WEIGHTS = {
    "SEIZURE": 8, "PSYCHOSIS": 8, "OBS": 8, "VISUAL": 8, "CRANIAL": 8, "HEADACHE": 8, "CVA": 8,
    "VASCULITIS": 8, "ARTHRITIS": 4, "MYOSITIS": 4, "CASTS": 4, "HEMATURIA": 4,
    "PROTEINURIA": 4, "PYURIA": 4, "RASH": 2, "ALOPECIA": 2, "MUCOSAL": 2, "PLEURISY": 2,
    "PERICARDITIS": 2, "LOWCOMP": 2, "DNA": 2, "FEVER": 1, "THROMBO": 1, "LEUKO": 1,
}  # fmt: skip
SEROLOGY_ITEMS = ("LOWCOMP", "DNA")
# LLDAS "major organ systems": renal, CNS, cardiopulmonary, vasculitis, fever [P].
MAJOR_ORGAN_ITEMS = ("CASTS", "HEMATURIA", "PROTEINURIA", "PYURIA", "SEIZURE", "PSYCHOSIS",
                     "OBS", "VISUAL", "CRANIAL", "HEADACHE", "CVA", "PLEURISY", "PERICARDITIS",
                     "VASCULITIS", "FEVER")  # fmt: skip
ITEM_CODES = tuple(f"SLEDAI_{item}" for item in WEIGHTS)

DORIS_PGA_BELOW = 0.5
DORIS_PREDNISONE_AT_MOST = 5.0
LLDAS_SLEDAI_AT_MOST = 4
LLDAS_PGA_AT_MOST = 1.0
LLDAS_PREDNISONE_AT_MOST = 7.5

# Revised EUSTAR activity index: (code, test, points) [C: abstract]. CRP is stored in mg/L.
EUSTAR_ITEMS = (
    ("SKIN_WORSE", "skin worse in the past month", lambda v: v > 0, 1.5),
    ("MRSS", "mRSS > 18", lambda v: v > 18, 1.5),
    ("DIGITAL_ULCERS", "digital ulcers", lambda v: v > 0, 1.5),
    ("TFR", "tendon friction rubs", lambda v: v > 0, 2.25),
    ("CRP", "CRP > 1 mg/dL", lambda v: v > 10, 2.25),
    ("DLCO_PCT", "DLCO < 70 % predicted", lambda v: v < 70, 1.0),
)
EUSTAR_ACTIVE_FROM = 2.5

CRISS = "ACR-CRISS ≥ 0.6 ⚑"  # flagged: partly confirmed, applied with settings
# (code, the change's name in x, coefficient) [P]; the intercept; improved from [P].
CRISS_TERMS = (("MRSS", "mRSS", -0.81), ("FVC_PCT", "FVC % predicted", 0.21),
               ("PARENT_GA", "patient global", -0.40), ("PGA", "physician global", -0.44),
               ("CHAQ", "HAQ-DI", -3.41))  # fmt: skip
CRISS_INTERCEPT = -5.54
CRISS_IMPROVED_FROM = 0.6
CRISS_FROM_DAY = 330
CRISS_FVC_DECLINE = 0.15  # relative
# Adverse-event terms that are step 1's events [U: design rule on the terms a source writes].
CRISS_EVENTS = (
    r"renal crisis|heart failure|ventricular (?:failure|dysfunction)"
    r"|pulmonary (?:arterial )?hypertension"
)

RENAL_RESPONSE = "Renal response (EULAR 2019) ⚑"  # flagged: applied with settings
# (first nominal day of the target, its name, the UPCR as a share of baseline at most) [C/U].
RENAL_TARGETS = ((60, "proteinuria ≥ 25 % lower (3 months)", 0.75),
                 (150, "proteinuria ≥ 50 % lower (6 months)", 0.5))  # fmt: skip
RENAL_COMPLETE_FROM_DAY = 330
RENAL_COMPLETE_UPCR_BELOW = 0.5  # g/g; the low end of "<0.5-0.7 g/24 hours" [U]
RENAL_ASSESSED_FROM_UPCR = 0.5  # g/g at baseline [U]
NEAR_NORMAL_EGFR = 90.0  # mL/min/1.73 m2 [U]
NEAR_NORMAL_OF_BASELINE = 0.9  # within 10 % of the patient's baseline eGFR [P/U]

DEFINITIONS = {"SLE": ("DORIS 2021", "LLDAS", RENAL_RESPONSE), "SSC": ("EUSTAR-AI < 2.5", CRISS)}
INPUT_CODES = (*ITEM_CODES, "SLEDAI2K", "CSLEDAI", "PGA_SLE", *(c for c, *_ in EUSTAR_ITEMS),
               "UPCR", "EGFR", "FVC_PCT", "PARENT_GA", "PGA", "CHAQ")  # fmt: skip

COLUMNS = ("patient_id", "timepoint", "timepoint_sort", "nominal_day", "definition", "met",
           "score", "criteria_met", "criteria_not_met", "criteria_missing", "inputs")  # fmt: skip


@dataclass(frozen=True)
class Criterion:
    name: str
    result: pd.Series  # boolean: True met, False not met, NA missing
    shown: pd.Series  # the input as a reader sees it, e.g. "PGA 0.3"; None when missing


def sledai_total(items: dict[str, float]) -> tuple[float | None, float | None]:
    """(SLEDAI-2K, clinical SLEDAI) of one visit's items (item -> 1 present / 0 absent); a total
    is None unless every item it adds up is recorded.

    >>> sledai_total({**dict.fromkeys(WEIGHTS, 0), "ARTHRITIS": 1, "DNA": 1})
    (6, 4)
    """
    clinical = [k for k in WEIGHTS if k not in SEROLOGY_ITEMS]
    total = sum(w for k, w in WEIGHTS.items() if items.get(k, 0) > 0)
    clinical_total = sum(WEIGHTS[k] for k in clinical if items.get(k, 0) > 0)
    return (
        total if all(k in items for k in WEIGHTS) else None,
        clinical_total if all(k in items for k in clinical) else None,
    )


def remission_rows(
    values: pd.DataFrame,
    indications: pd.Series,
    periods: pd.DataFrame,
    medication_recorded: set,
    adverse_events: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """remission_by_timepoint for the patients whose indication has a definition.

    `values`: rows of timepoint_values (patient_id, timepoint, timepoint_sort, nominal_day,
    code, day, value) for INPUT_CODES. `indications`: patient_id -> indication code.
    `periods`: exposure.exposure_periods. `medication_recorded`: the patients whose source
    records medication at all (events of kind medication or withdrawal); for the others the
    glucocorticoid dose is missing, not 0. `adverse_events` (patient_id, term, onset_day) of
    the patients whose source records adverse events: ACR-CRISS step 1 (missing for the others).
    """
    values = values[values["patient_id"].map(indications).isin(list(DEFINITIONS))]
    if values.empty:
        return pd.DataFrame(columns=list(COLUMNS))
    keys = ["patient_id", "timepoint"]
    # One value per patient, window and code (timepoint_values' key): unstacked, not pivoted.
    long = values.drop_duplicates([*keys, "code"]).set_index([*keys, "code"])
    wide = long["value"].astype("float64").unstack("code")
    days = long["day"].astype("float64").unstack("code")
    order = values.drop_duplicates(keys).set_index(keys)[["timepoint_sort", "nominal_day"]]
    wide = (
        wide.reindex(columns=list(INPUT_CODES))
        .join(order)
        .sort_values(["patient_id", "timepoint_sort"])
    )
    days = days.reindex(index=wide.index, columns=list(INPUT_CODES))
    indication = wide.index.get_level_values("patient_id").map(indications)
    out = []
    # A visit counts where the indication's own measures were taken: a blood count's CRP or a
    # day's glucocorticoid dose alone is no lupus or scleroderma assessment.
    lupus_codes = [*ITEM_CODES, "SLEDAI2K", "CSLEDAI", "PGA_SLE"]
    skin_codes = [c for c, *_ in EUSTAR_ITEMS if c != "CRP"]
    lupus = wide[np.asarray(indication == "SLE") & wide[lupus_codes].notna().any(axis=1)]
    if len(lupus):
        dose = _dose_at_visit(lupus, days.loc[lupus.index], periods, medication_recorded)
        scores = _sledai(lupus)
        out.append(_rows(lupus, "DORIS 2021", _doris(lupus, scores, dose), None))
        out.append(_rows(lupus, "LLDAS", _lldas(lupus, scores, dose), scores["sledai"]))
    kidneys = wide[np.asarray(indication == "SLE")]
    out += _renal(kidneys)
    sclerosis = wide[np.asarray(indication == "SSC") & wide[skin_codes].notna().any(axis=1)]
    if len(sclerosis):
        criteria, score = _eustar(sclerosis)
        out.append(_rows(sclerosis, "EUSTAR-AI < 2.5", criteria, score))
    out += _criss(wide[np.asarray(indication == "SSC")], adverse_events)
    if not out:
        return pd.DataFrame(columns=list(COLUMNS))
    rows = pd.concat(out, ignore_index=True)
    assessed = rows["inputs"].notna()
    return (
        rows[assessed]
        .sort_values(["patient_id", "timepoint_sort", "definition"])
        .reset_index(drop=True)[list(COLUMNS)]
    )


def _r(x: pd.Series) -> pd.Series:
    return pd.Series(signif(x.astype("float64").to_numpy(), SIGNIF_DIGITS), index=x.index)


def _test(value: pd.Series, hit) -> pd.Series:
    """A criterion's result: NA where the value is missing."""
    v = _r(value)
    return pd.Series(pd.array(np.where(v.isna(), None, hit(v)), dtype="boolean"), index=v.index)


def _shown(label: str, value: pd.Series, unit: str = "", suffix: pd.Series | None = None):
    text = [None if pd.isna(v) else f"{label} {float(v):g}{unit}" for v in value.astype("float64")]
    if suffix is not None:
        text = [
            t if t is None or not s else f"{t} ({s})" for t, s in zip(text, suffix, strict=True)
        ]
    return pd.Series(text, index=value.index, dtype=object)


def _sledai(w: pd.DataFrame) -> pd.DataFrame:
    """SLEDAI-2K and clinical SLEDAI per visit: from the items when all are recorded, else the
    recorded totals; a recorded SLEDAI-2K of 0 means a clinical SLEDAI of 0, and without the
    items a clinical SLEDAI is the total less the serology items when those two are recorded."""
    items = w[list(ITEM_CODES)]
    present = items.gt(0).astype("float64")
    weights = pd.Series([WEIGHTS[c.removeprefix("SLEDAI_")] for c in ITEM_CODES],
                        index=list(ITEM_CODES), dtype="float64")  # fmt: skip
    clinical = [c for c in ITEM_CODES if c.removeprefix("SLEDAI_") not in SEROLOGY_ITEMS]
    serology = [f"SLEDAI_{k}" for k in SEROLOGY_ITEMS]
    from_items = (present * weights).sum(axis=1).where(items.notna().all(axis=1))
    clinical_items = (
        (present[clinical] * weights[clinical])
        .sum(axis=1)
        .where(items[clinical].notna().all(axis=1))
    )
    recorded = w["SLEDAI2K"]
    less_serology = recorded - (present[serology] * weights[serology]).sum(axis=1).where(
        items[serology].notna().all(axis=1)
    )
    csledai = (
        clinical_items.fillna(w["CSLEDAI"]).fillna(recorded.where(recorded == 0)).fillna(
            less_serology)
    )  # fmt: skip
    source = np.select(
        [clinical_items.notna(), w["CSLEDAI"].notna(), csledai.notna()],
        ["from the items", "recorded", "from the SLEDAI-2K total"],
        None,
    )
    major = items[[f"SLEDAI_{k}" for k in MAJOR_ORGAN_ITEMS]]
    return pd.DataFrame(
        {
            "sledai": from_items.fillna(recorded),
            "sledai_source": np.where(from_items.notna(), "from the items",
                                      np.where(recorded.notna(), "recorded", None)),
            "csledai": csledai,
            "csledai_source": source,
            "major_active": _any_active(major, from_items.fillna(recorded)),
            "items_complete": items.notna().all(axis=1),
        },
        index=w.index,
    )  # fmt: skip


def _any_active(items: pd.DataFrame, total: pd.Series) -> pd.Series:
    """True when an item of `items` is present, False when all are recorded absent (or the
    total is 0, so none can be present), NA otherwise."""
    any_present = items.gt(0).any(axis=1)
    all_recorded = items.notna().all(axis=1)
    result = np.where(any_present, True, np.where(all_recorded | total.eq(0), False, None))
    return pd.Series(pd.array(result, dtype="boolean"), index=items.index)


def _new_activity(w: pd.DataFrame, scores: pd.DataFrame) -> pd.Series:
    """True when an item absent at the previous assessed visit is present now; NA when either
    visit's items are not all recorded (and the total now is not 0)."""
    items = w[list(ITEM_CODES)]
    assessed = scores["sledai"].notna()
    previous = items[assessed].groupby(level="patient_id").shift(1).reindex(items.index)
    previous = previous.groupby(level="patient_id").ffill()
    new = (items.gt(0) & previous.eq(0)).any(axis=1)
    both = items.notna().all(axis=1) & previous.notna().all(axis=1)
    result = np.where(scores["sledai"].eq(0), False, np.where(both, new, None))
    return pd.Series(pd.array(result, dtype="boolean"), index=items.index)


def _dose_at_visit(w, days, periods, medication_recorded) -> pd.DataFrame:
    """The prednisone-equivalent dose on the visit day (the physician global's day, else the
    SLEDAI's, else the window's nominal day): missing for a patient whose source records no
    medication at all."""
    day = days["PGA_SLE"].fillna(days["CSLEDAI"]).fillna(days["SLEDAI2K"])
    day = day.fillna(days[list(ITEM_CODES)].min(axis=1)).fillna(w["nominal_day"])
    points = pd.DataFrame(
        {"patient_id": w.index.get_level_values("patient_id"), "day": day.astype("int64").values}
    )
    dose = exposure.doses_at(periods, points).to_numpy()
    recorded = points["patient_id"].isin(list(medication_recorded)).to_numpy()
    return pd.DataFrame(
        {"dose": np.where(recorded, dose, np.nan), "day": day.to_numpy()}, index=w.index
    )


def _dose_shown(dose: pd.DataFrame) -> pd.Series:
    return pd.Series(
        [None if pd.isna(d) else f"prednisone-equivalent {d:g} mg/day (day {int(day)})"
         for d, day in zip(dose["dose"], dose["day"], strict=True)],
        index=dose.index, dtype=object,
    )  # fmt: skip


def _doris(w, scores, dose) -> list[Criterion]:
    return [
        Criterion("clinical SLEDAI = 0", _test(scores["csledai"], lambda v: v == 0),
                  _shown("clinical SLEDAI", scores["csledai"], suffix=scores["csledai_source"])),
        Criterion("physician global < 0.5", _test(w["PGA_SLE"], lambda v: v < DORIS_PGA_BELOW),
                  _shown("PGA", w["PGA_SLE"])),
        Criterion("prednisone ≤ 5 mg/day",
                  _test(dose["dose"], lambda v: v <= DORIS_PREDNISONE_AT_MOST), _dose_shown(dose)),
    ]  # fmt: skip


def _lldas(w, scores, dose) -> list[Criterion]:
    major = scores["major_active"]
    new = _new_activity(w, scores)
    return [
        Criterion("SLEDAI-2K ≤ 4", _test(scores["sledai"], lambda v: v <= LLDAS_SLEDAI_AT_MOST),
                  _shown("SLEDAI-2K", scores["sledai"], suffix=scores["sledai_source"])),
        Criterion("no major organ activity", ~major,
                  pd.Series([None if pd.isna(m) else ("major organ item present" if m else
                             "no major organ item") for m in major], index=w.index)),
        Criterion("no new activity", ~new,
                  pd.Series([None if pd.isna(n) else ("new item since the previous visit" if n
                             else "no new item") for n in new], index=w.index)),
        Criterion("physician global ≤ 1", _test(w["PGA_SLE"], lambda v: v <= LLDAS_PGA_AT_MOST),
                  _shown("PGA", w["PGA_SLE"])),
        Criterion("prednisone ≤ 7.5 mg/day",
                  _test(dose["dose"], lambda v: v <= LLDAS_PREDNISONE_AT_MOST), _dose_shown(dose)),
    ]  # fmt: skip


def criss_probability(changes: dict[str, float]) -> float:
    """Step 2 of ACR-CRISS from the changes since baseline (code -> follow-up minus baseline).

    >>> round(criss_probability({"MRSS": -10, "FVC_PCT": 0, "PARENT_GA": -2, "PGA": -2,
    ...                          "CHAQ": -0.5}), 3)
    0.999
    """
    x = CRISS_INTERCEPT + sum(b * changes[code] for code, _name, b in CRISS_TERMS)
    return float(1 / (1 + np.exp(-x)))


def _criss(w: pd.DataFrame, adverse_events: pd.DataFrame | None) -> list[pd.DataFrame]:
    """ACR-CRISS at the windows from day 330 against each patient's baseline (the last window up
    to day 0): step 1 (no event that sets the probability to 0) and step 2 (>= 0.6)."""
    if w.empty:
        return []
    codes = [code for code, *_ in CRISS_TERMS]
    base = w[w["nominal_day"].le(0).to_numpy()].groupby(level="patient_id")[codes].last()
    later = w[w["nominal_day"].ge(CRISS_FROM_DAY).to_numpy()]
    later = later[later[codes].notna().any(axis=1)]
    if later.empty:
        return []
    who = later.index.get_level_values("patient_id")
    delta = pd.DataFrame({c: later[c].to_numpy() - who.map(base[c]).to_numpy(dtype="float64")
                          for c in codes}, index=later.index)  # fmt: skip
    x = CRISS_INTERCEPT + sum(b * delta[code] for code, _n, b in CRISS_TERMS)
    probability = _r(1 / (1 + np.exp(-x)))
    fvc_base = pd.Series(who.map(base["FVC_PCT"]), index=later.index, dtype="float64")
    # True: FVC not 15 % (relative) or more below its baseline.
    decline = _test(later["FVC_PCT"] / fvc_base, lambda v: v > 1 - CRISS_FVC_DECLINE)
    recorded = set() if adverse_events is None else set(adverse_events["patient_id"])
    events = pd.DataFrame(columns=["patient_id", "onset_day"])
    if adverse_events is not None and len(adverse_events):
        hit = adverse_events["term"].fillna("").str.contains(CRISS_EVENTS, case=False)
        events = adverse_events[hit & adverse_events["onset_day"].ge(0).fillna(True)]
    first_event = events.groupby("patient_id")["onset_day"].min()
    had = [None if p not in recorded else bool(p in first_event.index
           and (pd.isna(first_event[p]) or first_event[p] <= day))
           for p, day in zip(who, later["nominal_day"], strict=True)]  # fmt: skip
    no_event = pd.Series(pd.array([None if h is None else not h for h in had], dtype="boolean"),
                         index=later.index)  # fmt: skip
    shown_delta = [
        "; ".join(f"Δ{name} {d:+g}" for (_c, name, _b), d in zip(CRISS_TERMS, row, strict=True)
                  if not np.isnan(d)) or None
        for row in delta.to_numpy()
    ]  # fmt: skip
    criteria = [
        Criterion("no renal crisis, heart failure or PAH recorded", no_event,
                  pd.Series([None if h is None else ("event recorded" if h else "none recorded")
                             for h in had], index=later.index)),
        Criterion("FVC not ≥ 15 % lower", decline,
                  _shown("FVC % predicted", later["FVC_PCT"])),
        Criterion("probability ≥ 0.6 ⚑", _test(probability, lambda v: v >= CRISS_IMPROVED_FROM),
                  pd.Series(shown_delta, index=later.index, dtype=object)),
    ]  # fmt: skip
    step1_failed = no_event.eq(False).fillna(False) | decline.eq(False).fillna(False)
    score = probability.where(~step1_failed, 0.0)
    return [_rows(later, CRISS, criteria, score)]


def _renal(w: pd.DataFrame) -> list[pd.DataFrame]:
    """The EULAR 2019 target of each window from day 60 for the patients with proteinuria at
    baseline (UPCR >= 0.5 g/g in a window up to day 0): >= 25 % lower by 3 months, >= 50 % by 6,
    complete response (UPCR < 0.5 g/g with a near-normal eGFR) from 12 months; the score is the
    UPCR's reduction from baseline in %."""
    if w.empty:
        return []
    patient = w.index.get_level_values("patient_id")
    before = w[w["nominal_day"].le(0).to_numpy()]
    base = before.groupby(level="patient_id")[["UPCR", "EGFR"]].last()
    base_upcr = pd.Series(patient.map(base["UPCR"]), index=w.index, dtype="float64")
    base_egfr = pd.Series(patient.map(base["EGFR"]), index=w.index, dtype="float64")
    assessed = base_upcr.ge(RENAL_ASSESSED_FROM_UPCR) & w["nominal_day"].ge(RENAL_TARGETS[0][0])
    assessed &= w["UPCR"].notna() | w["EGFR"].notna()
    w, base_upcr, base_egfr = w[assessed], base_upcr[assessed], base_egfr[assessed]
    if w.empty:
        return []
    share = _r(w["UPCR"] / base_upcr)
    score = _r((1 - share) * 100)
    shown = pd.Series(
        [None if pd.isna(v) else f"UPCR {v:g} g/g (baseline {b:g})"
         for v, b in zip(w["UPCR"], base_upcr, strict=True)], index=w.index
    )  # fmt: skip
    out = []
    windows = [*RENAL_TARGETS, (RENAL_COMPLETE_FROM_DAY, None, None)]
    for (start, name, at_most), (end, *_rest) in zip(windows, [*windows[1:], (10**9,)],
                                                     strict=True):  # fmt: skip
        here = w["nominal_day"].ge(start) & w["nominal_day"].lt(end)
        if not here.any():
            continue
        if name is not None:
            criteria = [Criterion(name, _test(share[here], lambda v, m=at_most: v <= m),
                                  shown[here])]  # fmt: skip
        else:
            egfr = w.loc[here, "EGFR"]
            near = _test(egfr, lambda v: v >= NEAR_NORMAL_EGFR)
            of_base = _test(egfr / base_egfr[here], lambda v: v >= NEAR_NORMAL_OF_BASELINE)
            criteria = [
                Criterion("UPCR < 0.5 g/g (complete response)",
                          _test(w.loc[here, "UPCR"], lambda v: v < RENAL_COMPLETE_UPCR_BELOW),
                          shown[here]),
                Criterion("near-normal eGFR", near | of_base,
                          pd.Series([None if pd.isna(v) else f"eGFR {v:g} mL/min/1.73 m²"
                                     for v in egfr], index=egfr.index)),
            ]  # fmt: skip
        out.append(_rows(w[here], RENAL_RESPONSE, criteria, score[here]))
    return out


def _eustar(w: pd.DataFrame) -> tuple[list[Criterion], pd.Series]:
    """The index's one criterion (below 2.5), decided early when the recorded items already
    reach 2.5 or the missing ones could not: the score itself only when all six are recorded."""
    points = pd.DataFrame(index=w.index)
    for code, _label, hit, weight in EUSTAR_ITEMS:
        v = _r(w[code])
        points[code] = np.where(v.isna(), np.nan, np.where(hit(v), weight, 0.0))
    recorded = points.sum(axis=1)
    missing_max = sum(
        np.where(points[code].isna(), weight, 0.0) for code, *_x, weight in EUSTAR_ITEMS
    )
    complete = points.notna().all(axis=1)
    score = _r(recorded).where(complete)
    result = np.where(
        recorded >= EUSTAR_ACTIVE_FROM,
        False,
        np.where(recorded + missing_max < EUSTAR_ACTIVE_FROM, True, None),
    )
    labels = [label for _code, label, _h, _w in EUSTAR_ITEMS]
    shown = [
        "; ".join(f"{label} {'yes' if p > 0 else 'no'}"
                  for label, p in zip(labels, row, strict=True) if not np.isnan(p)) or None
        for row in points.to_numpy()
    ]  # fmt: skip
    criterion = Criterion(
        "EUSTAR-AI < 2.5",
        pd.Series(pd.array(result, dtype="boolean"), index=w.index),
        pd.Series(shown, index=w.index, dtype=object),
    )
    return [criterion], score


def _rows(w: pd.DataFrame, definition: str, criteria: list[Criterion], score) -> pd.DataFrame:
    results = pd.DataFrame({c.name: c.result for c in criteria})
    # NA (missing) is neither met nor not met: it must not count in .all() or .any().
    is_met = results.eq(True).fillna(False).astype(bool)
    is_not_met = results.eq(False).fillna(False).astype(bool)
    is_missing = results.isna()
    met = np.where(is_not_met.any(axis=1), False, np.where(is_met.all(axis=1), True, None))

    def names(which: pd.DataFrame) -> list[str | None]:
        columns = [(name, which[name].to_numpy()) for name in which.columns]
        return [
            "; ".join(name for name, hits in columns if hits[i]) or None for i in range(len(which))
        ]

    shown = [c.shown.to_numpy() for c in criteria]
    inputs = [
        "; ".join(s for s in row if isinstance(s, str)) or None for row in zip(*shown, strict=True)
    ]
    return pd.DataFrame(
        {
            "patient_id": w.index.get_level_values("patient_id"),
            "timepoint": w.index.get_level_values("timepoint"),
            "timepoint_sort": w["timepoint_sort"].astype("int64").to_numpy(),
            "nominal_day": w["nominal_day"].astype("int64").to_numpy(),
            "definition": definition,
            "met": pd.array(met, dtype="boolean"),
            "score": np.nan if score is None else score.to_numpy(dtype="float64"),
            "criteria_met": names(is_met),
            "criteria_not_met": names(is_not_met),
            "criteria_missing": names(is_missing),
            "inputs": inputs,
        }
    )  # fmt: skip
