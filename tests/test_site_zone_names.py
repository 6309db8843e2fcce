"""The site mapping's `timezone` is written into the outputs (the CSVs' `time_zone` column, the
page, the manifest), so it must name the same zone, spelled the same way, on every machine.
`ZoneInfo` alone opened names whose meaning depends on the machine: `localtime` (the machine's
own zone), `posixrules`, the `posix/` copies of the system's tz files, and, on a
case-insensitive file system, `europe/berlin`. Such a name stops the run with exit 2 and says
how to write it; a zone the tz database lists (`Etc/GMT-1`, `UTC`) is taken as spelled."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from tests.test_csv_time_zone_column import NIGHT, _delivery

from hyposcreen.cli import main


def _run(tmp_path: Path, zone: str) -> int:
    folder = tmp_path / "extract"
    mapping = _delivery(folder, "118", None)
    site = tmp_path / "site.yaml"
    site.write_text(f"timezone: '{zone}'\n", encoding="utf-8")
    args = ["run", "--no-flow", "--input", str(folder), "--out", str(tmp_path / "out")]
    return main([*args, "--window-start", NIGHT, *mapping, "--mapping", str(site)])


@pytest.mark.parametrize(
    ("zone", "told"),
    [
        ("europe/berlin", "write 'Europe/Berlin'"),
        (" Europe/Berlin", "write 'Europe/Berlin'"),
        ("localtime", "machine's own setting"),
        ("posixrules", "machine's own setting"),
        ("posix/Europe/Berlin", "Unknown time zone"),
        ("UTC+1", "Unknown time zone"),
        ("", "Unknown time zone"),
    ],
)
def test_a_zone_name_a_machine_reads_its_own_way_stops_the_run_saying_how_to_write_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], zone: str, told: str
) -> None:
    assert _run(tmp_path, zone) == 2
    assert told in capsys.readouterr().err
    assert not (tmp_path / "out" / NIGHT).exists()


def test_a_listed_offset_zone_is_taken_as_spelled(tmp_path: Path) -> None:
    assert _run(tmp_path, "Etc/GMT-1") in (0, 4)
    rows = pd.read_csv(tmp_path / "out" / NIGHT / "review_list.csv", dtype=str)
    assert set(rows["time_zone"]) == {"Etc/GMT-1"}
