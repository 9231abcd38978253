"""The Streamlit side of Carta: store access with caching, and the few widgets every page shares.

Only this module, app.py and pages/ import streamlit; everything below them is plain Python.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import streamlit as st

from carta.store import StoreError, open_read_only, real_path, run_query, store_info, store_path

# Plain words, no emoji: a browser without an emoji font would draw empty boxes.
SOURCE_LABELS = {"published": "published", "synthetic": "synthetic", "site": "imported"}
_BADGE_COLOURS = {"published": "blue", "synthetic": "orange", "site": "green"}


def source_label(kind: str | None) -> str:
    return SOURCE_LABELS.get(kind or "", kind or "unknown source")


def source_badge(kind: str | None) -> str:
    """A coloured Markdown badge, for st.markdown and captions (not for table cells)."""
    return f":{_BADGE_COLOURS.get(kind or '', 'gray')}-badge[{source_label(kind)}]"


def require_shell() -> None:
    """Make sure app.py (navigation, sidebar, store bootstrap) runs around this page.

    Streamlit treats a folder named pages/ beside the main script as its legacy multipage layout
    until st.navigation has run once in the server process. A deep link such as
    /patient?patient=X as the very first request after a start would then run the page alone,
    without app.py. Switching that mode off and rerunning sends the request through app.py, whose
    st.navigation resolves the same page. (Checked against the pinned Streamlit 1.67.)
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def require_store() -> str:
    """The real path of the published store, building the default one on first start.

    Stops the page with a clear message when the store cannot be used.
    """
    path = store_path()
    if not path.exists():
        _build_first_store()
    try:
        real = str(real_path(path))
        _connection(real)
    except StoreError as exc:
        st.error(f"**Carta cannot open its data store.** {exc}")
        st.stop()
    return real


@st.cache_resource(show_spinner=False, max_entries=4)
def _connection(real: str) -> duckdb.DuckDBPyConnection:
    # One read-only connection per store version; each query takes its own cursor from it.
    from pathlib import Path

    return open_read_only(Path(real))


@st.cache_data(show_spinner=False, max_entries=512)
def _cached_query(real: str, name: str, params: tuple[tuple[str, object], ...]) -> pd.DataFrame:
    return run_query(_connection(real), name, **dict(params))


def query(name: str, **params: object) -> pd.DataFrame:
    """Run queries/<name>.sql on the published store; cached per store version and parameters."""
    real = require_store()
    return _cached_query(real, name, tuple(sorted(params.items())))


def store_meta() -> dict[str, str]:
    return store_info(_connection(require_store()))


def _build_first_store() -> None:
    from carta.build import build_store

    with st.status("First start: building the default Carta store…", expanded=True) as status:
        bar = st.progress(0.0, text="published case and synthetic demo cohort")
        try:
            result = build_store(
                store_path(), progress=lambda f, m: bar.progress(min(f, 1.0), text=m)
            )
        except (StoreError, OSError) as exc:
            status.update(label="The default store could not be built", state="error")
            st.error(f"**Carta could not build its data store.** {exc}")
            st.stop()
        status.update(
            label=f"Store version {result.version} ready", state="complete", expanded=False
        )


def sidebar_store_panel() -> None:
    meta = store_meta()
    with st.sidebar:
        st.caption(
            f"Store version {meta.get('store_version', '?')} · "
            f"data cut {meta.get('data_cut', '?')}  \n"
            "Study day 0 = CAR T-cell infusion."
        )
        st.caption(
            f"{source_badge('synthetic')} rows are generated demo data, not patients. "
            f"{source_badge('published')} rows show only what the paper reports."
        )


def synthetic_warning(kind: str | None) -> None:
    if kind == "synthetic":
        st.warning(
            "**Synthetic patient.** Every value on this page is generated demo data "
            "(carta/synth.py), not a real patient.",
        )
