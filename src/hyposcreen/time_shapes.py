"""What the time texts that did not read look like, told to the user, never read as times.

An export that writes its times another way than as date-time text — a spreadsheet's serial
day numbers (`46346.25`), Unix epoch seconds or milliseconds (`1763614800`), day-first or
month-first dates the site mapping does not declare (`20/11/2026 05:00`) — leaves every such
time unread: the row is quarantined, and the warning or the stop that follows says what the
texts look like and what the mapping or the export must do. A number is never guessed into a
time: a serial day read as epoch seconds, or seconds as milliseconds, moves a result by hours
or years, so the user is told what is seen and decides.

The shapes are data (rules/time_shapes.csv): a pattern the whole stripped text matches, what
such text looks like and the remedy. A text takes the first shape it matches; counts only, no
value, leave this module. A word or zeros (`unknown`, `N/A`, `PRN`, `0000-00-00`: no digit
other than 0, quarantine_text.KeyValues.holds_time) is no time at all: no shape is told of it
and no date format asked for it, since none reads a word; the export left the time blank in
another way. A time of no known shape asks whether the mapping lacks a date format."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from hyposcreen.rules.loader import load_source_map

UNDECLARED = "A date format the site mapping does not declare (datetime_formats)?"
_WORDS = "written as words, not times (such as unknown, N/A, PRN or a zero date)"
_LEFT_BLANK = (
    "the export left them blank in another way, and no date format (datetime_formats) reads a word"
)


@dataclass(frozen=True)
class TimeShape:
    name: str
    pattern: re.Pattern[str]
    looks_like: str
    remedy: str


@cache
def time_shapes() -> tuple[TimeShape, ...]:
    """The shapes of rules/time_shapes.csv, in its order."""
    return tuple(
        TimeShape(row["shape"], re.compile(row["pattern"]), row["looks_like"], row["remedy"])
        for row in load_source_map("time_shapes.csv")
    )


def shape_counts(texts: pd.Series) -> dict[str, int]:
    """How many of `texts` (time texts that did not read) take each shape (the first they
    match), by shape name in the rules' order; shapes no text takes are left out."""
    distinct = texts.dropna().astype("str").str.strip().value_counts(sort=False)
    pending = pd.Series(distinct.index.astype("str"), index=distinct.to_numpy())
    counts: dict[str, int] = {}
    for shape in time_shapes():
        if pending.empty:
            break
        taken = pending.str.fullmatch(shape.pattern.pattern, na=False).to_numpy(dtype=bool)
        if taken.any():
            counts[shape.name] = int(pending.index.to_numpy()[taken].sum())
            pending = pending[~taken]
    return counts


def unread_told(texts: pd.Series, is_time: np.ndarray) -> str:
    """A sentence saying what the unread `texts` are and what to do: of those that may be times
    (`is_time`), the count of each shape and each remedy once; the words and zeros among them,
    which no date format reads; and for times of no known shape the question whether the site
    mapping lacks a date format (that question alone when every text is such a time)."""
    times = texts[is_time]
    counts = shape_counts(times)
    words = len(texts) - len(times)
    unshaped = len(times) - sum(counts.values())
    if not counts and not words:
        return UNDECLARED
    if not counts and not unshaped:
        return f"{'It is' if words == 1 else f'All {words} are'} {_WORDS}: {_LEFT_BLANK}."
    shapes = {s.name: s for s in time_shapes()}
    seen = [
        f"{n} {'look like' if not at else 'like'} {shapes[name].looks_like}"
        for at, (name, n) in enumerate(counts.items())
    ]
    if words:
        seen.append(f"{words} {_are(words)} {_WORDS}")
    if unshaped:
        times_are = "is a time" if unshaped == 1 else "are times"
        seen.append(f"{unshaped} {times_are} of no shape known here")
    told = [f"Of them, {'; '.join(seen)}.", *dict.fromkeys(shapes[n].remedy for n in counts)]
    if words:
        told.append(f"The words are no times: {_LEFT_BLANK}.")
    if unshaped:
        told.append(f"The times of no known shape: {UNDECLARED[0].lower()}{UNDECLARED[1:]}")
    return " ".join(told)


def _are(count: int) -> str:
    return "is" if count == 1 else "are"
