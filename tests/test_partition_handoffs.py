"""How a partitioned run hands work between its steps: each partition reads only its own
warning rows, and spill files written on a thread are the files written in place."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hyposcreen.ingest.canonical import REQUIRED_TABLES
from hyposcreen.runners.background_writes import BackgroundWrites
from hyposcreen.runners.contract_gather import WholeContractTables, cleaned_path
from hyposcreen.runners.handoff import write_frame
from hyposcreen.runners.partition_work import ContractWarnings, warnings_path
from hyposcreen.runners.spill import _spill_frames, load_partition


def _cleaned_labels(folder: Path, labels: list[list[int]]) -> None:
    """Cleaned frames of each partition (every table) indexed by the row labels given."""
    for part, rows in enumerate(labels):
        frame = pd.DataFrame({"bucket": ["used"] * len(rows)}, index=pd.Index(rows, dtype="int64"))
        for table in REQUIRED_TABLES:
            write_frame(cleaned_path(folder, part, table), frame)


@pytest.mark.parametrize("labels_known", [False, True])
def test_each_partition_reads_only_the_warning_rows_it_holds(
    tmp_path: Path, labels_known: bool
) -> None:
    """Whether the partitions' row labels are read here or are those the contracts' gather
    read already (WholeContractTables.row_labels), each partition gets the same rows."""
    _cleaned_labels(tmp_path, [[0, 3, 4, 9, 10], [1, 2, 11], []])
    gathered = WholeContractTables(tmp_path, 3, {})
    rows = {10: "a", 2: "b", 9: "c", 1: "d", 77: "held by none", 4: "e"}
    reasons = {label: f"reason {text}" for label, text in rows.items()}
    whole = ContractWarnings(
        {"labs": rows, "medications": {}, "diagnoses": {11: "f"}},
        {"labs": reasons, "medications": {}, "diagnoses": {11: "reason f"}},
    )
    whole.write(tmp_path / "whole.json")
    as_read = ContractWarnings.read(tmp_path / "whole.json")  # the order a partition reads in

    whole.write_parts(tmp_path, 3, gathered.row_labels if labels_known else None)

    parts = [ContractWarnings.read(warnings_path(tmp_path, part)) for part in range(3)]
    held = [{0, 3, 4, 9, 10}, {1, 2, 11}, set()]
    for part, labels in zip(parts, held, strict=True):
        for table in REQUIRED_TABLES:
            expected = {k: v for k, v in as_read.warning_rows(table).items() if k in labels}
            assert list(part.warning_rows(table).items()) == list(expected.items())
            reasons_held = as_read.warning_reasons(table)
            assert part.warning_reasons(table) == {k: reasons_held[k] for k in expected}
    assert list(parts[0].warning_rows("labs")) == [4, 9, 10]  # as the whole file reads
    assert parts[1].warning_rows("diagnoses") == {11: "f"}


def test_a_frame_spilled_on_a_thread_comes_back_as_its_rows(tmp_path: Path) -> None:
    ids = [f"P{i % 7}" for i in range(40)]
    frames = [
        pd.DataFrame({"patient_id": ids[:25], "value": np.arange(25.0)}),
        pd.DataFrame({"patient_id": [], "value": []}),
        pd.DataFrame({"patient_id": ids[25:], "value": np.arange(25.0, 40.0)}),
    ]
    _spill_frames(iter(frames), "labs", tmp_path, 3)

    back = pd.concat([load_partition(tmp_path, "labs", part) for part in range(3)])
    whole = pd.concat(frames[::2], ignore_index=True)
    pd.testing.assert_frame_equal(back.sort_index(), whole, check_index_type=False)


def test_a_failed_write_is_raised_where_the_run_next_waits() -> None:
    def fails() -> None:
        raise OSError(28, "No space left on device")

    writes = BackgroundWrites(pending=2)
    writes.submit(fails)
    with pytest.raises(OSError, match="No space"):
        writes.wait()
    writes.close()


def test_at_most_pending_writes_wait_and_all_are_done_on_close() -> None:
    done: list[int] = []
    running = threading.Event()
    release = threading.Event()

    def write(number: int) -> None:
        running.set()
        release.wait(5)
        done.append(number)

    with BackgroundWrites(pending=1) as writes:
        writes.submit(write, 1)
        running.wait(5)
        threading.Timer(0.2, release.set).start()
        started = time.monotonic()
        writes.submit(write, 2)  # waits for the first write
        assert done == [1]
        assert time.monotonic() - started >= 0.1
    assert done == [1, 2]


def test_a_failing_run_keeps_its_own_error_over_a_write_error() -> None:
    def fails() -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(KeyError), BackgroundWrites() as writes:
        writes.submit(fails)
        raise KeyError("the run's own error")
