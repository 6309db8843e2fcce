"""Windows cut from one read count their labs from codes found once over the read's cleaned
labs (recipe_lab_counts): the coverage parts and the delivery counts are those of counting
each window's own cleaned labs, on an extract where every kind counted has something to count
(units the rules do not know, status words, specimen texts, ids written with leading zeros,
in scientific notation or with spaces, date-only times). Real files, real DuckDB.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen import recipe_publish
from hyposcreen.delivery_counts import count_delivery
from hyposcreen.recipe_clean import window_events, window_labs_cut
from hyposcreen.recipe_lab_counts import window_delivery_counts, window_lab_counts
from hyposcreen.recipe_read import read_once, window_tables
from hyposcreen.report.coverage import combine, lab_counts
from hyposcreen.site_words import SiteWords
from shared_read_runs import (
    LAB_COLUMNS,
    SAMPLE,
    lone_nights,
    run_cli,
    site_mapping,
    window_contexts,
    write_rows,
)

NIGHTS = ["2026-11-18", "2026-11-19", "2026-11-20"]


def _lab(patient: str, time: str, value: str, **extra: str) -> list[str]:
    row = {"loinc": "2951-2", "unit": "mmol/L", "status": "final", "specimen_type": "Serum"}
    row.update(extra)
    name = "Glucose" if row["loinc"] == "2345-7" else "Sodium"
    return [
        patient, time, "", row["loinc"], name, value, row["unit"], row["status"],
        row["specimen_type"],
    ]  # fmt: skip


def _extract(folder: Path) -> Path:
    """Each night: a unit the rules do not know (and none), site status words of no meaning,
    a specimen text with no specimen word, a date-only time, and patients whose ids the
    medications write with leading zeros, as a number with .0, in scientific notation or
    with spaces around; some rows on one night only, so that the windows' counts differ."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for number, night in enumerate(NIGHTS):
        at = f"{night}T{8 + number:02d}:00:00"
        rows += [
            _lab("123", at, "128"),
            _lab("77", at, "131", unit="%"),
            _lab("77", at, "132", unit=""),
            _lab(" 45 ", at, "130", status="vorlaeufig"),
            _lab("1.23457E+11", at, "133", status="Zwischenbefund"),
            _lab("P9", at, "127", specimen_type="Kapillarblut"),
            _lab("P9", night, "126"),  # a date alone: read as midnight
            _lab(f"N{number}", at, "129", status=f"teil{number}", specimen_type=f"Probe {number}"),
            _lab(f"G{number}", at, "250", loinc="2345-7", unit="g/L"),
        ]
    write_rows(folder / "labs.csv", LAB_COLUMNS, rows)
    write_rows(
        folder / "medications.csv",
        ["patient_id", "drug_name", "start_time", "end_time", "status"],
        [
            ["000123", "Furosemide 40mg tab", "2026-01-01T08:00:00", "", "active"],
            ["77.0", "Hydrochlorothiazide 25 mg", "2026-01-01T08:00:00", "", "active"],
            ["45", "Sertraline 50 mg", "2026-01-01T08:00:00", "", "active"],
            ["1.23457E+11", "Sertraline 50 mg", "2026-01-01T08:00:00", "", "active"],
        ],
    )
    write_rows(
        folder / "diagnoses.csv",
        ["patient_id", "code", "code_system", "recorded_time", "status"],
        [["0077", "N18.3", "ICD-10-CM", "2025-06-15T10:00:00", "active"]],
    )
    return folder


def test_window_lab_counts_from_the_reads_codes_are_each_windows_own_counts(
    tmp_path: Path,
) -> None:
    """Every night cut from one read: its coverage parts (combined) and delivery counts (as
    JSON carries them) are those of its own cleaned labs, and they were counted from the
    read's codes, found once (the same codes object every night)."""
    extract = _extract(tmp_path / "in")
    ctx, *nights = window_contexts(extract, site_mapping(tmp_path, "UTC"), NIGHTS, None)
    shared = read_once(ctx, [n.settings.window for n in nights])
    codes = []
    for night in nights:
        cut_night = replace(night, shared_read=shared)
        words = cut_night.words or SiteWords(frozenset(), ())
        read = window_tables(shared, cut_night)
        labs, keep = window_labs_cut(cut_night, read, words)
        assert keep is not None
        events = window_events(cut_night, read, words)
        meds, diagnoses = events.medications, events.diagnoses
        got = combine(window_lab_counts(cut_night, labs, keep, words))
        expected = combine(lab_counts(labs, words))
        pd.testing.assert_frame_equal(got, expected, check_exact=True)
        assert set(expected["kind"]) == {"unit", "status", "specimen_type"}
        counted = window_delivery_counts(cut_night, labs, keep, meds, diagnoses, words)
        own = count_delivery(labs, meds, diagnoses, "canonical")
        assert json.dumps(counted) == json.dumps(own)
        assert own["near_matches"]["medications"][1] > 0
        assert own["scientific_ids"]["labs"][1] == 1
        assert own["date_only_times"]["labs"][1] > 0
        codes.append(shared.decided["lab_codes"])
    assert all(found is codes[0] for found in codes)


def test_a_backfill_counts_what_each_reader_saw_once_for_every_night(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The coverage rows of the values a reader did not recognise are made once per read
    table for the nights cut from one read (each night publishes the same tables as read),
    and each night's coverage.csv is its lone night's."""
    made: list[str] = []
    counts = recipe_publish.reader_counts

    def counted(table: str, seen: Mapping[tuple[str, str], int]) -> pd.DataFrame:
        made.append(table)
        return counts(table, seen)

    monkeypatch.setattr(recipe_publish, "reader_counts", counted)
    assert run_cli(tmp_path / "shared", SAMPLE, "--backfill", NIGHTS[0], NIGHTS[-1]) in (0, 4)
    assert sorted(made) == sorted(set(made)) and "labs" in made
    lone_nights(tmp_path / "lone", SAMPLE, NIGHTS)
    for night in NIGHTS:
        shared = (tmp_path / "shared" / "out" / night / "coverage.csv").read_bytes()
        assert shared == (tmp_path / "lone" / "out" / night / "coverage.csv").read_bytes()
