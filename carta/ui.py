"""The Streamlit side of Carta: store access with caching, and the few widgets every page shares.

Each view's own widgets are in a module of their own: ui_trajectory, ui_summary, ui_cohort,
ui_filters (the cohort filters and selections, shared by the cohort explorer and the safety
view), ui_safety, ui_data, ui_aggregates (a viewer's tables), ui_access (sign-in and the audit),
ui_records. Only these modules, app.py and pages/ import streamlit; everything below them is plain
Python.
"""

from __future__ import annotations

import contextlib

import duckdb
import pandas as pd
import streamlit as st

from carta import display, urlstate
from carta.access import Access
from carta.store import (
    StoreError,
    clean_after_killed_writers,
    open_scoped,
    reads_patients,
    real_path,
    run_query,
    store_info,
    store_path,
)

# Plain words, no emoji: a browser without an emoji font would draw empty boxes.
SOURCE_LABELS = {"published": "published", "synthetic": "synthetic", "site": "imported"}
_BADGE_COLOURS = {"published": "blue", "synthetic": "orange", "site": "green"}


def source_label(kind: str | None) -> str:
    return SOURCE_LABELS.get(kind or "", kind or "unknown source")


def source_badge(kind: str | None) -> str:
    """A coloured Markdown badge, for st.markdown and captions (not for table cells)."""
    return f":{_BADGE_COLOURS.get(kind or '', 'gray')}-badge[{source_label(kind)}]"


# Printing a page gives its content, not the app around it: no sidebar, header or controls, and
# each chart on a page of its own, shrunk to fit one (a tall trajectory is one chart, one page).
PRINT_STYLE = """<style>
@media print {
  [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
  [data-testid="stExpandSidebarButton"], [data-testid="stHeader"], [data-testid="stToolbar"],
  [data-testid="stDecoration"], [data-testid="stStatusWidget"], [data-testid="stExpander"],
  [data-testid="stButton"], [data-testid="stDownloadButton"], [data-testid="stPopover"],
  [data-testid="stSelectbox"], [data-testid="stMultiSelect"], [data-testid="stNumberInput"],
  [data-testid="stSlider"], [data-testid="stCheckbox"], [data-testid="stButtonGroup"],
  [data-testid="stTextInput"], [data-testid="stFileUploader"], [data-testid="stRadio"],
  [data-testid="stDateInput"], [data-testid="stBidiComponentIsolated"]
    { display: none !important; }
  [data-testid="stMain"], [data-testid="stAppViewContainer"] { overflow: visible !important; }
  [data-testid="stMainBlockContainer"] { max-width: none !important; padding: 0 !important; }
  [data-testid="stVegaLiteChart"] { break-before: page; break-inside: avoid; }
  [data-testid="stVegaLiteChart"] svg, [data-testid="stVegaLiteChart"] canvas
    { max-height: 96vh !important; max-width: 100% !important; width: auto !important;
      height: auto !important; }
}
</style>"""


def page_style() -> None:
    """app.py: the print style, on every page."""
    st.html(PRINT_STYLE)


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


# One render reads one store version from start to end, and one reader's access: both are fixed
# by app.py at the start of every run (begin_run) and kept in the session for that run.
_RUN_STORE = "_carta_run_store"
_RUN_ACCESS = "_carta_run_access"


def begin_run() -> None:
    """app.py, before anything reads: forget the last run's store version and reader."""
    st.session_state.pop(_RUN_STORE, None)
    st.session_state.pop(_RUN_ACCESS, None)


def check_url() -> None:
    """app.py, before any widget reads the URL: drop the values no view could use, saying which
    parameter was wrong (never echoing it raw), so that a link cannot break a page."""
    problems = urlstate.url_problems(st.query_params.to_dict())
    for key, message in problems.items():
        # A value bound to a widget stays: the widget checks it (numbers: carta/urlstate.py).
        with contextlib.suppress(st.errors.StreamlitAPIException):
            del st.query_params[key]
        st.warning(message)


def require_store() -> str:
    """The real path of the store version this run reads, building the default one on first start.

    Stops the page with a clear message when the store cannot be used.
    """
    pinned = st.session_state.get(_RUN_STORE)
    if pinned is not None:
        return pinned
    path = store_path()
    _started(str(path))
    if not path.exists():
        _build_first_store()
    try:
        real = str(real_path(path))
        _connection(real, None)
    except StoreError as exc:
        st.error(f"**Carta cannot open its data store.** {exc}")
        st.stop()
    st.session_state[_RUN_STORE] = real
    return real


def access() -> Access:
    """Who is reading this run, and what they may see (carta/access.py)."""
    found = st.session_state.get(_RUN_ACCESS)
    if found is None:
        from carta import ui_access

        found = st.session_state[_RUN_ACCESS] = ui_access.current_access()
    return found


def _scope(sources: frozenset[str] | None) -> tuple[str, ...] | None:
    return None if sources is None else tuple(sorted(sources))


def reading_key() -> tuple:
    """What a cached result read from the store depends on: the version and the reader's scopes.
    Every cache of results derived from queries takes it, so that no reader gets another's."""
    reader = access()
    return (require_store(), _scope(reader.patient_sources), _scope(reader.cohort_sources))


@st.cache_resource(show_spinner=False)
def _started(path: str) -> bool:
    """Once per server process and store: clear what killed writers and uploads left behind."""
    from pathlib import Path

    from carta.uploads import remove_orphaned_uploads

    clean_after_killed_writers(Path(path))
    remove_orphaned_uploads()
    return True


@st.cache_resource(show_spinner=False, max_entries=16)
def _connection(real: str, scope: tuple[str, ...] | None) -> duckdb.DuckDBPyConnection:
    # One read-only connection per store version and scope; each query takes its own cursor.
    from pathlib import Path

    return open_scoped(Path(real), None if scope is None else frozenset(scope))


def _reader_connection(name: str) -> tuple[str, tuple[str, ...] | None]:
    """The store version and the scope queries/<name>.sql is run over for this reader: the
    sources whose patients they may see for a patient-level query, else the cohort's sources."""
    reader = access()
    sources = reader.patient_sources if reads_patients(name) else reader.cohort_sources
    return require_store(), _scope(sources)


@st.cache_data(show_spinner=False, max_entries=512)
def _cached_query(real: str, scope: tuple[str, ...] | None, name: str,
                  key: tuple[tuple[str, object], ...], _params: dict) -> pd.DataFrame:  # fmt: skip
    return run_query(_connection(real, scope), name, **_params)


def query(name: str, **params: object) -> pd.DataFrame:
    """Run queries/<name>.sql on this run's store version, over the sources this reader may
    see; cached per store version, scope and parameters."""
    real, scope = _reader_connection(name)
    return _cached_query(real, scope, name, parameters_key(params), params)


def parameters_key(params: dict) -> tuple[tuple[str, object], ...]:
    """The parameters as the query cache's key, a list of strings (a cohort's patient ids) by
    its digest: Streamlit's hashing of 10,000 ids took 0.1 s on every call, the digest takes a
    fraction of a millisecond. The lengths of the strings are hashed with them, so that two lists
    have the same digest only if they are the same list."""
    import hashlib

    def key(value: object) -> object:
        if isinstance(value, list) and len(value) > 64 and all(map(str.__instancecheck__, value)):
            digest = hashlib.blake2b(digest_size=32)
            digest.update(",".join(map(str, map(len, value))).encode())
            digest.update("".join(value).encode("utf-8", "surrogatepass"))
            return ("digest", len(value), digest.hexdigest())
        return value

    return tuple(sorted((name, key(value)) for name, value in params.items()))


def stream_query(name: str, params: dict, file_format: str) -> bytes:
    """A download of queries/<name>.sql's rows, read over this reader's scope when clicked.
    DuckDB streams them into a temporary file, deleted once read: Streamlit serves a download
    from bytes (it refuses an open file of the kind `tempfile` makes)."""
    from carta import exports

    real, scope = _reader_connection(name)
    with exports.stream_query(_connection(real, scope), name, params, file_format) as written:
        return written.read()


def audited(make, file_name: str):
    """A download's content, recorded in the audit trail when it is made (carta/ui_access.py)."""
    from carta import ui_access

    return ui_access.audited(make, file_name)


def store_meta() -> dict[str, str]:
    return store_info(_connection(require_store(), None))


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
            f"updated {meta.get('data_cut', '?')}  \n"
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


# Above this many patients the chooser searches instead of listing every id: a select box of ten
# thousand options would be sent to the browser on every rerun.
MAX_CHOICES = 100


def choose_patient() -> str | None:
    """The patient chosen in the URL (?patient=...) or the select box; None for an empty store."""
    total = int(query("patient_count")["patients"].iloc[0])
    if total == 0:
        st.info(
            "This store holds no patients yet. Build the default store with "
            "`python -m carta build`, or import your own data."
        )
        return None
    requested = st.query_params.get("patient")
    known = requested is not None and not query("patient_profile", patient_id=requested).empty
    if requested is not None and not known:
        st.warning(
            f"Patient “{display.escape_markdown(requested[:80])}” is not {patients_shown()}; "
            "showing the first patient instead."
        )
        del st.query_params["patient"]
    search = ""
    if total > MAX_CHOICES:
        search = st.text_input(
            "Find a patient", key="find", placeholder=f"part of an id ({total:,} patients)"
        ).strip()
    ids = query("patient_ids", search=search, max_rows=MAX_CHOICES)["patient_id"].tolist()
    if known and requested not in ids:
        ids.insert(0, requested)
    if not ids:
        st.info(f"No patient id contains “{search}”.")
        return None
    # No format_func: a bound widget writes the displayed text to the URL, which should hold ids.
    return st.selectbox("Patient", ids, key="patient", bind="query-params")


def patients_shown() -> str:
    # Never says whether a patient the reader may not see exists.
    return "in this store" if access().local else "among the patients you may see"


def reported_findings(findings: pd.DataFrame) -> None:
    if findings.empty:
        return
    st.markdown("**Reported findings** (in words, without numbers)")
    st.markdown(
        "\n".join(
            f"- *{display.escape_markdown(row.timing)}:* {display.escape_markdown(row.statement)} "
            f"({display.escape_markdown(row.domains)})"
            for row in findings.itertuples()
        )
    )


# Resources: each spec is shared read-only by the sessions that draw it (Streamlit copies a spec
# before it changes it), never unpickled per session; its datasets already Arrow tables.
@st.cache_resource(show_spinner=False, max_entries=64)
def _spec(reading: tuple, key: object, _build, _data, _options) -> dict:
    from carta.charts.theme import arrow_datasets

    return arrow_datasets(lambda: _build(_data, _options))


def cached_spec(build, data, options, cache_key: object) -> dict:
    """A chart's Vega-Lite spec, built once per store version and `cache_key`: building Altair
    charts dominates a rerun once the queries are cached."""
    return _spec(reading_key(), cache_key, build, data, options)


def page_chart(name: str, build, state: tuple) -> dict:
    """A chart of a page that is a function of the store version, the reader and `state` (the
    cohort explorer's and the safety view's filters, settings and selections): its spec built
    once per such state by `build` (a spec or an Altair chart) and shared by every session that
    shows it. `state` is the widgets' values, not the query string: on a rerun after a widget
    changed, the server's copy of the query string can still hold the old value."""
    return cached_spec(lambda _data, _options: as_spec(build()), None, None,
                       cache_key=(name, state))  # fmt: skip


@st.cache_resource(show_spinner=False, max_entries=256)
def _page_value(reading: tuple, key: tuple, _compute):
    return _compute()


def page_value(name: str, compute, state: tuple):
    """A table of a page that is a function of the store version, the reader and `state` (as
    for `page_chart`): computed once per such state by `compute` and shared, read-only, by every
    session that shows it. Under load the pandas work of these pages, not their queries, filled
    the server's one core (bench/load.py)."""
    return _page_value(reading_key(), (name, state), compute)


def as_spec(chart) -> dict:
    """A Vega-Lite spec from a spec or an Altair chart (not validated: the tests validate)."""
    return chart if isinstance(chart, dict) else chart.to_dict(validate=False)
