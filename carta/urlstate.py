"""Parse view state from the query string: a bad value gives a short message and a default."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

import pandas as pd

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


def brush(text: str | None) -> Parsed[tuple[float, float, float, float] | None]:
    """'x0,x1,low,high' -> the distribution's brushed window positions and value range."""
    if not text:
        return Parsed(None)
    try:
        x0, x1, low, high = (float(p) for p in text.split(","))
    except ValueError:
        return Parsed(None, f"The value range “{text}” is not four numbers; it is cleared.")
    return Parsed((*sorted((x0, x1)), *sorted((low, high))))


def format_brush(value: tuple[float, float, float, float]) -> str:
    return ",".join(f"{v:.6g}" for v in value)


def category(text: str | None, timepoints: list[str], names: list[str]) -> Parsed:
    """'timepoint:category' -> (timepoint, category) when both exist."""
    if not text:
        return Parsed(None)
    timepoint, _, name = text.partition(":")
    if timepoint not in timepoints or name not in names:
        return Parsed(None, f"The response selection “{text}” is not a window and category here.")
    return Parsed((timepoint, name))


def lanes(text: str | None) -> Parsed[tuple[str, ...] | None]:
    if not text:
        return Parsed(None)
    return Parsed(tuple(p for p in text.split(",") if p))


WINDOW_COLUMNS = ["name", "nominal_day", "day_from", "day_to"]


def windows(text: str | None, default: pd.DataFrame) -> Parsed[pd.DataFrame]:
    """'name:nominal:from:to;…' -> visit windows in that order; the store's when absent or bad."""
    if not text:
        return Parsed(default)
    rows = []
    try:
        for part in text.split(";"):
            name, nominal, low, high = part.split(":")
            rows.append((name, int(nominal), int(low), int(high)))
    except ValueError:
        return Parsed(default, f"The visit windows “{text}” cannot be read; using the store's.")
    frame = pd.DataFrame(rows, columns=WINDOW_COLUMNS)
    return Parsed(frame.assign(sort=range(len(frame))))


def format_windows(frame: pd.DataFrame) -> str:
    return ";".join(
        f"{r.name}:{int(r.nominal_day)}:{int(r.day_from)}:{int(r.day_to)}"
        for r in frame.itertuples(index=False)
    )
