"""One patient's observations over study day, with the course, adverse events and reported findings.

The chosen patient and parameters live in the URL (?patient=...&params=...), so a view can be
bookmarked and shared.
"""

import streamlit as st

from carta import display, ui
from carta.charts.observations import observations_chart

ui.require_shell()

patients = ui.query("patient_ids")
st.title("Patient observations")
if patients.empty:
    st.info("This store holds no patients yet, so there is nothing to plot.")
    st.stop()

ids = patients["patient_id"].tolist()
requested = st.query_params.get("patient")
if requested is not None and requested not in ids:
    st.warning(f"Patient “{requested}” is not in this store; showing {ids[0]} instead.")
    del st.query_params["patient"]
# No format_func: a bound widget writes the displayed text to the URL, and the URL should hold ids.
patient_id = st.selectbox("Patient", ids, key="patient", bind="query-params")

profile = ui.query("patient_profile", patient_id=patient_id).iloc[0]
ui.synthetic_warning(profile["source_kind"])

facts = {
    "Age": display.age(profile["age_years"]),
    "Sex": display.text_or_not_reported(profile["sex"]),
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
source_line = f"**Source** {ui.source_badge(profile['source_kind'])}: {profile['source_citation']}"
if profile["source_doi"]:
    source_line += f" [doi:{profile['source_doi']}](https://doi.org/{profile['source_doi']})"
st.caption(source_line)

observations = ui.query("patient_observations", patient_id=patient_id)
events = ui.query("patient_events", patient_id=patient_id)
adverse = ui.query("patient_adverse_events", patient_id=patient_id)
# The axis spans the whole known course (at least day 0 to 28), not only the points drawn.
known_days = [*observations["day"], *events["start_day"].dropna(), *events["end_day"].dropna()]
if not display.is_missing(profile["follow_up_days"]):
    known_days.append(profile["follow_up_days"])
day_range = (int(min(0, *known_days)), int(max(28, *known_days)))
st.subheader("Observations over study day")
if observations.empty:
    st.info("No laboratory values, cell counts or scores are recorded for this patient.")
else:
    labels = observations.drop_duplicates("code").set_index("code")["label"].to_dict()
    codes = list(labels)
    default = [c for c in ("CK", "CART", "CD19", "ANC", "CMAS", "PGA") if c in codes] or codes[:6]
    chosen = st.multiselect(
        "Parameters",
        codes,
        default=default,
        key="params",
        bind="query-params",
        format_func=lambda c: labels[c],
    )
    shown = observations[observations["code"].isin(chosen)]
    drawn = shown[shown["value"].notna()]
    if drawn.empty:
        st.info("None of the chosen parameters has a value to draw.")
    else:
        st.altair_chart(observations_chart(drawn, day_range), width="content")
        st.caption(
            "Open triangles: value beyond the assay limit (“<” or “>”). "
            "Shapes: ● blood, ◆ bone marrow. Colour: source of the value."
        )
    unplaced = shown[shown["value"].isna()]
    for row in unplaced.itertuples():
        st.markdown(
            f"- **{row.label}** ({row.specimen.replace('_', ' ')}), {display.study_day(row.day)}: "
            f"{display.number(row.value, row.unit, row.qualifier)}. "
            f"{display.text_or_not_reported(row.note) if row.note else ''} "
            f"({ui.source_badge(row.source_kind)})"
        )

findings = ui.query("patient_reported_findings", patient_id=patient_id)
if not findings.empty:
    st.subheader("Reported findings (stated in words, without numbers)")
    for row in findings.itertuples():
        st.markdown(
            f"- **{row.timing}** — {row.statement} *({row.domains}; "
            f"{ui.source_badge(row.source_kind)})*"
        )

left, right = st.columns(2)
with left:
    st.subheader("Course")
    if events.empty:
        st.info("No treatment events recorded.")
    else:
        st.dataframe(
            events.assign(
                when=[
                    display.day_span(s, e)
                    for s, e in zip(events["start_day"], events["end_day"], strict=True)
                ],
                dose_text=[
                    display.number(d, u) if not display.is_missing(d) else ""
                    for d, u in zip(events["dose"], events["dose_unit"], strict=True)
                ],
            )[["when", "kind", "name", "dose_text", "note"]],
            hide_index=True,
            column_config={
                "when": "When",
                "kind": "Kind",
                "name": "Event",
                "dose_text": "Dose",
                "note": "Note",
            },
        )
with right:
    st.subheader("Adverse events")
    if adverse.empty:
        st.info("No adverse events recorded.")
    else:
        st.dataframe(
            adverse.assign(
                when=[
                    display.day_span(s, e)
                    for s, e in zip(adverse["onset_day"], adverse["end_day"], strict=True)
                ],
                grade_text=["not observed" if g == 0 else f"grade {g}" for g in adverse["grade"]],
            )[["when", "term", "grade_text", "grading_system", "note"]],
            hide_index=True,
            column_config={
                "when": "When",
                "term": "Event",
                "grade_text": "Grade",
                "grading_system": "Grading",
                "note": "Note",
            },
        )
