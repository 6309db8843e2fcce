"""A run tells what it has read and how its data contracts came out while it works (counts
only), with or without the Prefect flow and whether or not it runs by partition; before, only
the flow told them, and a long run without it said nothing between its first and last line."""

from __future__ import annotations

import pickle
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.cli import main
from hyposcreen.config import RunSettings, parse_window
from hyposcreen.context import prepare
from hyposcreen.ingest.canonical import IngestedTable
from hyposcreen.rules.loader import load_rules
from hyposcreen.run_progress import contracts_line, partitions_line, read_line, screening_line
from sample_delivery import DAY, SAMPLE


def _run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str, when: tuple[str, ...] = ()
) -> list[str]:
    out = tmp_path / "out"
    args = ["run", "--no-flow", *extra, "--input", str(SAMPLE), "--out", str(out)]
    status = main([*args, *(when or ("--window-start", DAY))])
    err = capsys.readouterr().err
    assert status == 0, err
    return err.splitlines()


def _ids_in(lines: list[str]) -> list[str]:
    """Patient ids of the sample that appear in `lines` (none may)."""
    ids = pd.read_csv(SAMPLE / "labs.csv", dtype=str)["patient_id"].dropna().unique()
    return [i for i in ids if any(i in line for line in lines)]


def test_a_run_without_the_flow_tells_its_read_and_its_contracts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = _run(tmp_path, capsys)
    # the sample: 171 lab rows, 33 medications, 14 diagnoses, 64 patients; its planted
    # contract breaches fail 5 warning expectations and no critical one
    read = (
        "hyposcreen: read labs 171 row(s), medications 33 row(s), diagnoses 14 row(s), "
        "patients 64 row(s)"
    )
    contracts = "hyposcreen: input validation passed; 5 warning expectation(s) failed"
    assert read in lines and contracts in lines, lines
    listed = next(i for i, line in enumerate(lines) if "case(s) listed" in line)
    assert lines.index(read) < lines.index(contracts) < listed
    # no --profile: the first line cannot name the rules' default before they are read; the
    # line of the cases listed names the severity profile their tiers come from
    # the window's bounds are the site's wall times, named in its zone (the sample's: UTC)
    assert lines[0].endswith(
        f"{DAY}T00:00:00/2026-11-21T00:00:00 UTC (the rules' default severity profile)"
    )
    version = load_rules().version
    assert lines[listed].endswith(f"; rules {version}, severity profile seed")
    assert _ids_in(lines) == []


def test_the_window_is_told_in_the_site_zone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A site in Berlin screens 20 Nov 00:00 Berlin time (23:00 UTC the day before): the
    line names the zone, so a data engineer reading the log on a UTC server does not take
    the bounds for UTC."""
    mapping = tmp_path / "site.yaml"
    mapping.write_text("site: berlin\ntimezone: Europe/Berlin\n", encoding="utf-8")
    lines = _run(tmp_path, capsys, "--mapping", str(mapping))
    assert lines[0].endswith(
        f"{DAY}T00:00:00/2026-11-21T00:00:00 Europe/Berlin (the rules' default severity profile)"
    ), lines[0]


def test_an_audit_tells_its_period_in_the_site_zone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mapping = tmp_path / "site.yaml"
    mapping.write_text("site: berlin\ntimezone: Europe/Berlin\n", encoding="utf-8")
    args = ["audit", "--input", str(SAMPLE), "--mapping", str(mapping), "--out", str(tmp_path)]
    status = main([*args, "--start", "2026-11-01", "--end", "2026-12-01"])
    err = capsys.readouterr().err.splitlines()
    assert status in (0, 4), err
    assert err[0].endswith(" for 2026-11-01T00:00:00/2026-12-01T00:00:00 Europe/Berlin"), err[0]


def test_a_partitioned_run_tells_its_partitions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = _run(tmp_path, capsys, "--partitions", "2")
    read = next(line for line in lines if line.startswith("hyposcreen: read labs"))
    assert read.endswith("patients 64 row(s) into 2 partitions"), read
    screened = next(
        i for i, line in enumerate(lines) if "cleaned and screened 2 partitions (" in line
    )
    checked = lines.index("hyposcreen: input validation passed; 5 warning expectation(s) failed")
    assert lines.index(read) < screened < checked
    assert not any("screened again" in line for line in lines)  # no warning flagged a used row
    assert _ids_in(lines) == []


def test_a_backfill_without_the_flow_tells_one_line_per_night_not_its_stages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Its nights are read ahead of their turn: a read line would be told out of its night's
    order, so each night tells its count line only."""
    lines = _run(tmp_path, capsys, when=("--backfill", "2026-11-19", DAY))
    assert not any("input validation" in line for line in lines), lines
    assert not any(line.startswith("hyposcreen: read labs") for line in lines), lines
    assert sum("case(s) listed" in line for line in lines) == 2


def test_the_lines_hold_counts_with_thousands_separators() -> None:
    tables = [
        IngestedTable("labs", pd.DataFrame(), rows_in=1_250_000),
        IngestedTable("medications", pd.DataFrame(), rows_in=7),
    ]
    assert read_line(tables) == "read labs 1,250,000 row(s), medications 7 row(s)"
    assert read_line(tables, 3).endswith("medications 7 row(s) into 3 partitions")
    assert contracts_line({"passed": False, "failed_warnings": 2}) == (
        "input validation failed; 2 warning expectation(s) failed"
    )
    assert contracts_line({"passed": True, "failed_warnings": 0}) == "input validation passed"
    assert partitions_line("screened", 4, 12.345) == "screened 4 partitions (12.3 s)"
    assert partitions_line("cleaned", 1, 0.94) == "cleaned 1 partition (0.9 s)"  # Dask, one
    assert screening_line("/data/in", "2026-11-20", "eu2014") == (
        "screening /data/in for 2026-11-20 (severity profile eu2014)"
    )
    assert screening_line("/data/in", "2026-11-20", None, "Europe/Berlin") == (
        "screening /data/in for 2026-11-20 Europe/Berlin (the rules' default severity profile)"
    )


def test_a_context_sent_to_another_process_tells_nothing_there(tmp_path: Path) -> None:
    """A Dask worker gets the window's context pickled: its `tell` (the run's terminal, the
    flow's log) stays with the run, which tells the partitions' progress itself."""
    told: list[str] = []
    window = parse_window(f"{DAY}T00:00:00", "2026-11-21T00:00:00")
    ctx = prepare(RunSettings(SAMPLE, tmp_path / "out", window))
    ctx.tell = told.append
    sent = pickle.loads(pickle.dumps(ctx))  # noqa: S301 - the test's own object
    sent.say("read labs 1 row(s)")
    ctx.say("read labs 2 row(s)")
    assert sent.tell is None and told == ["read labs 2 row(s)"]
