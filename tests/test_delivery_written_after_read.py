"""A delivery still being written when the night starts: the sender's job appends rows to
labs.csv after hyposcreen has read it (between rows, so the file read ended on a line end and
did not look cut off), while the night cleans, checks and screens. The night was published from
the rows read so far, exit 0 or 4 by other causes, and nothing said the file had grown. Before
the night's outputs are written, every input file's size is compared with its size when read
(the manifest's `bytes`): a file that grew, shrank or went stops the night (InputError, exit 3)
naming it, and the folder keeps its previous outputs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hyposcreen.errors import InputError
from sample_delivery import SAMPLE, screen_after_read

LATE_ROW = "P099,E099,S099-01,2026-11-20T23:00:00,,2951-2,Sodium,112,mmol/L,final,Serum\n"


def _append(path: Path) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(LATE_ROW)


def test_a_file_appended_to_after_its_read_stops_the_night(tmp_path: Path) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    with pytest.raises(InputError, match=r"labs\.csv changed after it was read"):
        screen_after_read(folder, lambda: _append(folder / "labs.csv"))
    assert not (tmp_path / "out" / "2026-11-20" / "review_list.csv").exists()


def test_a_file_removed_after_its_read_stops_the_night(tmp_path: Path) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    with pytest.raises(InputError, match=r"medications\.csv was removed after it was read"):
        screen_after_read(folder, (folder / "medications.csv").unlink)


def test_files_left_alone_are_published(tmp_path: Path) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    summary = screen_after_read(folder)
    assert summary.manifest["listed"] == 35  # the sample's list


def _same_size_correction(path: Path) -> None:
    """The sender's corrected export put in place (written aside, renamed over the file): one
    sodium 128 corrected to 126, the file the same size to the byte."""
    text = path.read_text(encoding="utf-8")
    assert text.count(",128,mmol/L,") >= 1
    corrected = text.replace(",128,mmol/L,", ",126,mmol/L,", 1)
    aside = path.with_name(path.name + ".new")
    aside.write_text(corrected, encoding="utf-8")
    aside.replace(path)


def test_a_file_replaced_by_one_of_the_same_size_after_its_read_stops_the_night(
    tmp_path: Path,
) -> None:
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")
    with pytest.raises(InputError, match=r"labs\.csv changed after it was read"):
        screen_after_read(folder, lambda: _same_size_correction(folder / "labs.csv"))


def test_a_file_touched_or_copied_again_unchanged_is_published(tmp_path: Path) -> None:
    """A sync tool that writes the same bytes again (a new modification time, even a new file
    put in place) changes nothing the night read."""
    folder = shutil.copytree(SAMPLE, tmp_path / "delivery")

    def same_bytes_again() -> None:
        labs = folder / "labs.csv"
        aside = labs.with_name("labs.csv.new")
        aside.write_bytes(labs.read_bytes())
        aside.replace(labs)
        (folder / "diagnoses.csv").touch()

    summary = screen_after_read(folder, same_bytes_again)
    assert summary.manifest["listed"] == 35
