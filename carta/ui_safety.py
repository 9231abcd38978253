"""Streamlit widgets of the safety picture: one patient's lab toxicity and haematotoxicity (the
trajectory's side column) and the cohort safety view (pages/safety.py).

A view's widgets live in a module of their own; carta/ui.py keeps the shared store access.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from carta import display
from carta.measures import ctcae, hematotox
from carta.measures import summary as summary_rules


def toxicity_figures(toxicity: pd.DataFrame, haematotoxicity: pd.DataFrame) -> None:
    """Worst treatment-emergent CTCAE grade per lab term with the baseline grade beside it, and
    ICAHT, T-ICAHT and CAR-HEMATOTOX from the derived tables."""
    lines = []
    for row in toxicity.itertuples(index=False):
        if display.is_missing(row.emergent_grade):
            continue
        series = pd.Series(row._asdict())
        baseline = (
            "no baseline value"
            if display.is_missing(row.baseline_grade)
            else f"baseline grade {int(row.baseline_grade)}"
        )
        flag = " ⚑ default range" if bool(row.range_default) else ""
        lines.append(f"- **{row.term}** {summary_rules.emergent_text(series)} ({baseline}){flag}")
    if lines:
        st.markdown("**Lab toxicity** (CTCAE v5.0, treatment-emergent)")
        st.markdown("\n".join(lines))
        notes = [
            "Counted after the infusion and only when worse than the patient's own baseline "
            "grade (the last value before lymphodepletion)."
        ]
        if toxicity["range_default"].fillna(False).any():
            notes.append(f"⚑ {ctcae.DEFAULT_RANGE_NOTE}.")
        if (toxicity["code"] == "CK").any():
            notes.append(ctcae.CK_NOTE)
        st.caption(" ".join(notes))
    haematotoxicity_figures(haematotoxicity)


def haematotoxicity_figures(rows: pd.DataFrame) -> None:
    if rows.empty:
        return
    figures = summary_rules.haematotoxicity_figures(rows)
    st.markdown("**Haematotoxicity**")
    st.markdown(
        "\n".join(
            f"- **{f.label}** {f.value}" + (f" — {f.detail}" if f.detail else "") for f in figures
        )
    )
    st.caption(f"CAR-HEMATOTOX: {hematotox.NOT_VALIDATED_NOTE}.")
