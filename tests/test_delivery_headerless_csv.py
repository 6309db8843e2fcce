"""A CSV exported without its header line: the first line is a patient's row. The error that
stops the night (exit 3, a required column missing) must not quote that line: the message goes
to stderr, FAILED.json and the failure e-mail / webhook, which carry counts and `file:row`
references only. A header whose names are known (even in another letter case) is still listed,
so a site can see what it has to map."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from hyposcreen.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
DAY = "2026-11-20"


def _run(capsys: pytest.CaptureFixture[str], folder: Path) -> tuple[int, str, Path]:
    out = folder.parent / "out"
    status = main(
        ["run", "--no-flow", "--input", str(folder), "--out", str(out), "--window-start", DAY]
    )
    return status, capsys.readouterr().err, out / DAY


@pytest.mark.parametrize("table", ["labs", "medications", "diagnoses"])
def test_a_csv_without_header_line_is_refused_without_quoting_its_first_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], table: str
) -> None:
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    lines = (folder / f"{table}.csv").read_text(encoding="utf-8").splitlines()
    (folder / f"{table}.csv").write_text("\n".join(lines[1:]) + "\n", encoding="utf-8")
    first_row = lines[1].split(",")
    status, err, day_out = _run(capsys, folder)
    assert status == 3, err
    assert str(folder / f"{table}.csv") in err and "header" in err
    failed = json.loads((day_out / "FAILED.json").read_text())
    for field in (f for f in first_row if len(f) >= 3):  # the id, the times, names, codes
        assert field not in err, field
        assert field not in failed["message"], field


def test_a_header_in_upper_case_is_listed_to_map(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    lines = (folder / "labs.csv").read_text(encoding="utf-8").splitlines()
    # upper case alone reads (test_delivery_header_letter_case); a column unmapped does not
    lines[0] = lines[0].upper().replace("VALUE_RAW", "RESULT_TEXT")
    (folder / "labs.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    status, err, _ = _run(capsys, folder)
    assert status == 3, err
    assert "PATIENT_ID, ENCOUNTER_ID" in err and "RESULT_TEXT" in err


def test_an_omop_table_without_header_line_is_refused_without_quoting_its_first_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sample_data import to_omop

    folder = tmp_path / "omop"
    to_omop.convert(folder, delimiter=",", vocabulary=False)
    path = folder / "measurement.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines[1:]) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    status = main(
        ["run", "--no-flow", "--source", "omop", "--input", str(folder), "--out", str(out),
         "--window-start", DAY]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert status == 3, err
    [error] = [line for line in err.splitlines() if line.startswith("hyposcreen: error")]
    assert "header" in error
    for field in (f for f in lines[1].split(",") if len(f) >= 4):  # ids, dates, values
        assert field not in error, field


def test_a_header_split_at_the_wrong_delimiter_is_still_listed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The mapping says `;`, the file uses `,`: the one field found is the whole header line,
    which holds known names, so it is shown (it is no patient data)."""
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    mapping = tmp_path / "site.yaml"
    mapping.write_text('csv: {delimiter: ";"}\n', encoding="utf-8")
    out = tmp_path / "out"
    status = main(
        ["run", "--no-flow", "--input", str(folder), "--out", str(out), "--window-start", DAY,
         "--mapping", str(mapping)]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert status == 3, err
    assert "patient_id,encounter_id,specimen_id" in err
