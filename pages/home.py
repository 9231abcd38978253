"""Home: what Carta is, and the patients in the store with their sources."""

from urllib.parse import quote

import streamlit as st

from carta import display, ui

st.title("Carta")
st.markdown(
    "Outcomes of **CD19 CAR T-cell therapy in autoimmune disease**, starting with refractory "
    "juvenile dermatomyositis. Every value carries its source: 📄 **published** cases show only "
    "what the paper reports, 🧪 **synthetic** patients are generated demo data, and imported data "
    "are marked as such. Study day 0 is the day of the CAR T-cell infusion."
)

patients = ui.query("patients_overview")
if patients.empty:
    st.info(
        "This store holds no patients yet. Build the default store with "
        "`python -m carta build`, or import your own data."
    )
    st.stop()

summary = ui.query("store_summary")
columns = st.columns(max(len(summary), 1))
for column, row in zip(columns, summary.itertuples(), strict=False):
    column.metric(
        ui.source_badge(row.source_kind),
        f"{row.patients:,} patients",
        f"{row.observations:,} observations",
        delta_color="off",
    )

table = patients.assign(
    open=["patient?patient=" + quote(pid) for pid in patients["patient_id"]],
    source=[ui.source_badge(kind) for kind in patients["source_kind"]],
    age=[display.age(a) for a in patients["age_years"]],
    follow_up=[
        display.follow_up(d, r)
        for d, r in zip(patients["follow_up_days"], patients["follow_up_reported"], strict=True)
    ],
    autoantibody=patients["autoantibody"].fillna(display.NOT_REPORTED),
    sex=patients["sex"].fillna(display.NOT_REPORTED),
)
st.subheader(f"Patients ({len(patients):,})")
st.dataframe(
    table[
        [
            "open",
            "cohort",
            "source",
            "age",
            "sex",
            "diagnosis",
            "autoantibody",
            "product",
            "follow_up",
        ]
    ],
    hide_index=True,
    width="stretch",
    column_config={
        "open": st.column_config.LinkColumn(
            "Patient", display_text=r"patient=(.*)$", help="Open this patient's observations"
        ),
        "cohort": "Cohort",
        "source": "Source",
        "age": "Age",
        "sex": "Sex",
        "diagnosis": "Diagnosis",
        "autoantibody": "Autoantibody",
        "product": "Product",
        "follow_up": "Follow-up",
    },
)
published = patients[patients["source_kind"] == "published"]
for row in published.itertuples():
    doi = f" [doi:{row.source_doi}](https://doi.org/{row.source_doi})" if row.source_doi else ""
    st.caption(f"📄 {row.patient_id}: {row.source_citation}{doi}")
