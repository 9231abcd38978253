"""One patient's observations over study day, one small panel per parameter."""

from __future__ import annotations

import altair as alt
import pandas as pd

from carta.charts.theme import source_colour, specimen_shape, study_day_axis
from carta.display import plain_number, unit_text

PANEL_HEIGHT = 110


def plottable(observations: pd.DataFrame) -> pd.DataFrame:
    """Rows with a number to place; 'not detected' without a count is listed, not drawn."""
    return observations[observations["value"].notna()]


def observations_chart(
    observations: pd.DataFrame, day_range: tuple[int, int] | None = None, width: int = 640
) -> alt.FacetChart:
    """Line and points per parameter, coloured by source; '<' / '>' values drawn as open triangles.

    Expects the columns of queries/patient_observations.sql. Each panel has its own y scale, since
    parameters differ by orders of magnitude and units. `day_range` fixes the study-day axis, so
    that a patient with few points still shows them in the context of the follow-up.
    """
    data = plottable(observations).assign(
        panel=lambda d: [
            f"{lab} ({unit_text(u)})" for lab, u in zip(d["label"], d["unit"], strict=True)
        ],
        unit_text=lambda d: d["unit"].map(unit_text),
        beyond_limit=lambda d: d["qualifier"].isin(["<", ">"]),
        value_text=lambda d: (
            d["qualifier"].fillna("").str.replace("not_detected", "") + d["value"].map(plain_number)
        ),
    )
    if day_range is None:
        day_range = (
            (min(0, int(data["day"].min())), int(data["day"].max())) if len(data) else (0, 1)
        )
    kinds = data["source_kind"].unique().tolist()
    base = alt.Chart(data).encode(
        x=study_day_axis(scale=alt.Scale(domain=list(day_range), nice=False)),
        y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False), axis=alt.Axis(format=",.4~g")),
    )
    line = base.mark_line(strokeWidth=1.5, opacity=0.7).encode(
        color=source_colour(kinds), detail="specimen:N"
    )
    points = base.mark_point(size=45, filled=True).encode(
        color=source_colour(kinds),
        shape=specimen_shape(data["specimen"].unique().tolist()),
        fillOpacity=alt.condition("datum.beyond_limit", alt.value(0), alt.value(1)),
        tooltip=[
            alt.Tooltip("label:N", title="Parameter"),
            alt.Tooltip("day:Q", title="Study day"),
            alt.Tooltip("value_text:N", title="Value"),
            alt.Tooltip("unit_text:N", title="Unit"),
            alt.Tooltip("ref_low:Q", title="Reference low"),
            alt.Tooltip("ref_high:Q", title="Reference high"),
            alt.Tooltip("specimen:N", title="Specimen"),
            alt.Tooltip("source_kind:N", title="Source"),
            alt.Tooltip("note:N", title="Note"),
        ],
    )
    order = data.drop_duplicates("panel").sort_values("parameter_sort")["panel"].tolist()
    return (
        alt.layer(line, points)
        .properties(width=width, height=PANEL_HEIGHT)
        .facet(
            row=alt.Row(
                "panel:N",
                sort=order,
                header=alt.Header(
                    labelOrient="top", labelAnchor="start", labelAngle=0, labelFontWeight="bold"
                ),
                title=None,
            ),
            spacing=22,
        )
        .resolve_scale(y="independent")
    )
