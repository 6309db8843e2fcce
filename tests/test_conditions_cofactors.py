"""Spec §6: coded conditions (incl. documented cramp) and electrolyte co-factors."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import (
    RULES,
    T0,
    WINDOW,
    cleaned_dx,
    days,
    dx,
    hours,
    lab,
    minutes,
    potassium,
    run_screen,
    sodium,
    used_labs,
)
from hyposcreen.clean import USED
from hyposcreen.config import Window
from hyposcreen.screen.cofactors import electrolyte_cofactors
from hyposcreen.screen.conditions import case_conditions

CASE = pd.DataFrame({"patient_id": ["P1"], "index_time": [T0]})


def conditions(rows: list[dict]) -> pd.DataFrame:
    diagnoses = cleaned_dx(rows)
    return case_conditions(CASE, diagnoses.loc[diagnoses["bucket"] == USED], RULES)


def cofactors(rows: list[dict]) -> dict[str, float]:
    """risk factor -> evidence value for a case of P1 indexed at T0."""
    evidence = electrolyte_cofactors(CASE, used_labs(rows), RULES)
    return dict(zip(evidence["risk_factor"], evidence["value"], strict=True))


# ------------------------------------------------------------------ conditions


def test_condition_recorded_at_the_index_time_counts() -> None:
    assert list(conditions([dx("I50.9", T0)])["risk_factor"]) == ["heart_failure"]


def test_condition_recorded_long_before_the_index_counts() -> None:
    assert list(conditions([dx("N18.3", T0 - days(3650))])["risk_factor"]) == ["ckd"]


def test_condition_recorded_after_the_index_does_not_count() -> None:
    assert conditions([dx("I50.9", T0 + minutes(1))]).empty


@pytest.mark.parametrize("code", ["K74.60", "K7460", "k74.60", "K70.31", "K76.6", "K74.3"])
def test_cirrhosis_codes_match_with_or_without_dots(code: str) -> None:
    assert list(conditions([dx(code)])["condition"]) == ["cirrhosis"]


@pytest.mark.parametrize("code", ["K74.0", "K74.2", "K76.0", "K70.0"])
def test_liver_codes_outside_the_list_are_not_cirrhosis(code: str) -> None:
    assert conditions([dx(code)]).empty


@pytest.mark.parametrize(
    ("code", "system", "condition"),
    [
        ("571.5", "ICD-9-CM", "cirrhosis"),
        ("5712", "ICD-9-CM", "cirrhosis"),
        ("428.0", "ICD-9-CM", "heart_failure"),
        ("585.3", "ICD-9-CM", "ckd"),
        ("253.6", "ICD-9-CM", "siadh"),
        ("19943007", "SNOMED", "cirrhosis"),
        ("E22.2", "ICD-10-CM", "siadh"),
        ("I13.0", "ICD-10-CM", "heart_failure"),
    ],
)
def test_icd9_and_snomed_codes_match(code: str, system: str, condition: str) -> None:
    assert list(conditions([dx(code, system=system)])["condition"]) == [condition]


def test_icd10_code_under_icd9_system_does_not_match() -> None:
    # "I50.9" is not an ICD-9-CM heart-failure code (428.x)
    assert conditions([dx("I50.9", system="ICD-9-CM")]).empty


@pytest.mark.parametrize("status", ["resolved", "refuted", "entered-in-error", "inactive"])
def test_ignored_condition_status_does_not_count(status: str) -> None:
    assert conditions([dx("I50.9", status=status)]).empty
    assert cleaned_dx([dx("I50.9", status=status)]).iloc[0]["reason"] == "status"


@pytest.mark.parametrize(
    ("code", "condition"), [("F10.20", "alcohol_use_disorder"), ("E43", "malnutrition")]
)
def test_alcohol_use_and_malnutrition_give_correction_risk_but_no_risk_factor(
    code: str, condition: str
) -> None:
    evidence = conditions([dx(code)]).iloc[0]
    assert evidence["condition"] == condition
    assert pd.isna(evidence["risk_factor"]) and bool(evidence["correction_risk"])
    case = run_screen([sodium("130")], diagnoses=[dx(code)]).cases.iloc[0]
    # mild case, no risk factor → correction risk (limit 6) but not listed
    assert (case["risk_factors"], case["n_risk_factors"]) == ("", 0)
    assert bool(case["correction_risk"]) and case["limit"] == 6
    assert not case["listed"]


def test_cirrhosis_is_both_risk_factor_and_correction_risk() -> None:
    case = run_screen([sodium("130")], diagnoses=[dx("K74.60")]).cases.iloc[0]
    assert case["risk_factors"] == "cirrhosis" and bool(case["correction_risk"])


def test_diagnosis_without_readable_recorded_time_is_missing_key() -> None:
    out = cleaned_dx([dx("I50.9", "garbage")])
    assert (out.iloc[0]["bucket"], out.iloc[0]["reason"]) == ("quarantined", "missing_key")


def test_diagnosis_recorded_at_window_end_is_never_used() -> None:
    rows = [dx("I50.9", WINDOW.end)]
    out = cleaned_dx(rows)
    assert (out.iloc[0]["bucket"], out.iloc[0]["reason"]) == ("not_relevant", "after_window")


# ------------------------------------------------------------------ documented cramp


@pytest.mark.parametrize("offset", [days(-30), days(-1), days(0), days(29), days(30)])
def test_cramp_within_30_days_of_the_index_counts(offset: pd.Timedelta) -> None:
    assert list(conditions([dx("R25.2", T0 + offset)])["risk_factor"]) == ["cramp_documented"]


@pytest.mark.parametrize("offset", [days(-31), days(31), days(30) + minutes(1)])
def test_cramp_more_than_30_days_from_the_index_does_not_count(offset: pd.Timedelta) -> None:
    assert conditions([dx("R25.2", T0 + offset)]).empty


def test_icd9_cramp_code_counts() -> None:
    assert list(conditions([dx("729.82", T0, "ICD-9-CM")])["condition"]) == ["muscle_cramp"]


def test_documented_cramp_makes_a_mild_case_tier_2() -> None:
    # mild 130 (seed), cramp 30 days after the index: cramp_documented → listed, tier 2
    case = run_screen([sodium("130")], diagnoses=[dx("R25.2", T0 + days(30))]).cases.iloc[0]
    assert case["risk_factors"] == "cramp_documented"
    assert bool(case["cramp_documented"]) and bool(case["listed"]) and case["tier"] == 2


def test_cramp_recorded_at_window_end_is_never_used() -> None:
    # window ends 5 days after the index; a cramp dated exactly at window_end is within
    # ±30 days of the index but dated in the "future" of the run → not used
    window = Window(T0 - days(5), T0 + days(5))
    result = run_screen([sodium("130")], diagnoses=[dx("R25.2", window.end)], window=window)
    case = result.cases.iloc[0]
    assert not case["cramp_documented"] and case["risk_factors"] == ""


# ------------------------------------------------------------------ electrolyte co-factors


def test_potassium_3_4_is_hypokalemia() -> None:
    assert cofactors([potassium("3.4", T0 + hours(2))]) == {"hypokalemia": 3.4}


def test_potassium_3_5_is_not_hypokalemia() -> None:
    assert cofactors([potassium("3.5", T0 + hours(2))]) == {}


def test_magnesium_1_6_mg_per_dl_is_hypomagnesemia() -> None:
    assert cofactors([lab("1.6", loinc="19123-9", unit="mg/dL")]) == {"hypomagnesemia": 1.6}


def test_magnesium_1_7_mg_per_dl_is_not_low() -> None:
    assert cofactors([lab("1.7", loinc="19123-9", unit="mg/dL")]) == {}


def test_magnesium_in_mmol_per_litre_is_converted_before_comparison() -> None:
    # 0.65 mmol/L × 2.431 = 1.58015 mg/dL < 1.7
    found = cofactors([lab("0.65", loinc="2601-3", unit="mmol/L")])
    assert found == {"hypomagnesemia": pytest.approx(1.58015)}


def test_low_ionized_calcium_overrides_a_normal_total_calcium() -> None:
    rows = [
        lab("1.05", loinc="1994-3", unit="mmol/L"),  # ionized 1.05 < 1.12 → low
        lab("9.5", loinc="17861-6", unit="mg/dL"),  # total normal
    ]
    assert cofactors(rows) == {"hypocalcemia": 1.05}


def test_normal_ionized_calcium_overrides_a_low_total_calcium() -> None:
    rows = [
        lab("1.20", loinc="1994-3", unit="mmol/L"),  # ionized normal decides alone
        lab("7.0", loinc="17861-6", unit="mg/dL"),
    ]
    assert cofactors(rows) == {}


def test_ionized_calcium_in_mg_per_dl_exactly_at_the_limit_is_not_low() -> None:
    # 4.48896 mg/dL ÷ 4.008 = 1.12 mmol/L exactly: not < 1.12 (in binary floating point the
    # quotient reads 1.1199999999999999, which must not make it low); 4.48 mg/dL = 1.1178 is low
    assert cofactors([lab("4.48896", loinc="12180-6", unit="mg/dL")]) == {}
    low = cofactors([lab("4.48", loinc="12180-6", unit="mg/dL")])
    assert low == {"hypocalcemia": pytest.approx(4.48 / 4.008)}


def test_total_calcium_corrected_by_low_albumin_is_not_low() -> None:
    # 8.0 + 0.8 × (4.0 − 3.0) = 8.8 ≥ 8.5 → not low
    rows = [lab("8.0", loinc="17861-6", unit="mg/dL"), lab("3.0", loinc="1751-7", unit="g/dL")]
    assert cofactors(rows) == {}


def test_total_calcium_still_low_after_albumin_correction() -> None:
    # 7.8 + 0.8 × (4.0 − 3.5) = 7.8 + 0.4 = 8.2 < 8.5 → low
    rows = [lab("7.8", loinc="17861-6", unit="mg/dL"), lab("3.5", loinc="1751-7", unit="g/dL")]
    assert cofactors(rows) == {"hypocalcemia": pytest.approx(8.2)}


def test_albumin_at_or_above_4_does_not_correct_calcium() -> None:
    # albumin 4.5 ≥ 4.0 → no correction: 8.4 < 8.5 → low
    rows = [lab("8.4", loinc="17861-6", unit="mg/dL"), lab("4.5", loinc="1751-7", unit="g/dL")]
    assert cofactors(rows) == {"hypocalcemia": pytest.approx(8.4)}


def test_albumin_more_than_24_hours_from_the_calcium_is_not_used() -> None:
    # albumin 25 h before the calcium → uncorrected 8.0 < 8.5 → low
    rows = [
        lab("8.0", T0, loinc="17861-6", unit="mg/dL"),
        lab("2.0", T0 - hours(25), loinc="1751-7", unit="g/dL"),
    ]
    assert cofactors(rows) == {"hypocalcemia": pytest.approx(8.0)}


def test_nearest_albumin_to_the_calcium_is_used() -> None:
    # nearest albumin 3.5 (1 h) → 7.8 + 0.4 = 8.2 (not 7.8 + 1.6 = 9.4 with the 2.0 at 10 h)
    rows = [
        lab("7.8", T0, loinc="17861-6", unit="mg/dL"),
        lab("3.5", T0 + hours(1), loinc="1751-7", unit="g/dL"),
        lab("2.0", T0 - hours(10), loinc="1751-7", unit="g/dL"),
    ]
    assert cofactors(rows) == {"hypocalcemia": pytest.approx(8.2)}


def test_cofactor_25_hours_from_the_index_does_not_count() -> None:
    rows = [potassium("3.0", T0 + hours(25)), potassium("3.0", T0 - hours(25))]
    assert cofactors(rows) == {}


def test_cofactor_exactly_24_hours_from_the_index_counts() -> None:
    assert cofactors([potassium("3.1", T0 - hours(24))]) == {"hypokalemia": 3.1}


def test_lowest_qualifying_cofactor_is_the_evidence() -> None:
    rows = [potassium("3.3", T0 - hours(1)), potassium("2.9", T0 + hours(3))]
    assert cofactors(rows) == {"hypokalemia": 2.9}


def test_cofactor_at_window_end_is_never_used() -> None:
    # index 2 h before window_end; a K of 3.0 at window_end is within 24 h but not used
    window = Window(T0 - days(5), T0 + hours(2))
    case = run_screen([sodium("130"), potassium("3.0", window.end)], window=window).cases.iloc[0]
    assert case["risk_factors"] == ""


def test_hypokalemia_gives_correction_risk() -> None:
    case = run_screen([sodium("130"), potassium("3.2")]).cases.iloc[0]
    assert case["risk_factors"] == "hypokalemia"
    assert bool(case["correction_risk"]) and case["limit"] == 6
