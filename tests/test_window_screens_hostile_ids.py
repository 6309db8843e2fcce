"""A loop's windows screened in one pass prefix each window's patient ids with the
window's number; patient ids that already look prefixed, numeric-looking ids (with leading
zeros), long, Unicode (NFC and NFD of one letter, right-to-left), NUL, newline, blank, inner
spaces and formula-like ids must give each night its lone screen, frame for frame (so no
prefix is left on an id the outputs are made from).
"""

from __future__ import annotations

import csv
import unicodedata
from pathlib import Path

import pandas as pd
import pytest

from shared_read_runs import SAMPLE, site_mapping
from test_window_screens import _each_night_as_alone

NIGHTS = ["2026-11-18", "2026-11-19", "2026-11-20"]
TRICKY = [
    "0:P001", "1:P002", "00:", "1", "01", "001", "10", "-1", "1e3", " 7", "x" * 300,
    unicodedata.normalize("NFC", "Ä"), unicodedata.normalize("NFD", "Ä"), "日本:9", "=1+1",
    "+P", "@P", "P\u00a0X", "p 7", "P:", ":", "0", "9:9", "P\x00Q", "P\nQ", "\u202eRTL",
    "   ", "\t",
]  # fmt: skip


def _renamed_sample(folder: Path, names: dict[str, str]) -> Path:
    """The sample extract with its patient ids renamed (every file, every row)."""
    folder.mkdir(parents=True)
    for source in SAMPLE.glob("*.csv"):
        with source.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        column = rows[0].index("patient_id")
        for row in rows[1:]:
            if row:
                row[column] = names.get(row[column], row[column])
        with (folder / source.name).open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle, lineterminator="\n").writerows(rows)
    return folder


def _ids() -> list[str]:
    with (SAMPLE / "patients.csv").open(encoding="utf-8", newline="") as handle:
        return [row["patient_id"] for row in csv.DictReader(handle)]


@pytest.mark.parametrize("shift", [0, 7])
def test_tricky_patient_ids_screened_in_one_pass_are_each_nights_lone_screen(
    tmp_path: Path, shift: int
) -> None:
    """Each tricky id given to a sample patient (two assignments): every night with cases
    is taken from the pass and equals its lone screen in every frame."""
    ids = _ids()
    names = {old: TRICKY[(n + shift) % len(TRICKY)] for n, old in enumerate(ids[: len(TRICKY)])}
    extract = _renamed_sample(tmp_path / "in", names)
    taken = _each_night_as_alone(extract, site_mapping(tmp_path, "UTC"), NIGHTS)
    assert taken == NIGHTS


def _repeated_sample(folder: Path, copies: int) -> Path:
    """The sample extract with its labs repeated `copies` times, each copy a day earlier than
    the one before (the same patients, so their results run across many windows)."""
    folder.mkdir(parents=True)
    for source in SAMPLE.glob("*.csv"):
        with source.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        if source.name == "labs.csv":
            header, body = rows[0], [r for r in rows[1:] if r]
            times = [header.index("specimen_time"), header.index("result_time")]
            rows = [header]
            for copy in range(copies):
                for row in body:
                    shifted = list(row)
                    for at in times:
                        try:  # a deliberately bad time stays as it is
                            moved = pd.Timestamp(shifted[at]) - pd.Timedelta(days=copy)
                        except ValueError:
                            continue
                        if not pd.isna(moved):
                            shifted[at] = moved.isoformat()
                    rows.append(shifted)
        with (folder / source.name).open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle, lineterminator="\n").writerows(rows)
    return folder


@pytest.mark.parametrize("timezone", ["UTC", "Europe/Berlin"])
def test_twelve_windows_with_cases_in_one_pass_are_each_nights_lone_screen(
    tmp_path: Path, timezone: str
) -> None:
    """Twelve nights (two-digit window prefixes), every one with cases of the same patients:
    each night's cut of the pass is its lone screen."""
    extract = _repeated_sample(tmp_path / "in", 13)
    nights = [d.date().isoformat() for d in pd.date_range("2026-11-09", "2026-11-20")]
    taken = _each_night_as_alone(extract, site_mapping(tmp_path, timezone), nights)
    assert len(taken) >= 10
