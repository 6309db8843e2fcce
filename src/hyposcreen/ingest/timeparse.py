"""Vectorised timestamp parsing into naive site-local wall time (datetime64[us]), and the
conversions between site-local wall time and UTC instants that elapsed-time rules use.

Times are held as naive site-local wall time (what the outputs show). Every interval of the
spec is elapsed time (spec §11), so rules compare UTC instants (`to_instants`), which differ
from wall time on the nights the clocks change. A wall time that occurs twice (the repeated
hour when clocks go back) is read as its first occurrence (summer time) unless an offset
written with it, or a typed zone, names the second (`clock_folds`); one that does not
exist (the skipped hour when clocks go forward) is read, as it is parsed, as the first
instant after the gap (02:30 -> 03:00). The same decisions are written in rules.yaml's header.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hyposcreen.ingest.clock_folds import past_skipped, second_occurrences

# an offset only after a clock time: the "-20" of a date-only "2026-11-20" is not one. The
# clock is HH:MM[:SS[.f]], or ISO 8601's basic form after its T (`T061000`, `T0610`, an hour
# alone `T06`: `20261120T061000Z`, `2026-11-20T06Z`), which pandas reads with its zone too
_OFFSET = (
    r"(?:\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?|T\d{2}(?:\d{2}(?:\d{2}(?:[.,]\d+)?)?)?)"
    r"\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$"
)
# The same test in Arrow's RE2 for ASCII text (pandas runs `_OFFSET` in Python's `re`, one
# value at a time, because RE2's \s and \d differ from Python's on some characters): on ASCII
# text Python's \d is [0-9] and \s the six ASCII spaces plus \x1c-\x1f; its `$` also matches
# before a last line end.
_OFFSET_ASCII = (
    r"(?:[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?"
    r"|T[0-9]{2}(?:[0-9]{2}(?:[0-9]{2}(?:[.,][0-9]+)?)?)?)[\t\n\x0b\x0c\r\x1c-\x1f ]*"
    r"(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)\n?\z"
)
# seconds with a fraction pandas may not read as it stands: more than six digits (SQL Server's
# datetime2(7); read at nanosecond resolution, a time after 2262 does not fit) or a decimal comma
_FRACTION = r"(?P<seconds>\d{2}:\d{2}:\d{2})[.,](?P<digits>\d{1,6})\d*"
# a clock time followed by the name UTC or GMT, as BigQuery writes its TIMESTAMP columns in a
# CSV export (`2180-05-06 08:00:00 UTC`): the same instant as the offset +00:00
_ZONE_NAME = r"(?P<clock>\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)\s*(?i:UTC|GMT)$"
_UTC_NAMES = frozenset({"UTC", "ETC/UTC", "ETC/UCT", "UCT", "ZULU", "ETC/ZULU"})
_NONEXISTENT = "shift_forward"
_AMBIGUOUS_FIRST = True  # pandas: True = the daylight-saving reading = the first occurrence


def parse_times(raw: pd.Series, timezone: str, formats: tuple[str, ...] = ()) -> pd.Series:
    """Parse text (or already-typed) times; unreadable values become NaT, never an exception.
    Each value is parsed on its own: the answer for a row does not depend on the other rows.
    (`parse_times_folded` also tells which of them name the second occurrence of a repeated
    hour.)

    Text with a UTC offset is converted to the site time zone; text without one is taken as
    site-local already. Site formats (strftime patterns from the mapping) are tried first, then
    ISO 8601. Typed timestamps: tz-aware ones are converted, naive ones are kept as they are.
    Text that does not parse is read again, apart from the rest, with a fraction of the seconds
    of more than six digits or after a decimal comma cut to microseconds (`_FRACTION`) and the
    zone name UTC or GMT after the clock time written as the offset +00:00 (`_ZONE_NAME`).
    """
    return parse_times_folded(raw, timezone, formats)[0]


def parse_times_folded(
    raw: pd.Series, timezone: str, formats: tuple[str, ...] = ()
) -> tuple[pd.Series, np.ndarray | None]:
    """`parse_times`, and which of the times a written offset or a typed zone places in the
    second occurrence of an hour the clocks repeat (`clock_folds`): None when none does."""
    index, raw = raw.index, raw.reset_index(drop=True)  # rows by position from here
    folds = _Folds(timezone, len(raw))
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):
        return _past_gaps(folds.to_local(raw), timezone).set_axis(index), folds.second
    text = raw.astype("str").str.strip()
    text = text.where(text.str.len() > 0)
    parsed = _parse_text(text, timezone, formats, folds)
    failed = parsed.isna() & text.notna()
    if failed.any():  # read alone: one long fraction in a batch no longer spoils the others
        cut = text[failed].str.replace(_FRACTION, r"\g<seconds>.\g<digits>", regex=True)
        cut = cut.str.replace(_ZONE_NAME, r"\g<clock>+00:00", regex=True)
        parsed.loc[cut.index] = _parse_text(cut, timezone, formats, folds)
    return _past_gaps(parsed, timezone).set_axis(index), folds.second


def _past_gaps(wall: pd.Series, timezone: str) -> pd.Series:
    """A wall time the clocks skip read as the end of the gap (`clock_folds.past_skipped`); one
    before the year 1 (`-0`, `-1` read by ISO 8601 as the years 0 and -1; a typed Parquet
    time) names no time of any record and is none (NaT): no date of the outputs could show it."""
    wall = wall.where(wall.isna() | (wall >= _FIRST))
    return wall if is_utc(timezone) else past_skipped(wall, timezone)


class _Folds:
    """The second occurrences found while times with a zone are converted to wall time."""

    def __init__(self, timezone: str, length: int) -> None:
        self.timezone, self.length = timezone, length
        self.second: np.ndarray | None = None  # by row position

    def to_local(self, values: pd.Series) -> pd.Series:
        """Times (tz-aware or naive) as naive site-local wall time, marking the rows that fall
        in a repeated hour's second occurrence; a naive time is kept as it is."""
        if values.dt.tz is None:
            return values.astype("datetime64[us]")
        instants = values.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[us]")
        if not is_utc(self.timezone) and len(instants):
            found = second_occurrences(instants, self.timezone)
            if found is not None:
                if self.second is None:
                    self.second = np.zeros(self.length, dtype=bool)
                self.second[values.index.to_numpy()] = found
        return to_wall_time(instants, self.timezone)  # the instants converted once


def _parse_text(
    text: pd.Series, timezone: str, formats: tuple[str, ...], folds: _Folds
) -> pd.Series:
    """`parse_times` on stripped text (None where empty), without the second reading."""
    parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    pending = text.notna()
    for fmt in formats:
        if not pending.any():
            break
        # a format with an offset: read as instants (offsets may differ from row to row,
        # summer and winter time), then converted to the site's wall time
        zoned = "%z" in fmt or "%Z" in fmt
        attempt = pd.to_datetime(text[pending], format=fmt, errors="coerce", utc=zoned)
        attempt = folds.to_local(attempt) if attempt.dt.tz is not None else attempt
        parsed.loc[attempt.index] = attempt.astype("datetime64[us]")
        pending &= parsed.isna()
    if pending.any():
        candidates = text[pending]
        has_offset = _has_offset(candidates)
        if has_offset.any():
            aware = pd.to_datetime(
                candidates[has_offset], format="ISO8601", errors="coerce", utc=True
            )
            parsed.loc[aware.index] = folds.to_local(aware)
        naive_text = candidates[~has_offset]
        if len(naive_text):
            parsed.loc[naive_text.index] = _iso_times(naive_text, folds)
    return parsed.astype("datetime64[us]")


def _iso_times(text: pd.Series, folds: _Folds) -> pd.Series:
    """ISO 8601 texts `_has_offset` finds no offset in, as wall time. Should pandas still read
    a zone in some (a form `_OFFSET` does not name), such a batch is of instants, converted as
    the offsets `_has_offset` finds are, and a batch mixing them with naive texts (which pandas
    refuses whole) is read in halves, so every value is read as it would be alone."""
    try:
        found = pd.to_datetime(text, format="ISO8601", errors="coerce")
    except ValueError:  # naive and zoned texts, or several zones, in one batch
        if len(text) < 2:
            return pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
        half = len(text) // 2
        return pd.concat([_iso_times(text.iloc[:half], folds), _iso_times(text.iloc[half:], folds)])
    if found.dt.tz is not None:
        return folds.to_local(found)
    return found.astype("datetime64[us]")


def _has_offset(text: pd.Series) -> pd.Series:
    """Whether each text ends in a clock time with a UTC offset (`_OFFSET`, as Python's `re`
    reads it); in Arrow when every value is ASCII, else in pandas."""
    values = pa.array(text, type=pa.string(), from_pandas=True)
    if len(values) and pc.all(pc.string_is_ascii(values)).as_py() is not False:
        found = pc.fill_null(pc.match_substring_regex(values, _OFFSET_ASCII), False)
        return pd.Series(found.to_numpy(zero_copy_only=False), index=text.index, dtype=bool)
    return text.str.contains(_OFFSET, regex=True, na=False)


# A zone's conversions go through Python's datetime, which ends with the year 9999, so a time
# in the calendar's last hours (9999-12-31T23:59:59, a common "no end" placeholder) could not
# be converted where the other side of the offset is in the year 10000. Times from the year
# `_FAR` on are converted 400 years earlier and moved back: the Gregorian calendar repeats
# every 400 years, and so do a zone's rules that far ahead (its last yearly rule).
_FAR = pd.Timestamp("9000-01-01")
_FIRST = pd.Timestamp("0001-01-01")  # the first day Python's datetime (and so a display) holds
_CYCLE = pd.Timedelta(days=146097)  # 400 Gregorian years


def _converted(values: pd.Series, convert: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """`convert(values)` (naive datetime64[us] to naive datetime64[us]), the values from the
    year `_FAR` on converted 400 years earlier and moved back by as much."""
    far = (values >= _FAR).to_numpy(dtype=bool)  # NaT: False
    if not far.any():
        return convert(values)
    shifted = values.copy()
    shifted[far] = values[far] - _CYCLE
    result = convert(shifted)
    result[far] = result[far] + _CYCLE
    return result


def is_utc(timezone: str) -> bool:
    """UTC: wall time and instants are the same, no conversion needed."""
    return timezone.upper() in _UTC_NAMES


def to_instants(local: pd.Series, timezone: str, second: pd.Series | None = None) -> pd.Series:
    """Naive site-local wall times as naive UTC instants (datetime64[us]); NaT stays NaT.
    A repeated hour's wall time is its first occurrence, or its second where `second` (the
    time's `clock_folds.fold_column`; null counts as False) says so."""
    values = local.astype("datetime64[us]")
    if is_utc(timezone) or values.empty:
        return values
    first = np.full(len(values), _AMBIGUOUS_FIRST)
    if second is not None:
        first &= ~second.fillna(False).to_numpy(dtype=bool)

    def convert(wall: pd.Series) -> pd.Series:
        aware = wall.dt.tz_localize(timezone, ambiguous=first, nonexistent=_NONEXISTENT)
        return aware.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[us]")

    return _converted(values, convert)


def to_wall_time(instants: pd.Series, timezone: str) -> pd.Series:
    """Naive UTC instants as naive site-local wall times (the inverse of `to_instants`)."""
    values = instants.astype("datetime64[us]")
    if is_utc(timezone) or values.empty:
        return values

    def convert(utc: pd.Series) -> pd.Series:
        local = utc.dt.tz_localize("UTC").dt.tz_convert(timezone).dt.tz_localize(None)
        return local.astype("datetime64[us]")

    return _converted(values, convert)


def instant_of(local: pd.Timestamp, timezone: str) -> pd.Timestamp:
    """One naive site-local wall time as a naive UTC instant (same rules as `to_instants`)."""
    if is_utc(timezone):
        return local
    aware = local.tz_localize(timezone, ambiguous=_AMBIGUOUS_FIRST, nonexistent=_NONEXISTENT)
    return aware.tz_convert("UTC").tz_localize(None).as_unit("us")


def wall_time_of(instant: pd.Timestamp, timezone: str) -> pd.Timestamp:
    if is_utc(timezone):
        return instant
    return instant.tz_localize("UTC").tz_convert(timezone).tz_localize(None).as_unit("us")


def elapsed_before(local: pd.Timestamp, span: pd.Timedelta, timezone: str) -> pd.Timestamp:
    """The site-local wall time `span` of elapsed time before `local` (72 h before a midnight
    after the clocks went back is 01:00 on the wall clock, not 00:00)."""
    return wall_time_of(instant_of(local, timezone) - span.as_unit("us"), timezone)


def time_in_unit(bound: pd.Timestamp, dtype: np.dtype) -> np.datetime64 | None:
    """`bound` (a naive time) as a datetime64 of `dtype`'s unit when that unit holds it
    exactly; else None, and the caller compares by pandas (a bound finer than the column's
    unit, with a zone, beyond the unit's range, or not a time)."""
    if not isinstance(bound, pd.Timestamp) or bound.tz is not None:
        return None
    unit = np.datetime_data(dtype)[0]
    if unit not in ("s", "ms", "us", "ns"):
        return None
    try:
        held = bound.as_unit(unit)
    except (ValueError, OverflowError):
        return None
    return held.to_datetime64() if held == bound else None
