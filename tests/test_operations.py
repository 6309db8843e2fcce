"""The installed command in operation: its own orchestrator settings, private files, no
pickles or debris left behind, exit 75 when the orchestrator is unreachable, `status`, and the
secrets and paths it refuses."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.cli import main
from hyposcreen.config import load_mapping
from hyposcreen.errors import ConfigError, EnvironmentProblem
from hyposcreen.report.folders import remove_dead_debris
from hyposcreen.report.pseudonyms import load_key
from hyposcreen.rules import sql_engine
from hyposcreen.runtime_env import configure_orchestrator

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "canonical"
HYPOSCREEN = Path(sys.executable).with_name("hyposcreen")
WINDOW = ["--window-start", "2026-11-20T00:00:00", "--window-end", "2026-11-21T00:00:00"]
KEY = "9f2c4e7a1b3d5f6081a2c3e4f5061728394a5b6c7d8e9f00112233445566778a"


def _bare_env(home: Path, **extra: str) -> dict[str, str]:
    """What a user's shell might give: no Makefile or test settings, only HOME and PATH."""
    return {"HOME": str(home), "PATH": "/usr/bin:/bin", **extra}


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["/bin/sh", "-c", 'umask 000; exec "$@"', "sh", str(HYPOSCREEN), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _open_to_others(folder: Path) -> list[Path]:
    return [p for p in [folder, *folder.rglob("*")] if p.stat().st_mode & 0o077]


def _pickles(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and p.read_bytes()[:1] == b"\x80"]


def _servers_using(prefect_home: Path) -> list[str]:
    """Running uvicorn processes whose environment names this PREFECT_HOME."""
    found = subprocess.run(["pgrep", "-f", "uvicorn"], capture_output=True, text=True, check=False)
    using = []
    for pid in found.stdout.split():
        try:
            if str(prefect_home).encode() in Path(f"/proc/{pid}/environ").read_bytes():
                using.append(pid)
        except OSError:
            continue  # ended meanwhile
    return using


def _dead_pid() -> int:
    probe = subprocess.Popen(["/bin/true"])
    probe.wait()
    return probe.pid


@pytest.mark.flow
def test_the_readme_command_runs_through_prefect_privately_and_quietly(tmp_path: Path) -> None:
    """`hyposcreen run` as a new user types it (umask 000, no Prefect settings): exit 0, no
    traceback, progress on stderr, nothing readable by others or pickled under PREFECT_HOME or
    the output folder, and no temporary server left running."""
    home = tmp_path / "user"
    out = tmp_path / "out"
    done = _cli(["run", "--input", str(SAMPLE), *WINDOW, "--out", str(out)], _bare_env(home))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "database is locked" not in done.stderr
    assert "hyposcreen: read labs 171 row(s)" in done.stderr
    prefect_home = home / ".hyposcreen" / "prefect"
    assert (prefect_home / "prefect.db").is_file()
    assert _open_to_others(prefect_home) == [] and _pickles(prefect_home) == []
    # the manifest (counts only) is 0644 by design; its folder is 0700 like every other
    assert [p.name for p in _open_to_others(out)] == ["run_manifest.json"]
    assert _servers_using(prefect_home) == []


def test_a_partitioned_run_removes_dead_spill_folders_and_leaves_none(tmp_path: Path) -> None:
    spill = tmp_path / "spill"
    stale = spill / f".hyposcreen-partitions-{_dead_pid()}-x1y2"
    stale.mkdir(parents=True)
    (stale / "cleaned-0.pkl").write_bytes(b"\x80\x05stale patient rows")
    out = tmp_path / "out"
    env = _bare_env(tmp_path / "user", HYPOSCREEN_SPILL_DIR=str(spill))
    args = ["run", "--no-flow", "--partitions", "2", "--input", str(SAMPLE), *WINDOW]
    done = _cli([*args, "--out", str(out)], env)
    assert done.returncode in (0, 4), done.stderr
    assert list(spill.iterdir()) == []
    assert [p.name for p in _open_to_others(out)] == ["run_manifest.json"]
    assert _pickles(out) == []


@pytest.mark.parametrize(
    "how",
    [[*WINDOW], ["--backfill", "2026-11-20", "2026-11-21", "--partitions", "2"]],
    ids=["in-memory-night", "partitioned-backfill"],
)
def test_the_spill_a_killed_partitioned_run_left_is_removed_by_the_next_run(
    tmp_path: Path, how: list[str]
) -> None:
    """A partitioned run killed mid-way leaves its spill (every table's rows, Arrow files)
    beside the output folder. The next run removes it whether it screens in memory (a site's
    usual night) or spills once for several nights; a live run's spill stays."""
    out = tmp_path / "out"
    dead = out / f".hyposcreen-partitions-{_dead_pid()}-x1y2"
    live = out / f".hyposcreen-partitions-{os.getppid()}-x1y2"
    for folder in (dead, live):
        folder.mkdir(parents=True)
        (folder / "labs-0000-000000.arrow").write_bytes(b"stale patient rows")
    env = _bare_env(tmp_path / "user")
    if "PYTHONPATH" in os.environ:  # the checkout under test, not an installed copy
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    done = _cli(["run", "--no-flow", "--input", str(SAMPLE), *how, "--out", str(out)], env)
    assert done.returncode in (0, 4), done.stderr
    assert sorted(p.name for p in out.glob(".hyposcreen-partitions-*")) == [live.name]


@pytest.mark.parametrize("partitions", [[], ["--partitions", "2"]], ids=["memory", "partitions"])
def test_a_run_removes_the_csv_copies_killed_runs_left_in_tmpdir(
    tmp_path: Path, partitions: list[str]
) -> None:
    """A UTF-16 CSV is parsed from a UTF-8 copy in $TMPDIR (patient rows): a run killed while
    reading leaves it behind. The next run removes the copies of processes that are gone,
    keeps a running one's, and leaves none of its own."""
    tmp = tmp_path / "tmp"
    dead = tmp / f"hyposcreen-rows-{_dead_pid()}-x1y2"
    live = tmp / f"hyposcreen-rows-{os.getpid()}-x1y2"
    for folder in (dead, live):
        folder.mkdir(parents=True)
        (folder / "utf8-1.csv").write_text("patient_id,name\nP001,Test Patient 01\n")
    extract = tmp_path / "in"
    extract.mkdir()
    for table in SAMPLE.glob("*.csv"):
        (extract / table.name).write_bytes(table.read_bytes())
    labs = (SAMPLE / "labs.csv").read_text(encoding="utf-8")
    (extract / "labs.csv").write_bytes(labs.encode("utf-16"))  # read through a copy
    env = _bare_env(tmp_path / "user", TMPDIR=str(tmp))
    if "PYTHONPATH" in os.environ:  # the checkout under test, not an installed copy
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    args = ["run", "--no-flow", *partitions, "--input", str(extract), *WINDOW]
    done = subprocess.run(
        [sys.executable, "-m", "hyposcreen.cli", *args, "--out", str(tmp_path / "out")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode in (0, 4), done.stderr
    assert sorted(p.name for p in tmp.iterdir() if p.name.startswith("hyposcreen-rows")) == [
        live.name
    ]


def test_duckdb_spills_into_a_scratch_folder_a_later_run_removes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What DuckDB cannot hold in memory it writes to disk: by its default into `.tmp` of the
    working directory (the checkout, a home folder), left there when the run is killed. It
    goes to $TMPDIR/hyposcreen-rows-<pid>-duckdb instead, which the next run removes."""
    work, tmp = tmp_path / "work", tmp_path / "tmp"
    work.mkdir()
    tmp.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    connection = sql_engine.connect()
    try:
        connection.execute("SET memory_limit = '30MB'")
        connection.execute(
            "CREATE TEMP TABLE t AS SELECT 'P' || i::VARCHAR || repeat('x', 100) AS s, "
            "hash(i) AS r FROM range(1000000) t(i)"
        )
        connection.execute("SELECT count(*) FROM (SELECT * FROM t ORDER BY r)").fetchall()
        assert list(work.iterdir()) == []
        assert [p.name for p in tmp.iterdir()] == [f"hyposcreen-rows-{os.getpid()}-duckdb"]
    finally:
        connection.close()


def test_debris_of_a_live_process_stays(tmp_path: Path) -> None:
    live = tmp_path / f".hyposcreen-partitions-{os.getppid()}-abc"
    dead = tmp_path / f".hyposcreen-partitions-{_dead_pid()}-abc"
    live.mkdir()
    dead.mkdir()
    assert remove_dead_debris(tmp_path, ".hyposcreen-partitions-") == [dead]
    assert live.is_dir()


def test_an_unreachable_prefect_api_is_an_environment_problem(tmp_path: Path) -> None:
    """PREFECT_API_URL names a server that is down: tried twice, then exit 75 with the cause
    and what to do, in one paragraph."""
    env = _bare_env(tmp_path / "user", PREFECT_API_URL="http://127.0.0.1:9/api")
    done = _cli(["run", "--input", str(SAMPLE), *WINDOW, "--out", str(tmp_path / "o")], env)
    assert done.returncode == EnvironmentProblem.exit_code
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("hyposcreen: error: The Prefect API at http://127.0.0.1:9/api")
    assert "--no-flow" in last


def test_a_prefect_home_that_cannot_be_written_is_named_with_what_to_do(tmp_path: Path) -> None:
    """HOME on a read-only disk (or not this user's): the temporary server cannot keep its
    database in ~/.hyposcreen/prefect. That printed Prefect's "UserWarning: Failed to create
    the Prefect home directory" and stopped advising to move --out or --state-dir; it stops
    before Prefect is imported, naming PREFECT_HOME and the three ways out, and writes nothing."""
    blocked = tmp_path / "home-is-a-file"
    blocked.write_text("", encoding="utf-8")  # no folder can be made below it, even by root
    kept = {k: os.environ[k] for k in ("PYTHONPATH",) if k in os.environ}
    env = _bare_env(blocked, **kept)
    done = _cli(["run", "--input", str(SAMPLE), *WINDOW, "--out", str(tmp_path / "o")], env)
    assert done.returncode == EnvironmentProblem.exit_code, done.stderr
    assert done.stderr.startswith(f"hyposcreen: error: PREFECT_HOME ({blocked}/"), done.stderr
    assert "PREFECT_API_URL" in done.stderr and "--no-flow" in done.stderr
    assert "Warning" not in done.stderr and "--state-dir" not in done.stderr
    assert not (tmp_path / "o").exists()


def test_a_damaged_temporary_server_database_is_named_at_once(tmp_path: Path) -> None:
    """PREFECT_HOME's prefect.db is not a database (a copy cut short): each server start
    failed, Prefect retried it until its timeout, twice (6 minutes by default), and the run
    then blamed the load. It stops at once (75), naming the file and how to move it aside."""
    home = tmp_path / "prefect"
    home.mkdir()
    (home / "prefect.db").write_bytes(b"not a database, " * 512)
    kept = {k: os.environ[k] for k in ("PYTHONPATH",) if k in os.environ}
    env = _bare_env(
        tmp_path / "user",
        PREFECT_HOME=str(home),
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="3",
        **kept,
    )
    done = _cli(["run", "--input", str(SAMPLE), *WINDOW, "--out", str(tmp_path / "o")], env)
    assert done.returncode == EnvironmentProblem.exit_code, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"hyposcreen: error: The temporary Prefect server's database {home}")
    assert "is damaged (file is not a database)" in last and "prefect.db.damaged" in last
    assert _servers_using(home) == []


def test_a_temporary_server_that_does_not_start_in_time_is_an_environment_problem(
    tmp_path: Path,
) -> None:
    """A 1 s start-up timeout cannot be met: two tries, exit 75, and no server left over."""
    home = tmp_path / "prefect"
    env = _bare_env(
        tmp_path / "user",
        PREFECT_HOME=str(home),
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="1",
    )
    done = _cli(["run", "--input", str(SAMPLE), *WINDOW, "--out", str(tmp_path / "o")], env)
    assert done.returncode == EnvironmentProblem.exit_code, done.stderr
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("hyposcreen: error: Prefect's temporary server did not start")
    assert "(twice, 1 s each)" in last and "--no-flow" in last
    assert list(home.glob("temporary-server-*.pid")) == []
    assert _servers_using(home) == []


def test_orchestrator_settings_default_but_telemetry_is_always_off(tmp_path: Path) -> None:
    home = str(tmp_path / "prefect")
    env = {
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "300",
        "DO_NOT_TRACK": "0",
        "PREFECT_HOME": home,
    }
    configure_orchestrator(env)
    assert env["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] == "300"  # the user's wins
    assert env["DO_NOT_TRACK"] == "1" and env["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
    assert env["PREFECT_LOGGING_LEVEL"] == "INFO"
    assert env["PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"] == "CRITICAL"
    assert env["PREFECT_HOME"] == home


def test_status_lists_screened_failed_and_pending_nights(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    argv = ["run", "--no-flow", "--input", str(SAMPLE), *WINDOW, "--state-dir", str(state)]
    assert main([*argv, "--out", str(tmp_path / "out")]) in (0, 4)
    empty = tmp_path / "empty"
    empty.mkdir()
    night = ["--window-start", "2026-11-21T00:00:00", "--window-end", "2026-11-22T00:00:00"]
    failing = ["run", "--no-flow", "--input", str(empty), *night, "--state-dir", str(state)]
    assert main([*failing, "--out", str(tmp_path / "out")]) == 3  # kept in the state
    capsys.readouterr()
    assert main(["status", "--state-dir", str(state)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("site default: 1 night(s) screened, 1 failed, ")
    assert "screened 2026-11-20: 35 case(s)" in text
    assert "FAILED   2026-11-21 at " in text and ": InputError: Input folder" in text
    assert "last run: FAILED (InputError) for 2026-11-21" in text
    assert "next scheduled run: none known" in text
    pending = pd.date_range("2026-11-22", pd.Timestamp.now().normalize(), inclusive="left")
    assert f"{len(pending)} pending" in text.splitlines()[0]


def test_status_prints_the_last_night_s_warnings_as_the_run_did(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A night with no sodium in its window warns (exit 4); `status` shows that warning's
    text, as the run printed it, not the manifest's record of it."""
    state = tmp_path / "state"
    night = ["--window-start", "2026-11-10T00:00:00", "--window-end", "2026-11-11T00:00:00"]
    argv = ["run", "--no-flow", "--input", str(SAMPLE), *night, "--state-dir", str(state)]
    assert main([*argv, "--out", str(tmp_path / "out")]) == 4
    capsys.readouterr()
    assert main(["status", "--state-dir", str(state)]) == 0
    text = capsys.readouterr().out
    assert "last run: screened with warnings 2026-11-10: 0 case(s) listed" in text
    warning_lines = [line for line in text.splitlines() if line.startswith("  warning: ")]
    assert len(warning_lines) == 1
    assert warning_lines[0].startswith("  warning: no usable serum sodium result in the window")
    assert "{" not in warning_lines[0] and "'code'" not in warning_lines[0]


def test_a_backfill_says_how_many_cases_each_night_listed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Three nights of the sample: one line per night, named by it (only the last night's
    count was printed, unnamed, so 35 read as the backfill's total)."""
    argv = ["run", "--no-flow", "--input", str(SAMPLE), "--out", str(tmp_path / "out")]
    assert main([*argv, "--backfill", "2026-11-18", "2026-11-20"]) == 0
    lines = [
        line.split("; run ")[0]
        for line in capsys.readouterr().err.splitlines()
        if "case(s) listed" in line
    ]
    assert lines == [
        "hyposcreen: [2026-11-18] 1 case(s) listed (urgent 0, soon 1, routine 0)",
        "hyposcreen: [2026-11-19] 0 case(s) listed (urgent 0, soon 0, routine 0)",
        "hyposcreen: [2026-11-20] 35 case(s) listed (urgent 5, soon 13, routine 17)",
    ]


def test_status_and_reviews_without_the_site_s_mapping_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The nights were screened as site ward7; `status` and `reviewed` without --mapping are
    site "default": status said 0 nights screened and the reviews were recorded under a site
    no run reads (exit 0 both)."""
    mapping, state = tmp_path / "site.yaml", tmp_path / "state"
    mapping.write_text("site: ward7\n")
    argv = ["run", "--no-flow", "--input", str(SAMPLE), *WINDOW, "--state-dir", str(state)]
    assert main([*argv, "--mapping", str(mapping), "--out", str(tmp_path / "out")]) == 0
    reviews = tmp_path / "reviews.csv"
    reviews.write_text("patient_id,reviewed_at,reviewer\nP016,2026-11-21T09:00:00,dr-a\n")
    capsys.readouterr()
    assert main(["status", "--state-dir", str(state)]) == 2
    assert main(["reviewed", "--file", str(reviews), "--state-dir", str(state)]) == 2
    err = capsys.readouterr().err
    wanted = f"The state dir {state} holds the nights of site(s) ward7, none of site 'default'"
    assert err.count(wanted) == 2 and "give --mapping" in err
    assert main(["status", "--state-dir", str(state), "--mapping", str(mapping)]) == 0
    assert capsys.readouterr().out.startswith("site ward7: 1 night(s) screened")
    reviewed = ["reviewed", "--file", str(reviews), "--state-dir", str(state)]
    assert main([*reviewed, "--mapping", str(mapping)]) == 0
    assert "recorded 1 new review(s)" in capsys.readouterr().err  # none went to "default"


def test_reviews_of_patients_no_night_listed_are_told_by_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A review whose id matches no listed patient (`0016` for `P016`, a typo) was recorded and
    marked nothing, at exit 0: now it is told, by row (never the id), and the command exits 4."""
    state = tmp_path / "state"
    argv = ["run", "--no-flow", "--input", str(SAMPLE), *WINDOW, "--state-dir", str(state)]
    assert main([*argv, "--out", str(tmp_path / "out")]) == 0
    reviews = tmp_path / "reviews.csv"
    rows = ["P016,2026-11-21T09:00:00,dr-a", "0016,2026-11-21T09:00:00,dr-a"]
    reviews.write_text("patient_id,reviewed_at,reviewer\n" + "\n".join(rows) + "\n")
    capsys.readouterr()
    assert main(["reviewed", "--file", str(reviews), "--state-dir", str(state)]) == 4
    err = capsys.readouterr().err
    assert "recorded 2 new review(s)" in err
    assert "warning: 1 of the 2 review(s) of" in err
    assert "name a patient no night of the site has listed (rows 3)" in err
    assert "0016" not in err.replace(str(tmp_path), "")
    reviews.write_text("patient_id,reviewed_at,reviewer\n" + rows[0] + "\n")
    assert main(["reviewed", "--file", str(reviews), "--state-dir", str(state)]) == 0


def test_a_backfill_beside_a_window_names_both_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", "--no-flow", "--input", str(SAMPLE), "--out", str(tmp_path / "out")]
    argv += ["--backfill", "2026-11-18", "2026-11-20", "--window-start", "2026-11-20"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--backfill START END" in err and "--window-start" in err
    assert not (tmp_path / "out").exists()


def test_status_without_a_state_is_a_settings_error(tmp_path: Path) -> None:
    assert main(["status", "--state-dir", str(tmp_path)]) == ConfigError.exit_code


def test_reviews_for_a_state_dir_without_a_state_are_refused_and_make_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mistyped --state-dir: the reviews were recorded in a new, empty state there, which no
    nightly run reads (exit 0). Now exit 2, naming the dir, and nothing is made."""
    reviews = tmp_path / "reviews.csv"
    reviews.write_text("patient_id,reviewed_at,reviewer\nP016,2026-11-21T09:00:00,dr-a\n")
    typo = tmp_path / "stat"
    assert main(["reviewed", "--file", str(reviews), "--state-dir", str(typo)]) == 2
    assert f"No nightly state in {typo}" in capsys.readouterr().err
    assert not typo.exists()


def test_pseudonym_key_file_is_refused_when_exposed_or_weak(tmp_path: Path) -> None:
    data, out, secrets = tmp_path / "extract", tmp_path / "out", tmp_path / "secrets"
    for folder in (data, out, secrets):
        folder.mkdir()
    key = secrets / "pseudonym.key"
    key.write_text(KEY + "\n")
    key.chmod(0o600)
    assert load_key(key, (data, out)) == KEY.encode()
    key.chmod(0o640)
    with pytest.raises(ConfigError, match="readable by group or others"):
        load_key(key, (data, out))
    for inside in (data / "pseudonym.key", out / "pseudonym.key"):
        inside.write_text(KEY)
        inside.chmod(0o600)
        with pytest.raises(ConfigError, match="apart from what it protects"):
            load_key(inside, (data, out))
    for weak in (KEY[:62], "a" * 64, "ab" * 40):  # 31 bytes; one character; two characters
        key.write_text(weak)
        key.chmod(0o600)
        with pytest.raises(ConfigError, match="too short or not random enough"):
            load_key(key, (data, out))


@pytest.mark.parametrize("stem", ["../elsewhere/labs", "/etc/labs", "~/labs", "a/../../labs"])
def test_a_mapping_file_cannot_point_outside_the_input_folder(tmp_path: Path, stem: str) -> None:
    mapping = tmp_path / "site.yaml"
    mapping.write_text(f"tables:\n  labs:\n    file: {stem}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="must name a file inside the input folder"):
        load_mapping(mapping)
    mapping.write_text("tables:\n  labs:\n    file: exports/lab_export\n", encoding="utf-8")
    assert load_mapping(mapping).table("labs").file == "exports/lab_export"


@pytest.mark.parametrize("folder", ["e%41f", "c#d", "a b"])
def test_the_temporary_server_database_checked_is_the_one_the_server_opens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, folder: str
) -> None:
    """PREFECT_HOME's folder named with a `%41` or a `#`: the check opened `file:` + the path
    unquoted, so a whole database under `e%41f` was called damaged (the check opened `eAf`:
    "unable to open database file", with advice to move the file aside), and under `c#d` the
    check opened and created an empty file `c` beside it, leaving a damaged one unseen."""
    from prefect.settings import (
        PREFECT_API_DATABASE_CONNECTION_URL,
        PREFECT_HOME,
        temporary_settings,
    )

    from flows.server_database import check_database as _check_database

    home = tmp_path / folder
    home.mkdir()
    whole = sqlite3.connect(home / "prefect.db")
    whole.execute("PRAGMA journal_mode=WAL")  # as the server leaves it
    whole.execute("CREATE TABLE flow_run (id TEXT)")
    whole.commit()
    whole.close()
    # the URL as Prefect derives it from PREFECT_HOME, named: a flow test earlier in the
    # session leaves the database's setting where its own server kept it
    database_url = f"sqlite+aiosqlite:///{home}/prefect.db"
    with temporary_settings(
        {PREFECT_HOME: home, PREFECT_API_DATABASE_CONNECTION_URL: database_url}
    ):
        _check_database()
        (home / "prefect.db").write_bytes(b"not a database, " * 512)
        with pytest.raises(EnvironmentProblem, match="is damaged"):
            _check_database()
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder]


@pytest.mark.parametrize("kind", ["file", "symlink loop"])
def test_a_prefect_home_that_is_no_folder_is_told_so(tmp_path: Path, kind: str) -> None:
    """PREFECT_HOME a file, or a symlink to itself: the reason given was mkdir's "File
    exists", which reads as if the folder were there and fine; it says it is not a folder."""
    from hyposcreen.runtime_env import prefect_home_problem

    home = tmp_path / "prefect"
    if kind == "file":
        home.write_text("", encoding="utf-8")
    else:
        home.symlink_to(home)
    problem = prefect_home_problem({"PREFECT_HOME": str(home)})
    assert problem is not None
    assert f"PREFECT_HOME ({home}), where" in problem
    assert "cannot be written: it is not a folder." in problem and "File exists" not in problem


def test_a_prefect_database_another_process_holds_locked_is_named_with_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """prefect.db held in a write transaction by another connection (a `sqlite3` shell or a
    backup left open): each temporary server's start waited out SQLite's busy timeout and
    exited, and the run stopped after 8.5 minutes (load 11) advising to move the file aside.
    The check before the start now waits as long as the server would (here 1 s), then stops
    with 75 naming the file, the process holding it and what to do."""
    from prefect.settings import (
        PREFECT_API_DATABASE_CONNECTION_URL,
        PREFECT_HOME,
        temporary_settings,
    )

    from flows.server_database import check_database

    home = tmp_path / "prefect"
    home.mkdir()
    holder = sqlite3.connect(home / "prefect.db", isolation_level=None)
    holder.execute("PRAGMA journal_mode=WAL")  # as the server leaves it
    holder.execute("CREATE TABLE flow_run (id TEXT)")
    database_url = f"sqlite+aiosqlite:///{home}/prefect.db"
    with temporary_settings(
        {PREFECT_HOME: home, PREFECT_API_DATABASE_CONNECTION_URL: database_url}
    ):
        check_database(lock_wait=1)  # not held: nothing to say
        assert capsys.readouterr().err == ""
        holder.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(EnvironmentProblem) as stopped:
                check_database(lock_wait=1)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    told = str(stopped.value)
    assert f"database {home / 'prefect.db'} stayed locked by another process for 1 s" in told
    assert f"process {os.getpid()} (" in told  # this test's process holds it
    assert "own PREFECT_HOME" in told and "--no-flow" in told and "move it aside" not in told
    assert "is locked by another process; waiting up to 1 s" in capsys.readouterr().err
