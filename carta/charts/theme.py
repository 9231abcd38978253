"""Shared chart conventions: colour-blind-safe colours (Okabe-Ito) and the study-day axis."""

import altair as alt

# Okabe & Ito, "Color Universal Design" (2008): distinguishable with the common colour-vision
# deficiencies. Published blue, synthetic orange, imported green.
SOURCE_COLOURS = {"published": "#0072B2", "synthetic": "#E69F00", "site": "#009E73"}
SPECIMEN_SHAPES = {"blood": "circle", "bone_marrow": "diamond"}

STUDY_DAY_TITLE = "Study day (0 = CAR T infusion)"


def source_colour(present: list[str] | None = None) -> alt.Color:
    """Colour by source kind; the legend lists only the kinds present, each keeping its colour."""
    kinds = [k for k in SOURCE_COLOURS if present is None or k in present]
    return alt.Color(
        "source_kind:N",
        title="Source",
        scale=alt.Scale(domain=kinds, range=[SOURCE_COLOURS[k] for k in kinds]),
    )


def specimen_shape(present: list[str] | None = None) -> alt.Shape:
    specimens = [k for k in SPECIMEN_SHAPES if present is None or k in present]
    return alt.Shape(
        "specimen:N",
        title="Specimen",
        scale=alt.Scale(domain=specimens, range=[SPECIMEN_SHAPES[k] for k in specimens]),
    )


def study_day_axis(**kwargs) -> alt.X:
    return alt.X("day:Q", title=STUDY_DAY_TITLE, **kwargs)
