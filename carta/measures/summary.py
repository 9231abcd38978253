"""A case summary's header and key figures, from one patient's rows.

Pure functions. A figure the source does not report reads "not reported" (never 0, never blank),
and a figure the source reports without a number or a day says so in words, as the source does.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from carta import display
from carta.display import NOT_REPORTED
from carta.measures import ctcae, hematotox
from carta.measures import serology as serology_rules

# Medications that end a patient's time off immunosuppression when restarted after the withdrawal
# (glucocorticoids and disease-modifying drugs). Drugs given for CAR T toxicity (tocilizumab for
# CRS, dexamethasone for ICANS), G-CSF and immunoglobulin replacement do not. A design rule of
# this project (docs/rules.md, "Case summary"), matched on the start of the medication's name.
IMMUNOSUPPRESSANTS = (
    "prednisolone", "prednisone", "methylprednisolone", "methotrexate", "mycophenolate",
    "ciclosporin", "cyclosporine", "tacrolimus", "azathioprine", "hydroxychloroquine",
    "rituximab", "tofacitinib", "baricitinib", "ruxolitinib", "upadacitinib", "abatacept",
)  # fmt: skip

# IgG g/L below which the screens say "hypogammaglobulinaemia". [U] setting, a design default:
# IgG replacement after CAR T is commonly considered below 4 g/L (400 mg/dL); children's normal
# ranges depend on age, so a centre sets its own.
HYPOGAMMA_IGG_THRESHOLD = 4.0

# Cytopenias: adverse-event term -> the CTCAE v5.0 lab term graded from the counts (lab_grades).
CYTOPENIAS = {
    "Neutropenia": "Neutrophil count decreased",
    "Anemia": "Anemia",
    "Thrombocytopenia": "Platelet count decreased",
}


@dataclass(frozen=True)
class Figure:
    label: str
    value: str  # NOT_REPORTED when the source gives nothing
    detail: str = ""  # where it comes from, or what the source says instead

    @property
    def reported(self) -> bool:
        return self.value != NOT_REPORTED


def patient_label(patient_id: str, presenting: bool) -> str:
    """The id on screen, or a neutral label in presentation mode (one patient at a time)."""
    return "Patient 1" if presenting else patient_id


def header(profile: pd.Series, events: pd.DataFrame) -> list[tuple[str, str]]:
    """(label, text) for the summary's header, in reading order."""
    sex = {"M": "male", "F": "female"}.get(profile.get("sex"), NOT_REPORTED)
    regimen = events[events["kind"] == "lymphodepletion"]
    return [
        ("Age", display.age(profile.get("age_years"))),
        ("Sex", sex),
        ("Race", display.text_or_not_reported(profile.get("race"))),
        ("Diagnosis", display.text_or_not_reported(profile.get("diagnosis"))),
        ("Autoantibody", display.text_or_not_reported(profile.get("autoantibody"))),
        ("Prior therapies", display.text_or_not_reported(profile.get("prior_therapies"))),
        ("Product", display.text_or_not_reported(profile.get("product"))),
        ("Dose", display.cell_dose(profile.get("cell_dose_per_kg"))),
        ("Lymphodepletion", lymphodepletion(regimen)),
        ("Follow-up", display.follow_up(profile.get("follow_up_days"),
                                        profile.get("follow_up_reported"))),
    ]  # fmt: skip


def lymphodepletion(regimen: pd.DataFrame) -> str:
    """'Cyclophosphamide 1,000 mg/m² total (day −3); Fludarabine 75 mg/m² total (days −5 to −3)'."""
    if regimen.empty:
        return NOT_REPORTED
    parts = []
    for row in regimen.itertuples(index=False):
        dose = (
            ""
            if display.is_missing(row.dose)
            else f" {display.dose(row.dose, row.dose_unit, getattr(row, 'dose_basis', None))}"
        )
        when = (
            "days not reported"
            if display.is_missing(row.start_day)
            else display.day_span(row.start_day, row.end_day)
        )
        parts.append(f"{row.name}{dose} ({when})")
    return "; ".join(parts)


def key_figures(
    *,
    kinetics: pd.DataFrame,
    aplasia: pd.DataFrame,
    adverse: pd.DataFrame,
    toxicity: pd.DataFrame,
    haematotoxicity: pd.DataFrame,
    response: pd.DataFrame,
    events: pd.DataFrame,
    findings: pd.DataFrame,
    follow_up_days: object,
    depletion_threshold: float,
    recovery_threshold: float,
    remission: pd.DataFrame | None = None,
    exposure: pd.DataFrame | None = None,
    indication: object = None,
    serology: pd.DataFrame | None = None,
) -> list[Figure]:
    """The cards of the summary, in order. The response cards are the indication's: TIS (and
    CID for JDM) for myositis, or for a patient whose indication is not given; the remission
    definitions for lupus and systemic sclerosis."""
    scored = not isinstance(indication, str) or indication in ("JDM", "IIM")
    return [
        *_kinetics(kinetics),
        *aplasia_figures(aplasia, findings, depletion_threshold, recovery_threshold),
        _worst_event(adverse, "CRS"),
        _worst_event(adverse, "ICANS"),
        *[_cytopenia(adverse, toxicity, term, lab) for term, lab in CYTOPENIAS.items()],
        *_summary_haematotoxicity(haematotoxicity),
        *(_response(response, cid=indication != "IIM") if scored else []),
        *remission_figures(remission),
        *glucocorticoid_figures(exposure),
        *serology_figures(serology),
        _off_immunosuppression(events, follow_up_days, findings),
    ]


def remission_figures(remission: pd.DataFrame | None) -> list[Figure]:
    """One card per remission definition: its answer at the last window where it was decided,
    else "undecided" with what is missing (table remission_by_timepoint)."""
    if remission is None or remission.empty:
        return []
    cards = []
    for definition, rows in remission.groupby("definition", sort=False):
        rows = rows.sort_values("timepoint_sort")
        decided = rows[rows["met"].notna()]
        if decided.empty:
            last = rows.iloc[-1]
            cards.append(Figure(definition, f"undecided at {last['timepoint']}",
                                f"missing: {last['criteria_missing']}"))  # fmt: skip
            continue
        last = decided.iloc[-1]
        met_at = decided[decided["met"].astype(bool)]["timepoint"].tolist()
        detail = (f"met at {', '.join(met_at)}" if met_at else "not met at any visit") + (
            "" if bool(last["met"]) else f"; not met: {last['criteria_not_met']}"
        )
        cards.append(Figure(definition, f"{'yes' if bool(last['met']) else 'no'} at "
                            f"{last['timepoint']}", detail))  # fmt: skip
    return cards


def serology_figures(serology: pd.DataFrame | None) -> list[Figure]:
    """The autoantibody card, from table serology_status: how many antibodies positive at
    baseline turned negative after the infusion, naming each; the rule is a design rule, [U]."""
    if serology is None or serology.empty:
        return []
    positive = serology[serology["baseline_result"] == "positive"]
    if positive.empty:
        return [Figure("Autoantibodies", "none positive at baseline",
                       f"{len(serology)} tested ⚑ design rule [U]")]  # fmt: skip
    parts = []
    for row in positive.itertuples(index=False):
        name = str(row.label).removesuffix(" antibodies")
        if row.status == serology_rules.SEROCONVERTED:
            parts.append(f"{name} negative from day {int(row.first_negative_day)}")
        elif row.status == serology_rules.PERSISTING:
            again = ("" if display.is_missing(row.first_negative_day)
                     else f", negative on day {int(row.first_negative_day)}")  # fmt: skip
            parts.append(f"{name} still {row.last_result} on day {int(row.last_day)}{again}")
        else:
            parts.append(f"{name}: {row.status}")
    turned = int((positive["status"] == serology_rules.SEROCONVERTED).sum())
    value = f"{turned} of {len(positive)} turned negative"
    return [Figure("Autoantibodies", value, "; ".join(parts) + " ⚑ design rule [U]")]


def glucocorticoid_figures(exposure: pd.DataFrame | None) -> list[Figure]:
    """The glucocorticoid card, from table patient_exposure: off for how long, or the dose on
    the last day, with the cumulative prednisone-equivalent dose since the infusion; only for a
    patient with a dated glucocorticoid."""
    if exposure is None or exposure.empty or not int(exposure.iloc[0]["glucocorticoid_events"]):
        return []
    row = exposure.iloc[0]
    cumulative = (
        "cumulative since the infusion not known (a dose that is not in mg/day)"
        if display.is_missing(row["cumulative_pred_eq_mg"])
        else f"{display.plain_number(row['cumulative_pred_eq_mg'])} mg prednisone-equivalent "
        "since the infusion"
    )
    off = row["days_off_glucocorticoids"]
    if not display.is_missing(off) and int(off) > 0:
        value = f"off for {int(off)} days"
        detail = f"last dose day {int(row['last_glucocorticoid_day'])}; {cumulative}"
    elif display.is_missing(row["pred_eq_mg_at_last"]):
        value, detail = "on treatment, dose not known", cumulative
    else:
        value = f"{display.plain_number(row['pred_eq_mg_at_last'])} mg/day"
        detail = f"prednisone-equivalent on the last day; {cumulative}"
    return [Figure("Glucocorticoids", value, detail)]


def _kinetics(kinetics: pd.DataFrame) -> list[Figure]:
    if kinetics.empty or display.is_missing(kinetics.iloc[0]["cmax"]):
        return [Figure("CAR T Cmax", NOT_REPORTED), Figure("CAR T Tmax", NOT_REPORTED)]
    k = kinetics.iloc[0]
    single = int(k["n_values"]) == 1
    detail = "the one reported value" if single else f"from {int(k['n_values'])} values"
    return [
        Figure("CAR T Cmax", display.number(k["cmax"], "{cells}/uL"), detail),
        Figure("CAR T Tmax", display.study_day(k["tmax"]), "peak CAR T cells in blood"),
    ]


def car_t_lines(kinetics: pd.DataFrame) -> list[tuple[str, str]]:
    """(label, text) for CAR T AUC and persistence, as patient_kinetics holds them: the AUC with
    its window or why it is not evaluable; "last detectable" only when a later sample was not
    detectable, else "last measured"."""
    if kinetics.empty:
        return []
    k = kinetics.iloc[0]
    if display.is_missing(k["auc_0_28"]):
        auc = f"not evaluable ({k['auc_not_evaluable']})"
    else:
        auc = (
            f"{display.plain_number(k['auc_0_28'])} cells/µL × days, day "
            f"{int(k['auc_from_day'])} to 28"
        )
    if not display.is_missing(k["last_detectable_day"]):
        persistence = ("Last detectable", f"{display.study_day(k['last_detectable_day'])} "
                       f"(not detectable by day {int(k['last_sample_day'])})")  # fmt: skip
    else:
        still = "still detectable" if k["detectable_at_last"] else "not detectable"
        persistence = ("Last measured", f"{display.study_day(k['last_sample_day'])} ({still})")
    return [("AUC0–28", auc), persistence]


def aplasia_figures(
    aplasia: pd.DataFrame, findings: pd.DataFrame, depletion: float, recovery: float
) -> list[Figure]:
    """B-cell aplasia onset, duration and recovery; the source's words where it gives no day."""
    setting = (
        f"below {depletion:g} / recovery from {recovery:g} cells/µL: settings of an unconfirmed "
        "rule"
    )
    if aplasia.empty or display.is_missing(aplasia.iloc[0]["onset_day"]):
        return [Figure("B-cell aplasia onset", NOT_REPORTED, setting)]
    b = aplasia.iloc[0]
    onset = Figure("B-cell aplasia onset", display.study_day(b["onset_day"]), setting)
    first = b.get("first_day")
    if not display.is_missing(first) and int(first) == int(b["onset_day"]):
        # Depleted at the first value after the infusion: the onset is that day or earlier.
        onset = Figure("B-cell aplasia onset", f"by day {int(b['onset_day'])}",
                       f"depleted at the first value after the infusion; {setting}")  # fmt: skip
    if not display.is_missing(b["recovery_day"]):
        return [
            onset,
            Figure("B-cell aplasia duration", f"{int(b['duration_days'])} days"),
            Figure("B-cell recovery", display.study_day(b["recovery_day"])),
        ]
    stated = _statement(findings, "b-cell recovery", domain="cd19")
    if stated:  # the source says recovery happened, without its day or counts
        return [
            onset,
            Figure("B-cell aplasia duration", NOT_REPORTED),
            Figure("B-cell recovery", "reported, day not given", stated),
        ]
    last = "" if display.is_missing(b["last_day"]) else f" (last value day {int(b['last_day'])})"
    return [
        onset,
        Figure("B-cell aplasia duration", f"ongoing{last}"),
        Figure("B-cell recovery", f"not by the last value{last}"),
    ]


def _summary_haematotoxicity(rows: pd.DataFrame) -> list[Figure]:
    """The summary's cards: ICAHT and T-ICAHT early and late, and CAR-HEMATOTOX."""
    return haematotoxicity_figures(rows)


def haematotoxicity_figures(rows: pd.DataFrame) -> list[Figure]:
    """ICAHT and T-ICAHT, early (days 0-30) and late, and CAR-HEMATOTOX, from patient_hematotox
    (carta/measures/hematotox.py); "not reported" where the counts do not allow a grade."""
    row = rows.iloc[0] if not rows.empty else pd.Series(dtype=object)

    def grade(column: str) -> str:
        value = row.get(column)
        return NOT_REPORTED if display.is_missing(value) else f"grade {int(value)}"

    def days(column: str, text: str) -> str:
        value = row.get(column)
        return "" if display.is_missing(value) else text.format(int(value))

    platelets = days("plt_recovery_day", "; platelet recovery day {}")
    score = row.get("hematotox_score")
    if display.is_missing(score):
        missing = row.get("hematotox_missing")
        hematotox_value = NOT_REPORTED
        hematotox_detail = (
            "" if display.is_missing(missing) else f"no value before lymphodepletion: {missing}; "
        ) + hematotox.NOT_VALIDATED_NOTE
    else:
        hematotox_value = f"{int(score)} ({row.get('hematotox_risk')} risk)"
        hematotox_detail = f"before lymphodepletion; {hematotox.NOT_VALIDATED_NOTE}"
    return [
        Figure("ICAHT early (d0–30)", grade("icaht_early_grade"),
               days("anc_days_le_500_d0_30", "{} days ANC ≤ 500/µL")),
        Figure("ICAHT late (after d30)", grade("icaht_late_grade"), "EHA/EBMT 2023"),
        Figure("T-ICAHT early (d0–30)", grade("t_icaht_early_grade"),
               days("plt_days_lt_20_d0_30", "{} days platelets < 20 ×10⁹/L") + platelets),
        Figure("T-ICAHT late (d31–100)", grade("t_icaht_late_grade"), "Rejeski 2025"),
        Figure("CAR-HEMATOTOX", hematotox_value, hematotox_detail),
    ]  # fmt: skip


def _worst_event(adverse: pd.DataFrame, category: str) -> Figure:
    """The worst of the events of a safety category (table ae_categories: the same rule as the
    safety view and the swimmer plot)."""
    label = category
    rows = adverse[adverse["category"] == category]
    if rows.empty:
        return Figure(f"Worst {label}", NOT_REPORTED)
    return _worst_of(rows, f"Worst {label}")


def _worst_of(rows: pd.DataFrame, label: str) -> Figure:
    """The highest grade among `rows`; with none graded, the worst severity, said so."""
    graded = rows[rows["grade"].notna()]
    if graded.empty:
        severities = rows.get("severity", pd.Series(dtype="str"))
        worst = rows.loc[severities.map(display.severity_rank).idxmax()]
        return Figure(label, display.ae_grade(None, worst.get("severity")),
                      "the source reports a severity and no grade")  # fmt: skip
    worst = graded.sort_values("grade", ascending=False).iloc[0]
    if int(worst["grade"]) == 0:
        return Figure(label, "none", "reported as not observed")
    return Figure(label, f"grade {int(worst['grade'])}", _grading(worst))


def _cytopenia(adverse: pd.DataFrame, toxicity: pd.DataFrame, term: str, lab: str) -> Figure:
    rows = adverse[adverse["term"] == term]
    if not rows.empty:
        figure = _worst_of(rows, f"Worst {term.lower()}")
        if figure.detail == "reported as not observed":  # a cytopenia says its grading system
            return Figure(figure.label, figure.value, _grading(rows.iloc[0]))
        return figure
    graded = toxicity[(toxicity["term"] == lab) & toxicity["emergent_grade"].notna()]
    if graded.empty:
        return Figure(f"Worst {term.lower()}", NOT_REPORTED)
    row = graded.iloc[0]
    return Figure(f"Worst {term.lower()}", emergent_text(row), toxicity_detail(row))


def emergent_text(row: pd.Series) -> str:
    """'grade 4 (day 9)' or 'none': the worst treatment-emergent grade of lab_toxicity."""
    grade = int(row["emergent_grade"])
    return "none" if grade == 0 else f"grade {grade} ({display.study_day(row['emergent_day'])})"


def toxicity_detail(row: pd.Series) -> str:
    """Where a lab-derived grade comes from, with the baseline grade beside it."""
    baseline = (
        "no baseline value"
        if display.is_missing(row["baseline_grade"])
        else f"baseline grade {int(row['baseline_grade'])}"
    )
    text = f"CTCAE v5.0 from the counts after the infusion, worse than baseline; {baseline}"
    if bool(row["range_default"]):
        text += f"; {ctcae.DEFAULT_RANGE_NOTE}"
    if row["code"] == "CK":
        text += f". {ctcae.CK_NOTE}"
    return text


def _grading(row: pd.Series) -> str:
    system = row.get("grading_system")
    return "grading system not reported" if system in (None, "not reported") else str(system)


def _response(response: pd.DataFrame, cid: bool = True) -> list[Figure]:
    evaluable = response[response["category"].notna()] if not response.empty else response
    if evaluable.empty:
        tis = Figure("TIS category", NOT_REPORTED, "no core set measures with numbers")
    else:
        last = evaluable.sort_values("timepoint_sort").iloc[-1]
        tis = Figure(
            "TIS category",
            f"{last['category']} at {last['timepoint']}",
            f"TIS {display.plain_number(last['tis'])} (2016 ACR/EULAR)",
        )
    assessed = response[response["cid"].notna()] if not response.empty else response
    if assessed.empty:
        cid_card = Figure("Inactive disease (CID)", NOT_REPORTED, "PRINTO criteria")
    else:
        last = assessed.sort_values("timepoint_sort").iloc[-1]
        met = f"{int(last['cid_n_met'])} of {int(last['cid_n_assessed'])} criteria met"
        cid_card = Figure(
            "Inactive disease (CID)",
            f"{'yes' if bool(last['cid']) else 'no'} at {last['timepoint']}",
            f"PRINTO; {met}",
        )
    return [tis, cid_card] if cid else [tis]


def _off_immunosuppression(
    events: pd.DataFrame, follow_up_days: object, findings: pd.DataFrame
) -> Figure:
    label = "Days off immunosuppression"
    withdrawal = events[events["kind"] == "withdrawal"]
    if withdrawal.empty or display.is_missing(withdrawal.iloc[0]["start_day"]):
        note = None if withdrawal.empty else withdrawal.iloc[0]["note"]
        said = _statement(findings, "drug-free") or ("" if display.is_missing(note) else str(note))
        return Figure(label, NOT_REPORTED, said)
    start = int(withdrawal.iloc[0]["start_day"])
    names = events["name"].fillna("").str.lower()
    immunosuppressant = (events["kind"] == "medication") & names.str.startswith(IMMUNOSUPPRESSANTS)
    undated = events[immunosuppressant & events["start_day"].isna()]
    if not undated.empty:  # restarted, but when is not known: so neither is the time off
        return Figure(label, NOT_REPORTED,
                      f"withdrawn day {start}; {undated.iloc[0]['name']} restarted, day not "
                      "reported")  # fmt: skip
    restarted = events[immunosuppressant & events["start_day"].gt(start)].sort_values("start_day")
    if not restarted.empty:
        again = restarted.iloc[0]
        return Figure(
            label,
            f"{int(again['start_day']) - start} days",
            f"withdrawn day {start}; {again['name']} restarted day {int(again['start_day'])}",
        )
    if display.is_missing(follow_up_days):
        return Figure(label, NOT_REPORTED, f"withdrawn day {start}; last contact not reported")
    return Figure(
        label,
        f"{int(follow_up_days) - start} days",
        f"withdrawn day {start}; none restarted by the last contact (day {int(follow_up_days)})",
    )


def _statement(findings: pd.DataFrame, words: str, domain: str = "") -> str:
    """The statement of the source that mentions `words`, quoted; one about `domain` first."""
    if findings.empty:
        return ""
    hits = findings[findings["statement"].str.lower().str.contains(words, regex=False)]
    about = hits["domains"].fillna("").str.lower().str.contains(domain, regex=False)
    hits = pd.concat([hits[about], hits[~about]])
    return f"“{hits.iloc[0]['statement']}”" if not hits.empty else ""


_NO_EVENTS = pd.DataFrame({"grading_system": pd.Series(dtype="str")})


def grading_clause(adverse: pd.DataFrame) -> str:
    """How the adverse events shown were graded, from their own grading systems."""
    systems = sorted({str(s) for s in adverse["grading_system"].dropna()} - {"not reported"})
    unstated = adverse["grading_system"].isna() | adverse["grading_system"].eq("not reported")
    if adverse.empty:
        return "no adverse event reported"
    if not systems:
        return "adverse events as graded by the source (grading system not reported)"
    clause = "adverse events as graded by the source (" + ", ".join(systems) + ")"
    return clause + ("; for some the grading system is not reported" if unstated.any() else "")


def data_cut(profile: pd.Series, meta: dict[str, str]) -> str:
    """A published source's data cut is its publication date; otherwise the store's."""
    if profile.get("source_kind") == "published":
        published = profile.get("source_data_cut")
        if display.is_missing(published):
            return "the publication's date (not recorded)"
        return f"{pd.Timestamp(published).date().isoformat()} (publication)"
    return str(meta.get("data_cut", NOT_REPORTED))


def day0(profile: pd.Series) -> str:
    """What day 0 is for this patient: the CAR T-cell infusion, or what the import took instead
    when the source records none (patients.day0_basis)."""
    basis = profile.get("day0_basis")
    return "CAR T-cell infusion" if display.is_missing(basis) or not basis else str(basis)


def footnote(
    profile: pd.Series, meta: dict[str, str], label: str, adverse: pd.DataFrame | None = None
) -> str:
    """Source, data cut and rules: under the page, and on every page and slide of an export."""
    kind = profile.get("source_kind")
    if kind == "published":
        doi = profile.get("source_doi")
        cited = not display.is_missing(doi) and doi
        source = f"Source: {profile.get('source_citation')}" + (f" doi:{doi}." if cited else "")
        source += " Only what the publication reports is shown."
    elif kind == "synthetic":
        source = "Source: SYNTHETIC data from Carta's demo generator, not a real patient."
    else:
        source = f"Source: imported, {profile.get('source_citation')}."
    rules = (
        "Rules: 2016 ACR/EULAR Total Improvement Score "
        f"({meta.get('derived_tis_measure_set', 'IMACS')} measure set, "
        f"{meta.get('derived_tis_population', 'JDM')} cut-offs); PRINTO inactive disease; "
        f"{grading_clause(adverse if adverse is not None else _NO_EVENTS)}; lab grades CTCAE "
        "v5.0, treatment-emergent against the baseline grade; B-cell aplasia thresholds are "
        "settings (docs/rules.md)."
    )
    cut = f"Data cut {data_cut(profile, meta)}, store version "
    cut += f"{meta.get('store_version', '?')}. Day 0 = {day0(profile)}."
    return f"{label}. {source} {cut} {rules}"


def immune_lines(observations: pd.DataFrame, events: pd.DataFrame, threshold: float) -> list[str]:
    """IgG after the infusion against the hypogammaglobulinaemia threshold, and the IVIG courses
    (medication events named IVIG or immunoglobulin), as lines of text."""
    igg = observations[(observations["code"] == "IGG") & observations["value"].notna()]
    igg = igg[igg["day"] >= 0].sort_values("day")
    lines = []
    if not igg.empty:
        low = igg[igg["value"] < threshold]
        lowest = igg.loc[igg["value"].idxmin()]
        lowest_text = (
            f"lowest {display.plain_number(lowest['value'])} g/L on day {int(lowest['day'])}"
        )
        if low.empty:
            lines.append(f"IgG never below {threshold:g} g/L after the infusion ({lowest_text})")
        else:
            lines.append(
                f"IgG below {threshold:g} g/L from day {int(low['day'].iloc[0])} "
                f"({len(low)} of {len(igg)} values; {lowest_text})"
            )
    names = events["name"].fillna("").str.lower()
    ivig = events[(events["kind"] == "medication") & names.str.contains("ivig|immunoglobulin")]
    if not ivig.empty:
        spans = ", ".join(display.day_span(s, e) for s, e in zip(ivig["start_day"], ivig["end_day"],
                                                                strict=True))  # fmt: skip
        lines.append(f"IVIG: {len(ivig)} course(s), {spans}")
    return lines


ADVERSE_EVENT_COLUMNS = ("Event", "Grade", "Grading", "When", "Note")


def adverse_event_rows(adverse: pd.DataFrame) -> list[tuple[str, ...]]:
    """The patient's adverse events as the summary, its PDF and its slides print them (one tuple
    of ADVERSE_EVENT_COLUMNS per event): a grade as the source gives it (never made from a
    severity), and an onset without an exact day as the window the source allows."""
    rows = []
    for event in adverse.itertuples(index=False):
        when = (
            display.day_span(event.onset_day, event.end_day)
            if not display.is_missing(event.onset_day)
            else display.day_or_range(None, event.onset_earliest, event.onset_latest,
                                      event.onset_precision)
        )  # fmt: skip
        note = "" if display.is_missing(event.note) else str(event.note)
        rows.append((str(event.term), display.ae_grade(event.grade, event.severity),
                     display.text_or_not_reported(event.grading_system), when, note))  # fmt: skip
    return rows


def finding_rows(findings: pd.DataFrame) -> list[tuple[str, str, str]]:
    """What the source reports in words: (timing, statement, domains) in the source's order."""
    return [
        (str(row.timing), str(row.statement), str(row.domains)) for row in findings.itertuples()
    ]
