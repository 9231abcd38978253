"""The case summary's key figures: true to the published abstract, 'not reported' where it is
silent, and worked examples for the synthetic and hand-made cases."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from carta.measures import summary
from carta.store import open_read_only, run_query, store_info
from tests.conftest import PUBLISHED_ID


def figures_of(store: Path, patient_id: str) -> tuple[dict[str, summary.Figure], list, str]:
    con = open_read_only(store)
    try:

        def q(name: str, **extra) -> pd.DataFrame:
            return run_query(con, name, patient_id=patient_id, **extra)

        profile = q("patient_profile").iloc[0]
        events = q("patient_events")
        figures = summary.key_figures(
            kinetics=q("patient_kinetics"),
            aplasia=q("patient_aplasia"),
            adverse=q("patient_adverse_events"),
            toxicity=q("patient_lab_toxicity"),
            haematotoxicity=q("patient_hematotox"),
            response=q("patient_response"),
            events=events,
            findings=q("patient_reported_findings"),
            follow_up_days=profile["follow_up_days"],
            depletion_threshold=1.0,
            recovery_threshold=100.0,
        )
        header = summary.header(profile, events)
        footnote = summary.footnote(
            profile, store_info(con), "Patient 1", q("patient_adverse_events")
        )
    finally:
        con.close()
    return {f.label: f for f in figures}, header, footnote


def test_the_published_case_reads_true_to_its_abstract(default_store) -> None:
    figures, header, footnote = figures_of(default_store, PUBLISHED_ID)
    values = {label: figure.value for label, figure in figures.items()}
    assert values == {
        "CAR T Cmax": "32.69 cells/µL",  # "peak at day 7, 32.69 cells/μL"
        "CAR T Tmax": "day 7",
        # "Complete B cell depletion was documented on day 5 in the blood": the first value, so
        # depleted by day 5, not from day 5.
        "B-cell aplasia onset": "by day 5",
        "B-cell aplasia duration": "not reported",
        "B-cell recovery": "reported, day not given",  # "even after B cell recovery"
        "Worst CRS": "grade 1",  # "mild cytokine release syndrome (grade 1)"
        "Worst ICANS": "none",  # "neither infection nor neurotoxicity were observed"
        "Worst neutropenia": "grade 4",
        "Worst anemia": "grade 2",
        "Worst thrombocytopenia": "not reported",
        # No count is reported, so no haematotoxicity grade or score can be computed.
        "ICAHT early (d0–30)": "not reported",
        "ICAHT late (after d30)": "not reported",
        "T-ICAHT early (d0–30)": "not reported",
        "T-ICAHT late (d31–100)": "not reported",
        "CAR-HEMATOTOX": "not reported",
        "TIS category": "not reported",  # scores reported without numbers
        "Inactive disease (CID)": "not reported",
        "Days off immunosuppression": "not reported",  # withdrawn before leukapheresis, no day
    }
    assert figures["Worst ICANS"].detail == "reported as not observed"
    assert "drug-free" in figures["Days off immunosuppression"].detail
    assert "B-cell recovery occurred" in figures["B-cell recovery"].detail
    rows = dict(header)
    assert rows["Age"] == "12 y" and rows["Sex"] == "male"
    assert rows["Dose"] == "1 × 10⁶ cells/kg"
    # "cyclophosphamide (1,000 mg/m2 over two days) and fludarabine (90 mg/m2 over three days)"
    assert rows["Lymphodepletion"] == (
        "Cyclophosphamide 1,000 mg/m² total (days not reported); "
        "Fludarabine 90 mg/m² total (days not reported)"
    )
    assert rows["Race"] == "White"  # "a 12-year-old White male"
    assert rows["Follow-up"].startswith("eight months")
    assert rows["Autoantibody"] == "not reported"
    assert "doi:10.1002/art.42933" in footnote and footnote.startswith("Patient 1.")
    assert "Data cut" in footnote and "synthetic" not in footnote.lower()
    # The data cut of a publication is its date (Epub 2024 Jul 31), not the store's build date;
    # the grading clause says what the source says: no grading system.
    assert "Data cut 2024-07-31 (publication)" in footnote
    assert "grading system not reported" in footnote
    assert "ASTCT" not in footnote


def test_a_synthetic_patient_has_every_figure_and_says_synthetic(default_store) -> None:
    figures, _, footnote = figures_of(default_store, "SYN-00002")
    # The generator records ICANS only where it happened, so its absence is "not reported".
    assert all(f.reported for label, f in figures.items() if label != "Worst ICANS")
    assert figures["CAR T Cmax"].detail.endswith(" values")
    category = figures["TIS category"].value.split(" at ")[0]
    assert category in {"none", "minimal", "moderate", "major"}
    assert figures["Days off immunosuppression"].value.endswith(" days")
    assert "SYNTHETIC" in footnote


def frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)


EVENT_COLUMNS = ["kind", "name", "start_day", "end_day", "dose", "dose_unit", "note"]


@pytest.mark.parametrize(
    ("events", "follow_up", "expected"),
    [
        # Withdrawn on day -21, methotrexate restarted on day 150: 171 days off.
        ([("withdrawal", "Immunosuppression withdrawn", -21), ("medication", "Methotrexate", 150)],
         240, ("171 days", "withdrawn day -21; Methotrexate restarted day 150")),
        # Tocilizumab for CRS does not end it; none restarted: to the last contact.
        ([("withdrawal", "Immunosuppression withdrawn", -21), ("medication", "Tocilizumab", 2)],
         240, ("261 days", "withdrawn day -21; none restarted by the last contact (day 240)")),
        # Restarted, but on a day not reported: the time off is not known either.
        ([("withdrawal", "Immunosuppression withdrawn", -21), ("medication", "Prednisolone", None)],
         240, ("not reported", "withdrawn day -21; Prednisolone restarted, day not reported")),
        # A withdrawal without a day and without a note: nothing to say, and no "nan".
        ([("withdrawal", "Immunosuppression withdrawn", None)], 240, ("not reported", "")),
        ([("withdrawal", "Immunosuppression withdrawn", -21)], None,
         ("not reported", "withdrawn day -21; last contact not reported")),
    ],
)  # fmt: skip
def test_days_off_immunosuppression(events, follow_up, expected) -> None:
    rows = frame(
        # A missing note comes from the store as NaN, which must never show as "nan".
        [
            {"kind": k, "name": n, "start_day": d, "end_day": d, "note": float("nan")}
            for k, n, d in events
        ],
        EVENT_COLUMNS,
    )
    figure = summary._off_immunosuppression(rows, follow_up, pd.DataFrame())
    assert figure.value == expected[0]
    assert figure.detail == expected[1]


def test_cytopenias_come_from_the_events_else_from_the_treatment_emergent_counts() -> None:
    adverse = frame([{"term": "Neutropenia", "grade": 3, "grading_system": "CTCAE v5.0"}],
                    ["term", "grade", "grading_system"])  # fmt: skip
    columns = ["code", "term", "baseline_grade", "emergent_grade", "emergent_day",
               "range_default"]  # fmt: skip
    toxicity = frame(
        [
            # Platelets grade 2 on day 9 after a baseline of grade 0: treatment-emergent.
            {"code": "PLT", "term": "Platelet count decreased", "baseline_grade": 0,
             "emergent_grade": 2, "emergent_day": 9, "range_default": False},
            # Anaemia of the disease (grade 3 at baseline) that never got worse: no toxicity.
            {"code": "HGB", "term": "Anemia", "baseline_grade": 3, "emergent_grade": 0,
             "emergent_day": None, "range_default": True},
        ],
        columns,
    )  # fmt: skip
    assert summary._cytopenia(adverse, toxicity, "Neutropenia", "Neutrophil count decreased") == (
        summary.Figure("Worst neutropenia", "grade 3", "CTCAE v5.0")
    )
    platelets = summary._cytopenia(adverse, toxicity, "Thrombocytopenia",
                                   "Platelet count decreased")  # fmt: skip
    assert platelets.value == "grade 2 (day 9)"
    assert "baseline grade 0" in platelets.detail and "default" not in platelets.detail
    anemia = summary._cytopenia(adverse, toxicity, "Anemia", "Anemia")
    assert anemia.value == "none"
    assert "baseline grade 3" in anemia.detail and "default reference range" in anemia.detail
    nothing = frame([], columns)
    assert summary._cytopenia(adverse, nothing, "Anemia", "Anemia").value == "not reported"


def test_the_label_hides_the_id_in_presentation() -> None:
    assert summary.patient_label("SYN-00002", presenting=True) == "Patient 1"
    assert summary.patient_label("SYN-00002", presenting=False) == "SYN-00002"


def test_a_published_source_without_a_doi_cites_no_doi() -> None:
    profile = pd.Series(
        {
            "source_kind": "published",
            "source_citation": "A case report.",
            "source_doi": float("nan"),
        }
    )
    footnote = summary.footnote(profile, {"data_cut": "2026-11-25", "store_version": "3"}, "P")
    assert "doi" not in footnote and "nan" not in footnote
    assert footnote.startswith("P. Source: A case report. Only what the publication reports")
