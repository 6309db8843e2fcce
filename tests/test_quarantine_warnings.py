"""Warnings from the quarantined rows (quarantine_warnings), with hand-computed shares: a table
whose keys do not read, and lab results written with a decimal comma at a '.' site. The whole
deliveries are in test_delivery_unreadable_times.py and test_delivery_decimal_commas.py."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest

from hyposcreen import quarantine_text, quarantined_times
from hyposcreen.quarantine_text import json_texts, key_values
from hyposcreen.quarantine_warnings import quarantine_warnings
from hyposcreen.rules.loader import load_rules
from hyposcreen.rules.model import WarningThresholds

LIMITS = load_rules().warnings  # max_missing_key_share 0.05, min_rows_for_share 10


def quarantine(rows: list[tuple[str, int, str, dict[str, str]]]) -> pd.DataFrame:
    """Quarantine rows as report.quarantine writes them: (table, row, reason, original); the
    patient id column is the original's (empty when it has none)."""
    return pd.DataFrame(
        {
            "table": [r[0] for r in rows],
            "source_file": [f"{r[0]}.csv" for r in rows],
            "source_row": [str(r[1]) for r in rows],
            "reason": [r[2] for r in rows],
            "patient_id": [r[3].get("patient_id", "") for r in rows],
            "original": [json.dumps(r[3], sort_keys=True) for r in rows],
        },
        dtype="str",
    )


def labs_counts(rows_in: int, missing_key: int, not_relevant: int = 0) -> dict[str, Any]:
    return {
        "labs": {
            "rows_in": rows_in,
            "reasons": {
                "not_relevant": {"unknown_loinc": not_relevant},
                "quarantined": {"missing_key": missing_key},
            },
        }
    }


UNREAD = {"patient_id": "P-SECRET", "specimen_time": "20.11.2026 06:10"}


def unreadable_rows(count: int) -> pd.DataFrame:
    return quarantine([("labs", n + 2, "missing_key", UNREAD) for n in range(count)])


def test_the_rules_data_holds_the_key_limits() -> None:
    assert LIMITS.max_unreadable_time_share == 0.05
    assert LIMITS.max_missing_key_share == 0.5
    assert LIMITS.min_rows_for_share == 10


def test_an_unreadable_time_share_at_the_limit_does_not_warn() -> None:
    # 100 rows in, 20 not relevant: 80 rows matter; 4 unreadable times are 4 / 80 = 5.0 %
    assert quarantine_warnings(unreadable_rows(4), labs_counts(100, 4, 20), LIMITS) == []


def test_an_unreadable_time_share_above_the_limit_warns_with_counts_and_rows_only() -> None:
    # 5 of the 80 rows that matter: 6.25 %, printed as 6 %
    (warning,) = quarantine_warnings(unreadable_rows(5), labs_counts(100, 5, 20), LIMITS)
    assert warning.code == "unreadable_times"
    assert warning.message.startswith(
        "5 of 80 labs row(s) (6%) have a specimen_time that does not read "
        "(e.g. labs.csv:2, labs.csv:3, labs.csv:4; limit 5%)"  # three examples
    )
    assert "P-SECRET" not in warning.message and "20.11.2026" not in warning.message


def test_unreadable_times_say_they_are_the_whole_extracts() -> None:
    """A time that does not read belongs to no night: each night of a backfill reads the row
    again, so the warning says its rows are the extract's, as unidentified_events says so."""
    (warning,) = quarantine_warnings(unreadable_rows(5), labs_counts(100, 5, 20), LIMITS)
    assert warning.message.endswith(
        "These rows are of the whole extract: a time that does not read places its row in no "
        "night, so every night reads it (each night of a backfill and each month of an audit "
        "tells them again)."
    )


def test_rows_set_aside_for_their_time_count_among_the_rows_that_matter() -> None:
    # 100 rows in: 20 unknown LOINC (set aside for what they are: they do not count) and 40
    # outside the window (set aside for their time: they count), so 80 rows matter.
    # 3 unreadable of 80 = 3.75 %: no warning (of the 40 dated in range it would be 7.5 %)
    counts = labs_counts(100, 3, 20)
    counts["labs"]["reasons"]["not_relevant"]["outside_window"] = 40
    assert quarantine_warnings(unreadable_rows(3), counts, LIMITS) == []
    counts["labs"]["reasons"]["quarantined"]["missing_key"] = 5  # 5 of 80 = 6.25 %
    (warning,) = quarantine_warnings(unreadable_rows(5), counts, LIMITS)
    assert warning.message.startswith("5 of 80 labs row(s) (6%)")


def test_key_times_too_few_to_warn_are_not_read_from_the_originals(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A night's few rows quarantined missing_key, under both the unreadable-time and the
    empty-key share, warn of nothing and their originals are not read for their times (on a
    backfill, every night would read them again for no warning); over a share they are."""
    read: list[str] = []

    def counted(original: pd.Series, key: str) -> Any:
        read.append(key)
        return key_values(original, key)

    monkeypatch.setattr(quarantined_times, "key_values", counted)
    assert quarantine_warnings(unreadable_rows(3), labs_counts(100, 3), LIMITS) == []
    assert read == []
    (warning,) = quarantine_warnings(unreadable_rows(6), labs_counts(100, 6), LIMITS)
    assert warning.code == "unreadable_times" and read == ["specimen_time"]


def test_too_few_rows_for_a_share_do_not_warn() -> None:
    # 9 rows matter (< min_rows_for_share 10): even 9 of 9 unreadable times give no warning
    assert quarantine_warnings(unreadable_rows(9), labs_counts(9, 9), LIMITS) == []
    limits = WarningThresholds(min_rows_for_share=9)
    assert [w.code for w in quarantine_warnings(unreadable_rows(9), labs_counts(9, 9), limits)] == [
        "unreadable_times"
    ]


def test_empty_keys_warn_only_above_half_of_all_rows() -> None:
    # no patient id (a time that reads or not), or no time at all: empty keys, not unreadable
    empty = [
        ("labs", 2, "missing_key", {"specimen_time": "2026-11-20T06:00:00"}),
        ("labs", 3, "missing_key", {"patient_id": "P1"}),
        ("labs", 4, "missing_key", {"patient_id": " ", "specimen_time": "20.11.2026"}),
    ]
    # 3 of 6 rows = 50 %: the limit, no warning
    assert (
        quarantine_warnings(
            quarantine(empty), labs_counts(6, 3), WarningThresholds(min_rows_for_share=6)
        )
        == []
    )
    # 3 of 5 = 60 %
    (warning,) = quarantine_warnings(
        quarantine(empty), labs_counts(5, 3), WarningThresholds(min_rows_for_share=5)
    )
    assert warning.code == "missing_keys"
    assert warning.message.startswith("3 of 5 labs row(s) (60%) have an empty key")
    assert "labs.csv:2, labs.csv:3, labs.csv:4" in warning.message


def test_each_table_is_judged_on_its_own_rows() -> None:
    # medications: 2 of 10 rows (20 %) with a start that does not read; labs: 0 of 100
    counts = {
        **labs_counts(100, 0),
        "medications": {"rows_in": 10, "reasons": {"quarantined": {"missing_key": 2}}},
    }
    start = {"patient_id": "P2", "start_time": "12/05/2026"}
    rows = quarantine([("medications", n, "missing_key", start) for n in (7, 9)])
    (warning,) = quarantine_warnings(rows, counts, LIMITS)
    assert warning.message.startswith("2 of 10 medications row(s) (20%) have a start_time")
    assert "medications.csv:7, medications.csv:9;" in warning.message


def test_a_diagnosis_without_a_code_is_an_empty_key_not_an_unreadable_time() -> None:
    # 12 rows, all quarantined: 10 without a code (their time reads or not), 2 coded whose
    # recorded_time does not read: 2 of 12 unreadable (17 %), 10 of 12 empty (83 %)
    rows = [
        ("diagnoses", n, "missing_key", {"patient_id": "P1", "recorded_time": "15.06.2025"})
        for n in range(2, 12)
    ] + [
        ("diagnoses", n, "missing_key", {"code": "N18.3", "patient_id": "P1", "recorded_time": "x"})
        for n in (12, 13)
    ]
    counts = {"diagnoses": {"rows_in": 12, "reasons": {"quarantined": {"missing_key": 12}}}}
    found = {w.code: w.message for w in quarantine_warnings(quarantine(rows), counts, LIMITS)}
    assert found["unreadable_times"].startswith("2 of 12 diagnoses row(s) (17%)")
    assert "diagnoses.csv:12, diagnoses.csv:13;" in found["unreadable_times"]
    assert found["missing_keys"].startswith("10 of 12 diagnoses row(s) (83%) have an empty key")


DECIMAL_ROWS = [
    ("labs", 12, "non_numeric", {"value_raw": "3,4", "unit": "mmol/L"}),
    ("labs", 15, "non_numeric", {"value_raw": " <0,5 ", "unit": "mg/dL"}),
    ("labs", 16, "non_numeric", {"value_raw": "See Comments"}),
    ("labs", 17, "non_numeric", {"value_raw": "1,2,3"}),  # not a number with a decimal comma
    ("labs", 18, "bad_unit", {"value_raw": "4,1"}),  # quarantined for its unit, not its number
    ("medications", 3, "non_numeric", {"value_raw": "3,4"}),
]


def test_decimal_commas_at_a_dot_site_warn_with_their_count_and_rows() -> None:
    # rows 12 and 15 only: 2 results
    (warning,) = quarantine_warnings(quarantine(DECIMAL_ROWS), labs_counts(100, 0), LIMITS)
    assert warning.code == "decimal_commas"
    assert warning.message.startswith("2 lab result(s) are numbers written with a decimal comma")
    assert "(e.g. labs.csv:12, labs.csv:15)" in warning.message
    assert 'decimal: ","' in warning.message
    assert "3,4" not in warning.message and "P-SECRET" not in warning.message


def test_the_number_shapes_read_the_results_texts_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The decimal commas, thousands separators and result flags are judged on the
    non-numeric lab results' texts read once from the originals for all three (a night's
    hundreds of such rows are not read again for each judge)."""
    read: list[int] = []

    def counted(original: pd.Series, key: str) -> pd.Series:
        read.append(len(original))
        return json_texts(original, key)

    monkeypatch.setattr(quarantine_text, "json_texts", counted)
    rows = [*DECIMAL_ROWS, ("labs", 19, "non_numeric", {"value_raw": "125 L"})]
    found = quarantine_warnings(quarantine(rows), labs_counts(100, 0), LIMITS)
    assert [w.code for w in found] == ["decimal_commas", "result_flags"]
    assert read == [5]


def test_decimal_commas_at_a_comma_site_do_not_warn() -> None:
    assert quarantine_warnings(quarantine(DECIMAL_ROWS), labs_counts(100, 0), LIMITS, ",") == []


def test_an_empty_quarantine_gives_no_warning() -> None:
    assert quarantine_warnings(quarantine([]), labs_counts(100, 0), LIMITS) == []


def test_a_quarantine_of_python_strings_or_with_missing_tables_warns_alike() -> None:
    # the warnings compare the table and reason columns by Arrow when they hold Arrow text
    # and by pandas otherwise: the same rows warn either way, and a missing table or reason
    # matches nothing
    rows = [
        ("diagnoses", n, "missing_key", {"code": "N18.3", "patient_id": "P1", "recorded_time": "x"})
        for n in (12, 13)
    ] + DECIMAL_ROWS
    counts = {
        **labs_counts(100, 0),
        "diagnoses": {"rows_in": 12, "reasons": {"quarantined": {"missing_key": 2}}},
    }
    arrow = quarantine(rows)
    objects = arrow.astype(object)
    with_missing = pd.concat(
        [arrow, quarantine([("labs", 40, "non_numeric", {"value_raw": "2,5"})])],
        ignore_index=True,
    )
    with_missing.loc[len(with_missing) - 1, "table"] = None
    expected = [(w.code, w.message) for w in quarantine_warnings(arrow, counts, LIMITS)]
    assert [w.code for w in quarantine_warnings(arrow, counts, LIMITS)] == [
        "unreadable_times",
        "decimal_commas",
    ]
    assert [(w.code, w.message) for w in quarantine_warnings(objects, counts, LIMITS)] == expected
    found = quarantine_warnings(with_missing, counts, LIMITS)
    assert [(w.code, w.message) for w in found] == expected


def medication_counts(rows_in: int, malformed: int) -> dict[str, Any]:
    reasons = {"quarantined": {"malformed_row": malformed, "status": 1}}
    return {**labs_counts(100, 0), "medications": {"rows_in": rows_in, "reasons": reasons}}


SPLIT = {"malformed_text": "P-SECRET,Furosemide, oral,40,mg"}


def test_the_rules_data_warns_from_the_first_malformed_row() -> None:
    assert LIMITS.max_malformed_rows == 0


def test_one_malformed_row_warns_with_the_table_count_share_and_rows_only() -> None:
    # 1 of 40 medication rows = 2.5 %, printed as 2 % (Python's round half to even: 2.5 -> 2)
    rows = quarantine([("medications", 7, "malformed_row", SPLIT)])
    (warning,) = quarantine_warnings(rows, medication_counts(40, 1), LIMITS)
    assert warning.code == "malformed_rows"
    assert warning.message.startswith(
        "1 of 40 medications row(s) (2%) do not read as a row (e.g. medications.csv:7)"
    )
    assert "P-SECRET" not in warning.message and "Furosemide" not in warning.message


def test_malformed_rows_warn_on_few_rows_and_up_to_the_rules_limit_do_not() -> None:
    # 3 of 4 rows: the share rules' min_rows_for_share (10) does not hold back this one
    rows = quarantine([("medications", n, "malformed_row", SPLIT) for n in (2, 3, 5)])
    (warning,) = quarantine_warnings(rows, medication_counts(4, 3), LIMITS)
    assert warning.message.startswith("3 of 4 medications row(s) (75%) do not read as a row")
    assert "(e.g. medications.csv:2, medications.csv:3, medications.csv:5)" in warning.message
    three = WarningThresholds(max_malformed_rows=3)
    assert quarantine_warnings(rows, medication_counts(4, 3), three) == []
