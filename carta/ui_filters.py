"""The cohort filters in the sidebar, shared by the cohort explorer and the safety view: the same
widgets under the same keys, so that both pages read and write the same URL state."""

from __future__ import annotations

import streamlit as st

from carta import ui
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


def cohort_filters() -> Filters:
    """Diagnosis, autoantibody, sex, product, source, age and dose; each bound to the URL."""
    ranges = ui.query("cohort_ranges").iloc[0]
    options = _offered(ui.reading_key())

    def offered(field: str) -> list[str]:
        return options.get(field, [])

    with st.sidebar:
        st.subheader("Cohort")
        diagnoses = st.multiselect("Diagnosis", offered("diagnosis"), key="dx",
                                   bind="query-params")  # fmt: skip
        antibodies = st.multiselect(
            "Autoantibody", offered("autoantibody"), key="ab", bind="query-params"
        )
        sexes = st.multiselect("Sex", offered("sex"), key="sex", bind="query-params")
        products = st.multiselect("Product", offered("product"), key="prod",
                                  bind="query-params")  # fmt: skip
        sources = st.multiselect(
            "Cohort / source",
            offered("source"),
            key="src",
            bind="query-params",
            help="Published cases, the synthetic demo cohort and each imported source.",
        )
        age = ui.range_filter("Age (years)", ranges["age_min"], ranges["age_max"], "age")
        dose = ui.range_filter(
            "Cell dose (10⁶ CAR T cells/kg)", ranges["dose_min"], ranges["dose_max"], "dose", 1e6
        )
    return Filters(tuple(diagnoses), tuple(antibodies), tuple(sexes), tuple(products),
                   tuple(sources), age, dose)  # fmt: skip
