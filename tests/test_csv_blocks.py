"""quarantine.csv's blocks of rows remembered by exact content (report.csv_blocks) give the
bytes the general writer gives, night after night, on hostile values: formula-like texts,
quotes, commas and line breaks, unicode, empty texts and missing values; a block whose
content changed in any way (a value, a missing value for an empty text, a column's name)
is made again."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.report import csv_blocks
from hyposcreen.report.writers import write_csv

HOSTILE = [
    '=HYPERLINK("http://x","y")',
    "+1",
    "-0012",
    "@sum(A1)",
    "\tlead tab",
    '{"code": "R25.2", "note": "a, b"}',
    "two\nlines",
    "ünïcödé Ω 😀",
    "",
    "plain",
]


def _quarantine(labs: Sequence[str | None], events: Sequence[str | None]) -> pd.DataFrame:
    """Diagnoses, labs, medications: each table's rows numbered on their own."""
    blocks = (("diagnoses", events), ("labs", labs), ("medications", list(events)[::-1]))
    rows = [
        (table, str(row), "=P1" if row % 3 == 0 else f"+Ω{row}", original)
        for table, originals in blocks
        for row, original in enumerate(originals)
    ]
    columns = ["table", "source_row", "patient_id", "original"]
    return pd.DataFrame(rows or None, columns=columns, dtype="str")


@pytest.fixture(autouse=True)
def _in_a_loop_of_windows() -> Iterator[None]:
    with csv_blocks.remembering_blocks():
        yield


def _both(tmp_path: Path, frame: pd.DataFrame, night: str) -> tuple[bytes, bytes]:
    general = write_csv(tmp_path / "general" / night / "q.csv", frame).read_bytes()
    blocks = write_csv(tmp_path / night / "q.csv", frame, blocks_by="table").read_bytes()
    return general, blocks


def test_blocks_give_the_general_bytes_night_after_night(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[str] = []
    rows_text = csv_blocks._rows_text

    def counted(block: pd.DataFrame, numeric: tuple[str, ...]) -> bytes | None:
        made.append(block["table"].iloc[0])
        return rows_text(block, numeric)

    monkeypatch.setattr(csv_blocks, "_rows_text", counted)
    events: list[str | None] = [*HOSTILE, None]
    nights = [
        _quarantine(["=1+1", "3,4"], events),
        _quarantine(["'quoted'", None, ""], events),  # the same events, other labs
        _quarantine(["x"], [*HOSTILE[:-1], "plain ", None]),  # an event text changed
        _quarantine(["x"], [*HOSTILE, ""]),  # a missing value became an empty text
    ]
    for night, frame in enumerate(nights):
        general, blocks = _both(tmp_path, frame, str(night))
        assert blocks == general, night
    assert made == [
        *("diagnoses", "labs", "medications"),  # the first night: every block
        "labs",  # the same events: only the labs
        *("diagnoses", "labs", "medications"),  # an event text changed (and the labs)
        *("diagnoses", "medications"),  # the same labs
    ]


def test_a_frame_the_blocks_do_not_fit_is_written_whole(tmp_path: Path) -> None:
    scattered = _quarantine(["a"], ["b"]).iloc[[0, 1, 2, 0]]  # diagnoses in two runs
    assert csv_blocks.csv_of_blocks(scattered, "table", "q.csv") is None
    general, blocks = _both(tmp_path, scattered, "scattered.csv")
    assert blocks == general
    numbers = _quarantine(["a"], ["b"]).assign(source_row=[1, 2, 3])  # not all Arrow text
    assert csv_blocks.csv_of_blocks(numbers, "table", "q.csv") is None
    assert _both(tmp_path, numbers, "numbers.csv")[0] == _both(tmp_path, numbers, "n2.csv")[1]
    empty = _quarantine([], [])
    assert csv_blocks.csv_of_blocks(empty, "table", "q.csv") is None
    general, blocks = _both(tmp_path, empty, "empty.csv")
    assert blocks == general == b"table,source_row,patient_id,original\n"
    missing_key = _quarantine(["a"], ["b"]).astype(object)
    missing_key.loc[1, "table"] = None
    missing_key = missing_key.astype("str")
    assert csv_blocks.csv_of_blocks(missing_key, "table", "q.csv") is None


def test_a_renamed_column_makes_the_block_again(tmp_path: Path) -> None:
    frame = _quarantine(["a"], HOSTILE)
    assert _both(tmp_path, frame, "one.csv")[1] == _both(tmp_path, frame, "two.csv")[0]
    renamed = frame.rename(columns={"original": "source"})
    general, blocks = _both(tmp_path, renamed, "renamed.csv")
    assert blocks == general and b"source" in blocks.splitlines()[0]


def test_outside_a_loop_of_windows_nothing_is_remembered(tmp_path: Path) -> None:
    frame = _quarantine(["a"], HOSTILE)
    assert csv_blocks.csv_of_blocks(frame, "table", "q.csv") is not None
    assert csv_blocks._LAST_BLOCKS
    with csv_blocks.remembering_blocks():
        pass  # a loop that ends forgets its blocks, and the next run is not one
    assert not csv_blocks._LAST_BLOCKS
    with pytest.raises(RuntimeError):
        with csv_blocks.remembering_blocks():
            raise RuntimeError("a night failed")
    assert csv_blocks.csv_of_blocks(frame, "table", "q.csv") is None
    general, blocks = _both(tmp_path, frame, "alone")
    assert blocks == general and not csv_blocks._LAST_BLOCKS
