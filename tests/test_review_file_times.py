"""The clinician review CSV's `reviewed_at` as review tools write it: with offsets of summer and
winter time in one file (`2026-10-20T08:00+02:00`, `2026-11-21T08:00+01:00`), which pandas
refuses as one column ("Mixed timezones detected": the command ended as an internal error,
exit 70), in ISO 8601's basic format (`20261121T070000Z`, exit 70 too beside plain times), or
garbled to `-0` (read as the year 0, which no date of the state can hold: exit 70). It is read
as every time of a run is: with an offset, converted to the site's zone (the mapping's); a time
no record holds is an unreadable row (exit 3, naming the row)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.cli import main
from hyposcreen.errors import InputError
from hyposcreen.review_file import read_reviews
from sample_delivery import SAMPLE

HEADER = "patient_id,reviewed_at,reviewer\n"


def reviews_file(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "reviews.csv"
    path.write_text(HEADER + "".join(f"{row}\n" for row in rows), "utf-8")
    return path


def test_summer_and_winter_offsets_in_one_file_are_recorded(tmp_path: Path) -> None:
    mapping = tmp_path / "site.yaml"
    mapping.write_text("site: berlin\ntimezone: Europe/Berlin\n", "utf-8")
    state, site = tmp_path / "state", ["--mapping", str(mapping)]
    night = ["--out", str(tmp_path / "out"), "--window-start", "2026-11-20"]
    inputs = ["--input", str(shutil.copytree(SAMPLE, tmp_path / "delivery"))]
    assert main(["run", "--no-flow", *inputs, *night, "--state-dir", str(state), *site]) == 0
    path = reviews_file(
        tmp_path, "P003,2026-10-20T08:00:00+02:00,dr a", "P004,2026-11-21T08:00:00+01:00,dr b"
    )
    assert main(["reviewed", "--file", str(path), "--state-dir", str(state), *site]) == 0


def test_offsets_and_the_basic_format_read_as_the_site_s_wall_time(tmp_path: Path) -> None:
    path = reviews_file(
        tmp_path,
        "P003,2026-10-20T08:00:00+02:00,dr a",  # summer time in Berlin: 08:00 there
        "P004,20261121T070000Z,dr b",  # 07:00 UTC is 08:00 in Berlin's winter
        "P005,2026-11-21T08:00:00,dr c",  # no offset: the site's wall time
    )
    read = read_reviews(path, "Europe/Berlin")["reviewed_at"].tolist()
    assert read == [
        pd.Timestamp("2026-10-20 08:00"),
        pd.Timestamp("2026-11-21 08:00"),
        pd.Timestamp("2026-11-21 08:00"),
    ]


def test_a_time_before_the_year_one_is_an_unreadable_row(tmp_path: Path) -> None:
    path = reviews_file(tmp_path, "P003,-0,dr a", "P004,2026-11-21T08:00:00,dr b")
    with pytest.raises(InputError, match=r"1 row\(s\) without a patient_id or with a reviewed_at"):
        read_reviews(path)
