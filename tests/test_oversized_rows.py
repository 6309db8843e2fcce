"""A row over the rules' size limit (contracts.max_row_bytes) is quarantined oversized_row and
the rows after it are read, in plain and gzip CSV and by the partitioned reader: the row,
not the night, is set aside."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from bad_input_rows import (
    LAB_COLUMNS,
    lab,
    to_csv,
)
from cli_night import DAY, extract, manifest, run


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
