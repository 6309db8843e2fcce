"""Who must act: a settings problem exits 2 naming the key, the environment (disk, permissions,
a damaged state database) exits 75, and a failed run leaves its FAILED.json."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from bad_input_rows import (
    LAB_COLUMNS,
    glucose,
    lab,
    to_csv,
)
from cli_night import DAY, SPILL_LIMIT, extract, run, run_under_file_size_limit, spilling_extract


@pytest.mark.parametrize("text", ["05.11.2026", "11/05/2026", "2026-11-5", "yesterday"])
def test_cli_dates_are_iso_8601_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    status, err = run(capsys, extract(tmp_path / "in"), tmp_path / "out", "--window-start", text)
    assert status == 2
    assert f"--window-start '{text}' is not an ISO 8601 date" in err
    assert "e.g. 2026-11-05 or 2026-11-05T06:00" in err


@pytest.mark.parametrize(
    ("mapping", "named"),
    [
        ("csv: {encoding: latin-9x}\n", "csv.encoding 'latin-9x' is not a known encoding"),
        ('datetime_formats: "%d.%m.%Y"\n', "datetime_formats must be a list of text"),
        ("tables:\n  labs:\n    columns: {patiend_id: PID}\n", "unknown key(s) patiend_id"),
        ("tables:\n  labs:\n    columns: [patient_id]\n", "columns must be a mapping"),
        ("csv: {decimal: ';'}\n", 'csv.decimal must be "." or ","'),
        ("status_words: {cancled: [storniert]}\n", "status_words.cancled is not a known status"),
        ("drug_synonyms: {Hydro-X: hydrochlorothiazid}\n", "names unknown ingredient(s)"),
    ],
)
def test_settings_problems_exit_2_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mapping: str, named: str
) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(mapping, encoding="utf-8")
    status, err = run(capsys, extract(tmp_path / "in"), tmp_path / "out", "--mapping", str(site))
    assert status == 2, err
    assert named in err


def test_a_damaged_state_db_exits_75_and_the_failed_run_writes_failed_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "hyposcreen_state.sqlite3").write_bytes(b"this is not a database" * 100)
    status, err = run(capsys, extract(tmp_path / "in"), tmp_path / "out", "--state-dir", str(state))
    assert status == 75, err
    assert "Restore" in err and "run again" in err
    assert "internal error" not in err


def test_a_failed_plain_run_writes_failed_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    input_dir = extract(tmp_path / "in")
    (input_dir / "labs.csv").write_text("who,when\nP1,now\n")
    status, err = run(capsys, input_dir, tmp_path / "out")
    assert status == 3, err
    failed = json.loads((tmp_path / "out" / DAY / "FAILED.json").read_text())
    assert failed["error_type"] == "InputError"
    assert "lacks required column(s)" in failed["message"]
    assert failed["window"]["start"] == "2026-11-20T00:00:00"
    # a later successful run of the window removes it
    (input_dir / "labs.csv").write_text(to_csv([lab(), glucose()], LAB_COLUMNS))
    status, err = run(capsys, input_dir, tmp_path / "out")
    assert status == 0, err
    assert not (tmp_path / "out" / DAY / "FAILED.json").exists()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_is_an_environment_problem(tmp_path: Path) -> None:
    """A real ENOSPC (writing to /dev/full) becomes exit 75 with what to do."""
    from hyposcreen.failures import environment_problem

    try:
        with open("/dev/full", "w") as handle:
            handle.write("x" * 10_000)
            handle.flush()
    except OSError as exc:
        problem = environment_problem(exc)
    assert problem is not None and problem.exit_code == 75
    assert "disk is full" in str(problem) and "Free space" in str(problem)


def test_a_full_disk_under_the_spill_names_what_makes_the_spill_smaller() -> None:
    """An Arrow IPC spill file written to a full disk (/dev/full) is exit 75, and the message
    says where the spill goes and how to make it smaller."""
    import pyarrow as pa
    import pyarrow.ipc as ipc

    from hyposcreen.failures import environment_problem

    table = pa.table({"value": list(range(100_000))})
    with pytest.raises(OSError) as caught:
        with open("/dev/full", "wb") as handle, ipc.new_file(handle, table.schema) as out:
            out.write_table(table)
    problem = environment_problem(caught.value)
    assert problem is not None and problem.exit_code == 75
    assert "HYPOSCREEN_SPILL_DIR" in str(problem)
    assert "HYPOSCREEN_SPILL_COMPRESSION=zstd" in str(problem)


def test_a_spill_file_past_the_file_size_limit_is_an_environment_problem(tmp_path: Path) -> None:
    """A partitioned run under a file-size limit (`ulimit -f`, systemd's LimitFSIZE=) smaller
    than a spill file: its write fails with EFBIG on the spill's writing thread. That is the
    machine's limit, not a bug: exit 75 saying what to raise, not an internal error (70)."""
    import sys

    folder = spilling_extract(tmp_path / "in")
    command = [sys.executable, "-m", "hyposcreen.cli", "run", "--no-flow", "--input"]
    command += [str(folder), "--out", str(tmp_path / "out"), "--window-start", DAY]
    env = {**os.environ, "HYPOSCREEN_SPILL_COMPRESSION": "none", "TMPDIR": str(tmp_path)}
    done = run_under_file_size_limit([*command, "--partitions", "2"], SPILL_LIMIT, env)
    assert "into 2 partitions" not in done.stderr  # it stopped in the spill (said after it)
    assert done.returncode == 75, done.stderr
    assert "file-size limit" in done.stderr and "HYPOSCREEN_SPILL_DIR" in done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr
    assert not list(tmp_path.glob(".hyposcreen-partitions-*"))


def test_an_unwritable_output_is_an_environment_problem(tmp_path: Path) -> None:
    """A read-only file system (EROFS from a real read-only bind is not available to tests):
    the errno mapping itself, and a real EACCES where the test is not root."""
    import errno

    from hyposcreen.errors import ConfigError
    from hyposcreen.failures import environment_problem

    problem = environment_problem(OSError(errno.EROFS, "Read-only file system", "/mnt/out"))
    assert problem is not None and problem.exit_code == 75
    assert "read-only file system (/mnt/out)" in str(problem)
    # a state dir on a read-only disk: the message does not send the user to --out alone
    state_error = ConfigError("State dir /mnt/ro/state cannot be created.")
    state_error.__cause__ = OSError(errno.EROFS, "Read-only file system", "/mnt/ro/state")
    problem = environment_problem(state_error)
    assert problem is not None and problem.exit_code == 75
    assert "read-only file system (/mnt/ro/state)" in str(problem) and "--state-dir" in str(problem)
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        try:
            (locked / "x").write_text("x")
        except OSError as exc:
            assert environment_problem(exc) is not None
    assert environment_problem(ValueError("a bug")) is None


def test_state_db_night_counts_table_is_separate(tmp_path: Path) -> None:
    from hyposcreen.night_counts import record_count, trailing_counts

    path = tmp_path / "s.sqlite3"
    for day, count in ((1, 10), (2, 20), (3, 30)):
        record_count(path, "site", pd.Timestamp(f"2026-11-0{day}"), count)
    assert trailing_counts(path, "site", pd.Timestamp("2026-11-03"), 7) == [20, 10]
    tables = sqlite3.connect(path).execute("SELECT name FROM sqlite_master").fetchall()
    assert ("night_counts",) in tables


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-05", "2026-11-05 00:00:00"),
        ("2026-11-05T06:00", "2026-11-05 06:00:00"),
        ("2026-11-05T06:00:30", "2026-11-05 06:00:30"),
        ("2026-11-05T05:00:00Z", "2026-11-05 06:00:00"),
        ("2026-11-05T06:00+01:00", "2026-11-05 06:00:00"),
    ],
)
def test_iso_8601_dates_are_read(text: str, expected: str) -> None:
    from hyposcreen.config import parse_timestamp

    assert str(parse_timestamp(text, "Europe/Berlin", "--window-start")) == expected


def test_a_misspelt_warning_threshold_in_the_rules_is_named(tmp_path: Path) -> None:
    import shutil

    from hyposcreen.errors import ConfigError
    from hyposcreen.rules.loader import RULES_DIR, load_rules

    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    text = (rules / "rules.yaml").read_text(encoding="utf-8")
    (rules / "rules.yaml").write_text(
        text.replace("min_rows_for_share: 10", "min_row_for_share: 10"), encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=r"warnings\.min_row_for_share is not a known threshold"):
        load_rules(rules)
    assert load_rules().warnings.min_rows_for_share == 10


def test_a_state_dir_that_cannot_be_created_is_an_environment_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file where the state dir should be (ENOTDIR is no environment errno: stays exit 2);
    a wrapped ENOSPC/EACCES would be 75 — checked on the mapping function."""
    import errno

    from hyposcreen.errors import ConfigError
    from hyposcreen.failures import environment_problem

    blocker = tmp_path / "state"
    blocker.write_text("not a folder")
    status, err = run(capsys, extract(tmp_path / "in"), tmp_path / "out", "--state-dir",
                      str(blocker / "sub"))  # fmt: skip
    assert status == 2, err
    wrapped = ConfigError("State dir /x cannot be created.")
    wrapped.__cause__ = OSError(errno.EACCES, "Permission denied", "/x")
    problem = environment_problem(wrapped)
    assert (
        problem is not None and problem.exit_code == 75 and "Permission denied (/x)" in str(problem)
    )


def test_a_mapping_delimiter_that_does_not_fit_the_file_says_which_one_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A site mapping with `delimiter: ";"` over a comma-separated export: the header reads as
    one column, and the message says the file seems separated by ','."""
    mapping = tmp_path / "site.yaml"
    mapping.write_text('site: de\ntimezone: Europe/Berlin\ncsv: {delimiter: ";"}\n')
    status, err = run(capsys, extract(tmp_path / "in"), tmp_path / "out", "--mapping", str(mapping))
    assert status == 3, err
    assert "lacks required column(s)" in err
    assert "the file seems separated by ','" in err
