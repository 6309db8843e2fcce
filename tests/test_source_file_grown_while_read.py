"""A source layout's file (OMOP measurement, MIMIC labevents) that grows while it is read: the
sender's job appends rows after hyposcreen's read of it has begun and finishes before the night
publishes. Its manifest record took the file's size after the read (and after its checksum), so
the size compared before publishing was the grown file's own and the night was published from
the rows read before the append. The read now stops when the file is not the one it began with
(inode, size, time), and a record holds the size the file had when its read began, so the check
before publishing stops the night too."""

from __future__ import annotations

from pathlib import Path

import pytest

from hyposcreen.adapters._files import SourceTable
from hyposcreen.config import SiteMapping
from hyposcreen.errors import InputError
from hyposcreen.ingest.read_identities import check_read_files_unchanged

HEADER = "person_id,measurement_id,value_source_value\n"
ROWS = "1,10,128\n2,11,130\n"
LATE = "3,12,112\n"


def test_a_source_file_appended_to_during_its_read_is_not_published(tmp_path: Path) -> None:
    path = tmp_path / "measurement.csv"
    path.write_text(HEADER + ROWS)
    size_when_read = path.stat().st_size  # 44 + 9 + 9 = 62 bytes
    table = SourceTable("measurement", [path], SiteMapping())
    frames = table.batches(["person_id", "measurement_id", "value_source_value"])
    first = next(frames)  # the read has begun (and here read the file's two rows)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(LATE)  # the sender goes on writing, then stops
    assert len(first) == 2  # the late row was not read
    # the read compares the file with itself when it began (as the canonical reader does):
    # stopped there, before any record; the check before publishing stops it too
    with pytest.raises(InputError, match=r"measurement\.csv changed while it was read"):
        list(frames)
    assert table.records == []
    record = {"path": str(path), "sha256": "", "rows": 2, "bytes": size_when_read}
    with pytest.raises(InputError, match=r"measurement\.csv changed after it was read"):
        check_read_files_unchanged([record])


def test_a_source_file_left_alone_passes(tmp_path: Path) -> None:
    path = tmp_path / "measurement.csv"
    path.write_text(HEADER + ROWS)
    table = SourceTable("measurement", [path], SiteMapping())
    list(table.batches(["person_id", "measurement_id", "value_source_value"]))
    check_read_files_unchanged(table.records)  # no error
