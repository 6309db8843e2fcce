"""`hyposcreen status` says when a screened night's folder no longer holds its list (deleted
or moved by hand, or the outputs' disk not mounted), instead of naming the folder as if the
list were there."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from hyposcreen.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"


def test_status_says_a_screened_night_s_folder_is_gone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two nights of the sample are screened (11-19: 0 cases, 11-20: 35, as the golden
    list), then 2026-11-20/ is deleted by hand. Status printed `screened 2026-11-20: 35
    case(s), <out>/2026-11-20` and `last run: screened 2026-11-20: 35 case(s) listed (urgent ?,
    soon ?, routine ?)`: tiers unknown, the list seemingly there. Now both lines say the list
    is not there; the night whose folder stands is told as before."""
    state, out = tmp_path / "state", tmp_path / "out"
    argv = [
        "run",
        "--no-flow",
        "--input",
        str(SAMPLE),
        "--out",
        str(out),
        "--state-dir",
        str(state),
    ]
    assert main([*argv, "--backfill", "2026-11-19", "2026-11-20"]) == 0
    shutil.rmtree(out / "2026-11-20")
    capsys.readouterr()
    assert main(["status", "--state-dir", str(state)]) == 0
    text = capsys.readouterr().out
    gone = "(its review list is not there: folder moved or deleted?)"
    assert f"  screened 2026-11-19: 0 case(s), {out / '2026-11-19'}\n" in text
    assert f"  screened 2026-11-20: 35 case(s), {out / '2026-11-20'} {gone}\n" in text
    assert (
        f"last run: screened 2026-11-20: 35 case(s) listed in {out / '2026-11-20'} {gone}" in text
    )
    assert "?, soon ?" not in text


def test_status_tells_a_failure_after_the_outputs_were_copied(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Night 11-20 screened, night 11-21 failed (no input folder), then the outputs copied to
    a new disk at the same path (`cp -r`: every file's time is the copy's). Status compared
    the failure's time with the time of 11-20's manifest file, now later, and said `last
    run: screened 2026-11-20` after a failed run. The state now keeps when each night was
    recorded: the failure, later than that, is the last run."""
    state, out = tmp_path / "state", tmp_path / "out"
    argv = ["run", "--no-flow", "--out", str(out), "--state-dir", str(state)]
    assert main([*argv, "--input", str(SAMPLE), "--window-start", "2026-11-20"]) == 0
    missing = str(tmp_path / "no-extract")
    assert main([*argv, "--input", missing, "--window-start", "2026-11-21"]) == 2
    copy = tmp_path / "copy"
    shutil.copytree(out, copy, copy_function=shutil.copyfile)  # new times, as `cp -r`
    later = time.time() + 3600  # the copy made an hour after the failure
    for copied in copy.rglob("*"):
        os.utime(copied, (later, later))
    shutil.rmtree(out)
    copy.rename(out)
    capsys.readouterr()
    assert main(["status", "--state-dir", str(state)]) == 0
    assert "last run: FAILED (ConfigError) for 2026-11-21" in capsys.readouterr().out
