"""The evidence table made from arrays (report/evidence_arrays.py) is the table the pandas
column operations make (`evidence_by_columns`): same rows, texts, order and types; a column
it does not take (a missing text, times in another unit) goes the pandas way."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hyposcreen.report.evidence import (
    _lab_value_text,
    evidence_by_columns,
    evidence_table,
)
from hyposcreen.report.evidence_arrays import NotPlain, evidence_frame, evidence_parts, lab_values
from hyposcreen.screen.cases import ScreenResult

TEXTS = ["b", "B", "=a", "é", "z", "Ω", "😀", "a b", "a", " |x", "|"]


def _times(rng: np.random.Generator, count: int) -> pd.Series:
    hours = rng.integers(-3, 3, count)
    return pd.Series(pd.to_datetime("2026-11-20") + pd.to_timedelta(hours, unit="h"))


def _result(seed: int, count: int = 40) -> ScreenResult:
    rng = np.random.default_rng(seed)

    def texts(choices: list[str] = TEXTS) -> pd.Series:
        return pd.Series(rng.choice(choices, count), dtype="str")

    ends = _times(rng, count).where(rng.random(count) < 0.5)
    meds = pd.DataFrame(
        {
            "patient_id": texts(TEXTS[:5]),
            "risk_factor": texts(),
            "drug": texts(),
            "start_time": _times(rng, count) - pd.Timedelta(days=20000),  # before 1970 too
            "end_time": ends,
            "days_since_start": rng.integers(0, 400, count),
            "new_start": rng.random(count) < 0.3,
            "active_until": _times(rng, count).where(rng.random(count) < 0.5),
        }
    )
    conditions = pd.DataFrame(
        {
            "patient_id": texts(TEXTS[:5]),
            "condition": pd.Series(rng.choice(["cirrhosis", "alcohol"], count), dtype=object),
            "risk_factor": texts().where(rng.random(count) < 0.7),
            "code": texts(),
            "code_system": pd.Series(["ICD-10-CM"] * count, dtype=object),
            "recorded_time": _times(rng, count),
        }
    )
    cofactors = pd.DataFrame(
        {
            "patient_id": texts(TEXTS[:5]),
            "risk_factor": texts(),
            "analyte": texts(["potassium", "magnesium", "calcium_total", "other"]),
            "value": rng.choice([3.0, 3.25, -0.0, 0.0, 1.205, np.nan, 2.5e-7], count),
            "unit": texts(["mmol/L", "mg/dL"]),
            "time": _times(rng, count),
            "detail": texts(),
            "censored": texts(["<", "<=", ">", ">=", "", "?"]).where(rng.random(count) < 0.8),
        }
    )
    sodium = pd.DataFrame(
        {
            "patient_id": texts(TEXTS[:5]),
            "specimen_time": _times(rng, count),
            "corrected_sodium": rng.choice([125.05, -3.25, 130.0, np.nan], count),
            "possibly_spurious": rng.random(count) < 0.2,
        }
    )
    return ScreenResult(pd.DataFrame(), sodium, meds, conditions, cofactors, [])


@pytest.mark.parametrize("seed", range(6))
def test_the_table_from_arrays_is_the_table_of_the_column_operations(seed: int) -> None:
    result = _result(seed)
    from_arrays = evidence_frame(evidence_parts(result))  # no column sent the pandas way
    pd.testing.assert_frame_equal(from_arrays, evidence_by_columns(result), check_exact=True)
    pd.testing.assert_frame_equal(evidence_table(result), from_arrays, check_exact=True)


def test_a_missing_text_or_other_time_unit_goes_the_pandas_way() -> None:
    result = _result(1)
    result.medication_evidence.loc[3, "drug"] = np.nan
    with pytest.raises(NotPlain):
        evidence_parts(result)
    pd.testing.assert_frame_equal(evidence_table(result), evidence_by_columns(result))
    other = _result(2)
    other.cofactor_evidence["time"] = other.cofactor_evidence["time"].astype("datetime64[ns]")
    with pytest.raises(NotPlain):
        evidence_frame(evidence_parts(other))
    pd.testing.assert_frame_equal(evidence_table(other), evidence_by_columns(other))


def test_no_evidence_is_the_empty_table() -> None:
    result = _result(3)
    empty = ScreenResult(
        pd.DataFrame(),
        result.sodium_results.assign(possibly_spurious=False),
        result.medication_evidence.iloc[:0],
        result.condition_evidence.iloc[:0],
        result.cofactor_evidence.iloc[:0],
        [],
    )
    pd.testing.assert_frame_equal(evidence_table(empty), evidence_by_columns(empty))


def test_censored_values_keep_their_mark_as_the_column_operations_write_them() -> None:
    rows = _result(4, count=200).cofactor_evidence
    assert lab_values(rows).tolist() == _lab_value_text(rows).tolist()
    assert (
        lab_values(rows.drop(columns="censored")).tolist()
        == _lab_value_text(rows.drop(columns="censored")).tolist()
    )
