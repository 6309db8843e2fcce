"""The engine's pieces one by one: codes of distinct texts, the rule tables, the cleaning
queries (spec §3) on hand-built rows with hand-computed answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from hyposcreen.clean import clean_labs
from hyposcreen.clean.buckets import patient_codes
from hyposcreen.clean.lab_sql import PROBLEMS, duplicates_sql
from hyposcreen.rules import sql_engine as engine
from hyposcreen.rules.loader import load_rules
from hyposcreen.rules.tables import analyte_table, status_table, unit_factor_table

RULES = load_rules(None)
T = pd.Timestamp("2026-11-20 08:00")


def test_encode_numbers_distinct_texts_in_order_of_appearance() -> None:
    codes, texts = engine.encode(pd.Series(["b", None, "a", "b", ""], dtype="str"))
    assert texts == ["b", "a", ""]
    assert codes.tolist() == [0, -1, 1, 0, 2]


def test_combine_codes_gives_one_code_per_distinct_pair() -> None:
    first = (np.array([0, 0, 1, -1, 0]), 2)
    second = (np.array([1, 1, 1, 0, -1]), 2)
    combo, distinct = engine.combine_codes(first, second)
    assert combo.tolist() == [0, 0, 1, 2, 3]  # (0,1) (0,1) (1,1) (-1,0) (0,-1)
    assert distinct.tolist() == [[0, 1], [1, 1], [-1, 0], [0, -1]]


def test_in_row_order_puts_results_back_by_position() -> None:
    result = pa.table({engine.ROW: [2, 0], "x": [20.0, 0.0]})
    assert engine.in_row_order(result, "x", 3).tolist()[:1] == [0.0]
    assert np.isnan(engine.in_row_order(result, "x", 3)[1])
    assert engine.in_row_order(result, "x", 3)[2] == 20.0


def test_patient_codes_strip_and_number_ids() -> None:
    ids = pd.Series([" P1 ", "P1", "", None, "P2"], dtype="str")
    stripped, missing, key = patient_codes(ids)
    assert stripped.tolist()[:3] == ["P1", "P1", ""] and pd.isna(stripped[3])
    assert missing.tolist() == [False, False, True, True, False]
    assert key[0] == key[1] != key[4] and key[2] == key[3] == -1


def test_patient_codes_drop_the_invisible_characters_exports_leave_in_ids() -> None:
    """A database's CHAR padding (NUL), a zero-width space or joiner, a byte order mark: the
    same patient as the plain id, and an id of nothing else is missing."""
    ids = pd.Series(["P4\x00\x00", "P4", "\ufeffP4\u200b", "P\u200d4", "\x00", "P5"], dtype="str")
    stripped, missing, key = patient_codes(ids)
    assert stripped.tolist() == ["P4", "P4", "P4", "P4", "", "P5"]
    assert missing.tolist() == [False, False, False, False, True, False]
    assert key[0] == key[1] == key[2] == key[3] != key[5] and key[4] == -1


def test_rule_tables_hold_the_spec_factors_and_ranges() -> None:
    units = unit_factor_table(RULES).to_pandas().set_index(["analyte", "unit_key"])["factor"]
    assert units[("glucose", "mmol/l")] == 18.016  # spec §2
    assert units[("calcium_ionized", "mg/dl")] == pytest.approx(1 / 4.008)
    assert units[("urine_osmolality", "mosm/kgh2o")] == 1.0  # mOsm/kg H2O is mOsm/kg
    analytes = analyte_table(RULES).to_pandas().set_index("analyte")
    assert (analytes.loc["sodium", "plausible_low"], analytes.loc["sodium", "plausible_high"]) == (
        80.0,
        200.0,
    )
    assert np.isnan(analytes.loc["glucose", "plausible_high"])  # no other range (spec §3)
    assert analytes.loc["sodium", "urine_counterpart"] == "urine_sodium"
    statuses = status_table(RULES).to_pandas()
    excluded = set(statuses.loc[statuses["category"] == "lab_excluded", "status_key"])
    assert {"entered-in-error", "cancelled"} <= excluded  # site words: apply_site_words


def _labs(rows: list[tuple]) -> pd.DataFrame:
    columns = ["patient_id", "value_raw", "unit", "status", "analyte", "specimen_id"]
    frame = pd.DataFrame(rows, columns=columns).astype("str")
    frame["specimen_time"] = pd.Series([T] * len(rows), dtype="datetime64[us]")
    frame["value"] = np.nan
    return frame


def test_the_first_problem_of_the_spec_order_wins() -> None:
    cleaned = clean_labs(
        _labs(
            [
                ("", "x", "?", "cancelled", "sodium", "S1"),  # missing key before the rest
                ("P", "x", "?", "Entered in error", "sodium", "S2"),  # status before non-numeric
                ("P", "x", "?", "final", "sodium", "S3"),  # non-numeric before bad unit
                ("P", "250", "?", "final", "sodium", "S4"),  # bad unit before implausible
                ("P", "250", "mmol/L", "final", "sodium", "S5"),  # 250 > 200: implausible
                ("P", "0", "mg/dL", "final", "glucose", "S6"),  # a value <= 0 is implausible
                ("P", "2400", "mg/dL", "final", "glucose", "S7"),  # no range for glucose
                ("P", "7,5", "mmol/L", "final", "glucose", "S8"),  # '.' sites: 7,5 is no number
            ]
        ),
        RULES,
    )
    assert cleaned["reason"].tolist()[:6] == [
        "missing_key",
        "status",
        "non_numeric",
        "bad_unit",
        "implausible",
        "implausible",
    ]
    assert pd.isna(cleaned["reason"][6]) and cleaned["value_num"][6] == 2400.0
    assert cleaned["reason"][7] == "non_numeric"
    assert set(PROBLEMS[1:]) >= {"missing_key", "status", "non_numeric", "bad_unit"}


def test_duplicates_keep_the_exact_value_and_the_row_with_a_specimen() -> None:
    cleaned = clean_labs(
        _labs(
            [
                ("P", "<130", "mmol/L", "final", "sodium", "S1"),  # censored 130
                ("P", "130", "mmol/L", "final", "sodium", None),  # exact, no specimen id
                ("P", "130", "mmol/L", "final", "sodium", "S2"),  # exact, with specimen id: used
                ("P", "129", "mmol/L", "final", "sodium", None),  # another value: used
            ]
        ),
        RULES,
    )
    assert cleaned["bucket"].tolist() == ["duplicate", "duplicate", "used", "used"]
    # mmol/L -> canonical factor 1: value_num 130 for the used row, none for duplicates
    assert cleaned["value_num"].tolist()[2:] == [130.0, 129.0]


def test_the_duplicates_query_orders_only_by_columns_the_rows_have() -> None:
    assert "specimen_id" not in duplicates_sql([]) and "result_time" not in duplicates_sql([])
    assert "specimen_id ASC NULLS LAST" in duplicates_sql(["specimen_id"])
    assert duplicates_sql(["specimen_id", "result_time"]).rstrip().endswith("rn ASC\n) > 1")
