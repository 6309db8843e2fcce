"""Spec §8 delta check: a sodium >= 10 mmol/L (corrected) below both the patient's previous and
next results, each within 24 h, is possibly spurious; hand-computed cases."""

from __future__ import annotations

import pandas as pd

from helpers import RULES, T0, case_of, hours, run_screen, sodium
from hyposcreen.report.considerations import considerations
from hyposcreen.report.review_list import build_review_list, evidence_table
from hyposcreen.screen.serial import possibly_spurious


def _flags(values_and_hours: list[tuple[float, float]]) -> list[bool]:
    """possibly_spurious of one patient's results given as (corrected sodium, hours from T0)."""
    results = pd.DataFrame(
        {
            "patient_id": "P1",
            "specimen_time": [T0 + hours(h) for _, h in values_and_hours],
            "corrected_sodium": [v for v, _ in values_and_hours],
        }
    )
    return possibly_spurious(results, RULES).tolist()


def test_ten_below_both_neighbours_within_24_hours_is_possibly_spurious() -> None:
    # 138 - 128 = 10 >= 10 and 137 - 128 = 9 < 10: not; 138 - 127 = 11, 137 - 127 = 10: yes
    assert _flags([(138, -6), (128, 0), (137, 6)]) == [False, False, False]
    assert _flags([(138, -6), (127, 0), (137, 6)]) == [False, True, False]


def test_a_neighbour_more_than_24_hours_away_does_not_count() -> None:
    assert _flags([(140, -24), (125, 0), (140, 24)]) == [False, True, False]  # exactly 24 h
    assert _flags([(140, -24.5), (125, 0), (140, 6)]) == [False, False, False]
    assert _flags([(125, 0), (140, 6)]) == [False, False]  # no previous result


def test_a_drop_that_stays_low_is_not_spurious() -> None:
    assert _flags([(140, -6), (125, 0), (126, 6)]) == [False, False, False]


def test_results_are_ordered_by_time_before_comparison() -> None:
    assert _flags([(137, 6), (127, 0), (138, -6)]) == [False, True, False]


def test_of_several_results_at_a_neighbouring_time_the_lowest_counts_in_any_order() -> None:
    # before 112 at 0 h: 140 and 120 at -6 h; 120 - 112 = 8 < 10 → not spurious, whichever
    # of the two comes first in the file (the file order used to decide)
    assert _flags([(140, -6), (120, -6), (112, 0), (140, 6)]) == [False] * 4
    assert _flags([(120, -6), (140, -6), (112, 0), (140, 6)]) == [False] * 4
    # both at -6 h at least 10 above: 122 - 112 = 10 → spurious, in either order
    assert _flags([(140, -6), (122, -6), (112, 0), (140, 6)]) == [False, False, True, False]
    assert _flags([(122, -6), (140, -6), (112, 0), (140, 6)]) == [False, False, True, False]


def test_a_result_at_the_same_time_is_no_neighbour() -> None:
    # two results at 0 h: each compares with -6 h and +6 h, not with the other one
    assert _flags([(138, -6), (127, 0), (125, 0), (137, 6)]) == [False, True, True, False]
    # 1 µs apart they are neighbours: 127 - 125 = 2 < 10, and 125 is 12 below 137 only
    assert _flags([(138, -6), (127, 0), (125, 1e-6 / 3600), (137, 6)]) == [False] * 4


def test_the_case_is_listed_and_says_its_index_rests_on_a_possibly_spurious_value() -> None:
    result = run_screen([sodium("139", T0 - hours(8)), sodium("118", T0),
                         sodium("138", T0 + hours(4))])  # fmt: skip
    case = case_of(result)
    assert case is not None and case["listed"] and case["tier"] == 1  # severe: still listed
    # 138 - 118 = 20 > 8 within 4 h: the over-rapid pair starts at the same spurious result
    assert case["overcorrection"]
    assert case["possibly_spurious"] == "index;overcorrection_pair"
    notes = considerations(result.cases, RULES).iloc[0]
    assert "Possibly spurious: the index and over-correction pair rests on a result" in notes
    assert "repeat the sample" in notes
    evidence = evidence_table(result)
    assert (evidence["risk_factor"] == "possibly_spurious").sum() == 1
    review = build_review_list(result, RULES, "seed", "run", T0 - hours(8), T0 + hours(24))
    assert list(review.columns)[-3:] == ["possibly_spurious", "index_censored", "time_zone"]
    assert review.loc[0, "possibly_spurious"] == "index;overcorrection_pair"


def test_a_real_fall_is_only_the_index() -> None:
    # 139 -> 118 (-21) -> 127 (+9 > 8 over-rapid, but 127 - 118 = 9 < 10: not spurious)
    result = run_screen([sodium("139", T0 - hours(8)), sodium("118", T0),
                         sodium("127", T0 + hours(4))])  # fmt: skip
    case = case_of(result)
    assert case is not None and case["possibly_spurious"] == ""


def test_a_pair_is_not_spurious_because_another_result_at_its_time_is() -> None:
    # 110 at T0 is spurious (130 two hours before: 20 below; 125 half an hour after: 15 below).
    # A 140 drawn at the same time is not. The steepest over-rapid pair is 112 (T0 - 20 h, no
    # earlier result: not spurious) -> 140 (T0): +28; neither of its results is spurious, so
    # only the index (110) rests on a possibly spurious value.
    result = run_screen([sodium("112", T0 - hours(20)), sodium("130", T0 - hours(2)),
                         sodium("110", T0), sodium("140", T0),
                         sodium("125", T0 + hours(0.5))])  # fmt: skip
    case = case_of(result)
    assert case is not None and case["overcorrection"]
    assert (case["oc_from_sodium"], case["oc_to_sodium"]) == (112.0, 140.0)
    assert case["possibly_spurious"] == "index"
