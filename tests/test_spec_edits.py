"""The spec edits of this release (§2, §3, §4, §6), each with a hand-computed expectation:
no plausible range but sodium's, urine osmolality by specimen, unit spellings, albumin ties,
rounding half away from zero, and ties decided by the rules rather than by file order."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import (
    RULES,
    T0,
    WINDOW,
    case_of,
    cleaned_labs,
    glucose,
    hours,
    lab,
    potassium,
    run_screen,
    sodium,
)
from hyposcreen.report.numbers import (
    format_one_decimal,
    one_decimal_text,
    round_half_away,
    round_one_decimal,
)
from hyposcreen.report.review_list import build_review_list, to_text

CALCIUM = {"loinc": "17861-6", "unit": "mg/dL"}
ALBUMIN = {"loinc": "1751-7", "unit": "g/dL"}


def buckets(rows: list[dict]) -> list[tuple[str, object]]:
    out = cleaned_labs(rows)
    return [
        (b, None if pd.isna(r) else r) for b, r in zip(out["bucket"], out["reason"], strict=True)
    ]


# ------------------------------------------------------------------ §3 implausible values


def test_a_glucose_of_2400_is_used_and_corrects_the_sodium() -> None:
    # 130 + 1.6 × (2400 − 100) / 100 = 130 + 36.8 = 166.8: not hyponatremic after correction,
    # so the low measured value is hyperglycemia-related and the patient is no case
    rows = [sodium("130"), glucose("2400", T0 + hours(0.5))]
    assert buckets(rows) == [("used", None), ("used", None)]
    result = run_screen(rows)
    assert result.cases.empty
    (row,) = result.sodium_results.itertuples()
    assert row.corrected_sodium == pytest.approx(166.8)
    assert bool(row.hyperglycemia_related)


def test_a_potassium_of_0_9_counts_as_hypokalemia() -> None:
    # 0.9 < 3.5 mmol/L; no lower bound any more (it was 1 mmol/L)
    case = case_of(run_screen([sodium("130"), potassium("0.9", T0 + hours(1))]))
    assert case is not None and case["risk_factors"] == "hypokalemia"
    evidence = run_screen([sodium("130"), potassium("0.9", T0 + hours(1))]).cofactor_evidence
    assert list(evidence["value"]) == [0.9]


@pytest.mark.parametrize(
    "row",
    [
        potassium("0"),
        glucose("-5"),
        lab("0.0", loinc="19123-9", unit="mg/dL"),  # magnesium 0
        lab("-0.1", **ALBUMIN),
        lab("<0", **CALCIUM),  # censored at 0: still 0
        sodium("0"),
    ],
    ids=["potassium 0", "glucose -5", "magnesium 0.0", "albumin -0.1", "calcium <0", "sodium 0"],
)
def test_a_value_at_or_below_zero_of_any_analyte_is_implausible(row: dict) -> None:
    assert buckets([row]) == [("quarantined", "implausible")]


@pytest.mark.parametrize(
    "row",
    [
        glucose("5000"),
        potassium("15"),
        lab("0.1", loinc="19123-9", unit="mg/dL"),
        lab("25", **CALCIUM),
        lab("0.01", **ALBUMIN),
    ],
    ids=["glucose 5000", "potassium 15", "magnesium 0.1", "calcium 25", "albumin 0.01"],
)
def test_no_range_but_sodiums_applies(row: dict) -> None:
    assert buckets([row]) == [("used", None)]


def test_only_sodium_keeps_a_plausible_range_in_the_rules() -> None:
    ranged = {
        name: (spec.plausible_low, spec.plausible_high)
        for name, spec in RULES.analytes.items()
        if spec.plausible_low is not None or spec.plausible_high is not None
    }
    assert ranged == {"sodium": (80.0, 200.0)}


# ------------------------------------------------------------------ §2 specimens and units


@pytest.mark.parametrize(
    "row",
    [
        lab("450", loinc="2692-2", unit="mOsm/kg", specimen_type="Urine"),  # serum code, urine
        lab("450", loinc=None, lab_name="Osmolality", unit="mOsm/kg", specimen_type="urine, spot"),
        lab("450", loinc="2695-5", unit="mOsm/kg", specimen_type="Urine"),
    ],
    ids=["serum LOINC on urine", "lab name on urine", "urine LOINC"],
)
def test_an_osmolality_on_a_urine_specimen_is_urine_osmolality(row: dict) -> None:
    out = cleaned_labs([row])
    assert list(out["analyte"]) == ["urine_osmolality"]
    assert list(out["bucket"]) == ["used"]


@pytest.mark.parametrize("unit", ["mOsm/kg H2O", "mosm/kg h2o", " MOSM / KG ", "mOsm/kgH2O"])
def test_osmolality_units_compare_without_case_and_spaces(unit: str) -> None:
    rows = [
        lab("280", loinc="2692-2", unit=unit),
        lab("450", loinc="2692-2", unit=unit, specimen_type="urine"),
    ]
    out = cleaned_labs(rows)
    assert list(out["analyte"]) == ["serum_osmolality", "urine_osmolality"]
    assert list(out["value_num"]) == [280.0, 450.0]


# ------------------------------------------------------------------ §6 albumin ties


def hypocalcemia(rows: list[dict]) -> float | None:
    evidence = run_screen([sodium("130"), *rows]).cofactor_evidence
    found = evidence.loc[evidence["risk_factor"] == "hypocalcemia", "value"]
    return None if found.empty else float(found.iloc[0])


def test_two_albumins_at_the_same_time_the_higher_is_used_in_either_order() -> None:
    # calcium 7.8; albumins 3.0 and 3.5 both 1 h later. Higher 3.5: 7.8 + 0.8 × (4.0 − 3.5)
    # = 8.2 < 8.5 → hypocalcemia. (The lower 3.0 would give 7.8 + 0.8 = 8.6: not low.)
    calcium = lab("7.8", T0, **CALCIUM)
    low_first = [
        calcium,
        lab("3.0", T0 + hours(1), **ALBUMIN),
        lab("3.5", T0 + hours(1), **ALBUMIN),
    ]
    high_first = [calcium, low_first[2], low_first[1]]
    assert hypocalcemia(low_first) == pytest.approx(8.2)
    assert hypocalcemia(high_first) == pytest.approx(8.2)


def test_two_albumins_equally_near_the_earlier_is_used() -> None:
    # albumin 3.0 1 h before and 3.5 1 h after the calcium: the earlier (3.0) →
    # 7.8 + 0.8 × (4.0 − 3.0) = 8.6 ≥ 8.5 → not low
    rows = [
        lab("7.8", T0, **CALCIUM),
        lab("3.5", T0 + hours(1), **ALBUMIN),
        lab("3.0", T0 - hours(1), **ALBUMIN),
    ]
    assert hypocalcemia(rows) is None


# ------------------------------------------------------------------ §4 rounding


@pytest.mark.parametrize(
    ("value", "rounded"),
    [
        (125.05, 125.1),  # binary 125.0499999…: float rounding gave 125.0
        (125.04, 125.0),
        (119.95, 120.0),
        (134.25, 134.3),
        (-3.25, -3.3),  # away from zero
        (-0.04, 0.0),  # never "-0.0"
        (130.0, 130.0),
    ],
)
def test_outputs_round_half_away_from_zero(value: float, rounded: float) -> None:
    assert round_half_away(value) == rounded
    assert format_one_decimal(value) == f"{rounded:.1f}"


def test_series_rounding_keeps_missing_values_missing() -> None:
    values = pd.Series([125.05, None, -2.35, 130.0])
    assert round_one_decimal(values).tolist()[0] == 125.1
    assert one_decimal_text(values).tolist() == ["125.1", "", "-2.4", "130.0"]


def test_a_corrected_125_05_prints_125_1_beside_mild() -> None:
    # 124.25 + 1.6 × (150 − 100) / 100 = 124.25 + 0.8 = 125.05 > 125 → mild (seed), not moderate;
    # the review list prints 125.1 (float rounding printed 125.0, which reads as moderate)
    result = run_screen([sodium("124.25"), glucose("150")], diagnoses=[])
    result.cases["listed"] = True  # no risk factor: listed here only to render the row
    review = to_text(build_review_list(result, RULES, "seed", "r", WINDOW.start, WINDOW.end))
    assert list(review["severity"]) == ["mild"]
    assert list(review["corrected_sodium"]) == ["125.1"]
    assert list(review["index_sodium"]) == ["124.3"]  # 124.25 → 124.3, half away from zero


# ------------------------------------------------------------------ ties by rules, not file order


def test_exact_duplicates_keep_the_row_with_a_specimen_id_in_either_order() -> None:
    # two sodiums 130 at T0, one from specimen S1 whose glucose 400 was drawn (and timed) 2 h
    # later; the kept row pairs by specimen: 130 + 1.6 × (400 − 100) / 100 = 134.8
    with_id = sodium("130", specimen_id="S1")
    without = sodium("130")
    sugar = glucose("400", T0 + hours(2), specimen_id="S1")
    for rows in ([with_id, without, sugar], [without, with_id, sugar]):
        out = cleaned_labs(rows)
        kept = out.loc[(out["analyte"] == "sodium") & (out["bucket"] == "used")]
        assert list(kept["specimen_id"]) == ["S1"]
        corrected = run_screen(rows).sodium_results["corrected_sodium"]
        assert corrected.tolist() == [pytest.approx(134.8)]


def test_of_two_equal_glucoses_the_one_in_the_sodiums_specimen_is_kept() -> None:
    # at T0: sodium 128 in specimen S10 with its glucose 300; a blood gas S05 repeats the
    # glucose 300 (an exact duplicate: patient, analyte, time, value); S07 holds a glucose 200.
    # Kept: the 300 of S10, whose specimen holds the sodium, so the pair is by specimen (§4):
    # 128 + 1.6 × (300 − 100) / 100 = 131.2. The smaller id S05 was kept before; the sodium
    # then paired by time with the lowest same-time glucose, 200: 128 + 1.6 × 1 = 129.6.
    rows = [
        sodium("128", specimen_id="S10"),
        glucose("300", specimen_id="S10"),
        glucose("300", specimen_id="S05"),
        glucose("200", specimen_id="S07"),
    ]
    for ordered in (rows, rows[::-1]):
        out = cleaned_labs(ordered)
        kept = out.loc[(out["analyte"] == "glucose") & (out["bucket"] == "used")]
        assert sorted(kept["specimen_id"]) == ["S07", "S10"]
        corrected = run_screen(ordered).sodium_results["corrected_sodium"]
        assert corrected.tolist() == [pytest.approx(131.2)]


def test_an_exact_value_is_kept_over_an_equal_censored_one() -> None:
    # glucose "<100" and "100" at the same time: both 100 mg/dL; the exact one is used
    for rows in ([glucose("<100"), glucose("100")], [glucose("100"), glucose("<100")]):
        out = cleaned_labs(rows)
        assert out.loc[out["bucket"] == "used", "censored"].tolist() == [""]


def test_index_ties_in_corrected_value_and_time_take_the_lower_measured_value() -> None:
    # S1: 128 with its glucose 225 (by specimen, 2 h later): 128 + 1.6 × 125 / 100 = 130.0
    # S2: 130 with no glucose within 60 min: 130.0. Same corrected value and time → 128.
    first = sodium("128", specimen_id="S1")
    second = sodium("130", specimen_id="S2")
    sugar = glucose("225", T0 + hours(2), specimen_id="S1")
    for rows in ([first, second, sugar], [second, first, sugar]):
        case = case_of(run_screen(rows))
        assert case is not None
        assert (case["index_sodium"], case["index_glucose"]) == (128.0, 225.0)
