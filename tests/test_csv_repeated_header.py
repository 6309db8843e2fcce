"""A CSV made by concatenating extracts repeats the header where each part starts. Read as a
row, the header line was a lab with LOINC `loinc`: dropped as an unknown analyte, unreported
(exit 0). It is now quarantined `repeated_header` with its line; a part whose header lists the
columns in another order is refused (its rows would land in the wrong columns)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from tests.sample_delivery import SAMPLE, screen


def concatenated(tmp_path: Path, reorder: bool) -> tuple[Path, int]:
    """The sample with its labs split in two parts joined again, header and all; the second
    part's columns reversed when `reorder`. Returns the folder and the repeated header's line."""
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    labs = pd.read_csv(SAMPLE / "labs.csv", dtype=str, keep_default_na=False)
    half = len(labs) // 2
    second = labs.iloc[half:]
    if reorder:
        second = second[list(reversed(labs.columns))]
    text = labs.iloc[:half].to_csv(index=False) + second.to_csv(index=False)
    (folder / "labs.csv").write_text(text)
    return folder, half + 2  # header + `half` rows before it


def test_a_repeated_header_line_is_quarantined_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, line = concatenated(tmp_path, reorder=False)
    status, night = screen(folder)
    _, expected = screen(shutil.copytree(SAMPLE, tmp_path / "sample"))
    assert status in (0, 4), capsys.readouterr().err
    quarantine = pd.read_csv(night / "quarantine.csv", dtype=str, keep_default_na=False)
    repeated = quarantine[quarantine["reason"] == "repeated_header"]
    assert repeated[["table", "source_file", "source_row"]].values.tolist() == [
        ["labs", "labs.csv", str(line)]
    ]
    counts = json.loads((night / "run_manifest.json").read_text())["reconciliation"]["labs"]
    sample = json.loads((expected / "run_manifest.json").read_text())["reconciliation"]["labs"]
    assert counts["rows_in"] == sample["rows_in"] + 1
    assert counts["reasons"]["not_relevant"] == sample["reasons"]["not_relevant"]
    assert counts["reasons"]["quarantined"]["repeated_header"] == 1
    review = pd.read_csv(night / "review_list.csv", dtype=str).drop(columns=["run_id"])
    want = pd.read_csv(expected / "review_list.csv", dtype=str).drop(columns=["run_id"])
    pd.testing.assert_frame_equal(review, want)


def test_a_part_in_another_column_order_is_refused_naming_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, line = concatenated(tmp_path, reorder=True)
    status, _ = screen(folder)
    err = capsys.readouterr().err
    assert status == 3
    assert f"labs.csv:{line}: the header line comes back here with its columns in another" in err
    assert "Traceback" not in err
