"""Which windows a run screens: one given window, a backfill range, or every night since the
last successful one (a missed night is caught up, never skipped)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from hyposcreen.config import Window, parse_timestamp, parse_window
from hyposcreen.errors import ConfigError

ONE_DAY = pd.Timedelta(days=1)


def local_midnight(now: datetime | None, timezone: str) -> pd.Timestamp:
    """Today's 00:00 in the site's time zone, as naive site-local time."""
    today = (now or datetime.now(UTC)).astimezone(ZoneInfo(timezone)).date()
    return pd.Timestamp(today).as_unit("us")


def explicit_window(start: str | None, end: str | None, timezone: str) -> Window:
    """A window from one or two bounds; one bound means one day from (or up to) it."""
    if start is None and end is None:
        raise ConfigError("A window needs a start or an end.")
    if end is None:
        assert start is not None
        first = parse_timestamp(start, timezone, "--window-start")
        return Window(first, first + ONE_DAY)
    if start is None:
        last = parse_timestamp(end, timezone, "--window-end")
        return Window(last - ONE_DAY, last)
    return parse_window(start, end, timezone)


def backfill_windows(start: str, end: str, timezone: str) -> list[Window]:
    """One calendar-day window per day from START through END (both dates included)."""
    first = parse_timestamp(start, timezone, "--backfill START").normalize()
    last = parse_timestamp(end, timezone, "--backfill END").normalize()
    if last < first:
        raise ConfigError(f"--backfill END {end} is before START {start}.")
    days = pd.date_range(first, last, freq="D", unit="us")
    return [Window(day, day + ONE_DAY) for day in days]


def nightly_windows(
    last_end: pd.Timestamp | None, timezone: str, now: datetime | None = None
) -> list[Window]:
    """The nights still to screen: from the last successful window's end up to today's midnight,
    one calendar day each (a partial first piece if the last window ended mid-day); without
    state, yesterday."""
    midnight = local_midnight(now, timezone)
    if last_end is None:
        return [Window(midnight - ONE_DAY, midnight)]
    return _nights_between(last_end, midnight)


def _nights_between(start: pd.Timestamp, stop: pd.Timestamp) -> list[Window]:
    """Calendar-day windows from `start` up to `stop` (a partial piece at either end)."""
    windows: list[Window] = []
    while start < stop:
        end = min(start.normalize() + ONE_DAY, stop)
        windows.append(Window(start, end))
        start = end
    return windows


def unscreened_windows(
    screened: list[Window],
    timezone: str,
    now: datetime | None = None,
    recorded: list[pd.Timestamp | None] | None = None,
) -> list[Window]:
    """Every night from the first screened window's start up to today's midnight that no
    screened window covers: the gaps between screened windows (a night screened ahead of
    missed ones, by `--window-start` or a backfill, leaves them pending) and the nights
    after the last one. `recorded`: when each screened window was recorded (site-local wall
    time; None: not known). A gap counts only when a window before it was recorded before
    the gap ended: the nights were due while runs went on. One old night looked at later
    with the state dir (an ad-hoc `--window-start 2025-06-01`) leaves no gap up to the
    nights the schedule screens: they were never missed."""
    midnight = local_midnight(now, timezone)
    windows: list[Window] = []
    covered_to: pd.Timestamp | None = None
    first_recorded: pd.Timestamp | None = pd.Timestamp.max  # of the windows so far
    times = recorded if recorded is not None else [None] * len(screened)
    for done, at in sorted(zip(screened, times, strict=True), key=lambda p: p[0].start):
        due = first_recorded is None or first_recorded < done.start
        if covered_to is not None and done.start > covered_to and due:
            windows += _nights_between(covered_to, min(done.start, midnight))
        covered_to = done.end if covered_to is None else max(covered_to, done.end)
        first_recorded = None if at is None or first_recorded is None else min(first_recorded, at)
    return windows + (_nights_between(covered_to, midnight) if covered_to is not None else [])


def _wall_time(recorded: object, timezone: str) -> pd.Timestamp | None:
    """The state's `screened_at` (UTC text) as the site's wall time; None when not kept."""
    if not isinstance(recorded, str) or not recorded:
        return None
    try:
        return pd.Timestamp(recorded).tz_convert(timezone).tz_localize(None).as_unit("us")
    except (ValueError, TypeError):
        return None


def window_label(window: Window) -> str:
    """`2026-11-20` for a calendar day, else `2026-11-20T0600_2026-11-20T1800`."""
    if window.start == window.start.normalize() and window.end == window.start + ONE_DAY:
        return window.start.date().isoformat()
    return f"{window.start:%Y-%m-%dT%H%M}_{window.end:%Y-%m-%dT%H%M}"


def plan_windows(
    window_start: str | None,
    window_end: str | None,
    timezone: str,
    now: datetime | None = None,
    state_dir: Path | None = None,
    site: str = "default",
    backfill: tuple[str, str] | None = None,
    read_only: bool = False,
) -> list[Window]:
    """A backfill range, the given window, every night not yet screened (with a state dir:
    since the first one screened, gaps included, or from the first that failed when none
    was), or the night before `now`. `read_only`: the state is only read (StateStore)."""
    from hyposcreen.state import StateStore  # the state module is only needed here

    if backfill is not None:
        if window_start is not None or window_end is not None:
            raise ConfigError(
                "Give either a backfill range (--backfill START END) or a window "
                "(--window-start, --window-end), not both."
            )
        return backfill_windows(backfill[0], backfill[1], timezone)
    if window_start is not None or window_end is not None:
        return [explicit_window(window_start, window_end, timezone)]
    if state_dir is None:
        return nightly_windows(None, timezone, now)
    store = StateStore(state_dir, site, read_only)
    runs = store.runs()
    if len(runs):  # every night not yet screened since the first, gaps included
        screened = [
            Window(pd.Timestamp(s).as_unit("us"), pd.Timestamp(e).as_unit("us"))
            for s, e in zip(runs["window_start"], runs["window_end"], strict=True)
        ]
        recorded = [_wall_time(at, timezone) for at in runs["screened_at"]]
        return unscreened_windows(screened, timezone, now, recorded)
    last_end = None  # no night screened yet: a first night that failed is redone, with
    failed = store.first_failed_start()  # every night after it (a catch-up from there)
    if failed is not None and failed < local_midnight(now, timezone) - ONE_DAY:
        last_end = failed
    return nightly_windows(last_end, timezone, now)


def out_folder(out: str, window: Window) -> Path:
    """The window's own output folder: `{date}` in `out` becomes its label, else a subfolder."""
    label = window_label(window)
    return Path(out.replace("{date}", label)) if "{date}" in out else Path(out) / label
