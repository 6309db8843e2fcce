"""ISO 8601 times in the basic format with their zone (`20261120T061000Z`, as HL7 and FHIR
tools and Java's basic formatter write a UTC instant) or an hour alone (`2026-11-20T06Z`):
pandas reads a zone in them that the offset test (a clock `HH:MM` before it) does not see, so
a column of them ended the night as an internal error (exit 70, "Cannot use .astype to convert
from timezone-aware dtype") and a column mixing them with plain times did too ("Mixed
timezones detected"). They are instants, converted to the site's wall time as any time with
an offset, and each value is read as it would be alone."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from hyposcreen.ingest.timeparse import parse_times
from sample_delivery import SAMPLE, assert_screens_as_the_sample


def test_basic_format_times_with_their_zone_screen_as_the_sample(tmp_path: Path) -> None:
    folder = tmp_path / "delivery"
    folder.mkdir()
    for table in ("medications", "diagnoses", "patients"):
        (folder / f"{table}.csv").write_bytes((SAMPLE / f"{table}.csv").read_bytes())
    labs = pd.read_csv(SAMPLE / "labs.csv", dtype=str, keep_default_na=False)
    readable = pd.to_datetime(labs["specimen_time"], format="ISO8601", errors="coerce").notna()
    basic = labs["specimen_time"].str.replace("-", "").str.replace(":", "") + "Z"
    every_other = readable & (labs.index % 2 == 0)  # beside plain times in the same batch
    labs.loc[every_other, "specimen_time"] = basic[every_other]
    assert every_other.sum() > 50
    labs.to_csv(folder / "labs.csv", index=False)
    # the site's zone is UTC: the same instants (quarantined rows keep their times as written)
    assert_screens_as_the_sample(folder, tmp_path, same_quarantine_file=False)


def test_each_time_reads_as_it_would_alone() -> None:
    texts = [
        "20261120T061000Z",
        "2026-11-20T06:10:00",
        "2026-11-20T06Z",
        "not a time",
        "2026-11-20T06:10:00+02:00",
        "2026-11-20T0610+0100",
    ]
    together = parse_times(pd.Series(texts), "Europe/Berlin").tolist()
    alone = [parse_times(pd.Series([text]), "Europe/Berlin").iloc[0] for text in texts]
    assert together == alone
    assert together[0] == pd.Timestamp("2026-11-20 07:10")  # 06:10 UTC in Berlin's winter
    assert together[2] == pd.Timestamp("2026-11-20 07:00")
    assert pd.isna(together[3])
