"""The cohort filters in the sidebar, shared by the cohort explorer and the safety view: the same
widgets under the same keys, so that both pages read and write the same URL state; the charts'
selections taken into the URL; the chips that name and remove each filter and selection."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from carta import ui, urlstate
from carta.measures import cohort as cohort_measures
from carta.measures.cohort import Filters


def patients_in_store() -> int:
    """How many patients the store holds; an empty store stops the page with a message."""
    total = int(ui.query("cohort_ranges")["patients"].iloc[0])
    if total == 0:
        st.info("This store holds no patients yet: import data on the Data page.")
        st.stop()
    return total


# A resource: read on every run of two pages, the same for every session of a reader.
@st.cache_resource(show_spinner=False, max_entries=16)
def _offered(reading: tuple) -> dict[str, list[str]]:
    """The values each filter offers, by field."""
    options = ui.query("cohort_filter_options")
    return {field: rows["value"].tolist() for field, rows in options.groupby("field", sort=False)}


# The multi-select filters: URL key, the field of queries/cohort_filter_options.sql, the label.
CHOICE_FILTERS = (
    ("ind", "indication", "Indication"),
    ("dx", "diagnosis", "Diagnosis"),
    ("ab", "autoantibody", "Autoantibody"),
    ("sex", "sex", "Sex"),
    ("prod", "product", "Product"),
    ("src", "source", "Cohort / source"),
)


def unknown_filter_values(options: dict[str, list[str]]) -> None:
    """A link's filter value that this store does not offer is said, not dropped in silence (the
    filter's box cannot hold it, so it filters nothing)."""
    for key, field, label in CHOICE_FILTERS:
        unknown = [v for v in st.query_params.get_all(key) if v not in options.get(field, [])]
        if unknown:
            values = ", ".join(f"“{urlstate.shown(v)}”" for v in unknown[:5])
            st.warning(f"{label} {values} in the link is not among this store's values, so it "
                       "does not filter.")  # fmt: skip


def cohort_filters() -> Filters:
    """Diagnosis, autoantibody, sex, product, source, age and dose; each bound to the URL."""
    ranges = ui.query("cohort_ranges").iloc[0]
    options = _offered(ui.reading_key())

    def offered(field: str) -> list[str]:
        return options.get(field, [])

    unknown_filter_values(options)
    with st.sidebar:
        st.subheader("Cohort")
        # The codes themselves are the options (a link carries them as they are), named in the
        # help: a format_func would put the long names in the link instead.
        indications = st.multiselect(
            "Indication", offered("indication"), key="ind", bind="query-params",
            help="; ".join(indication_label(c) for c in offered("indication"))
            + ". The indication decides the response and remission definitions shown.",
        )  # fmt: skip
        diagnoses = st.multiselect("Diagnosis", offered("diagnosis"), key="dx", bind="query-params")
        antibodies = st.multiselect(
            "Autoantibody", offered("autoantibody"), key="ab", bind="query-params"
        )
        sexes = st.multiselect("Sex", offered("sex"), key="sex", bind="query-params")
        products = st.multiselect("Product", offered("product"), key="prod", bind="query-params")
        sources = st.multiselect(
            "Cohort / source",
            offered("source"),
            key="src",
            bind="query-params",
            help="Published cases, the synthetic demo cohort and each imported source.",
        )
        age = range_filter("Age (years)", ranges["age_min"], ranges["age_max"], "age")
        dose = range_filter(
            "Cell dose (10⁶ CAR T cells/kg)", ranges["dose_min"], ranges["dose_max"], "dose", 1e6
        )
    return Filters(
        tuple(diagnoses),
        tuple(antibodies),
        tuple(sexes),
        tuple(products),
        tuple(sources),
        age,
        dose,
        tuple(indications),
    )


def indication_label(code: str) -> str:
    """'SLE' -> 'SLE: Systemic lupus erythematosus (incl. lupus nephritis)'."""
    from carta import dictionary

    labels = dictionary.indications().set_index("indication")["label"]
    return f"{code}: {labels[code]}" if code in labels.index else code


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


_FILTER_KEYS = {
    "ind": "Indication",
    "dx": "Diagnosis",
    "ab": "Autoantibody",
    "sex": "Sex",
    "prod": "Product",
    "src": "Source",
}


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
        + "".join(f" · {ui.source_badge(kind)} {kinds[kind]:,}" for kind in kinds.index)
    )
    if "synthetic" in kinds.index:
        st.caption(
            "Synthetic patients are generated demo data, not patients; every export marks "
            "their rows as synthetic."
        )
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
