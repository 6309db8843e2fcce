"""How a partitioned run hands work between its steps: spill files written on a thread are
the files written in place, and a write's error reaches the run."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hyposcreen.runners.background_writes import BackgroundWrites
from hyposcreen.runners.spill import _spill_frames, load_partition


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
