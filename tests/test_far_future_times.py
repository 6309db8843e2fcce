"""Times in the calendar's last hours: `9999-12-31T23:59:59`, the "no end" placeholder many
EHR and SQL Server extracts write for an ongoing medication, is 10000-01-01T04:59:59Z in New
York; a conversion through Python's datetime (which ends with the year 9999) stopped the
night as an internal error (exit 70). Such times convert as the same wall time 400 years
earlier does (the calendar and the zone's yearly rule repeat), moved back."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hyposcreen.cli import main
from hyposcreen.ingest.timeparse import parse_times, to_instants, to_wall_time

NEW_YORK, BERLIN = "America/New_York", "Europe/Berlin"


def _times(*texts: str | None) -> pd.Series:
    return pd.Series(pd.to_datetime(list(texts))).astype("datetime64[us]")


def test_the_last_wall_time_of_the_calendar_has_an_instant() -> None:
    # New York is UTC-5 in winter: 23:59:59 on the wall is 04:59:59Z the next day
    instants = to_instants(_times("9999-12-31 23:59:59", "2026-11-20 10:00:00", None), NEW_YORK)
    expected = ["10000-01-01T04:59:59.000000", "2026-11-20T15:00:00.000000", "NaT"]
    assert [str(v) for v in instants.to_numpy()] == expected
    back = to_wall_time(instants, NEW_YORK)
    assert [str(v) for v in back.to_numpy()] == [
        "9999-12-31T23:59:59.000000",
        "2026-11-20T10:00:00.000000",
        "NaT",
    ]


@pytest.mark.parametrize(
    ("text", "zone", "wall"),
    [
        ("9999-12-31T23:59:59Z", BERLIN, "10000-01-01T00:59:59.000000"),  # UTC+1
        ("9999-12-31T23:30:00-05:00", NEW_YORK, "9999-12-31T23:30:00.000000"),
        ("9999-12-31T23:30:00-05:00", BERLIN, "10000-01-01T05:30:00.000000"),
    ],
)
def test_a_last_hour_written_with_its_offset_is_read(text: str, zone: str, wall: str) -> None:
    assert str(parse_times(pd.Series([text]), zone).to_numpy()[0]) == wall


@pytest.mark.parametrize(
    ("zone", "night", "sodium_time", "end"),
    [
        (NEW_YORK, "2026-11-20", "2026-11-20T10:00:00", "9999-12-31T23:59:59"),
        (BERLIN, "2026-11-20", "2026-11-20T10:00:00", "9999-12-31T23:59:59Z"),
    ],
)
def test_an_ongoing_medication_ending_in_9999_is_a_risk_factor(
    tmp_path: Path, zone: str, night: str, sodium_time: str, end: str
) -> None:
    extract = tmp_path / "extract"
    extract.mkdir()
    (extract / "labs.csv").write_text(
        "patient_id,specimen_id,specimen_time,loinc,value_raw,unit\n"
        f"P1,S1,{sodium_time},2951-2,125,mmol/L\n",
        encoding="utf-8",
    )
    (extract / "medications.csv").write_text(
        f"patient_id,drug_name,start_time,end_time\nP1,Furosemide 40mg,2026-10-01T00:00:00,{end}\n",
        encoding="utf-8",
    )
    (extract / "diagnoses.csv").write_text(
        "patient_id,code,code_system,recorded_time\nP9,I10,ICD-10-CM,2026-10-01T00:00:00\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "site.yaml"
    mapping.write_text(f"timezone: {zone}\n", encoding="utf-8")
    out = tmp_path / "out"
    argv = ["run", "--no-flow", "--input", str(extract), "--out", str(out)]
    assert main([*argv, "--mapping", str(mapping), "--window-start", night]) in (0, 4)
    with (out / night / "review_list.csv").open(newline="", encoding="utf-8") as handle:
        listed = {row["patient_id"]: row["risk_factors"] for row in csv.DictReader(handle)}
    assert listed == {"P1": "loop_diuretic"}


def test_a_typed_end_in_9999_is_read(tmp_path: Path) -> None:
    """Parquet typed with the zone: 9999-12-31T23:59:59-05:00 is 10000-01-01T04:59:59Z."""
    extract = tmp_path / "extract"
    extract.mkdir()
    (extract / "labs.csv").write_text(
        "patient_id,specimen_id,specimen_time,loinc,value_raw,unit\n"
        "P1,S1,2026-11-20T10:00:00,2951-2,125,mmol/L\n",
        encoding="utf-8",
    )
    (extract / "diagnoses.csv").write_text(
        "patient_id,code,code_system,recorded_time\nP9,I10,ICD-10-CM,2026-10-01T00:00:00\n",
        encoding="utf-8",
    )
    second = 10**6  # microseconds
    typed = pa.timestamp("us", tz=NEW_YORK)
    medications = pa.table(
        {
            "patient_id": ["P1"],
            "drug_name": ["Furosemide 40mg"],
            "start_time": pa.array([1790812800 * second], typed),  # 2026-10-01T00:00Z
            "end_time": pa.array([(253402318799 + 5 * 3600) * second], typed),
        }
    )
    pq.write_table(medications, extract / "medications.parquet")
    mapping = tmp_path / "site.yaml"
    mapping.write_text(f"timezone: {NEW_YORK}\n", encoding="utf-8")
    out = tmp_path / "out"
    argv = ["run", "--no-flow", "--input", str(extract), "--out", str(out)]
    assert main([*argv, "--mapping", str(mapping), "--window-start", "2026-11-20"]) in (0, 4)
    with (out / "2026-11-20" / "review_list.csv").open(newline="", encoding="utf-8") as handle:
        listed = {row["patient_id"]: row["risk_factors"] for row in csv.DictReader(handle)}
    assert listed == {"P1": "loop_diuretic"}
