"""Spec §2 (analyte identification) and §3 (cleaning: every row in exactly one bucket)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from helpers import (
    RULES,
    T0,
    WINDOW,
    cleaned_labs,
    lab,
    labs_frame,
    minutes,
    run_screen,
    select_labs,
    sodium,
)
from hyposcreen.clean import clean_labs, count_buckets
from hyposcreen.ingest.values import parse_values
from hyposcreen.rules.matching import identify_analytes


def bucket_of(row: dict) -> tuple[str, object]:
    """(bucket, reason) of a single lab row after the reader's selection and cleaning."""
    out = cleaned_labs([row])
    assert len(out) == 1, "row was dropped as not relevant while reading"
    return out.iloc[0]["bucket"], out.iloc[0]["reason"]


def parse_one(text: object) -> tuple[float, str]:
    value, censor = parse_values(pd.Series([text], dtype="str"), pd.Series([math.nan]))
    return value.iloc[0], censor.iloc[0]


# ------------------------------------------------------------------ values


@pytest.mark.parametrize(
    ("text", "number"), [("135", 135.0), (" 128.5 ", 128.5), ("140.0", 140.0), ("7", 7.0)]
)
def test_numeric_text_with_spaces_is_used_uncensored(text: str, number: float) -> None:
    assert parse_one(text) == (number, "")


@pytest.mark.parametrize(
    ("text", "number", "operator"),
    [
        ("<100", 100.0, "<"),
        ("> 5", 5.0, ">"),
        ("<=3.0", 3.0, "<="),
        (">=2", 2.0, ">="),
        ("LESS THAN 2.5", 2.5, "<"),
        ("greater than 7", 7.0, ">"),
        ("Less Than 1.5", 1.5, "<"),
    ],
)
def test_censored_values_parse_to_the_number_with_a_flag(
    text: str, number: float, operator: str
) -> None:
    assert parse_one(text) == (number, operator)


def test_censored_sodium_is_used_and_marked() -> None:
    out = cleaned_labs([sodium("<110")])
    row = out.iloc[0]
    assert (row["bucket"], row["value_num"], row["censored"]) == ("used", 110.0, "<")


@pytest.mark.parametrize("text", ["HEMOLYZED", "___", "See Comments", "cancelled", "", None])
def test_non_numeric_values_are_quarantined(text: str | None) -> None:
    assert bucket_of(sodium(text)) == ("quarantined", "non_numeric")


# ------------------------------------------------------------------ units and plausibility


def test_sodium_in_mg_per_dl_is_a_bad_unit() -> None:
    assert bucket_of(sodium("135", unit="mg/dL")) == ("quarantined", "bad_unit")


def test_missing_unit_is_a_bad_unit() -> None:
    assert bucket_of(sodium("135", unit=None)) == ("quarantined", "bad_unit")


def test_meq_per_litre_sodium_is_identical_to_mmol() -> None:
    out = cleaned_labs([sodium("131", unit="mEq/L")])
    assert (out.iloc[0]["bucket"], out.iloc[0]["value_num"]) == ("used", 131.0)


@pytest.mark.parametrize("text", ["1350", "79.9", "200.1"])
def test_sodium_outside_80_to_200_is_implausible(text: str) -> None:
    assert bucket_of(sodium(text)) == ("quarantined", "implausible")


@pytest.mark.parametrize("text", ["80", "200"])
def test_sodium_at_80_and_200_is_plausible(text: str) -> None:
    bucket, reason = bucket_of(sodium(text))
    assert bucket == "used" and pd.isna(reason)


def test_implausible_value_is_not_clipped() -> None:
    out = cleaned_labs([sodium("1350")])
    assert out.iloc[0]["value_raw"] == "1350"
    assert pd.isna(out.iloc[0]["value_num"])


# ------------------------------------------------------------------ status and keys


@pytest.mark.parametrize("status", ["entered-in-error", "Entered in Error", "cancelled"])
def test_excluded_status_is_quarantined(status: str) -> None:
    assert bucket_of(sodium("130", status=status)) == ("quarantined", "status")


def test_final_status_is_used() -> None:
    assert bucket_of(sodium("130", status="final"))[0] == "used"


@pytest.mark.parametrize("patient_id", [None, "", "   "])
def test_missing_patient_id_is_missing_key(patient_id: str | None) -> None:
    assert bucket_of(sodium("130", patient_id=patient_id)) == ("quarantined", "missing_key")


@pytest.mark.parametrize("time", ["not a date", "2026-13-45T00:00:00", None])
def test_unparseable_specimen_time_is_missing_key(time: str | None) -> None:
    assert bucket_of(sodium("130", time)) == ("quarantined", "missing_key")


# ------------------------------------------------------------------ precedence


def test_non_numeric_beats_bad_unit() -> None:
    # order: ..., non-numeric, bad unit, ...
    assert bucket_of(sodium("HEMOLYZED", unit="mg/dL")) == ("quarantined", "non_numeric")


def test_missing_key_beats_status() -> None:
    row = sodium("130", patient_id=None, status="entered-in-error")
    assert bucket_of(row) == ("quarantined", "missing_key")


def test_status_beats_non_numeric() -> None:
    assert bucket_of(sodium("cancelled", status="cancelled")) == ("quarantined", "status")


def test_bad_unit_beats_implausible() -> None:
    # 1350 mg/dL: wrong unit first; the range is only judged in canonical units
    assert bucket_of(sodium("1350", unit="mg/dL")) == ("quarantined", "bad_unit")


def test_not_relevant_beats_missing_key() -> None:
    # unknown LOINC and no patient → not relevant (dropped and counted by the reader)
    kept, dropped = select_labs([lab("5", loinc="99999-9", patient_id=None)])
    assert kept.empty
    assert dropped == {"unknown_loinc": 1}


def test_quarantined_rows_keep_their_original_content() -> None:
    out = cleaned_labs([sodium(" HEMOLYZED ", unit="mmol/L", status="final")])
    row = out.iloc[0]
    assert (row["value_raw"], row["unit"], row["status"]) == (" HEMOLYZED ", "mmol/L", "final")


# ------------------------------------------------------------------ duplicates


def test_exact_duplicates_use_the_first_and_mark_the_rest() -> None:
    out = cleaned_labs([sodium("130"), sodium("130"), sodium("130")])
    assert list(out["bucket"]) == ["used", "duplicate", "duplicate"]
    assert list(out["reason"].fillna("")) == ["", "duplicate", "duplicate"]


def test_duplicates_compare_the_numeric_value() -> None:
    # "130" and "130.0" are the same value → duplicate; "131" is not
    out = cleaned_labs([sodium("130"), sodium("130.0"), sodium("131")])
    assert list(out["bucket"]) == ["used", "duplicate", "used"]


def test_same_value_at_another_time_or_patient_is_not_a_duplicate() -> None:
    rows = [sodium("130"), sodium("130", T0 + minutes(1)), sodium("130", patient_id="P2")]
    assert list(cleaned_labs(rows)["bucket"]) == ["used", "used", "used"]


def test_a_duplicate_is_counted_once_in_screening() -> None:
    result = run_screen([sodium("130"), sodium("130")])
    assert result.cases.iloc[0]["n_low_results"] == 1


def test_quarantined_row_does_not_make_a_used_row_a_duplicate() -> None:
    out = cleaned_labs([sodium("130", status="entered-in-error"), sodium("130")])
    assert list(out["bucket"]) == ["quarantined", "used"]


# ------------------------------------------------------------------ reconciliation


def test_reconciliation_accounts_for_every_row() -> None:
    rows = [
        sodium("130"),  # used
        sodium("131", T0 + minutes(5)),  # used
        sodium("130"),  # duplicate of row 1
        sodium("HEMOLYZED", T0 + minutes(10)),  # quarantined non_numeric
        sodium("135", unit="mg/dL"),  # quarantined bad_unit
        sodium("1350"),  # quarantined implausible
        lab("5", loinc="99999-9"),  # not relevant: unknown LOINC
        lab("20", loinc="2955-3"),  # used: urine sodium is an analyte of interest
        sodium("130", WINDOW.end),  # not relevant: outside the read window
        # not relevant: before the read window (72 h context + 60 min glucose pairing span)
        sodium("130", WINDOW.start - pd.Timedelta(hours=74)),
    ]
    kept, dropped = select_labs(rows)
    counts = count_buckets(clean_labs(kept, RULES), dropped, rows_in=len(rows))
    # used 3 + not_relevant 3 + duplicate 1 + quarantined 3 = 10
    assert (counts["used"], counts["not_relevant"], counts["duplicate"]) == (3, 3, 1)
    assert counts["quarantined"] == 3
    assert counts["rows_in"] == 10
    assert counts["reconciled"] is True
    assert counts["reasons"]["quarantined"] == {"bad_unit": 1, "implausible": 1, "non_numeric": 1}
    assert counts["reasons"]["not_relevant"] == {"outside_window": 2, "unknown_loinc": 1}


def test_reconciliation_detects_a_lost_row() -> None:
    kept, dropped = select_labs([sodium("130")])
    assert count_buckets(clean_labs(kept, RULES), dropped, rows_in=2)["reconciled"] is False


# ------------------------------------------------------------------ §2 analytes


def identify(rows: list[dict]) -> list[tuple[object, object]]:
    analyte, reason = identify_analytes(labs_frame(rows), RULES)
    return [
        (None if pd.isna(a) else a, None if pd.isna(r) else r)
        for a, r in zip(analyte, reason, strict=True)
    ]


def test_urine_sodium_loinc_is_never_serum_sodium() -> None:
    assert identify([lab("40", loinc="2955-3", lab_name="Sodium")]) == [("urine_sodium", None)]


def test_serum_sodium_loinc_with_urine_specimen_is_urine_sodium() -> None:
    rows = [
        lab("40", loinc="2951-2", specimen_type="Urine"),
        lab("40", loinc="2951-2", specimen_type="Random urine"),
    ]
    assert identify(rows) == [("urine_sodium", None), ("urine_sodium", None)]


@pytest.mark.parametrize(
    "specimen",
    ["Urines", "urinary", "Urinaire", "Uri", "U", "Spontanurin", "24h-Sammelurin", "Harn",
     "Sammelharn", "Mittelstrahlurin"],
)  # fmt: skip
def test_a_sodium_on_a_urine_specimen_in_a_sites_own_words_is_urine_sodium(
    specimen: str,
) -> None:
    """French plural and adjective, short codes, German compounds: the specimen says urine
    (spec §2), so the serum sodium LOINC reads as urine sodium, never serum sodium."""
    assert identify([lab("118", loinc="2951-2", specimen_type=specimen)]) == [
        ("urine_sodium", None)
    ]


@pytest.mark.parametrize(
    "specimen", ["Serum", "Plasma", "Uric", "Harnstoff", "Blood drawn during dialysis", ""]
)
def test_a_specimen_that_does_not_say_urine_stays_blood(specimen: str) -> None:
    """Words that only begin like a urine word ('uric', 'during') are not urine."""
    assert identify([lab("135", loinc="2951-2", specimen_type=specimen)]) == [("sodium", None)]


def test_urine_sodium_does_not_make_a_case() -> None:
    # a urine sodium of 20 mmol/L next to a normal serum sodium: no case
    result = run_screen(
        [
            lab("20", loinc="2955-3"),
            lab("25", loinc="2951-2", specimen_type="Urine", patient_id="P2"),
            sodium("120", patient_id="P3"),
        ]
    )
    assert list(result.cases["patient_id"]) == ["P3"]


def test_sodium_in_another_body_fluid_is_not_serum_sodium() -> None:
    assert identify([lab("130", specimen_type="CSF")]) == [(None, "other_fluid")]


def test_sodium_without_specimen_type_is_serum_sodium() -> None:
    assert identify([lab("130", specimen_type=None)]) == [("sodium", None)]


def test_sodium_lab_name_does_not_rescue_an_unknown_loinc() -> None:
    assert identify([lab("130", loinc="12345-6", lab_name="Sodium")]) == [(None, "unknown_loinc")]


@pytest.mark.parametrize(
    ("name", "analyte"),
    [
        ("Sodium", "sodium"),
        ("SERUM SODIUM", "sodium"),
        ("Na", "sodium"),
        ("Sodium, Urine", "urine_sodium"),
        ("K", "potassium"),
        ("Glucose", "glucose"),
        ("Ionized Calcium", "calcium_ionized"),
    ],
)
def test_rows_without_loinc_are_identified_by_the_lab_dictionary(name: str, analyte: str) -> None:
    assert identify([lab("1", loinc=None, lab_name=name)]) == [(analyte, None)]


def test_lab_name_not_in_dictionary_is_not_relevant() -> None:
    assert identify([lab("1", loinc=None, lab_name="Ferritin")]) == [(None, "unknown_lab_name")]


def test_lab_name_with_urine_specimen_is_urine_sodium() -> None:
    row = lab("30", loinc=None, lab_name="Sodium", specimen_type="urine")
    assert identify([row]) == [("urine_sodium", None)]


def test_glucose_from_dictionary_row_in_mmol_is_converted() -> None:
    # 5.5 mmol/L × 18.016 = 99.088 mg/dL
    out = cleaned_labs([lab("5.5", loinc=None, lab_name="Glucose", unit="mmol/L")])
    assert out.iloc[0]["value_num"] == pytest.approx(99.088)


@pytest.mark.parametrize(
    ("loinc", "unit", "value", "canonical"),
    [
        ("19123-9", "mg/dL", "1.6", 1.6),
        ("2601-3", "mmol/L", "0.65", 0.65 * 2.431),  # 1.58015 mg/dL
        ("19123-9", "mEq/L", "1.2", 1.2 * 1.215),  # 1.458 mg/dL
        ("2000-8", "mmol/L", "2.0", 2.0 * 4.008),  # 8.016 mg/dL
        ("1994-3", "mg/dL", "4.4", 4.4 / 4.008),  # 1.0978 mmol/L
        ("1751-7", "g/L", "35", 3.5),  # g/L ÷ 10
    ],
)
def test_units_are_converted_to_canonical(
    loinc: str, unit: str, value: str, canonical: float
) -> None:
    out = cleaned_labs([lab(value, loinc=loinc, unit=unit)])
    assert out.iloc[0]["bucket"] == "used"
    assert out.iloc[0]["value_num"] == pytest.approx(canonical)
