"""Home: what Carta is, and the patients in the store with their sources."""

from urllib.parse import quote

import streamlit as st

from carta import display, ui

ui.require_shell()

# The list is for finding a patient, not for shipping a registry to the browser.
MAX_ROWS = 500

st.title("Carta")
st.markdown(
    "Outcomes of **CD19 CAR T-cell therapy in autoimmune disease**, starting with refractory "
    "juvenile dermatomyositis. Every value carries its source: "
    f"{ui.source_badge('published')} cases show only what the paper reports, "
    f"{ui.source_badge('synthetic')} patients are generated demo data, and "
    f"{ui.source_badge('site')} data come from a centre's own records. "
    "Study day 0 is the day of the CAR T-cell infusion."
)

VIEWS = (
    ("pages/trajectory.py", "Patient trajectory",
     "One patient: every chart on one study-day axis, linked."),
    ("pages/summary.py", "Case summary",
     "One patient on one page for a meeting; presentation mode, PDF, slides."),
    ("pages/cohort.py", "Cohort explorer",
     "Filter patients and visit windows; every chart filters the others."),
    ("pages/safety.py", "Safety",
     "CRS, ICANS, ICAHT, infections and LICATS by grade; time to recovery."),
    ("pages/data.py", "Data", "Import your own files; templates, dictionary, history and undo."),
)  # fmt: skip
for column, (page, label, about) in zip(st.columns(len(VIEWS)), VIEWS, strict=True):
    column.page_link(page, label=label, help=about)

summary = ui.query("store_summary")
total = int(summary["patients"].sum())
if total == 0:
    st.info(
        "This store holds no patients yet. Build the default store with "
        "`python -m carta build`, or import your own data."
    )
    st.stop()

st.markdown(
    " · ".join(
        f"{ui.source_badge(row.source_kind)} **{row.patients:,}** "
        f"{'patient' if row.patients == 1 else 'patients'}, {row.observations:,} observations"
        for row in summary.itertuples()
    )
)

if ui.access().aggregate_only:
    st.info("Your role shows cohort aggregates only: the Cohort explorer and Safety views.")
    st.stop()

st.subheader(f"Patients ({total:,})")
search = st.text_input(
    "Find patients", key="q", bind="query-params", placeholder="id, cohort or autoantibody"
)
patients = ui.query("patients_overview", search=search.strip(), max_rows=MAX_ROWS)
if patients.empty:
    st.info(f"No patient matches “{search}”.")
    st.stop()
if len(patients) == MAX_ROWS:
    st.caption(f"Showing the first {MAX_ROWS:,} matches; narrow the search to see others.")
table = patients.assign(
    open=["trajectory?patient=" + quote(pid) for pid in patients["patient_id"]],
    case=["summary?patient=" + quote(pid) for pid in patients["patient_id"]],
    source=[ui.source_label(kind) for kind in patients["source_kind"]],
    age=[display.age(a) for a in patients["age_years"]],
    follow_up=[
        display.follow_up(d, r)
        for d, r in zip(patients["follow_up_days"], patients["follow_up_reported"], strict=True)
    ],
    autoantibody=patients["autoantibody"].fillna(display.NOT_REPORTED),
    sex=patients["sex"].fillna(display.NOT_REPORTED),
)
st.dataframe(
    table[
        [
            "open",
            "case",
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
            "Patient", display_text=r"patient=(.*)$", help="Open this patient's trajectory"
        ),
        "case": st.column_config.LinkColumn(
            "Summary", display_text="case summary", help="Open this patient's case summary"
        ),
        "cohort": "Cohort",
        "source": "Source",
        "age": "Age",
        "sex": "Sex",
        "diagnosis": st.column_config.TextColumn("Diagnosis", width="medium"),
        "autoantibody": "Autoantibody",
        "product": st.column_config.TextColumn("Product", width="medium"),
        "follow_up": "Follow-up",
    },
)
published = patients[patients["source_kind"] == "published"]
for row in published.itertuples():
    cited = not display.is_missing(row.source_doi) and row.source_doi
    doi = f" [doi:{row.source_doi}](https://doi.org/{row.source_doi})" if cited else ""
    st.caption(f"{ui.source_badge('published')} {row.patient_id}: {row.source_citation}{doi}")
