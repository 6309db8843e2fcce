"""A run removes the $TMPDIR scratch folders (patient rows) of runs that are gone, judged by the
pid in the folder's name. A run in another pid namespace sharing $TMPDIR (a container with the
host's /tmp, two containers on one /tmp volume) has a pid that means nothing here: its live
folder was removed under it. A folder its owner holds (a shared flock) is left alone."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from hyposcreen.recipe_read import remove_dead_row_copies
from hyposcreen.rules import sql_engine

HOLDER = """
import fcntl, os, sys, time
handle = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
fcntl.flock(handle, fcntl.LOCK_SH)
print("held", flush=True)
sys.stdin.read()
"""


def _gone_pid() -> int:
    probe = subprocess.Popen(["/bin/true"])
    probe.wait()
    return probe.pid


def test_a_held_folder_named_for_a_gone_pid_stays_until_its_holder_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    in_use = tmp_path / f"hyposcreen-rows-{_gone_pid()}-k3j2"  # a live run of another namespace
    in_use.mkdir()
    (in_use / "utf8-1.csv").write_text("patient_id,name\nP001,Test Patient 01\n")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(in_use)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        remove_dead_row_copies()
        assert (in_use / "utf8-1.csv").is_file()  # still in use: kept
    finally:
        holder.communicate("", timeout=60)
    remove_dead_row_copies()
    assert not in_use.exists()  # its holder is gone: removed


def test_duckdb_s_spill_folder_is_held_while_its_process_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    connection = sql_engine.connect()
    folder = tmp_path / f"hyposcreen-rows-{os.getpid()}-duckdb"
    try:
        handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(handle)
    finally:
        connection.close()
