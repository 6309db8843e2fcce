"""Lab specimen times delivered as a date alone (a site mapping reading COLLECT_DATE, a typed
Parquet date): every result of a day reads as midnight, so two sodiums of one day with the same
value became one duplicate and the list changed (P010 left it), exit 0. The night now warns
(exit 4, `date_only_times`, counts only) when more than `max_unreadable_time_share` (5 %) of
the lab rows with a time are dates alone, in one process and in partitions alike; a few such
rows among timed ones do not warn."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.cli import main
from sample_delivery import DAY, SAMPLE

# the sample's 171 lab rows less 1 unknown LOINC, 2 outside the read window, 1 time "unknown"
TIMED_LAB_ROWS = 167


def _run(folder: Path, *extra: str) -> tuple[int, dict]:
    out = folder.parent / "out"
    argv = ["run", "--no-flow", "--input", str(folder), "--out", str(out)]
    status = main([*argv, "--window-start", DAY, *extra])
    return status, json.loads((out / DAY / "run_manifest.json").read_text())


def _dated(tmp_path: Path, rows: slice) -> Path:
    """The sample with the specimen_time of the lab `rows` cut to its date."""
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    labs = pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False)
    cut = labs["specimen_time"].iloc[rows].str.slice(0, 10)
    labs.loc[cut.index, "specimen_time"] = cut
    labs.to_csv(folder / "labs.csv", index=False)
    return folder


@pytest.mark.parametrize("partitions", ["1", "3"])
def test_specimen_times_written_as_dates_warn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], partitions: str
) -> None:
    status, manifest = _run(_dated(tmp_path, slice(None)), "--partitions", partitions)
    err = capsys.readouterr().err
    assert status == 4
    [message] = [w["message"] for w in manifest["warnings"] if w["code"] == "date_only_times"]
    assert message.startswith(
        f"{TIMED_LAB_ROWS} of {TIMED_LAB_ROWS} lab row(s) (100%) have a specimen_time that is a "
        "date without a clock time (limit 5%)"
    )
    assert f"warning: {message}" in err


def test_a_few_dates_among_timed_rows_do_not_warn(tmp_path: Path) -> None:
    status, manifest = _run(_dated(tmp_path, slice(0, 8)))  # 8 of 167: under 5 %
    assert "date_only_times" not in [w["code"] for w in manifest["warnings"]]
    assert status == 0


def _compact(tmp_path: Path, time_format: str) -> tuple[Path, Path]:
    """The sample with every lab specimen_time at midnight of its day, written in `time_format`
    (declared in a site mapping)."""
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    labs = pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False)
    times = pd.to_datetime(labs["specimen_time"], errors="coerce", format="ISO8601")
    timed = times.notna()  # the one time "unknown" stays as it is
    labs.loc[timed, "specimen_time"] = times[timed].dt.normalize().dt.strftime(time_format)
    labs.to_csv(folder / "labs.csv", index=False)
    mapping = tmp_path / "site.yaml"
    mapping.write_text(f'datetime_formats: ["{time_format}"]\n')
    return folder, mapping


def test_compact_times_at_midnight_hold_a_clock_time(tmp_path: Path) -> None:
    """`20261120000000` (an HL7-style format the site declares) says 00:00:00: no date alone,
    as `2026-11-20T00:00:00` is none."""
    folder, mapping = _compact(tmp_path, "%Y%m%d%H%M%S")
    _, manifest = _run(folder, "--mapping", str(mapping))
    assert "date_only_times" not in [w["code"] for w in manifest["warnings"]]


def test_compact_dates_alone_warn(tmp_path: Path) -> None:
    folder, mapping = _compact(tmp_path, "%Y%m%d")
    status, manifest = _run(folder, "--mapping", str(mapping))
    [message] = [w["message"] for w in manifest["warnings"] if w["code"] == "date_only_times"]
    assert message.startswith(f"{TIMED_LAB_ROWS} of {TIMED_LAB_ROWS} lab row(s) (100%)")
    assert status == 4
