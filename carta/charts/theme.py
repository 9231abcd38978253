"""Shared chart conventions: colour-blind-safe colours (Okabe-Ito) and the study-day axis."""

import altair as alt

# Okabe & Ito, "Color Universal Design" (2008): distinguishable with the common colour-vision
# deficiencies. Published blue, synthetic orange, imported green.
SOURCE_COLOURS = {"published": "#0072B2", "synthetic": "#E69F00", "site": "#009E73"}
SPECIMEN_SHAPES = {"blood": "circle", "bone_marrow": "diamond"}

STUDY_DAY_TITLE = "Study day (0 = CAR T infusion)"


def source_colour() -> alt.Color:
    return alt.Color(
        "source_kind:N",
        title="Source",
        scale=alt.Scale(domain=list(SOURCE_COLOURS), range=list(SOURCE_COLOURS.values())),
    )


def specimen_shape() -> alt.Shape:
    return alt.Shape(
        "specimen:N",
        title="Specimen",
        scale=alt.Scale(domain=list(SPECIMEN_SHAPES), range=list(SPECIMEN_SHAPES.values())),
    )


def study_day_axis(**kwargs) -> alt.X:
    return alt.X("day:Q", title=STUDY_DAY_TITLE, **kwargs)
