"""Never silently wrong: a run that completes but should not be trusted exits 4 and says why.

Each test runs the real CLI (without Prefect unless named) on a small extract in tmp_path and
asserts the exit status, the stderr line, the manifest's `warnings` and the page's top block.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.cli import main
from hyposcreen.errors import EXIT_SCREENED_WITH_WARNINGS
from test_bad_inputs import (
    DX_COLUMNS,
    LAB_COLUMNS,
    MED_COLUMNS,
    dx,
    glucose,
    lab,
    med,
    to_csv,
    write,
)

DAY = "2026-11-20"


def extract(
    folder: Path,
    labs: list[dict[str, str]] | None = None,
    meds: list[dict[str, str]] | None = None,
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write(folder, "labs.csv", to_csv(labs if labs is not None else [lab(), glucose()], LAB_COLUMNS))
    write(folder, "medications.csv", to_csv(meds if meds is not None else [med()], MED_COLUMNS))
    write(folder, "diagnoses.csv", to_csv([dx()], DX_COLUMNS))
    return folder


def run(
    capsys: pytest.CaptureFixture[str], input_dir: Path, out: Path, *extra: str
) -> tuple[int, str]:
    argv = ["run", "--no-flow", "--input", str(input_dir), "--out", str(out)]
    if "--window-start" not in extra:
        argv += ["--window-start", DAY]
    status = main([*argv, *extra])
    return status, capsys.readouterr().err


def manifest(out: Path, day: str = DAY) -> dict:
    return json.loads((out / day / "run_manifest.json").read_text())


def codes(out: Path, day: str = DAY) -> list[str]:
    return [w["code"] for w in manifest(out, day)["warnings"]]


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
    coverage = pd.read_csv(coverage_path, dtype=str)
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
    coverage = pd.read_csv(tmp_path / "ob" / DAY / "coverage.csv", dtype=str)
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


# ---------------------------------------------------------------- who must act: 2 and 75


@pytest.mark.parametrize("text", ["05.11.2026", "11/05/2026", "2026-11-5", "yesterday"])
def test_cli_dates_are_iso_8601_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    status, err = run(capsys, extract(tmp_path / "in"), tmp_path / "out", "--window-start", text)
    assert status == 2
    assert f"--window-start '{text}' is not an ISO 8601 date" in err
    assert "e.g. 2026-11-05 or 2026-11-05T06:00" in err


@pytest.mark.parametrize(
    ("mapping", "named"),
    [
        ("csv: {encoding: latin-9x}\n", "csv.encoding 'latin-9x' is not a known encoding"),
        ('datetime_formats: "%d.%m.%Y"\n', "datetime_formats must be a list of text"),
        ("tables:\n  labs:\n    columns: {patiend_id: PID}\n", "unknown key(s) patiend_id"),
        ("tables:\n  labs:\n    columns: [patient_id]\n", "columns must be a mapping"),
        ("csv: {decimal: ';'}\n", 'csv.decimal must be "." or ","'),
        ("status_words: {cancled: [storniert]}\n", "status_words.cancled is not a known status"),
        ("drug_synonyms: {Hydro-X: hydrochlorothiazid}\n", "names unknown ingredient(s)"),
    ],
)
def test_settings_problems_exit_2_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mapping: str, named: str
) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(mapping, encoding="utf-8")
    status, err = run(capsys, extract(tmp_path / "in"), tmp_path / "out", "--mapping", str(site))
    assert status == 2, err
    assert named in err


def test_a_damaged_state_db_exits_75_and_the_failed_run_writes_failed_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "hyposcreen_state.sqlite3").write_bytes(b"this is not a database" * 100)
    status, err = run(capsys, extract(tmp_path / "in"), tmp_path / "out", "--state-dir", str(state))
    assert status == 75, err
    assert "Restore" in err and "run again" in err
    assert "internal error" not in err


def test_a_failed_plain_run_writes_failed_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    input_dir = extract(tmp_path / "in")
    (input_dir / "labs.csv").write_text("who,when\nP1,now\n")
    status, err = run(capsys, input_dir, tmp_path / "out")
    assert status == 3, err
    failed = json.loads((tmp_path / "out" / DAY / "FAILED.json").read_text())
    assert failed["error_type"] == "InputError"
    assert "lacks required column(s)" in failed["message"]
    assert failed["window"]["start"] == "2026-11-20T00:00:00"
    # a later successful run of the window removes it
    (input_dir / "labs.csv").write_text(to_csv([lab(), glucose()], LAB_COLUMNS))
    status, err = run(capsys, input_dir, tmp_path / "out")
    assert status == 0, err
    assert not (tmp_path / "out" / DAY / "FAILED.json").exists()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_is_an_environment_problem(tmp_path: Path) -> None:
    """A real ENOSPC (writing to /dev/full) becomes exit 75 with what to do."""
    from hyposcreen.failures import environment_problem

    try:
        with open("/dev/full", "w") as handle:
            handle.write("x" * 10_000)
            handle.flush()
    except OSError as exc:
        problem = environment_problem(exc)
    assert problem is not None and problem.exit_code == 75
    assert "disk is full" in str(problem) and "Free space" in str(problem)


def test_an_unwritable_output_is_an_environment_problem(tmp_path: Path) -> None:
    """A read-only file system (EROFS from a real read-only bind is not available to tests):
    the errno mapping itself, and a real EACCES where the test is not root."""
    import errno

    from hyposcreen.failures import environment_problem

    problem = environment_problem(OSError(errno.EROFS, "Read-only file system", "/mnt/out"))
    assert problem is not None and problem.exit_code == 75
    assert "read-only file system (/mnt/out)" in str(problem)
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        try:
            (locked / "x").write_text("x")
        except OSError as exc:
            assert environment_problem(exc) is not None
    assert environment_problem(ValueError("a bug")) is None


def test_state_db_night_counts_table_is_separate(tmp_path: Path) -> None:
    from hyposcreen.night_counts import record_count, trailing_counts

    path = tmp_path / "s.sqlite3"
    for day, count in ((1, 10), (2, 20), (3, 30)):
        record_count(path, "site", pd.Timestamp(f"2026-11-0{day}"), count)
    assert trailing_counts(path, "site", pd.Timestamp("2026-11-03"), 7) == [20, 10]
    tables = sqlite3.connect(path).execute("SELECT name FROM sqlite_master").fetchall()
    assert ("night_counts",) in tables


def test_a_row_over_the_size_limit_is_quarantined_not_the_night(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 20 MB field (over the default 16 MB of rules.yaml contracts.max_row_bytes, and over
    the CSV parser's block) is quarantined oversized_row; the rows after it are read."""
    input_dir = extract(tmp_path / "in")
    with (input_dir / "labs.csv").open("a", encoding="utf-8") as handle:
        handle.write(_huge_row_then_a_low_sodium())
    status, err = run(capsys, input_dir, tmp_path / "out")
    assert status == 0, err
    _assert_only_the_huge_row_quarantined(tmp_path / "out", "labs.csv")


def _huge_row_then_a_low_sodium() -> str:
    """CSV lines (no header): P2's 20 MB value, then P3's sodium 118."""
    huge = to_csv([lab("9" * (20 << 20), patient_id="P2")], LAB_COLUMNS).split("\n", 1)[1]
    after = to_csv([lab("118", patient_id="P3")], LAB_COLUMNS).split("\n", 1)[1]
    return huge + after


def _assert_only_the_huge_row_quarantined(out: Path, source_file: str) -> None:
    """The 20 MB row is quarantined oversized_row (its size shown, not its text); the rows
    before and after it are screened."""
    labs = manifest(out)["reconciliation"]["labs"]
    assert labs["rows_in"] == 4 and labs["reasons"]["quarantined"] == {"oversized_row": 1}
    quarantine = pd.read_csv(out / DAY / "quarantine.csv", dtype=str)
    row = quarantine.loc[quarantine["reason"] == "oversized_row"].iloc[0]
    assert row["source_file"] == source_file
    assert "20971" in row["original"] and "9999999999" not in row["original"]
    review = pd.read_csv(out / DAY / "review_list.csv", dtype=str)
    assert set(review["patient_id"]) == {"P1", "P3"}


def test_a_row_over_the_size_limit_in_a_gzip_file_is_quarantined_not_the_night(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same 20 MB field in a labs.csv.gz (20 kB compressed): the streaming scan finds it,
    that row is quarantined oversized_row, the rows before and after it are screened."""
    import gzip

    input_dir = extract(tmp_path / "in")
    text = (input_dir / "labs.csv").read_text(encoding="utf-8")
    (input_dir / "labs.csv").unlink()
    compressed = gzip.compress((text + _huge_row_then_a_low_sodium()).encode())
    (input_dir / "labs.csv.gz").write_bytes(compressed)
    assert (input_dir / "labs.csv.gz").stat().st_size < 1 << 20
    status, err = run(capsys, input_dir, tmp_path / "out")
    assert status == 0, err
    _assert_only_the_huge_row_quarantined(tmp_path / "out", "labs.csv.gz")


def test_the_sample_screens_clean_and_its_coverage_lists_what_was_not_recognised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The committed sample: exit 0, no warnings; its one unknown LOINC and its one sodium in
    mg/dL are the coverage report (hand-checked in sample_data/canonical/labs.csv)."""
    sample = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
    status, err = run(capsys, sample, tmp_path / "out")
    assert status == 0, err
    coverage = pd.read_csv(tmp_path / "out" / DAY / "coverage.csv", dtype=str)
    assert coverage.values.tolist() == [
        ["labs", "loinc", "99999-9", "1"],
        ["labs", "unit", "sodium: mg/dL", "1"],
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-05", "2026-11-05 00:00:00"),
        ("2026-11-05T06:00", "2026-11-05 06:00:00"),
        ("2026-11-05T06:00:30", "2026-11-05 06:00:30"),
        ("2026-11-05T05:00:00Z", "2026-11-05 06:00:00"),
        ("2026-11-05T06:00+01:00", "2026-11-05 06:00:00"),
    ],
)
def test_iso_8601_dates_are_read(text: str, expected: str) -> None:
    from hyposcreen.config import parse_timestamp

    assert str(parse_timestamp(text, "Europe/Berlin", "--window-start")) == expected


def test_unknown_status_words_are_listed_in_coverage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [lab(), glucose(), lab("131", patient_id="P2", status="Zwischenbefund")]
    status, err = run(capsys, extract(tmp_path / "in", labs=rows), tmp_path / "out")
    assert status == 0, err
    coverage = pd.read_csv(tmp_path / "out" / DAY / "coverage.csv", dtype=str)
    assert coverage.values.tolist() == [["labs", "status", "Zwischenbefund", "1"]]


def test_a_misspelt_warning_threshold_in_the_rules_is_named(tmp_path: Path) -> None:
    import shutil

    from hyposcreen.errors import ConfigError
    from hyposcreen.rules.loader import RULES_DIR, load_rules

    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    text = (rules / "rules.yaml").read_text(encoding="utf-8")
    (rules / "rules.yaml").write_text(
        text.replace("min_rows_for_share: 10", "min_row_for_share: 10"), encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=r"warnings\.min_row_for_share is not a known threshold"):
        load_rules(rules)
    assert load_rules().warnings.min_rows_for_share == 10


def test_a_state_dir_that_cannot_be_created_is_an_environment_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file where the state dir should be (ENOTDIR is no environment errno: stays exit 2);
    a wrapped ENOSPC/EACCES would be 75 — checked on the mapping function."""
    import errno

    from hyposcreen.errors import ConfigError
    from hyposcreen.failures import environment_problem

    blocker = tmp_path / "state"
    blocker.write_text("not a folder")
    status, err = run(capsys, extract(tmp_path / "in"), tmp_path / "out", "--state-dir",
                      str(blocker / "sub"))  # fmt: skip
    assert status == 2, err
    wrapped = ConfigError("State dir /x cannot be created.")
    wrapped.__cause__ = OSError(errno.EACCES, "Permission denied", "/x")
    problem = environment_problem(wrapped)
    assert (
        problem is not None and problem.exit_code == 75 and "Permission denied (/x)" in str(problem)
    )


def test_the_partitioned_reader_holds_rows_to_the_rules_size_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A site's rules copy lowers contracts.max_row_bytes to 4 kB: a 10 kB field is quarantined
    oversized_row by the partitioned reader too (it once kept the 16 MB default)."""
    import re
    import shutil

    from hyposcreen.rules.loader import RULES_DIR

    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    text = (rules / "rules.yaml").read_text(encoding="utf-8")
    text, replaced = re.subn(r"max_row_bytes: *\d+", "max_row_bytes: 4096", text)
    assert replaced == 1
    (rules / "rules.yaml").write_text(text, encoding="utf-8")
    input_dir = extract(tmp_path / "in")
    long_row = to_csv([lab("9" * 10_000, patient_id="P2")], LAB_COLUMNS).split("\n", 1)[1]
    with (input_dir / "labs.csv").open("a", encoding="utf-8") as handle:
        handle.write(long_row)
    status, err = run(
        capsys, input_dir, tmp_path / "out", "--partitions", "2", "--rules", str(rules)
    )
    assert status in (0, 4), err
    labs = manifest(tmp_path / "out")["reconciliation"]["labs"]
    assert labs["reasons"]["quarantined"] == {"oversized_row": 1}
