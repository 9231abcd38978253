"""Login in Chromium against a local mock OpenID provider (oidc-provider-mock): who signs in sees
what the access file grants, in every view and download, and the audit trail records it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Page

from carta import audit
from tests.browser.harness import (
    free_port,
    start_server,
    stop_server,
    wait_answering,
    wait_rendered,
)
from tests.conftest import DEFAULT_SYNTHETIC, PUBLISHED_ID

ACCESS = """
[users."clara@example.org"]
role = "clinician"
sources = ["synthetic"]

[groups."carta-viewers"]
role = "viewer"
sources = "*"
"""


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    port = free_port()
    mock = Path(sys.executable).with_name("oidc-provider-mock")
    process = subprocess.Popen([str(mock), "--port", str(port)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_answering(f"{url}/.well-known/openid-configuration", process)
        for email, groups in (("clara@example.org", []), ("vic@example.org", ["carta-viewers"])):
            claims = {"email": email, "email_verified": True, "groups": groups}
            request = urllib.request.Request(
                f"{url}/users/{email}", method="PUT", data=json.dumps(claims).encode(),
                headers={"Content-Type": "application/json"},
            )  # fmt: skip
            with urllib.request.urlopen(request, timeout=10) as answer:
                assert answer.status == 204
        yield url
    finally:
        stop_server(process)


@pytest.fixture(scope="module")
def login_app(default_store, provider, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("login")
    port = free_port()
    secrets = folder / "secrets.toml"
    secrets.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        f'cookie_secret = "{os.urandom(24).hex()}"\n'
        'client_id = "carta"\nclient_secret = "carta-test"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n'
    )
    access = folder / "access.toml"
    access.write_text(ACCESS)
    trail = folder / "audit.csv"
    process, url = start_server(
        default_store, port=port, args=(f"--secrets.files={secrets}",),
        env={"CARTA_ACCESS": str(access), "CARTA_AUDIT": str(trail)},
    )  # fmt: skip
    yield url, trail
    stop_server(process)


def sign_in(page: Page, url: str, email: str) -> None:
    page.goto(f"{url}/")
    wait_rendered(page)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector('input[name="sub"]', timeout=30_000)
    page.fill('input[name="sub"]', email)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{url}/**", wait_until="domcontentloaded")
    page.wait_for_selector("text=Signed in as", timeout=30_000)
    wait_rendered(page)


def open_view(page: Page, url: str, path: str) -> str:
    page.goto(f"{url}/{path}")
    wait_rendered(page)
    return page.inner_text("body")


def download(page: Page, label: str) -> str:
    with page.expect_download(timeout=30_000) as info:
        page.get_by_role("button", name=label).click()
    return Path(info.value.path()).read_text(encoding="utf-8")


def test_an_anonymous_visitor_sees_no_patient(login_app, page: Page) -> None:
    url, _ = login_app
    for path in ("", f"trajectory?patient={PUBLISHED_ID}", "cohort", "data"):
        body = open_view(page, url, path)
        assert "Sign in" in body
        assert PUBLISHED_ID not in body and "SYN-0" not in body
        assert page.locator('[data-testid="stVegaLiteChart"]').count() == 0


def test_a_clinician_sees_their_source_only_in_every_view_and_download(login_app, page) -> None:
    url, trail = login_app
    sign_in(page, url, "clara@example.org")
    assert "clinician of synthetic" in page.inner_text("body")
    home = page.inner_text("body")  # the patient list itself is drawn on a canvas
    assert f"Patients ({DEFAULT_SYNTHETIC})" in home
    assert f"synthetic {DEFAULT_SYNTHETIC} patients" in home
    assert "published" not in home.split("infusion.")[-1]
    for path in (f"trajectory?patient={PUBLISHED_ID}", f"summary?patient={PUBLISHED_ID}"):
        body = open_view(page, url, path)
        assert "among the patients you may see" in body
        assert "Nicolai" not in body
    open_view(page, url, "cohort")
    adam = pd.read_csv(pd.io.common.StringIO(download(page, "Values shown, ADaM BDS")))
    assert len(adam) > 0 and PUBLISHED_ID not in set(adam["USUBJID"])
    open_view(page, url, "trajectory?patient=SYN-00002")
    records = audit.read(trail, user="clara@example.org")
    assert {"sign in", "view patient", "export"} <= set(records["action"])
    viewed = records[records["action"] == "view patient"]
    # The refused published case was never shown; the first patient shown instead was.
    assert "SYN-00002" in set(viewed["target"]) and PUBLISHED_ID not in set(viewed["target"])


def test_a_viewer_by_group_gets_suppressed_aggregates_and_files(login_app, page) -> None:
    url, _ = login_app
    sign_in(page, url, "vic@example.org")
    assert "cohort aggregates only" in open_view(page, url, "trajectory?patient=SYN-00002")
    body = open_view(page, url, "cohort")
    assert "Aggregates only" in body and "SYN-0" not in body
    assert page.locator('[data-testid="stVegaLiteChart"]').count() == 0
    response = pd.read_csv(pd.io.common.StringIO(download(page, "Response (CSV)")), dtype=str)
    assert "<5" in set(response.to_numpy().ravel())
    counts = response["n evaluable (TIS)"].dropna()
    assert all(c == "<5" or c == "0" or int(c) >= 5 for c in counts)
    open_view(page, url, "safety")
    incidence = pd.read_csv(
        pd.io.common.StringIO(download(page, "Adverse events by grade (CSV)")), dtype=str
    )
    assert "<5" in set(incidence.to_numpy().ravel())
    assert not incidence.to_csv().count("SYN-0")


def test_signing_out_ends_the_session(login_app, page) -> None:
    url, _ = login_app
    sign_in(page, url, "clara@example.org")
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="End session").click()  # the provider's end-session page
    page.wait_for_url(f"{url}/**", wait_until="domcontentloaded")
    body = open_view(page, url, "trajectory?patient=SYN-00002")
    assert "Sign in" in body and "SYN-00002" not in body
    assert page.locator('[data-testid="stVegaLiteChart"]').count() == 0
