"""Windows of one read find their rows from times put in order once: the labs a window cuts
(recipe_read.cut_rows), the medications and diagnoses after its end, their (bucket, reason)
sizes and used drug matches (clean.events) are those the per-window comparisons give, for
times in order or not, undated rows, and bounds finer than the times' unit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hyposcreen.clean.buckets import BUCKET_CODES, USED, coded_sizes
from hyposcreen.clean.events import AFTER_WINDOW, EventFacts, used_matches, window_buckets
from hyposcreen.config import Window
from hyposcreen.context import SharedRead
from hyposcreen.recipe_read import cut_rows, rows_in_range

DAY0 = pd.Timestamp("2026-11-01").as_unit("us")
HOURS = st.one_of(st.none(), st.integers(min_value=0, max_value=24 * 6))


def _times(hours: list[int | None]) -> pd.Series:
    values = [None if h is None else DAY0 + pd.Timedelta(hours=h) for h in hours]
    return pd.Series(pd.to_datetime(pd.Series(values, dtype=object)).astype("datetime64[us]"))


def _bounds(low: int, width: int, nanos: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    start = DAY0 + pd.Timedelta(hours=low)
    return start, start + pd.Timedelta(hours=width) + pd.Timedelta(nanoseconds=nanos)


@settings(max_examples=150, deadline=None)
@given(
    hours=st.lists(HOURS, max_size=40),
    sort=st.booleans(),
    windows=st.sampled_from([1, 30]),
    ranges=st.lists(
        st.tuples(st.integers(-24, 24 * 7), st.integers(0, 72), st.sampled_from([0, 0, 1, 999])),
        min_size=1,
        max_size=4,
    ),
)
def test_a_cut_from_times_in_order_is_the_rows_in_range(
    hours: list[int | None], sort: bool, windows: int, ranges: list[tuple[int, int, int]]
) -> None:
    if sort:
        hours = sorted(hours, key=lambda h: (h is None, h or 0))
    frame = pd.DataFrame({"specimen_time": _times(hours)})
    shared = SharedRead({}, ("specimen_time", DAY0, DAY0), windows)
    for low, width, nanos in ranges:
        start, end = _bounds(low, width, nanos)
        keep = cut_rows(shared, frame, "specimen_time", start, end)
        expected = rows_in_range(frame, "specimen_time", start, end)
        assert keep.dtype == bool
        assert np.array_equal(keep, expected), (start, end)
        assert not keep.flags.writeable


def test_a_cut_of_times_that_are_no_datetimes_is_the_rows_in_range() -> None:
    zoned = _times([5, None, 30, 2]).dt.tz_localize("Europe/Berlin")
    frame = pd.DataFrame({"specimen_time": zoned})
    shared = SharedRead({}, ("specimen_time", DAY0, DAY0), 30)
    start, end = (t.tz_localize("Europe/Berlin") for t in _bounds(0, 10, 0))
    keep = cut_rows(shared, frame, "specimen_time", start, end)
    assert keep.tolist() == [True, True, False, True]  # hand-checked


def _facts(hours: list[int | None], reasons: list[str | None]) -> EventFacts:
    n = len(hours)
    index = pd.RangeIndex(n)
    frame = pd.DataFrame({"start_time": _times(hours), "drug_name": [f"d{i}" for i in range(n)]})
    reason = pd.Series(reasons, index=index, dtype=object)
    rows = [i for i in range(n) for _ in range(i % 3)]  # 0, 1 or 2 matches per row
    matches = pd.DataFrame(
        {"row": pd.Series(rows, dtype="int64"), "drug_class": [f"c{r}" for r in rows]}
    )
    return EventFacts(frame, reason, "start_time", ("unlisted_drug", AFTER_WINDOW), matches)


@settings(max_examples=120, deadline=None)
@given(
    rows=st.lists(
        st.tuples(HOURS, st.sampled_from([None, None, "unlisted_drug", "status", ""])),
        max_size=30,
    ),
    ends=st.lists(
        st.tuples(st.integers(-24, 24 * 7), st.sampled_from([0, 1])), min_size=1, max_size=4
    ),
)
def test_window_buckets_from_times_in_order_are_the_compared_ones(
    rows: list[tuple[int | None, str | None]], ends: list[tuple[int, int]]
) -> None:
    facts = _facts([h for h, _ in rows], [r for _, r in rows])
    for hour, nanos in ends:
        end = DAY0 + pd.Timedelta(hours=hour) + pd.Timedelta(nanoseconds=nanos)
        out, code, held = window_buckets(facts, Window(end - pd.Timedelta(days=1), end))
        after = (facts.frame["start_time"] >= end).to_numpy() & facts.reason.isna().to_numpy()
        reason = facts.reason.to_numpy(dtype=object, copy=True)
        reason[after] = AFTER_WINDOW
        assert out["reason"].tolist() == reason.tolist()
        assert held.hold_for(out)
        reasons, names = pd.factorize(pd.Series(reason, dtype=object))
        buckets = pd.Series(out["bucket"]).map(BUCKET_CODES.index).to_numpy()
        assert np.array_equal(buckets, code)
        assert held.sizes == coded_sizes(code, BUCKET_CODES, reasons, list(names))
        used = np.flatnonzero(code == BUCKET_CODES.index(USED))
        expected = facts.matches
        assert expected is not None
        expected = expected.loc[expected["row"].isin(used)].reset_index(drop=True)
        pd.testing.assert_frame_equal(used_matches(facts, code), expected)


def test_used_matches_are_those_of_the_used_rows() -> None:
    facts = _facts([1, 2, 3, 4], ["unlisted_drug", None, None, "status"])
    code = np.array([0, 0, 1, 2])  # a row used that was not before the window's check
    matches = used_matches(facts, code)
    assert matches["row"].tolist() == [1]  # row 0 has no match, row 1 one, row 2 not used


@pytest.mark.parametrize("nanos", [0, 1])
def test_rows_after_a_window_in_time_order_or_not(nanos: int) -> None:
    facts = _facts([48, None, 10, 24, 72], [None, None, None, "status", None])
    end = DAY0 + pd.Timedelta(hours=24) + pd.Timedelta(nanoseconds=nanos)
    after = sorted(facts.rows_after(end).tolist())
    assert after == [0, 4]  # row 3 has a reason, row 1 no time
    assert sorted(facts.rows_after(DAY0 + pd.Timedelta(hours=10)).tolist()) == [0, 2, 4]
