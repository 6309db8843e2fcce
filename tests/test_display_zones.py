"""The zone abbreviation shown beside every clinical time (report/clinical_times.py): read
from the zone database for a minute the clocks neither repeat nor skip, through pandas' localisation
(summer time for a repeated minute, shifted past a skipped one) otherwise; both ways agree."""

from __future__ import annotations

import pandas as pd
import pytest

from hyposcreen.report import clinical_times


def _by_pandas(timezone: str, minute: str) -> str:
    return (
        pd.Timestamp(minute)
        .tz_localize(timezone, ambiguous=True, nonexistent="shift_forward")
        .strftime("%Z")
    )


@pytest.mark.parametrize(
    ("timezone", "minute", "expected", "from_database"),
    [
        ("Europe/Berlin", "2026-03-29T01:59", "CET", True),
        ("Europe/Berlin", "2026-03-29T02:30", "CEST", False),  # skipped: shifted to 03:00 CEST
        ("Europe/Berlin", "2026-03-29T03:00", "CEST", True),
        ("Europe/Berlin", "2026-10-25T01:59", "CEST", True),
        ("Europe/Berlin", "2026-10-25T02:30", "CEST", False),  # repeated: summer time
        ("Europe/Berlin", "2026-10-25T03:00", "CET", True),
        ("America/New_York", "2026-03-08T02:15", "EDT", False),  # skipped
        ("America/New_York", "2026-11-01T01:30", "EDT", False),  # repeated
        ("America/New_York", "2026-11-01T02:00", "EST", True),
        ("UTC", "2026-11-20T05:00", "UTC", True),
    ],
)
def test_each_minute_is_named_as_pandas_localises_it(
    timezone: str, minute: str, expected: str, from_database: bool
) -> None:
    clinical_times._zone_name.cache_clear()
    assert clinical_times._zone_name(timezone, minute) == expected == _by_pandas(timezone, minute)
    plain = clinical_times._unambiguous_zone_name(timezone, minute)
    assert (plain is not None) is from_database
    assert plain in (None, expected)


def test_every_minute_of_the_clock_change_days_agrees_with_pandas() -> None:
    days = {
        "Europe/Berlin": ("2026-03-29", "2026-10-25"),
        "America/New_York": ("2026-03-08", "2026-11-01"),
        "Australia/Lord_Howe": ("2026-04-05", "2026-10-04"),  # 30-minute summer time
        "Europe/Dublin": ("2026-03-29", "2026-10-25"),  # "winter time" is the DST rule
    }
    clinical_times._zone_name.cache_clear()
    for timezone, dates in days.items():
        for day in dates:
            for moment in pd.date_range(day, periods=24 * 60, freq="1min"):
                minute = moment.strftime("%Y-%m-%dT%H:%M")
                assert clinical_times._zone_name(timezone, minute) == _by_pandas(
                    timezone, minute
                ), (
                    timezone,
                    minute,
                )
