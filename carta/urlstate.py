"""Parse view state from the query string: a bad value gives a short message and a default.

A URL is outside input: every value is checked before use (finite numbers in range, lists of a
bounded length), and what a message repeats of it is cut short and escaped for Markdown.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

import pandas as pd

from carta.display import escape_markdown

T = TypeVar("T")

# A link is a bookmark, not a data file: longer values are refused whole.
MAX_VALUE_LENGTH = 4000
MAX_WINDOWS = 24
MAX_LANES = 200

# The numbers of bound widgets, checked before the widgets read them: (low, high, whole number).
NUMBERS = {
    "bfrom": (-365, 0, True),
    "bto": (-365, 0, True),
    "near": (0, 60, True),
    "bcell": (0.1, 1000.0, False),
    "brec": (0.1, 10000.0, False),
    "nlanes": (5, 200, True),
}


def shown(text: str) -> str:
    """A URL value as a message may repeat it: at most 40 characters, Markdown escaped."""
    cut = text if len(text) <= 40 else text[:40] + "…"
    return escape_markdown(cut)


def _number(text: str) -> float:
    """A finite number, or ValueError."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"not finite: {value}")
    return value


def url_problems(params: Mapping[str, str]) -> dict[str, str]:
    """{parameter: message} for the values that must be dropped before the page reads them."""
    problems = {}
    for key, text in params.items():
        if len(text) > MAX_VALUE_LENGTH:
            problems[key] = f"The link's “{shown(key)}” value is too long (over "
            problems[key] += f"{MAX_VALUE_LENGTH:,} characters); it is ignored."
            continue
        if key not in NUMBERS:
            continue
        low, high, whole = NUMBERS[key]
        kind = "a whole number" if whole else "a number"
        try:
            value = _number(text)
            if not low <= value <= high or (whole and value != int(value)):
                raise ValueError(text)
        except ValueError:
            problems[key] = (f"The link's “{key}” is not {kind} from {low:g} to {high:g}; "
                             "the default is used.")  # fmt: skip
    return problems


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
        low, high = (_number(p) for p in parts)
    except ValueError:
        return Parsed(
            None, f"The window “{shown(text)}” is not two study days like “-7,60”; showing all."
        )
    low, high = sorted((low, high))
    low, high = max(low, day_range[0]), min(high, day_range[1])
    if high - low < 1:
        return Parsed(
            None, f"The window “{shown(text)}” lies outside this patient's follow-up; showing all."
        )
    return Parsed((low, high))


def study_day(text: str | None, day_range: tuple[int, int]) -> Parsed[int | None]:
    if text is None or text == "":
        return Parsed(None)
    try:
        day = int(text)
    except ValueError:
        return Parsed(
            None, f"The day “{shown(text)}” is not a whole study day; no day is selected."
        )
    if not day_range[0] <= day <= day_range[1]:
        return Parsed(None, f"Day {day} lies outside this patient's follow-up; no day is selected.")
    return Parsed(day)


def slide_number(text: str | None, slides: int) -> Parsed[int]:
    """`slide=N` of the case summary's slide show, counted from 1; the first slide when absent,
    and when it is not one of the slides (with a message saying so)."""
    if text is None or text == "":
        return Parsed(1)
    try:
        number = int(text)
    except ValueError:
        return Parsed(1, f"“{shown(text)}” is not a slide number; this is the first slide.")
    if not 1 <= number <= slides:
        return Parsed(1, f"There is no slide {number} (there are {slides}); this is the first.")
    return Parsed(number)


def format_window(window: tuple[float, float]) -> str:
    return f"{round(window[0])},{round(window[1])}"


def brush(text: str | None) -> Parsed[tuple[float, float, float, float] | None]:
    """'x0,x1,low,high' -> the distribution's brushed window positions and value range."""
    if not text:
        return Parsed(None)
    try:
        x0, x1, low, high = (_number(p) for p in text.split(","))
    except ValueError:
        return Parsed(None, f"The value range “{shown(text)}” is not four numbers; it is cleared.")
    return Parsed((*sorted((x0, x1)), *sorted((low, high))))


def format_brush(value: tuple[float, float, float, float]) -> str:
    return ",".join(f"{v:.6g}" for v in value)


def category(text: str | None, timepoints: list[str], names: list[str]) -> Parsed:
    """'timepoint:category' -> (timepoint, category) when both exist."""
    if not text:
        return Parsed(None)
    timepoint, _, name = text.partition(":")
    if timepoint not in timepoints or name not in names:
        return Parsed(
            None, f"The response selection “{shown(text)}” is not a window and category here."
        )
    return Parsed((timepoint, name))


def lanes(text: str | None) -> Parsed[tuple[str, ...] | None]:
    if not text:
        return Parsed(None)
    picked = tuple(dict.fromkeys(p for p in text.split(",") if p))
    if len(picked) > MAX_LANES:
        return Parsed(None, f"The link picks more than {MAX_LANES} patients; the pick is cleared.")
    return Parsed(picked)


WINDOW_COLUMNS = ["name", "nominal_day", "day_from", "day_to"]


def windows(text: str | None, default: pd.DataFrame) -> Parsed[pd.DataFrame]:
    """'name:nominal:from:to;…' -> visit windows in that order; the store's when absent or bad."""
    if not text:
        return Parsed(default)
    parts = text.split(";")
    if len(parts) > MAX_WINDOWS:
        return Parsed(default, f"The link has more than {MAX_WINDOWS} visit windows; using the "
                      "store's.")  # fmt: skip
    rows = []
    try:
        for part in parts:
            name, nominal, low, high = part.split(":")
            if not name.strip() or not -3650 <= int(low) <= int(nominal) <= int(high) <= 36500:
                raise ValueError(part)
            rows.append((name, int(nominal), int(low), int(high)))
    except ValueError:
        return Parsed(
            default, f"The visit windows “{shown(text)}” cannot be read; using the store's."
        )
    if len({r[0] for r in rows}) < len(rows):
        return Parsed(default, "The link names a visit window twice; using the store's.")
    frame = pd.DataFrame(rows, columns=WINDOW_COLUMNS)
    return Parsed(frame.assign(sort=range(len(frame))))


def format_windows(frame: pd.DataFrame) -> str:
    return ";".join(
        f"{r.name}:{int(r.nominal_day)}:{int(r.day_from)}:{int(r.day_to)}"
        for r in frame.itertuples(index=False)
    )
