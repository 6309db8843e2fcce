"""Property: windows cut from one shared read screen as they would alone (the contract of
recipe_read, recipe_clean and recipe_screen: glucose pairs and spec §8 delta flags decided
once over the read and cut per window).

Hypothesis builds small canonical extracts whose labs cluster on the edges of 2-4
consecutive nights: each window's start and end and each read range's start (the 73 h of
context and pairing), at 0, ±1 s, ±30/60/61 min and ±24 h of them; sodium and glucose of the
same specimen or only near in time, same-time ties, exact duplicates, dips of 10+ mmol/L
whose neighbours lie across an edge. A backfill over the nights (one shared read, the CLI's
in-process loop) must write, for every night, the review_list.csv, evidence.csv,
quarantine.csv and coverage.csv of that night's lone run, byte for byte. Real runs: real
files, GX and DuckDB, no mocks.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from helpers import RULES
from hyposcreen import recipe
from hyposcreen.clean import read_window_start
from hyposcreen.cli import main
from hyposcreen.config import Window
from hyposcreen.recipe_quarantine import quarantined_rows
from hyposcreen.recipe_read import read_once
from shared_read_runs import OUTPUTS, night_args, site_mapping, window_contexts, write_rows

# the first night: an ordinary one, or 2 days before Berlin's clocks go back / forward
FIRST_NIGHTS = ["2026-11-16", "2026-10-23", "2026-03-27"]
ONE_DAY = pd.Timedelta(days=1)
LAB_HEADER = [
    "patient_id", "specimen_id", "specimen_time", "result_time", "loinc", "lab_name",
    "value_raw", "unit", "status", "specimen_type",
]  # fmt: skip
ANALYTES = {
    "sodium": ("2951-2", "Sodium", "mmol/L"),
    "glucose": ("2345-7", "Glucose", "mg/dL"),
}
# offsets from an edge: on it, a second either side, the pairing span (±60 min inclusive,
# 61 min outside), the delta check's 24 h neighbour span
OFFSETS = [
    pd.Timedelta(minutes=m)
    for m in (-24 * 60, -24 * 60 + 1, -61, -60, -30, 0, 30, 60, 61, 24 * 60 - 1, 24 * 60)
] + [pd.Timedelta(seconds=-1), pd.Timedelta(seconds=1)]
VALUES = {"sodium": ["118", "124", "125", "129", "135", "139", "140"], "glucose": ["90", "400"]}

# the screen of each window, shared and lone (read, clean, screen in memory: ~0.1 s a window)
SCREENS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# whole runs, 2n windows through the pipeline (GX, writers: ~1.5 s a window): few examples
RUNS = settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _nights(first: str, count: int) -> list[str]:
    return [(pd.Timestamp(first) + n * ONE_DAY).date().isoformat() for n in range(count)]


def _edges(nights: list[str], timezone: str) -> list[pd.Timestamp]:
    """Every night's window start and end and its read range's start."""
    edges = []
    for night in nights:
        start = pd.Timestamp(night).as_unit("us")
        window = Window(start, start + ONE_DAY)
        edges += [start, start + ONE_DAY, read_window_start(window, RULES, False, timezone)]
    return edges


@st.composite
def extracts(draw: st.DrawFn, most_nights: int = 4) -> tuple[list[str], str, list[list[str]]]:
    nights = _nights(draw(st.sampled_from(FIRST_NIGHTS)), draw(st.integers(2, most_nights)))
    timezone = draw(st.sampled_from(["UTC", "Europe/Berlin"]))
    edges = _edges(nights, timezone)
    row = st.tuples(
        st.sampled_from(["A", "B", "C"]),
        st.sampled_from(["sodium", "sodium", "glucose"]),
        st.sampled_from(range(len(edges))),
        st.sampled_from(OFFSETS),
        st.sampled_from(["S1", "S2", "S3", ""]),
        st.integers(0, 6),
    )
    drawn = draw(st.lists(row, min_size=4, max_size=24))
    rows = []
    for patient, analyte, edge, offset, specimen, pick in drawn:
        loinc, name, unit = ANALYTES[analyte]
        values = VALUES[analyte]
        time = (edges[edge] + offset).strftime("%Y-%m-%dT%H:%M:%S")
        # same specimen id, same patient: a specimen per patient
        specimen_id = f"{patient}{specimen}" if specimen else ""
        value = values[pick % len(values)]
        rows.append([patient, specimen_id, time, "", loinc, name, value, unit, "final", "Serum"])
    copies = draw(st.lists(st.sampled_from(range(len(rows))), max_size=3))
    rows += [list(rows[i]) for i in copies]  # exact duplicates (spec §3)
    return nights, timezone, rows


def _lab(patient: str, analyte: str, at: pd.Timestamp, value: str, specimen: str = "") -> list[str]:
    loinc, name, unit = ANALYTES[analyte]
    when = at.strftime("%Y-%m-%dT%H:%M:%S")
    return [patient, specimen, when, "", loinc, name, value, unit, "final", "Serum"]


def _hand_cases() -> tuple[list[str], str, list[list[str]]]:
    """Edges the design must hold on, two UTC nights; `edge` is night 1's read range start
    (73 h before its window), inside night 0's read range and the shared read:
    T: a sodium on the edge, glucose 30 min either side (the earlier, 400, not read by night 1,
    wins the tie of distance where it was read); U: the same with equal values;
    V: a same-specimen glucose 2 h before the edge (preferred where it was read), another
    20 min after the edge;
    E: a sodium 10 min before night 0's end, its own specimen's glucose at that end exactly
    (night 1's, not night 0's), another glucose 59 min before the end;
    D: 140 an hour before the edge, 129 an hour after it, 140 three hours after: a dip in
    night 0, none in night 1 (its earlier neighbour never read there);
    C: 140, then 129 paired with a 400 mg/dL glucose 30 min earlier (before the edge: +4.8
    in night 0, none in night 1, where it becomes a dip), then 140;
    Q: a dip 24 h exactly from both neighbours, the earlier one on the edge (a dip in both)."""
    nights = _nights(FIRST_NIGHTS[0], 2)
    start, end, edge = _edges(nights, "UTC")[3:]
    night0_end = start
    minute, hour = pd.Timedelta(minutes=1), pd.Timedelta(hours=1)
    rows = [
        _lab("T", "sodium", edge, "129", "T1"),
        _lab("T", "glucose", edge - 30 * minute, "400"),
        _lab("T", "glucose", edge + 30 * minute, "90"),
        _lab("U", "sodium", edge, "129"),
        _lab("U", "glucose", edge - 30 * minute, "400"),
        _lab("U", "glucose", edge + 30 * minute, "400"),
        _lab("V", "sodium", edge + 10 * minute, "129", "V1"),
        _lab("V", "glucose", edge - 2 * hour, "400", "V1"),
        _lab("V", "glucose", edge + 20 * minute, "90"),
        _lab("E", "sodium", night0_end - 10 * minute, "129", "E1"),
        _lab("E", "glucose", night0_end, "400", "E1"),
        _lab("E", "glucose", night0_end - 59 * minute, "90"),
        _lab("D", "sodium", edge - hour, "140"),
        _lab("D", "sodium", edge + hour, "129"),
        _lab("D", "sodium", edge + 3 * hour, "140"),
        _lab("C", "sodium", edge + 5 * minute, "140"),
        _lab("C", "sodium", edge + 10 * minute, "129", "C1"),
        _lab("C", "glucose", edge - 20 * minute, "400", "C1"),
        _lab("C", "sodium", edge + 3 * hour, "140"),
        _lab("Q", "sodium", edge, "140"),
        _lab("Q", "sodium", edge + 24 * hour, "125"),
        _lab("Q", "sodium", edge + 48 * hour, "140"),
        _lab("Q", "sodium", edge + 48 * hour, "140"),  # an exact duplicate
    ]
    assert end > edge
    return nights, "UTC", rows


def _extract(folder: Path, rows: list[list[str]]) -> Path:
    folder.mkdir(parents=True)
    write_rows(folder / "labs.csv", LAB_HEADER, rows)
    write_rows(
        folder / "medications.csv",
        ["patient_id", "drug_name", "start_time", "end_time", "status"],
        [["A", "Furosemide 40mg tab", "2026-01-01T08:00:00", "", "active"]],
    )
    write_rows(
        folder / "diagnoses.csv",
        ["patient_id", "code", "code_system", "recorded_time", "status"],
        [["B", "N18.3", "ICD-10-CM", "2025-06-15T10:00:00", "active"]],
    )
    return folder


def _run(root: Path, extract: Path, mapping: Path, *args: str) -> int:
    where = ["--input", str(extract), "--out", str(root / "out"), "--mapping", str(mapping)]
    return main(["run", "--no-flow", *where, *args])


def assert_backfill_is_lone_nights(folder: Path, labels: list[str], timezone: str) -> None:
    """The backfill's outputs of every night are those of the night's lone run."""
    extract, mapping = folder / "in", site_mapping(folder / "site", timezone)
    lone, shared = folder / "lone", folder / "shared"
    for label in labels:
        assert _run(lone, extract, mapping, *night_args(label)) in (0, 4)
    assert _run(shared, extract, mapping, "--backfill", labels[0], labels[-1]) in (0, 4)
    for label in labels:
        for name in OUTPUTS:
            expected = (lone / "out" / label / name).read_text(encoding="utf-8")
            got = (shared / "out" / label / name).read_text(encoding="utf-8")
            assert got == expected, (label, name)


@RUNS
@given(extracts(most_nights=2))
def test_a_backfill_of_random_edge_labs_writes_each_lone_nights_files(
    extract: tuple[list[str], str, list[list[str]]],
) -> None:
    nights, timezone, rows = extract
    folder = Path(tempfile.mkdtemp(prefix="hyposcreen-property-"))
    try:
        _extract(folder / "in", rows)
        assert_backfill_is_lone_nights(folder, nights, timezone)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@SCREENS
@given(extracts(most_nights=3))
@example(_hand_cases())
def test_each_window_of_a_shared_read_screens_as_its_lone_read(
    extract: tuple[list[str], str, list[list[str]]],
) -> None:
    """Per night: the cleaned labs, the quarantine rows, the sodium results (glucose pairs,
    corrected values, delta flags) and the cases of the window cut from one read of all the
    nights are those of the night read alone."""
    labels, timezone, rows = extract
    folder = Path(tempfile.mkdtemp(prefix="hyposcreen-property-"))
    try:
        extract_dir = _extract(folder / "in", rows)
        ctx, *lone_nights = window_contexts(
            extract_dir, site_mapping(folder, timezone), labels, None
        )
        shared = read_once(ctx, [n.settings.window for n in lone_nights])
        for label, lone in zip(labels, lone_nights):
            expected_clean = recipe.clean(lone, recipe.read(lone))
            expected = recipe.screen(lone, expected_clean)
            night = replace(lone, shared_read=shared, timings={})
            cleaned = recipe.clean(night, recipe.read(night))
            got = recipe.screen(night, cleaned)
            pd.testing.assert_frame_equal(cleaned.labs, expected_clean.labs, obj=label)
            pd.testing.assert_frame_equal(
                quarantined_rows(night, cleaned), quarantined_rows(lone, expected_clean), obj=label
            )
            for name in ("sodium_results", "cases"):
                pd.testing.assert_frame_equal(
                    getattr(got, name), getattr(expected, name), obj=f"{label} {name}"
                )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_the_hand_cases_pair_and_flag_per_window_as_computed_by_hand() -> None:
    """`_hand_cases` screened from one read (the @example above asserts each night equals its
    lone screen): night 0 / night 1 glucose of T 400 / 90 (tie of distance: the earlier where
    read), U 400 / 400, V 400 (same specimen) / 90, E 90 / 400 (the glucose at night 0's end
    is night 1's); dips flagged: D in night 0 only, C in night 1 only (paired again there,
    corrected 129 between two 140s), Q in both (24 h exactly). Both windows use the pairs and
    flags decided once, pairing some again."""
    from hyposcreen.recipe_screen import window_used_labs

    labels, timezone, rows = _hand_cases()
    folder = Path(tempfile.mkdtemp(prefix="hyposcreen-hand-"))
    try:
        extract_dir = _extract(folder / "in", rows)
        ctx, *lone_nights = window_contexts(
            extract_dir, site_mapping(folder, timezone), labels, None
        )
        shared = read_once(ctx, [n.settings.window for n in lone_nights])
        glucose, flagged, again = [], [], []
        for lone in lone_nights:
            night = replace(lone, shared_read=shared, timings={})
            cleaned = recipe.clean(night, recipe.read(night))
            used = (cleaned.labs["bucket"] == "used").to_numpy()
            cut = window_used_labs(night, cleaned.labs, used)
            assert cut is not None
            again.append(len(cut[2].changed if cut[2].changed is not None else []))
            results = recipe.screen(night, cleaned).sodium_results
            first = results.drop_duplicates("patient_id").set_index("patient_id")
            glucose.append(first["glucose_mg_dl"].fillna(0).to_dict())
            flagged.append(set(results.loc[results["possibly_spurious"], "patient_id"]))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert [{p: g[p] for p in "TUVE"} for g in glucose] == [
        {"T": 400.0, "U": 400.0, "V": 400.0, "E": 90.0},
        {"T": 90.0, "U": 400.0, "V": 90.0, "E": 400.0},
    ]
    assert flagged == [{"D", "Q"}, {"C", "Q"}]
    assert again[0] >= 1 and again[1] >= 1
