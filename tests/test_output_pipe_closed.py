"""`hyposcreen status | head -1`: the reader closes the pipe before the command has written
everything. That was "internal error (BrokenPipeError) ... a bug", exit 70; it is the reader's
choice, ended quietly with 141 (128 + SIGPIPE, as a shell reports it). So is argparse's own
text (`hyposcreen --help | head -1`, `--version`), which printed "Exception ignored ...
BrokenPipeError" and exited 120. A run keeps its own status (0, or 4 with its warnings)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests.helpers import run_cli

from hyposcreen.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"


def test_status_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    state = tmp_path / "state"
    argv = ["run", "--no-flow", "--input", str(SAMPLE), "--out", str(tmp_path / "out")]
    assert main([*argv, "--window-start", "2026-11-20", "--state-dir", str(state)]) == 0
    command = [sys.executable, "-m", "hyposcreen.cli", "status", "--state-dir", str(state)]
    # stdout buffered, as a pipe is by default: the failed write shows only when it is flushed
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    assert process.stdout is not None
    process.stdout.close()  # the reader is gone before the command writes
    _, err = process.communicate(timeout=120)
    assert process.returncode == 141, err
    assert err == ""


@pytest.mark.parametrize(
    "arguments", [["--help"], ["run", "--help"], ["status", "--help"], ["--version"]]
)
def test_help_into_a_closed_pipe_ends_quietly(arguments: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # a buffered pipe
    command = [sys.executable, "-m", "hyposcreen.cli", *arguments]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    assert process.stdout is not None
    process.stdout.close()  # `| head -1` gone before the text is written
    _, err = process.communicate(timeout=120)
    assert (process.returncode, err) == (141, "")


def test_help_to_a_reader_and_a_usage_error_keep_their_statuses() -> None:
    shown = run_cli("--help")
    assert (shown.returncode, shown.stderr) == (0, "")
    assert shown.stdout.startswith("usage: hyposcreen")
    wrong = run_cli("--no-such-option")
    assert wrong.returncode == 2 and "hyposcreen: error:" in wrong.stderr


def test_a_run_whose_reader_left_keeps_its_warnings_and_status(tmp_path: Path) -> None:
    """`hyposcreen run ... | grep -q ...`: the reader may be gone before "Review list:" is
    written. The night is screened and published all the same, so its own exit status (4:
    screened with warnings) and its warnings on stderr stand; it was 141 with the warnings
    never told, a night that should not be trusted ending as a closed pipe."""
    extract = tmp_path / "extract"
    shutil.copytree(SAMPLE, extract)
    with (extract / "labs.csv").open("a", encoding="utf-8") as labs:  # one row of 13 fields
        labs.write("P001,E001,S001-99,2026-11-20T09:10:00,2026-11-20T10:10:00,2951-2,Sodium,")
        labs.write("128,mmol/L,final,Serum,extra,extra\n")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "hyposcreen.cli", "run", "--no-flow"]
    command += ["--input", str(extract), "--out", str(out), "--window-start", "2026-11-20"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    process.stdout.close()
    _, err = process.communicate(timeout=300)
    assert process.returncode == 4, err
    assert "warning: 1 of 172 labs row(s)" in err and "labs.csv:173" in err
    assert (out / "2026-11-20" / "review_list.csv").is_file()


def _with_stdout_closed(arguments: list[str]) -> subprocess.CompletedProcess[str]:
    shell = 'exec "$@" >&-'  # fd 1 closed before the interpreter starts
    command = ["sh", "-c", shell, "sh", sys.executable, "-m", "hyposcreen.cli", *arguments]
    return subprocess.run(command, stderr=subprocess.PIPE, text=True, check=False)


@pytest.mark.parametrize("arguments", [["--help"], ["--version"], ["run", "--help"]])
def test_help_into_a_closed_stdout_ends_with_status_0(arguments: list[str]) -> None:
    """`hyposcreen --help >&-`: stdout closed by the caller (Python's sys.stdout is None). The
    text goes nowhere and argparse's status 0 stands; it was a traceback and exit 1."""
    done = _with_stdout_closed(arguments)
    assert (done.returncode, done.stderr) == (0, "")


def test_status_into_a_closed_stdout_keeps_its_status(tmp_path: Path) -> None:
    """`hyposcreen status ... >&-` was an internal error (exit 70: AttributeError)."""
    state = tmp_path / "state"
    argv = ["run", "--no-flow", "--input", str(SAMPLE), "--out", str(tmp_path / "out")]
    assert main([*argv, "--window-start", "2026-11-20", "--state-dir", str(state)]) == 0
    done = _with_stdout_closed(["status", "--state-dir", str(state)])
    assert (done.returncode, done.stderr) == (0, "")


def _into_dev_full(
    arguments: list[str], unbuffered: bool = False
) -> subprocess.CompletedProcess[str]:
    """stdout a device whose every write fails with ENOSPC, as a log file on a full disk;
    buffered, or with PYTHONUNBUFFERED=1 (a systemd unit's or a container's usual setting)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    command = [sys.executable, "-m", "hyposcreen.cli", *arguments]
    with open("/dev/full", "w", encoding="utf-8") as full:
        return subprocess.run(
            command, stdout=full, stderr=subprocess.PIPE, text=True, env=env, check=False
        )


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
def test_output_to_a_full_disk_is_the_machines_problem(tmp_path: Path) -> None:
    """`hyposcreen status >> log` with the log's disk full ended with 120 and "Exception
    ignored ... OSError" (`--help`, `--version`: a traceback), a status outside the table and
    no advice; it is 75 with one line. A run's night is published all the same: it keeps its
    own status and says the line naming the list was lost."""
    out = tmp_path / "out"
    argv = ["run", "--no-flow", "--input", str(SAMPLE), "--out", str(out)]
    argv += ["--window-start", "2026-11-20", "--state-dir", str(tmp_path / "state")]
    run = _into_dev_full(argv)
    assert run.returncode == 0, run.stderr
    assert "standard output could not be written (No space left on device)" in run.stderr
    assert (out / "2026-11-20" / "review_list.csv").is_file()
    for arguments in (["status", "--state-dir", str(tmp_path / "state")], ["--version"]):
        done = _into_dev_full(arguments)
        assert done.returncode == 75, done.stderr
        assert done.stderr.startswith("hyposcreen: error: standard output could not be written")
        assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
@pytest.mark.parametrize("arguments", [["--help"], ["--version"], ["run", "--help"]])
def test_help_to_a_full_disk_unbuffered_is_told_as_its_output(arguments: list[str]) -> None:
    """argparse passes over an OSError writing its text: with PYTHONUNBUFFERED=1 the write
    fails at once, so `--help` to a full disk ended with 0 and nothing said. It is 75 with the
    line for standard output, as with a buffered stdout."""
    done = _into_dev_full(arguments, unbuffered=True)
    assert done.returncode == 75, done.stderr
    assert done.stderr.startswith("hyposcreen: error: standard output could not be written")
    assert "Traceback" not in done.stderr


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
def test_status_to_a_full_disk_unbuffered_is_told_as_its_output(tmp_path: Path) -> None:
    """With PYTHONUNBUFFERED=1 (a systemd unit's or a container's usual setting) the failed
    write comes at the print, not the flush: `status` ended 75 with the advice for a full
    output or state disk and a spill folder, neither of which it writes. It is the line for
    its standard output, as with a buffered stdout."""
    state = tmp_path / "state"
    argv = ["run", "--no-flow", "--input", str(SAMPLE), "--out", str(tmp_path / "out")]
    assert main([*argv, "--window-start", "2026-11-20", "--state-dir", str(state)]) == 0
    done = _into_dev_full(["status", "--state-dir", str(state)], unbuffered=True)
    assert done.returncode == 75, done.stderr
    assert done.stderr.startswith("hyposcreen: error: standard output could not be written")
    assert "state disk" not in done.stderr and "Traceback" not in done.stderr
