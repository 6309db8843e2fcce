"""Warnings from the quarantined rows (quarantine_warnings), with hand-computed shares: a table
whose keys do not read, and lab results written with a decimal comma at a '.' site. The whole
deliveries are in test_delivery_unreadable_times.py and test_delivery_decimal_commas.py."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from hyposcreen.quarantine_warnings import quarantine_warnings
from hyposcreen.rules.loader import load_rules
from hyposcreen.rules.model import WarningThresholds

LIMITS = load_rules().warnings  # max_missing_key_share 0.05, min_rows_for_share 10


def quarantine(rows: list[tuple[str, int, str, dict[str, str]]]) -> pd.DataFrame:
    """Quarantine rows as report.quarantine writes them: (table, row, reason, original)."""
    return pd.DataFrame(
        {
            "table": [r[0] for r in rows],
            "source_file": [f"{r[0]}.csv" for r in rows],
            "source_row": [str(r[1]) for r in rows],
            "reason": [r[2] for r in rows],
            "patient_id": ["P-SECRET"] * len(rows),
            "original": [json.dumps(r[3]) for r in rows],
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


def missing_rows(count: int) -> pd.DataFrame:
    return quarantine(
        [
            ("labs", n + 2, "missing_key", {"specimen_time_raw": "20.11.2026 06:10"})
            for n in range(count)
        ]
    )


def test_the_rules_data_holds_the_missing_key_limit() -> None:
    assert LIMITS.max_missing_key_share == 0.05
    assert LIMITS.min_rows_for_share == 10


def test_a_missing_key_share_at_the_limit_does_not_warn() -> None:
    # 100 rows in, 20 not relevant: 80 rows matter; 4 missing keys are 4 / 80 = 5.0 %, the limit
    assert quarantine_warnings(missing_rows(4), labs_counts(100, 4, 20), LIMITS) == []


def test_a_missing_key_share_above_the_limit_warns_with_counts_and_rows_only() -> None:
    # 5 of the 80 rows that matter: 6.25 %, printed as 6 %
    (warning,) = quarantine_warnings(missing_rows(5), labs_counts(100, 5, 20), LIMITS)
    assert warning.code == "unreadable_keys"
    assert warning.message.startswith("5 of 80 labs row(s) (6%) are quarantined missing_key")
    assert "patient_id or specimen_time" in warning.message
    assert "(e.g. labs.csv:2, labs.csv:3, labs.csv:4; limit 5%)" in warning.message  # three
    assert "P-SECRET" not in warning.message and "20.11.2026" not in warning.message


def test_too_few_rows_for_a_share_do_not_warn() -> None:
    # 9 rows matter (< min_rows_for_share 10): even 9 of 9 missing keys give no share warning
    assert quarantine_warnings(missing_rows(9), labs_counts(9, 9), LIMITS) == []
    limits = WarningThresholds(min_rows_for_share=9)
    assert [w.code for w in quarantine_warnings(missing_rows(9), labs_counts(9, 9), limits)] == [
        "unreadable_keys"
    ]


def test_each_table_is_judged_on_its_own_rows() -> None:
    # medications: 2 of 10 rows (20 %) without a readable start; labs: 0 of 100
    counts = {
        **labs_counts(100, 0),
        "medications": {"rows_in": 10, "reasons": {"quarantined": {"missing_key": 2}}},
    }
    rows = quarantine([("medications", n, "missing_key", {}) for n in (7, 9)])
    (warning,) = quarantine_warnings(rows, counts, LIMITS)
    assert warning.message.startswith("2 of 10 medications row(s) (20%)")
    assert "patient_id or start_time" in warning.message
    assert "medications.csv:7, medications.csv:9;" in warning.message


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


def test_decimal_commas_at_a_comma_site_do_not_warn() -> None:
    assert quarantine_warnings(quarantine(DECIMAL_ROWS), labs_counts(100, 0), LIMITS, ",") == []


def test_an_empty_quarantine_gives_no_warning() -> None:
    assert quarantine_warnings(quarantine([]), labs_counts(100, 0), LIMITS) == []
