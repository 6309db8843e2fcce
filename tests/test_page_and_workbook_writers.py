"""The column-at-a-time writers of the review page and workbook: the page of the sample is
pinned byte for byte, and the pieces they are built from behave as the template, markupsafe,
Python and openpyxl did."""

from __future__ import annotations

import difflib
import math
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from markupsafe import escape

from hyposcreen.report.html_text import escape_html, join_runs, number_texts, one_place, run_starts
from hyposcreen.report.xlsx_cells import column_cells, column_letter, frame_cell_parts, text_cells
from hyposcreen.report.xlsx_values import excel_serials
from test_golden_sample import GOLDEN, REGENERATE, SAMPLE, WINDOW, screen_sample_once

GOLDEN_PAGE = GOLDEN / "review_list.html"


def test_the_sample_page_is_byte_identical_to_its_golden(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """review_list.html of the sample equals tests/data/golden/sample/review_list.html
    (regenerate with HYPOSCREEN_REGENERATE_GOLDEN=1, as the CSV goldens)."""
    page = (screen_sample_once(tmp_path_factory.getbasetemp()) / "review_list.html").read_bytes()
    if REGENERATE:
        GOLDEN_PAGE.write_bytes(page)
    want = GOLDEN_PAGE.read_text(encoding="utf-8").splitlines()
    got = page.decode("utf-8").splitlines()
    diff = list(difflib.unified_diff(want, got, "golden", "run", lineterm="", n=1))
    assert not diff, "\n".join(diff[:40])


def test_rows_made_in_slices_give_the_same_page_and_workbook(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page's rows and the workbook's list sheet are made a slice of cases at a time (so
    a long list never exists whole as markup): slices of 2 and 3 of the sample's 35 cases
    (cases whose evidence and sodium points fall in different slices, a last slice shorter
    than the others) give the bytes of the default slices."""
    from hyposcreen.config import RunSettings, parse_window
    from hyposcreen.report import page_cases, spreadsheet
    from hyposcreen.runners.in_process import run_pipeline

    whole = screen_sample_once(tmp_path_factory.getbasetemp())
    monkeypatch.setattr(page_cases, "CASES_PER_SLICE", 2)
    monkeypatch.setattr(spreadsheet, "ROWS_PER_SLICE", 3)
    sliced = tmp_path / "sliced"
    run_pipeline(RunSettings(input_dir=SAMPLE, out_dir=sliced, window=parse_window(*WINDOW)))
    for name in ("review_list.html", "review_list.xlsx"):
        assert (sliced / name).read_bytes() == (whole / name).read_bytes(), name
    assert len(pd.read_csv(whole / "review_list.csv")) > 3 * 3  # several slices of each


def test_html_text_escapes_as_the_template_and_prints_numbers_as_python() -> None:
    texts = ["a & b", "<script>", 'say "hi"', "it's", "plain", "Δ48h ≤ 5"]
    assert list(escape_html(pd.Series(texts))) == [str(escape(t)) for t in texts]
    values = np.array([2.675, 0.05, -0.04, 26.0, 41.400000000000006, 131.25, 1e-5])
    assert list(one_place(values)) == [round(float(v), 1) for v in values]
    assert list(number_texts(values)) == [str(float(v)) for v in values]


def test_runs_of_grouped_rows_are_joined_in_order() -> None:
    keys = np.array(["P1", "P1", "P2", "P3", "P3", "P3"])
    texts = np.array(["a", "b", "c", "d", "e", "f"], dtype=object)
    starts = run_starts(keys)
    assert list(starts) == [True, False, True, True, False, False]
    assert list(join_runs(texts, starts)) == ["ab", "c", "def"]
    assert list(run_starts(np.array([1, 1, 1]), np.array(["x", "y", "y"]))) == [True, True, False]


def test_excel_serials_are_days_since_1899_12_30() -> None:
    times = pd.Series(pd.to_datetime(["2026-11-20 05:00", "2026-11-21 00:00", None]))
    serials = excel_serials(times)
    # 2026-11-20 is day 46346 after 1899-12-30; 05:00 is 5/24 of a day
    assert serials[0] == 46346 + 5 / 24 and serials[1] == 46347.0
    assert math.isnan(serials[2])


def test_cells_keep_text_numbers_times_and_blanks_apart() -> None:
    heads = np.array(['<c r="A2" s="3"', '<c r="A3" s="3"', '<c r="A4" s="3"'], dtype=object)
    text = column_cells(heads, pd.Series(["a < b & c", " padded", None], dtype=object))
    assert list(text) == [
        '<c r="A2" s="3" t="inlineStr"><is><t>a &lt; b &amp; c</t></is></c>',
        '<c r="A3" s="3" t="inlineStr"><is><t xml:space="preserve"> padded</t></is></c>',
        '<c r="A4" s="3" t="n" />',
    ]
    odd = column_cells(heads[:2], pd.Series(["", "bell\x07 and\r"], dtype=object))
    assert list(odd) == [
        '<c r="A2" s="3" t="inlineStr" />',
        '<c r="A3" s="3" t="inlineStr"><is><t xml:space="preserve">bell\ufffd and&#13;</t>'
        "</is></c>",
    ]
    numbers = column_cells(heads, pd.Series([131.5, 130.0, np.nan]))
    assert list(numbers) == [
        '<c r="A2" s="3" t="n"><v>131.5</v></c>',
        '<c r="A3" s="3" t="n"><v>130</v></c>',
        '<c r="A4" s="3" t="n" />',
    ]
    flags = column_cells(heads[:2], pd.Series([True, False]))
    assert list(flags) == [
        '<c r="A2" s="3" t="b"><v>1</v></c>',
        '<c r="A3" s="3" t="b"><v>0</v></c>',
    ]
    assert [column_letter(n) for n in (1, 26, 27, 31, 703)] == ["A", "Z", "AA", "AE", "AAA"]


def test_the_workbook_reads_back_with_openpyxl(tmp_path: Path) -> None:
    """Text stays text (a payload neutralised), numbers numbers, times times; the package
    holds no wall-clock time."""
    from openpyxl import load_workbook

    from hyposcreen.report.spreadsheet import write_review_workbook

    review = pd.DataFrame(
        {
            "rank": [1, 2],
            "tier": [1, 3],
            "patient_id": ["=1+1", "P2"],
            "index_time": pd.to_datetime(["2026-11-20 05:00:07", "2026-11-20 23:59:59"]),
            "delta_48h": [-5.0, np.nan],
            "overcorrection": [True, False],
        }
    )
    path = write_review_workbook(
        tmp_path / "list.xlsx", review, {"run_id": "abc"}, pd.Timestamp("2026-11-21")
    )
    sheet = load_workbook(path)["Review list"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert rows == [
        (1, 1, "'=1+1", pd.Timestamp("2026-11-20 05:00:07").to_pydatetime(), -5, True),
        (2, 3, "P2", pd.Timestamp("2026-11-20 23:59:59").to_pydatetime(), None, False),
    ]
    assert sheet["D2"].number_format == "dd mmm yyyy hh:mm"
    assert sheet["A2"].font.b and sheet["A3"].fill.fgColor.rgb == "00E3EEFA"
    assert {i.date_time for i in zipfile.ZipFile(path).infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_a_workbook_with_non_characters_and_an_overlong_cell_still_opens(tmp_path: Path) -> None:
    """U+FFFE / U+FFFF are not XML characters (replaced by U+FFFD, like control characters);
    a text over Excel's 32,767-character cell limit is cut with a note, so Excel opens the
    file without repairing it."""
    from openpyxl import load_workbook

    from hyposcreen.report.spreadsheet import write_review_workbook
    from hyposcreen.report.xlsx_cells import CELL_MAX_CHARS

    evidence = "loop_diuretic: furosemide; " * 2000  # 54,000 characters
    review = pd.DataFrame(
        {"rank": [1, 2], "patient_id": ["X\uffffY", "Z\ufffe"], "evidence": [evidence, "short"]}
    )
    path = write_review_workbook(
        tmp_path / "list.xlsx", review, {"run_id": "abc"}, pd.Timestamp("2026-11-21")
    )
    rows = list(load_workbook(path)["Review list"].iter_rows(min_row=2, values_only=True))
    assert [r[1] for r in rows] == ["X\ufffdY", "Z\ufffd"]
    assert len(rows[0][2]) == CELL_MAX_CHARS
    assert rows[0][2].startswith(evidence[:1000]) and rows[0][2].endswith("full text]")
    assert rows[1][2] == "short"


@pytest.mark.parametrize(
    ("zone", "local", "shown"),
    [
        # clocks forward 02:00 -> 03:00: a skipped time is shifted past the gap (summer time)
        ("Europe/Berlin", "2026-03-29 01:59", "29 Mar 2026 01:59 CET"),
        ("Europe/Berlin", "2026-03-29 02:30", "29 Mar 2026 02:30 CEST"),
        # clocks back 03:00 -> 02:00: an ambiguous time counts as summer time
        ("Europe/Berlin", "2026-10-25 02:30", "25 Oct 2026 02:30 CEST"),
        ("Europe/Berlin", "2026-10-25 03:00", "25 Oct 2026 03:00 CET"),
        ("America/New_York", "2026-03-08 02:30", "08 Mar 2026 02:30 EDT"),
        ("America/New_York", "2026-11-01 01:30", "01 Nov 2026 01:30 EDT"),
        ("America/New_York", "2026-11-01 02:00", "01 Nov 2026 02:00 EST"),
    ],
)
def test_times_in_a_column_name_the_zone_as_one_time_does(
    zone: str, local: str, shown: str
) -> None:
    from hyposcreen.report.clinical_times import clinical_time, clinical_time_texts

    times = pd.Series(pd.to_datetime([local, "2026-07-01 12:00", None]))
    column = list(clinical_time_texts(times, zone))
    assert column[0] == shown == clinical_time(pd.Timestamp(local), zone)
    assert column[1] == clinical_time(pd.Timestamp("2026-07-01 12:00"), zone) and column[2] == ""


def test_a_sheet_streamed_in_pieces_gives_the_package_of_the_whole_sheet(tmp_path: Path) -> None:
    """The list sheet goes into the zip a slice of rows at a time: deflate's output and the
    entry's header (sizes and CRC rewritten at close) are those of the sheet written whole,
    and the whole-text package is what `ZipFile.writestr` writes."""
    from datetime import datetime

    from hyposcreen.report.xlsx_package import Sheet, write_package
    from hyposcreen.report.xlsx_styles import Styles

    pieces = ["<worksheet>", "a" * 70_000, "é" * 10, "<row>" * 40_000 + "xyz" * 5_000, "</x>"]
    moment = datetime(2026, 11, 21)
    whole, parts = tmp_path / "whole.xlsx", tmp_path / "parts.xlsx"
    write_package(whole, [Sheet("s", "".join(pieces))], Styles(), "", moment)
    write_package(parts, [Sheet("s", iter(pieces))], Styles(), "", moment)
    assert whole.read_bytes() == parts.read_bytes()
    with zipfile.ZipFile(whole) as package:
        assert package.read("xl/worksheets/sheet1.xml").decode("utf-8") == "".join(pieces)
        info = package.getinfo("xl/worksheets/sheet1.xml")
    again = tmp_path / "writestr.zip"
    with zipfile.ZipFile(again, "w") as plain:
        entry = zipfile.ZipInfo(info.filename, date_time=info.date_time)
        entry.compress_type, entry.external_attr = zipfile.ZIP_DEFLATED, info.external_attr
        plain.writestr(entry, "".join(pieces).encode("utf-8"), compresslevel=3)
    with zipfile.ZipFile(again) as plain:
        assert plain.getinfo(info.filename).CRC == info.CRC
        assert plain.getinfo(info.filename).compress_size == info.compress_size


def test_clinical_and_iso_times_read_as_strftime_did() -> None:
    """The page's times are cut out of numpy's ISO text and the CSV's ISO times printed by
    numpy: both equal strftime's text, seconds dropped (floored, also before 1970), the
    zone named at each instant (Berlin: CET in winter, CEST in summer), '' when missing."""
    from hyposcreen.report.clinical_times import clinical_time_texts
    from hyposcreen.report.evidence import iso

    times = pd.Series(
        pd.to_datetime(
            ["2026-11-20 05:07:59.9", "2026-07-01 23:59:00", None, "1969-12-31 23:59:30"],
            format="ISO8601",
        )
    )
    assert list(clinical_time_texts(times, "Europe/Berlin")) == [
        "20 Nov 2026 05:07 CET",
        "01 Jul 2026 23:59 CEST",
        "",
        "31 Dec 1969 23:59 CET",
    ]
    assert list(iso(times)) == [
        "2026-11-20T05:07:59",
        "2026-07-01T23:59:00",
        "",
        "1969-12-31T23:59:30",
    ]
    rng = np.random.default_rng(7)
    many = pd.Series(pd.to_datetime(rng.integers(-(10**9), 4 * 10**9, 5_000), unit="s"))
    assert list(iso(many)) == list(many.dt.strftime("%Y-%m-%dT%H:%M:%S"))
    zone_free = clinical_time_texts(many, "UTC").str.removesuffix(" UTC")
    assert list(zone_free) == list(many.dt.strftime("%d %b %Y %H:%M"))


def test_workbook_numbers_print_once_per_value_and_keep_minus_zero() -> None:
    """Each distinct number is printed once ('%.16g'); -0.0 (a fall rounded to zero) keeps
    its sign as openpyxl wrote it."""
    heads = np.array(['<c r="A2" s="1"', '<c r="A3" s="1"', '<c r="A4" s="1"'], dtype=object)
    cells = column_cells(heads, pd.Series([131.25, -0.0, 0.0]))
    assert list(cells) == [
        '<c r="A2" s="1" t="n"><v>131.25</v></c>',
        '<c r="A3" s="1" t="n"><v>-0</v></c>',
        '<c r="A4" s="1" t="n"><v>0</v></c>',
    ]
    repeated = column_cells(heads, pd.Series([130.5, 129.0, 130.5]))
    assert [c.split("<v>")[1] for c in repeated] == [
        "130.5</v></c>",
        "129</v></c>",
        "130.5</v></c>",
    ]
    serial = column_cells(heads[:1], pd.Series([46346 + 1 / 3]))
    assert list(serial) == ['<c r="A2" s="1" t="n"><v>46346.33333333334</v></c>']


def test_text_cells_remembered_per_text_are_those_of_the_frame() -> None:
    """The about sheet's cells, made once per text and remembered, are frame_cell_parts'
    cells of the same texts (escaped, spaces kept, control characters replaced, empty)."""
    texts = ["rules_version", " leading", "a & b < c", "tab\there", "bell\x07", "", "x\r\ny", "é"]
    expected = frame_cell_parts(pd.DataFrame({"text": texts}))[0]
    for _ in range(2):  # made, then remembered
        shown = text_cells(texts)
        assert [list(np.broadcast_to(p, len(texts))) for p in shown] == [
            list(np.broadcast_to(np.asarray(p, dtype=object), len(texts))) for p in expected
        ]
