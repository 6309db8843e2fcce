"""Spec §11 in the hour the clocks skip: a wall time that does not exist names no instant, and
rules.yaml's header reads it as the end of the gap (02:30 is 03:00 CEST on the night Berlin's
clocks go forward, 29 Mar 2026 at 01:00Z, 02:00 CET -> 03:00 CEST). It is read so as it is
parsed, so every comparison of times agrees with the intervals: before, the screen's
intervals moved it while a drug's end before its start and the duplicates compared it as
written, and a drug started at 02:29 and stopped at 02:28 (both 03:00 CEST) was quarantined
`end_before_start` while its start and end were one instant.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from hyposcreen.cli import main
from hyposcreen.ingest.clock_folds import past_skipped
from hyposcreen.ingest.timeparse import parse_times

BERLIN, NEW_YORK = "Europe/Berlin", "America/New_York"
ts = pd.Timestamp


def _wall(texts: list[str | None]) -> pd.Series:
    return pd.Series(pd.to_datetime(texts, format="ISO8601")).astype("datetime64[us]")


def test_a_skipped_wall_time_is_read_as_the_end_of_the_gap() -> None:
    wall = _wall(["2026-03-29 01:59:59", "2026-03-29 02:00", "2026-03-29 02:59:59",
                  "2026-03-29 03:00", None])  # fmt: skip
    assert past_skipped(wall, BERLIN).tolist()[:4] == [
        ts("2026-03-29 01:59:59"), ts("2026-03-29 03:00"), ts("2026-03-29 03:00"),
        ts("2026-03-29 03:00"),
    ]  # fmt: skip
    # New York skips 02:00-02:59 on 8 Mar; Lord Howe skips 02:00-02:29 on 4 Oct (30 min)
    assert past_skipped(_wall(["2026-03-08 02:30"]), NEW_YORK).tolist() == [ts("2026-03-08 03:00")]
    lord_howe = past_skipped(_wall(["2026-10-04 02:10", "2026-10-04 02:30"]), "Australia/Lord_Howe")
    assert lord_howe.tolist() == [ts("2026-10-04 02:30"), ts("2026-10-04 02:30")]


def test_times_that_exist_are_the_same_series() -> None:
    wall = _wall(["2026-03-29 01:30", "2026-10-25 02:30", "2026-11-20 06:10"])
    assert past_skipped(wall, BERLIN) is wall
    assert parse_times(pd.Series(["2026-03-29T02:30:00"], dtype="str"), "UTC").tolist() == [
        ts("2026-03-29 02:30")
    ]


def test_the_parse_reads_a_skipped_time_past_the_gap_as_written_or_typed() -> None:
    texts = pd.Series(["2026-03-29T02:30:00", "29.03.2026 02:45", None], dtype="str")
    parsed = parse_times(texts, BERLIN, ("%d.%m.%Y %H:%M",))
    assert parsed.tolist()[:2] == [ts("2026-03-29 03:00")] * 2
    typed = _wall(["2026-03-29 02:15", "2026-03-29 04:00"])  # a naive Parquet timestamp
    assert parse_times(typed, BERLIN).tolist() == [ts("2026-03-29 03:00"), ts("2026-03-29 04:00")]


def test_a_drug_started_and_stopped_inside_the_gap_is_active_at_an_index_just_after(
    tmp_path: Path,
) -> None:
    # sodium 128 at 02:30 (= 03:00 CEST, 01:00Z): mild hyponatremia, a case. Sertraline
    # started 02:29 and stopped 02:28, furosemide started 02:31 and stopped 02:30: each starts
    # and ends at 03:00 CEST, so each is active at the index (start <= index <= end + 7 d)
    # and the case is listed with loop_diuretic and ssri (two categories: tier 2, "soon").
    folder = tmp_path / "delivery"
    folder.mkdir()
    (folder / "labs.csv").write_text(
        "patient_id,specimen_time,loinc,value_raw,unit,status,specimen_type\n"
        "Q1,2026-03-29T02:30:00,2951-2,128,mmol/L,final,Serum\n"
    )
    (folder / "medications.csv").write_text(
        "patient_id,drug_name,atc,start_time,end_time,status\n"
        "Q1,,N06AB06,2026-03-29T02:29:00,2026-03-29T02:28:00,completed\n"
        "Q1,Furosemide40mg,,2026-03-29T02:31:00,2026-03-29T02:30:00,\n"
    )
    (folder / "diagnoses.csv").write_text(
        "patient_id,code,code_system,recorded_time\nQ9,I10,ICD-10-CM,2026-01-01T00:00:00\n"
    )
    mapping = tmp_path / "berlin.yaml"
    mapping.write_text(f"timezone: {BERLIN}\n")
    out = tmp_path / "out"
    night = ["--out", str(out), "--window-start", "2026-03-29"]
    status = main(["run", "--no-flow", "--input", str(folder), "--mapping", str(mapping), *night])
    assert status == 0
    review = pd.read_csv(out / "2026-03-29" / "review_list.csv", dtype=str)
    assert review["patient_id"].tolist() == ["Q1"]
    assert review.loc[0, "risk_factors"] == "loop_diuretic;ssri"
    assert review.loc[0, "tier"] == "2"
    assert review.loc[0, "index_time"] == "2026-03-29T03:00:00"
    quarantine = pd.read_csv(out / "2026-03-29" / "quarantine.csv", dtype=str)
    assert not quarantine["reason"].fillna("").str.contains("end_before_start").any()
