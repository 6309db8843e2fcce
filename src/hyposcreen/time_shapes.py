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
value, leave this module."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import pandas as pd

from hyposcreen.rules.loader import load_source_map


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


def shapes_told(texts: pd.Series) -> str | None:
    """A sentence saying what the texts look like (the count of each shape) and what to do
    (each remedy once); None when none takes a shape."""
    counts = shape_counts(texts)
    if not counts:
        return None
    shapes = {s.name: s for s in time_shapes()}
    seen = "; ".join(
        f"{n} {'look like' if not at else 'like'} {shapes[name].looks_like}"
        for at, (name, n) in enumerate(counts.items())
    )
    remedies = dict.fromkeys(shapes[name].remedy for name in counts)  # once each, in order
    return f"Of them, {seen}. {' '.join(remedies)}"
