"""A CSV small enough to be one block of the reader whose first rows hold UTF-8 text and a later
row latin-1 bytes (a row appended by another tool) mixes encodings as a large one does: exit 3
naming the file. Before, the whole file was read as latin-1 and its UTF-8 text turned into
other words: `Furosémide` read `FurosÃ©mide`, a drug no longer recognised, and P001, listed
only for that loop diuretic, left the list of a night that exited 0."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sample_delivery import SAMPLE, screen

FIRST_ORDER = "P001,E001,Furosemide 40mg tab,"
APPENDED = "P099,E099,Hydrochlorothiazid Müller,,,2026-05-12T09:00:00,,active,oral\n"


def _medications(folder: Path, appended: bytes) -> None:
    """The sample's medications.csv in UTF-8 with P001's order written `Furosémide 40mg` (line
    2), then `appended` as line 35."""
    text = (SAMPLE / "medications.csv").read_text(encoding="utf-8")
    assert text.count(FIRST_ORDER) == 1
    text = text.replace(FIRST_ORDER, "P001,E001,Furosémide 40mg,")
    (folder / "medications.csv").write_bytes(text.encode("utf-8") + appended)


def test_utf8_rows_then_a_latin1_row_stop_the_night(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    _medications(folder, APPENDED.encode("latin-1"))
    status, night = screen(folder)
    err = capsys.readouterr().err
    assert status == 3, err
    assert "medications.csv mixes encodings" in err
    assert "Müller" not in err and "Furos" not in err  # the file's text is never shown
    assert not (night / "review_list.csv").exists()


def test_the_same_rows_all_in_utf8_list_p001(tmp_path: Path) -> None:
    """The control: the appended row in UTF-8 too; P001 is listed for its loop diuretic."""
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    _medications(folder, APPENDED.encode("utf-8"))
    status, night = screen(folder)
    assert status == 0
    listed = (night / "review_list.csv").read_text(encoding="utf-8")
    assert any(
        line.split(",")[2] == "P001" and "loop_diuretic" in line for line in listed.splitlines()
    )
