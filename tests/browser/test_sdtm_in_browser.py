"""Imported SDTM packages in Chromium: the patients of two public CDISC test packages (the
CDISCPILOT01 "metadata submission guidelines" sample, xpt/json with VS, LB, AE, EX, EC and CM;
and the small statin study as CSV, whose adverse events carry a severity and no grade) render on
the trajectory, summary, cohort and safety pages without an exception, and every page counts the
patients the store holds.

The data are read from ../shared/data/cdisc beside the repository, never copied into it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from playwright.sync_api import Page

from carta.build import build_store
from carta.ingest.importer import import_files
from carta.store import real_path
from tests.browser.harness import screenshot, start_server, stop_server, wait_rendered
from tests.browser.test_cohort_in_browser import patients_counted
from tests.browser.test_trajectory_in_browser import panel_count

pytestmark = pytest.mark.browser

CDISC = Path(__file__).resolve().parents[3] / "shared" / "data" / "cdisc"
MSG, STATIN = "sdtm-msg-v1.1", "sdtm-statin-csv"
PACKAGES = (MSG, STATIN)
# What a table or label must never show: pandas' missing values printed as text.
MISSING_AS_TEXT = re.compile(r"\b(?:nan|NaN|NaT|None)\b|<NA>")
GRADE = re.compile(r"\bgrade\s*\d", re.IGNORECASE)


@dataclass(frozen=True)
class Study:
    package: str
    source_id: str
    patients: tuple[str, ...]

    @property
    def first(self) -> str:
        return self.patients[0]


@dataclass(frozen=True)
class Imported:
    path: Path
    studies: dict[str, Study]  # by package

    @property
    def total(self) -> int:
        return sum(len(s.patients) for s in self.studies.values())


def read(store: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(real_path(store)), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def sdtm_store(tmp_path_factory) -> Imported:
    """An empty store with the two packages imported, one after the other."""
    if not CDISC.is_dir():
        pytest.fail(f"the CDISC test data are missing: {CDISC} (a copy of shared/ beside the "
                    "repo, see shared/data/cdisc/README.md)", pytrace=False)  # fmt: skip
    for package in PACKAGES:
        if not (CDISC / package).is_dir():
            pytest.fail(f"the CDISC test package is missing: {CDISC / package}", pytrace=False)
    folder = tmp_path_factory.mktemp("sdtm")
    store = build_store(folder / "store" / "carta.duckdb", n_patients=0,
                        include_published=False).path  # fmt: skip
    studies = {}
    for package in PACKAGES:
        before = {s for (s,) in read(store, "SELECT source_id FROM sources")}
        result = import_files([CDISC / package], store)
        assert result.version is not None, f"{package} was not published"
        new = {s for (s,) in read(store, "SELECT source_id FROM sources")} - before
        assert len(new) == 1, (package, new)
        (source,) = new
        ids = tuple(p for (p,) in read(store, "SELECT patient_id FROM patients WHERE source_id = "
                                       f"'{source}' ORDER BY patient_id"))  # fmt: skip
        assert ids, f"{package} published no patient"
        studies[package] = Study(package, source, ids)
    return Imported(store, studies)


@pytest.fixture(scope="module")
def sdtm_url(sdtm_store: Imported) -> Iterator[str]:
    process, url = start_server(sdtm_store.path)
    yield url
    stop_server(process)


def rendered(page: Page, timeout: float = 15) -> int:
    """Wait for the script to finish with nothing stale, count the charts the page holds (lazy
    elements arrive a moment after the script), wait until they have all drawn; their number."""
    wait_rendered(page)
    counts, deadline = None, time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = page.evaluate(
            """() => [document.querySelectorAll('[data-testid="stVegaLiteChart"]').length,
                      document.querySelectorAll('[data-testid="stDataFrame"]').length,
                      document.querySelectorAll('[data-testid="stSkeleton"]').length]"""
        )
        if now == counts and now[2] == 0:
            break
        counts = now
        time.sleep(0.4)
    charts = counts[0]
    wait_rendered(page, charts=charts)
    return charts


def healthy(page: Page) -> str:
    """The page's text, after checking it shows no exception and no missing value as text."""
    assert page.locator('[data-testid="stException"]').count() == 0
    text = page.locator('[data-testid="stMain"]').inner_text()
    assert "Traceback" not in text
    assert not MISSING_AS_TEXT.search(text), MISSING_AS_TEXT.search(text).group(0)
    return text


def grid(page: Page, column: str) -> list[list[str]]:
    """The rows of the first table with a `column` header, as their cells' texts. A grid fills
    its accessible cells after it has drawn, so the header is waited for (up to 15 s)."""
    tables = page.locator('[data-testid="stDataFrame"]')
    for _attempt in range(30):
        for index in range(tables.count()):
            table = tables.nth(index)
            headers = table.locator('[role="columnheader"]').all_inner_texts()
            if column in headers:
                rows = [row.locator('[role="gridcell"]').all_inner_texts()
                        for row in table.locator('[role="row"]').all()]  # fmt: skip
                return [r for r in rows if r]
        page.wait_for_timeout(500)
    raise AssertionError(f"no table with a {column!r} column on the page")


@pytest.mark.parametrize("package", PACKAGES)
def test_the_trajectory_of_an_imported_patient(page: Page, sdtm_url, sdtm_store, package) -> None:
    study = sdtm_store.studies[package]
    page.set_viewport_size({"width": 1440, "height": 2600})  # the main pane scrolls: all in view
    page.goto(f"{sdtm_url}/trajectory?patient={study.first}")
    charts = rendered(page)
    text = healthy(page)
    assert f"Study {study.source_id}" in text and package in text
    assert page.get_by_role("combobox", name="Patient").input_value() == study.first
    assert charts >= 1 and panel_count(page) >= 2  # the course lane and at least one lab panel
    if package == MSG:  # vital signs and labs: blood counts are drawn
        assert "Haemoglobin" in text and "Platelets" in text
    screenshot(page, f"sdtm-trajectory-{study.first}")


@pytest.mark.parametrize("package", PACKAGES)
def test_the_summary_of_an_imported_patient(page: Page, sdtm_url, sdtm_store, package) -> None:
    study = sdtm_store.studies[package]
    page.set_viewport_size({"width": 1440, "height": 2400})
    page.goto(f"{sdtm_url}/summary?patient={study.first}")
    charts = rendered(page)
    text = healthy(page)
    assert study.first in text and f"Study {study.source_id}" in text
    assert charts >= 1
    events = grid(page, "Grade")
    assert events, "the adverse-event table is empty"
    for row in events:
        assert not any(MISSING_AS_TEXT.search(cell) for cell in row), row
    if package == STATIN:  # AESEV and no AETOXGR: a severity, never a grade
        (stored,) = read(sdtm_store.path, "SELECT count(*) FROM adverse_events WHERE "
                         f"patient_id = '{study.first}'")  # fmt: skip
        assert 0 < len(events) <= stored[0]
        for row in events:
            grade, grading = row[1], row[2]
            assert re.fullmatch(r"severity: (mild|moderate|severe), not graded", grade), row
            assert not GRADE.search(grade) and not GRADE.search(grading), row
    screenshot(page, f"sdtm-summary-{study.first}")


@pytest.mark.parametrize("view", ["cohort", "safety"])
@pytest.mark.parametrize("package", [None, *PACKAGES], ids=["all", *PACKAGES])
def test_the_cohort_views_count_the_imported_patients(
    page: Page, sdtm_url, sdtm_store, view, package
) -> None:
    page.set_viewport_size({"width": 1440, "height": 3000})
    study = sdtm_store.studies.get(package)
    page.goto(f"{sdtm_url}/{view}" + (f"?src={study.source_id}" if study else ""))
    charts = rendered(page)
    text = healthy(page)
    assert charts >= 1
    expected = len(study.patients) if study else sdtm_store.total
    assert patients_counted(page) == expected
    assert f"{expected} of {sdtm_store.total} patients · imported {expected}" in text
    if study:
        assert page.get_by_role("button", name=f"Source: {study.source_id} ✕").is_visible()
    if view == "cohort":  # the swimmer lanes name the patients of the studies shown
        lanes = set(re.findall(r"^(\S+)$", text, re.MULTILINE))
        for each in sdtm_store.studies.values():
            shown = lanes & set(each.patients)
            assert bool(shown) == (study is None or each is study), (each.source_id, shown)
    screenshot(page, f"sdtm-{view}-{study.source_id if study else 'all'}")
