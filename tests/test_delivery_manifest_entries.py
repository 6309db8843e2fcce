"""delivery_manifest.json as senders' tools write it, and as a damaged or hostile one reads:

- a count written `1e400` (a float JSON reads as infinity) was an internal error (exit 70), and
  `171.9` or `true` were read as 171 and 1 by int(): a count is a whole number >= 0 (`171`,
  `171.0`, `"171"`), anything else is no manifest (exit 3); a `labs.count` holding `17¹` was
  exit 70 too (a superscript passes str.isdigit());
- a file the manifest declares that the input folder does not hold (lost in transfer) was
  passed over: the delivery is incomplete, the night stops naming the entry (exit 3);
- names written with Windows' `\\` (`labs\\2026-10.csv`) or in another letter case than the
  file on disk were compared with no file, so the count of that file was never checked: they
  name the file and its count is checked;
- a name outside the input folder (`../x.csv`, `C:\\export\\labs.csv`) is refused.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from sample_delivery import SAMPLE, screen

LAB_ROWS = 171


def delivery(tmp_path: Path, files: dict[str, object], folder_of_parts: bool = False) -> Path:
    """The sample with a delivery_manifest.json of `files` (name -> declared rows); with
    `folder_of_parts` its labs as `labs/2026-10.csv` (100 rows) and `labs/2026-11.csv`."""
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    if folder_of_parts:
        lines = (folder / "labs.csv").read_text("utf-8").splitlines(keepends=True)
        (folder / "labs").mkdir()
        (folder / "labs" / "2026-10.csv").write_text("".join(lines[:101]), "utf-8")
        (folder / "labs" / "2026-11.csv").write_text("".join(lines[:1] + lines[101:]), "utf-8")
        (folder / "labs.csv").unlink()
    manifest = {"files": {name: {"rows": rows} for name, rows in files.items()}}
    (folder / "delivery_manifest.json").write_text(json.dumps(manifest), "utf-8")
    return folder


@pytest.mark.parametrize("rows", [float("inf"), 171.9, True, -171, "171 rows"])
def test_a_count_that_is_no_whole_number_is_no_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rows: object
) -> None:
    text = json.dumps({"files": {"labs.csv": {"rows": rows}}}).replace("Infinity", "1e400")
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    (folder / "delivery_manifest.json").write_text(text, "utf-8")
    status, _ = screen(folder)
    assert status == 3
    assert "delivery_manifest.json is not a delivery manifest" in capsys.readouterr().err


@pytest.mark.parametrize("rows", [LAB_ROWS, float(LAB_ROWS), str(LAB_ROWS)])
def test_a_whole_count_however_written_is_checked(tmp_path: Path, rows: object) -> None:
    status, _ = screen(delivery(tmp_path, {"labs.csv": rows, "medications.csv": 33}))
    assert status == 0


def test_a_declared_file_the_folder_does_not_hold_stops_the_night(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = delivery(tmp_path, {"labs.csv": LAB_ROWS, "labs_2.csv": 12})
    status, night = screen(folder)
    assert status == 3
    err = capsys.readouterr().err
    assert "declares 'labs_2.csv', which the input folder does not hold" in err
    assert (night / "FAILED.json").is_file() and not (night / "review_list.csv").exists()


@pytest.mark.parametrize(
    ("name", "declared", "status"),
    [
        ("labs\\2026-11.csv", LAB_ROWS - 100, 0),  # as a Windows tool lists a folder's part
        ("labs\\2026-11.csv", LAB_ROWS - 101, 3),  # ... and its count is checked
        ("LABS/2026-11.CSV", LAB_ROWS - 102, 3),  # another letter case names the file too
    ],
)
def test_names_written_the_windows_way_name_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, declared: int, status: int
) -> None:
    assert screen(delivery(tmp_path, {name: declared}, folder_of_parts=True))[0] == status
    if status:
        assert f"declares {declared} data row(s)" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["../labs.csv", "/etc/hosts", "C:\\export\\labs.csv"])
def test_a_name_outside_the_input_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    assert screen(delivery(tmp_path, {"labs.csv": LAB_ROWS, name: 1}))[0] == 3
    assert "outside the input folder" in capsys.readouterr().err


def test_a_count_file_with_a_digit_int_does_not_read_is_no_whole_number(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `17¹`: str.isdigit() holds for a superscript, which int() refuses (was exit 70)
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    (folder / "labs.count").write_text("17\u00b9", "utf-8")
    assert screen(folder)[0] == 3
    assert "labs.count must hold one whole number" in capsys.readouterr().err
