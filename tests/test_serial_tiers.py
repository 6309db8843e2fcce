"""Spec §7 (cases and the index), §8 (serial figures, over-rapid correction, workup)."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import (
    T0,
    WINDOW,
    days,
    dx,
    glucose,
    hours,
    lab,
    med,
    minutes,
    only_case,
    run_screen,
    sodium,
)
from hyposcreen.config import Window

# ------------------------------------------------------------------ cases and the index


def test_index_is_the_lowest_corrected_sodium_in_the_window() -> None:
    # T0: 127 + 1.6 × (300 − 100) / 100 = 130.2; T0 + 5 h: 129 → index = 129 at T0 + 5 h
    case = only_case([sodium("127"), glucose("300"), sodium("129", T0 + hours(5))])
    assert (case["index_time"], case["corrected_sodium"]) == (T0 + hours(5), 129.0)


def test_index_tie_takes_the_earliest_result() -> None:
    case = only_case([sodium("128", T0 + hours(5)), sodium("128"), sodium("131", T0 + hours(9))])
    assert case["index_time"] == T0
    assert case["n_low_results"] == 3  # 128, 128, 131 are all ≤ 135


def test_context_results_are_never_listed_by_themselves() -> None:
    # P1 is low only 10 h before the window (context); P2 is a real case
    result = run_screen([sodium("118", WINDOW.start - hours(10)), sodium("130", patient_id="P2")])
    assert list(result.cases["patient_id"]) == ["P2"]


def test_n_low_results_counts_window_results_only() -> None:
    case = only_case([sodium("129", WINDOW.start - hours(1)), sodium("130", WINDOW.start)])
    assert case["n_low_results"] == 1


def test_no_hyponatremic_result_gives_no_cases() -> None:
    result = run_screen([sodium("140"), sodium("136", T0 + hours(5))])
    assert result.cases.empty


# ------------------------------------------------------------------ §8 serial figures


def test_latest_sodium_is_the_last_result_before_window_end() -> None:
    window = Window(T0 - days(5), T0 + hours(20))
    case = only_case(
        [sodium("128"), sodium("133", T0 + hours(10)), sodium("139", window.end)], window=window
    )
    # 139 at window_end is outside [start, end) → latest is 133 at T0 + 10 h
    assert (case["latest_sodium"], case["latest_time"]) == (133.0, T0 + hours(10))


def test_latest_sodium_is_corrected() -> None:
    # 131 + 1.6 × (200 − 100) / 100 = 132.6
    rows = [sodium("128"), sodium("131", T0 + hours(6)), glucose("200", T0 + hours(6))]
    assert only_case(rows)["latest_sodium"] == pytest.approx(132.6)


def test_delta_48h_uses_the_most_recent_earlier_result_within_48_hours_inclusive() -> None:
    rows = [
        sodium("140", T0 - hours(60)),  # older than 48 h
        sodium("136", T0 - hours(48)),  # exactly 48 h before the index: most recent earlier
        sodium("130"),
    ]
    # 130 − 136 = −6 ≤ −5 → tier 2 although mild
    case = only_case(rows)
    assert case["delta_48h"] == -6.0
    assert case["tier"] == 2 and case["trend"] == "falling"


def test_delta_48h_is_empty_without_an_earlier_result_within_48_hours() -> None:
    case = only_case([sodium("140", T0 - hours(48) - minutes(1)), sodium("130")])
    assert pd.isna(case["delta_48h"])
    assert case["tier"] == 3


def test_delta_48h_includes_context_results() -> None:
    index_time = WINDOW.start + hours(20)
    rows = [sodium("137", WINDOW.start - hours(10)), sodium("131", index_time)]
    # 131 − 137 = −6 (the earlier result is 30 h before, in the context period)
    assert only_case(rows)["delta_48h"] == -6.0


def test_delta_of_exactly_minus_5_is_tier_2() -> None:
    # 131 − 136 = −5 ≤ −5 → soon
    case = only_case([sodium("136", T0 - hours(12)), sodium("131")])
    assert (case["delta_48h"], case["tier"]) == (-5.0, 2)


def test_delta_of_minus_4_is_not_tier_2() -> None:
    # 131 − 135.9 = −4.9 > −5; mild with one risk factor → routine
    case = only_case(
        [sodium("135.9", T0 - hours(12)), sodium("131")], [med("Lasix", start=T0 - days(200))]
    )
    assert case["delta_48h"] == pytest.approx(-4.9)
    assert case["tier"] == 3


# ------------------------------------------------------------------ over-rapid correction


def test_rise_of_9_within_24_hours_is_over_correction_and_tier_1() -> None:
    # 118 → 127 after exactly 24 h: rise 9 > 8 → over-corrected
    case = only_case([sodium("118"), sodium("127", T0 + hours(24))])
    assert bool(case["overcorrection"])
    assert (case["oc_from_sodium"], case["oc_to_sodium"], case["oc_rise"]) == (118.0, 127.0, 9.0)
    assert (case["oc_from_time"], case["oc_to_time"]) == (T0, T0 + hours(24))
    assert case["tier"] == 1


def test_over_correction_makes_a_moderate_case_listed_and_urgent() -> None:
    # 121 (moderate, no risk factor) → 130 at +24 h: rise 9 > 8 → listed, tier 1
    case = only_case([sodium("121"), sodium("130", T0 + hours(24))])
    assert bool(case["overcorrection"]) and bool(case["listed"]) and case["tier"] == 1


def test_rise_over_more_than_24_hours_is_not_over_correction() -> None:
    case = only_case([sodium("121"), sodium("130", T0 + hours(24) + minutes(1))])
    assert not case["overcorrection"]
    assert case["tier"] == 2  # moderate


def test_rise_of_exactly_8_is_not_over_correction() -> None:
    # 129 − 121 = 8, not > 8
    assert not only_case([sodium("121"), sodium("129", T0 + hours(12))])["overcorrection"]


def test_rise_of_7_is_over_correction_only_with_correction_risk() -> None:
    # 128 − 121 = 7: > 6 with cirrhosis (limit 6), ≤ 8 without
    rows = [sodium("121"), sodium("128", T0 + hours(20))]
    with_cirrhosis = only_case(rows, diagnoses=[dx("K74.60")])
    without = only_case(rows)
    assert bool(with_cirrhosis["overcorrection"]) and with_cirrhosis["limit"] == 6
    assert with_cirrhosis["tier"] == 1
    assert not without["overcorrection"] and without["limit"] == 8


def test_rise_of_7_with_alcohol_use_disorder_is_over_correction() -> None:
    rows = [sodium("121"), sodium("128", T0 + hours(20))]
    assert bool(only_case(rows, diagnoses=[dx("F10.20")])["overcorrection"])


def test_index_sodium_of_105_or_less_is_a_correction_risk() -> None:
    # 105 ≤ 105 → limit 6: 105 → 112 (+7) is over-corrected
    case = only_case([sodium("105"), sodium("112", T0 + hours(20))])
    assert bool(case["correction_risk"]) and bool(case["overcorrection"])


def test_index_sodium_above_105_is_not_a_correction_risk() -> None:
    # 105.1 > 105 → limit 8: +7 is not over-corrected
    case = only_case([sodium("105.1"), sodium("112.1", T0 + hours(20))])
    assert not case["correction_risk"] and not case["overcorrection"]


def test_over_correction_uses_corrected_values() -> None:
    # a: 120 + 1.6 × (400 − 100)/100 = 124.8; b: 130 → rise 5.2 ≤ 8 (measured rise would be 10)
    rows = [sodium("120"), glucose("400"), sodium("130", T0 + hours(12))]
    assert not only_case(rows)["overcorrection"]


def test_over_correction_pair_may_start_in_the_context_period() -> None:
    # a = 118 at window_start − 72 h (the earliest counted time), b = 127 23 h later
    a_time = WINDOW.start - hours(72)
    rows = [sodium("118", a_time), sodium("127", a_time + hours(23)), sodium("130", WINDOW.start)]
    assert bool(only_case(rows)["overcorrection"])


def test_over_correction_pair_starting_before_the_context_period_does_not_count() -> None:
    a_time = WINDOW.start - hours(72) - minutes(1)
    rows = [sodium("118", a_time), sodium("127", a_time + hours(23)), sodium("130", WINDOW.start)]
    assert not only_case(rows)["overcorrection"]


def test_over_correction_needs_the_first_result_hyponatremic() -> None:
    # 136 → 146 within 5 h (+10) starts from a normal result (136 > 135) → does not count;
    # 130 → 146 is 30 h apart → outside 24 h
    rows = [sodium("130"), sodium("136", T0 + hours(25)), sodium("146", T0 + hours(30))]
    assert not only_case(rows)["overcorrection"]


# ------------------------------------------------------------------ workup completeness


def workup(value: str, loinc: str, time: pd.Timestamp, unit: str = "mOsm/kg") -> dict:
    return lab(value, time, loinc=loinc, unit=unit)


def test_workup_window_is_minus_24_to_plus_48_hours_inclusive() -> None:
    rows = [
        sodium("128"),
        workup("260", "2692-2", T0 - hours(24)),  # serum osmolality at −24 h: counts
        workup("400", "2695-5", T0 + hours(48)),  # urine osmolality at +48 h: counts
        workup("30", "2955-3", T0 + hours(48) + minutes(1), "mmol/L"),  # urine Na: too late
    ]
    assert only_case(rows)["missing_workup"] == "urine_sodium"


def test_complete_workup_lists_nothing_missing() -> None:
    rows = [
        sodium("128"),
        workup("260", "2692-2", T0),
        workup("400", "2695-5", T0 + hours(1)),
        workup("30", "2955-3", T0 + hours(1), "mmol/L"),
    ]
    assert only_case(rows)["missing_workup"] == ""


def test_workup_result_before_minus_24_hours_is_missing() -> None:
    rows = [sodium("128"), workup("260", "2692-2", T0 - hours(24) - minutes(1))]
    assert only_case(rows)["missing_workup"] == ("serum_osmolality;urine_osmolality;urine_sodium")


def test_workup_result_at_window_end_is_not_used() -> None:
    window = Window(T0 - days(5), T0 + hours(10))
    rows = [
        sodium("128"),
        workup("260", "2692-2", T0),
        workup("400", "2695-5", T0),
        workup("30", "2955-3", window.end, "mmol/L"),  # within +48 h but at window_end
    ]
    assert only_case(rows, window=window)["missing_workup"] == "urine_sodium"


def test_unusable_workup_result_does_not_count() -> None:
    rows = [sodium("128"), workup("HEMOLYZED", "2692-2", T0), workup("400", "2695-5", T0)]
    assert only_case(rows)["missing_workup"] == "serum_osmolality;urine_sodium"
