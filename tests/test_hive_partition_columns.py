"""A table written as hive partitions (`labs/status=final/part-0.parquet`): Spark, pandas and
pyarrow leave the partition column out of the files. Partitioned by a column the table reads,
its values would be lost (an entered-in-error sodium used, a urine sodium read as serum): the
run stops with exit 3 naming the key, never a folder's value. Partitioned by other keys
(year=, month=) the delivery screens as the sample does."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.cli import main
from sample_delivery import DAY, SAMPLE, assert_screens_as_the_sample


def _partitioned(tmp_path: Path, by: list[str]) -> Path:
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    labs = pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False)
    labs["year"], labs["month"] = labs["specimen_time"].str[:4], labs["specimen_time"].str[5:7]
    (folder / "labs.csv").unlink()
    keep = [c for c in labs.columns if c in by or c not in ("year", "month")]
    labs[keep].to_parquet(folder / "labs", partition_cols=by, index=False)
    return folder


@pytest.mark.parametrize("key", ["status", "specimen_type", "patient_id"])
def test_a_table_partitioned_by_a_column_it_reads_stops_naming_the_key(
    key: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _partitioned(tmp_path, [key])
    assert any(p.name.startswith(f"{key}=") for p in (folder / "labs").iterdir())
    out = tmp_path / "out"
    args = ["run", "--no-flow", "--input", str(folder), "--out", str(out), "--window-start", DAY]
    assert main(args) == 3
    err = capsys.readouterr().err
    assert f"named after the column {key} (labs/{key}=…/)" in err
    assert "Traceback" not in err and "P0" not in err  # no patient id of a folder's name
    assert not (out / DAY / "review_list.csv").exists()


def test_a_table_partitioned_by_year_and_month_screens_as_the_sample(tmp_path: Path) -> None:
    """The same list and counts (its quarantine rows name the parts' own files and rows)."""
    folder = _partitioned(tmp_path, ["year", "month"])
    assert (folder / "labs" / "year=2026").is_dir()
    assert_screens_as_the_sample(folder, tmp_path, same_quarantine_file=False)
