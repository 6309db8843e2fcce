"""DOS tools, and Windows' `copy /a a.csv+b.csv labs.csv` (how extracts get concatenated),
write an end-of-file mark (Ctrl-Z, byte 0x1A) after the last line. The parser read it as a
last row cut off in the middle: the whole delivery was refused (exit 3, "the delivery was cut
off"). The mark on a line of its own is no row: the delivery screens as the sample does, and
the rows after a mark inside a file keep their line numbers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tests.sample_delivery import SAMPLE, assert_screens_as_the_sample

from hyposcreen.config import SiteMapping
from hyposcreen.ingest.canonical import SCHEMAS
from hyposcreen.ingest.tabular import read_table


@pytest.mark.parametrize("ending", [b"\x1a", b"\r\n\x1a"])
def test_an_end_of_file_mark_after_the_last_line_is_no_row(tmp_path: Path, ending: bytes) -> None:
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    for name in ("labs", "medications"):
        data = (SAMPLE / f"{name}.csv").read_bytes()
        if ending.startswith(b"\r\n"):  # a CR LF file, as `copy /a` on Windows leaves it
            data = data.replace(b"\n", b"\r\n")
        (folder / f"{name}.csv").write_bytes(data + ending[-1:])
    assert_screens_as_the_sample(folder, tmp_path)


def test_rows_after_a_mark_inside_the_file_keep_their_lines(tmp_path: Path) -> None:
    rows = [
        "patient_id,specimen_id,specimen_time,loinc,value_raw,unit",  # 1
        "P1,S1,2026-11-20T06:00:00,2951-2,128,mmol/L",  # 2
        "\x1a",  # 3: the first part's mark
        "P1,S2,2026-11-20T07:00:00,2951-2,127,mmol/L",  # 4
        "note",  # 5: set aside
        "P1,S3,2026-11-20T08:00:00,2951-2,126,mmol/L",  # 6
    ]
    (tmp_path / "labs.csv").write_text("\n".join(rows) + "\n\x1a")
    frame = read_table(tmp_path, SCHEMAS["labs"], SiteMapping()).frame
    kept = frame[frame["malformed_reason"].isna()]
    assert kept[["specimen_id", "source_row"]].values.tolist() == [
        ["S1", "2"],
        ["S2", "4"],
        ["S3", "6"],
    ]
    assert frame.loc[frame["malformed_reason"].notna(), "source_row"].tolist() == ["5"]


def test_a_mark_inside_a_file_without_malformed_rows(tmp_path: Path) -> None:
    """No row is set aside: the rows are numbered by the scan that takes no field counts."""
    rows = [
        "patient_id,specimen_id,specimen_time,loinc,value_raw,unit",  # 1
        "P1,S1,2026-11-20T06:00:00,2951-2,128,mmol/L",  # 2
        "\x1a",  # 3
        "P1,S2,2026-11-20T07:00:00,2951-2,127,mmol/L",  # 4
    ]
    (tmp_path / "labs.csv").write_text("\r\n".join(rows) + "\r\n")
    frame = read_table(tmp_path, SCHEMAS["labs"], SiteMapping()).frame
    assert "malformed_reason" not in frame or frame["malformed_reason"].isna().all()
    assert frame[["specimen_id", "source_row"]].values.tolist() == [["S1", "2"], ["S2", "4"]]
