"""Streamlit tables of records as the source gave them, beside a patient's charts: the results of
tests Carta's dictionary does not know (SDTM LB tests without a Carta code, text results)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from carta import display
from carta.ui import source_label


def other_tests(rows: pd.DataFrame) -> None:
    """Every other test of the patient, with its own code, unit and range; never graded."""
    if rows.empty:
        return
    st.subheader(f"Other tests ({len(rows):,})")
    st.caption(
        "Results of tests Carta's dictionary does not know, kept as the source gave them, with "
        "their own code and unit: listed here, never graded, drawn or converted."
    )
    result = [
        display.plain_number(v) if not display.is_missing(v) else str(t)
        for v, t in zip(rows["value"], rows["result_text"], strict=True)
    ]
    table = pd.DataFrame(
        {
            "When": [
                display.day_or_range(d, e, la, p)
                for d, e, la, p in zip(
                    rows["day"],
                    rows["day_earliest"],
                    rows["day_latest"],
                    rows["day_precision"],
                    strict=True,
                )
            ],
            "Test": rows["test_code"],
            "Name": rows["test_name"].fillna(""),
            "Result": result,
            "Unit": rows["unit"].fillna(""),
            "Range": [
                ""
                if display.is_missing(lo) and display.is_missing(hi)
                else f"{display.plain_number(lo) if not display.is_missing(lo) else ''}–"
                f"{display.plain_number(hi) if not display.is_missing(hi) else ''}"
                for lo, hi in zip(rows["ref_low"], rows["ref_high"], strict=True)
            ],
            "Category": rows["category"].fillna(""),
            "Source": rows["source_kind"].map(source_label),
        }
    )
    st.dataframe(table, hide_index=True, width="stretch", key="other-tests")
