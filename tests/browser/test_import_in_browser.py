"""Upload a file on the Data page in Chromium, import it, and find the new patient in the list."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Page

from bench.import_csv import site_files
from carta import audit
from carta.build import build_store
from carta.store import ROOT
from tests.browser.harness import screenshot, start_server, stop_server, wait_rendered
from tests.handmade import file_header

pytestmark = pytest.mark.browser


def test_an_uploaded_file_is_checked_imported_and_listed(page: Page, tmp_path: Path) -> None:
    store = build_store(tmp_path / "store" / "carta.duckdb", n_patients=2).path
    patients = tmp_path / "patients.csv"
    patients.write_text(
        file_header("patients")
        + "\nUPLOAD-01,synthetic,Uploaded,F,8,JDM,,,,,,180,,true\n"
        + "UPLOAD-02,nowhere,Uploaded,F,8,JDM,,,,,,180,,true\n"
    )
    observations = tmp_path / "observations.csv"
    observations.write_text(
        file_header("observations") + "\nUPLOAD-01,7,Kreatinkinase,310,U/L,,,blood,,synthetic,\n"
    )
    mapping = tmp_path / "mapping.csv"
    mapping.write_text("name,code\nKreatinkinase,CK\n")
    process, url = start_server(store)  # this test changes its store: a server of its own
    try:
        page.set_viewport_size({"width": 1400, "height": 1400})
        page.goto(f"{url}/data")
        wait_rendered(page)
        uploader = page.get_by_role("region", name="Files to import")
        uploader.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
            [str(patients), str(observations)]
        )
        page.get_by_text("one per row and column").first.wait_for()
        wait_rendered(page)
        problems = page.locator('[data-testid="stDataFrame"]').nth(1)
        reasons = [
            problems.locator(f'[data-testid="glide-cell-3-{row}"]').inner_text() for row in (0, 1)
        ]
        assert reasons[0].startswith("unknown source")
        assert reasons[1].startswith("unknown parameter code")
        assert page.get_by_role("button", name="Import 1 row").is_visible()

        # A mapping file names the parameter; the check runs again and the row is accepted.
        page.get_by_role("region", name="Mapping file (optional)").get_by_test_id(
            "stFileUploaderDropzoneInput"
        ).set_input_files(str(mapping))
        page.get_by_role("button", name="Import 2 rows").wait_for()
        screenshot(page, "data-checked")
        page.get_by_role("button", name="Import 2 rows").click()
        page.get_by_text("store version 2 is published").wait_for(timeout=30_000)
        # What the checks found in the new version, against the one before.
        page.get_by_text("Data quality of version 2:").wait_for()
        screenshot(page, "data-imported")
        # The refused row's file: its line and reason, downloaded as a user would; the uploads
        # are gone from the disk; the import and the download are in the audit trail.
        with page.expect_download(timeout=30_000) as info:
            page.get_by_role("button", name="Refused rows of patients.csv, with reasons").click()
        refused = pd.read_csv(info.value.path(), dtype=str)
        assert refused["patient_id"].tolist() == ["UPLOAD-02"]
        assert refused["reason"].str.contains("unknown source").all()
        assert not list(Path(tempfile.gettempdir()).glob(f"carta-import-{process.pid}-*"))
        trail = audit.read(audit.audit_path(store))
        assert {"import", "export"} <= set(trail["action"])
        page.get_by_role("tab", name="Data quality").click()
        trend = page.locator('[data-testid="stTab"][aria-selected="true"]')
        assert trend.count() == 1
        page.locator('[role="graphics-document"][aria-roledescription]').first.wait_for()
        assert page.get_by_text("Findings of this version").first.is_visible()
        # The findings' file is the table of this version: the new patient's missing infusion.
        with page.expect_download(timeout=30_000) as info:
            page.get_by_role("button", name="Findings (CSV)").click()
        findings = pd.read_csv(info.value.path(), dtype=str)
        assert list(findings.columns)[:3] == ["Category", "Check", "Source"]
        mine = findings[findings["Patient"] == "UPLOAD-01"]
        assert "no infusion recorded" in set(mine["Check"])
        # A finding's link opens the rows behind it.
        shown = page.locator('[role="tabpanel"]:not([hidden]) [data-testid="stDataFrame"]').nth(1)
        link = shown.locator('[data-testid="glide-cell-0-0"]').inner_text()
        assert link.startswith(("completeness?patient=", "trajectory?patient="))
        page.goto(f"{url}/{link}")
        wait_rendered(page, timeout=60_000)
        assert page.locator('[data-testid="stException"]').count() == 0
        chooser = page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').first
        assert chooser.locator("input").input_value() == findings.loc[0, "Patient"]
        page.goto(f"{url}/?q=UPLOAD")
        wait_rendered(page)
        assert page.locator('[data-testid="glide-cell-0-0"]').inner_text().endswith("UPLOAD-01")
        assert page.get_by_text("Patients (4)").first.is_visible()

        # Undo: publish the version before the import again; the patient is gone from the list.
        page.goto(f"{url}/data")
        wait_rendered(page)
        page.get_by_role("tab", name="Import history").click()
        page.get_by_role("button", name="Publish version 1 again").click()
        # Nothing happens before a confirmation that says what the undo does.
        page.get_by_text("Publish version 1 again?").wait_for()
        assert page.get_by_text("instead of version 2").is_visible()
        page.get_by_role("button", name="Yes, publish version 1").click()
        page.get_by_text("Version 1 is published again").wait_for()
        screenshot(page, "data-undone")
        page.goto(f"{url}/?q=UPLOAD")
        wait_rendered(page)
        assert page.get_by_text("No patient matches").first.is_visible()
        assert page.get_by_text("Patients (3)").first.is_visible()
    finally:
        stop_server(process)


def test_the_app_keeps_answering_while_an_import_publishes(page: Page, tmp_path: Path) -> None:
    store = build_store(tmp_path / "store" / "carta.duckdb", n_patients=2).path
    *files, _ = site_files(tmp_path, 150_000)
    process, url = start_server(store)
    try:
        page.goto(f"{url}/trajectory?patient=SYN-00001")
        wait_rendered(page, charts=1)
        importing = subprocess.Popen(
            [sys.executable, "-m", "carta", "import", *map(str, files), "--store", str(store)],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        answered = 0
        while importing.poll() is None:
            page.reload()
            wait_rendered(page, charts=1)
            assert page.locator('[data-testid="stException"]').count() == 0
            answered += 1
        assert importing.returncode == 0
        assert answered >= 1, "the import finished before the app was asked anything"
        page.goto(f"{url}/?q=SITE-")
        wait_rendered(page)
        # The store had 3 patients (2 synthetic, the published case); the import adds the file's.
        imported = len(pd.read_csv(files[1]))
        assert page.get_by_text("Patients (").first.inner_text() == f"Patients ({3 + imported:,})"
    finally:
        stop_server(process)
