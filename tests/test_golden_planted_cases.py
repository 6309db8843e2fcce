"""Planted cases of the sample against their hand-computed rows (golden_planted_rows.py, with the
arithmetic in comments): every review-list field, the evidence, the quarantine and a duplicate."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from golden_planted_rows import NOT_LISTED, PLANTED_ROWS, QUARANTINED
from test_golden_sample import SAMPLE, screen_sample_once


def _read(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text("utf-8"))))


@pytest.fixture(scope="module")
def sample_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return screen_sample_once(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="module")
def review(sample_out: Path) -> dict[str, dict[str, str]]:
    return {row["patient_id"]: row for row in _read(sample_out / "review_list.csv")}


@pytest.mark.parametrize("patient", sorted(PLANTED_ROWS))
def test_planted_case_row_matches_the_hand_computed_row(
    review: dict[str, dict[str, str]], patient: str
) -> None:
    """Every column of the planted case's review-list row, `run_id` aside, as computed by hand."""
    actual = review[patient]
    expected = PLANTED_ROWS[patient]
    checked = set(actual) - {"run_id"}
    assert checked == set(expected), f"columns not checked by hand: {checked ^ set(expected)}"
    differing = {c: (expected[c], actual[c]) for c in sorted(checked) if actual[c] != expected[c]}
    assert differing == {}, f"{patient}: column -> (hand, run) {differing}"


def test_every_row_carries_one_run_id(review: dict[str, dict[str, str]]) -> None:
    run_ids = {row["run_id"] for row in review.values()}
    assert len(run_ids) == 1
    assert len(run_id := run_ids.pop()) == 16 and int(run_id, 16) >= 0


def test_cases_that_must_not_be_listed_are_absent(review: dict[str, dict[str, str]]) -> None:
    assert sorted(set(NOT_LISTED) & set(review)) == []
    assert len(review) == 35  # 38 cases, 3 without a risk factor, severity or over-correction


def test_evidence_file_holds_the_planted_pieces(sample_out: Path) -> None:
    """evidence.csv: one row per risk factor and piece; time is the evidence's own time."""
    evidence = {(r["patient_id"], r["risk_factor"]): r for r in _read(sample_out / "evidence.csv")}
    hand = {  # (patient, risk factor) -> source, time, text
        ("P004", "ssri"): ("medication", "2026-10-01 09:00:00", None),
        ("P011", "heart_failure"): ("diagnosis", "2024-02-01 10:00:00", None),
        ("P011", "potassium_sparing_diuretic"): ("medication", "2026-05-12 09:00:00", None),
        ("P034", "hypocalcemia"): ("lab", "2026-11-20 10:00:00", None),
        ("P034", "hypomagnesemia"): ("lab", "2026-11-20 10:00:00", None),
        ("P036", "hypocalcemia"): ("lab", "2026-11-20 10:00:00", None),
        ("P032", "cramp_documented"): ("diagnosis", "2026-11-10 10:00:00", None),
        # after the index but before window_end: counts (sample_data/README.md decisions)
        ("P044", "cramp_documented"): (
            "diagnosis", "2026-11-20 16:00:00", "R25.2 (ICD-10-CM) recorded 2026-11-20T16:00:00"
        ),
        # 11 h after the 09:00 index, inside +/-24 h: 3.4 < 3.5
        ("P035", "hypokalemia"): (
            "lab", "2026-11-20 20:00:00",
            "potassium 3.4 mmol/L at 2026-11-20T20:00:00 (< 3.5 mmol/L)",
        ),
    }  # fmt: skip
    for (patient, factor), (source, time, text) in hand.items():
        row = evidence[(patient, factor)]
        assert (row["source"], row["time"]) == (source, time), (patient, factor)
        if text is None:  # the review list's evidence is "<factor>: <text>" per piece
            assert f"{factor}: {row['text']}" in PLANTED_ROWS[patient]["evidence"].split(" | ")
        else:
            assert row["text"] == text
    # only risk factors of listed cases; no over-correction text (that is the review list's)
    assert {patient for patient, _ in evidence} <= set(_read_patients(sample_out))
    assert ("P013", "hypocalcemia") not in evidence  # ionized 1.20 >= 1.12 decides
    assert ("P035", "hypocalcemia") not in evidence  # 8.0 + 0.8 x (4.0 - 3.0) = 8.8 >= 8.5
    assert ("P036", "hypokalemia") not in evidence  # potassium 26 h before the index
    assert ("P033", "cramp_documented") not in evidence  # 40 d before and after window_end


def _read_patients(sample_out: Path) -> list[str]:
    return [row["patient_id"] for row in _read(sample_out / "review_list.csv")]


def test_quarantine_lists_each_bad_row_with_its_reason(sample_out: Path) -> None:
    rows = _read(sample_out / "quarantine.csv")
    found = [
        (r["table"], r["source_file"], r["source_row"], r["reason"], r["patient_id"]) for r in rows
    ]
    assert found == QUARANTINED
    lines = (SAMPLE / "labs.csv").read_text("utf-8").splitlines()
    by_line = {r["source_row"]: json.loads(r["original"]) for r in rows if r["table"] == "labs"}
    for number, original in by_line.items():
        line = next(csv.reader([lines[int(number) - 1]]))  # the quarantined line of labs.csv
        assert original.get("value_raw", "") == line[7] and original.get("unit", "") == line[8]
    assert by_line["46"]["unit"] == "mg/dL" and by_line["46"]["value_raw"] == "115"
    assert by_line["48"]["value_raw"] == "1350"


def test_a_duplicate_row_is_counted_once(
    sample_out: Path, review: dict[str, dict[str, str]]
) -> None:
    """P018's two identical rows: one used, one `duplicate` in the manifest, none quarantined."""
    manifest = json.loads((sample_out / "run_manifest.json").read_text("utf-8"))
    assert manifest["reconciliation"]["labs"]["duplicate"] == 1
    quarantined = {r["patient_id"] for r in _read(sample_out / "quarantine.csv")}
    assert "P018" not in quarantined
    assert review["P018"]["n_low_results"] == "1"
