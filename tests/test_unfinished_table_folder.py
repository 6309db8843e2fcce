"""A table folder whose only data files lie under bookkeeping names (an unfinished Spark job:
`patients/_temporary/0/part-0.csv` and no part beside it) is a delivery that did not finish,
not a missing table: it stops the night naming the folder (exit 3). The optional patients
table was screened as absent (exit 0, a list without units or MRNs); a required table was
refused as missing ("looked for ... or a folder labs/") although the folder is there."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hyposcreen.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
DAY = "2026-11-20"


@pytest.mark.parametrize("table", ["patients", "labs"])
def test_a_folder_holding_only_an_unfinished_attempt_stops_the_night(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], table: str
) -> None:
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    attempt = folder / table / "_temporary" / "0"
    attempt.mkdir(parents=True)
    shutil.move(folder / f"{table}.csv", attempt / "part-0.csv")
    (folder / table / "_SUCCESS").write_text("")
    out = tmp_path / "out"
    status = main(
        ["run", "--no-flow", "--input", str(folder), "--out", str(out), "--window-start", DAY]
    )
    err = capsys.readouterr().err
    assert status == 3, err
    assert f"The {table} folder holds no part" in err
    assert "_temporary" in err and "Traceback" not in err


def test_a_folder_of_parts_beside_bookkeeping_is_screened(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    (folder / "patients" / "_temporary" / "0").mkdir(parents=True)
    shutil.copy(folder / "patients.csv", folder / "patients" / "_temporary" / "0" / "part-0.csv")
    shutil.move(folder / "patients.csv", folder / "patients" / "part-0.csv")
    out = tmp_path / "out"
    status = main(
        ["run", "--no-flow", "--input", str(folder), "--out", str(out), "--window-start", DAY]
    )
    assert status == 0, capsys.readouterr().err
