"""Shared chart conventions: colour-blind-safe colours (Okabe-Ito) and the study-day axis title."""

# Okabe & Ito, "Color Universal Design" (2008): distinguishable with the common colour-vision
# deficiencies. Yellow last, as it is faint on white.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#F0E442"]

STUDY_DAY_TITLE = "Study day (0 = CAR T infusion)"


def layer_spec(chart) -> dict:
    """One Altair layer as a plain dict, to be assembled by hand with the others: a parameter is
    then declared once at the top level for the layer it belongs to (Altair 6.3 lifts a parameter
    added to one layer onto every layer of its view, altair#3891)."""
    spec = chart.to_dict(validate=False)  # whole specs are validated in the tests
    for top_level_only in ("$schema", "config"):
        spec.pop(top_level_only, None)
    return spec
