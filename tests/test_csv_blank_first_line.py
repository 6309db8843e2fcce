"""A CSV whose header line comes after a blank line (an export that starts with an empty
line): the night stopped saying the file "is empty: it has no header line", though it held
every row, which sends the data engineer looking for a lost file. It still stops (exit 3),
saying the file starts with a blank line where its header should be; a file of blank lines
alone is still called empty."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from sample_delivery import SAMPLE, screen


@pytest.mark.parametrize("blank", ["\n", "\r\n\r\n", "   \n"])
def test_a_blank_first_line_is_named_as_such(tmp_path: Path, blank: str) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    meds = folder / "medications.csv"
    meds.write_bytes(blank.encode() + meds.read_bytes())
    status, night = screen(folder)
    assert status == 3
    message = json.loads((night / "FAILED.json").read_text())["message"]
    assert "medications.csv starts with a blank line where its header line should be" in message
    assert "is empty" not in message  # before: "... is empty: it has no header line."


def test_a_utf16_file_with_a_blank_first_line_is_named_as_such(tmp_path: Path) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    meds = folder / "medications.csv"
    meds.write_bytes(("\r\n" + meds.read_text()).encode("utf-16"))
    status, night = screen(folder)
    assert status == 3
    assert "starts with a blank line" in (night / "FAILED.json").read_text()


def test_a_file_of_blank_lines_alone_is_empty(tmp_path: Path) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    (folder / "medications.csv").write_text("\n\n  \n")
    status, night = screen(folder)
    assert status == 3
    assert "medications.csv is empty" in (night / "FAILED.json").read_text()


def test_a_blank_first_line_after_a_utf8_bom_is_named_as_such(tmp_path: Path) -> None:
    # Excel's "CSV UTF-8" writes its byte order mark before the blank line
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    meds = folder / "medications.csv"
    meds.write_bytes(b"\xef\xbb\xbf\r\n" + meds.read_bytes())
    status, night = screen(folder)
    assert status == 3
    message = json.loads((night / "FAILED.json").read_text())["message"]
    # before: "... lacks required column(s) ... Columns found: 0 field(s)"
    assert "medications.csv starts with a blank line where its header line should be" in message


def test_a_byte_order_mark_alone_is_empty(tmp_path: Path) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    (folder / "medications.csv").write_bytes(b"\xef\xbb\xbf")
    status, night = screen(folder)
    assert status == 3
    assert "medications.csv is empty" in (night / "FAILED.json").read_text()
