"""A mapping saying `csv: {encoding: latin-1}` (as the README's worked example does) over a
file exported in UTF-8: read as latin-1, `Furosémide` became `FurosÃ©mide`, which no drug
name matches, and the loop diuretic was lost without a word. A file whose first block
decodes as UTF-8 whole is UTF-8 text and is read so; latin-1 text stays latin-1."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from hyposcreen.cli import main
from sample_delivery import DAY, SAMPLE


def _night(folder: Path, out: Path, mapping: Path | None = None) -> Path:
    argv = ["run", "--no-flow", "--input", str(folder), "--out", str(out), "--window-start", DAY]
    assert main([*argv, *(["--mapping", str(mapping)] if mapping else [])]) == 0
    return out / DAY


def _french(tmp_path: Path, encoding: str) -> Path:
    folder = shutil.copytree(SAMPLE, tmp_path / f"delivery-{encoding}")
    meds = folder / "medications.csv"
    text = meds.read_text(encoding="utf-8").replace("Furosemide", "Furosémide")
    meds.write_bytes(text.encode(encoding))
    return folder


def test_a_utf8_file_under_a_latin1_mapping_reads_as_utf8(tmp_path: Path) -> None:
    (tmp_path / "site.yaml").write_text("csv: {encoding: latin-1}\n")
    utf8 = _french(tmp_path, "utf-8")
    declared = _night(utf8, tmp_path / "declared", tmp_path / "site.yaml")
    plain = _night(utf8, tmp_path / "plain")
    review = pd.read_csv(declared / "review_list.csv", dtype=str)
    assert review["evidence"].str.contains("Furosémide").any()
    assert not review["evidence"].str.contains("Ã").any()
    want = pd.read_csv(plain / "review_list.csv", dtype=str)
    pd.testing.assert_frame_equal(review.drop(columns="run_id"), want.drop(columns="run_id"))
    for name in ("evidence.csv", "quarantine.csv"):
        assert (declared / name).read_bytes() == (plain / name).read_bytes(), name


def test_latin1_text_under_a_latin1_mapping_stays_latin1(tmp_path: Path) -> None:
    (tmp_path / "site.yaml").write_text("csv: {encoding: latin-1}\n")
    latin1 = _night(_french(tmp_path, "latin-1"), tmp_path / "latin1", tmp_path / "site.yaml")
    utf8 = _night(_french(tmp_path, "utf-8"), tmp_path / "utf8")
    assert (latin1 / "evidence.csv").read_bytes() == (utf8 / "evidence.csv").read_bytes()
