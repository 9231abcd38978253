"""The completeness page under AppTest: the grid, the shares per site and the worklist read the
stored table; the cohort filters narrow them; the patient is in the URL; the issue's patient
(ANC on days 7 and 14 only, 120 days of follow-up) is listed with the day-28 and month-3 counts."""

from __future__ import annotations

import duckdb
import pandas as pd

from tests.conftest import open_page
from tests.handmade import PATIENT, hand_store


def frames(at) -> list[pd.DataFrame]:
    return [d.value for d in at.dataframe]


def worklist(at) -> pd.DataFrame:
    return next(f for f in frames(at) if "Not measured" in f.columns)


def patient_grid(at) -> pd.DataFrame:
    return next(f for f in frames(at) if "Visit" in f.columns and "Day" in f.columns)


def test_the_anc_patient_is_listed_with_the_day_28_and_month_3_counts(tmp_path, monkeypatch):
    store = hand_store(tmp_path / "anc.duckdb", [(7, "ANC", 0.4), (14, "ANC", 1.1)],
                       follow_up_days=120)  # fmt: skip
    at = open_page(store, monkeypatch, "pages/completeness.py")
    work = worklist(at)
    counts = work[work["Measure"] == "Blood count with ANC"]
    assert {"Day 28", "Month 3"} <= set(counts["Visit"])
    assert not {"Day 7", "Day 14", "Month 6"} & set(counts["Visit"])
    assert set(counts.loc[counts["Visit"].isin(["Day 28", "Month 3"]), "Status"]) == {"overdue"}
    row = patient_grid(at).set_index("Visit")
    assert row.at["Day 7", "Blood count with ANC"] == "✓ done"
    assert row.at["Month 3", "Blood count with ANC"] == "! overdue"
    assert row.at["Month 6", "Blood count with ANC"] == "· not yet due"
    # The screen is the stored table.
    con = duckdb.connect(str(store), read_only=True)
    stored = con.execute(
        "SELECT count(*) FROM follow_up_completeness WHERE patient_id = ? "
        "AND status IN ('overdue', 'missing')",
        [PATIENT],
    ).fetchone()[0]
    con.close()
    assert len(work) == stored


def test_filters_narrow_the_view(default_store, monkeypatch) -> None:
    everyone = open_page(default_store, monkeypatch, "pages/completeness.py")
    lupus = open_page(default_store, monkeypatch, "pages/completeness.py", ind="SLE")
    all_work, sle_work = worklist(everyone), worklist(lupus)
    assert set(sle_work["Patient"]) <= {f"SYN-SLE-{i:04d}" for i in range(1, 9)}
    assert 0 < len(sle_work) < len(all_work)
    assert lupus.selectbox(key="patient").value.startswith("SYN-SLE-")
    assert [b.proto.label for b in lupus.get("download_button")] == ["Worklist (CSV)"]
    sites = next(f for f in frames(lupus) if "Visit" in f.columns and "Day" not in f.columns)
    assert "synthetic" in sites.columns


def test_the_patient_is_in_the_url(default_store, monkeypatch) -> None:
    at = open_page(default_store, monkeypatch, "pages/completeness.py", patient="SYN-SSC-0002")
    assert at.selectbox(key="patient").value == "SYN-SSC-0002"
    assert "Modified Rodnan skin score" in patient_grid(at).columns


def test_every_figure_links_to_the_rows_behind_it(default_store, monkeypatch) -> None:
    """A share's row opens its visit's worklist (the filters kept); a worklist row opens the
    patient's trajectory over the visit's window; the link's visit and site narrow the list."""
    at = open_page(default_store, monkeypatch, "pages/completeness.py", ind="SLE")
    sites = next(f for f in frames(at) if "Rows" in f.columns)
    link = sites.set_index("Visit").at["Month 3", "Rows"]
    assert link == "completeness?ind=SLE&wvisit=Month+3#worklist"
    narrowed = open_page(default_store, monkeypatch, "pages/completeness.py", ind="SLE",
                         wvisit="Month 3")  # fmt: skip
    work, every = worklist(narrowed), worklist(at)
    assert set(work["Visit"]) == {"Month 3"}
    assert len(work) == (every["Visit"] == "Month 3").sum() > 0
    first = work.iloc[0]
    window = first["Window (days)"].replace(" to ", "%2C")
    assert first["Open"] == f"trajectory?patient={first['Patient']}&win={window}"
    odd = open_page(default_store, monkeypatch, "pages/completeness.py", wsite="nowhere")
    assert any("“nowhere” in the link" in c.value for c in odd.caption)
    assert len(worklist(odd)) == len(worklist(open_page(default_store, monkeypatch,
                                                         "pages/completeness.py")))  # fmt: skip
