"""The cohort safety page's charts: pure builders from the frames of carta.measures.survival to
Altair charts (no Streamlit here).

* :func:`recovery_chart`: Kaplan–Meier curves of the cumulative proportion recovered (1 - S(t)) by
  study day, one Okabe–Ito colour per group, the pointwise interval as a band, a tick where a
  patient was censored (last follow-up without recovery), and the number at risk in a row of
  text under the curves, on the same day axis (the usual KM figure layout).
* :func:`incidence_chart`: patients by worst grade of each category as % of the patients at
  risk, stacked by grade (light to dark, the trajectory's grade colours), n in the tooltip and
  "n/N (%)" of any grade at the end of each bar.

Each layer carries only the columns it encodes.
"""

from __future__ import annotations

from itertools import cycle, islice

import altair as alt
import pandas as pd

from carta.charts.theme import OKABE_ITO, STUDY_DAY_TITLE
from carta.charts.trajectory import GRADE_COLOURS
from carta.measures.survival import AT_RISK_DAYS, GRADES, at_risk_table

WIDTH = 560
CURVE_HEIGHT = 260
BAR_ROW_HEIGHT = 34  # px per category of the incidence chart
ROW_HEIGHT = 18  # per group in the number-at-risk row, per category in the incidence bars
RECOVERED_TITLE = "Cumulative proportion recovered"
AT_RISK_TITLE = "Number at risk"
INCIDENCE_TITLE = "Share of the patients at risk (%)"

CURVE_FIELDS = ["group", "day", "cumulative", "cumulative_lower", "cumulative_upper",
                "n_at_risk", "n_events", "n_censored"]  # fmt: skip
CENSOR_FIELDS = ["group", "day", "cumulative", "n_censored"]
AT_RISK_FIELDS = ["group", "day", "n_at_risk"]
BAR_FIELDS = ["category", "grade", "n", "n_at_risk", "percent"]
NOT_GRADED = "not graded"  # a severity without a grade (carta/measures/safety.py)
NOT_GRADED_COLOUR = "#9E9E9E"
LABEL_FIELDS = ["category", "percent", "label"]


def group_colours(groups: list[str]) -> alt.Scale:
    """One Okabe–Ito colour per group, in order (repeating after eight groups)."""
    return alt.Scale(domain=groups, range=list(islice(cycle(OKABE_ITO), len(groups))))


def recovery_chart(
    km: pd.DataFrame,
    at_risk: pd.DataFrame | None = None,
    *,
    title: str | None = None,
    y_title: str = RECOVERED_TITLE,
    width: int = WIDTH,
    interval: bool = True,
    references: pd.DataFrame | None = None,
) -> alt.VConcatChart:
    """KM step curves of ``km`` (:func:`carta.measures.survival.kaplan_meier`) over the number at
    risk (:func:`carta.measures.survival.at_risk_table`; by default at ``AT_RISK_DAYS`` up to the
    last day of ``km``). The day axis ticks are the at-risk days, so that the numbers sit under
    them; the legend is left out when there is a single group. ``interval=False`` leaves out the
    bands (several overlapping groups). ``references`` (day_from, day_to, label) are published
    figures drawn as grey bands behind the curves, labelled with their citation."""
    groups = list(pd.unique(km["group"])) if len(km) else []
    if at_risk is None:
        last = int(km["day"].max()) if len(km) else 0
        at_risk = at_risk_table(km, [d for d in AT_RISK_DAYS if d <= last] or [0])
    ticks = sorted({int(d) for d in at_risk["day"]}) if len(at_risk) else [0]
    end = max([*ticks, int(km["day"].max()) if len(km) else 0, 1])
    colours = group_colours(groups)
    # Lines in the legend (the band's pale squares would not match the curves).
    legend = (
        alt.Legend(orient="top", title=None, symbolType="stroke", symbolStrokeWidth=3,
                   symbolOpacity=1, columns=max(1, width // 170))
        if len(groups) > 1
        else None
    )  # fmt: skip
    colour = alt.Color("group:N", scale=colours, sort=groups, legend=legend)
    x = alt.X(
        "day:Q",
        title=STUDY_DAY_TITLE,
        scale=alt.Scale(domain=[0, end], nice=False, zero=True),
        axis=alt.Axis(values=ticks, grid=True, labelFlush=False),
    )
    y = alt.Y(
        "cumulative:Q",
        title=y_title,
        scale=alt.Scale(domain=[0, 1], nice=False),
        axis=alt.Axis(format="%", values=[0, 0.25, 0.5, 0.75, 1]),
    )
    curve = km[CURVE_FIELDS]
    tooltip = [
        alt.Tooltip("group:N", title="Group"),
        alt.Tooltip("day:Q", title="Study day"),
        alt.Tooltip("cumulative:Q", title="Recovered", format=".1%"),
        alt.Tooltip("cumulative_lower:Q", title="95% CI from", format=".1%"),
        alt.Tooltip("cumulative_upper:Q", title="95% CI to", format=".1%"),
        alt.Tooltip("n_at_risk:Q", title="At risk"),
        alt.Tooltip("n_events:Q", title="Recovered that day"),
        alt.Tooltip("n_censored:Q", title="Censored that day"),
    ]
    band = (
        alt.Chart(curve)
        .mark_area(interpolate="step-after", opacity=0.18)
        .encode(x=x, y=alt.Y("cumulative_lower:Q"), y2="cumulative_upper:Q", color=colour)
    )
    line = (
        alt.Chart(curve)
        .mark_line(interpolate="step-after", strokeWidth=2)
        .encode(x=x, y=y, color=colour)
    )
    # Tooltips need points: lines only answer the pointer near their vertices, and faintly.
    hover = (
        alt.Chart(curve)
        .mark_point(size=80, opacity=0)
        .encode(x=x, y=y, color=colour, tooltip=tooltip)
    )
    censored = km.loc[km["n_censored"].fillna(0) > 0, CENSOR_FIELDS]
    ticks_layer = (
        alt.Chart(censored)
        .mark_tick(orient="vertical", size=10, thickness=1.5)
        .encode(
            x=x,
            y=y,
            color=colour,
            tooltip=[
                alt.Tooltip("group:N", title="Group"),
                alt.Tooltip("day:Q", title="Study day"),
                alt.Tooltip("n_censored:Q", title="Censored (last follow-up)"),
            ],
        )
    )
    behind = []
    day_scale = alt.Scale(domain=[0, end], nice=False, zero=True)
    if references is not None and not references.empty:
        shown = references.assign(day_to=references["day_to"].clip(upper=end))
        behind = [
            alt.Chart(shown).mark_rect(color="#7F7F7F", opacity=0.14).encode(
                x=alt.X("day_from:Q", scale=day_scale), x2="day_to:Q",
                tooltip=alt.Tooltip("label:N", title="Published")),
            alt.Chart(shown).mark_text(align="left", baseline="top", dx=3, dy=3, fontSize=10,
                                       color="#555555").encode(
                x=alt.X("day_from:Q", scale=day_scale), y=alt.value(0), text="short:N"),
        ]  # fmt: skip
    curves = alt.layer(*behind, *([band] if interval else []), line, ticks_layer, hover).properties(
        width=width, height=CURVE_HEIGHT
    )
    numbers = (
        alt.Chart(at_risk[AT_RISK_FIELDS])
        .mark_text(fontSize=11)
        .encode(
            x=alt.X("day:Q", scale=alt.Scale(domain=[0, end], nice=False, zero=True), axis=None),
            y=alt.Y("group:N", sort=groups, title=None,
                    axis=alt.Axis(ticks=False, domain=False, labelLimit=160, labelPadding=14)),
            text=alt.Text("n_at_risk:Q"),
            color=alt.Color("group:N", scale=colours, sort=groups, legend=None),
        )
        .properties(width=width, height=ROW_HEIGHT * max(len(groups), 1),
                    view=alt.ViewBackground(stroke=None),
                    title=alt.TitleParams(AT_RISK_TITLE, anchor="start", fontSize=12,
                                          fontWeight="normal", offset=4))
    )  # fmt: skip
    described = ", ".join(groups) or "no patients"
    return (
        # Flush bounds: the two plotting areas line up on the day axis, whatever the widths of
        # their y labels; the spacing leaves room for the curves' day axis and its title.
        alt.vconcat(curves, numbers, spacing=64, bounds="flush")
        .resolve_scale(x="shared", color="shared")
        .properties(
            description=f"Kaplan–Meier curves of the cumulative proportion recovered by study "
            f"day ({described}), with the number at risk under them.",
            **({"title": title} if title else {}),
        )
    )


def incidence_chart(incidence: pd.DataFrame, *, title: str | None = None, width: int = WIDTH):
    """Horizontal bars per category of ``incidence``
    (:func:`carta.measures.survival.incidence_by_grade`): % of the patients at risk by worst
    grade 1-5, stacked light to dark, with "n/N (%)" of any grade after each bar. Categories keep
    the order of ``incidence``."""
    categories = list(pd.unique(incidence["category"])) if len(incidence) else []
    # Events with a severity and no grade are stacked too, in grey, after the grades.
    shown = [*GRADES, NOT_GRADED]
    graded = incidence[incidence["grade"].isin(shown) & (incidence["n"] > 0)][BAR_FIELDS]
    totals = incidence[incidence["grade"] == "any"]
    labels = pd.DataFrame(
        {
            "category": totals["category"].to_numpy(),
            "percent": totals["percent"].fillna(0).to_numpy(),
            "label": [
                f"{n}/{at_risk}" + (f" ({pct:.0f}%)" if at_risk else "")
                for n, at_risk, pct in zip(
                    totals["n"], totals["n_at_risk"], totals["percent"], strict=True
                )
            ],
        },
        columns=LABEL_FIELDS,
    )
    y = alt.Y("category:N", sort=categories, title=None,
              scale=alt.Scale(domain=categories), axis=alt.Axis(labelLimit=160))  # fmt: skip
    x = alt.X("percent:Q", title=INCIDENCE_TITLE, stack="zero",
              scale=alt.Scale(domain=[0, 100], nice=False))  # fmt: skip
    grades = shown
    bars = (
        alt.Chart(graded)
        .mark_bar(stroke="#FFFFFF", strokeWidth=0.5)
        .encode(
            x=x,
            y=y,
            color=alt.Color(
                "grade:O",
                title="Worst grade",
                sort=grades,
                scale=alt.Scale(
                    domain=grades,
                    range=[*(GRADE_COLOURS[int(g)] for g in GRADES), NOT_GRADED_COLOUR],
                ),
                legend=alt.Legend(orient="top"),
            ),
            order=alt.Order("grade:O", sort="ascending"),
            tooltip=[
                alt.Tooltip("category:N", title="Category"),
                alt.Tooltip("grade:O", title="Worst grade"),
                alt.Tooltip("n:Q", title="Patients"),
                alt.Tooltip("n_at_risk:Q", title="At risk"),
                alt.Tooltip("percent:Q", title="% of at risk", format=".1f"),
            ],
        )
    )
    text = (
        alt.Chart(labels)
        .mark_text(align="left", dx=4, fontSize=11, color="#31333F")
        .encode(x=alt.X("percent:Q"), y=y, text="label:N")
    )
    return alt.layer(bars, text).properties(
        width=width,
        # Streamlit fits the legend and the axis into the height: room for them, then a bar a row.
        height=BAR_ROW_HEIGHT * max(len(categories), 1) + 80,
        **({"title": title} if title else {}),
        description="Patients by worst grade of each safety category, as % of the patients at "
        "risk: " + ", ".join(categories),
    )
