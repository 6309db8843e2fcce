"""What the publish stage keeps from one night to the next in a process (the page's template,
the workbook's theme, the empty coverage table, the outputs' background fsyncs) changes no
byte of a later night's outputs, and what it keeps at module level holds no extract values.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from tests.helpers import run_cli

from hyposcreen.cli import main
from hyposcreen.report import coverage

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "canonical"
OUTPUTS = (
    "review_list.csv",
    "review_list.parquet",
    "review_list.html",
    "review_list.xlsx",
    "evidence.csv",
    "quarantine.csv",
    "coverage.csv",
)
NIGHTS = ["2026-11-18", "2026-11-19", "2026-11-20"]


def _window(night: str) -> list[str]:
    end = (pd.Timestamp(night) + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    return ["--window-start", f"{night}T00:00:00", "--window-end", f"{end}T00:00:00"]


def test_a_night_written_after_other_nights_equals_one_written_by_a_fresh_process(
    tmp_path: Path,
) -> None:
    """A backfill writes each night after nights with other cases (in this process, after
    whatever the tests before it wrote); each night's outputs are those of a process that
    wrote that night alone, byte for byte."""
    shared = tmp_path / "backfill"
    assert main(["run", "--no-flow", "--input", str(SAMPLE), "--out", str(shared),
                 "--backfill", NIGHTS[0], NIGHTS[-1]]) in (0, 4)  # fmt: skip
    for night in (NIGHTS[0], NIGHTS[-1]):
        fresh = tmp_path / f"fresh-{night}"
        done = run_cli("run", "--no-flow", "--input", str(SAMPLE), "--out", str(fresh),
                       *_window(night))  # fmt: skip
        assert done.returncode in (0, 4)
        listed = pd.read_csv(fresh / night / "review_list.csv")
        assert len(listed) > 0  # nights with cases, so the rows are compared too
        for name in OUTPUTS:
            alone = (fresh / night / name).read_bytes()
            assert (shared / night / name).read_bytes() == alone, (night, name)


def test_the_empty_coverage_table_is_made_once_and_handed_out_as_a_copy() -> None:
    """The table kept at module level has no rows (no values at all); a caller changing the
    copy it gets changes neither the kept table nor the next copy."""
    first = coverage.empty()
    assert list(first.columns) == coverage.COLUMNS and first.empty
    first.loc[0] = ["labs", "unit", "sodium: mmol", 3]
    assert coverage.empty().empty
    assert coverage._empty_table().empty
    assert str(coverage.empty()["count"].dtype) == "int64"
    assert str(coverage.empty()["value"].dtype) == "str"
