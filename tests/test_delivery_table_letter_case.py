"""A table's file beside the same name in another letter case (`labs.csv` and `LABS.csv`,
`labs.CSV` or `LABS.PARQUET`): a re-delivery by another export tool beside the last night's
file. Only the exact name was read and the other skipped unseen, exit 0, whichever of the two
was tonight's. It is the table delivered twice, as `labs.csv` beside `labs.csv.gz` is: the
night stops (exit 3) naming both files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sample_delivery import SAMPLE, screen


@pytest.mark.parametrize("other", ["LABS.csv", "labs.CSV", "LABS.PARQUET"])
def test_a_table_file_beside_its_name_in_another_case_stops_the_night(
    tmp_path: Path, other: str
) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    (folder / other).write_bytes((folder / "labs.csv").read_bytes())
    status, night = screen(folder)
    assert status == 3  # before: 0, the sample's list from labs.csv alone
    failed = (night / "FAILED.json").read_text()
    assert "holds the labs table twice" in failed
    assert "labs.csv" in failed and other in failed


def test_another_tables_name_in_capitals_is_no_second_labs_table(tmp_path: Path) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    (folder / "labs_2026-11-19.CSV").write_text("not read\n")  # named otherwise: left alone
    status, _ = screen(folder)
    assert status == 0


def test_a_folder_of_parts_beside_its_name_in_another_case_stops_the_night(
    tmp_path: Path,
) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    (folder / "labs").mkdir()
    (folder / "labs.csv").rename(folder / "labs" / "part-0.csv")
    (folder / "LABS.csv").write_bytes((folder / "labs" / "part-0.csv").read_bytes())
    status, night = screen(folder)
    assert status == 3  # before: 0, the folder's parts read and LABS.csv skipped unseen
    failed = (night / "FAILED.json").read_text()
    assert "holds the labs table twice" in failed
    assert "LABS.csv" in failed and "labs/" in failed
