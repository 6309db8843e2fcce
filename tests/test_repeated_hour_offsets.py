"""Spec §11 in the hour the clocks repeat: a time written with its offset (or typed with its
zone) names one instant, and the screen measures from that instant.

Europe/Berlin goes back on 25 Oct 2026 at 01:00Z (03:00 CEST → 02:00 CET): the wall times
02:00-02:59 happen twice, first in CEST (00:00-00:59Z), then in CET (01:00-01:59Z).
America/New_York goes back on 1 Nov 2026 at 06:00Z (02:00 EDT → 01:00 EST): 01:00-01:59
happens at 05:00-05:59Z and again at 06:00-06:59Z. Lord Howe Island goes back half an hour
on 5 Apr 2026 at 15:00Z (02:00 +11 → 01:30 +10:30).

Times are held as site-local wall time, so `02:30+01:00` (01:30Z) and `02:30+02:00` (00:30Z)
are both 02:30 on the wall; a wall time without an offset is the first occurrence. Before,
every 02:30 was taken as 00:30Z: a glucose 45 minutes after an offset-written sodium in the
second occurrence was 105 minutes away, and two results an hour apart were one duplicate.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hyposcreen.cli import main
from hyposcreen.ingest.clock_folds import second_occurrences
from hyposcreen.ingest.timeparse import parse_times, parse_times_folded, to_instants

BERLIN, NEW_YORK = "Europe/Berlin", "America/New_York"
NIGHT = "2026-10-25"
ts = pd.Timestamp


def _instants(texts: list[str]) -> pd.Series:
    return pd.Series(pd.to_datetime(texts, format="ISO8601")).astype("datetime64[us]")


# ------------------------------------------------------------------ the repeated instants


def test_berlins_second_occurrence_is_01_00_to_01_59_utc() -> None:
    utc = _instants(["2026-10-25 00:59:59", "2026-10-25 01:00", "2026-10-25 01:59:59",
                     "2026-10-25 02:00", "2026-03-29 01:30"])  # fmt: skip
    second = second_occurrences(utc, BERLIN)
    assert second is not None
    assert second.tolist() == [False, True, True, False, False]


def test_new_yorks_second_occurrence_is_06_00_to_06_59_utc() -> None:
    utc = _instants(
        ["2026-11-01 05:30", "2026-11-01 06:00", "2026-11-01 06:59", "2026-11-01 07:00"]
    )
    second = second_occurrences(utc, NEW_YORK)
    assert second is not None
    assert second.tolist() == [False, True, True, False]


def test_a_half_hour_change_repeats_half_an_hour() -> None:
    # Lord Howe: back 30 min at 15:00Z; 15:00-15:29Z is the second occurrence of 01:30-01:59
    utc = _instants(
        ["2026-04-04 14:59", "2026-04-04 15:00", "2026-04-04 15:29", "2026-04-04 15:30"]
    )
    second = second_occurrences(utc, "Australia/Lord_Howe")
    assert second is not None
    assert second.tolist() == [False, True, True, False]


def test_no_second_occurrence_is_none() -> None:
    assert second_occurrences(_instants(["2026-10-25 01:30"]), "UTC") is None
    assert second_occurrences(_instants(["2026-11-20 01:30", "NaT"]), BERLIN) is None
    assert second_occurrences(_instants(["NaT"]), BERLIN) is None


def test_instants_spread_over_centuries_are_still_told() -> None:
    # 9999 has no zone rules pandas can build a year of days for; 1900 had no summer time
    utc = _instants(["1900-06-01", "2026-10-25 01:30", "9999-12-31 23:59"])
    second = second_occurrences(utc, BERLIN)
    assert second is not None
    assert second.tolist() == [False, True, False]


# ------------------------------------------------------------------ parsing


def test_the_offset_written_with_a_time_says_which_occurrence_it_is() -> None:
    texts = pd.Series(
        [
            "2026-10-25T02:30:00+01:00",  # 01:30Z: the second 02:30
            "2026-10-25T02:30:00+02:00",  # 00:30Z: the first
            "2026-10-25T02:30:00",  # no offset: the first, by rule
            "2026-10-25T01:30:00Z",  # 01:30Z again, written in UTC
            "2026-10-25T03:30:00+01:00",  # 02:30Z: 03:30 happens once
            None,
        ],
        index=[10, 10, 11, 12, 13, 14],  # labels need not be unique
        dtype="str",
    )
    wall, second = parse_times_folded(texts, BERLIN)
    assert wall.index.equals(texts.index)
    assert wall.iloc[:4].tolist() == [ts("2026-10-25 02:30")] * 4
    assert second is not None
    assert second.tolist() == [True, False, False, True, False, False]
    pd.testing.assert_series_equal(wall, parse_times(texts, BERLIN))
    back = to_instants(wall, BERLIN, pd.Series(second))
    assert back.iloc[:5].tolist() == [
        ts("2026-10-25 01:30"), ts("2026-10-25 00:30"), ts("2026-10-25 00:30"),
        ts("2026-10-25 01:30"), ts("2026-10-25 02:30"),
    ]  # fmt: skip


def test_a_site_format_with_an_offset_and_typed_zones_are_told_alike() -> None:
    texts = pd.Series(["25.10.2026 02:30 +0100", "25.10.2026 02:30 +0200"], dtype="str")
    _, second = parse_times_folded(texts, BERLIN, ("%d.%m.%Y %H:%M %z",))
    assert second is not None and second.tolist() == [True, False]
    typed = pd.Series(pd.to_datetime(["2026-10-25 01:30Z", "2026-10-25 00:30Z"], utc=True))
    wall, second = parse_times_folded(typed, BERLIN)
    assert wall.tolist() == [ts("2026-10-25 02:30")] * 2
    assert second is not None and second.tolist() == [True, False]


def test_without_offsets_or_in_utc_nothing_is_marked() -> None:
    naive = pd.Series(["2026-10-25T02:30:00", "2026-10-25T02:45:00"], dtype="str")
    assert parse_times_folded(naive, BERLIN)[1] is None
    written = pd.Series(["2026-10-25T01:30:00Z"], dtype="str")
    assert parse_times_folded(written, "UTC")[1] is None


def test_a_null_mark_reads_as_the_first_occurrence() -> None:
    wall = pd.Series([ts("2026-10-25 02:30")] * 2).astype("datetime64[us]")
    marks = pd.Series([None, True], dtype=object)
    assert to_instants(wall, BERLIN, marks).tolist() == [
        ts("2026-10-25 00:30"),
        ts("2026-10-25 01:30"),
    ]


_ZONES = [BERLIN, NEW_YORK, "Australia/Lord_Howe", "America/Sao_Paulo", "UTC"]
# minutes around each zone's clocks-back changes of 2026 and some far from them
_AROUND = [ts("2026-10-25 01:00"), ts("2026-11-01 06:00"), ts("2026-04-04 15:00"),
           ts("2026-02-21 02:00"), ts("2026-07-01 12:00")]  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(_AROUND), st.integers(-150, 150), st.booleans()),
        min_size=1,
        max_size=12,
    ),
    st.sampled_from(_ZONES),
)
def test_an_instant_written_with_its_local_offset_comes_back_as_itself(
    picks: list[tuple[pd.Timestamp, int, bool]], timezone: str
) -> None:
    """Any UTC instant, written as the site's wall time with the offset in force (or in UTC
    with Z), is parsed to a wall time and a mark that give that instant back."""
    utc = [around + pd.Timedelta(minutes=minutes) for around, minutes, _ in picks]
    local = [t.tz_localize("UTC").tz_convert(timezone) for t in utc]
    texts = [
        t.isoformat() if local_form else u.strftime("%Y-%m-%dT%H:%M:%SZ")
        for t, u, (_, _, local_form) in zip(local, utc, picks, strict=True)
    ]
    wall, second = parse_times_folded(pd.Series(texts, dtype="str"), timezone)
    marks = None if second is None else pd.Series(second)
    assert to_instants(wall, timezone, marks).tolist() == utc
    assert wall.tolist() == [t.tz_localize(None) for t in local]


# ------------------------------------------------------------------ the screen, end to end

_LABS = [
    # B1: sodium 133 at 01:30Z (written +01:00); glucose 400 mg/dL at 03:15 CET = 02:15Z, 45 min
    # later: paired, corrected 133 + 1.6 * (400 - 100) / 100 = 137.8, not low: not listed
    ("B1", "S1", "2026-10-25T02:30:00+01:00", "2951-2", "133", "mmol/L"),
    ("B1", "S2", "2026-10-25T03:15:00", "2345-7", "400", "mg/dL"),
    # B2: the same instant written in UTC: not listed either
    ("B2", "S3", "2026-10-25T01:30:00Z", "2951-2", "133", "mmol/L"),
    ("B2", "S4", "2026-10-25T03:15:00", "2345-7", "400", "mg/dL"),
    # B3: 02:30 without an offset is the first occurrence, 00:30Z: the glucose is 105 min away,
    # unpaired; 133 is mild hyponatremia with a loop diuretic: listed, tier 3
    ("B3", "S5", "2026-10-25T02:30:00", "2951-2", "133", "mmol/L"),
    ("B3", "S6", "2026-10-25T03:15:00", "2345-7", "400", "mg/dL"),
    # B4: 128 at 02:30 CEST (00:30Z) and 128 at 02:30 CET (01:30Z): two results an hour apart,
    # not one duplicate: both used, two low results
    ("B4", "S7", "2026-10-25T02:30:00+02:00", "2951-2", "128", "mmol/L"),
    ("B4", "S8", "2026-10-25T02:30:00+01:00", "2951-2", "128", "mmol/L"),
]


def _delivery(folder: Path, parquet: bool) -> Path:
    folder.mkdir()
    labs = pd.DataFrame(
        _LABS, columns=["patient_id", "specimen_id", "specimen_time", "loinc", "value_raw", "unit"]
    )
    labs["status"], labs["specimen_type"] = "final", "Serum"
    if parquet:  # the time typed with its zone, as a warehouse writes a TIMESTAMPTZ column
        written = [pd.Timestamp(t) for t in labs["specimen_time"]]
        local = [t if t.tzinfo else t.tz_localize(BERLIN, ambiguous=True) for t in written]
        utc = [t.tz_convert("UTC") for t in local]  # a naive time: its first occurrence
        columns = {c: pa.array(labs[c]) for c in labs.columns}
        columns["specimen_time"] = pa.array(utc, type=pa.timestamp("us", "UTC"))
        pq.write_table(pa.table(columns), folder / "labs.parquet")
    else:
        labs.to_csv(folder / "labs.csv", index=False)
    patients = sorted({row[0] for row in _LABS})
    meds = pd.DataFrame({"patient_id": patients, "drug_name": "Furosemide 40mg"})
    meds["start_time"] = "2026-01-01T00:00:00"
    meds.to_csv(folder / "medications.csv", index=False)
    pd.DataFrame(
        [("B9", "I10", "ICD-10-CM", "2026-01-01T00:00:00")],
        columns=["patient_id", "code", "code_system", "recorded_time"],
    ).to_csv(folder / "diagnoses.csv", index=False)
    (folder.parent / "berlin.yaml").write_text(f"timezone: {BERLIN}\n")
    return folder


def _screen(folder: Path, *options: str) -> Path:
    out = folder.parent / f"out{len(list(folder.parent.glob('out*')))}"
    mapping = ["--mapping", str(folder.parent / "berlin.yaml")]
    night = ["--out", str(out), "--window-start", NIGHT]
    status = main(["run", "--no-flow", "--input", str(folder), *mapping, *night, *options])
    assert status == 0
    return out / NIGHT


@pytest.mark.parametrize("parquet", [False, True], ids=["csv-offsets", "parquet-timestamptz"])
def test_results_written_with_offsets_in_the_repeated_hour_screen_at_their_instants(
    tmp_path: Path, parquet: bool
) -> None:
    night = _screen(_delivery(tmp_path / "labs", parquet))
    review = pd.read_csv(night / "review_list.csv", dtype=str)
    assert review["patient_id"].tolist() == ["B4", "B3"]  # B1 and B2 paired, not listed
    by_patient = review.set_index("patient_id")
    assert by_patient.loc["B3", "tier"] == "3"
    # read without an offset: the first occurrence, written with its offset (CEST, +02:00)
    assert by_patient.loc["B3", "index_time"] == "2026-10-25T02:30:00+02:00"
    assert by_patient.loc["B4", "n_low_results"] == "2"
    quarantine = pd.read_csv(night / "quarantine.csv", dtype=str)
    assert "duplicate" not in set(quarantine.get("reason", pd.Series(dtype=str)))


def test_the_partitioned_run_reads_the_repeated_hour_alike(tmp_path: Path) -> None:
    folder = _delivery(tmp_path / "labs", parquet=False)
    one = _screen(folder)
    split = _screen(folder, "--partitions", "3")
    assert pd.read_csv(one / "review_list.csv")["patient_id"].tolist() == ["B4", "B3"]
    for name in ("review_list.csv", "evidence.csv", "quarantine.csv"):
        assert (one / name).read_bytes() == (split / name).read_bytes(), name
