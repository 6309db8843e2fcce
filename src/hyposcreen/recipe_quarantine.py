"""The quarantine file's rows of a window, and of windows cut from one read.

A window alone builds its rows from its cleaned tables (report.quarantine). Windows cut from
one read (recipe_read, recipe_clean) quarantine the same medication and diagnosis rows for the
same reasons every night, and their labs are cut from the read's labs cleaned once: those rows
are built once per read and kept with it (`SharedRead.decided`), and rows quarantined since (a
contract warning, late results) are built for the window. Either way the window's rows are the
same (tests/test_quarantine_shared_read.py, tests/test_shared_read_property.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hyposcreen.clean import QUARANTINED
from hyposcreen.clean.buckets import HeldSizes
from hyposcreen.clean.events import EventFacts
from hyposcreen.context import CleanedInputs, RunContext, SharedRead
from hyposcreen.recipe_clean import held_sizes
from hyposcreen.recipe_read import check_in_range, cut_rows
from hyposcreen.report.quarantine import (
    LABEL,
    by_table,
    in_table_order,
    order_quarantine,
    quarantine_order,
    quarantine_rows,
)


def quarantined_rows(ctx: RunContext, cleaned: CleanedInputs) -> pd.DataFrame:
    """The run's quarantine file rows (report.quarantine). Windows of one read whose
    medications and diagnoses come from the same window-free cleaning quarantine the same
    rows of them for the same reasons (the window's check only ever makes a row not relevant;
    a contract warning may add rows, so the rows and reasons are compared): those tables'
    rows are built once. The window's labs are cut from the read's labs cleaned once: their
    rows quarantined alike there are built once too (`_lab_rows`). The file's order has the
    table first, so each table's rows are put in order on their own."""
    events = ("medications", "diagnoses")
    frames = {name: getattr(cleaned, name) for name in ("labs", *events)}
    shared = ctx.shared_read
    known = shared.decided.get("events") if shared is not None else None
    if shared is None or known is None:
        return quarantine_rows(frames, timezone=ctx.mapping.timezone, decimal=ctx.mapping.decimal)
    held = held_sizes(ctx)
    key = [_quarantined(frames[name], getattr(known[2], name), held.get(name)) for name in events]
    kept = shared.decided.get("quarantine")
    if kept is None or kept[0] is not known[2] or not _same(kept[1], key):
        rows = quarantine_rows({name: frames[name] for name in events}, True, *_site(ctx))
        kept = shared.decided["quarantine"] = (known[2], key, rows, by_table(rows))
    return in_table_order({**kept[3], "labs": _lab_rows(ctx, shared, frames["labs"])})


def _site(ctx: RunContext) -> tuple[str, str]:
    """The site's time zone and decimal, as quarantine_rows takes them."""
    return ctx.mapping.timezone, ctx.mapping.decimal


@dataclass(frozen=True)
class ReadLabQuarantine:
    """The quarantine rows of the read's labs as cleaned once (`window_labs`), unordered with
    their positions as `_label`; by read row, the number of its quarantine row (-1: none);
    by quarantine row, its reason, source row and place in the file's order."""

    cleaned: pd.DataFrame
    rows: pd.DataFrame
    number: np.ndarray
    reason: np.ndarray
    source_row: np.ndarray
    rank: np.ndarray
    ordered: pd.DataFrame  # `rows` in the file's order, without `_label`


def _lab_rows(ctx: RunContext, shared: SharedRead, labs: pd.DataFrame) -> pd.DataFrame:
    """The window's labs' quarantine rows in the file's order. Its labs are the read's cleaned
    labs in its range (recipe_read.cut_rows), in order: a row quarantined there for the same
    reason (and with the same source row) has the read's quarantine row; rows quarantined
    since (a contract warning, late results) are built for the window."""
    known = shared.decided.get("labs")
    index = labs.index
    read = _read_lab_quarantine(shared, known[2], *_site(ctx)) if known is not None else None
    if read is None or not isinstance(index, pd.RangeIndex) or index.step != 1:
        return order_quarantine(quarantine_rows({"labs": labs}, True, *_site(ctx)))
    column, start, end = check_in_range(shared.lab_range, ctx)
    rows = np.flatnonzero(cut_rows(shared, read.cleaned, column, start, end))
    if len(rows) != len(labs):
        return order_quarantine(quarantine_rows({"labs": labs}, True, *_site(ctx)))
    mine = np.flatnonzero((labs["bucket"] == QUARANTINED).to_numpy(dtype=bool))
    number = read.number[rows[mine]]
    there = np.maximum(number, 0)
    alike = (
        (number >= 0)
        & (labs["reason"].iloc[mine].to_numpy(dtype=object) == read.reason[there])
        & (labs["source_row"].iloc[mine].to_numpy(dtype=object) == read.source_row[there])
    )
    if alike.all():  # the read's order of these rows is theirs (quarantine_order)
        return read.ordered.take(np.sort(read.rank[number])).reset_index(drop=True)
    taken = read.rows.take(number[alike]).assign(**{LABEL: index[mine[alike]]})
    fresh = quarantine_rows({"labs": labs.iloc[mine[~alike]]}, True, *_site(ctx))
    parts = [part for part in (taken, fresh) if len(part)]
    return order_quarantine(pd.concat(parts, ignore_index=True))


def _read_lab_quarantine(
    shared: SharedRead, cleaned: pd.DataFrame, timezone: str, decimal: str
) -> ReadLabQuarantine | None:
    """The quarantine rows of the read's cleaned labs, built once per cleaning; None when the
    read's rows are not numbered by position."""
    known: ReadLabQuarantine | None = shared.decided.get(_READ_LABS)
    if known is not None and known.cleaned is cleaned:
        return known
    index = cleaned.index
    if not isinstance(index, pd.RangeIndex) or index.start != 0 or index.step != 1:
        return None
    rows = quarantine_rows({"labs": cleaned}, True, timezone, decimal)
    positions = rows[LABEL].to_numpy(dtype=np.int64) if len(rows) else np.zeros(0, np.int64)
    number = np.full(len(cleaned), -1, dtype=np.int64)
    number[positions] = np.arange(len(positions))
    order = quarantine_order(rows) if len(rows) else np.zeros(0, np.int64)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    kept = ReadLabQuarantine(
        cleaned,
        rows,
        number,
        rows["reason"].to_numpy(dtype=object),
        rows["source_row"].to_numpy(dtype=object),
        rank,
        order_quarantine(rows),
    )
    shared.decided[_READ_LABS] = kept
    return kept


_READ_LABS = "lab_quarantine"  # SharedRead.decided: ReadLabQuarantine


def _quarantined(
    frame: pd.DataFrame, facts: EventFacts, held: HeldSizes | None
) -> tuple[np.ndarray, np.ndarray]:
    """The labels and reasons of a frame's quarantined rows (only their reasons made Python
    objects, not the whole column's). While the frame holds the bucket and reason columns its
    window's buckets were made as (`held`), those of its facts (EventFacts.quarantined)."""
    known = facts.quarantined
    if (
        known is not None
        and held is not None
        and frame.index.equals(facts.frame.index)
        and held.hold_for(frame)
    ):
        return known
    rows = np.flatnonzero((frame["bucket"] == QUARANTINED).to_numpy(dtype=bool))
    return frame.index.to_numpy()[rows], frame["reason"].iloc[rows].to_numpy(dtype=object)


def _same(
    one: list[tuple[np.ndarray, np.ndarray]], other: list[tuple[np.ndarray, np.ndarray]]
) -> bool:
    return all(
        np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) for a, b in zip(one, other)
    )
