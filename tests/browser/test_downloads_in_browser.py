"""Every download button of every view, clicked in Chromium and its file read back: a button that
renders but serves nothing (or an error) is found here, not by a user."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pandas as pd
import pyarrow.parquet as pq
import pytest
from playwright.sync_api import Page

from carta.store import open_read_only, run_query
from tests.browser.harness import settled, wait_rendered

pytestmark = pytest.mark.browser

DOWNLOADS = '[data-testid="stDownloadButton"] button'


def synthetic_patient(store: Path) -> str:
    con = open_read_only(store)
    try:
        ids = run_query(con, "patient_ids", search="SYN", max_rows=1)["patient_id"]
    finally:
        con.close()
    return str(ids.iloc[0])


def every_download(page: Page, at_least: int, within: str = "") -> dict[str, bytes]:
    """Click each download button of the page (or of the part `within` selects) in turn, once
    `at_least` have drawn (a page draws its elements as its script goes); the files it served,
    by file name."""
    files = {}
    css = f"{within} {DOWNLOADS}".strip()
    page.wait_for_function(
        "([css, n]) => document.querySelectorAll(css).length >= n", arg=[css, at_least]
    )
    buttons = page.locator(css)
    for i in range(buttons.count()):
        with page.expect_download(timeout=60_000) as info:
            buttons.nth(i).click()
        download = info.value
        assert download.failure() is None, download.suggested_filename
        files[download.suggested_filename] = Path(download.path()).read_bytes()
    return files


def readable(name: str, content: bytes) -> None:
    """The file is what its name says, and not empty."""
    assert content, f"{name} is empty"
    suffix = name.rsplit(".", 1)[-1]
    if suffix == "csv":
        assert not pd.read_csv(io.BytesIO(content)).columns.empty, name
    elif suffix == "parquet":
        assert pq.read_table(io.BytesIO(content)).num_rows > 0, name
    elif suffix == "pdf":
        assert content.startswith(b"%PDF"), name
    elif suffix == "pptx":
        assert "ppt/presentation.xml" in zipfile.ZipFile(io.BytesIO(content)).namelist(), name
    elif suffix == "png":
        assert content.startswith(b"\x89PNG\r\n\x1a\n"), name
    elif suffix == "svg":
        assert ElementTree.fromstring(content).tag.endswith("svg"), name
    else:
        raise AssertionError(f"a download of an unknown kind: {name}")


def open_view(page: Page, url: str, charts: int = 0) -> None:
    page.goto(url)
    wait_rendered(page, charts=charts, timeout=60_000)
    settled(page)  # a click during the rerun a measured width brings would be lost


def test_every_cohort_download_serves_its_rows(page: Page, app_url: str) -> None:
    open_view(page, f"{app_url}/cohort", charts=5)
    files = every_download(page, 3)
    assert len(files) == 3
    for name, content in files.items():
        readable(name, content)
    adam = pd.read_csv(io.BytesIO(files["carta-cohort-ck-synthetic-adam.csv"]))
    assert set(adam["PARAMCD"]) == {"CK"} and "synthetic" in set(adam["SRCKIND"])
    label = page.get_by_text(re.compile(r"All observations of these [\d,]+ patients \(CSV\)"))
    shown = int(re.search(r"these ([\d,]+) patients", label.inner_text()).group(1))
    long_csv = pd.read_csv(io.BytesIO(files["carta-cohort-ck-synthetic-observations.csv"]))
    long_parquet = pq.read_table(
        io.BytesIO(files["carta-cohort-ck-synthetic-observations.parquet"])
    ).to_pandas()
    assert long_csv["patient_id"].nunique() == shown == long_parquet["patient_id"].nunique()
    assert len(long_csv) == len(long_parquet) > shown


def test_every_safety_download_is_read_back(page: Page, app_url: str) -> None:
    open_view(page, f"{app_url}/safety", charts=2)
    files = every_download(page, 3)
    assert sorted(files) == [
        "carta-safety-synthetic-incidence.csv",
        "carta-safety-synthetic-infections.csv",
        "carta-safety-synthetic-recovery.csv",
    ]
    for name, content in files.items():
        readable(name, content)


def test_every_summary_file_is_made(page: Page, app_url: str, default_store: Path) -> None:
    open_view(page, f"{app_url}/summary?patient={synthetic_patient(default_store)}", charts=1)
    files = every_download(page, 8)
    kinds = {name.rsplit(".", 1)[-1] for name in files}
    assert kinds == {"pdf", "pptx", "png", "svg"}
    charts = [n for n in files if n.endswith(".png")]
    assert len(charts) == len([n for n in files if n.endswith(".svg")]) >= 3
    for name, content in files.items():
        readable(name, content)


def test_the_data_page_templates_are_the_tables_columns(page: Page, app_url: str) -> None:
    open_view(page, f"{app_url}/data")
    page.get_by_role("tab", name=re.compile("Templates")).click()
    # The tab shown: the other tabs' buttons (the quality findings' file) are drawn but hidden.
    files = every_download(page, 5, within='[role="tabpanel"]:not([hidden])')
    assert "observations.csv" in files and len(files) >= 5
    for name, content in files.items():
        readable(name, content)
        assert pd.read_csv(io.BytesIO(content)).empty, f"{name}: a template has no rows"
