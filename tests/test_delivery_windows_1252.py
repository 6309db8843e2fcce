"""A labs CSV saved by a Windows tool in Windows-1252 ("ANSI"): its en dash (byte 0x96) in a
LOINC such as `2951–2` reads as the dash it is (and so as `-`), not as a latin-1 control
character that made the LOINC unknown and took the row off the screen; a byte Windows-1252
leaves undefined (0x81) in a file the mapping calls cp1252 is read, not an internal error. A
file holding bytes its declared encoding does not define (the mapping says ascii) stops the
night (exit 3) naming the file and the encoding, never its text."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.cli import main
from sample_delivery import DAY, SAMPLE, assert_screens_as_the_sample, screen

FIRST_SODIUM = "P001,E001,S001-01,2026-11-20T06:10:00,2026-11-20T07:10:00,2951-2,Sodium,"


def _windows_labs(folder: Path, lab_name: str = "Sodium") -> None:
    """The sample's labs.csv in Windows-1252, P001's sodium row with an en dash in its LOINC
    (P001 is listed only through that row) and `lab_name` as its name."""
    text = (SAMPLE / "labs.csv").read_text(encoding="utf-8")
    assert text.count(FIRST_SODIUM) == 1
    dashed = FIRST_SODIUM.replace("2951-2,Sodium", f"2951\u20132,{lab_name}")
    data = text.replace(FIRST_SODIUM, dashed).encode("cp1252")
    (folder / "labs.csv").write_bytes(data.replace(b"{undefined}", b"\x81"))


def test_an_en_dash_in_a_windows_1252_file_reads_as_a_dash(tmp_path: Path) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    _windows_labs(folder)
    assert b"2951\x962" in (folder / "labs.csv").read_bytes()
    assert_screens_as_the_sample(folder, tmp_path)


def _screen_with(folder: Path, encoding: str) -> tuple[int, Path]:
    (folder.parent / "site.yaml").write_text(f"csv: {{encoding: {encoding}}}\n")
    out = folder.parent / "out"
    status = main(
        [
            "run",
            "--no-flow",
            "--input",
            str(folder),
            "--out",
            str(out),
            "--window-start",
            DAY,
            "--mapping",
            str(folder.parent / "site.yaml"),
        ]
    )
    return status, out / DAY


def test_a_byte_windows_1252_leaves_undefined_is_read(tmp_path: Path) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    _windows_labs(folder, lab_name="Sodium{undefined}")  # written as the byte 0x81
    assert b"Sodium\x81" in (folder / "labs.csv").read_bytes()
    status, night = _screen_with(folder, "cp1252")
    expected_status, expected = screen(shutil.copytree(SAMPLE, tmp_path / "sample"))
    assert status == expected_status == 0
    review = pd.read_csv(night / "review_list.csv", dtype=str).drop(columns=["run_id"])
    want = pd.read_csv(expected / "review_list.csv", dtype=str).drop(columns=["run_id"])
    pd.testing.assert_frame_equal(review, want)
    counts = json.loads((night / "run_manifest.json").read_text())["reconciliation"]
    assert counts == json.loads((expected / "run_manifest.json").read_text())["reconciliation"]


def test_bytes_the_declared_encoding_lacks_stop_the_night(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    _windows_labs(folder, lab_name="Natrium-Sérum")
    status, _ = _screen_with(folder, "ascii")
    err = capsys.readouterr().err
    assert status == 3
    assert f"{folder / 'labs.csv'} is not ascii text" in err
    assert "csv: {encoding: ...}" in err
    assert "Traceback" not in err and "Natrium" not in err and "internal error" not in err


def test_an_omop_table_with_bytes_the_declared_encoding_lacks_stops_the_night(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sample_data import to_omop

    folder = tmp_path / "omop"
    to_omop.convert(folder, SAMPLE)
    measurement = folder / "measurement.csv"
    measurement.write_bytes(measurement.read_bytes().replace(b"mmol/L", b"mmol/L\xe9", 1))
    (tmp_path / "site.yaml").write_text("csv: {encoding: ascii}\n")
    argv = ["run", "--no-flow", "--source", "omop", "--input", str(folder)]
    argv += ["--out", str(tmp_path / "out"), "--window-start", DAY]
    status = main([*argv, "--mapping", str(tmp_path / "site.yaml")])
    err = capsys.readouterr().err
    assert status == 3
    assert f"{measurement} is not ascii text" in err
    assert "Traceback" not in err and "internal error" not in err
