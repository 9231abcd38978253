"""The Streamlit side of Carta: store access with caching, and the few widgets every page shares.

Only this module, app.py and pages/ import streamlit; everything below them is plain Python.
"""

from __future__ import annotations

import contextlib
import json

import duckdb
import pandas as pd
import streamlit as st

from carta import display, urlstate
from carta.access import Access
from carta.measures import cohort as cohort_measures
from carta.measures import ctcae
from carta.measures import response as response_rules
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
                  params: tuple[tuple[str, object], ...]) -> pd.DataFrame:  # fmt: skip
    return run_query(_connection(real, scope), name, **dict(params))


def query(name: str, **params: object) -> pd.DataFrame:
    """Run queries/<name>.sql on this run's store version, over the sources this reader may
    see; cached per store version, scope and parameters."""
    real, scope = _reader_connection(name)
    return _cached_query(real, scope, name, tuple(sorted(params.items())))


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
            f"Patient “{display.escape_markdown(requested[:80])}” is not {_patients_shown()}; "
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


def _patients_shown() -> str:
    # Never says whether a patient the reader may not see exists.
    return "in this store" if access().local else "among the patients you may see"


def patient_header(profile: pd.Series) -> None:
    """Who the patient is and where the data come from, in one compact block."""
    facts = {
        "Age": display.age(profile["age_years"]),
        "Sex": display.text_or_not_reported(profile["sex"]),
        "Race": display.text_or_not_reported(profile.get("race")),
        "Autoantibody": display.text_or_not_reported(profile["autoantibody"]),
        "Cell dose": display.cell_dose(profile["cell_dose_per_kg"]),
        "Follow-up": display.follow_up(profile["follow_up_days"], profile["follow_up_reported"]),
    }
    for column, (label, value) in zip(st.columns(len(facts)), facts.items(), strict=True):
        column.caption(label)
        column.markdown(f"**{value}**")
    st.caption(
        f"**Diagnosis:** {display.text_or_not_reported(profile['diagnosis'])} · "
        f"**Prior therapies:** {display.text_or_not_reported(profile['prior_therapies'])} · "
        f"**Product:** {display.text_or_not_reported(profile['product'])}"
    )
    source = f"**Source** {source_badge(profile['source_kind'])} {profile['source_citation']}"
    if not display.is_missing(profile["source_doi"]):
        doi = profile["source_doi"]
        source += f" [doi:{doi}](https://doi.org/{doi})"
    st.caption(source)


def unplaced_course(
    events: pd.DataFrame, adverse: pd.DataFrame, observations: pd.DataFrame,
    undated: pd.DataFrame,
) -> None:  # fmt: skip
    """What the source reports without a day: listed, never placed at a guessed day."""
    esc = display.escape_markdown
    lines = [
        f"- **{esc(row.name)}**"
        + (
            f", {display.dose(row.dose, row.dose_unit, getattr(row, 'dose_basis', None))}"
            if not display.is_missing(row.dose)
            else ""
        )
        + _partial(row, "start")
        + (f" — {esc(row.note)}" if not display.is_missing(row.note) else "")
        for row in events[events["start_day"].isna()].itertuples()
    ]
    lines += [
        f"- **{esc(row.term)}**, "
        + display.ae_grade(row.grade, getattr(row, "severity", None))
        + _partial(row, "onset")
        + (f" — {esc(row.note)}" if not display.is_missing(row.note) else "")
        for row in adverse[adverse["onset_day"].isna()].itertuples()
    ]
    lines += [
        f"- **{row.label}** ({row.specimen.replace('_', ' ')}), {esc(row.timing)} (as reported, no "
        f"exact day): {display.number(row.value, row.unit, row.qualifier)}"
        for row in undated.itertuples()
    ]
    if lines:
        st.markdown("**Reported, day not given**")
        st.markdown("\n".join(lines))
    not_numbers = observations[observations["qualifier"] == "not_detected"]
    if not not_numbers.empty:
        st.markdown("**Reported without a number**")
        st.markdown(
            "\n".join(
                f"- **{row.label}** ({row.specimen.replace('_', ' ')}), day {row.day}: "
                "not detected, no count reported"
                for row in not_numbers.itertuples()
            )
        )


def _partial(row, prefix: str) -> str:
    """', days −19 to 11 (only the month is reported)' for a partial source date, else ''."""
    earliest = getattr(row, f"{prefix}_earliest", None)
    if display.is_missing(earliest):
        return ""
    latest, precision = getattr(row, f"{prefix}_latest", None), getattr(row, f"{prefix}_precision")
    return ", " + display.day_or_range(None, earliest, latest, precision)


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
    from carta.charts.theme import with_arrow_datasets

    return with_arrow_datasets(_build(_data, _options))


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


def values_near_day_table(values: pd.DataFrame, day: int, near: int) -> None:
    st.markdown(f"**Values on study day {day}** (± {near} days)")
    if values.empty:
        st.caption(f"No values recorded within {near} days of day {day}.")
        return
    table = pd.DataFrame(
        {
            "Parameter": values["label"]
            + values["specimen"].map(
                {"blood": "", "bone_marrow": " (bone marrow)", "urine": " (urine)"}
            ),
            "Day": values["day"],
            "Value": [
                display.number(v, u, q)
                for v, u, q in zip(
                    values["value"], values["unit"], values["qualifier"], strict=True
                )
            ],
            "× ULN": values["x_uln"].round(2),
            "CTCAE grade": [
                "" if pd.isna(g) else f"{int(g)}" + (" ⚑" if not pd.isna(d) and bool(d) else "")
                for g, d in zip(values["grade"], values["range_default"], strict=True)
            ],
            "Source": values["source_kind"].map(source_label),
            "Note": values["note"],
        }
    )
    st.dataframe(table, hide_index=True, width="stretch", key=f"near-{day}")
    notes = ["CTCAE v5.0 grade of each value; the toxicity counted is the treatment-emergent one "
             "beside the chart."]  # fmt: skip
    if values["range_default"].fillna(False).astype(bool).any():
        notes.append(f"⚑ {ctcae.DEFAULT_RANGE_NOTE}.")
    if (values["code"] == "CK").any():
        notes.append(ctcae.CK_NOTE)
    st.caption(" ".join(notes))


def kinetics_figures(
    observations: pd.DataFrame, stored: pd.DataFrame, findings: pd.DataFrame, depletion: float,
    recovery: float,
) -> None:  # fmt: skip
    """CAR T kinetics as the derived table holds them, and B-cell aplasia by the same rule as the
    case summary with the page's thresholds; what the source reports in words where it gives no
    day or count (a published case's "B-cell recovery")."""
    from carta.measures import kinetics
    from carta.measures import summary as summary_rules

    # The rule takes many patients; the page's rows are one patient's (the query has no id column).
    blood = observations[observations["specimen"] == "blood"].assign(patient_id="shown")
    cd19 = kinetics.bcell_aplasia(
        blood[blood["code"] == "CD19"], depletion_threshold=depletion, recovery_threshold=recovery
    )
    lines = []
    if not stored.empty and not display.is_missing(stored.iloc[0]["cmax"]):
        k = stored.iloc[0]
        lines.append(
            f"- **CAR T Cmax** {display.number(k['cmax'], '{cells}/uL')}, "
            f"Tmax {display.study_day(k['tmax'])}"
        )
        lines += [f"- **{label}** {text}" for label, text in summary_rules.car_t_lines(stored)]
    if not cd19.empty:
        for figure in summary_rules.aplasia_figures(cd19, findings, depletion, recovery):
            detail = (
                f" — {figure.detail}" if figure.detail and "setting" not in figure.detail else ""
            )
            lines.append(f"- **{figure.label}** {figure.value}{detail}")
    if lines:
        st.markdown("**Cellular kinetics**")
        st.markdown("\n".join(lines))
        st.caption(
            f"Aplasia: below {depletion:g}, recovery from {recovery:g} cells/µL on two "
            "consecutive values — settings of an unconfirmed rule. AUC: linear trapezoid from "
            "day 0 (no CAR T cells before the infusion, a setting), not across gaps of more than "
            f"{store_meta().get('derived_auc_max_gap_days', '14')} days (a setting); "
            "docs/rules.md."
        )


def recovery_figures(recovery: pd.DataFrame) -> None:
    """Neutrophil recovery and CK normalisation from the derived table patient_recovery."""
    if recovery.empty:
        return
    r = recovery.iloc[0]
    lines = []
    if not display.is_missing(r["anc_nadir"]):
        lines.append(
            f"- **ANC nadir** {display.number(r['anc_nadir'], '10*9/L')} "
            f"on {display.study_day(r['anc_nadir_day'])}"
        )
        if r["severe_neutropenia"]:
            recovered = (
                f"recovered {display.study_day(r['anc_recovery_day'])}"
                if not display.is_missing(r["anc_recovery_day"])
                else "not recovered among the recorded values"
            )
            lines.append(
                f"- **ANC < 0.5** for {int(r['days_anc_below_0_5_d0_30'])} of days 0–30; "
                f"{recovered}"
            )
    if not display.is_missing(r["ck_normal_at_last"]):
        lines.append(
            f"- **CK ≤ ULN** for good from {display.study_day(r['ck_sustained_normal_day'])}"
            if r["ck_normal_at_last"]
            else "- **CK** above the ULN at the last value"
        )
    if lines:
        st.markdown("**Recovery**")
        st.markdown("\n".join(lines))


def response_note(response: pd.DataFrame, measure_set: str, population: str) -> None:
    """Say which response rules and settings the response strip shows."""
    if response.empty:
        return
    cuts = "/".join(f"{v:g}" for v in response_rules.THRESHOLDS[population].values())
    st.caption(
        "Response strip: 2016 ACR/EULAR Total Improvement Score against baseline, "
        f"{measure_set} core set, {population} thresholds ({cuts}); a score and category only "
        "when all six components are present, otherwise “incomplete (n of 6)”. PRINTO CID: at "
        "least 3 of CK ≤ 150 U/L, CMAS ≥ 48, MMT8 ≥ 78, PGA ≤ 0.2 cm. The enzyme slot uses our "
        "reading of the formula (partly confirmed). Rules as implemented: docs/rules.md."
    )


# --- cohort explorer --------------------------------------------------------------------------


def range_filter(
    label: str, low: object, high: object, key: str, unit: float = 1.0
) -> tuple[float | None, float | None]:
    """A range slider over [low, high] shown in multiples of `unit`, in the URL; (None, None)
    while it spans the whole range, so that patients whose value is not reported stay in."""
    if pd.isna(low) or pd.isna(high) or float(low) == float(high):
        return (None, None)
    low, high = float(low) / unit, float(high) / unit
    st.session_state[f"{key}-full"] = (low, high)  # what its chip puts back
    chosen = st.slider(label, low, high, (low, high), key=key, bind="query-params")
    if chosen == (low, high):
        return (None, None)
    return (chosen[0] * unit, chosen[1] * unit)


@st.cache_data(show_spinner="Recomputing the response criteria with the edited windows…",
               max_entries=8)  # fmt: skip
def _response_with_windows(
    reading: tuple, windows: tuple, everyone: tuple[str, ...]
) -> pd.DataFrame:
    from carta import derive

    values = query(
        "cohort_values_at_timepoints", windows=[dict(w) for w in windows],
        codes=derive.RESPONSE_CODES, patients=list(everyone),
    )  # fmt: skip
    meta = store_meta()
    return derive.response_rows(
        values,
        meta.get("derived_tis_measure_set", derive.DEFAULT_SETTINGS["tis_measure_set"]),
        meta.get("derived_tis_population", derive.DEFAULT_SETTINGS["tis_population"]),
        baseline=dict(windows[0])["name"],  # the first window is the baseline
    )


def cohort_response(patients: list[str], windows: list[dict], edited: bool) -> pd.DataFrame:
    """TIS and CID per patient and window: the store's table, or with edited windows computed
    again (for every patient once per set of windows, then cached)."""
    nominal = {w["name"]: w["nominal_day"] for w in windows}
    if not edited:
        stored = query("cohort_response", patients=patients)
        return stored.assign(nominal_day=stored["timepoint"].map(nominal))
    everyone = tuple(query("cohort_patients", **cohort_measures.Filters().params())["patient_id"])
    frozen = tuple(tuple(sorted(w.items())) for w in windows)
    rows = _response_with_windows(reading_key(), frozen, everyone)
    return rows[rows["patient_id"].isin(set(patients))]


# The chart whose selection a chip clears gets a new key: a new widget, with no selection left in
# the browser, so that picking the same thing again is a change again.
_SELECTION_CHARTS = {"brush": "distribution", "cat": "response", "lanes": "swimmer"}


def chart_key(name: str) -> str:
    return f"{name}-{st.session_state.get(f'{name}-generation', 0)}"


def take_selection(name: str, param: str, url_key: str, to_text) -> None:
    """Copy a chart's selection of the last run into the URL, once per change: an empty selection
    clears the URL only when it follows a selection (before any interaction every selection is
    empty, and the URL's must then stand)."""
    key = chart_key(name)
    state = st.session_state.get(key)
    selection = state.get("selection", {}).get(param) if state else None
    current = json.dumps(selection, sort_keys=True, default=str) if selection else ""
    last = st.session_state.get(f"{key}-last", "")
    if current == last:
        return
    st.session_state[f"{key}-last"] = current
    if selection:
        st.query_params[url_key] = to_text(selection)
    elif url_key in st.query_params:
        del st.query_params[url_key]


def brush_text(selection: dict) -> str:
    (x0, x1), (low, high) = selection["jittered"], selection["plotted"]
    return urlstate.format_brush((x0, x1, low, high))


def category_text(selection: list[dict]) -> str:
    return f"{selection[0]['timepoint']}:{selection[0]['category']}"


def lanes_text(selection: list[dict]) -> str:
    return ",".join(str(item["patient_id"]) for item in selection)


_FILTER_KEYS = {"dx": "Diagnosis", "ab": "Autoantibody", "sex": "Sex", "prod": "Product",
                "src": "Source"}  # fmt: skip


def _reset(key: str, value: object) -> None:
    st.session_state[key] = value


def _drop_url(key: str) -> None:
    if key in st.query_params:
        del st.query_params[key]
    if key in _SELECTION_CHARTS:
        generation = f"{_SELECTION_CHARTS[key]}-generation"
        st.session_state[generation] = st.session_state.get(generation, 0) + 1


def cohort_chips(filters, selections, shown: pd.Series, total: int, filtered: int) -> None:
    """'N of M patients' (with how many are synthetic, published or imported) and one removable
    chip per active filter and chart selection. `shown`: the source kind of each patient shown."""
    kinds = shown.value_counts()
    st.markdown(
        f"**{len(shown):,} of {total:,} patients**"
        + (f" · {filtered:,} pass the filters" if len(shown) != filtered else "")
        + "".join(f" · {source_badge(kind)} {kinds[kind]:,}" for kind in kinds.index)
    )
    if "synthetic" in kinds.index:
        st.caption("Synthetic patients are generated demo data, not patients; every export marks "
                   "their rows as synthetic.")  # fmt: skip
    chips = []
    for key, label in _FILTER_KEYS.items():
        for value in st.session_state.get(key) or []:
            rest = [v for v in st.session_state[key] if v != value]
            chips.append((f"{label}: {value}", f"chip-{key}-{value}", _reset, (key, rest)))
    ranges = (
        ("age", "Age", filters.age, 1.0, ""),
        ("dose", "Dose", filters.dose, 1e6, " × 10⁶/kg"),
    )
    for key, label, (low, high), unit, suffix in ranges:
        if low is not None:
            text = f"{label}: {low / unit:g}–{high / unit:g}{suffix}"
            chips.append((text, f"chip-{key}", _drop_slider, (key,)))
    described = {
        "brush": lambda b: f"{b[2]:.4g}–{b[3]:.4g}",
        "category": lambda c: f"{c[1]} at {c[0]}",
        "lanes": lambda lanes: ", ".join(lanes) if len(lanes) <= 3 else f"{len(lanes)} patients",
    }
    url_keys = {"brush": "brush", "category": "cat", "lanes": "lanes"}
    for name, value in selections.active().items():
        text = f"{cohort_measures.SELECTION_LABELS[name]}: {described[name](value)}"
        chips.append((text, f"chip-{name}", _drop_url, (url_keys[name],)))
    if not chips:
        st.caption("No filter or selection: every patient is counted. Filters are in the sidebar.")
        return
    columns = st.columns(min(len(chips), 6))
    for index, (text, key, action, args) in enumerate(chips):
        columns[index % len(columns)].button(
            f"{text} ✕", key=key, on_click=action, args=args, help="Remove"
        )


def _drop_slider(key: str) -> None:
    # A bound widget's URL key cannot be deleted: set the widget back to its whole range, and the
    # binding drops the key.
    st.session_state[key] = st.session_state[f"{key}-full"]


def cohort_downloads(values: pd.DataFrame, code: str, patients: list[str]) -> None:
    """The values shown, as shown and in ADaM BDS style, and every observation of the patients
    shown as CSV or Parquet (streamed from DuckDB when clicked)."""
    from carta import dictionary, exports

    st.subheader("Take it away")
    sources = query("source_kinds").set_index("source_id")["kind"].to_dict()
    adam = cohort_measures.adam_bds(values, dictionary.parameters(), sources)
    synthetic = "synthetic" in set(adam["SRCKIND"])
    stem = f"carta-cohort-{code.lower()}" + ("-synthetic" if synthetic else "")
    if synthetic:
        st.caption("Rows from the synthetic demo cohort say so in their SRCKIND / source_kind "
                   "column, and the file names say so too.")  # fmt: skip
    columns = st.columns(3)
    columns[0].download_button(
        f"Values shown, ADaM BDS (CSV, {len(adam):,} rows)",
        audited(lambda: exports.csv_text(adam), f"{stem}-adam.csv"),  # made when clicked
        on_click="ignore",
        file_name=f"{stem}-adam.csv",
        mime="text/csv",
        key="download-adam",
    )
    formats = (("csv", "text/csv"), ("parquet", "application/vnd.apache.parquet"))
    for column, (file_format, mime) in zip(columns[1:], formats, strict=True):
        column.download_button(
            f"All observations of these {len(patients):,} patients ({file_format.upper()})",
            audited(
                lambda f=file_format: stream_query(
                    "cohort_observations", {"patients": patients}, f
                ),
                f"{stem}-observations.{file_format}",
            ),
            file_name=f"{stem}-observations.{file_format}",
            mime=mime,
            key=f"download-long-{file_format}",
            on_click="ignore",
        )
    with st.expander(f"Values shown ({len(adam):,} rows)"):
        st.caption("docs/data-dictionary.md describes every column (ADaM BDS export).")
        st.dataframe(adam.head(1000), hide_index=True, key="values-shown")
        if len(adam) > 1000:
            st.caption(f"The first 1,000 of {len(adam):,} rows; the download holds them all.")


# --- one patient's course, for the trajectory and the case summary ---------------------------


def trajectory_data(patient_id: str, profile: pd.Series, baseline_from: int = -60,
                    baseline_to: int = 0):  # fmt: skip
    from carta import case

    return case.trajectory_data(query, patient_id, profile, baseline_from, baseline_to)


# --- case summary -------------------------------------------------------------------------------


def enter_presentation() -> None:
    st.query_params["present"] = "1"


def leave_presentation() -> None:
    if "present" in st.query_params:
        del st.query_params["present"]


def presentation_style() -> None:
    """No sidebar, no toolbar, larger type: the page as a projector at 1920 x 1080 shows it."""
    st.html(
        """<style>
        [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
        [data-testid="stSidebarNav"], [data-testid="stHeader"], [data-testid="stToolbar"],
        [data-testid="stExpandSidebarButton"] { display: none !important; }
        [data-testid="stMainBlockContainer"] { max-width: 1840px; padding-top: 1.5rem; }
        .stApp p, .stApp li, .stApp td { font-size: 1.3rem; }
        .stApp h2 { font-size: 2.6rem; }
        .stApp h3 { font-size: 2rem; }
        </style>"""
    )


def requested_patient() -> str | None:
    """The patient in the URL, or the first (the published case, listed first) when none is."""
    requested = st.query_params.get("patient")
    if requested is not None and not query("patient_profile", patient_id=requested).empty:
        return requested
    ids = query("patient_ids", search="", max_rows=1)["patient_id"]
    if requested is not None:
        st.warning(f"Patient “{display.escape_markdown(requested[:80])}” is not "
                   f"{_patients_shown()}; showing the first patient.")  # fmt: skip
    return None if ids.empty else ids.iloc[0]


def summary_header(items: list[tuple[str, str]]) -> None:
    first, rest = items[:4], items[4:]
    for column, (label, value) in zip(st.columns(len(first)), first, strict=True):
        column.caption(label)
        column.markdown(f"**{value}**")
    st.markdown("  \n".join(f"**{label}:** {value}" for label, value in rest))


def figure_cards(figures, columns: int = 4) -> None:
    """The key figures as cards; a figure the source does not report says so, greyed."""
    for start in range(0, len(figures), columns):
        for column, figure in zip(st.columns(columns), figures[start : start + columns],
                                  strict=False):  # fmt: skip
            with column.container(border=True):
                st.caption(figure.label)
                value = figure.value if figure.reported else f":gray[{figure.value}]"
                st.markdown(f"**{value}**")
                if figure.detail:
                    st.caption(figure.detail)


def summary_charts(specs: dict[str, dict], columns: int = 2) -> None:
    """The course lane across the page, then the other charts side by side; drawn with the
    export theme (Streamlit's own switched off) so that the screen and the files agree."""
    names = list(specs)
    if "course" in specs:
        st.vega_lite_chart(specs["course"], theme=None, key="summary-course")
        names.remove("course")
    for start in range(0, len(names), columns):
        for column, name in zip(st.columns(columns), names[start : start + columns], strict=False):
            column.vega_lite_chart(specs[name], theme=None, key=f"summary-{name}")


def adverse_event_table(adverse: pd.DataFrame) -> None:
    if adverse.empty:
        st.info("No adverse event is reported for this patient.")
        return
    table = pd.DataFrame(
        {
            "Event": adverse["term"],
            "Grade": [display.ae_grade(g, v) for g, v in
                      zip(adverse["grade"], adverse["severity"], strict=True)],
            "Grading": adverse["grading_system"],
            "When": [
                display.day_span(s, e) if not display.is_missing(s)
                else display.day_or_range(None, lo, hi, p)
                for s, e, lo, hi, p in zip(
                    adverse["onset_day"], adverse["end_day"],
                    adverse.get("onset_earliest", adverse["onset_day"]),
                    adverse.get("onset_latest", adverse["onset_day"]),
                    adverse.get("onset_precision", adverse["onset_day"]), strict=True)
            ],
            "Note": adverse["note"].fillna(""),
        }
    )  # fmt: skip
    st.dataframe(table, hide_index=True, key="summary-adverse")


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


def summary_exports(document, specs: dict[str, dict], titles: dict[str, str], label: str) -> None:
    """Every chart as PNG and SVG, the whole summary as PDF and PPTX; each made when clicked."""
    from carta import documents, exports

    stem = f"carta-{_slug(label)}"
    st.subheader("Export")
    st.caption(
        "Charts at presentation resolution (1,920 px wide) and as SVG, drawn with the theme "
        "above; the summary as PDF (title page, then a chart a page) and as slides. Every file "
        "carries the footnote."
    )
    whole = st.columns(2)
    whole[0].download_button(
        "Summary as PDF", audited(lambda: documents.summary_pdf(document), f"{stem}.pdf"),
        file_name=f"{stem}.pdf",
        mime="application/pdf", key="export-pdf", on_click="ignore", type="primary",
    )  # fmt: skip
    whole[1].download_button(
        "Summary as slides (PPTX)",
        audited(lambda: documents.summary_pptx(document), f"{stem}.pptx"),
        file_name=f"{stem}.pptx", key="export-pptx", on_click="ignore",
        mime="application/vnd.openxmlformats-officedocument.presentationml.presentation",
    )  # fmt: skip
    for name, spec in specs.items():
        cells = st.columns([3, 1, 1])
        cells[0].markdown(titles[name])
        cells[1].download_button(
            "PNG", audited(lambda s=spec: exports.chart_png(s, 1920), f"{stem}-{name}.png"),
            file_name=f"{stem}-{name}.png",
            mime="image/png", key=f"export-png-{name}", on_click="ignore",
        )  # fmt: skip
        cells[2].download_button(
            "SVG", audited(lambda s=spec: exports.chart_svg(s, 1920), f"{stem}-{name}.svg"),
            file_name=f"{stem}-{name}.svg",
            mime="image/svg+xml", key=f"export-svg-{name}", on_click="ignore",
        )  # fmt: skip


# A resource, not data: the case is shared read-only by the sessions that show it, not unpickled
# for each of them (measured at a twentieth of the server's time under load, bench/load.py).
@st.cache_resource(show_spinner=False, max_entries=32)
def _case(reading: tuple, patient_id: str, presenting: bool):
    from carta import case

    return case.load_case(query, store_meta(), patient_id, presenting)


@st.cache_resource(show_spinner=False, max_entries=32)
def _shown_specs(reading: tuple, patient_id: str, presenting: bool) -> dict[str, dict]:
    from carta.charts.theme import with_arrow_datasets

    case = _case(reading, patient_id, presenting)
    return {name: with_arrow_datasets(spec) for name, spec in case.specs.items()}


def case_chart_specs(patient_id: str, presenting: bool) -> dict[str, dict]:
    """The case summary's charts as drawn on screen: its specs with Arrow datasets, made once
    per case (the files use the case's plain specs)."""
    return _shown_specs(reading_key(), patient_id, presenting)


def case_summary(patient_id: str, presenting: bool):
    """One patient's case summary (carta/case.py), built once per store version and mode."""
    return _case(reading_key(), patient_id, presenting)
