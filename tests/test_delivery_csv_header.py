"""Header lines as real exports write them: `patient_id, specimen_time, …` (a space after each
delimiter), names padded inside quotes, and a quoted name holding the delimiter. The names are
read without their surrounding spaces, so the night screens the same list as the canonical
sample (no internal error from a column the parser knows by its padded name). A file whose
lines end in a carriage return alone (classic Mac OS "CSV (Macintosh)") stops the night naming
the file: read line by line it would lose its last column silently (a urine specimen type read
as serum)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
DAY = "2026-11-20"


def _delivery(tmp_path: Path, name: str, labs_text: str, newline: str = "\n") -> Path:
    folder = tmp_path / name
    shutil.copytree(SAMPLE, folder)
    (folder / "labs.csv").write_bytes(labs_text.replace("\n", newline).encode("utf-8"))
    return folder


def _run(capsys: pytest.CaptureFixture[str], folder: Path) -> tuple[int, str, Path]:
    out = folder.parent / f"{folder.name}-out"
    status = main(
        ["run", "--no-flow", "--input", str(folder), "--out", str(out), "--window-start", DAY]
    )
    return status, capsys.readouterr().err, out / DAY


def _listed(day_out: Path) -> pd.DataFrame:
    return pd.read_csv(day_out / "review_list.csv", dtype=str).drop(columns=["run_id"])


@pytest.fixture(scope="module")
def canonical_list(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("canonical") / "out"
    status = main(
        ["run", "--no-flow", "--input", str(SAMPLE), "--out", str(out), "--window-start", DAY]
    )
    assert status == 0
    return _listed(out / DAY)


def _labs_lines() -> list[str]:
    return (SAMPLE / "labs.csv").read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(lambda names: ", ".join(names), id="space-after-comma"),
        pytest.param(lambda names: ",".join(f"{n} " for n in names), id="trailing-spaces"),
        pytest.param(lambda names: ",".join(f'" {n} "' for n in names), id="padded-in-quotes"),
    ],
)
def test_padded_header_names_screen_like_the_canonical_sample(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], canonical_list: pd.DataFrame, header
) -> None:
    lines = _labs_lines()
    text = "\n".join([header(lines[0].split(",")), *lines[1:]]) + "\n"
    status, err, day_out = _run(capsys, _delivery(tmp_path, "padded", text))
    assert status == 0, err
    assert "internal error" not in err and "Traceback" not in err
    pd.testing.assert_frame_equal(_listed(day_out), canonical_list)


def test_a_quoted_header_name_holding_the_delimiter_does_not_shift_the_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], canonical_list: pd.DataFrame
) -> None:
    lines = _labs_lines()
    # an extra free-text column first, whose quoted name holds a comma and padding
    text = "\n".join(['"Comment, free text ",' + lines[0], *(f"x,{line}" for line in lines[1:])])
    status, err, day_out = _run(capsys, _delivery(tmp_path, "quoted", text + "\n"))
    assert status == 0, err
    pd.testing.assert_frame_equal(_listed(day_out), canonical_list)


def test_carriage_return_line_ends_stop_the_night_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "\n".join(_labs_lines()) + "\n"
    folder = _delivery(tmp_path, "mac", text, newline="\r")
    status, err, day_out = _run(capsys, folder)
    assert status == 3, err
    assert str(folder / "labs.csv") in err and "carriage return" in err
    assert "Traceback" not in err and "P019" not in err
    assert not (day_out / "review_list.csv").exists()
