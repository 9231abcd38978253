"""The Data page under AppTest: a readable import history, and an undo that asks first."""

from __future__ import annotations

from pathlib import Path

import pytest

from carta.build import build_store
from carta.ingest.importer import import_files
from carta.store import open_read_only, store_info
from tests.conftest import open_page
from tests.handmade import file_header


@pytest.fixture
def imported_store(tmp_path: Path) -> Path:
    """A store at version 2: the default build, then one import of a source."""
    store = build_store(tmp_path / "store" / "carta.duckdb", n_patients=2).path
    sources = tmp_path / "sources.csv"
    sources.write_text(file_header("sources") + "\nsite-a,site,Site A registry,,\n")
    assert import_files([sources], store).version == 2
    return store


def published_version(store: Path) -> str:
    con = open_read_only(store)
    try:
        return store_info(con)["store_version"]
    finally:
        con.close()


def test_the_history_is_in_words_with_short_fingerprints(imported_store, monkeypatch) -> None:
    at = open_page(imported_store, monkeypatch, "pages/data.py")
    history = next(d.value for d in at.dataframe if "File" in d.value.columns)
    assert list(history.columns) == ["Import", "Imported at", "File", "Rows accepted",
                                     "Rows refused", "Store version",
                                     "Fingerprint (SHA-256, first 12)"]  # fmt: skip
    assert history["Fingerprint (SHA-256, first 12)"].str.len().eq(12).all()
    versions = next(d.value for d in at.dataframe if "Published now" in d.value.columns)
    assert versions.set_index("Version").loc[2, "Published now"] == "yes"
    assert "sha256" not in " ".join(str(c) for d in at.dataframe for c in d.value.columns)


def test_an_undo_asks_first_and_can_be_cancelled(imported_store, monkeypatch) -> None:
    at = open_page(imported_store, monkeypatch, "pages/data.py")
    at.button(key="undo").click().run()
    assert published_version(imported_store) == "2"  # nothing happened yet
    question = next(w.value for w in at.warning if "Publish version 1 again?" in w.value)
    assert "instead of version 2" in question and "sources.csv" in question
    at.button(key="undo-cancel").click().run()
    assert published_version(imported_store) == "2"
    assert not [w for w in at.warning if "again?" in w.value]
    at.button(key="undo").click().run()
    at.button(key="undo-confirm").click().run()
    assert published_version(imported_store) == "1"
    assert any("Version 1 is published again" in s.value for s in at.success)


def test_the_quality_tab_shows_the_trend_and_links_each_finding(imported_store, monkeypatch):
    """Two versions: the counts per check are quality_history's, summed over the sources; the
    trend is drawn; every finding links to its rows; the source narrows both."""
    import duckdb

    at = open_page(imported_store, monkeypatch, "pages/data.py")
    changes = next(d.value for d in at.dataframe if "Change" in d.value.columns)
    con = duckdb.connect(str(imported_store), read_only=True)
    try:
        stored = con.execute(
            "SELECT check_name, sum(findings) FROM quality_history WHERE store_version = 2 "
            "GROUP BY ALL"
        ).fetchall()
        before = dict(con.execute(
            "SELECT check_name, sum(findings) FROM quality_history WHERE store_version = 1 "
            "GROUP BY ALL").fetchall())  # fmt: skip
        findings = con.execute("SELECT count(*) FROM quality_findings").fetchone()[0]
    finally:
        con.close()
    assert dict(zip(changes["Check"], changes["Findings"], strict=True)) == dict(stored)
    assert dict(zip(changes["Check"], changes["Before"], strict=True)) == before
    assert (changes["Change"] == changes["Findings"] - changes["Before"]).all()
    [trend] = at.get("vega_lite_chart")  # two versions: the trend is drawn
    assert "Findings per store version" in trend.proto.spec
    rows = next(d.value for d in at.dataframe if "Detail" in d.value.columns)
    assert len(rows) == findings
    for link, patient, visit in zip(rows["rows"], rows["Patient"], rows["Visit"], strict=True):
        if isinstance(visit, str):
            assert link.startswith(f"completeness?patient={patient}&wvisit=")
        else:
            assert link.startswith(f"trajectory?patient={patient}")
    [download] = [b for b in at.get("download_button") if b.proto.label == "Findings (CSV)"]
    assert download is not None
    narrowed = open_page(imported_store, monkeypatch, "pages/data.py", qsrc="nicolai2024")
    few = next(d.value for d in narrowed.dataframe if "Detail" in d.value.columns)
    assert set(few["Source"]) == {"nicolai2024"} and 0 < len(few) < len(rows)
    check = rows["Check"].value_counts().index[-1]  # the rarest: the others are left out
    picked = open_page(imported_store, monkeypatch, "pages/data.py", qcheck=check)
    one = next(d.value for d in picked.dataframe if "Detail" in d.value.columns)
    assert set(one["Check"]) == {check} and len(one) == (rows["Check"] == check).sum() < len(rows)
