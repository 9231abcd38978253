"""The trend of data-quality findings across store versions (the Data page's quality tab): one
line per check, for one source or all of them."""

from __future__ import annotations

import altair as alt
import pandas as pd

from carta.charts.theme import OKABE_ITO


def trend_chart(history: pd.DataFrame, source: str) -> alt.Chart:
    """`history`: store_version, check_name, findings (summed over the sources shown)."""
    checks = sorted(history["check_name"].unique())
    versions = sorted(history["store_version"].unique())
    return (
        alt.Chart(
            history,
            title=f"Findings per store version: {source}",
            description=f"Data-quality findings per check over {len(versions)} store version"
            f"{'s' if len(versions) != 1 else ''} of {source}, one line per check.",
        )
        .mark_line(point=True)
        .encode(
            x=alt.X("store_version:O", title="Store version", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("findings:Q", title="Findings"),
            color=alt.Color("check_name:N", title="Check", scale=alt.Scale(
                domain=checks, range=OKABE_ITO[: len(checks)] if len(checks) <= 8 else None)),
            strokeDash=alt.StrokeDash("check_name:N", legend=None),
            tooltip=[alt.Tooltip("store_version:O", title="Version"),
                     alt.Tooltip("check_name:N", title="Check"),
                     alt.Tooltip("findings:Q", title="Findings", format=",")],
        )
        .properties(height=260, width="container")
    )  # fmt: skip
