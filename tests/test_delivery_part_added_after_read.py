"""A table delivered as a folder of parts still being written when the night starts: the export
job writes labs/part-0.csv, the night lists and reads the folder, and the job then writes
labs/part-1.csv. Every part read kept its size, so the night was published from part-0 alone
(exit 0, the manifest naming one part) and nothing said a part had come. Before the night's
outputs are written the table's folder is listed again: a part that was not read stops the
night (InputError, exit 3) naming it, and nothing is published."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hyposcreen.errors import InputError
from sample_delivery import SAMPLE, screen_after_read


def _parts(tmp_path: Path) -> tuple[Path, str]:
    """The sample with labs.csv split into labs/part-0.csv (its first 100 rows) and the text
    of the part the job writes later (the other rows, under the same header)."""
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    lines = (folder / "labs.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (folder / "labs.csv").unlink()
    (folder / "labs").mkdir()
    (folder / "labs" / "part-0.csv").write_text("".join(lines[:101]), encoding="utf-8")
    return folder, "".join([lines[0], *lines[101:]])


def test_a_part_written_after_the_read_stops_the_night(tmp_path: Path) -> None:
    folder, late_part = _parts(tmp_path)

    def write_late_part() -> None:
        (folder / "labs" / "part-1.csv").write_text(late_part, encoding="utf-8")

    with pytest.raises(InputError, match=r"part-1\.csv appeared in .*labs after the folder"):
        screen_after_read(folder, write_late_part)
    assert not (tmp_path / "out" / "2026-11-20" / "review_list.csv").exists()


def test_bookkeeping_written_after_the_read_is_no_part(tmp_path: Path) -> None:
    folder, _ = _parts(tmp_path)
    summary = screen_after_read(folder, lambda: (folder / "labs" / "_SUCCESS").write_text(""))
    assert summary.manifest["inputs"]["labs"][0]["path"].endswith("part-0.csv")


def test_a_folder_of_parts_left_alone_is_published(tmp_path: Path) -> None:
    folder, late_part = _parts(tmp_path)
    (folder / "labs" / "part-1.csv").write_text(late_part, encoding="utf-8")
    summary = screen_after_read(folder)
    assert summary.manifest["listed"] == 35  # the sample's list, from its two parts
