"""Column names in another letter case: Oracle and Snowflake export unquoted names in upper
case (`PATIENT_ID`, `SPECIMEN_TIME`), and a mapping may be typed `Patient_Id` for a file's
`PATIENT_ID`. A header name equal to the wanted one but for case is that column; before, the
night stopped for "lacking" it, or an optional column (`STATUS`) was silently not read."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.cli import main
from sample_delivery import DAY, SAMPLE, assert_screens_as_the_sample, screen


def _recase(path: Path, names: dict[str, str] | None = None, upper: bool = True) -> None:
    head, rest = path.read_text().split("\n", 1)
    columns = [names.get(c, c) if names else c for c in head.split(",")]
    path.write_text(",".join(c.upper() if upper else c for c in columns) + "\n" + rest)


def test_upper_case_canonical_names_screen_as_the_sample(tmp_path: Path) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    for path in folder.glob("*.csv"):
        _recase(path)
    assert_screens_as_the_sample(folder, tmp_path)


def test_a_mapping_and_a_file_spelling_a_name_differently_agree(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The mapping says `Result_Value`, the file `RESULT_VALUE`: the results are read, and
    the night screens as the sample does."""
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    _recase(folder / "labs.csv", {"value_raw": "result_value"})
    (tmp_path / "site.yaml").write_text(
        "tables:\n  labs:\n    columns: {value_raw: Result_Value}\n"
    )
    out = tmp_path / "out"
    argv = ["run", "--no-flow", "--input", str(folder), "--out", str(out), "--window-start", DAY]
    assert main([*argv, "--mapping", str(tmp_path / "site.yaml")]) == 0, capsys.readouterr().err
    _, want = screen(shutil.copytree(SAMPLE, tmp_path / "sample"))
    review = pd.read_csv(out / DAY / "review_list.csv", dtype=str).drop(columns=["run_id"])
    expected = pd.read_csv(want / "review_list.csv", dtype=str).drop(columns=["run_id"])
    pd.testing.assert_frame_equal(review, expected)
    assert (out / DAY / "quarantine.csv").read_bytes() == (want / "quarantine.csv").read_bytes()


def test_an_optional_column_in_another_case_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only `STATUS` is upper case: its entered-in-error and cancelled results are
    quarantined `status` as in the sample, not used."""
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    head, rest = (folder / "labs.csv").read_text().split("\n", 1)
    (folder / "labs.csv").write_text(head.replace(",status,", ",STATUS,") + "\n" + rest)
    assert ",STATUS," in (folder / "labs.csv").read_text().split("\n", 1)[0]
    assert_screens_as_the_sample(folder, tmp_path)


def test_two_columns_differing_only_by_letter_case_stop_the_night_naming_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`Status` and `STATUS`, none named `status`: which one holds the status is not guessed,
    and the column is not silently left unread (its results in error would be used)."""
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    head, rest = (folder / "labs.csv").read_text().split("\n", 1)
    rows = [line + ",final" for line in rest.splitlines() if line]
    header = head.replace(",status,", ",Status,") + ",STATUS"
    (folder / "labs.csv").write_text(header + "\n" + "\n".join(rows) + "\n")
    argv = ["run", "--no-flow", "--input", str(folder), "--out", str(tmp_path / "out")]
    assert main([*argv, "--window-start", DAY]) == 3
    err = capsys.readouterr().err
    assert "Status, STATUS" in err and "differ only in letter case" in err
    assert "Traceback" not in err
