"""A backfill's nights send their output files' fsyncs to one thread for the whole loop
(report.writers.one_fsync_thread, entered by runners.window_loop.screen_windows), not to a
thread started per night; every night is still published whole, and no fsync thread is left
once the run ends."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from hyposcreen.cli import main
from hyposcreen.report import writers
from sample_delivery import SAMPLE

NIGHTS = ("2026-11-18", "2026-11-19", "2026-11-20")


def test_a_backfill_syncs_its_nights_on_one_thread(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[ThreadPoolExecutor] = []

    class CountedPool(ThreadPoolExecutor):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            started.append(self)

    monkeypatch.setattr(writers, "ThreadPoolExecutor", CountedPool)
    out = tmp_path / "out"
    status = main(
        ["run", "--no-flow", "--input", str(SAMPLE), "--out", str(out),
         "--backfill", NIGHTS[0], NIGHTS[-1]]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert status in (0, 4), err
    for night in NIGHTS:
        assert (out / night / "run_manifest.json").exists()
    assert len(started) == 1
    assert not [t for t in threading.enumerate() if t.name.startswith("hyposcreen-fsync")]
