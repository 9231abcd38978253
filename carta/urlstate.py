"""Parse view state from the query string: a bad value gives a short message and a default."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Parsed(Generic[T]):
    value: T
    problem: str | None = None  # what was wrong with the URL value, for one line on screen


def study_window(
    text: str | None, day_range: tuple[int, int]
) -> Parsed[tuple[float, float] | None]:
    """'a,b' -> (a, b) inside the patient's day range; None (no window) when absent or invalid."""
    if not text:
        return Parsed(None)
    parts = text.split(",")
    try:
        low, high = (float(p) for p in parts)
    except ValueError:
        return Parsed(None, f"The window “{text}” is not two study days like “-7,60”; showing all.")
    low, high = sorted((low, high))
    low, high = max(low, day_range[0]), min(high, day_range[1])
    if high - low < 1:
        return Parsed(
            None, f"The window “{text}” lies outside this patient's follow-up; showing all."
        )
    return Parsed((low, high))


def study_day(text: str | None, day_range: tuple[int, int]) -> Parsed[int | None]:
    if text is None or text == "":
        return Parsed(None)
    try:
        day = int(text)
    except ValueError:
        return Parsed(None, f"The day “{text}” is not a whole study day; no day is selected.")
    if not day_range[0] <= day <= day_range[1]:
        return Parsed(None, f"Day {day} lies outside this patient's follow-up; no day is selected.")
    return Parsed(day)


def format_window(window: tuple[float, float]) -> str:
    return f"{round(window[0])},{round(window[1])}"
