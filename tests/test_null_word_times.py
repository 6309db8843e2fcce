"""SQL Server Management Studio and bcp exports write an absent value as the word `NULL`.
Four home medications without a start date, exported so (`NULL` in start_time), are an empty
key the site did not deliver, like the same four written empty: quarantined without a warning
(exit 0), not "a start_time that is there but does not read" (ingest reads the words of
rules/null_words.csv as empty)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
DAY = "2026-11-20"
LISTED = ("Furosemide", "Hydrochlorothiazide", "Sertraline")


def starts_written(tmp_path: Path, word: str) -> Path:
    folder = tmp_path / (word.strip().lower() or "empty")
    shutil.copytree(SAMPLE, folder)
    meds = pd.read_csv(folder / "medications.csv", dtype=str, keep_default_na=False)
    chosen = meds.index[meds["drug_name"].str.startswith(LISTED) & (meds["status"] == "active")]
    meds.loc[chosen[:4], "start_time"] = word
    meds.to_csv(folder / "medications.csv", index=False)
    return folder


def screen(folder: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    out = folder.parent / f"{folder.name}_out"
    status = main(
        ["run", "--no-flow", "--input", str(folder), "--out", str(out), "--window-start", DAY]
    )
    return status, capsys.readouterr().err


def test_four_empty_starts_are_quarantined_without_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, err = screen(starts_written(tmp_path, ""), capsys)
    assert status == 0, err


def test_four_starts_written_null_are_quarantined_without_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, err = screen(starts_written(tmp_path, "NULL"), capsys)
    assert status == 0, err
