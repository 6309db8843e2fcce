"""Spec §1: CSV and Parquet extracts with a site column mapping map onto the canonical tables."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from helpers import days, run_screen, sodium
from hyposcreen.config import SiteMapping, Window, load_mapping
from hyposcreen.errors import ConfigError, InputError
from hyposcreen.ingest import timeparse
from hyposcreen.ingest.canonical import LABS
from hyposcreen.ingest.tabular import read_table
from hyposcreen.ingest.timeparse import parse_times

LAB_ROWS = {
    "patient_id": ["P1", "P1", "P2"],
    "specimen_time": ["2026-11-20T06:10:00", "2026-11-20T07:00:00", "2026-11-21T23:59:00"],
    "loinc": ["2951-2", "2345-7", "2951-2"],
    "value_raw": ["128", "<100", "HEMOLYZED"],
    "unit": ["mmol/L", "mg/dL", "mmol/L"],
    "specimen_id": ["S1", "S1", None],
}


def write_csv(path: Path, columns: dict[str, list]) -> Path:
    pd.DataFrame(columns).to_csv(path, index=False)
    return path


def read_labs(folder: Path, mapping: SiteMapping | None = None) -> pd.DataFrame:
    return read_table(folder, LABS, mapping or SiteMapping()).frame


def canonical(frame: pd.DataFrame) -> pd.DataFrame:
    """The canonical columns only (provenance such as source_row differs by format)."""
    columns = [c for c in LABS.columns if c != "source_row"]
    return frame[columns].reset_index(drop=True)


def test_csv_and_parquet_with_the_same_data_give_the_same_canonical_frame(
    tmp_path: Path,
) -> None:
    (tmp_path / "csv").mkdir()
    (tmp_path / "parquet").mkdir()
    write_csv(tmp_path / "csv" / "labs.csv", LAB_ROWS)
    table = pa.table(
        {
            **{k: pa.array(v, pa.string()) for k, v in LAB_ROWS.items() if k != "specimen_time"},
            # typed timestamps in Parquet, text in CSV: same instants
            "specimen_time": pa.array(
                pd.to_datetime(LAB_ROWS["specimen_time"]), pa.timestamp("us")
            ),
        }
    )
    pq.write_table(table, tmp_path / "parquet" / "labs.parquet")
    from_csv = canonical(read_labs(tmp_path / "csv"))
    from_parquet = canonical(read_labs(tmp_path / "parquet"))
    pd.testing.assert_frame_equal(from_csv, from_parquet)
    assert list(from_csv["value_raw"]) == ["128", "<100", "HEMOLYZED"]
    assert from_csv["specimen_time"].iloc[0] == pd.Timestamp("2026-11-20 06:10")


def test_mapping_renames_upper_case_columns_and_reads_a_datetime_format(tmp_path: Path) -> None:
    write_csv(
        tmp_path / "LAB_EXTRACT.csv",
        {
            "PAT_ID": ["P7"],
            "COLLECTED_AT": ["20.11.2026 06:10"],
            "LOINC_CODE": ["2951-2"],
            "RESULT": ["131"],
            "UNITS": ["mmol/L"],
        },
    )
    mapping_file = tmp_path / "mapping.yaml"
    mapping_file.write_text(
        "site: test\n"
        "timezone: UTC\n"
        "tables:\n"
        "  labs:\n"
        "    file: LAB_EXTRACT\n"
        "    columns:\n"
        "      patient_id: PAT_ID\n"
        "      specimen_time: COLLECTED_AT\n"
        "      loinc: LOINC_CODE\n"
        "      value_raw: RESULT\n"
        "      unit: UNITS\n"
        "    datetime_formats: ['%d.%m.%Y %H:%M']\n",
        encoding="utf-8",
    )
    labs = read_labs(tmp_path, load_mapping(mapping_file))
    row = labs.iloc[0]
    assert (row["patient_id"], row["loinc"], row["value_raw"], row["unit"]) == (
        "P7",
        "2951-2",
        "131",
        "mmol/L",
    )
    assert row["specimen_time"] == pd.Timestamp("2026-11-20 06:10")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("timezon: UTC\n", "timezon"),
        ("tables:\n  labs:\n    colums: {patient_id: PID}\n", "colums"),
        ("csv:\n  delimeter: ';'\n", "delimeter"),
    ],
)
def test_unknown_mapping_key_is_a_config_error_naming_the_key(
    tmp_path: Path, text: str, key: str
) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=key):
        load_mapping(path)


def test_unknown_table_in_mapping_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text("tables:\n  vitals: {}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="vitals"):
        load_mapping(path)


def test_missing_required_column_is_an_input_error_naming_the_column(tmp_path: Path) -> None:
    rows = {k: v for k, v in LAB_ROWS.items() if k != "unit"}
    write_csv(tmp_path / "labs.csv", rows)
    with pytest.raises(InputError, match="unit") as error:
        read_labs(tmp_path)
    assert error.value.column == "unit"


def test_missing_loinc_and_lab_name_is_an_input_error(tmp_path: Path) -> None:
    rows = {k: v for k, v in LAB_ROWS.items() if k != "loinc"}
    write_csv(tmp_path / "labs.csv", rows)
    with pytest.raises(InputError, match="loinc or lab_name"):
        read_labs(tmp_path)


def test_times_with_offsets_are_converted_to_the_site_time_zone(tmp_path: Path) -> None:
    write_csv(
        tmp_path / "labs.csv",
        {
            "patient_id": ["P1"] * 4,
            "specimen_time": [
                "2026-11-20T06:10:00Z",  # UTC → Berlin (CET, +1 h) 07:10
                "2026-07-01T12:00:00+00:00",  # summer (CEST, +2 h) → 14:00
                "2026-11-20T06:10:00-05:00",  # 11:10 UTC → 12:10 Berlin
                "2026-11-20T06:10:00",  # no offset: already site-local
            ],
            "loinc": ["2951-2"] * 4,
            "value_raw": ["130"] * 4,
            "unit": ["mmol/L"] * 4,
        },
    )
    labs = read_labs(tmp_path, SiteMapping(timezone="Europe/Berlin"))
    assert list(labs["specimen_time"]) == [
        pd.Timestamp("2026-11-20 07:10"),
        pd.Timestamp("2026-07-01 14:00"),
        pd.Timestamp("2026-11-20 12:10"),
        pd.Timestamp("2026-11-20 06:10"),
    ]


def test_parse_times_never_raises_on_garbage() -> None:
    parsed = parse_times(
        pd.Series(["garbage", "", None, "2026-02-30T00:00:00"], dtype="str"), "UTC"
    )
    assert parsed.isna().all()


def test_the_offset_test_in_arrow_answers_as_pythons_re() -> None:
    """Whether a text ends in a clock time with a UTC offset: Arrow's RE2 on ASCII text gives
    the answer of Python's `re` (its \\d, \\s and $ differ on some characters)."""
    bases = ["2026-11-20T10:00:00", "2026-11-20", "2026-11-20-05", "2026-11-20T10:00", "10:00"]
    bases += ["20261120T100000", "20261120T1000", "2026-11-20T10", "20261120"]  # basic form
    tails = [
        *("", "Z", "z", "+01", "+0100", "+01:00", "-05:00", " +01:00", "\t+01:00"),
        *("\x0b+01", "\x1c+01", "\x1f-05", "\x85+01", "\u3000+01", "+01\n", "+01\n\n"),
        *("Z\n", "+1", "+001", ".123+01:00", ",5Z", ".Z", "+01:0", "+01:000", "\n"),
    ]
    texts = [b + t for b in bases for t in tails] + ["١٢:٣٠+01", "12:30+٠١", "x", ""]
    python = [bool(re.search(timeparse._OFFSET, t)) for t in texts]
    found = dict(zip(texts, python, strict=True))
    # where RE2's defaults would answer otherwise: \x1c is a space to Python, `$` matches
    # before one last line end, Arabic-Indic digits are digits; and no clock time, no offset
    assert found["10:00\x1c+01"] and found["10:00+01\n"] and found["١٢:٣٠+01"]
    assert not found["10:00+01\n\n"] and not found["2026-11-20-05"] and not found["10:00z"]
    # ISO 8601's basic clock after its T has an offset too, a date alone still none
    assert found["20261120T100000Z"] and found["20261120T1000+0100"] and found["2026-11-20T10Z"]
    assert not found["20261120-05:00"] and not found["20261120+0100"]
    ascii_texts = [t for t in texts if t.isascii()]
    in_arrow = timeparse._has_offset(pd.Series(ascii_texts, dtype="str")).tolist()
    assert in_arrow == [bool(re.search(timeparse._OFFSET, t)) for t in ascii_texts]
    mixed = timeparse._has_offset(pd.Series(texts, dtype="str")).tolist()  # pandas' re
    assert mixed == python


def test_a_site_format_with_offsets_reads_summer_and_winter_time_in_one_batch() -> None:
    """Offsets of a site format differ across the year (+0200 in summer, +0100 in winter):
    each value is read on its own, as the same instant in Berlin wall time."""
    text = pd.Series(
        [
            "20.07.2026 06:00 +0200",  # CEST: 04:00 UTC -> 06:00 Berlin
            "20.11.2026 06:00 +0100",  # CET: 05:00 UTC -> 06:00 Berlin
            "20.11.2026 06:00 +0000",  # 06:00 UTC -> 07:00 Berlin
            "2026-11-20T06:00:00",  # not the site format: ISO, site-local already
            "garbage",
        ],
        dtype="str",
    )
    parsed = parse_times(text, "Europe/Berlin", ("%d.%m.%Y %H:%M %z",))
    assert parsed.tolist()[:4] == [
        pd.Timestamp("2026-07-20 06:00"),
        pd.Timestamp("2026-11-20 06:00"),
        pd.Timestamp("2026-11-20 07:00"),
        pd.Timestamp("2026-11-20 06:00"),
    ]
    assert pd.isna(parsed.iloc[4])
    alone = [parse_times(text.iloc[[i]], "Europe/Berlin", ("%d.%m.%Y %H:%M %z",)) for i in range(4)]
    assert [a.iloc[0] for a in alone] == parsed.tolist()[:4]  # no value depends on the others


def test_year_2150_dates_are_valid(tmp_path: Path) -> None:
    write_csv(
        tmp_path / "labs.csv",
        {
            "patient_id": ["P1"],
            "specimen_time": ["2150-03-01T08:00:00"],
            "loinc": ["2951-2"],
            "value_raw": ["128"],
            "unit": ["mmol/L"],
        },
    )
    assert read_labs(tmp_path)["specimen_time"].iloc[0] == pd.Timestamp("2150-03-01 08:00")


def test_date_shifted_extract_in_2150_is_screened() -> None:
    t = pd.Timestamp("2150-03-01 08:00")
    window = Window(pd.Timestamp("2150-03-01"), pd.Timestamp("2150-03-02"))
    result = run_screen([sodium("128", t), sodium("140", t - days(1))], window=window)
    assert list(result.cases["patient_id"]) == ["P1"]
    assert result.cases.iloc[0]["index_time"] == t


def test_semicolon_delimited_csv_is_read(tmp_path: Path) -> None:
    (tmp_path / "labs.csv").write_text(
        "patient_id;specimen_time;loinc;value_raw;unit\nP1;2026-11-20T06:10:00;2951-2;128;mmol/L\n",
        encoding="utf-8",
    )
    assert read_labs(tmp_path).iloc[0]["value_raw"] == "128"


def test_a_gzip_extract_is_scanned_with_bounded_memory(tmp_path: Path) -> None:
    """A .csv.gz of ~0.5 MB that expands to 200 MB: the line scan (oversized rows, line count,
    tail) decompresses it in chunks, so its peak RSS grows far less than the expanded size;
    the counts are the hand-known ones, and one over-long row is found at its offset."""
    import gzip
    import subprocess
    import sys

    line = b"P1,2026-11-20T08:00:00,128,mmol/L,2951-2,serum,final\n"  # 53 bytes
    header = b"patient_id,specimen_time,value_raw,unit,loinc,specimen_type,status\n"
    block = line * 20_000  # 1.06 MB
    blocks = 190
    long_row = b"P2," + b"9" * 3_000_000 + b"\n"
    path = tmp_path / "labs.csv.gz"
    with gzip.open(path, "wb", compresslevel=1) as handle:
        handle.write(header)
        for index in range(blocks):
            handle.write(block)
            if index == 100:
                handle.write(long_row)
    expanded = len(header) + blocks * len(block) + len(long_row)
    assert expanded > 200_000_000 and path.stat().st_size < expanded / 100
    probe = (
        "import resource, sys\n"
        "from pathlib import Path\n"
        "from hyposcreen.ingest.linescan import scan_file\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "scan = scan_file(Path(sys.argv[1]), 1 << 20)\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(after - before, scan.size, scan.line_ends, list(scan.long_lines))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(path)], capture_output=True, text=True, check=True
    )
    grown_kib, size, line_ends, long_lines = done.stdout.split(" ", 3)
    assert int(size) == expanded
    assert int(line_ends) == 1 + blocks * 20_000 + 1
    start = len(header) + 101 * len(block)
    assert long_lines.strip() == str([(start, len(long_row) - 1)])
    assert int(grown_kib) * 1024 < 100_000_000, f"peak RSS grew {int(grown_kib) // 1024} MiB"
