"""coverage.combine's shortcut for parts that count different things (no (table, kind, value)
repeats: nothing to sum) gives the table pandas' groupby and sort give, on hostile values:
formula-like texts, unicode, case and ties of counts; a repeated key, a missing key or an
empty part takes pandas' way."""

from __future__ import annotations

import pandas as pd

from hyposcreen.report import coverage


def _general(parts: list[pd.DataFrame]) -> pd.DataFrame:
    merged = pd.concat([p for p in parts if len(p)], ignore_index=True)
    merged = merged.groupby(["table", "kind", "value"], as_index=False)["count"].sum()
    merged["count"] = merged["count"].astype("int64")
    return merged.sort_values(
        ["count", "table", "kind", "value"], ascending=[False, True, True, True]
    ).reset_index(drop=True)


def _parts(extra: dict[tuple[str, str], int]) -> list[pd.DataFrame]:
    seen = {("unit", "mg/dL"): 5, ("unit", "=1+1"): 5, ("name", "Ω"): 2, ("name", "ω"): 2}
    return [
        coverage.reader_counts("labs", {**seen, **extra}),
        coverage.empty(),
        coverage._counts(
            "medications", "drug_name", pd.Series(["b", "B", "b", "é", "z", "@x", ""], dtype="str")
        ),
        coverage.reader_counts("diagnoses", {("code_system", "+ICD"): 5}),
    ]


def test_distinct_counts_are_ordered_as_pandas_orders_them() -> None:
    parts = _parts({("unit", "😀 mmol"): 1})
    merged = pd.concat([p for p in parts if len(p)], ignore_index=True)
    assert coverage._sorted_if_distinct(merged) is not None  # the shortcut
    pd.testing.assert_frame_equal(coverage.combine(parts), _general(parts))


def test_repeated_or_missing_keys_take_pandas_way() -> None:
    repeated = [*_parts({}), coverage.reader_counts("labs", {("unit", "mg/dL"): 3})]
    merged = pd.concat([p for p in repeated if len(p)], ignore_index=True)
    assert coverage._sorted_if_distinct(merged) is None
    combined = coverage.combine(repeated)
    pd.testing.assert_frame_equal(combined, _general(repeated))
    assert combined.loc[0].tolist() == ["labs", "unit", "mg/dL", 8]
    missing = coverage.reader_counts("labs", {("unit", "x"): 1}).astype({"value": object})
    missing.loc[0, "value"] = None
    assert coverage._sorted_if_distinct(missing.astype({"value": "str"})) is None
    assert coverage.combine([coverage.empty()]).empty
