"""The time of day of a date + time pair (ingest.joined_times) as exports write it: clock
digits without their leading zeros (an integer HHMM column: 5 is 00:05, 45 is 00:45, 0 is
midnight) and a clock with a UTC offset, whose offset is not read as the clock (08:05+01:00
put the result at 01:00)."""

from __future__ import annotations

import pyarrow as pa

from hyposcreen.config import TableMapping
from hyposcreen.ingest.joined_times import join_times

_PAIR = TableMapping(joined={"specimen_time": ("D", "T")})


def _joined(times: pa.Array) -> list[str | None]:
    batch = pa.record_batch({"D": pa.array(["2026-11-20"] * len(times)), "T": times})
    return join_times(batch, _PAIR, {}).column("D+T").to_pylist()


def test_clock_digits_without_their_leading_zeros_are_the_first_hour() -> None:
    assert _joined(pa.array(["5", "45", "0", "805", "2359"])) == [
        "2026-11-20 00:05",
        "2026-11-20 00:45",
        "2026-11-20 00:00",
        "2026-11-20 08:05",
        "2026-11-20 23:59",
    ]
    assert _joined(pa.array([5, 45, 0, 1230], pa.int64())) == [
        "2026-11-20 00:05",
        "2026-11-20 00:45",
        "2026-11-20 00:00",
        "2026-11-20 12:30",
    ]


def test_a_utc_offset_is_not_taken_for_the_clock() -> None:
    joined = _joined(pa.array(["08:05:00+01:00", "08:05-05:00", "1900-01-01T08:05:00"]))
    assert not any(text.endswith((" 01:00", " 05:00")) for text in joined if text)
    assert joined[0] is not None and "08:05" in joined[0]
    assert joined[2] == "2026-11-20 08:05:00"
