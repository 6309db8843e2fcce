"""Never silently wrong: a run that completes but should not be trusted exits 4 and says why.

Each test runs the real CLI (without Prefect unless named) on a small extract in tmp_path and
asserts the exit status, the stderr line, the manifest's `warnings` and the page's top block.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from bad_input_rows import (
    LAB_COLUMNS,
    MED_COLUMNS,
    glucose,
    lab,
    med,
    to_csv,
    write,
)
from cli_night import DAY, codes, extract, manifest, run
from hyposcreen.cli import main
from hyposcreen.errors import EXIT_SCREENED_WITH_WARNINGS

# coverage.csv's own columns (then profile and rules_version, spec §5)
COVERAGE_COLUMNS = ["table", "kind", "value", "count"]


def test_a_clean_small_night_exits_0_with_no_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, err = run(capsys, extract(tmp_path / "in"), tmp_path / "out")
    assert status == 0, err
    assert "warning" not in err
    assert manifest(tmp_path / "out")["warnings"] == []
    assert 'id="run-warnings"' not in (tmp_path / "out" / DAY / "review_list.html").read_text()


def test_no_usable_sodium_exits_4_on_stderr_manifest_and_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    input_dir = extract(tmp_path / "in", labs=[glucose(), lab(unit="mg/dL")])
    status, err = run(capsys, input_dir, tmp_path / "out")
    assert status == EXIT_SCREENED_WITH_WARNINGS == 4
    assert "hyposcreen: warning: no usable serum sodium result in the window (1 sodium" in err
    assert codes(tmp_path / "out") == ["no_usable_sodium"]
    page = (tmp_path / "out" / DAY / "review_list.html").read_text()
    top = page[page.index("<body>") : page.index("<header>")]
    assert 'id="run-warnings"' in top and "no usable serum sodium result" in top


def test_a_stale_lab_extract_exits_4(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = "2026-11-10T08:00:00"
    input_dir = extract(tmp_path / "in", labs=[lab(time=old), glucose(time=old)])
    status, err = run(capsys, input_dir, tmp_path / "out")
    assert status == 4
    assert "table labs has no row in or near the window: all 2 row(s)" in err
    assert codes(tmp_path / "out") == ["no_usable_sodium", "no_rows_near_window"]


def test_an_empty_medication_table_exits_4(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    input_dir = extract(tmp_path / "in")
    write(input_dir, "medications.csv", ",".join(MED_COLUMNS) + "\n")
    status, err = run(capsys, input_dir, tmp_path / "out")
    assert status == 4
    assert "hyposcreen: warning: table medications has no rows." in err


def test_mostly_unrecognised_lab_names_exit_4_and_are_listed_in_coverage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [{**lab(patient_id=f"P{i}"), "loinc": "", "lab_name": "Natrium i.S."} for i in range(9)]
    rows += [lab(), glucose(), {**lab(), "loinc": "", "lab_name": "Kalium"}]
    input_dir = extract(tmp_path / "in", labs=rows)
    write(input_dir, "labs.csv", to_csv(rows, [*LAB_COLUMNS, "lab_name"]))
    status, err = run(capsys, input_dir, tmp_path / "out")
    assert status == 4
    assert "10 of 12 lab row(s) (83%) have no LOINC and a name or item id the lab dictionary" in err
    coverage_path = tmp_path / "out" / DAY / "coverage.csv"
    assert (coverage_path.stat().st_mode & 0o777) == 0o600
    coverage = pd.read_csv(coverage_path, dtype=str, usecols=COVERAGE_COLUMNS)
    assert coverage.iloc[0].tolist() == ["labs", "lab_name", "Natrium i.S.", "9"]
    assert coverage.iloc[1].tolist() == ["labs", "lab_name", "Kalium", "1"]
    page = (tmp_path / "out" / DAY / "review_list.html").read_text()
    assert page.index('id="coverage"') > page.index("</main>")
    assert "Natrium i.S." in page[page.index('id="coverage"') :]


def test_mostly_unknown_drug_names_exit_4_but_known_non_listed_drugs_do_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    known = [med(name, patient_id=f"K{i}") for i, name in enumerate(["Metformin 500 mg"] * 10)]
    status, err = run(capsys, extract(tmp_path / "a", meds=[med(), *known]), tmp_path / "oa")
    assert status == 0, err
    unknown = [med("Xyzzin 5 mg", patient_id=f"U{i}") for i in range(9)]
    unknown.append(med("=HYPERLINK(1)", patient_id="U9"))
    status, err = run(capsys, extract(tmp_path / "b", meds=[med(), *unknown]), tmp_path / "ob")
    assert status == 4
    assert "10 of 11 medication name(s) (91%) match neither a listed drug" in err
    coverage = pd.read_csv(
        tmp_path / "ob" / DAY / "coverage.csv", dtype=str, usecols=COVERAGE_COLUMNS
    )
    assert ["medications", "drug_name", "Xyzzin 5 mg", "9"] in coverage.values.tolist()
    assert ["medications", "drug_name", "'=HYPERLINK(1)", "1"] in coverage.values.tolist()


def test_one_bad_row_in_a_small_delivery_never_withholds_the_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Default rules: one HEMOLYZED sodium (1 of 2 = 50 %), one exact duplicate, one huge value
    in a 3-row delivery: the contract is breached but the list is written (exit 4)."""
    cases = {
        "hemolyzed": [lab(), glucose(), lab("HEMOLYZED", patient_id="P2")],
        "duplicate": [lab(), lab(), glucose()],
        "huge": [lab(), glucose(), lab("9" * 10 + "x" * 100_000, patient_id="P2")],
    }
    for name, rows in cases.items():
        out = tmp_path / f"out-{name}"
        status, err = run(capsys, extract(tmp_path / name, labs=rows), out)
        assert status == 4, (name, err)
        assert "data contract breached but not stopping the night: labs: share of" in err
        assert "judged on" in err and "fewer than 20" in err
        review = pd.read_csv(out / DAY / "review_list.csv", dtype=str)
        assert list(review["patient_id"]) == ["P1"], name


def test_a_broken_delivery_still_stops_the_night(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A wrong column mapped: 30 of 40 sodium values are text -> exit 3 naming the check."""
    rows = [lab("140", patient_id=f"N{i}") for i in range(10)]
    rows += [lab("positive", patient_id=f"B{i}") for i in range(30)]
    status, err = run(capsys, extract(tmp_path / "in", labs=[*rows, glucose()]), tmp_path / "out")
    assert status == 3
    assert "share of non-numeric sodium values above 5%: 75.0%" in err


def test_a_breach_below_the_broken_share_on_a_large_delivery_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [lab("140", patient_id=f"N{i}") for i in range(36)]
    rows += [lab("HEMOLYZED", patient_id=f"H{i}") for i in range(4)]
    status, err = run(capsys, extract(tmp_path / "in", labs=[*rows, glucose()]), tmp_path / "out")
    assert status == 4, err
    assert "below the 50% that means a broken delivery" in err
    labs = manifest(tmp_path / "out")["reconciliation"]["labs"]
    assert labs["reasons"]["quarantined"] == {"non_numeric": 4}


def test_sodium_volume_far_below_the_trailing_median_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Three nights of 12 usable sodium results, then a night of 3 (< 12 / 3 = 4)."""
    rows = []
    for day, count in (("17", 12), ("18", 12), ("19", 12), ("20", 3)):
        stamp = f"2026-11-{day}T08:00:00"
        rows += [lab("140", stamp, patient_id=f"D{day}-{i}") for i in range(count)]
    input_dir = extract(tmp_path / "in", labs=[*rows, glucose()])
    state = str(tmp_path / "state")
    out = tmp_path / "out"
    for day in ("17", "18", "19"):
        status, err = run(capsys, input_dir, out, "--state-dir", state, "--window-start",
                          f"2026-11-{day}")  # fmt: skip
        assert status == 0, (day, err)
    status, err = run(capsys, input_dir, out, "--state-dir", state, "--window-start", DAY)
    assert status == 4
    assert "3 usable sodium result(s) in this window, below 33% of the median 12 of the 3" in err
    assert codes(out) == ["sodium_volume_drop"]


def test_the_flow_exits_4_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], prefect_harness: None
) -> None:
    input_dir = extract(tmp_path / "in", labs=[glucose()])
    status = main(
        ["run", "--input", str(input_dir), "--out", str(tmp_path / "out"), "--window-start", DAY]
    )
    err = capsys.readouterr().err
    assert status == 4, err
    assert "hyposcreen: warning: no usable serum sodium result" in err


def test_the_sample_screens_clean_and_its_coverage_lists_what_was_not_recognised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The committed sample: exit 0, no warnings; its one unknown LOINC and its one sodium in
    mg/dL are the coverage report (hand-checked in sample_data/canonical/labs.csv)."""
    sample = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
    status, err = run(capsys, sample, tmp_path / "out")
    assert status == 0, err
    coverage = pd.read_csv(
        tmp_path / "out" / DAY / "coverage.csv", dtype=str, usecols=COVERAGE_COLUMNS
    )
    assert coverage.values.tolist() == [
        ["labs", "loinc", "99999-9", "1"],
        ["labs", "unit", "sodium: mg/dL", "1"],
    ]


def test_unknown_status_words_are_listed_in_coverage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [lab(), glucose(), lab("131", patient_id="P2", status="Zwischenbefund")]
    status, err = run(capsys, extract(tmp_path / "in", labs=rows), tmp_path / "out")
    assert status == 0, err
    coverage = pd.read_csv(
        tmp_path / "out" / DAY / "coverage.csv", dtype=str, usecols=COVERAGE_COLUMNS
    )
    assert coverage.values.tolist() == [["labs", "status", "Zwischenbefund", "1"]]
