"""Control totals written by Windows tools: PowerShell's `Out-File` writes `labs.count` in
UTF-16 with a byte-order mark (the night stopped as an internal error, exit 70), its
`Set-Content -Encoding UTF8` writes a UTF-8 byte-order mark before `171` (refused as no whole
number, exit 3), and a delivery_manifest.json saved either way was refused as no manifest.
Each is now read, so a matching count screens as the sample and a differing one still stops
the night naming both numbers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sample_delivery import SAMPLE, screen

LAB_ROWS = 171  # the sample's labs.csv data rows


@pytest.mark.parametrize(
    ("name", "text", "encoding"),
    [
        ("labs.count", f"{LAB_ROWS}\r\n", "utf-16"),
        ("labs.count", f"{LAB_ROWS}\r\n", "utf-8-sig"),
        (
            "delivery_manifest.json",
            f'{{"files": {{"labs.csv": {{"rows": {LAB_ROWS}}}}}}}',
            "utf-16",
        ),
        (
            "delivery_manifest.json",
            f'{{"files": {{"labs.csv": {{"rows": {LAB_ROWS}}}}}}}',
            "utf-8-sig",
        ),
    ],
)
def test_windows_control_totals_are_read(
    tmp_path: Path, name: str, text: str, encoding: str
) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    (folder / name).write_bytes(text.encode(encoding))
    status, _ = screen(folder)
    assert status == 0


def test_a_differing_utf16_count_still_stops_the_night(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    (folder / "labs.count").write_bytes("170\r\n".encode("utf-16"))
    status, _ = screen(folder)
    err = capsys.readouterr().err
    assert status == 3
    assert "declares 170 data row(s)" in err and f"but {LAB_ROWS} were read" in err


def test_a_count_beside_a_table_the_mapping_names_with_its_suffix_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mapping naming the labs file with its suffix (`file: LAB_RESULTS.CSV`): the sender's
    `LAB_RESULTS.count`, as `labs.count` is written for `labs.csv`, is read (it was ignored:
    a differing count screened quietly), as `LAB_RESULTS.CSV.count` already was."""
    count_name = "LAB_RESULTS.count"
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    (folder / "labs.csv").rename(folder / "LAB_RESULTS.CSV")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("tables:\n  labs: {file: LAB_RESULTS.CSV}\n", encoding="utf-8")
    (folder / count_name).write_text("170\n", encoding="utf-8")
    status, _ = screen(folder, "--mapping", str(mapping))
    err = capsys.readouterr().err
    assert status == 3, err
    assert f"declares 170 data row(s) ({folder / count_name})" in err
    assert f"but {LAB_ROWS} were read" in err
