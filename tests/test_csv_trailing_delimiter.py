"""Some exporters end every data line with the delimiter (`P1,…,final,`) but not the header
line, or only the header line. Each data row then had one field more (or fewer) than the
header: all 171 lab rows of the sample were quarantined `malformed_row`, the list was empty
and the night exited 4. The extra empty field is now absorbed: the delivery screens as the
sample does, and a row without the trailing delimiter in such a file is the odd one out."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tests.sample_delivery import SAMPLE, assert_screens_as_the_sample

from hyposcreen.config import SiteMapping
from hyposcreen.ingest.canonical import SCHEMAS
from hyposcreen.ingest.tabular import read_table


@pytest.mark.parametrize("where", ["data lines", "header line"])
def test_a_delimiter_ending_the_lines_screens_as_the_sample(tmp_path: Path, where: str) -> None:
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    for name in ("labs", "medications"):
        lines = (SAMPLE / f"{name}.csv").read_text(encoding="utf-8").splitlines()
        if where == "header line":
            lines[0] += ","
        else:
            lines[1:] = [line + "," for line in lines[1:]]
        (folder / f"{name}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert_screens_as_the_sample(folder, tmp_path)


def test_a_line_without_the_trailing_delimiter_is_the_malformed_one(tmp_path: Path) -> None:
    rows = [
        "patient_id,specimen_id,specimen_time,loinc,value_raw,unit",
        "P1,S1,2026-11-20T06:00:00,2951-2,128,mmol/L,",
        "P1,S2,2026-11-20T07:00:00,2951-2,127,mmol/L",  # line 3: no trailing delimiter
        "P1,S3,2026-11-20T08:00:00,2951-2,126,mmol/L,",
    ]
    (tmp_path / "labs.csv").write_text("\n".join(rows) + "\n")
    frame = read_table(tmp_path, SCHEMAS["labs"], SiteMapping()).frame
    kept = frame[frame["malformed_reason"].isna()]
    assert kept[["specimen_id", "source_row"]].values.tolist() == [["S1", "2"], ["S3", "4"]]
    assert frame.loc[frame["malformed_reason"].notna(), "source_row"].tolist() == ["3"]


def test_a_value_after_the_last_column_is_not_dropped_silently(tmp_path: Path) -> None:
    """In a file whose lines end with the delimiter, a row with a value in the field after
    the last column had a value with an unquoted delimiter (its fields shifted): it stays a
    malformed row, as it was before the trailing delimiter was absorbed."""
    rows = [
        "patient_id,specimen_id,specimen_time,lab_name,value_raw,unit",
        "P1,S1,2026-11-20T06:00:00,Sodium,128,mmol/L,",
        "P1,S2,2026-11-20T07:00:00,Sodium, serum,127,mmol/L",  # line 3: shifted
        "P1,S3,2026-11-20T08:00:00,Sodium,126,mmol/L,",
    ]
    (tmp_path / "labs.csv").write_text("\n".join(rows) + "\n")
    frame = read_table(tmp_path, SCHEMAS["labs"], SiteMapping()).frame
    kept = frame[frame["malformed_reason"].isna()]
    assert kept[["specimen_id", "source_row"]].values.tolist() == [["S1", "2"], ["S3", "4"]]
    aside = frame[frame["malformed_reason"].notna()]
    assert aside[["source_row", "malformed_reason"]].values.tolist() == [["3", "malformed_row"]]
