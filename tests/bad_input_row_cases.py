"""The bad-input corpus's row-level defects: each bad row is quarantined, set aside or used,
with its reason counted."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

from bad_input_cases import (
    END_BEFORE_START,
    Fails,
    Ok,
    censored_glucose,
    huge_value_kept,
    no_sodium_usable,
    quarantine_contains,
    urine_not_a_case,
)
from bad_input_defects import (
    all_sodium_non_numeric,
    damaged_gzip,
    decimal_comma,
    future_dates,
    huge_value,
    lab_name_only,
    quoted_newline,
    site_yaml,
    too_many_fields,
    truncated_last_line,
)
from bad_input_rows import (
    BASE_LAB_TEXT,
    both,
    dx,
    dx_with,
    glucose,
    lab,
    labs_only,
    labs_text,
    labs_with,
    med,
    meds_with,
    potassium,
    write,
)
from hyposcreen.errors import InputError

# (id, defect, expected outcome) of one bad row each: rows added for another patient (P2, ...)
# are never listed unless stated; `reasons` lists every non-used row of the run.
ROW_CASES: list[tuple[str, Callable[[Path], None] | None, Ok | Fails]] = [
    # ---- row-level defects
    (
        "quoted_newline_in_value",
        quoted_newline,
        Ok(reasons={"labs": {"non_numeric": 1}}, check=quarantine_contains("See\\nComments")),
    ),
    (
        "truncated_last_line",
        truncated_last_line,
        Fails(InputError, ("labs.csv", "ends in the middle of a row", "cut off")),
    ),
    (
        "cut_inside_quoted_field",
        labs_text(BASE_LAB_TEXT + 'P2,2026-11-20T09:00:00,"See comm\nP3,2026-11-20T09:00:00,125'),
        Fails(InputError, ("labs.csv", "ends inside a quoted field", "cut off")),
    ),
    (
        "gzip_stream_cut_short",
        labs_text(gzip.compress((BASE_LAB_TEXT * 50).encode())[:-40], "labs.csv.gz"),
        Fails(InputError, ("labs.csv.gz", "compressed file ends early")),
    ),
    (
        "gzip_cut_inside_quoted_field",
        labs_text(
            gzip.compress(
                (
                    BASE_LAB_TEXT + 'P2,2026-11-20T09:00:00,"See comm\nP3,2026-11-20T09:00:00,125'
                ).encode()
            ),
            "labs.csv.gz",
        ),
        Fails(InputError, ("labs.csv.gz", "ends inside a quoted field", "cut off")),
    ),
    (
        "gzip_cut_in_the_middle_of_a_row",
        labs_text(
            gzip.compress((BASE_LAB_TEXT + "P2,2026-11-20T09:00:00,12").encode()), "labs.csv.gz"
        ),
        Fails(InputError, ("labs.csv.gz", "ends in the middle of a row", "cut off")),
    ),
    (
        "gzip_damaged",
        labs_text(damaged_gzip(), "labs.csv.gz"),
        Fails(InputError, ("labs.csv.gz", "not a readable gzip file")),
    ),
    (
        "short_last_row_with_line_end",
        labs_text(BASE_LAB_TEXT + "P2,2026-11-20T09:00:00,12\n"),
        Ok(reasons={"labs": {"malformed_row": 1}}),
    ),
    (
        "control_total_differs",
        both(lambda d: write(d, "labs.count", "3\n")),
        Fails(InputError, ("labs", "declares 3 data row(s)", "labs.count", "but 2 were read")),
    ),
    ("control_total_matches", lambda d: write(d, "labs.count", "2\n"), Ok()),
    (
        "delivery_manifest_differs",
        lambda d: write(d, "delivery_manifest.json", '{"files": {"medications.csv": {"rows": 5}}}'),
        Fails(InputError, ("medications.csv", "declares 5 data row(s)", "delivery_manifest.json")),
    ),
    (
        "delivery_manifest_matches",
        lambda d: write(d, "delivery_manifest.json", '{"files": {"labs.csv": {"rows": 2}}}'),
        Ok(),
    ),
    ("too_many_fields", too_many_fields, Ok(reasons={"labs": {"malformed_row": 1}})),
    (
        "dotted_date_without_mapping",
        labs_with(lab("125", "20.11.2026 08:00")),
        Ok(reasons={"labs": {"missing_key": 1}}),
    ),
    (
        "dotted_date_with_mapping",
        both(
            labs_only(lab(time="20.11.2026 08:00"), glucose(time="2026-11-20T08:00:00")),
            site_yaml('datetime_formats: ["%d.%m.%Y %H:%M"]\n'),
        ),
        Ok(),
    ),
    (
        "offset_time_converted_to_utc",
        labs_only(lab(time="2026-11-20T08:00:00+01:00"), glucose(time="2026-11-20T08:00:00+01:00")),
        Ok(index_time="2026-11-20 07:00:00"),
    ),
    (
        "offset_time_moves_out_of_window",
        labs_only(lab(time="2026-11-20T00:30:00+01:00")),
        Ok(listed=()),  # 2026-11-19 23:30 UTC: context only, never listed by itself
    ),
    (
        "dates_in_2150_with_matching_window",
        future_dates,
        Ok(window=("2150-11-20", "2150-11-21"), index_time="2150-11-20 08:00:00"),
    ),
    (
        "impossible_date",
        labs_with(lab("125", "2026-13-45T08:00:00", patient_id="P2")),
        Ok(reasons={"labs": {"missing_key": 1}}),
    ),
    (
        "word_date_yesterday",
        labs_with(lab("125", "yesterday", patient_id="P2")),
        Ok(reasons={"labs": {"missing_key": 1}}),
    ),
    (
        "censored_glucose_lt_100",
        labs_only(lab(), glucose("<100")),
        Ok(check=censored_glucose),
    ),
    (
        "hemolyzed",
        labs_with(lab("HEMOLYZED", patient_id="P2")),
        Ok(reasons={"labs": {"non_numeric": 1}}),
    ),
    (
        "underscores",
        labs_with(lab("___", patient_id="P2")),
        Ok(reasons={"labs": {"non_numeric": 1}}),
    ),
    (
        "see_comments",
        labs_with(lab("See Comments", patient_id="P2")),
        Ok(reasons={"labs": {"non_numeric": 1}}),
    ),
    (
        "nan_and_inf_strings",
        labs_with(lab("NaN", patient_id="P2"), lab("inf", patient_id="P3")),
        Ok(reasons={"labs": {"non_numeric": 2}}),
    ),
    ("decimal_comma", decimal_comma, Ok(reasons={"labs": {"non_numeric": 1}})),
    (
        "sodium_in_mg_per_dl",
        labs_with(lab("310", unit="mg/dL", patient_id="P2")),
        Ok(reasons={"labs": {"bad_unit": 1}}),
    ),
    (
        "sodium_1350",
        labs_with(lab("1350", patient_id="P2")),
        Ok(reasons={"labs": {"implausible": 1}}),
    ),
    (
        # A concentration cannot be negative: must not become a hypokalemia co-factor.
        "negative_potassium",
        labs_only(lab(), glucose(), potassium("-3.2")),
        Ok(reasons={"labs": {"implausible": 1}}),
    ),
    ("exact_duplicate_row", labs_with(lab()), Ok(reasons={"labs": {"duplicate": 1}})),
    (
        "missing_patient_id",
        labs_with(lab("120", patient_id="")),
        Ok(reasons={"labs": {"missing_key": 1}}),
    ),
    (
        "blank_patient_id",
        labs_with(lab("120", patient_id="   ")),
        Ok(reasons={"labs": {"missing_key": 1}}),
    ),
    (
        "urine_sodium_with_serum_loinc",
        both(
            labs_with(lab("118", patient_id="P2", specimen_type="urine")),
            meds_with(med(patient_id="P2")),
        ),
        Ok(check=urine_not_a_case),
    ),
    (
        "unknown_code_system_icd10pcs",
        dx_with(dx("0DTJ4ZZ", "ICD-10-PCS")),
        Ok(reasons={"diagnoses": {"unknown_code_system": 1}}),
    ),
    (
        "unknown_code_system_xyz",
        dx_with(dx("K74.60", "XYZ")),
        Ok(reasons={"diagnoses": {"unknown_code_system": 1}}),
    ),
    (
        "diagnosis_without_code",
        dx_with(dx("", patient_id="P1")),
        Ok(reasons={"diagnoses": {"missing_key": 1}}),
    ),
    (
        # The spec is silent; the medications data contract flags an end before the start, and
        # the row is quarantined with the expectation as reason, so P1 gains no thiazide.
        "medication_end_before_start",
        meds_with(med("Hydrochlorothiazide 25mg", "2026-11-18T08:00:00", "2026-11-16T08:00:00")),
        Ok(
            reasons={"medications": {END_BEFORE_START: 1}},
            risk_factors="heart_failure;loop_diuretic",
        ),
    ),
    (
        "all_sodium_non_numeric",
        all_sodium_non_numeric,
        Ok(reasons={"labs": {"non_numeric": 5}}, listed=(), check=no_sodium_usable),
    ),
    (
        "huge_value_1mb",
        huge_value,
        Ok(reasons={"labs": {"non_numeric": 1}}, check=huge_value_kept),
    ),
    (
        "status_entered_in_error_spaces_capitals",
        labs_with(lab("118", patient_id="P2", status=" Entered in Error ")),
        Ok(reasons={"labs": {"status": 1}}),
    ),
    (
        "lab_name_only_unknown_name",
        lab_name_only,
        Ok(reasons={"labs": {"unknown_lab_name": 1}}),
    ),
]
