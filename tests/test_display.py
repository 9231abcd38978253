"""How values read on screen: missing values say so, units read as people write them."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from carta import display


@pytest.mark.parametrize("missing", [None, pd.NA, math.nan, float("nan")])
def test_missing_values_read_not_reported(missing) -> None:
    assert display.text_or_not_reported(missing) == "not reported"
    assert display.age(missing) == "not reported"
    assert display.cell_dose(missing) == "not reported"
    assert display.study_day(missing) == "day not reported"
    assert display.day_span(missing, None) == "day not reported"


def test_follow_up_prefers_days_and_falls_back_to_the_source_words() -> None:
    assert display.follow_up(243, None) == "243 d (8.0 mo)"
    assert display.follow_up(None, "eight months") == "eight months (as reported; day not given)"
    assert display.follow_up(math.nan, None) == "not reported"


@pytest.mark.parametrize(
    ("value", "unit", "qualifier", "expected"),
    [
        (32.69, "{cells}/uL", None, "32.69 cells/µL"),
        (1.0, "{cells}/uL", "<", "< 1 cells/µL"),
        (0.45, "10*9/L", None, "0.45 ×10⁹/L"),
        (None, "{cells}/uL", "not_detected", "not detected (no count reported)"),
        (13600, "U/L", None, "13,600 U/L"),
        (1000, "mg/m2", None, "1,000 mg/m²"),
    ],
)
def test_numbers_carry_their_units(value, unit, qualifier, expected) -> None:
    assert display.number(value, unit, qualifier) == expected


def test_days_and_spans() -> None:
    assert display.day_span(-5, -3) == "days -5 to -3"
    assert display.day_span(0, 0) == "day 0"
    assert display.day_span(7, None) == "day 7"


def test_cell_dose_in_scientific_notation() -> None:
    assert display.cell_dose(1_000_000) == "1 × 10⁶ cells/kg"
    assert display.cell_dose(1_230_000) == "1.23 × 10⁶ cells/kg"
