"""A MIMIC-IV or OMOP table delivered both as a file and as a folder of parts beside it
(`hosp/labevents.csv` and `hosp/labevents/part-0.csv`: an export job that moved to parts, the
old file left behind) holds the table twice. Before, both were read and the night published
from the two deliveries' rows together (exit 0); a canonical table so delivered stops the run.
Now it stops (InputError, exit 3) naming both, as two files of the table do."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hyposcreen.adapters._source_files import find_source_files
from hyposcreen.cli import main
from hyposcreen.errors import InputError

MIMIC = Path(__file__).resolve().parent / "data" / "mimic"


def test_a_mimic_table_as_a_file_beside_its_folder_of_parts_stops_the_night(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = shutil.copytree(MIMIC, tmp_path / "mimic")
    lines = (root / "hosp" / "labevents.csv").read_text(encoding="utf-8").splitlines()
    (root / "hosp" / "labevents").mkdir()
    (root / "hosp" / "labevents" / "part-0.csv").write_text("\n".join(lines[:3]) + "\n")
    status = main(["run", "--no-flow", "--source", "mimic", "--input", str(root), "--out",
                   str(tmp_path / "out"), "--window-start", "2150-03-10"])  # fmt: skip
    assert status == 3  # before: 0, labs read from part-0.csv (2 rows) and labevents.csv
    assert "holds the labevents table more than once (labevents.csv, labevents/)" in (
        capsys.readouterr().err
    )


def test_a_file_beside_a_folder_without_parts_and_parts_alone_are_read(tmp_path: Path) -> None:
    (tmp_path / "measurement").mkdir()
    (tmp_path / "measurement" / "_SUCCESS").write_text("")  # bookkeeping: no part
    (tmp_path / "measurement.csv").write_text("measurement_id\n1\n")
    assert find_source_files(tmp_path, "measurement") == [tmp_path / "measurement.csv"]
    (tmp_path / "measurement.csv").unlink()
    (tmp_path / "measurement" / "part-0.tsv").write_text("measurement_id\n1\n")
    assert find_source_files(tmp_path, "measurement") == [tmp_path / "measurement" / "part-0.tsv"]
    (tmp_path / "MEASUREMENT.csv.gz").write_bytes(b"")  # a file beside the parts again
    with pytest.raises(InputError, match=r"\(MEASUREMENT\.csv\.gz, measurement/\); keep one"):
        find_source_files(tmp_path, "measurement")
