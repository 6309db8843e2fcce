"""Spec §4 (glucose-corrected sodium) and §5 (definition and severity per profile)."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import RULES, T0, WINDOW, glucose, minutes, run_screen, sodium, used_labs
from hyposcreen.screen.cases import find_cases
from hyposcreen.screen.sodium import classify, correct_for_glucose


def corrected(rows: list[dict], factor: float | None = None) -> pd.DataFrame:
    """Corrected sodium results of cleaned lab rows (spec §4)."""
    labs = used_labs(rows)
    return correct_for_glucose(
        labs.loc[labs["analyte"] == "sodium"], labs.loc[labs["analyte"] == "glucose"], RULES, factor
    )


def classified(rows: list[dict], profile: str = "seed") -> pd.DataFrame:
    out = classify(corrected(rows), RULES.profile(profile))
    out["in_window"] = (out["specimen_time"] >= WINDOW.start) & (out["specimen_time"] < WINDOW.end)
    return out


def one_result(value: float, profile: str) -> pd.Series:
    frame = pd.DataFrame({"value_num": [value], "corrected_sodium": [value]})
    return classify(frame, RULES.profile(profile)).iloc[0]


# ------------------------------------------------------------------ §5 severity bands


@pytest.mark.parametrize(
    ("value", "severity"),
    [
        (135.1, None),  # > 135: not hyponatremic
        (135.0, "mild"),  # ≤ 135 is the seed definition; 125 < 135 ≤ 135 → mild
        (125.1, "mild"),
        (125.0, "moderate"),  # 120 ≤ 125 ≤ 125
        (120.0, "moderate"),
        (119.9, "severe"),  # < 120
    ],
)
def test_seed_profile_boundaries(value: float, severity: str | None) -> None:
    result = one_result(value, "seed")
    assert bool(result["hyponatremic"]) is (severity is not None)
    if severity is None:
        assert pd.isna(result["severity"])
    else:
        assert result["severity"] == severity


@pytest.mark.parametrize(
    ("value", "severity", "level"),
    [
        (135.0, None, None),  # eu2014: hyponatremia is < 135, so 135.0 is not a case
        (134.9, "mild", "mild"),
        (130.0, "mild", "mild"),  # mild 130 ≤ Na < 135
        (129.9, "moderate", "moderate"),  # moderate 125 ≤ Na < 130
        (125.0, "moderate", "moderate"),  # 125 is still moderate in eu2014 (profound is < 125)
        (124.9, "profound", "severe"),  # profound < 125, treated as severe
        (119.9, "profound", "severe"),
    ],
)
def test_eu2014_profile_boundaries(value: float, severity: str | None, level: str | None) -> None:
    result = one_result(value, "eu2014")
    assert bool(result["hyponatremic"]) is (severity is not None)
    if severity is None:
        assert pd.isna(result["severity"])
    else:
        assert (result["severity"], result["level"]) == (severity, level)


def test_135_is_a_case_in_seed_but_not_in_eu2014() -> None:
    rows = [sodium("135.0")]
    assert list(find_cases(classified(rows, "seed"))["patient_id"]) == ["P1"]
    assert find_cases(classified(rows, "eu2014")).empty


def test_profound_eu2014_case_is_listed_tier_1_without_risk_factor() -> None:
    # 124.0 < 125 → profound, treated as severe: listed and urgent with no risk factor
    case = run_screen([sodium("124.0")], profile="eu2014").cases.iloc[0]
    assert (case["severity"], bool(case["listed"]), case["tier"]) == ("profound", True, 1)


# ------------------------------------------------------------------ §4 glucose correction


def test_corrected_value_is_used_for_classification() -> None:
    # 134.2 + 1.6 × (150 − 100) / 100 = 134.2 + 0.8 = 135.0 exactly → ≤ 135 → mild (seed)
    result = classified([sodium("134.2"), glucose("150")]).iloc[0]
    assert result["corrected_sodium"] == 135.0
    assert bool(result["hyponatremic"]) and result["severity"] == "mild"
    assert not result["hyperglycemia_related"]


def test_corrected_134_2_with_glucose_150_is_not_a_case_in_eu2014() -> None:
    # corrected 135.0 is not < 135; measured 134.2 is → low only before correction
    result = classified([sodium("134.2"), glucose("150")], "eu2014").iloc[0]
    assert not result["hyponatremic"]
    assert bool(result["hyperglycemia_related"])


def test_low_only_before_correction_is_hyperglycemia_related_and_not_a_case() -> None:
    # 134 + 1.6 × (200 − 100) / 100 = 134 + 1.6 = 135.6 > 135 → not hyponatremic;
    # measured 134 ≤ 135 → hyperglycemia-related
    results = classified([sodium("134"), glucose("200")])
    row = results.iloc[0]
    assert row["corrected_sodium"] == pytest.approx(135.6)
    assert not row["hyponatremic"] and bool(row["hyperglycemia_related"])
    assert find_cases(results).empty


def test_classification_compares_the_unrounded_corrected_value() -> None:
    # 134.24 + 1.6 × (150 − 100) / 100 = 135.04 → prints as 135.0 but is > 135 → not a case
    result = classified([sodium("134.24"), glucose("150")]).iloc[0]
    assert result["corrected_sodium"] == pytest.approx(135.04)
    assert not result["hyponatremic"] and bool(result["hyperglycemia_related"])


def test_glucose_at_or_below_100_does_not_change_sodium() -> None:
    # glucose 100 is not > 100 → corrected = measured
    assert corrected([sodium("130"), glucose("100")]).iloc[0]["corrected_sodium"] == 130.0


def test_same_specimen_glucose_wins_over_a_nearer_one() -> None:
    rows = [
        sodium("130", specimen_id="S1"),
        glucose("200", T0 + minutes(30), specimen_id="S1"),  # same specimen, 30 min away
        glucose("300", T0 + minutes(5), specimen_id="S2"),  # nearer, other specimen
    ]
    # same specimen: 130 + 1.6 × (200 − 100) / 100 = 131.6
    result = corrected(rows).iloc[0]
    assert result["glucose_mg_dl"] == 200.0
    assert result["corrected_sodium"] == pytest.approx(131.6)


def test_nearest_glucose_within_60_minutes_inclusive() -> None:
    rows = [
        sodium("130"),
        glucose("300", T0 - minutes(60)),  # exactly 60 min before: inside
        glucose("500", T0 + minutes(61)),  # 61 min after: outside
    ]
    # 130 + 1.6 × (300 − 100) / 100 = 130 + 3.2 = 133.2
    result = corrected(rows).iloc[0]
    assert result["glucose_mg_dl"] == 300.0
    assert result["corrected_sodium"] == pytest.approx(133.2)


def test_nearest_glucose_wins_within_the_window() -> None:
    rows = [sodium("130"), glucose("300", T0 - minutes(40)), glucose("200", T0 + minutes(10))]
    # nearest: 10 min after → 130 + 1.6 × 100 / 100 = 131.6
    assert corrected(rows).iloc[0]["corrected_sodium"] == pytest.approx(131.6)


def test_glucose_tie_takes_the_earlier_glucose() -> None:
    rows = [sodium("130"), glucose("200", T0 - minutes(30)), glucose("300", T0 + minutes(30))]
    # both 30 min away → the earlier (200): 130 + 1.6 = 131.6
    result = corrected(rows).iloc[0]
    assert result["glucose_mg_dl"] == 200.0
    assert result["corrected_sodium"] == pytest.approx(131.6)


def test_glucose_61_minutes_away_is_not_paired() -> None:
    rows = [sodium("130"), glucose("400", T0 - minutes(61)), glucose("400", T0 + minutes(61))]
    result = corrected(rows).iloc[0]
    assert pd.isna(result["glucose_mg_dl"])
    assert result["corrected_sodium"] == 130.0


def test_glucose_of_another_patient_is_not_paired() -> None:
    rows = [sodium("130"), glucose("400", patient_id="P2")]
    assert corrected(rows).iloc[0]["corrected_sodium"] == 130.0


def test_glucose_in_mmol_per_litre_is_converted_to_mg_per_dl() -> None:
    # 10 mmol/L × 18.016 = 180.16 mg/dL; 130 + 1.6 × 80.16 / 100 = 130 + 1.28256 = 131.28256
    result = corrected([sodium("130"), glucose("10", unit="mmol/L")]).iloc[0]
    assert result["glucose_mg_dl"] == pytest.approx(180.16)
    assert result["corrected_sodium"] == pytest.approx(131.28256)


def test_correction_factor_2_4_is_allowed() -> None:
    # 130 + 2.4 × (200 − 100) / 100 = 132.4
    result = corrected([sodium("130"), glucose("200")], factor=2.4).iloc[0]
    assert result["corrected_sodium"] == pytest.approx(132.4)


def test_other_correction_factors_are_refused() -> None:
    with pytest.raises(ValueError, match="factor"):
        corrected([sodium("130"), glucose("200")], factor=2.0)


def test_context_sodium_before_the_window_is_corrected_too() -> None:
    # a context result (before window_start) is paired and corrected like any other:
    # 130 + 1.6 × (150 − 100) / 100 = 130.8
    early = WINDOW.start - minutes(120)
    result = corrected([sodium("130", early), glucose("150", early)]).iloc[0]
    assert result["corrected_sodium"] == pytest.approx(130.8)


def test_review_reports_measured_and_corrected_sodium() -> None:
    # 128 + 1.6 × (250 − 100) / 100 = 128 + 2.4 = 130.4 → mild, measured kept as 128
    case = run_screen([sodium("128"), glucose("250")]).cases.iloc[0]
    assert case["index_sodium"] == 128.0
    assert case["corrected_sodium"] == pytest.approx(130.4)
    assert case["index_glucose"] == 250.0
