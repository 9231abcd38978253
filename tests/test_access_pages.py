"""Login and roles under AppTest: a secrets [auth] section turns login on; AppTest's user stands in
for the ID token's claims. (The browser test against a mock OpenID provider is in tests/browser.)"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from carta import audit
from carta.store import ROOT
from tests.conftest import DEFAULT_SYNTHETIC, PUBLISHED_ID
from tests.test_pages import texts

AUTH = {
    "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
    "cookie_secret": "x" * 40,
    "client_id": "carta",
    "client_secret": "secret",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}
ACCESS = """
[users."clara@example.org"]
role = "clinician"
sources = ["synthetic"]

[users."vic@example.org"]
role = "viewer"
sources = "*"

[users."dora@example.org"]
role = "data_manager"
sources = ["synthetic"]
"""


@pytest.fixture
def signed_in(default_store, tmp_path, monkeypatch):
    """An app with login on, for the person with the given e-mail (None: not signed in)."""
    access = tmp_path / "access.toml"
    access.write_text(ACCESS)
    monkeypatch.setenv("CARTA_STORE", str(default_store))
    monkeypatch.setenv("CARTA_ACCESS", str(access))
    monkeypatch.setenv("CARTA_AUDIT", str(tmp_path / "audit.csv"))

    def app(email: str | None, page: str | None = None, **query) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        at.secrets["auth"] = AUTH
        at.user = {"is_logged_in": False} if email is None else {
            "is_logged_in": True, "email": email, "groups": []}  # fmt: skip
        for key, value in query.items():
            at.query_params[key] = value
        at.run()
        if page:
            at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    app.trail = tmp_path / "audit.csv"
    return app


def dataframes(at: AppTest) -> list[pd.DataFrame]:
    return [d.value for d in at.dataframe]


def table_with(at: AppTest, column: str) -> pd.DataFrame:
    return next(t for t in dataframes(at) if column in t.columns)


def test_an_anonymous_visitor_sees_a_sign_in_button_and_no_patient(signed_in) -> None:
    for page in (None, "pages/trajectory.py", "pages/cohort.py", "pages/data.py"):
        at = signed_in(None, page, patient=PUBLISHED_ID)
        assert [b.label for b in at.button] == ["Sign in"]
        assert not at.dataframe and not at.get("vega_lite_chart")
        assert PUBLISHED_ID not in texts(at) and "SYN-" not in texts(at)


def test_someone_signed_in_without_an_entry_sees_only_a_message(signed_in) -> None:
    at = signed_in("eve@example.org")
    assert "grants you no role" in texts(at)
    assert not at.dataframe and [b.label for b in at.button] == ["Sign out"]


def test_a_clinician_lists_only_the_patients_of_their_source(signed_in) -> None:
    at = signed_in("clara@example.org")
    [patients] = dataframes(at)
    assert len(patients) == DEFAULT_SYNTHETIC and PUBLISHED_ID not in " ".join(patients["open"])
    assert "clinician of synthetic" in texts(at)


@pytest.mark.parametrize("page", ["pages/trajectory.py", "pages/summary.py"])
def test_a_clinician_cannot_open_another_sources_patient_by_url(signed_in, page) -> None:
    at = signed_in("clara@example.org", page, patient=PUBLISHED_ID)
    assert "among the patients you may see" in texts(at)
    shown = texts(at) + " ".join(h.value for h in at.header)
    assert "12-year-old" not in shown and "Nicolai" not in shown
    assert at.query_params.get("patient") != [PUBLISHED_ID]


def test_opening_a_patient_is_audited_once_per_session(signed_in) -> None:
    at = signed_in("clara@example.org", "pages/trajectory.py", patient="SYN-00003")
    at.run()
    trail = audit.read(signed_in.trail)
    views = trail[trail["action"] == "view patient"]
    assert views[["user", "target", "detail"]].values.tolist() == [
        ["clara@example.org", "SYN-00003", "trajectory"]
    ]
    assert "sign in" in set(trail["action"])


@pytest.mark.parametrize("page", ["pages/trajectory.py", "pages/summary.py"])
def test_a_viewer_gets_no_patient_level_view(signed_in, page) -> None:
    at = signed_in("vic@example.org", page, patient="SYN-00003")
    assert "cohort aggregates only" in texts(at)
    assert not at.get("vega_lite_chart") and not at.dataframe


def test_a_viewer_sees_the_cohort_as_tables_with_small_cells_suppressed(signed_in) -> None:
    at = signed_in("vic@example.org", "pages/cohort.py")
    assert not at.get("vega_lite_chart") and not at.get("arrow_vega_lite_chart")
    tables = dataframes(at)
    assert tables, "the viewer sees the aggregate tables"
    for table in tables:
        assert "patient_id" not in table.columns
    distribution = table_with(at, "median").set_index("timepoint")
    # 8 patients have a CK value there: 6 with JDM and 2 with adult myositis.
    assert distribution.at["M12", "n"] == "8"
    assert "whisker_low" not in distribution  # a whisker ends at one patient's value
    response = table_with(at, "n evaluable (TIS)").set_index("timepoint")
    assert response.at["M1", "none"] == "<5" and pd.isna(response.at["M1", "none %"])
    assert "Aggregates only" in texts(at)


def test_a_viewers_download_is_the_suppressed_table(signed_in) -> None:
    at = signed_in("vic@example.org", "pages/cohort.py")
    [button] = [b for b in at.get("download_button") if "Response" in b.proto.label]
    # The file is made when clicked; the page's own table is what it holds.
    shown = table_with(at, "n evaluable (TIS)")
    text = io.StringIO(shown.to_csv(index=False))
    assert "<5" in text.getvalue()
    assert button.proto.label == "Response (CSV)"


def test_a_viewer_sees_safety_numbers_without_patients(signed_in) -> None:
    at = signed_in("vic@example.org", "pages/safety.py")
    assert not at.get("vega_lite_chart") and not at.get("arrow_vega_lite_chart")
    incidence = table_with(at, "At risk")
    assert "<5" in set(incidence.astype(str).to_numpy().ravel())
    assert "SYN-" not in " ".join(t.astype(str).to_csv() for t in dataframes(at))


def test_a_clinician_cannot_import_and_a_data_manager_only_into_their_source(signed_in) -> None:
    at = signed_in("clara@example.org", "pages/data.py")
    assert "data manager role" in texts(at)
    assert not at.get("file_uploader")
    at = signed_in("dora@example.org", "pages/data.py")
    [chooser] = [s for s in at.selectbox if s.key == "import-source"]
    assert chooser.options == ["(each file names its source)", "synthetic"]
    assert not [b for b in at.button if b.key == "undo"]  # an undo republishes every source


def test_local_mode_says_so_and_keeps_every_action(default_store, monkeypatch) -> None:
    monkeypatch.setenv("CARTA_STORE", str(default_store))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert "Local single-user mode" in " ".join(c.value for c in at.sidebar.caption)
    at.switch_page("pages/data.py").run()
    assert [s for s in at.selectbox if s.key == "import-source"]


def test_a_broken_access_file_stops_with_a_message_not_a_traceback(signed_in, tmp_path) -> None:
    Path(tmp_path / "access.toml").write_text("[users.x")
    at = signed_in("clara@example.org")
    assert "access settings cannot be used" in texts(at)
    assert not at.dataframe


def test_a_viewers_remission_table_hides_small_cells_and_what_gives_them_away(signed_in) -> None:
    viewer = table_with(signed_in("vic@example.org", "pages/cohort.py", ind="SLE"), "Not met")
    clinician = table_with(signed_in("clara@example.org", "pages/cohort.py", ind="SLE"),
                           "Undecided (input missing)")  # fmt: skip
    assert len(viewer) == len(clinician) > 0
    hidden = 0
    for (_, shown), (_, full) in zip(viewer.iterrows(), clinician.iterrows(), strict=True):
        not_met = full["Decided"] - full["Met"]
        for column, count in (("Decided", full["Decided"]), ("Met", full["Met"]),
                              ("Not met", not_met)):  # fmt: skip
            if 0 < count < 5:
                assert shown[column] == "<5", (column, count)
            elif shown[column] != "<5":
                assert shown[column] == str(count)
        # With the decided shown, one of met / not met hidden takes the other with it (they add
        # up to the decided).
        if shown["Decided"] != "<5":
            assert (shown["Met"] == "<5") == (shown["Not met"] == "<5")
        if shown["Met"] == "<5":
            assert pd.isna(shown["Met %"])
            hidden += 1
    assert hidden > 0  # the lupus patients are few: some cells are small
