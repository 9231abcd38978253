"""Sign-in, the reader's access and the audit trail on screen (rules: carta/access.py).

Login is Streamlit's own (st.login, OpenID Connect), on whenever the secrets file has an [auth]
section; without one Carta runs in a local single-user mode that says so in the sidebar.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import streamlit as st

from carta import audit, display, ui
from carta.access import LOCAL, Access, AccessFileError, access_for, access_path, read_access_file
from carta.store import store_path

log = logging.getLogger("carta")
_VIEWED = "_carta_viewed"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
_SIGNED_IN = "_carta_signed_in"


def auth_configured() -> bool:
    """Whether the secrets file has an [auth] section: then everyone signs in."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError:  # no secrets file at all (Streamlit's error subclasses it)
        return False


def current_access() -> Access:
    if not auth_configured():
        return LOCAL
    if not st.user.is_logged_in:
        return Access(who="anonymous")
    try:
        grants = read_access_file(access_path())
    except AccessFileError as exc:
        log.error("access file: %s", exc)
        st.error(f"**Carta's access settings cannot be used.** {display.escape_markdown(str(exc))}")
        st.stop()
    groups = st.user.get("groups") or []
    if isinstance(groups, str):
        groups = [groups]
    return access_for(st.user.get("email"), groups, grants)


def gate() -> Access:
    """app.py, first thing: a visitor who is not signed in, or has no access, sees nothing else."""
    reader = ui.access()
    if reader.local:
        return reader
    if not st.user.is_logged_in:
        st.title("Carta")
        st.markdown("Outcomes of CD19 CAR T-cell therapy in autoimmune disease. "
                    "Sign in to see the data your centre shares with you.")  # fmt: skip
        if st.button("Sign in", type="primary", key="sign-in"):
            st.login()
        st.stop()
    if not reader.anyone:
        st.title("Carta")
        st.warning(
            f"You are signed in as {display.escape_markdown(reader.who)}, but Carta's access "
            "file grants you no role. Ask your Carta administrator for access."
        )
        if st.button("Sign out", key="sign-out"):
            st.logout()
        st.stop()
    if not st.session_state.get(_SIGNED_IN):
        st.session_state[_SIGNED_IN] = True
        record("sign in", detail=reader.describe())
    return reader


def sidebar(reader: Access) -> None:
    with st.sidebar:
        if reader.local:
            st.caption(
                "**Local single-user mode**: no login, every source and action. `./run.sh` "
                "serves it on 127.0.0.1 only; docs/security.md sets up login for a team."
            )
            if str(st.get_option("server.address") or "") not in LOOPBACK:
                st.warning(
                    "This Carta has no login but listens beyond this machine: anyone reaching "
                    "it can see and change everything (docs/security.md)."
                )
            return
        st.caption(f"Signed in as **{display.escape_markdown(reader.who)}**: "
                   f"{display.escape_markdown(reader.describe())}.")  # fmt: skip
        if st.button("Sign out", key="sign-out"):
            st.logout()


def record(action: str, target: str = "", detail: str = "") -> None:
    """Add to the audit trail as this reader. A record that cannot be written stops the page:
    what is audited is not done unaudited."""
    try:
        audit.record(audit.audit_path(store_path()), ui.access().who, action, target, detail)
    except OSError as exc:
        log.error("audit trail cannot be written: %s", exc.strerror)
        st.error("**Carta cannot write its audit trail**, so this action is not available. "
                 "Tell your Carta administrator.")  # fmt: skip
        st.stop()


def viewed(page: str, patient_id: str) -> None:
    """Record that this reader opened a patient on a page, once per session and patient."""
    seen = st.session_state.setdefault(_VIEWED, set())
    if (page, patient_id) not in seen:
        record("view patient", patient_id, page)
        seen.add((page, patient_id))


def audited(make: Callable[[], object], file_name: str) -> Callable[[], object]:
    """A download's deferred content that records the export when the file is made (on click).
    The reader is taken now: the file is made outside the script run."""
    path = audit.audit_path(store_path())
    who = ui.access().who

    def made() -> object:
        audit.record(path, who, "export", file_name)
        return make()

    return made


def require_patients() -> Access:
    """Patient-level pages: a reader who sees aggregates only is told so and stops here."""
    reader = ui.access()
    if reader.aggregate_only:
        st.info(
            "Your role shows cohort aggregates only: open the Cohort explorer or Safety. "
            "Patient-level views need the clinician role for a source."
        )
        st.stop()
    return reader
