"""The whole tables a partitioned run validates, gathered by Arrow from the cleaned partitions'
files, are exactly what pandas makes of them (text validation reads only as present or missing,
the patient ids, as just that): per partition `astype("str").astype("category")`
(sorted categories), the partitions put together by `union_categoricals`, the rows back in the
whole table's order. The categories' order reaches GX's results, so it is compared too, with
the codes and their dtype (real Arrow IPC files written as the clean step writes them)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from pandas.api.types import union_categoricals

from hyposcreen.runners.contract_gather import WholeContractTables, cleaned_path, contract_frame
from hyposcreen.runners.contract_text import PRESENT, categorical_text
from hyposcreen.runners.handoff import read_frame, write_frame
from hyposcreen.validate.suites import SUITES_DIR
from hyposcreen.validate.tables import presence_read
from hyposcreen.validate.views import as_ns

# partition -> rows; labels interleave, as a partitioning by patient leaves them
_PATIENTS = [
    ["p3", "P1", None, "  ", "é1", "p3", "", "Z9"],
    ["a7", "p3", "p10", None, "ä2", "a7"],
    [],
    ["😀", "P1", "b", "b", "Z9", "p2", "a7", None, "zz"],
]
_REASONS = ["duplicate", None, "non_numeric", "unit", "duplicate", None, "x", "non_numeric", None]


def _partition(part: int, labels: np.ndarray) -> pd.DataFrame:
    n = len(labels)
    patients = _PATIENTS[part]
    times = pd.Series(pd.date_range("2026-11-01", periods=n, freq="37min"), dtype="datetime64[us]")
    values = np.linspace(120.0, 140.0, n)
    if n > 2:  # a missing time and a missing value
        times[2], values[1] = pd.NaT, np.nan
    return pd.DataFrame(
        {
            "patient_id": pd.Series(patients, dtype="str"),
            "specimen_time": times,
            "unit": pd.Series(["mmol/L", "mEq/L", None, "mmol/l"] * 3, dtype="str")[:n],
            "analyte": pd.Series(["sodium", "glucose", "sodium"] * 3, dtype="str")[:n],
            "value_canonical": values,
            "value_num": np.full(n, np.nan),
            "reason": pd.Series(_REASONS[:n], dtype=object),
            "source_file": pd.Series([f"labs_{part}.csv"] * n, dtype="str"),
            "source_row": pd.Series([str(int(x) + 2) for x in labels], dtype="str"),
        }
    ).set_axis(pd.Index(labels, dtype="int64"), axis=0)


def _write_partitions(folder: Path) -> list[pd.DataFrame]:
    total = sum(len(p) for p in _PATIENTS)
    labels = np.random.default_rng(7).permutation(total)
    frames, start = [], 0
    for part, patients in enumerate(_PATIENTS):
        held = np.sort(labels[start : start + len(patients)])
        start += len(patients)
        frames.append(_partition(part, held))
        write_frame(cleaned_path(folder, part, "labs"), frames[-1])
    return frames


def _as_pandas_gathers(folder: Path, parts: int, columns: list[str]) -> pd.DataFrame:
    """The gather as pandas does it: each partition's contract frame, categoricals put
    together by union_categoricals, the rows in label order, times in ns."""
    frames = [read_frame(cleaned_path(folder, p, "labs")) for p in range(parts)]
    held = [f for f in frames if len(f)]
    index = np.concatenate([f.index.to_numpy() for f in held])
    order = np.argsort(index, kind="stable")
    viewed = [contract_frame("labs", f.reset_index(drop=True)) for f in held]
    out = {}
    for column in columns:
        pieces = [v[column] for v in viewed]
        if isinstance(pieces[0].dtype, pd.CategoricalDtype):
            out[column] = pd.Series(union_categoricals([p.array for p in pieces]).take(order))
        else:
            joined = pd.concat(pieces, ignore_index=True).take(order).reset_index(drop=True)
            out[column] = as_ns(joined) if joined.dtype.kind == "M" else joined
    return pd.DataFrame(out).set_axis(pd.Index(index[order], dtype="int64"), axis=0)


def test_the_gathered_labs_are_pandas_categoricals_in_pandas_category_order(
    tmp_path: Path,
) -> None:
    _write_partitions(tmp_path)
    table = WholeContractTables(tmp_path, len(_PATIENTS), {})["labs"]
    gathered = table.frame
    expected = _as_pandas_gathers(tmp_path, len(_PATIENTS), list(gathered.columns))
    assert {"patient_id", "unit", "analyte", "reason", "value_num"} <= set(gathered.columns)
    assert gathered.index.equals(expected.index)
    assert list(gathered.index) == sorted(gathered.index)
    for column in gathered.columns.drop("patient_id"):  # read as present or missing: below
        ours, theirs = gathered[column], expected[column]
        assert ours.dtype == theirs.dtype, column
        if isinstance(ours.dtype, pd.CategoricalDtype):
            assert list(ours.cat.categories) == list(theirs.cat.categories), column
            assert ours.cat.categories.dtype == theirs.cat.categories.dtype, column
            assert ours.cat.codes.dtype == theirs.cat.codes.dtype, column
            assert (ours.cat.codes.to_numpy() == theirs.cat.codes.to_numpy()).all(), column
        else:
            pd.testing.assert_series_equal(
                ours.reset_index(drop=True), theirs.reset_index(drop=True), check_names=False
            )
    # e.g. units: the first partition's sorted units, then each next one's new units
    assert list(gathered["unit"].cat.categories) == ["mEq/L", "mmol/L", "mmol/l"]


def test_patient_ids_are_gathered_as_present_or_missing(tmp_path: Path) -> None:
    """The labs' only check of patient ids is that none is missing (blank text counts as
    missing): they are gathered as just that, missing where the derived column the check reads
    (blank as missing) is missing, and that derived column is missing on the same rows."""
    from hyposcreen.validate.derived import derived_columns

    _write_partitions(tmp_path)
    gathered = WholeContractTables(tmp_path, len(_PATIENTS), {})["labs"].frame
    expected = _as_pandas_gathers(tmp_path, len(_PATIENTS), ["patient_id"])["patient_id"]
    blank = expected.isna() | (expected.astype(object).fillna("").str.strip() == "")
    ids = gathered["patient_id"]
    assert list(ids.cat.categories) == [PRESENT] and ids.cat.codes.dtype == np.int8
    assert (ids.isna().to_numpy() == blank.to_numpy()).all()
    assert int(blank.sum()) == 5  # None three times, "  " and ""
    checked = derived_columns("labs", gathered, list(gathered.columns), None)["patient_id"]
    assert (checked.isna().to_numpy() == blank.to_numpy()).all()


def test_a_column_is_read_as_present_or_missing_only_when_its_checks_read_no_more(
    tmp_path: Path,
) -> None:
    names = ["patient_id", "analyte", "unit", "reason", "specimen_time", "value_num"]
    assert presence_read("labs", names) == {"patient_id"}
    assert presence_read("diagnoses", ["patient_id", "code", "code_system"]) == {
        "patient_id",
        "code",
    }
    # labs without the clean stage's reason: duplicates are found from the ids themselves
    assert presence_read("labs", [n for n in names if n != "reason"]) == set()
    spec = json.loads((SUITES_DIR / "labs.json").read_text(encoding="utf-8"))
    spec["expectations"].append(
        {
            "type": "expect_column_values_to_match_regex",
            "kwargs": {"column": "patient_id", "regex": "^P"},
            "meta": {"severity": "warning", "reason": "id_shape"},
        }
    )
    (tmp_path / "labs.json").write_text(json.dumps(spec), encoding="utf-8")
    assert presence_read("labs", names, tmp_path) == set()


def test_the_rows_a_check_quotes_are_read_as_validation_sees_them(tmp_path: Path) -> None:
    frames = _write_partitions(tmp_path)
    tables = WholeContractTables(tmp_path, len(_PATIENTS), {})
    table = tables["labs"]
    # the partitions' row labels are read once: the gather's are the ones the quotes use
    assert [list(labels) for labels in tables.row_labels("labs")] == [
        list(frame.index) for frame in frames
    ]
    assert tables.row_labels("labs") is tables.labels["labs"]
    whole = pd.concat(frames)
    labels = [int(whole.index[-1]), int(whole.index[0]), int(whole.index[9])]
    quoted = table.rows(labels, ["source_file", "source_row", "unit"])
    assert list(quoted.index) == labels
    for column in ("source_file", "source_row", "unit"):
        expected = [None if pd.isna(v) else v for v in whole.loc[labels, column]]
        assert [None if pd.isna(v) else v for v in quoted[column]] == expected, column


@pytest.mark.parametrize("kind", [pa.string(), pa.large_string()])
def test_text_of_several_chunks_and_empty_or_all_missing_parts(kind: pa.DataType) -> None:
    parts = [
        pa.chunked_array([pa.array(["b", None, "a"], kind), pa.array(["c", "b"], kind)]),
        pa.chunked_array([], kind),
        pa.chunked_array([pa.array([None, None], kind)]),
        pa.chunked_array([pa.array(["a", "Ä", "B"], kind), pa.array([""], kind)]),
    ]
    made = categorical_text("unit", parts)
    assert made is not None
    as_pandas = [pd.Series(p.to_pandas(), dtype="str").astype("category") for p in parts]
    expected = union_categoricals([p.array for p in as_pandas])
    assert list(made.categories) == list(expected.categories) == ["a", "b", "c", "", "B", "Ä"]
    assert made.codes.dtype == expected.codes.dtype
    assert (made.codes == expected.codes).all()


def test_text_kept_as_text_and_other_types_are_left_to_pandas() -> None:
    text = [pa.chunked_array([pa.array(["1", "2"])])]
    assert categorical_text("source_row", text) is None
    assert categorical_text("value_num", [pa.chunked_array([pa.array([1.0])])]) is None
    mixed = [*text, pa.chunked_array([pa.array([None, None], pa.null())])]
    assert categorical_text("unit", mixed) is None
    reasons = categorical_text("reason", [pa.chunked_array([pa.array(_REASONS)])])
    assert reasons is not None
    assert list(reasons.categories) == ["duplicate", "non_numeric"]
    assert list(reasons.codes) == [0, -1, 1, -1, 0, -1, -1, 1, -1]


@pytest.mark.parametrize(
    ("units", "times"),
    [
        (["us", "us"], ["2026-11-01 10:00", None, "2026-11-02 00:30"]),
        (["ms", "us"], ["2026-11-01 10:00", None, "2026-11-02 00:30"]),  # two units
        (["us", "us"], ["2026-11-01 10:00", "3000-01-01 00:00", None]),  # past ns: kept in us
    ],
)
def test_times_are_joined_in_order_as_pandas_joins_them(units: list[str], times: list) -> None:
    """The partitions' times made one column in the whole table's order, in ns where ns
    holds them (else in their unit), as `as_ns` makes pandas' joined column."""
    from hyposcreen.runners.contract_columns import joined_numbers

    stamps = pd.to_datetime(pd.Series(times, dtype=object), format="mixed")
    parts = [stamps[:2], stamps[2:]]
    arrays = [
        pa.chunked_array([pa.array(p.to_numpy(dtype=f"datetime64[{u}]"), pa.timestamp(u))])
        for p, u in zip(parts, units, strict=True)
    ]
    order = np.array([2, 0, 1])
    made = joined_numbers(arrays, order, in_order=False)
    joined = pd.concat([pd.Series(a.to_numpy()) for a in arrays], ignore_index=True)
    expected = as_ns(joined.take(order).reset_index(drop=True))
    pd.testing.assert_series_equal(made, expected)
