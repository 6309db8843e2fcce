"""A Parquet column read as a canonical column that holds nested values (a struct, a list, a
map: `{'id': 'P043'}` where the patient id was expected) stops the night with exit 3 naming
the file and the column, instead of being cast to the text of the structure and screened as
wrong values (ids no other table holds, values that do not read)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hyposcreen.cli import main
from hyposcreen.errors import InputError
from omop_extract import extract, measurement, read

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
DAY = "2026-11-20"


def _columns(table: str) -> dict[str, pa.Array]:
    rows = pd.read_csv(SAMPLE / f"{table}.csv", dtype=str, keep_default_na=False)
    return {name: pa.array(rows[name].tolist(), pa.string()) for name in rows.columns}


def _delivery(tmp_path: Path, table: str, columns: dict[str, pa.Array]) -> Path:
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    (folder / f"{table}.csv").unlink()
    pq.write_table(pa.table(columns), folder / f"{table}.parquet")
    return folder


def _night(folder: Path, out: Path, *extra: str) -> int:
    argv = ["run", "--no-flow", "--input", str(folder), "--out", str(out), "--window-start", DAY]
    return main([*argv, *extra])


def _struct_ids(ids: pa.Array) -> pa.Array:
    return pa.array([{"id": value} for value in ids.to_pylist()])


@pytest.mark.parametrize("typed_times", [False, True], ids=["text-times", "typed-times"])
def test_a_struct_patient_id_stops_the_night_naming_file_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], typed_times: bool
) -> None:
    """Typed times take the reader that skips row groups by their statistics: refused alike."""
    labs = _columns("labs")
    labs["patient_id"] = _struct_ids(labs["patient_id"])
    if typed_times:
        labs["specimen_time"] = pa.array(
            pd.to_datetime(pd.Series(labs["specimen_time"].to_pylist()), errors="coerce")
        )
    folder = _delivery(tmp_path, "labs", labs)
    out = tmp_path / "out"
    status = _night(folder, out)
    err = capsys.readouterr().err
    assert status == 3, err
    assert (
        f"{folder / 'labs.parquet'} (labs) column patient_id holds nested values (a struct) "
        "where text, a number or a time was expected"
    ) in err
    assert "P0" not in err and "Traceback" not in err
    assert not (out / DAY / "review_list.csv").exists()


def test_a_list_of_values_stops_the_night(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labs = _columns("labs")
    labs["value_raw"] = pa.array([[value] for value in labs["value_raw"].to_pylist()])
    folder = _delivery(tmp_path, "labs", labs)
    status = _night(folder, tmp_path / "out")
    err = capsys.readouterr().err
    assert status == 3, err
    assert "labs.parquet (labs) column value_raw holds nested values (a list)" in err


def test_a_renamed_column_is_named_as_the_file_and_the_mapping_call_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A medications file whose start times (the site's STARTED) are a map of text to text."""
    medications = _columns("medications")
    starts = medications.pop("start_time").to_pylist()
    medications["STARTED"] = pa.array(
        [[("local", value)] for value in starts], pa.map_(pa.string(), pa.string())
    )
    folder = _delivery(tmp_path, "medications", medications)
    mapping = tmp_path / "site.yaml"
    mapping.write_text("site: test\ntables:\n  medications:\n    columns: {start_time: STARTED}\n")
    status = _night(folder, tmp_path / "out", "--mapping", str(mapping))
    err = capsys.readouterr().err
    assert status == 3, err
    assert (
        "medications.parquet (medications) column STARTED (read as start_time) holds nested "
        "values (a map)"
    ) in err


def test_an_omop_table_with_a_struct_person_id_is_refused(tmp_path: Path) -> None:
    """A source layout's Parquet tables (OMOP here) are checked alike, by the file's name."""
    folder = extract(tmp_path / "omop")
    (folder / "measurement.csv").unlink()
    row = measurement()
    columns = {name: pa.array([value]) for name, value in row.items()}
    columns["person_id"] = pa.array([{"id": row["person_id"]}])
    pq.write_table(pa.table(columns), folder / "measurement.parquet")
    with pytest.raises(InputError) as caught:
        read(folder, "labs")
    assert caught.value.column == "person_id"
    assert "measurement.parquet (measurement) column person_id holds nested values (a struct)" in (
        str(caught.value)
    )
