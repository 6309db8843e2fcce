"""Every `file:row` of a CSV names the physical line its row starts on (the header is line 1),
whatever lies between the rows: a line the parser cannot split, blank lines, quoted values
holding line breaks (in a column that is read or in one that is not), CR LF line ends, a
byte-order mark, a `"` inside an unquoted value, a last line without line end, a gzip file.
The line numbers below are counted by hand on the file texts; the scan itself is also compared
with a character-by-character reading of the parser's quoting rules, checked against the
parser, on generated files (tests/csv_record_reference.py)."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest
from tests.csv_record_reference import arrow_rows, generated_csv, reference_records

from hyposcreen.config import SiteMapping
from hyposcreen.ingest import csv_parser, recordscan, recordscan_run
from hyposcreen.ingest.canonical import SCHEMAS
from hyposcreen.ingest.tabular import read_table

HEADER = "patient_id,specimen_id,specimen_time,loinc,value_raw,unit,comment"


def row(specimen: str, comment: str = "") -> str:
    return f"P1,{specimen},2026-11-20T06:00:00,2951-2,128,mmol/L,{comment}"


def lines_read(tmp_path: Path, text: str | bytes, name: str = "labs.csv") -> dict[str, str]:
    """specimen_id -> source_row of the rows read, and `malformed:<n>` -> source_row of the
    rows set aside, for a labs file holding `text`."""
    data = text.encode() if isinstance(text, str) else text
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    frame = read_table(tmp_path, SCHEMAS["labs"], SiteMapping()).frame
    assert set(frame["source_file"]) == {name}
    aside = (
        frame["malformed_reason"].notna() if "malformed_reason" in frame else frame["loinc"].isna()
    )
    found = dict(
        zip(frame.loc[~aside, "specimen_id"], frame.loc[~aside, "source_row"], strict=True)
    )
    for number, line in enumerate(frame.loc[aside, "source_row"]):
        found[f"malformed:{number}"] = line
    return found


def test_a_one_field_line_is_set_aside_with_its_line_and_the_rows_after_keep_theirs(
    tmp_path: Path,
) -> None:
    text = "\n".join([HEADER, row("S1"), "see attached note", row("S2"), row("S3")]) + "\n"
    assert lines_read(tmp_path, text) == {"S1": "2", "malformed:0": "3", "S2": "4", "S3": "5"}


def test_blank_lines_count_as_lines(tmp_path: Path) -> None:
    text = "\n".join([HEADER, row("S1"), "", row("S2"), "", "", row("S3"), ""]) + "\n"
    assert lines_read(tmp_path, text) == {"S1": "2", "S2": "4", "S3": "7"}


def test_a_quoted_value_over_two_lines_moves_the_rows_after_it(tmp_path: Path) -> None:
    # the comment column is not read by the labs reader: its line breaks still count
    text = "\n".join(
        [HEADER, row("S1", '"first line\nsecond, line"'), row("S2", '"a\n\nb"'), row("S3")]
    )
    text += "\n"
    assert lines_read(tmp_path, text) == {"S1": "2", "S2": "4", "S3": "7"}


def test_cr_lf_line_ends_and_a_quoted_cr_lf(tmp_path: Path) -> None:
    lines = [HEADER, row("S1"), "", row("S2", '"two\r\nlines"'), "short,row", row("S3")]
    assert lines_read(tmp_path, "\r\n".join(lines) + "\r\n") == {
        "S1": "2",
        "S2": "4",
        "malformed:0": "6",
        "S3": "7",
    }


def test_a_byte_order_mark_and_quoted_header_names(tmp_path: Path) -> None:
    header = ",".join(f'"{name}"' for name in HEADER.split(","))
    text = "\ufeff" + "\n".join([header, row("S1", '"x\ny"'), row("S2")]) + "\n"
    assert lines_read(tmp_path, text.encode("utf-8")) == {"S1": "2", "S2": "4"}


def test_a_quote_inside_an_unquoted_value_is_text(tmp_path: Path) -> None:
    # `5" wound` opens no quoted value: the parser reads it as text, so must the line count
    text = "\n".join([HEADER, row("S1", '5" wound'), row("S2", 'a "b" c'), row("S3")]) + "\n"
    assert lines_read(tmp_path, text) == {"S1": "2", "S2": "3", "S3": "4"}


def test_a_last_line_without_line_end_and_a_gzip_file(tmp_path: Path) -> None:
    text = "\n".join([HEADER, row("S1", '"x\ny"'), "", "note", row("S2")])
    assert lines_read(tmp_path, text, "labs.csv.gz") == {
        "S1": "2",
        "malformed:0": "5",
        "S2": "6",
    }


@pytest.mark.parametrize("chunk", [5, 64, 1 << 20])
def test_the_scan_agrees_with_the_parser_on_generated_files(
    chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Generated files mixing every layout above (and stray quotes, NULL words, a BOM): the
    reference reading must give the parser's rows, and the scan the reference's lines, also
    when a chunk ends inside a quoted value or between CR and LF."""
    monkeypatch.setattr(recordscan, "CHUNK_BYTES", chunk)
    monkeypatch.setattr(recordscan_run, "CHUNK_BYTES", chunk)  # the name the scan reads by
    compared = 0
    for seed in range(250):
        data, columns = generated_csv(seed)
        kept, set_aside = reference_records(data, columns)
        parsed = arrow_rows(data, columns)
        if parsed is None:  # the parser refuses the file (a quote left open at its end)
            continue
        rows, invalid = parsed
        assert rows == [fields for _, fields in kept] and invalid == len(set_aside), data
        scan = recordscan_run.record_lines(io.BytesIO(data), ",", columns)
        assert scan.kept == len(kept), data
        assert scan.lines_of(0, scan.kept).tolist() == [line for line, _ in kept], data
        assert scan.set_aside.tolist() == set_aside, data
        every = sorted([line for line, _ in kept] + set_aside)  # no field counts: all kept
        rows_only = recordscan_run.record_lines(io.BytesIO(data), ",", None)
        assert rows_only.lines_of(0, rows_only.kept).tolist() == every, data
        compared += 1
    assert compared > 200


def test_rows_in_later_batches_after_a_row_set_aside_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file read in several batches (1 MB blocks): the rows before the first row set aside
    are numbered while no field counts are taken, the rows after it from the full scan."""
    monkeypatch.setattr(csv_parser, "_CSV_BLOCK", 1 << 20)
    lines, line, notes = [HEADER], 1, []
    for number in range(60_000):
        if number in (20_000, 45_000):  # rows set aside in the second and the last block
            line += 1
            lines.append("see attached note")
            notes.append(str(line))
        if number in (10_000, 50_000):
            line += 1
            lines.append("")
        line += 1
        comment = '"two\nlines"' if number in (5_000, 40_000) else "x"
        lines.append(row(f"S{line}", comment))  # each row names its own line
        line += comment.count("\n")
    (tmp_path / "labs.csv").write_text("\n".join(lines) + "\n")
    frame = read_table(tmp_path, SCHEMAS["labs"], SiteMapping(), max_row_bytes=1000).frame
    kept = frame[frame["malformed_reason"].isna()]
    assert len(kept) == 60_000
    assert (kept["source_row"] == kept["specimen_id"].str[1:]).all()
    assert frame.loc[frame["malformed_reason"].notna(), "source_row"].tolist() == notes
    # by hand: header + 20,000 rows + a blank line + a second line = 20,003 lines before the
    # first note; 45,000 rows + header + note + blank + two second lines = 45,005 before the next
    assert notes == ["20004", "45006"]
