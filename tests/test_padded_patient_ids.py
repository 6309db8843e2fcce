"""Patient ids that a database export padded (CHAR columns: trailing NUL bytes) or that carry
a zero-width character: the labs, medications and diagnoses of one patient still meet, so the
night screens as the sample does (its list, quarantine rows and reconciliation)."""

from __future__ import annotations

import shutil
from pathlib import Path

from sample_delivery import SAMPLE, assert_screens_as_the_sample, rewrite_patient_ids


def test_padded_and_zero_width_ids_screen_as_the_plain_ids(tmp_path: Path) -> None:
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    rewrite_patient_ids(folder, "labs", lambda ids: ids + "\x00\x00")  # CHAR(6) of 'P004'
    rewrite_patient_ids(folder, "medications", lambda ids: "\u200b" + ids)
    assert "\x00" in (folder / "labs.csv").read_text(encoding="utf-8")
    assert_screens_as_the_sample(folder, tmp_path)
