"""The output writers' file handling: files written inside `synced_together` have the bytes,
names and modes of files written one at a time, are all on disk when the block ends, and a
failure inside the block is the one reported; inside `one_fsync_thread` (a loop of windows)
the blocks share one fsync thread."""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.report import writers
from hyposcreen.report.writers import (
    one_fsync_thread,
    synced_together,
    write_atomic,
    write_csv,
    write_json,
)


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"patient_id": ["P1", "-2"], "text": ["a, b", 'say "x"']})


def _fsync_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("hyposcreen-fsync")]


def test_files_written_together_match_files_written_alone(tmp_path: Path) -> None:
    """The same bytes and modes, and no temporary file left, with or without the block."""
    alone, together = tmp_path / "alone", tmp_path / "together"
    alone.mkdir()
    together.mkdir()
    for folder, block in ((alone, None), (together, synced_together())):
        if block is None:
            write_csv(folder / "list.csv", _frame())
            write_json(folder / "manifest.json", {"rows": 2})
            continue
        with block:
            write_csv(folder / "list.csv", _frame())
            write_json(folder / "manifest.json", {"rows": 2})
    for name in ("list.csv", "manifest.json"):
        assert (together / name).read_bytes() == (alone / name).read_bytes()
        mode_alone = stat.S_IMODE((alone / name).stat().st_mode)
        assert stat.S_IMODE((together / name).stat().st_mode) == mode_alone
    assert stat.S_IMODE((together / "list.csv").stat().st_mode) == 0o600
    assert sorted(p.name for p in together.iterdir()) == ["list.csv", "manifest.json"]


def test_the_block_ends_only_once_every_fsync_has_ended(tmp_path: Path) -> None:
    """No fsync thread outlives the block: the files are on disk when it ends."""
    with synced_together():
        for number in range(5):
            write_json(tmp_path / f"part{number}.json", {"number": number})
    assert _fsync_threads() == []
    assert [p.name for p in sorted(tmp_path.iterdir())] == [f"part{n}.json" for n in range(5)]


def test_a_failure_inside_the_block_is_reported_as_it_is(tmp_path: Path) -> None:
    """The writer's own error reaches the caller (not an fsync's), the file written before it
    is whole, the failed one never appears, and no fsync thread is left running."""

    def _fail(tmp: Path) -> None:
        tmp.write_text("half", encoding="utf-8")
        raise ValueError("the page could not be made")

    with pytest.raises(ValueError, match="the page could not be made"), synced_together():
        write_json(tmp_path / "first.json", {"ok": True})
        write_atomic(tmp_path / "second.html", _fail)
    assert (tmp_path / "first.json").read_text(encoding="utf-8") == '{\n  "ok": true\n}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first.json"]
    assert _fsync_threads() == []


def test_blocks_in_one_fsync_thread_share_it_and_still_wait_for_their_fsyncs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A loop of windows: each night's block sends its fsyncs to the same thread (none started
    per block) and still ends only once they have ended; the thread ends with the loop."""
    synced: list[int] = []
    real_fsync = os.fsync

    def slow_fsync(descriptor: int) -> None:
        time.sleep(0.05)
        real_fsync(descriptor)
        synced.append(descriptor)

    monkeypatch.setattr(writers.os, "fsync", slow_fsync)
    threads: set[int | None] = set()
    with one_fsync_thread():
        for night in range(3):
            with synced_together():
                for number in range(2):
                    write_json(tmp_path / f"night{night}-{number}.json", {"number": number})
            assert len(synced) == 2 * (night + 1)  # this night's files are on disk
            threads.update(t.ident for t in _fsync_threads())
    assert len(threads) == 1
    assert _fsync_threads() == []


def test_files_written_together_take_no_temporary_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inside the block (a staging folder published whole) each file is written under its own
    name, made 0600 before its bytes are written: no temporary file made, nothing renamed."""
    renamed: list[str] = []
    made: list[str] = []
    real_replace, real_mkstemp = os.replace, writers.tempfile.mkstemp

    def replace(source: str | Path, target: str | Path) -> None:
        renamed.append(str(target))
        real_replace(source, target)

    def mkstemp(*args: object, **kwargs: object) -> tuple[int, str]:
        made.append("tmp")
        return real_mkstemp(*args, **kwargs)  # type: ignore[call-overload,no-any-return]

    monkeypatch.setattr(writers.os, "replace", replace)
    monkeypatch.setattr(writers.tempfile, "mkstemp", mkstemp)
    modes: list[int] = []

    def _write(path: Path) -> None:
        modes.append(stat.S_IMODE(path.stat().st_mode))
        path.write_text("page", encoding="utf-8")

    with synced_together():
        write_atomic(tmp_path / "page.html", _write)
        write_csv(tmp_path / "list.csv", _frame())
    assert renamed == [] and made == []
    assert modes == [0o600]
    assert (tmp_path / "page.html").read_text(encoding="utf-8") == "page"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["list.csv", "page.html"]
