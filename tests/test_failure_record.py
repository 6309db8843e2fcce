"""FAILED.json and failure alerts name who must act: the machine, the input, or a bug."""

from __future__ import annotations

import errno
import json
import sqlite3
from pathlib import Path

import pytest

from hyposcreen.errors import InputError
from hyposcreen.failures import failure_record, write_failed_json

WINDOW = ("2026-11-20T00:00:00", "2026-11-21T00:00:00")


def test_a_full_disk_is_recorded_as_an_environment_problem_not_a_bug(tmp_path: Path) -> None:
    """The flow and the plain run share one record: ENOSPC is exit 75's kind, with what to do."""
    record = failure_record(OSError(errno.ENOSPC, "No space left on device"), WINDOW)
    assert record["error_type"] == "EnvironmentProblem"
    assert "Internal error" not in record["message"]
    assert "space" in record["message"].lower()
    path = write_failed_json(tmp_path / "out", record)
    assert path is not None
    assert json.loads(path.read_text(encoding="utf-8"))["window"]["start"] == WINDOW[0]


def test_a_damaged_state_database_is_recorded_as_an_environment_problem() -> None:
    record = failure_record(sqlite3.DatabaseError("file is not a database"), WINDOW)
    assert record["error_type"] == "EnvironmentProblem"
    assert "state database" in record["message"]


def test_input_examples_never_enter_the_record() -> None:
    """Examples may quote patient rows: the record keeps the message without them."""
    error = InputError("labs.csv: column value_raw is broken.", examples=["labs.csv:3 ZZLEAK"])
    record = failure_record(error, WINDOW)
    assert record["error_type"] == "InputError"
    assert "ZZLEAK" not in json.dumps(record)


def test_a_bug_is_named_as_one_without_its_text() -> None:
    record = failure_record(KeyError("P0001 secret"), WINDOW)
    assert record["message"].startswith("Internal error in hyposcreen")
    assert "P0001" not in json.dumps(record)


def test_an_output_folder_under_a_file_is_the_machines_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--out` below a regular file (ENOTDIR): exit 75 with what to check, no traceback, not
    "a bug in hyposcreen"."""
    from hyposcreen.cli import main

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    sample = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
    status = main(
        ["run", "--no-flow", "--input", str(sample), "--window-start", WINDOW[0],
         "--window-end", WINDOW[1], "--out", str(blocker / "out")]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert status == 75
    assert "Not a directory" in err and "--out" in err
    assert "Traceback" not in err and "bug" not in err.lower()


def test_a_file_where_a_window_folder_goes_is_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file named like the window's folder is never replaced: exit 75, the file as it was,
    and no half-built or displaced folder beside it."""
    from hyposcreen.cli import main

    out = tmp_path / "out"
    out.mkdir()
    (out / "2026-11-20").write_text("someone's notes", encoding="utf-8")
    sample = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
    status = main(
        ["run", "--no-flow", "--input", str(sample), "--window-start", WINDOW[0],
         "--window-end", WINDOW[1], "--out", str(out)]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert status == 75 and "is not a folder" in err and "Traceback" not in err
    assert (out / "2026-11-20").read_text(encoding="utf-8") == "someone's notes"
    assert [p.name for p in out.iterdir()] == ["2026-11-20"]


def test_a_bugs_line_on_stderr_names_its_kind_without_its_text() -> None:
    """A bug's own text may quote the extract (a parser's 'month must be in 1..12: <drug
    name>'): stderr, a log, names only its kind, as FAILED.json does."""
    from hyposcreen.failures import internal_error_line

    line = internal_error_line(ValueError("month must be in 1..12: Furosemide P0001 secret"))
    assert line.startswith("hyposcreen: internal error (ValueError).")
    assert "HYPOSCREEN_DEBUG=1" in line
    assert "P0001" not in line and "secret" not in line


def _full(path: Path) -> str:
    return failure_record(OSError(errno.ENOSPC, "No space left on device", str(path)), WINDOW)[
        "message"
    ]


def test_a_full_disk_advises_for_the_folder_that_filled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The advice named HYPOSCREEN_SPILL_DIR as the way to move the spill even when it was set
    (and had filled): now it names the folder that filled and what to do about it."""
    spill, out = tmp_path / "spill", tmp_path / "out"
    monkeypatch.delenv("HYPOSCREEN_SPILL_DIR", raising=False)
    unset = _full(out / "review_list.csv")
    assert f"Free space on the disk of {out}" in unset
    assert "HYPOSCREEN_SPILL_DIR moves it to a folder on another disk" in unset
    monkeypatch.setenv("HYPOSCREEN_SPILL_DIR", str(spill))
    filled = _full(spill / ".hyposcreen-spill-1" / "labs.0.arrow")
    assert f"It filled the spill folder HYPOSCREEN_SPILL_DIR ({spill})" in filled
    assert "free space on its disk, or set HYPOSCREEN_SPILL_DIR to a folder" in filled
    elsewhere = _full(out / "review_list.csv")
    assert f"Free space on the disk of {out}" in elsewhere
    assert f"HYPOSCREEN_SPILL_DIR, {spill}, already" in elsewhere
    for message in (filled, elsewhere):
        assert "moves it" not in message


def _too_big(path: Path) -> str:
    return failure_record(OSError(errno.EFBIG, "File too large", str(path)), WINDOW)["message"]


def test_a_file_size_limit_advises_as_hyposcreen_spill_dir_stands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file-size limit's advice said HYPOSCREEN_SPILL_DIR moves the spill also when it was
    set already (and the file that outgrew the limit was in it): now it fits, as a full disk's."""
    spill, out = tmp_path / "spill", tmp_path / "out"
    monkeypatch.delenv("HYPOSCREEN_SPILL_DIR", raising=False)
    unset = _too_big(out / "evidence.parquet")
    assert "HYPOSCREEN_SPILL_DIR moves the spill" in unset
    monkeypatch.setenv("HYPOSCREEN_SPILL_DIR", str(spill))
    inside = _too_big(spill / ".hyposcreen-spill-1" / "labs.0.arrow")
    assert f"It was in the spill folder HYPOSCREEN_SPILL_DIR ({spill})" in inside
    assert "set HYPOSCREEN_SPILL_DIR to a folder on a file system that allows larger" in inside
    elsewhere = _too_big(out / "evidence.parquet")
    assert f"HYPOSCREEN_SPILL_DIR, {spill}, already" in elsewhere
    for message in (inside, elsewhere):
        assert "moves the spill" not in message
        assert "`ulimit -f`" in message


def test_a_full_disk_met_by_a_copy_advises_for_the_folder_copied_into(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copy (a Data Docs style sheet from the installed package into the staging folder)
    that fills the disk raises with the source as `filename` and the destination as
    `filename2`. The advice named the source's folder, the package's: "Free space on the disk
    of .../great_expectations/render/view/static/styles". It names the folder written to."""
    monkeypatch.delenv("HYPOSCREEN_SPILL_DIR", raising=False)
    package = tmp_path / "venv" / "styles"
    out = tmp_path / "out" / ".2026-11-04.partial-1" / "validation"
    error = OSError(
        errno.ENOSPC, "No space left on device", str(package / "a.css"), None, str(out / "a.css")
    )
    message = failure_record(error, WINDOW)["message"]
    # the message names both ends of the copy, and its advice the destination's folder
    assert f"({package / 'a.css'} -> {out / 'a.css'})" in message
    assert f"Free space on the disk of {out}," in message
    assert f"disk of {package}" not in message
    # a copy into the spill folder HYPOSCREEN_SPILL_DIR names is told as the spill's
    spill = tmp_path / "spill"
    monkeypatch.setenv("HYPOSCREEN_SPILL_DIR", str(spill))
    into_spill = OSError(
        errno.ENOSPC,
        "No space left on device",
        str(out / "labs.arrow"),
        None,
        str(spill / ".hyposcreen-partitions-1" / "labs.arrow"),
    )
    assert "It filled the spill folder" in failure_record(into_spill, WINDOW)["message"]


_WRITE_UNDER_A_LIMIT = """
import resource, signal, sys
from pathlib import Path
from hyposcreen.failures import write_failed_json
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past the limit a write fails with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (64, 64))
record = {"error_type": "EnvironmentProblem", "message": "The disk is full." + " x" * 100}
sys.exit(0 if write_failed_json(Path(sys.argv[1]), record) is None else 1)
"""


def test_failed_json_that_cannot_be_written_whole_is_not_left_cut_short(tmp_path: Path) -> None:
    """On a disk that fills (here a file-size limit of 64 bytes, as `ulimit -f` sets) the
    record, some 250 bytes, was cut at 64: a FAILED.json no JSON reader takes was left for
    the monitoring that reads it. Now it is written whole or not at all (the line on stderr
    says it could not be written)."""
    import os
    import subprocess
    import sys

    out = tmp_path / "2026-11-04"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", _WRITE_UNDER_A_LIMIT, str(out)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-300:]  # write_failed_json returned None
    assert "could not write FAILED.json" in done.stderr
    assert sorted(p.name for p in out.iterdir()) == []  # no half file, no temporary one


def test_failed_json_names_the_zone_of_its_window(tmp_path: Path) -> None:
    """A Berlin site's night that cannot be screened: FAILED.json's window bounds are Berlin
    wall times and say so, as run_manifest.json's window does; bare, a data engineer reads
    them in the server's zone."""
    from hyposcreen.cli import main

    extract = tmp_path / "in"
    extract.mkdir()  # labs without a unit column: the delivery cannot be screened (exit 3)
    (extract / "labs.csv").write_text(
        "patient_id,specimen_time,value_raw\nQ1,2026-11-22T06:00:00,130\n", encoding="utf-8"
    )
    (extract / "medications.csv").write_text(
        "patient_id,drug_name,start_time\nQ1,Furosemide,2026-05-12T09:00:00\n", encoding="utf-8"
    )
    (extract / "diagnoses.csv").write_text(
        "patient_id,code,code_system,recorded_time\nQ1,N18.3,ICD-10-CM,2025-06-15T10:00:00\n",
        encoding="utf-8",
    )
    site = tmp_path / "site.yaml"
    site.write_text("site: berlin\ntimezone: Europe/Berlin\n", encoding="utf-8")
    out = tmp_path / "out"
    run = ["run", "--no-flow", "--input", str(extract), "--out", str(out)]
    assert main([*run, "--mapping", str(site), "--window-start", "2026-11-22"]) == 3
    failed = json.loads((out / "2026-11-22" / "FAILED.json").read_text(encoding="utf-8"))
    assert failed["window"] == {
        "start": "2026-11-22T00:00:00",
        "end": "2026-11-23T00:00:00",
        "timezone": "Europe/Berlin",
    }
