"""Times with more than six fractional digits, as SQL Server's datetime2(7) writes them
(`2026-11-20 06:10:00.1234567`, and `9999-12-31 23:59:59.9999999` for "no end"): each is read
to the microsecond, and the answer for a row does not depend on the other rows. Parsed at
nanosecond resolution, one such text used to make every time after 2262 in its batch
unreadable (and itself too when after 2262): a de-identified extract shifted into 2300, or a
medication whose end is the 9999 sentinel, was quarantined `missing_key` / `bad_time`."""

from __future__ import annotations

import pandas as pd
import pytest

from hyposcreen.ingest.timeparse import parse_times


@pytest.mark.parametrize("timezone", ["UTC", "Europe/Berlin"])
def test_seven_fractional_digits_do_not_make_far_future_times_unreadable(timezone: str) -> None:
    texts = pd.Series(
        [
            "2300-11-20T06:10:00",
            "2026-11-20 06:10:00.1234567",
            "9999-12-31 23:59:59.9999999",
            "2300-11-20T06:10:00.1234567+00:00",
            "2150-01-01T00:00:00.123456789",
        ],
        dtype="str",
    )
    parsed = parse_times(texts, timezone)
    one_by_one = pd.concat([parse_times(texts.iloc[[i]], timezone) for i in range(len(texts))])
    assert parsed.notna().all(), parsed
    pd.testing.assert_series_equal(parsed, one_by_one)
    assert parsed.iloc[0] == pd.Timestamp("2300-11-20 06:10:00")
    assert parsed.iloc[1] == pd.Timestamp("2026-11-20 06:10:00.123456")  # truncated, not rounded
    assert parsed.iloc[2] == pd.Timestamp("9999-12-31 23:59:59.999999")
    assert parsed.iloc[4] == pd.Timestamp("2150-01-01 00:00:00.123456")


def test_a_comma_as_decimal_sign_of_the_seconds_is_read_alike() -> None:
    texts = pd.Series(["2300-11-20T06:10:00,1234567", "2300-11-20T06:10:00.1234567"], dtype="str")
    parsed = parse_times(texts, "UTC")
    assert parsed.tolist() == [pd.Timestamp("2300-11-20 06:10:00.123456")] * 2


def test_unreadable_text_stays_unreadable() -> None:
    texts = pd.Series(["2026-11-20T06:10:00.1234567x", "05/12/2026 14:30", "2026-02-30"])
    assert parse_times(texts.astype("str"), "UTC").isna().all()
