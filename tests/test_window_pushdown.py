"""The read window applied in Arrow for typed timestamps (ingest.window_pushdown) drops the
same rows, and counts each under the same reason, as the row-by-row read: unknown LOINC first,
then the analyte selector, then outside_window."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hyposcreen.clean import lab_row_filter
from hyposcreen.config import SiteMapping, Window
from hyposcreen.ingest import batches, csv_parser, window_pushdown
from hyposcreen.ingest.canonical import LABS
from hyposcreen.ingest.tabular import read_table
from hyposcreen.rules.loader import load_rules

WINDOW = Window(pd.Timestamp("2026-11-20"), pd.Timestamp("2026-11-21"))
INSIDE, BEFORE, AFTER = "2026-11-20 06:00:00", "2026-11-01 08:00:00", "2026-11-22 09:00:00"
# the read window starts 72 h context + 60 min glucose pairing before the window: 11-16 23:00
EDGE_IN, EDGE_OUT = "2026-11-16 23:00:00", "2026-11-16 22:59:59"

# (patient, time, loinc, lab_name, specimen_type) -> the reason a row-by-row read gives
ROWS = [
    ("P1", INSIDE, "2951-2", "Sodium", "serum", None),  # kept
    ("P1", EDGE_IN, "2951-2", "Sodium", "serum", None),  # kept: the read window's first instant
    ("P1", EDGE_OUT, "2951-2", "Sodium", "serum", "outside_window"),
    ("P1", BEFORE, "2951-2", "Sodium", "serum", "outside_window"),
    ("P1", AFTER, "2951-2", "Sodium", "serum", "outside_window"),  # at/after the window end
    ("P2", BEFORE, "9999-9", "Mystery", "serum", "unknown_loinc"),  # outside, unknown LOINC
    ("P2", INSIDE, "9999-9", "Mystery", "serum", "unknown_loinc"),
    ("P2", BEFORE, " 9999-9 ", None, None, "unknown_loinc"),  # counted as the trimmed code
    ("P3", BEFORE, None, "mystery test", "serum", "unknown_lab_name"),
    ("P3", AFTER, "", "mystery test", "serum", "unknown_lab_name"),  # blank LOINC = none
    ("P3", INSIDE, None, "mystery test", "serum", "unknown_lab_name"),
    ("P3", BEFORE, None, "other test", "serum", "unknown_lab_name"),
    ("P3", BEFORE, None, None, "serum", "no_lab_identifier"),
    ("P4", BEFORE, "2345-7", "Glucose", "urine", "urine_specimen"),  # no urine counterpart
    ("P4", BEFORE, "2951-2", "Sodium", "urine", "outside_window"),  # urine sodium: an analyte
    ("P4", BEFORE, "2951-2", "Sodium", "pleural fluid", "other_fluid"),
    ("P5", None, "2951-2", "Sodium", "serum", None),  # no time: kept (missing_key later)
    ("P6", BEFORE, None, "Sodium", "serum", "outside_window"),  # by the lab-name dictionary
]
EXPECTED = Counter(reason for *_, reason in ROWS if reason)  # hand-counted in ROWS' comments
UNRECOGNISED = {
    ("loinc", "9999-9"): 3,
    ("lab_name", "mystery test"): 3,
    ("lab_name", "other test"): 1,
}


def _extract(folder: Path, unit: str = "us", tz: str | None = None, group_rows: int = 5) -> Path:
    folder.mkdir()
    times = pd.to_datetime(pd.Series([r[1] for r in ROWS]))
    if tz is not None:  # the same wall times, written as instants with an offset
        times = times.dt.tz_localize(tz)
    table = pa.table(
        {
            "patient_id": [r[0] for r in ROWS],
            "specimen_time": pa.array(times, pa.timestamp(unit, tz=tz)),
            "loinc": [r[2] for r in ROWS],
            "lab_name": [r[3] for r in ROWS],
            "specimen_type": [r[4] for r in ROWS],
            "value_raw": ["130"] * len(ROWS),
            "unit": ["mmol/L"] * len(ROWS),
        }
    )
    pq.write_table(table, folder / "labs.parquet", row_group_size=group_rows)
    return folder


def _read(folder: Path, pushed: bool, mapping: SiteMapping):
    row_filter = lab_row_filter(load_rules(), WINDOW, timezone=mapping.timezone)
    if not pushed:  # the row-by-row read: the selector does not say what it reads
        row_filter = dataclasses.replace(row_filter, select_reads=None)
    return read_table(folder, LABS, mapping, row_filter=row_filter)


@pytest.mark.parametrize(
    ("unit", "tz", "site_tz", "group_rows", "skipped"),
    [
        ("us", None, "UTC", 5, 0),  # no row group wholly outside: split batch by batch
        ("ns", None, "UTC", 5, 0),
        ("ms", "Europe/Berlin", "Europe/Berlin", 5, 0),
        # one row per row group: the 13 rows dated outside are skipped by the statistics
        # (their LOINC and analyte columns only are read; 11 of them pass the LOINC filter)
        ("us", None, "UTC", 1, 11),
        ("ns", None, "UTC", 1, 11),
        ("ms", "Europe/Berlin", "Europe/Berlin", 1, 0),  # instants: not compared as wall times
    ],
)
def test_window_in_arrow_counts_every_row_as_the_row_by_row_read(
    tmp_path: Path,
    unit: str,
    tz: str | None,
    site_tz: str,
    group_rows: int,
    skipped: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = _extract(tmp_path / "extract", unit, tz, group_rows)
    mapping = SiteMapping(timezone=site_tz)
    monkeypatch.setattr(batches, "BATCH_ROWS", 4)  # several batches: groups summed across them
    settled: list[int] = []
    real_classify = window_pushdown.classify
    real_count = window_pushdown.WindowPushdown.count_outside
    counted: list[int] = []

    def counting_classify(frame, weights, *args):  # the pushdown really ran
        settled.append(int(weights.sum()))
        return real_classify(frame, weights, *args)

    def counting_skip(self, batch):
        counted.append(batch.num_rows)
        return real_count(self, batch)

    monkeypatch.setattr(window_pushdown, "classify", counting_classify)
    monkeypatch.setattr(window_pushdown.WindowPushdown, "count_outside", counting_skip)
    pushed = _read(folder, pushed=True, mapping=mapping)
    assert settled == [11]  # rows outside the window that passed the LOINC filter (3+4+3+1)
    assert sum(counted) == skipped
    settled.clear()
    row_by_row = _read(folder, pushed=False, mapping=mapping)
    assert settled == []

    assert pushed.not_relevant == dict(EXPECTED) == row_by_row.not_relevant
    assert pushed.unrecognised == UNRECOGNISED == row_by_row.unrecognised
    assert pushed.rows_in == row_by_row.rows_in == len(ROWS)
    pd.testing.assert_frame_equal(pushed.frame, row_by_row.frame)
    assert pushed.frame["source_row"].tolist() == ["1", "2", "17"]  # the file's own row numbers
    assert pushed.frame["patient_id"].tolist() == ["P1", "P1", "P5"]


def _text_time(wall: str | None, variant: int) -> str:
    """A Berlin wall time written the ways a CSV writes it; each reads back as `wall`."""
    if wall is None:
        return ["", "   ", "soon"][variant % 3]  # blank, spaces, unreadable: no time
    stamp = pd.Timestamp(wall)
    instant = stamp.tz_localize("Europe/Berlin")
    return [
        stamp.strftime("%Y-%m-%dT%H:%M:%S"),
        stamp.strftime("%d.%m.%Y %H:%M:%S"),  # the site's own format (the mapping's)
        instant.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ"),
        instant.strftime("%Y-%m-%d %H:%M:%S%z"),  # +0100
        instant.tz_convert("America/New_York").strftime("%Y-%m-%dT%H:%M:%S-05:00"),
        " " + stamp.strftime("%Y-%m-%d %H:%M:%S") + " ",
    ][variant % 6]


def test_text_times_are_split_in_arrow_after_parsing_them_as_the_row_by_row_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CSV's times are text (site formats, offsets, blanks, unreadable text): each batch is
    split by the times parsed as the row-by-row read parses them, and every row keeps its
    reason and its row number, malformed rows included, over several CSV batches."""
    folder = tmp_path / "extract"
    folder.mkdir()
    copies = 1000  # 18 rows x 1000 ~ 1.7 MB: two CSV blocks (the smallest block holds 1 MB)
    lines = ["patient_id;specimen_time;loinc;lab_name;specimen_type;value_raw;unit"]
    for copy in range(copies):
        for i, (patient, wall, loinc, name, specimen, _) in enumerate(ROWS):
            fields = [patient, _text_time(wall, copy + i), loinc, name, specimen, "130,5"]
            lines.append(";".join(f or "" for f in fields) + ";mmol/L" + " " * 30)
        if copy == 300:
            lines.append("P9;2026-11-20T06:00:00;2951-2;Sodium;serum;130;mmol/L;extra")
    (folder / "labs.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    mapping = SiteMapping(
        timezone="Europe/Berlin", datetime_formats=("%d.%m.%Y %H:%M:%S",), decimal=","
    )
    monkeypatch.setattr(csv_parser, "_CSV_BLOCK", 0)
    settled: list[int] = []
    real_classify = window_pushdown.classify

    def counting_classify(frame, weights, *args):
        settled.append(int(weights.sum()))
        return real_classify(frame, weights, *args)

    monkeypatch.setattr(window_pushdown, "classify", counting_classify)
    splits: list[int] = []
    real_split = window_pushdown.WindowPushdown.split

    def counting_split(self, batch):
        splits.append(batch.num_rows)
        return real_split(self, batch)

    monkeypatch.setattr(window_pushdown.WindowPushdown, "split", counting_split)
    row_filter = lab_row_filter(load_rules(), WINDOW, timezone=mapping.timezone)
    pushed = read_table(folder, LABS, mapping, row_filter=row_filter, max_row_bytes=1024)
    assert len(splits) == 2  # two CSV batches, each split
    assert settled == [11 * copies]  # one classification per file, weighted by its rows
    settled.clear()
    row_by_row = _read_row_by_row(folder, mapping)
    assert settled == []

    expected = {reason: n * copies for reason, n in EXPECTED.items()}
    assert pushed.not_relevant == expected == row_by_row.not_relevant
    assert pushed.unrecognised == {k: n * copies for k, n in UNRECOGNISED.items()}
    assert pushed.unrecognised == row_by_row.unrecognised
    assert pushed.rows_in == row_by_row.rows_in == len(ROWS) * copies + 1
    pd.testing.assert_frame_equal(pushed.frame, row_by_row.frame)
    kept = pushed.frame.loc[pushed.frame["malformed_reason"].isna()]
    assert kept["patient_id"].tolist() == ["P1", "P1", "P5"] * copies
    assert kept["source_row"].tolist()[:6] == ["2", "3", "18", "20", "21", "36"]
    malformed = pushed.frame.loc[pushed.frame["malformed_reason"].notna()]
    assert malformed["malformed_reason"].tolist() == ["malformed_row"]
    assert malformed["malformed_text"].str.endswith(";extra").tolist() == [True]


def _read_row_by_row(folder: Path, mapping: SiteMapping):
    row_filter = lab_row_filter(load_rules(), WINDOW, timezone=mapping.timezone)
    row_filter = dataclasses.replace(row_filter, select_reads=None)
    return read_table(folder, LABS, mapping, row_filter=row_filter, max_row_bytes=1024)
