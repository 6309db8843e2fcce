"""Nightly state (issue: orchestration, items 4-5): re-listing only on worsening, reviews,
catch-up, backfill, late results, per-window folders published whole, kill safety.

Every run here is a real pipeline run (real files, real GX contracts, real SQLite state).
The extract is a folder of canonical CSVs that each test rewrites between "nights", as a
hospital's nightly extract would change.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.cli import main
from hyposcreen.config import RunSettings, Window
from hyposcreen.context import prepare
from hyposcreen.errors import InputError
from hyposcreen.runners import run_screen
from hyposcreen.runners.in_process import run_pipeline
from hyposcreen.state import StateStore
from hyposcreen.windows import nightly_windows, out_folder, plan_windows

LAB_COLUMNS = ["patient_id", "specimen_time", "result_time", "loinc", "value_raw", "unit"]
BACKGROUND = [f"N{i:02d}" for i in range(40)]  # normal sodium every night: a realistic extract


def _night(day: str) -> Window:
    start = pd.Timestamp(day).as_unit("us")
    return Window(start, start + pd.Timedelta(days=1))


def _write(path: Path, columns: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)


def _extract(folder: Path, sodium_rows: list[list[str]], days: list[str]) -> Path:
    """labs (the given sodium rows + normal background results on each day), a loop diuretic
    for P1 and P2, no diagnoses."""
    folder.mkdir(parents=True, exist_ok=True)
    background = [
        [pid, f"{day}T07:00:00", f"{day}T08:00:00", "2951-2", "140", "mmol/L"]
        for day in days
        for pid in BACKGROUND
    ]
    _write(folder / "labs.csv", LAB_COLUMNS, [*sodium_rows, *background])
    _write(
        folder / "medications.csv",
        ["patient_id", "drug_name", "start_time", "end_time", "status"],
        [
            ["P1", "Furosemide 40mg tab", "2026-10-01T08:00:00", "", "active"],
            ["P2", "Furosemide 40mg tab", "2026-10-01T08:00:00", "", "active"],
        ],
    )
    _write(
        folder / "diagnoses.csv",
        ["patient_id", "code", "code_system", "recorded_time", "status"],
        [],
    )
    return folder


def _na(patient: str, collected: str, value: str, reported: str = "") -> list[str]:
    return [patient, collected, reported, "2951-2", value, "mmol/L"]


def _run(extract: Path, out: Path, state: Path, day: str, partitions: int = 1) -> pd.DataFrame:
    window = _night(day)
    settings = RunSettings(
        input_dir=extract, out_dir=out_folder(str(out), window), window=window, state_dir=state
    )
    summary = run_screen(prepare(settings), partitions)
    return pd.read_csv(summary.review_csv, dtype=str, keep_default_na=False)


def _listed(review: pd.DataFrame) -> dict[str, str]:
    return dict(zip(review["patient_id"], review["relisted_because"], strict=True))


# ------------------------------------------------------------------ re-listing and reviews


def test_a_case_is_listed_again_only_when_it_worsened(tmp_path: Path) -> None:
    """Night 1 lists P1 (128); night 2 (127, 1 lower) holds it back; night 3 (124: 4 lower,
    now moderate) lists it again, saying why and when it was listed before."""
    extract, out, state = tmp_path / "in", tmp_path / "out", tmp_path / "state"
    rows = [_na("P1", "2026-11-20T10:00:00", "128")]
    _extract(extract, rows, ["2026-11-20"])
    assert _listed(_run(extract, out, state, "2026-11-20")) == {"P1": "new"}

    rows.append(_na("P1", "2026-11-21T10:00:00", "127"))
    _extract(extract, rows, ["2026-11-20", "2026-11-21"])
    review = _run(extract, out, state, "2026-11-21")
    assert review.empty
    manifest = pd.read_json(out / "2026-11-21" / "run_manifest.json", typ="series")
    steps = {s["step"]: s["count"] for s in manifest["attrition"]}
    assert steps["cases"] == 1 and steps["held_back_listed_before"] == 1 and steps["listed"] == 0

    rows.append(_na("P1", "2026-11-22T10:00:00", "124"))
    _extract(extract, rows, ["2026-11-20", "2026-11-21", "2026-11-22"])
    review = _run(extract, out, state, "2026-11-22")
    assert _listed(review) == {"P1": "nadir_lower;tier_escalation"}
    assert review.loc[0, "previously_listed"] == "2026-11-20T00:00:00"
    assert review.loc[0, "rank"] == "1"


def test_reviews_are_recorded_and_shown_when_a_reviewed_case_worsens(tmp_path: Path) -> None:
    extract, out, state = tmp_path / "in", tmp_path / "out", tmp_path / "state"
    rows = [_na("P1", "2026-11-20T10:00:00", "128")]
    _extract(extract, rows, ["2026-11-20"])
    _run(extract, out, state, "2026-11-20")
    reviews = tmp_path / "reviews.csv"
    _write(reviews, ["patient_id", "reviewed_at", "reviewer"], [["P1", "2026-11-21T09:15", "drA"]])
    assert main(["reviewed", "--file", str(reviews), "--state-dir", str(state)]) == 0
    assert main(["reviewed", "--file", str(reviews), "--state-dir", str(state)]) == 0  # idempotent

    rows.append(_na("P1", "2026-11-21T10:00:00", "127.5"))  # reviewed and not worse: held back
    _extract(extract, rows, ["2026-11-20", "2026-11-21"])
    assert _run(extract, out, state, "2026-11-21").empty
    rows.append(_na("P1", "2026-11-22T10:00:00", "119"))  # severe now: back on the list
    _extract(extract, rows, ["2026-11-20", "2026-11-21", "2026-11-22"])
    review = _run(extract, out, state, "2026-11-22")
    assert review.loc[0, "last_reviewed"] == "2026-11-21T09:15:00"
    assert review.loc[0, "tier"] == "1"


def test_a_review_file_without_its_columns_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "reviews.csv"
    _write(bad, ["patient", "when"], [["P1", "2026-11-21"]])
    code = main(["reviewed", "--file", str(bad), "--state-dir", str(tmp_path / "s")])
    assert code == InputError.exit_code
    assert "lacks column(s) patient_id, reviewed_at, reviewer" in capsys.readouterr().err


# ------------------------------------------------------------------ late results


@pytest.mark.parametrize(
    ("reported", "partitions"),
    [("2026-11-21T09:00:00", 1), ("", 1), ("", 3)],
    ids=["result_time", "first_seen", "first_seen_3_partitions"],
)
def test_a_result_that_arrives_a_day_late_is_screened_the_next_night(
    tmp_path: Path, reported: str, partitions: int
) -> None:
    """P2's sodium of 11-20 10:00 is missing from night 1's extract and appears in night 2's
    (reported the next morning, or without a result time: first seen in that extract). Night 2
    lists P2 with the collection time as index time; night 3 does not screen it again."""
    extract, out, state = tmp_path / "in", tmp_path / "out", tmp_path / "state"
    _extract(extract, [], ["2026-11-20"])
    assert _run(extract, out, state, "2026-11-20", partitions).empty

    late = _na("P2", "2026-11-20T10:00:00", "126", reported)
    _extract(extract, [late], ["2026-11-20", "2026-11-21"])
    review = _run(extract, out, state, "2026-11-21", partitions)
    assert list(review["patient_id"]) == ["P2"]
    assert review.loc[0, "index_time"] == "2026-11-20T10:00:00"
    assert review.loc[0, "index_sodium"] == "126.0"

    _extract(extract, [late], ["2026-11-20", "2026-11-21", "2026-11-22"])
    assert _run(extract, out, state, "2026-11-22", partitions).empty


@pytest.mark.parametrize("partitions", [1, 3])
def test_a_result_first_seen_four_days_late_is_read_and_screened(
    tmp_path: Path, partitions: int
) -> None:
    """Collected on 11-17 (a night already screened), first in the extract of 11-21: far
    before the usual 72 h read period, still inside the 7-day lookback, in every run mode."""
    extract, out, state = tmp_path / "in", tmp_path / "out", tmp_path / "state"
    _extract(extract, [], ["2026-11-17"])
    assert _run(extract, out, state, "2026-11-17", partitions).empty
    late = _na("P2", "2026-11-17T10:00:00", "126")
    _extract(extract, [late], ["2026-11-17", "2026-11-21"])
    review = _run(extract, out, state, "2026-11-21", partitions)
    assert list(review["patient_id"]) == ["P2"]
    assert review.loc[0, "index_time"] == "2026-11-17T10:00:00"


def test_without_state_a_window_screens_only_its_own_collection_times(tmp_path: Path) -> None:
    """Stateless (ad-hoc) runs keep the plain window semantics: no late-result pickup."""
    extract = _extract(
        tmp_path / "in", [_na("P2", "2026-11-20T10:00:00", "126", "2026-11-21T09:00:00")], []
    )
    window = _night("2026-11-21")
    summary = run_pipeline(RunSettings(input_dir=extract, out_dir=tmp_path / "o", window=window))
    assert pd.read_csv(summary.review_csv).empty


# ------------------------------------------------------------------ which windows


def test_missed_nights_are_caught_up_in_order(tmp_path: Path) -> None:
    """State says 11-18 was the last night screened; at 02:00 on 11-21 the plan is 19 and 20."""
    extract, out, state = tmp_path / "in", tmp_path / "out", tmp_path / "state"
    _extract(extract, [_na("P1", "2026-11-19T10:00:00", "128")], ["2026-11-18", "2026-11-19"])
    _run(extract, out, state, "2026-11-18")
    now = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
    windows = plan_windows(None, None, "UTC", now, state_dir=state)
    assert [w.start.date().isoformat() for w in windows] == ["2026-11-19", "2026-11-20"]
    for window in windows:
        _run(extract, out, state, window.start.date().isoformat())
    assert StateStore(state, "default").last_window_end() == pd.Timestamp("2026-11-21")
    assert plan_windows(None, None, "UTC", now, state_dir=state) == []
    assert _listed(pd.read_csv(out / "2026-11-19" / "review_list.csv", dtype=str)) == {"P1": "new"}


def test_nightly_windows_without_state_and_after_a_partial_window() -> None:
    now = datetime(2026, 11, 21, 1, 30, tzinfo=UTC)
    [yesterday] = nightly_windows(None, "Europe/Berlin", now)
    assert (str(yesterday.start), str(yesterday.end)) == (
        "2026-11-20 00:00:00",
        "2026-11-21 00:00:00",
    )
    windows = nightly_windows(pd.Timestamp("2026-11-19 12:00"), "UTC", now)
    assert [(str(w.start), str(w.end)) for w in windows] == [
        ("2026-11-19 12:00:00", "2026-11-20 00:00:00"),
        ("2026-11-20 00:00:00", "2026-11-21 00:00:00"),
    ]


def test_backfill_screens_each_day_into_its_own_folder(tmp_path: Path) -> None:
    extract = _extract(
        tmp_path / "in",
        [_na("P1", "2026-11-18T10:00:00", "128"), _na("P2", "2026-11-19T10:00:00", "120")],
        ["2026-11-18", "2026-11-19"],
    )
    out = tmp_path / "out"
    argv = ["run", "--no-flow", "--input", str(extract), "--out", str(out)]
    # the extract has no diagnoses at all: screened, with that warning (exit 4)
    assert main([*argv, "--backfill", "2026-11-18", "2026-11-19"]) == 4
    assert sorted(p.name for p in out.iterdir()) == ["2026-11-18", "2026-11-19"]
    first = pd.read_csv(out / "2026-11-18" / "review_list.csv", dtype=str)
    second = pd.read_csv(out / "2026-11-19" / "review_list.csv", dtype=str)
    assert list(first["patient_id"]) == ["P1"] and list(second["patient_id"]) == ["P2"]
    assert second.loc[0, "window_start"] == "2026-11-19T00:00:00"


# ------------------------------------------------------------------ idempotent, atomic outputs


def test_rerun_is_byte_identical_and_a_failed_rerun_keeps_the_outputs(tmp_path: Path) -> None:
    extract, out, state = tmp_path / "in", tmp_path / "out", tmp_path / "state"
    _extract(extract, [_na("P1", "2026-11-20T10:00:00", "128")], ["2026-11-20"])
    _run(extract, out, state, "2026-11-20")
    folder = out / "2026-11-20"
    first = {p.name: p.read_bytes() for p in folder.glob("*.csv")}
    _run(extract, out, state, "2026-11-20")
    assert {p.name: p.read_bytes() for p in folder.glob("*.csv")} == first

    (extract / "labs.csv").unlink()  # the next attempt fails before writing anything
    with pytest.raises(InputError):
        _run(extract, out, state, "2026-11-20")
    assert {p.name: p.read_bytes() for p in folder.glob("*.csv")} == first
    assert [p.name for p in out.iterdir()] == ["2026-11-20"]  # no partial folder left


def test_sigkill_while_writing_leaves_the_previous_outputs_and_the_state(tmp_path: Path) -> None:
    """A run killed with SIGKILL mid-write: the published folder keeps the previous outputs
    byte for byte, no partial file appears in it, and the state is not advanced; the next
    run clears the debris and publishes normally."""
    extract, out, state = tmp_path / "in", tmp_path / "out", tmp_path / "state"
    _extract(extract, [_na("P1", "2026-11-20T10:00:00", "128")], ["2026-11-20"])
    _run(extract, out, state, "2026-11-20")
    folder = out / "2026-11-20"
    before = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    runs_before = StateStore(state, "default").screened_windows()

    _extract(  # a changed extract for the same night: a re-run would publish different bytes
        extract,
        [_na("P1", "2026-11-20T10:00:00", "128"), _na("P2", "2026-11-20T11:00:00", "121")],
        ["2026-11-20"],
    )
    argv = [sys.executable, "-m", "hyposcreen.cli", "run", "--no-flow", "--input", str(extract)]
    argv += ["--out", str(out), "--state-dir", str(state), "--window-start", "2026-11-20"]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    staging = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        partial = list(out.glob(".2026-11-20.partial-*"))
        if partial and (partial[0] / "validation").exists():
            staging = partial[0]
            os.kill(process.pid, signal.SIGKILL)
            break
        time.sleep(0.002)
    process.wait(timeout=30)
    assert staging is not None, "the run finished before it could be killed"
    assert process.returncode == -signal.SIGKILL

    after = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert after == before
    assert StateStore(state, "default").screened_windows() == runs_before
    assert staging.exists()  # the killed run's debris is hidden beside the folder, not in it

    review = _run(extract, out, state, "2026-11-20")
    assert sorted(review["patient_id"]) == ["P1", "P2"]
    assert not staging.exists()
    assert [p.name for p in out.iterdir()] == ["2026-11-20"]
