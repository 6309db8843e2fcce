"""A backfill's nights leave each folder swap (the manifest, the rename, their syncs) to the
loop's fsync thread while the next night screens (report.folders.parent_syncs_later): every
swap is made there and the folder holding the nights synced after it, the last before the run
ends; a sync that fails ends the run as an environment problem (exit 75, no traceback) before
the next night is published."""

from __future__ import annotations

import errno
import os
import stat
import threading
from pathlib import Path

import pytest

from hyposcreen.cli import main
from sample_delivery import SAMPLE

NIGHTS = ("2026-11-18", "2026-11-19", "2026-11-20")
_REAL_FSYNC = os.fsync
_REAL_REPLACE = os.replace


def _backfill(out: Path) -> int:
    return main(
        ["run", "--no-flow", "--input", str(SAMPLE), "--out", str(out),
         "--backfill", NIGHTS[0], NIGHTS[-1]]
    )  # fmt: skip


def _is_folder(fd: int, folder: Path) -> bool:
    seen, wanted = os.fstat(fd), os.stat(folder)
    return stat.S_ISDIR(seen.st_mode) and (seen.st_dev, seen.st_ino) == (
        wanted.st_dev,
        wanted.st_ino,
    )


def test_each_swap_is_synced_on_the_fsync_thread_before_the_run_ends(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    events: list[str] = []  # in order: "swap <night>" and "sync <thread name>"
    swapped_on: set[str] = set()

    def replace(source: str | Path, target: str | Path) -> None:
        _REAL_REPLACE(source, target)
        if Path(target).parent == out and Path(target).name in NIGHTS:
            events.append(f"swap {Path(target).name}")
            swapped_on.add(threading.current_thread().name.split("_")[0])

    def fsync(fd: int) -> None:
        _REAL_FSYNC(fd)
        if _is_folder(fd, out):
            events.append(f"sync {threading.current_thread().name}")

    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "fsync", fsync)
    status = _backfill(out)
    assert status in (0, 4), capsys.readouterr().err
    swaps = [i for i, e in enumerate(events) if e.startswith("swap")]
    assert [events[i] for i in swaps] == [f"swap {night}" for night in NIGHTS]
    for position in swaps:  # each swap followed by a sync of the folder, on the fsync thread
        assert events[position + 1].startswith("sync hyposcreen-fsync"), events
    assert len([e for e in events if e.startswith("sync")]) == len(NIGHTS)
    assert swapped_on == {"hyposcreen-fsync"}
    for night in NIGHTS:  # each whole: its manifest written with it
        assert (out / night / "run_manifest.json").is_file()


def test_a_failed_sync_of_a_swap_ends_the_run_before_the_next_night(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HYPOSCREEN_DEBUG", raising=False)
    out = tmp_path / "out"
    out.mkdir()

    def fsync(fd: int) -> None:
        if _is_folder(fd, out) and threading.current_thread().name.startswith("hyposcreen-fsync"):
            raise OSError(errno.ENOSPC, "No space left on device")
        _REAL_FSYNC(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    status = _backfill(out)
    err = capsys.readouterr().err
    assert status == 75, err
    assert "Traceback" not in err and "disk is full" in err
    # the first night's swap could not be synced: the second night fails before its swap
    assert (out / NIGHTS[1] / "FAILED.json").exists()
    assert not (out / NIGHTS[1] / "run_manifest.json").exists()
    assert not (out / NIGHTS[2]).exists()
    assert not [t for t in threading.enumerate() if t.name.startswith("hyposcreen-fsync")]
    assert not [p for p in out.iterdir() if ".partial-" in p.name]
