"""A delivery file replaced, appended to or removed while the night reads it (a sender's upload
still running, a re-delivery): the CSV parser, the record scan beside it and the manifest's
checksum each opened it on their own, so rows could be numbered from one version and counted
from another, and a removed file stopped the run with a traceback (exit 70) when its checksum
was taken. The file's size, time and inode are compared after it is read: a changed or
vanished file stops the night (InputError, exit 3) naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from hyposcreen.config import SiteMapping
from hyposcreen.errors import InputError
from hyposcreen.ingest.canonical import SCHEMAS
from hyposcreen.ingest.tabular import TableStream

HEADER = "patient_id,specimen_id,specimen_time,loinc,value_raw,unit,comment"
ROWS = [f"P1,S{n},2026-11-20T06:00:00,2951-2,128,mmol/L," for n in range(2, 6)]


def _changed_while_read(tmp_path: Path, name: str, change: str) -> None:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *ROWS]) + "\n")
    frames = TableStream(tmp_path, SCHEMAS["labs"], SiteMapping()).frames()
    next(frames)  # the first batch is read
    if change == "appended":
        with path.open("a") as handle:
            handle.write("P1,S9,2026-11-20T08:00:00,2951-2,126,mmol/L,\n")
    elif change == "replaced":
        replacement = tmp_path / "upload.tmp"
        replacement.write_text("\n".join([HEADER, *ROWS[:2]]) + "\n")
        replacement.replace(path)
    else:
        path.unlink()
    list(frames)


@pytest.mark.parametrize("change", ["appended", "replaced", "removed"])
def test_a_csv_changed_or_removed_while_read_stops_the_night(tmp_path: Path, change: str) -> None:
    with pytest.raises(InputError, match=r"labs\.csv (changed|was removed) while"):
        _changed_while_read(tmp_path, "labs.csv", change)


def test_a_file_left_alone_reads_whole(tmp_path: Path) -> None:
    (tmp_path / "labs.csv").write_text("\n".join([HEADER, *ROWS]) + "\n")
    stream = TableStream(tmp_path, SCHEMAS["labs"], SiteMapping())
    assert sum(len(frame) for frame in stream.frames()) == len(ROWS)
    assert [record["rows"] for record in stream.file_records] == [len(ROWS)]
