"""CSV files built a column at a time (report/csv_text.py) are byte for byte what pandas'
to_csv writes: quoting of commas, quotes and line feeds, missing values, a row of one empty
field, integers and booleans; any other kind of value is left to pandas."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hyposcreen.report.csv_text import FIELDS_AT_ONCE, csv_chunks
from hyposcreen.report.writers import write_csv


def _ours(frame: pd.DataFrame, rows_per_slice: int | None = None) -> bytes | None:
    pieces = csv_chunks(frame, rows_per_slice)
    return None if pieces is None else b"".join(pieces)


def _pandas(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _generated(seed: int, count: int) -> pd.DataFrame:
    pick = random.Random(seed)  # noqa: S311 - test texts, not a secret
    pieces = ["a", ",", '"', "\n", "\r", " ", "", "é", "≤", "x\ty", "=1", "'"]

    def text() -> str:
        return "".join(pick.choices(pieces, k=pick.randint(0, 4)))

    return pd.DataFrame(
        {
            "a": [text() for _ in range(count)],
            "b,q": pd.Series(
                [text() if pick.random() > 0.2 else None for _ in range(count)], dtype="str"
            ),
            "n": np.arange(count) - 3,
            "flag": np.arange(count) % 3 == 0,
            'o"': pd.Series(
                [text() if pick.random() > 0.2 else np.nan for _ in range(count)], dtype=object
            ),
        }
    )


@pytest.mark.parametrize("rows_per_slice", [None, 7])
def test_generated_frames_give_pandas_bytes(rows_per_slice: int | None) -> None:
    frame = _generated(5, 500)
    assert _ours(frame, rows_per_slice) == _pandas(frame)


def test_a_row_of_one_empty_field_is_quoted_as_pandas_quotes_it() -> None:
    for values in (["", None, "x", "a,b"], pd.Series(["", None, "x"], dtype="str")):
        frame = pd.DataFrame({"only": values})
        assert _ours(frame) == _pandas(frame)
    assert _ours(pd.DataFrame({"": ["x"]})) == b'""\nx\n'


def test_empty_frames_write_their_header() -> None:
    frame = pd.DataFrame({"a": pd.Series([], dtype="str"), "n": pd.Series([], dtype="int64")})
    assert _ours(frame) == _pandas(frame) == b"a,n\n"


def test_floats_and_mixed_objects_are_left_to_pandas(tmp_path: Path) -> None:
    assert csv_chunks(pd.DataFrame({"f": [1.5, np.nan]})) is None
    assert csv_chunks(pd.DataFrame({"o": ["x", 3]})) is None
    frame = pd.DataFrame({"f": [1.5, np.nan], "t": ["=1", "b"]})
    written = write_csv(tmp_path / "f.csv", frame).read_bytes()
    assert written == b"f,t\n1.5,'=1\n,b\n"


def test_quarantined_rows_are_json_as_json_dumps_writes_them() -> None:
    import json

    from hyposcreen.report.quarantine_json import _json_objects

    rows = [
        {"code": "E87.1", "note": 'say "hi"', "value": 1.5, "when": pd.Timestamp("2026-11-20")},
        {"code": "Ärger\\x", "note": None, "value": 3, "when": None},
        {"code": "tab\there", "note": "plain", "value": None, "when": "2026-11-20T05:00"},
    ]
    frame = pd.DataFrame(rows, dtype=object)
    expected = [
        json.dumps({k: v for k, v in row.items() if v is not None}, default=str, sort_keys=True)
        for row in rows
    ]
    assert list(_json_objects(frame)) == expected


def test_a_slice_of_more_fields_than_are_tested_at_once_gives_pandas_bytes() -> None:
    """Long slices are quoted a column at a time, short ones all columns at once: both are
    pandas' bytes."""
    count = FIELDS_AT_ONCE // 5 + 100  # five columns: just over the fields tested at once
    frame = _generated(11, count)
    assert _ours(frame) == _pandas(frame)
    assert _ours(frame, rows_per_slice=count // 40) == _pandas(frame)  # short slices


def test_quarantined_typed_columns_are_json_as_their_objects_are() -> None:
    """Columns of times, numbers and Arrow text are encoded from their distinct values in
    their own type: the same JSON as the values pandas gives as objects, a time with
    microseconds, nanoseconds or a year of other than four digits included, a missing raw
    time text filled with the typed time."""
    import json

    from hyposcreen.clean import QUARANTINED
    from hyposcreen.report.quarantine import quarantine_rows
    from hyposcreen.report.quarantine_json import _json_objects

    times = pd.Series(
        pd.to_datetime(
            ["2026-11-20 05:00:00", "2026-11-20 05:00:00.000123", None, "2026-11-20 05:00:00"],
            format="ISO8601",
        )
    ).astype("datetime64[us]")
    frame = pd.DataFrame(
        {
            "when": times,
            "when_ns": pd.Series(
                pd.to_datetime(
                    ["2026-11-20 05:00:00.000000001", None, "2026-01-01", None], format="ISO8601"
                )
            ),
            "old": pd.Series(
                np.array(["0999-05-01", "NaT", "9999-12-31", "2026-01-01"], dtype="datetime64[us]")
            ),
            "number": [0.0, 2.5, np.nan, 1e-7],
            "text": pd.Series(['say "hi"', None, "Ärger\\x", "plain"], dtype="str"),
        }
    )
    expected = [
        json.dumps({k: v for k, v in row.items() if v is not None}, default=str, sort_keys=True)
        for row in frame.astype(object).where(frame.notna(), None).to_dict("records")
    ]
    assert list(_json_objects(frame)) == expected

    labs = pd.DataFrame(
        {
            "patient_id": pd.Series(["p1", "p2", "p3"], dtype="str"),
            "specimen_time": times.iloc[:3].to_numpy(),
            "specimen_time_raw": pd.Series([None, "20/11/2026 05:00", None], dtype="str"),
            "value_raw": pd.Series(["1", "2", None], dtype="str"),
            "source_row": pd.Series(["2", "3", "4"], dtype="str"),
            "source_file": pd.Series(["labs.csv"] * 3, dtype="str"),
            "bucket": pd.Series([QUARANTINED] * 3, dtype="str"),
            "reason": ["status", "status", "status"],
        }
    )
    written = list(quarantine_rows({"labs": labs})["original"])
    assert written == [
        json.dumps(
            {
                "patient_id": "p1",
                "specimen_time": str(times[0]),
                "value_raw": "1",
            },
            sort_keys=True,
        ),
        json.dumps(
            {
                "patient_id": "p2",
                "specimen_time": "20/11/2026 05:00",
                "value_raw": "2",
            },
            sort_keys=True,
        ),
        json.dumps({"patient_id": "p3"}, sort_keys=True),
    ]
