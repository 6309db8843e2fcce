"""Times far in the future, as real extracts hold them: a medication that has not ended
carries the "open" end 9999-12-31 (or SQL Server's 9999-12-31 23:59:59.9999999), and a
de-identified extract may be shifted centuries ahead. The screen compares times as integer
microseconds (nanoseconds overflow after 2262-04-11), so such a delivery screens like the
same delivery without them, instead of stopping with an internal error (exit 70)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
DAY = "2026-11-20"
# what a case is: who, how urgent, why (times and the run id differ between the deliveries)
CASE = ["rank", "tier", "patient_id", "severity", "overcorrection", "risk_factors"]


def _run(capsys: pytest.CaptureFixture[str], folder: Path, day: str) -> tuple[int, str, Path]:
    out = folder.parent / f"{folder.name}-out"
    status = main(
        ["run", "--no-flow", "--input", str(folder), "--out", str(out), "--window-start", day]
    )
    return status, capsys.readouterr().err, out / day


def _cases(day_out: Path) -> pd.DataFrame:
    return pd.read_csv(day_out / "review_list.csv", dtype=str, keep_default_na=False)[CASE]


@pytest.fixture(scope="module")
def canonical_cases(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("canonical") / "out"
    assert main(["run", "--no-flow", "--input", str(SAMPLE), "--out", str(out),
                 "--window-start", DAY]) == 0  # fmt: skip
    return _cases(out / DAY)


@pytest.mark.parametrize("open_end", ["9999-12-31", "9999-12-31 23:59:59.9999999"])
def test_an_open_end_in_9999_screens_like_no_end(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    canonical_cases: pd.DataFrame,
    open_end: str,
) -> None:
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    meds = pd.read_csv(folder / "medications.csv", dtype=str, keep_default_na=False)
    # a stopped record without end is active 30 days from its start: not like an open end
    ongoing = (meds["end_time"] == "") & ~meds["status"].isin(["stopped", "completed"])
    assert ongoing.sum() >= 20
    meds.loc[ongoing, "end_time"] = open_end
    meds.to_csv(folder / "medications.csv", index=False)
    status, err, day_out = _run(capsys, folder, DAY)
    assert status == 0, err
    pd.testing.assert_frame_equal(_cases(day_out), canonical_cases)


def test_an_extract_shifted_four_centuries_ahead_screens_alike(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], canonical_cases: pd.DataFrame
) -> None:
    folder = tmp_path / "shifted"
    shutil.copytree(SAMPLE, folder)
    for path in folder.glob("*.csv"):  # 400 years: the same calendar, leap days included
        text = re.sub(
            r"\b(\d{4})-(\d{2})-(\d{2})",
            lambda m: f"{int(m[1]) + 400}-{m[2]}-{m[3]}",
            path.read_text(encoding="utf-8"),
        )
        path.write_text(text, encoding="utf-8")
    status, err, day_out = _run(capsys, folder, "2426-11-20")
    assert status == 0, err
    pd.testing.assert_frame_equal(_cases(day_out), canonical_cases)
    index_times = pd.read_csv(day_out / "review_list.csv", dtype=str)["index_time"]
    assert index_times.str.startswith("2426-11-20").all()


def test_a_parquet_time_before_year_one_screens_alike(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], canonical_cases: pd.DataFrame
) -> None:
    """A typed Parquet time column whose statistics reach beyond Python's datetime (a result
    dated in year 0, as a broken export writes a missing date) is read, not an internal
    error: the row lies outside every window, and the night's cases are those without it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = tmp_path / "typed"
    folder.mkdir()
    for path in SAMPLE.glob("*.csv"):
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
        pq.write_table(
            pa.Table.from_pandas(table, preserve_index=False), folder / f"{path.stem}.parquet"
        )
    labs = pd.read_csv(SAMPLE / "labs.csv", dtype=str, keep_default_na=False)
    stray = labs.iloc[[0]].assign(specimen_time="")
    labs = pd.concat([labs, stray], ignore_index=True)
    times = pd.to_datetime(labs["specimen_time"], format="mixed", errors="coerce")
    millis = times.astype("datetime64[ms]").astype("int64").to_numpy().copy()  # unread: masked
    millis[-1] = -62230291200000  # year 0 (proleptic): no Python datetime holds it
    missing = times.isna().to_numpy().copy()
    missing[-1] = False
    table = pa.Table.from_pandas(labs.drop(columns="specimen_time"), preserve_index=False)
    typed = pa.array(millis, pa.int64(), mask=missing).cast(pa.timestamp("ms"))
    table = table.append_column("specimen_time", typed)
    pq.write_table(table, folder / "labs.parquet")
    status, err, day_out = _run(capsys, folder, DAY)
    assert status == 0, err
    pd.testing.assert_frame_equal(_cases(day_out), canonical_cases)
