"""Spec §11: every interval is elapsed time, computed on UTC instants; outputs stay site-local.

Nights the clocks change in 2026: Europe/Berlin goes forward 29 March (02:00 CET → 03:00 CEST)
and back 25 October (03:00 CEST → 02:00 CET); America/New_York goes forward 8 March
(02:00 EST → 03:00 EDT) and back 1 November (02:00 EDT → 01:00 EST).
"""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import (
    RULES,
    cleaned_dx,
    cleaned_meds,
    glucose,
    lab,
    med,
    potassium,
    sodium,
    used_labs,
)
from hyposcreen.clean import read_window_start
from hyposcreen.config import Window
from hyposcreen.ingest.timeparse import elapsed_before, instant_of, to_instants, to_wall_time
from hyposcreen.screen.cases import ScreenResult, screen

BERLIN, NEW_YORK = "Europe/Berlin", "America/New_York"
ts = pd.Timestamp


def instants(texts: list[str], timezone: str) -> list[pd.Timestamp]:
    return list(to_instants(pd.Series(pd.to_datetime(texts)), timezone))


def screen_local(
    rows: list[dict],
    window: Window,
    timezone: str,
    medications: list[dict] = (),  # type: ignore[assignment]
) -> ScreenResult:
    """Clean and screen rows whose times are site-local wall time in `timezone`."""
    wide = Window(window.start - pd.Timedelta(days=10), window.end)
    meds, matches = cleaned_meds(list(medications), wide)
    return screen(
        used_labs(rows, wide),
        meds.loc[meds["bucket"] == "used"],
        matches,
        cleaned_dx([], wide),
        RULES,
        RULES.profile("seed"),
        window,
        timezone=timezone,
    )


# ------------------------------------------------------------------ conversions


def test_01_30_and_02_30_on_the_fall_back_night_are_two_hours_apart() -> None:
    # New York, 1 Nov: 01:30 happens twice; the first (EDT, UTC-4) is 05:30Z. 02:30 exists
    # once (EST, UTC-5): 07:30Z. Elapsed: 2 h, though the wall clock says 1 h.
    first, second = instants(["2026-11-01 01:30", "2026-11-01 02:30"], NEW_YORK)
    assert (first, second) == (ts("2026-11-01 05:30"), ts("2026-11-01 07:30"))
    assert second - first == pd.Timedelta(hours=2)


def test_a_repeated_wall_time_is_its_first_occurrence() -> None:
    # Berlin, 25 Oct: 02:30 happens in CEST (UTC+2) and again in CET; the first is 00:30Z
    assert instants(["2026-10-25 02:30"], BERLIN) == [ts("2026-10-25 00:30")]


def test_a_skipped_wall_time_moves_to_the_end_of_the_gap() -> None:
    # Berlin, 29 Mar: 02:30 does not exist; it is read as 03:00 CEST = 01:00Z
    assert instants(["2026-03-29 02:30"], BERLIN) == [ts("2026-03-29 01:00")]
    assert instant_of(ts("2026-03-29 02:30"), BERLIN) == ts("2026-03-29 01:00")


def test_wall_time_round_trips_and_utc_is_unchanged() -> None:
    local = pd.Series(pd.to_datetime(["2026-10-25 01:59", "2026-10-25 03:00", None]))
    back = to_wall_time(to_instants(local, BERLIN), BERLIN)
    assert back.tolist()[:2] == local.tolist()[:2] and pd.isna(back.iloc[2])
    assert to_instants(local, "UTC").equals(local.astype("datetime64[us]"))


def test_the_read_window_reaches_73_hours_of_elapsed_time_back() -> None:
    # window from 2 Nov 00:00 New York (EST) = 05:00Z; 72 h context + 60 min pairing = 73 h
    # before is 30 Oct 04:00Z = 00:00 EDT on the wall (wall-clock arithmetic gave 29 Oct 23:00)
    window = Window(ts("2026-11-02"), ts("2026-11-03"))
    assert read_window_start(window, RULES, timezone=NEW_YORK) == ts("2026-10-30 00:00")
    assert read_window_start(window, RULES) == ts("2026-10-29 23:00")  # UTC site: plain hours
    assert elapsed_before(ts("2026-03-30 00:00"), pd.Timedelta(hours=24), BERLIN) == ts(
        "2026-03-28 23:00"
    )  # 30 Mar 00:00 CEST = 29 Mar 22:00Z; − 24 h = 28 Mar 22:00Z = 23:00 CET


# ------------------------------------------------------------------ rules on instants


def test_an_over_correction_24_h_apart_in_instants_but_25_h_on_the_wall_counts() -> None:
    # New York: 120 at 7 Mar 12:00 EST (17:00Z), 130 at 8 Mar 13:00 EDT (17:00Z): 24 h elapsed
    # (25 h on the wall clock); rise 10 > 8 → over-rapid correction, tier 1
    rows = [sodium("120", ts("2026-03-07 12:00")), sodium("130", ts("2026-03-08 13:00"))]
    window = Window(ts("2026-03-07"), ts("2026-03-09"))
    case = screen_local(rows, window, NEW_YORK).cases.iloc[0]
    assert bool(case["overcorrection"]) and case["oc_rise"] == 10.0
    # outputs stay site-local wall time
    assert (case["oc_from_time"], case["oc_to_time"]) == (
        ts("2026-03-07 12:00"),
        ts("2026-03-08 13:00"),
    )
    assert case["index_time"] == ts("2026-03-07 12:00")
    # the same wall times at a UTC site are 25 h apart: no over-correction
    assert not bool(screen_local(rows, window, "UTC").cases.iloc[0]["overcorrection"])


def test_a_pair_24_h_apart_on_the_wall_but_25_h_elapsed_does_not_count() -> None:
    # New York: 120 at 31 Oct 12:00 EDT (16:00Z), 130 at 1 Nov 12:00 EST (17:00Z): 25 h elapsed
    rows = [sodium("120", ts("2026-10-31 12:00")), sodium("130", ts("2026-11-01 12:00"))]
    window = Window(ts("2026-10-31"), ts("2026-11-02"))
    assert not bool(screen_local(rows, window, NEW_YORK).cases.iloc[0]["overcorrection"])
    assert bool(screen_local(rows, window, "UTC").cases.iloc[0]["overcorrection"])


def test_a_glucose_60_minutes_away_in_real_time_across_spring_forward_pairs() -> None:
    # Berlin, 29 Mar: sodium 01:30 CET (00:30Z), glucose 03:30 CEST (01:30Z): 60 min elapsed
    # (2 h on the wall) → paired: 130 + 1.6 × (400 − 100) / 100 = 134.8
    rows = [sodium("130", ts("2026-03-29 01:30")), glucose("400", ts("2026-03-29 03:30"))]
    window = Window(ts("2026-03-29"), ts("2026-03-30"))
    results = screen_local(rows, window, BERLIN).sodium_results
    assert results["corrected_sodium"].tolist() == [pytest.approx(134.8)]
    assert results["glucose_time"].tolist() == [ts("2026-03-29 03:30")]  # shown on the wall


def test_a_glucose_40_wall_minutes_but_100_real_minutes_away_does_not_pair() -> None:
    # Berlin, 25 Oct: sodium 02:30 (first occurrence, CEST: 00:30Z), glucose 03:10 CET (02:10Z):
    # 100 min elapsed > 60 → no correction, the sodium stays 130
    rows = [sodium("130", ts("2026-10-25 02:30")), glucose("400", ts("2026-10-25 03:10"))]
    window = Window(ts("2026-10-25"), ts("2026-10-26"))
    results = screen_local(rows, window, BERLIN).sodium_results
    assert results["corrected_sodium"].tolist() == [130.0]
    assert pd.isna(results["glucose_mg_dl"].iloc[0])


def test_a_cofactor_23_5_h_before_the_index_across_spring_forward_counts() -> None:
    # Berlin: index 29 Mar 12:00 CEST (10:00Z); K 3.0 on 28 Mar 11:30 CET (10:30Z): 23.5 h
    # elapsed (24.5 h on the wall) → within ±24 h → hypokalemia
    rows = [sodium("130", ts("2026-03-29 12:00")), potassium("3.0", ts("2026-03-28 11:30"))]
    window = Window(ts("2026-03-29"), ts("2026-03-30"))
    result = screen_local(rows, window, BERLIN)
    assert result.cases.iloc[0]["risk_factors"] == "hypokalemia"
    assert result.cofactor_evidence["time"].tolist() == [ts("2026-03-28 11:30")]


def test_the_window_is_site_local_and_the_index_time_is_shown_as_read() -> None:
    # New York window 1 Nov 00:00-24:00 local (25 h long); a sodium at 23:30 local is inside
    rows = [sodium("128", ts("2026-11-01 23:30")), lab("140", ts("2026-11-02 00:30"))]
    window = Window(ts("2026-11-01"), ts("2026-11-02"))
    cases = screen_local(rows, window, NEW_YORK).cases
    assert cases["index_time"].tolist() == [ts("2026-11-01 23:30")]


def test_the_7_day_grace_after_a_drug_ends_is_elapsed_time() -> None:
    # Berlin: furosemide ended 22 Mar 12:00 CET (11:00Z); index 29 Mar 12:30 CEST (10:30Z):
    # 6 d 23.5 h elapsed ≤ 7 d grace → still active (the wall clock says 7 d 0.5 h)
    drug = med("Furosemide 40mg tab", ts("2026-03-01 09:00"), ts("2026-03-22 12:00"))
    rows = [sodium("130", ts("2026-03-29 12:30"))]
    window = Window(ts("2026-03-29"), ts("2026-03-30"))
    cases = screen_local(rows, window, BERLIN, [drug]).cases
    assert cases["risk_factors"].tolist() == ["loop_diuretic"]
    assert screen_local(rows, window, "UTC", [drug]).cases["risk_factors"].tolist() == [""]
