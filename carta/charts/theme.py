"""Shared chart conventions: colour-blind-safe colours (Okabe-Ito) and the study-day axis title."""

# Okabe & Ito, "Color Universal Design" (2008): distinguishable with the common colour-vision
# deficiencies. Yellow last, as it is faint on white.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#F0E442"]

STUDY_DAY_TITLE = "Study day (0 = CAR T infusion)"
