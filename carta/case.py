"""One patient's case summary, assembled from the store: what the summary page shows and what its
PDF and slides hold. The same code serves the page (with its cached queries), the tests and the
benchmark, so that the files say what the screen says."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from carta import display
from carta.charts.theme import enlarged, figure_config
from carta.charts.trajectory import PANELS, TrajectoryData, TrajectoryOptions, panel_specs
from carta.documents import CaseDocument
from carta.exports import fitted
from carta.measures import exposure, kinetics
from carta.measures import summary as rules

STORY = ("course", "remission", "enzymes", "kinetics", "scores", "disease", "serology", "mri")
# A chart slide's chart, in CSS pixels: what a 1920 x 1080 screen leaves for it beside the slide's
# controls and footer (tests/browser/test_summary_in_browser.py checks nothing scrolls).
SLIDE_CHART_WIDTH, SLIDE_CHART_HEIGHT = 1500, 780
Query = Callable[..., pd.DataFrame]  # name, **params -> rows (ui.query or a run_query closure)


@dataclass(frozen=True)
class Case:
    label: str
    profile: pd.Series
    data: TrajectoryData
    findings: pd.DataFrame
    document: CaseDocument
    specs: dict[str, dict]


def file_stem(label: str, patient_id: str, presenting: bool, synthetic: bool) -> str:
    """The name of a case's files: which patient, and "synthetic" where it applies. In
    presentation mode the id stays out of the name (the files say "Patient 1"), and a short hash
    of it keeps the exports of different patients apart."""
    slug = "".join(c if c.isalnum() else "-" for c in label.lower()).strip("-")
    stem = f"carta-{slug}"
    if presenting:
        stem += "-" + hashlib.sha256(patient_id.encode()).hexdigest()[:8]
    return stem + ("-synthetic" if synthetic else "")


def trajectory_data(query: Query, patient_id: str, profile: pd.Series, baseline_from: int = -60,
                    baseline_to: int = 0) -> TrajectoryData:  # fmt: skip
    """One patient's rows for the trajectory charts, with the study-day range they span."""
    observations = query("patient_observations", patient_id=patient_id,
                         baseline_from=baseline_from, baseline_to=baseline_to)  # fmt: skip
    events = query("patient_events", patient_id=patient_id)
    adverse = query("patient_adverse_events", patient_id=patient_id)
    imaging = query("patient_imaging", patient_id=patient_id)
    known_days = [
        *observations["day"],
        *imaging["day"],
        *events["start_day"].dropna(),
        *events["end_day"].dropna(),
        *adverse["onset_day"].dropna(),
    ]
    if not display.is_missing(profile["follow_up_days"]):
        known_days.append(profile["follow_up_days"])
    response = query("patient_response", patient_id=patient_id)
    remission = query("patient_remission", patient_id=patient_id)
    # A response or remission mark is never off the axis.
    known_days += [*response["nominal_day"].dropna(), *remission["nominal_day"].dropna()]
    # The axis spans the whole known course, at least day -7 to 28, with a little room at the ends.
    day_range = (int(min([-7, *known_days])) - 2, int(max([28, *known_days])) + 3)
    indication = profile.get("indication")
    indication = None if display.is_missing(indication) else str(indication)
    return TrajectoryData(observations, events, adverse, imaging, day_range, response, remission,
                          glucocorticoid_steps(events, patient_id, profile, observations,
                                               day_range[0]), indication)  # fmt: skip


def glucocorticoid_steps(events: pd.DataFrame, patient_id: str, profile: pd.Series,
                         observations: pd.DataFrame, first_day: int):  # fmt: skip
    """The patient's prednisone-equivalent dose lane (exposure.dose_steps), None without a dated
    glucocorticoid. An open-ended medication runs to the last day as queries/patient_last_days
    defines it (the follow-up, else the last observation; unknown for a publication that gives
    its follow-up in words), and the lane stops there."""
    follow_up = profile["follow_up_days"]
    if not display.is_missing(follow_up):
        last_day = float(follow_up)
    elif profile["source_kind"] != "published" and observations["day"].notna().any():
        last_day = float(observations["day"].max())
    else:
        last_day = float("nan")
    periods = exposure.exposure_periods(events.assign(patient_id=patient_id),
                                        pd.Series({patient_id: last_day}))  # fmt: skip
    periods = periods[periods["drug_class"] == exposure.GLUCOCORTICOID]
    if periods.empty:
        return None
    end = int(periods["end_day"].max()) if display.is_missing(last_day) else int(last_day)
    return exposure.dose_steps(periods, first_day, end)


def load_case(query: Query, meta: dict[str, str], patient_id: str, presenting: bool) -> Case:
    profile = query("patient_profile", patient_id=patient_id).iloc[0]
    label = rules.patient_label(patient_id, presenting)
    data = trajectory_data(query, patient_id, profile)
    depletion = float(meta.get("derived_bcell_depletion_threshold",
                               kinetics.DEFAULT_DEPLETION_THRESHOLD))  # fmt: skip
    recovery = float(meta.get("derived_bcell_recovery_threshold",
                              kinetics.DEFAULT_RECOVERY_THRESHOLD))  # fmt: skip
    findings = query("patient_reported_findings", patient_id=patient_id)
    figures = rules.key_figures(
        kinetics=query("patient_kinetics", patient_id=patient_id),
        aplasia=query("patient_aplasia", patient_id=patient_id),
        adverse=data.adverse_events,
        toxicity=query("patient_lab_toxicity", patient_id=patient_id),
        haematotoxicity=query("patient_hematotox", patient_id=patient_id),
        response=data.response,
        events=data.events,
        findings=findings,
        follow_up_days=profile["follow_up_days"],
        depletion_threshold=depletion,
        recovery_threshold=recovery,
        remission=data.remission,
        exposure=query("patient_exposure", patient_id=patient_id),
        indication=profile.get("indication"),
        serology=query("patient_serology", patient_id=patient_id),
    )
    # Presentation: a chart a slide, larger type and marks, each chart as high as a slide at
    # 1920 x 1080 leaves room for (and so the PDF page and the PPTX slide).
    scale, width, heights = (1.45, SLIDE_CHART_WIDTH, 2.2) if presenting else (1.0, 560, 1.6)
    specs = panel_specs(data, TrajectoryOptions(depletion_threshold=depletion), STORY,
                        width=width, config=figure_config(scale), height_scale=heights)  # fmt: skip
    if presenting:
        # Drawn as the files draw them ("pad": the size is the plot's, the axes around it), not
        # shrunk into the size by Streamlit's default "fit": the slide and its PNG then agree.
        specs = {
            name: {**fitted(enlarged(spec, 1.5), SLIDE_CHART_HEIGHT), "autosize": {"type": "pad"}}
            for name, spec in specs.items()
        }
    diagnosis = display.text_or_not_reported(profile["diagnosis"])
    document = CaseDocument(
        title=f"Case summary: {label}",
        subtitle=f"{diagnosis} · CD19 CAR T-cell therapy",
        header=rules.header(profile, data.events),
        figures=figures,
        footnote=rules.footnote(profile, meta, label, data.adverse_events),
        charts=[(PANELS[name], spec) for name, spec in specs.items()],
        adverse_events=rules.adverse_event_rows(data.adverse_events),
        findings=rules.finding_rows(findings),
        synthetic=profile["source_kind"] == "synthetic",
    )
    return Case(label, profile, data, findings, document, specs)
