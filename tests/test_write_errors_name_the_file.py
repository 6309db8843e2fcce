"""A write the machine stops midway (a file-size limit, a full disk) fails inside Arrow's or
Python's file writer, whose error names no file: the engineer read "The disk is full." or "A
file the run writes outgrew ..." without knowing which disk or folder. The spill files, the
partition files and the outputs now name the file being written (our own paths, never data):
real failures, a file-size limit set in a subprocess (`ulimit -f`), no mocks."""

from __future__ import annotations

import gzip
import os
import sys
from pathlib import Path

import pytest

from bad_input_rows import lab
from cli_night import DAY, SPILL_LIMIT, extract, run_under_file_size_limit, spilling_extract
from hyposcreen.errors import naming_the_file


def test_a_spill_file_past_the_file_size_limit_is_named(tmp_path: Path) -> None:
    folder = spilling_extract(tmp_path / "in")
    spill = tmp_path / "spill"
    spill.mkdir()
    command = [sys.executable, "-m", "hyposcreen.cli", "run", "--no-flow", "--input"]
    command += [str(folder), "--out", str(tmp_path / "out"), "--window-start", DAY]
    command += ["--partitions", "2"]
    env = {**os.environ, "HYPOSCREEN_SPILL_COMPRESSION": "none", "HYPOSCREEN_SPILL_DIR": str(spill)}
    done = run_under_file_size_limit(command, SPILL_LIMIT, env)
    assert done.returncode == 75, done.stderr
    assert "file-size limit" in done.stderr
    assert f"({spill}{os.sep}.hyposcreen-partitions-" in done.stderr
    assert ".arrow)" in done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr


_WRITE_OUTPUTS = """
import shutil
import sys
from pathlib import Path

import pandas as pd

from hyposcreen.failures import environment_problem
from hyposcreen.report.writers import write_csv, write_parquet

frame = pd.DataFrame({"patient_id": [f"P{i:07d}-{i * 7919 % 1000003}" for i in range(200_000)]})
for writer, name in ((write_parquet, "review_list.parquet"), (write_csv, "review_list.csv")):
    try:
        writer(Path(sys.argv[1]) / name, frame)
    except OSError as exc:
        problem = environment_problem(exc)
        print(problem.exit_code if problem else None, problem)
source = Path(sys.argv[1]).parent / "asset.bin"  # a file copied in (the Data Docs' assets)
try:
    shutil.copyfile(source, Path(sys.argv[1]) / "copied.bin")
except OSError as exc:
    problem = environment_problem(exc)
    print(problem.exit_code if problem else None, problem)
"""


def test_an_output_past_the_file_size_limit_is_named(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "asset.bin").write_bytes(b"x" * 2 * SPILL_LIMIT)
    done = run_under_file_size_limit(
        [sys.executable, "-c", _WRITE_OUTPUTS, str(out)], SPILL_LIMIT, dict(os.environ)
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3, done.stdout
    for line, name in zip(lines[:2], ("review_list.parquet", "review_list.csv"), strict=True):
        assert line.startswith("75 A file the run writes outgrew"), line
        assert f"({out / name})" in line
    # a copy names the file it writes, not only the one it reads
    assert lines[2].startswith("75 A file the run writes outgrew"), lines[2]
    assert f"({tmp_path / 'asset.bin'} -> {out / 'copied.bin'})" in lines[2]
    assert [p.name for p in out.iterdir()] == ["copied.bin"]  # no output half-written is left


def test_a_state_database_past_the_file_size_limit_is_not_called_damaged(tmp_path: Path) -> None:
    """SQLite's refused write (SQLITE_IOERR_WRITE under a file-size limit; SQLITE_FULL on a
    full disk) leaves the file whole: the advice is the machine's, not to restore the state
    from a backup or move it aside, which loses the nightly history."""
    state = tmp_path / "state"
    command = [sys.executable, "-m", "hyposcreen.cli", "run", "--no-flow", "--input"]
    command += [str(extract(tmp_path / "in")), "--out", str(tmp_path / "out")]
    command += ["--window-start", DAY, "--state-dir", str(state)]
    done = run_under_file_size_limit(command, 8192)
    assert done.returncode == 75, done.stderr
    assert f"State file {state / 'hyposcreen_state.sqlite3'}" in done.stderr
    assert (
        "A write to it was refused: the disk under it is full, its file-size limit" in done.stderr
    )
    assert "Do not restore it or move it aside" in done.stderr
    assert "Restore the state database from a backup" not in done.stderr
    assert "Traceback" not in done.stderr


_WRITE_DATA_DOCS = """
import sys
from pathlib import Path

from hyposcreen.failures import environment_problem
from hyposcreen.validate.docs import make_offline

try:  # the page written by GX's renderer, rewritten for offline reading
    make_offline(Path(sys.argv[1]), [], "Validation")
except OSError as exc:
    problem = environment_problem(exc)
    print(problem.exit_code if problem else None, problem)
"""


def test_a_data_docs_page_past_the_file_size_limit_is_named(tmp_path: Path) -> None:
    docs = tmp_path / "validation"
    page = docs / "validations" / "labs" / "hyposcreen-labs.html"
    page.parent.mkdir(parents=True)
    page.write_text("<html><body>" + "<p>x</p>" * (SPILL_LIMIT // 4) + "</body></html>", "utf-8")
    done = run_under_file_size_limit(
        [sys.executable, "-c", _WRITE_DATA_DOCS, str(docs)], SPILL_LIMIT, dict(os.environ)
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("75 A file the run writes outgrew"), done.stdout
    assert f"({page})" in done.stdout


def test_a_library_error_without_an_errno_keeps_its_own_text(tmp_path: Path) -> None:
    """Only an OS error (with an errno) is given the file: a library's own OSError (gzip's
    BadGzipFile, an Arrow failure) would otherwise read `[Errno None] None: 'path'`, its
    text lost from the message and from HYPOSCREEN_DEBUG's traceback."""
    zipped = tmp_path / "labs.csv.gz"
    zipped.write_bytes(b"PK\x03\x04 not gzip")
    with pytest.raises(OSError) as raised, naming_the_file(tmp_path / "review_list.csv"):
        with gzip.open(zipped) as source:
            source.read()
    assert isinstance(raised.value, gzip.BadGzipFile)
    assert str(raised.value).startswith("Not a gzipped file")
    assert raised.value.filename is None


def test_a_scratch_copy_past_the_file_size_limit_is_named(tmp_path: Path) -> None:
    """A UTF-16 CSV is parsed from a UTF-8 copy in $TMPDIR: a write the machine stopped there
    named no file, and the advice (the output, the spill) pointed elsewhere."""
    rows = [lab(str(120 + i % 20), patient_id=f"P{i:05d}") for i in range(5_000)]
    folder = extract(tmp_path / "in", labs=rows)
    labs = folder / "labs.csv"
    labs.write_bytes(labs.read_text("utf-8").encode("utf-16"))
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    command = [sys.executable, "-m", "hyposcreen.cli", "run", "--no-flow", "--input"]
    command += [str(folder), "--out", str(tmp_path / "out"), "--window-start", DAY]
    done = run_under_file_size_limit(command, SPILL_LIMIT, {**os.environ, "TMPDIR": str(scratch)})
    assert done.returncode == 75, done.stderr
    assert "file-size limit" in done.stderr
    assert f"({scratch}{os.sep}hyposcreen-rows-" in done.stderr
    assert "utf8-" in done.stderr and ".csv)" in done.stderr
