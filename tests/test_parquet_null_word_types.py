"""Null words (`NULL`, `\\N` …) in Parquet text columns of the other Arrow text types: a
`string_view` column (Arrow's view type, kept in the file's Arrow schema by writers that use
it) raised ArrowNotImplementedError out of the null-word search (`is_in` has no kernel for it:
a traceback, exit 70); a `binary` column (BYTE_ARRAY without the UTF8 annotation, as older
Hive/Impala writers store text) kept `NULL` as a patient named NULL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hyposcreen.config import SiteMapping
from hyposcreen.ingest.canonical import SCHEMAS
from hyposcreen.ingest.tabular import read_table


@pytest.mark.parametrize("statistics", [True, False])
@pytest.mark.parametrize("kind", [pa.string_view(), pa.binary(), pa.large_binary()])
def test_null_words_in_view_and_binary_text_columns_read_as_empty(
    tmp_path: Path, kind: pa.DataType, statistics: bool
) -> None:
    def text(values: list[str]) -> pa.Array:
        data = [value.encode() for value in values] if "binary" in str(kind) else values
        return pa.array(data, kind)

    table = pa.table(
        {
            "patient_id": text(["P1", "NULL", "P3"]),
            "specimen_id": text(["S1", "S2", "S3"]),
            "specimen_time": pa.array([dt.datetime(2026, 11, 20, 6)] * 3, pa.timestamp("us")),
            "loinc": text(["2951-2"] * 3),
            "value_raw": text(["128", "127", "\\N"]),
            "unit": text(["mmol/L", "(null)", "mmol/L"]),
        }
    )
    pq.write_table(table, tmp_path / "labs.parquet", write_statistics=statistics)
    frame = read_table(tmp_path, SCHEMAS["labs"], SiteMapping()).frame
    got = frame[["patient_id", "value_raw", "unit", "source_row"]].astype(object)
    assert got.where(got.notna(), None).values.tolist() == [
        ["P1", "128", "mmol/L", "1"],
        [None, "127", None, "2"],
        ["P3", None, "mmol/L", "3"],
    ]
