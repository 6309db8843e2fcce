"""The outputs' fsyncs run on a background thread (report.writers.synced_together).
A disk that fills while a background fsync runs must end the run as an environment problem
(exit 75, one line, no traceback), publish nothing new over the night already published, and
leave no fsync thread behind.

A full disk cannot be made for one thread of a test (no small tmpfs here): os.fsync raises
a real OSError(ENOSPC) on the background thread only (the foreground's fsyncs are real).
"""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

import pytest

from cli_night import DAY, extract, run

_REAL_FSYNC = os.fsync


def _fsync_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("hyposcreen-fsync")]


def _full_disk_in_background(fd: int) -> None:
    if threading.current_thread().name.startswith("hyposcreen-fsync"):
        raise OSError(errno.ENOSPC, "No space left on device")
    _REAL_FSYNC(fd)


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_disk_full_in_a_background_fsync_is_exit_75_and_publishes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HYPOSCREEN_DEBUG", raising=False)
    input_dir = extract(tmp_path / "in")
    out = tmp_path / "out"
    status, err = run(capsys, input_dir, out)
    assert status in (0, 4), err
    before = _tree(out / DAY)
    monkeypatch.setattr(os, "fsync", _full_disk_in_background)
    status, err = run(capsys, input_dir, out)
    assert status == 75, err
    assert "Traceback" not in err and "disk is full" in err
    after = _tree(out / DAY)
    assert b"EnvironmentProblem" in after.pop("FAILED.json")  # the failure recorded
    assert after == before  # the published night's outputs untouched
    assert _fsync_threads() == []
    assert not [p for p in out.iterdir() if p.name.startswith(".partial")]
