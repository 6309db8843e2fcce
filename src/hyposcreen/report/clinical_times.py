"""Times and dates in clinical words for the page and the spreadsheet: "20 Nov 2026 05:00
CET" with the site's zone named (a time in an hour the clocks repeat named by the offset of its
instant, written after it or held beside it; without one, as summer time; a skipped minute is
shifted past the gap), dates as "12 May 2026"; one value at a time or a column at once, and
inside evidence texts. Text that only looks like a time or a date (month 13,
30 Feb) is left as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from functools import cache, lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

# a time, with the UTC offset the outputs write after one in an hour the clocks repeat
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?(?:[+-]\d{2}:\d{2})?")
# a calendar date standing alone: r"\b(\d{4}-\d{2}-\d{2})\b(?!T)", the \b before its first digit
# (a word character) written as no word character before it, checked once a date is found
# (Python's re then looks for a date only where a digit is: twice as fast over long text)
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(?<!\w\d{4}-\d{2}-\d{2})\b(?!T)")
# the same two patterns found from the first '-' of a match on (its 4 digits looked behind):
# a pattern led by a literal is searched for that character alone, not tried at every digit
_ISO_FROM_DASH = re.compile(r"-(?<=\d{4}-)\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?(?:[+-]\d{2}:\d{2})?")
_DATE_FROM_DASH = re.compile(r"-(?<=\d{4}-)(?<!\w\d{4}-)\d{2}-\d{2}\b(?!T)")


def clinical_time(value: Any, timezone: str) -> str:
    """'20 Nov 2026 05:00 CET' for a naive site-local time (or its ISO text); '' for missing.
    A time with its UTC offset (the outputs write one in an hour the clocks repeat) is shown
    in the zone of that instant: '2026-10-25T02:30:00+01:00' is '25 Oct 2026 02:30 CET'."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    stamp = _parse_time(value)
    if stamp.tzinfo is not None:
        return _zoned_time(stamp, timezone)
    hour = stamp.strftime("%Y-%m-%dT%H")
    zone = _zone_of_hour(timezone, hour) or _zone_name(timezone, stamp.strftime("%Y-%m-%dT%H:%M"))
    return f"{stamp.strftime('%d %b %Y %H:%M')} {zone}"


def _zoned_time(stamp: datetime, timezone: str) -> str:
    """A time with its offset in the site's wall time and the zone of that instant; where the
    zone is not one zoneinfo knows, the time as written with its offset named."""
    try:
        local = stamp.astimezone(ZoneInfo(timezone))
    except (ValueError, KeyError, OSError, OverflowError):
        offset = stamp.isoformat(timespec="minutes")[16:]  # '+01:00'
        return f"{stamp.strftime('%d %b %Y %H:%M')} UTC{offset}"
    return f"{local.strftime('%d %b %Y %H:%M')} {local.tzname()}"


def _parse_time(value: Any) -> datetime:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)  # the ISO text inside evidence (fast)
        except ValueError:
            pass
    return pd.Timestamp(value)


@cache
def _zone_name(timezone: str, minute: str) -> str:
    """The zone's abbreviation at a site-local minute: an ambiguous time (clocks back) counts
    as summer time, a skipped one (clocks forward) is shifted past the gap."""
    plain = _unambiguous_zone_name(timezone, minute)
    if plain is not None:
        return plain
    try:
        return (
            pd.Timestamp(minute)
            .tz_localize(timezone, ambiguous=True, nonexistent="shift_forward")
            .strftime("%Z")
        )
    except (TypeError, ValueError):
        return timezone


def _unambiguous_zone_name(timezone: str, minute: str) -> str | None:
    """The abbreviation of a minute the clocks neither repeat nor skip, straight from the zone
    database (what pandas reads too, ~10x faster than localising a Timestamp); None for any
    other minute or a zone name zoneinfo does not know (pandas decides those)."""
    try:
        zone = ZoneInfo(timezone)
        moment = datetime.fromisoformat(minute)
    except (ValueError, KeyError, TypeError, OSError):  # ZoneInfoNotFoundError is a KeyError
        return None
    first, second = moment.replace(tzinfo=zone), moment.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second.utcoffset():  # repeated or skipped
        return None
    return first.tzname()


def instant_zone(timezone: str, wall: Any, offset: str) -> str:
    """The zone's abbreviation at the instant of a site-local wall time with its UTC offset."""
    return _zone_at(timezone, f"{pd.Timestamp(wall).strftime('%Y-%m-%dT%H:%M')}{offset}")


@cache
def _zone_at(timezone: str, minute_with_offset: str) -> str:
    """The zone's abbreviation at an instant written as site-local minute and UTC offset."""
    try:
        moment = datetime.fromisoformat(minute_with_offset).astimezone(ZoneInfo(timezone))
    except (ValueError, KeyError, OSError, OverflowError):
        return timezone
    return moment.tzname() or timezone


@cache
def _zone_of_hour(timezone: str, hour: str) -> str | None:
    """The abbreviation shared by every minute of a site-local hour (None when it changes
    within the hour): zones change at most once an hour, so its first and last minute tell."""
    first, last = _zone_name(timezone, f"{hour}:00"), _zone_name(timezone, f"{hour}:59")
    return first if first == last else None


def clinical_time_texts(values: pd.Series, timezone: str) -> pd.Series:
    """`clinical_time` of each naive site-local time, a column at once ('' for missing): the
    zone is looked up once per hour shown (per minute only in an hour the clocks change)."""
    stamps = pd.to_datetime(values).to_numpy()
    return pd.Series(clinical_time_objects(stamps, timezone), dtype=object)


def clinical_time_objects(
    stamps: np.ndarray, timezone: str, offsets: np.ndarray | None = None
) -> np.ndarray:
    """`clinical_time_texts` of numpy's naive times (datetime64) as an object array, no
    pandas column made on the way. `offsets` (None, or per time the UTC offset of one in an
    hour the clocks repeat: the screen's `clock_folds.offset_column`) names such a time's zone
    by its instant, the second 02:30 of Berlin's autumn night CET, not CEST."""
    present = ~np.isnat(stamps)
    zones = _zones_of_hours(stamps, present, timezone)
    unsure = present & pd.isna(zones)
    if unsure.any():
        zones[unsure] = [
            _zone_name(timezone, pd.Timestamp(t).strftime("%Y-%m-%dT%H:%M")) for t in stamps[unsure]
        ]
    if offsets is not None:
        zoned = present & ~pd.isna(offsets)
        zones[zoned] = [
            instant_zone(timezone, t, offset)
            for t, offset in zip(stamps[zoned], offsets[zoned], strict=True)
        ]
    text = _day_month_year_minute(stamps, present) + " " + np.where(pd.isna(zones), "", zones)
    text[~present] = ""
    return text


def _zones_of_hours(stamps: np.ndarray, present: np.ndarray, timezone: str) -> np.ndarray:
    """`_zone_of_hour` of each time (None where missing or the zone changes in its hour),
    each distinct hour named once (numpy's ISO text of it: '2026-11-20T05')."""
    zones = np.full(len(stamps), None, dtype=object)
    hours = stamps[present].astype("datetime64[h]")  # floored, as dt.floor("h")
    if not len(hours):
        return zones
    distinct, position = np.unique(hours, return_inverse=True)
    years = distinct.astype("datetime64[Y]").astype("int64") + 1970
    if years.min() < 1000 or years.max() > 9999:  # not four digits: as strftime writes them
        texts = [pd.Timestamp(h).strftime("%Y-%m-%dT%H") for h in distinct]
    else:
        texts = list(np.datetime_as_string(distinct, unit="h"))
    named = np.array([_zone_of_hour(timezone, str(hour)) for hour in texts], dtype=object)
    zones[present] = named[position.reshape(-1)]
    return zones


_MONTHS = np.array("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split())
# "00:00" .. "23:59": the hour and minute of each minute of a day, as %H:%M writes them
_MINUTES_OF_DAY = np.array([f"{h:02d}:{m:02d}" for h in range(24) for m in range(60)], object)


def _day_month_year_minute(stamps: np.ndarray, present: np.ndarray) -> np.ndarray:
    """strftime('%d %b %Y %H:%M') of each naive time ('' where missing): each distinct day's
    '20 Nov 2026 ' cut out of numpy's ISO text of it, each time's '05:07' from a table of the
    day's minutes."""
    shown = np.full(len(stamps), "", dtype=object)
    if not present.any():
        return shown
    minutes = stamps[present].astype("datetime64[m]")  # floored, as %M shows a minute
    days = minutes.astype("datetime64[D]")  # floored
    distinct, position = np.unique(days, return_inverse=True)
    years = distinct.astype("datetime64[Y]").astype("int64") + 1970
    if years.min() < 1000 or years.max() > 9999:  # not four digits
        written = pd.Series(stamps).dt.strftime("%d %b %Y %H:%M")
        return written.to_numpy(dtype=object, na_value="")
    iso = np.datetime_as_string(distinct, unit="D")  # 2026-11-20
    month = _MONTHS[distinct.astype("datetime64[M]").astype("int64") % 12]
    day_texts = np.strings.add(np.strings.slice(iso, 8, 10), " ")
    for piece in (month, " ", np.strings.slice(iso, 0, 4), " "):
        day_texts = np.strings.add(day_texts, piece)
    of_day = (minutes - days).astype("int64")
    shown[present] = day_texts.astype(object)[position.reshape(-1)] + _MINUTES_OF_DAY[of_day]
    return shown


def clinical_times_in(text: str, timezone: str) -> str:
    """Every ISO time inside `text` rewritten in the clinical format, and every calendar
    date (a medication's start/end) in the same day-month-year form: '12 May 2026'. Each
    distinct time and date is put in words once (the page and the workbook show the same
    evidence times, a case's times recur in its evidence texts)."""
    if "-" not in text:  # neither a time nor a date
        return text
    timed = _matches_rewritten(_ISO_FROM_DASH, text, lambda t: _time_in_words(t, timezone))
    if timed is None:
        timed = _ISO.sub(lambda m: _time_in_words(m.group(0), timezone), text)
    dated = _matches_rewritten(_DATE_FROM_DASH, timed, _date_in_words)
    if dated is None:
        return _DATE.sub(lambda m: _date_in_words(m.group(1)), timed)
    return dated


def _matches_rewritten(
    from_dash: re.Pattern[str], text: str, rewrite: Callable[[str], str]
) -> str | None:
    """`text` with each match of a pattern found from its dash (`_ISO_FROM_DASH`: the match
    starts 4 digits before it) rewritten: what `re.sub` of the whole pattern makes, as both
    take the leftmost match at or after the last one's end. None where a match would start
    inside the last one (the caller's `re.sub` decides those)."""
    pieces: list[str] = []
    end = 0
    for match in from_dash.finditer(text):
        start = match.start() - 4
        if start < end:
            return None
        pieces += (text[end:start], rewrite(text[start : match.end()]))
        end = match.end()
    pieces.append(text[end:])
    return "".join(pieces)


@lru_cache(maxsize=1 << 16)
def _time_in_words(iso: str, timezone: str) -> str:
    """The time in words; text that only looks like one (month 13, 30 Feb) as written."""
    try:
        return clinical_time(iso, timezone)
    except (ValueError, OverflowError):  # free text (a drug name), not a time
        return iso


@lru_cache(maxsize=1 << 12)
def _date_in_words(day: str) -> str:
    try:
        return date.fromisoformat(day).strftime("%d %b %Y")
    except ValueError:  # free text that only looks like a date: as written
        return day
