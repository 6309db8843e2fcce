"""review_list.xlsx: the review list for spreadsheet users (frozen header, filters, tier colours).

Same columns and rows as review_list.csv; numbers stay numbers and times stay times so that
sorting and filtering work in the spreadsheet. A second sheet states the run and the notice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from functools import lru_cache
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd

from hyposcreen.report.clinical_times import instant_zone
from hyposcreen.report.column_headers import header_text
from hyposcreen.report.review_list import DISCLAIMER
from hyposcreen.report.review_text import review_offsets
from hyposcreen.report.safe_cells import neutralise_frame, neutralise_text
from hyposcreen.report.writers import write_atomic
from hyposcreen.report.xlsx_cells import (
    cell_head_parts,
    column_cells,
    column_letter,
    frame_cell_parts,
    row_number_texts,
    sheet_rows,
    text_cells,
)
from hyposcreen.report.xlsx_package import Sheet, write_package
from hyposcreen.report.xlsx_styles import MAIN, Styles

ROWS_PER_SLICE = 4096  # the sheet's rows are made and written this many at a time
# fill, font colour: the tier name is in the row too, so colour is never the only signal
TIER_STYLES = {1: ("FDE3E1", "8A1C13"), 2: ("FFF0D1", "6B4100"), 3: ("E3EEFA", "1A4778")}
WIDE_COLUMNS = {"evidence": 70, "considerations": 70, "overcorrection_pair": 40}
# texts put in clinical words by `plain` (times with the site's zone, "20 Nov 2026 01:00 CET",
# as the page shows them): the evidence, and the over-rapid correction's two results (no
# `factor: ` before them, so only their times are reworded)
WORDED = ("evidence", "overcorrection_pair")
WRAPPED = {"evidence", "considerations", "overcorrection_pair", "risk_factors", "missing_workup"}
# the nightly state's times, ISO text in the list (review_list._time_or_blank): time cells here,
# as the others, so they sort and filter as times and their header names the zone
STATE_TIMES = ("previously_listed", "last_reviewed")
TIME_COLUMNS = {"index_time", "nadir_time", "window_start", "window_end", *STATE_TIMES}
TIME_FORMAT = "dd mmm yyyy hh:mm"
ONE_DECIMAL = {"index_sodium", "corrected_sodium", "latest_sodium", "delta_48h"}
WHOLE_NUMBER = {"index_glucose"}  # glucose in mg/dL at clinical precision


def _review_styles(styles: Styles, columns: list[str]) -> np.ndarray:
    """style id per (tier: none, 1, 2, 3; column): alignment, border and number format per
    column; each row filled in its tier's colour, with rank, tier and tier name in bold ink."""
    table = np.zeros((4, len(columns)), dtype="int64")
    for tier in (0, *TIER_STYLES):
        for position, name in enumerate(columns):
            table[tier, position] = _cell_style(styles, tier, name)
    return table


def _cell_style(styles: Styles, tier: int, name: str, time_format: str = TIME_FORMAT) -> int:
    """The style of a cell of column `name` in a row of `tier` (0: none); a time column's
    cells show `time_format`."""
    fill, ink = TIER_STYLES.get(tier, (None, None))
    number_format = (
        styles.number_format(time_format)
        if name in TIME_COLUMNS
        else styles.number_format("0")
        if name in WHOLE_NUMBER
        else styles.number_format("0.0")
        if name in ONE_DECIMAL
        else 0
    )
    bold = ink is not None and name in ("tier", "tier_name", "rank")
    return styles.cell(
        font=styles.font(bold=True, color=ink) if bold else 0,
        fill=styles.fill(fill) if fill else 0,
        border=styles.bottom_border("C9CED6"),
        number_format=number_format,
        vertical="top",
        wrap=name in WRAPPED,
    )


def _zoned_time_styles(
    review: pd.DataFrame, styles: Styles, timezone: str, tier_row: np.ndarray, shown: np.ndarray
) -> None:
    """A case time in an hour the clocks repeat (the list's review_text.TIME_OFFSETS) is
    shown with the zone of its instant in its cell's format ('25 Oct 2026 02:30 CET'; the
    header names the site's zone, which shows that hour twice): `shown`, the style of each
    row's cells, set for those cells (a handful on the night the clocks go back)."""
    for position, name in enumerate(review.columns):
        offsets = review_offsets(review, name) if name in ("index_time", "nadir_time") else None
        if offsets is None:
            continue
        stamps = review[name].to_numpy()
        for row in np.flatnonzero(~pd.isna(offsets)):
            zone = escape(instant_zone(timezone, stamps[row], offsets[row]), quote=True)
            code = f"{TIME_FORMAT} &quot;{zone}&quot;"
            shown[row, position] = str(_cell_style(styles, int(tier_row[row]), name, code))


def _review_sheet(
    review: pd.DataFrame,
    styles: Styles,
    timezone: str,
    plain: Callable[[np.ndarray], np.ndarray] | None = None,
    rows_per_slice: int | None = None,
    delta_hours: float = 48.0,
) -> Iterator[str]:
    """The list's sheet: header row, one row per case, frozen header and first three columns,
    filters, column widths and print set-up (A4 landscape, fitted to the page width). Its
    styles are registered at once; its rows are made (evidence in `plain` words, cells
    neutralised) a slice at a time as the sheet is written."""
    columns = list(review.columns)
    last = column_letter(len(columns))
    zone = f" ({timezone})" if timezone else ""
    header_style = styles.cell(
        font=styles.font(bold=True, color="FFFFFF"),
        fill=styles.fill("1B1F24"),
        vertical="center",
        wrap=True,
    )
    # the headers are texts: each neutralised as neutralise_frame would (safe_cells)
    headers = tuple(
        neutralise_text(header_text(c, delta_hours) + (zone if c in TIME_COLUMNS else ""))
        for c in columns
    )
    header_heads = tuple(
        f'<c r="{column_letter(i)}1" s="{header_style}"' for i in range(1, 1 + len(columns))
    )
    header_cells = _header_cells(header_heads, headers)
    header_height = ' ht="30" customHeight="1"'
    style_table = _review_styles(styles, columns)
    rows = len(review) + 1
    widths = "".join(
        f'<col width="{WIDE_COLUMNS.get(name, max(10, len(name) + 2))}" customWidth="1" '
        f'min="{i}" max="{i}" />'
        for i, name in enumerate(columns, start=1)
    )
    head = (
        f'<worksheet xmlns="{MAIN}"><sheetPr><outlinePr summaryBelow="1" summaryRight="1" />'
        f'<pageSetUpPr fitToPage="1" /></sheetPr><dimension ref="A1:{last}{rows}" />'
        '<sheetViews><sheetView workbookViewId="0"><pane xSplit="3" ySplit="1" '
        'topLeftCell="D2" activePane="bottomRight" state="frozen" /><selection pane="topRight" />'
        '<selection pane="bottomLeft" /><selection pane="bottomRight" activeCell="A1" '
        'sqref="A1" /></sheetView></sheetViews><sheetFormatPr baseColWidth="8" '
        f'defaultRowHeight="15" /><cols>{widths}</cols><sheetData>'
        + sheet_rows([header_cells[i : i + 1] for i in range(len(columns))], 1, header_height)
    )
    tail = (
        f'</sheetData><autoFilter ref="A1:{last}{rows}" /><printOptions gridLines="0" />'
        '<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5" />'
        '<pageSetup orientation="landscape" paperSize="9" fitToHeight="0" fitToWidth="1" />'
        "</worksheet>"
    )

    step = rows_per_slice or ROWS_PER_SLICE

    def pieces() -> Iterator[str]:
        yield head
        for first in range(0, len(review), step):
            rows = review.iloc[first : first + step]
            yield _review_rows(rows, style_table, first + 2, plain, (styles, timezone))
        yield tail

    return pieces()


@lru_cache(maxsize=8)
def _header_cells(heads: tuple[str, ...], headers: tuple[str, ...]) -> np.ndarray:
    """The header row's `<c>` elements (the same columns every night of a loop: made once,
    read-only)."""
    cells = column_cells(np.array(heads, dtype=object), pd.Series(list(headers)))
    cells.setflags(write=False)
    return cells


def _review_rows(
    review: pd.DataFrame,
    style_table: np.ndarray,
    first_row: int,
    plain: Callable[[np.ndarray], np.ndarray] | None,
    zones: tuple[Styles, str] | None = None,
) -> str:
    """The `<row>`s of a slice of the list from sheet row `first_row` on, each row filled in
    its tier's style."""
    for column in WORDED:
        if plain is not None and column in review.columns:  # the pair's times: in the zone
            texts = pd.Series(review[column].to_numpy(), dtype=object).astype("str")
            worded = pd.Series(plain(texts.to_numpy(object)), review.index)
            review = review.assign(**{column: worded})
    tier_row = _tier_rows(review)
    values = frame_cell_parts(neutralise_frame(review))
    row_numbers = row_number_texts(first_row, len(review))
    style_texts = style_table.astype("str").astype(object)[tier_row]  # each row's, per column
    if zones is not None:
        _zoned_time_styles(review, *zones, tier_row, style_texts)
    cells = [
        [f'<c r="{column_letter(position + 1)}', row_numbers, style_texts[:, position], '"']
        + values[position]
        for position in range(len(review.columns))
    ]
    return sheet_rows(cells, first_row)


def _tier_rows(review: pd.DataFrame) -> np.ndarray:
    """Each row's line of the style table: its tier (1, 2, 3), 0 for any other or none."""
    if "tier" not in review:
        return np.zeros(len(review), dtype="int64")
    tiers = review["tier"]
    if pd.api.types.is_numeric_dtype(tiers.dtype) and not pd.api.types.is_bool_dtype(tiers.dtype):
        numbers = tiers.to_numpy(dtype="float64", na_value=np.nan)
        return np.where(np.isin(numbers, list(TIER_STYLES)), numbers, 0).astype("int64")
    return tiers.where(tiers.isin(list(TIER_STYLES)), 0).fillna(0).astype("int64").to_numpy()


def _about_sheet(about: dict[str, str], styles: Styles) -> str:
    """The run and the notice, one `key | value` row each."""
    pairs = [*about.items(), ("notice", DISCLAIMER)]
    # a few texts of the run, not rows of the extract: each neutralised on its own, as
    # neutralise_frame neutralises text (anything else goes through neutralise_frame)
    if all(isinstance(text, str) for pair in pairs for text in pair):  # as frame_cell_parts
        keys = text_cells([str(neutralise_text(k)) for k, _ in pairs])  # each once a run
        values = text_cells([str(neutralise_text(v)) for _, v in pairs])
    else:
        frame = neutralise_frame(
            pd.DataFrame({"key": [k for k, _ in pairs], "value": [v for _, v in pairs]})
        )
        keys, values = frame_cell_parts(frame)  # both columns' text in one pass
    key_style = styles.cell(font=styles.font(bold=True))
    value_style = styles.cell(vertical="top", wrap=True)
    cells = [
        cell_head_parts("A", 1, np.full(len(pairs), key_style)) + keys,
        cell_head_parts("B", 1, np.full(len(pairs), value_style)) + values,
    ]
    return (
        f'<worksheet xmlns="{MAIN}"><sheetPr><outlinePr summaryBelow="1" summaryRight="1" />'
        f'<pageSetUpPr /></sheetPr><dimension ref="A1:B{len(pairs)}" /><sheetViews>'
        '<sheetView workbookViewId="0"><selection activeCell="A1" sqref="A1" /></sheetView>'
        '</sheetViews><sheetFormatPr baseColWidth="8" defaultRowHeight="15" /><cols>'
        '<col width="18" customWidth="1" min="1" max="1" />'
        '<col width="110" customWidth="1" min="2" max="2" /></cols><sheetData>'
        + sheet_rows(cells, 1)
        + '</sheetData><pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" '
        'footer="0.5" /></worksheet>'
    )


def _state_times(review: pd.DataFrame) -> pd.DataFrame:
    """The list with its nightly-state times ('2026-11-20T15:00:00', '' for none) as times
    (NaT for none: an empty cell)."""
    present = [c for c in STATE_TIMES if c in review.columns and review[c].dtype.kind != "M"]
    if not present:
        return review
    times = {}
    for column in present:
        text = review[column].astype("str")
        times[column] = pd.to_datetime(text.where(text != ""), format="ISO8601")
    shown = review.assign(**times)
    shown.attrs = review.attrs  # the offsets of times in a repeated hour (review_text)
    return shown


def write_review_workbook(
    path: Path,
    review: pd.DataFrame,
    about: dict[str, str],
    stamp: pd.Timestamp,
    plain: Callable[[np.ndarray], np.ndarray] | None = None,
    timezone: str = "",
    delta_hours: float = 48.0,
) -> Path:
    """Written 0600 (it holds identifiers). `plain` rewrites the evidence texts (a column of
    them) in clinical words (words.py); time headers name the site's `timezone`. Document
    properties carry `stamp` (the window end), not the wall clock, so the same run gives the
    same bytes. `delta_hours`: the rules' delta window, named in that column's header."""
    styles = Styles()
    review = _state_times(review)
    sheets = [
        Sheet("Review list", _review_sheet(review, styles, timezone, plain, None, delta_hours)),
        Sheet("About this list", _about_sheet(about, styles)),
    ]
    last = column_letter(max(len(review.columns), 1))
    names = (
        '<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" '
        f"hidden=\"1\">'Review list'!$A$1:${last}${len(review) + 1}</definedName>"
        '<definedName name="_xlnm.Print_Titles" localSheetId="0">\'Review list\'!$1:$1'
        "</definedName></definedNames>"
    )
    moment: datetime = pd.Timestamp(stamp).to_pydatetime()
    return write_atomic(path, lambda tmp: write_package(tmp, sheets, styles, names, moment))
