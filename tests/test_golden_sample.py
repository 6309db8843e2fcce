"""Whole-output golden of the committed sample: every byte of review_list, evidence, quarantine.

The sample (sample_data/canonical, window 2026-11-20T00:00 to 2026-11-21T00:00, default rules
and profile) is screened once in process, as `hyposcreen run --no-flow` does, and its three
patient-level outputs must equal tests/data/golden/sample/{review_list,evidence,quarantine}.csv
byte for byte. Every review-list column is pinned, `run_id` included: it is a hash of the input
files, the rules content, profile, window and settings (report.manifest.compute_run_id), so it
changes only when the rules files do, and such a change must be seen here.

A failing comparison prints the first differing rows column by column. After an intended change,
regenerate with

    HYPOSCREEN_REGENERATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden_sample.py -q

then review the diff line by line against the spec and name each change in the commit
(tests/data/golden/README.md). The hand-computed planted cases live in
tests/test_golden_planted_cases.py and do not read these files.
"""

from __future__ import annotations

import csv
import difflib
import io
import os
from pathlib import Path

import pytest
from tests.helpers import run_cli

from hyposcreen.config import RunSettings, parse_window
from hyposcreen.runners.in_process import run_pipeline

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "canonical"
GOLDEN = ROOT / "tests" / "data" / "golden" / "sample"
HAND_WRITTEN = GOLDEN / "expected_review_list.csv"  # 13 key columns, computed by hand
WINDOW = ("2026-11-20T00:00:00", "2026-11-21T00:00:00")
PINNED_FILES = ("review_list.csv", "evidence.csv", "quarantine.csv")
REGENERATE = os.environ.get("HYPOSCREEN_REGENERATE_GOLDEN") == "1"
MAX_REPORTED_ROWS = 5


def screen_sample_once(base: Path) -> Path:
    """Screen the sample in process into `base/golden-sample` (once per test session)."""
    out = base / "golden-sample"
    if not (out / "review_list.csv").is_file():
        settings = RunSettings(input_dir=SAMPLE, out_dir=out, window=parse_window(*WINDOW))
        run_pipeline(settings)
    return out


@pytest.fixture(scope="module")
def sample_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return screen_sample_once(tmp_path_factory.getbasetemp())


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def _cell_differences(
    header: list[str], got_header: list[str], want: list[str], got: list[str]
) -> list[tuple[str, str, str]]:
    """(column, expected, actual) of each cell of one row that differs."""
    cells = dict(zip(got_header, got))
    return [
        (column, value, cells.get(column, "<no column>"))
        for column, value in zip(header, want)
        if cells.get(column, "<no column>") != value
    ]


def describe_difference(expected: bytes, actual: bytes, name: str) -> str:
    """A readable account of how two CSVs differ: header, row count, first differing cells.

    Rows are aligned with difflib, so one missing row reads as one missing row rather than as
    every later row changed."""
    want, got = _rows(expected), _rows(actual)
    if not want or not got:
        return f"{name}: expected {len(want)} lines, got {len(got)}"
    header, got_header = want[0], got[0]
    lines = [f"{name} differs from the golden file ({len(want) - 1} rows expected, "
             f"{len(got) - 1} written):"]  # fmt: skip
    if got_header != header:
        missing = [c for c in header if c not in got_header]
        extra = [c for c in got_header if c not in header]
        lines.append(f"  header: missing {missing}, extra {extra}; written order {got_header}")
    matcher = difflib.SequenceMatcher(
        a=[tuple(r) for r in want[1:]], b=[tuple(r) for r in got[1:]], autojunk=False
    )
    notes: list[str] = []
    changed_columns: set[str] = set()
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            continue
        paired = min(a1 - a0, b1 - b0) if tag == "replace" else 0
        for offset in range(paired):
            expected_row, actual_row = want[1 + a0 + offset], got[1 + b0 + offset]
            diffs = _cell_differences(header, got_header, expected_row, actual_row)
            changed_columns |= {column for column, _, _ in diffs}
            where = ", ".join(f"{k}={v}" for k, v in zip(header[:3], expected_row))
            notes.append(f"  data row {a0 + offset + 1} ({where}):")
            notes += [f"    {column}: expected {e!r}, got {a!r}" for column, e, a in diffs]
        for row in want[1 + a0 + paired : 1 + a1]:
            notes.append(f"  missing row: {','.join(row[:6])}...")
        for row in got[1 + b0 + paired : 1 + b1]:
            notes.append(f"  unexpected row: {','.join(row[:6])}...")
    row_starts = [i for i, note in enumerate(notes) if not note.startswith("    ")]
    if len(row_starts) > MAX_REPORTED_ROWS:
        more = len(row_starts) - MAX_REPORTED_ROWS
        notes = [*notes[: row_starts[MAX_REPORTED_ROWS]], f"  ... {more} more differing rows"]
    lines += notes
    if not row_starts and got_header == header:
        lines.append("  same cells, different bytes (quoting, line endings or encoding)")
    if changed_columns == {"run_id"} and len(want) == len(got):
        lines.append("  only run_id differs: the rules content or run settings changed")
    lines.append(
        "  intended? HYPOSCREEN_REGENERATE_GOLDEN=1 .venv/bin/python -m pytest "
        "tests/test_golden_sample.py, review the diff line by line, name each change"
    )
    return "\n".join(lines)


def assert_same_as_golden(actual_path: Path, name: str) -> None:
    golden = GOLDEN / name
    actual = actual_path.read_bytes()
    if REGENERATE:
        golden.write_bytes(actual)
        pytest.skip(f"regenerated {golden.relative_to(ROOT)}: review `git diff` line by line")
    expected = golden.read_bytes()
    if actual != expected:
        pytest.fail(describe_difference(expected, actual, name), pytrace=False)


@pytest.mark.parametrize("name", PINNED_FILES)
def test_sample_output_is_byte_identical_to_the_golden_file(sample_out: Path, name: str) -> None:
    """Every row and every column of the sample's patient-level outputs is pinned."""
    assert_same_as_golden(sample_out / name, name)


def test_golden_review_list_agrees_with_the_hand_written_key_columns() -> None:
    """A regenerated golden cannot drift from the 13 columns computed by hand from the spec."""
    golden = list(csv.DictReader(io.StringIO((GOLDEN / "review_list.csv").read_text("utf-8"))))
    hand = list(csv.DictReader(io.StringIO(HAND_WRITTEN.read_text("utf-8"))))
    assert len(golden) == len(hand) == 35
    for golden_row, hand_row in zip(golden, hand):
        differing = {
            column: (value, golden_row.get(column))
            for column, value in hand_row.items()
            if golden_row.get(column) != value
        }
        assert differing == {}, f"rank {hand_row['rank']}: (hand, golden) {differing}"


def test_golden_files_cover_every_column_the_run_writes(sample_out: Path) -> None:
    """The goldens carry the run's full header: a new output column must be pinned too."""
    for name in PINNED_FILES:
        written = (sample_out / name).read_text("utf-8").splitlines()[0]
        assert (GOLDEN / name).read_text("utf-8").splitlines()[0] == written, name


def test_cli_no_flow_run_writes_the_golden_bytes(tmp_path: Path) -> None:
    """`hyposcreen run --no-flow` (dated output folder) writes the same three files."""
    out = tmp_path / "cli"
    done = run_cli(
        "run", "--no-flow", "--input", str(SAMPLE),
        "--window-start", WINDOW[0], "--window-end", WINDOW[1], "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    for name in PINNED_FILES:
        assert_same_as_golden(out / "2026-11-20" / name, name)


def test_a_changed_cell_is_reported_with_its_row_and_column() -> None:
    """The failure message names the row key, the column and both values."""
    golden = (GOLDEN / "review_list.csv").read_bytes()
    rows = _rows(golden)
    rows[3][rows[0].index("trend")] = "falling"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    message = describe_difference(golden, buffer.getvalue().encode("utf-8"), "review_list.csv")
    assert "data row 3 (rank=3, tier=1, patient_id=P006)" in message
    assert "trend: expected '', got 'falling'" in message
