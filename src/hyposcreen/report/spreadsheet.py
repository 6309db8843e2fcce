"""review_list.xlsx: the review list for spreadsheet users (frozen header, filters, tier colours).

Same columns and rows as review_list.csv; numbers stay numbers and times stay times so that
sorting and filtering work in the spreadsheet. A second sheet states the run and the notice.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from copy import copy
from datetime import datetime
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from hyposcreen.report.review_list import DISCLAIMER
from hyposcreen.report.safe_cells import neutralise_text
from hyposcreen.report.writers import write_atomic

# fill, font colour: the tier name is in the row too, so colour is never the only signal
TIER_STYLES = {1: ("FDE3E1", "8A1C13"), 2: ("FFF0D1", "6B4100"), 3: ("E3EEFA", "1A4778")}
WIDE_COLUMNS = {"evidence": 70, "considerations": 70, "overcorrection_pair": 40}
WRAPPED = {"evidence", "considerations", "overcorrection_pair", "risk_factors", "missing_workup"}
TIME_COLUMNS = {"index_time", "nadir_time", "window_start", "window_end"}
ONE_DECIMAL = {"index_sodium", "corrected_sodium", "latest_sodium", "delta_48h"}
WHOLE_NUMBER = {"index_glucose"}  # glucose in mg/dL at clinical precision
# the column headers a reader sees (the CSV keeps the machine names); unnamed columns are
# shown with their machine name, underscores as spaces
HEADERS = {
    "rank": "Rank",
    "tier": "Tier",
    "patient_id": "Patient",
    "mrn": "MRN",
    "name": "Name",
    "unit": "Ward",
    "index_time": "Index result time",
    "index_sodium": "Index Na (mmol/L)",
    "corrected_sodium": "Glucose-corrected Na (mmol/L)",
    "severity": "Severity",
    "latest_sodium": "Latest Na (mmol/L)",
    "delta_48h": "Na change over 48 h (mmol/L)",
    "overcorrection": "Over-rapid correction",
    "risk_factors": "Risk factors",
    "correction_risk": "Risk factor for osmotic demyelination",
    "missing_workup": "Workup not found",
    "evidence": "Evidence",
    "considerations": "Considerations",
    "profile": "Profile",
    "rules_version": "Rules version",
    "run_id": "Run",
    "tier_name": "Tier name",
    "n_low_results": "Low results in window",
    "nadir_time": "Lowest result time",
    "trend": "Trend",
    "overcorrection_pair": "Over-rapid correction (results)",
    "cramp_documented": "Cramp documented",
    "index_glucose": "Glucose at index (mg/dL)",
    "window_start": "Window start",
    "window_end": "Window end",
    "relisted_because": "Listed again because",
    "previously_listed": "Previously listed",
    "last_reviewed": "Last reviewed",
    "possibly_spurious": "Possibly spurious result",
}


def header_text(column: str) -> str:
    return HEADERS.get(column, column.replace("_", " "))


def _cell_value(value: object) -> object:
    """Spreadsheet cell values: missing -> empty, timestamps -> naive datetimes."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return neutralise_text(value)


def _text_as_text(sheet: Worksheet) -> None:
    """Every text cell is stored as a string (data type 's'): never as a formula."""
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"


def _style_data_rows(sheet: Worksheet, columns: list[str]) -> None:
    """Alignment, border and number format per column; each row filled in its tier's colour,
    with rank, tier and tier name in bold tier ink.

    A style is built once per (column, tier) and its style record copied to the other cells:
    building style objects cell by cell made a list of thousands of cases take seconds."""
    thin = Border(bottom=Side(style="thin", color="C9CED6"))
    tier_at = columns.index("tier") if "tier" in columns else None
    built: dict[tuple[int, int | None], object] = {}
    for row in sheet.iter_rows(min_row=2):
        value = row[tier_at].value if tier_at is not None else None
        tier = int(value) if value in TIER_STYLES else None
        for position, cell in enumerate(row):
            key = (position, tier)
            if key in built:
                cell._style = copy(built[key])
                continue
            name = columns[position]
            cell.alignment = Alignment(vertical="top", wrap_text=name in WRAPPED)
            cell.border = thin
            if name in TIME_COLUMNS:
                cell.number_format = "dd mmm yyyy hh:mm"
            elif name in WHOLE_NUMBER:
                cell.number_format = "0"
            elif name in ONE_DECIMAL:
                cell.number_format = "0.0"
            if tier is not None:
                fill, ink = TIER_STYLES[tier]
                cell.fill = PatternFill("solid", fgColor=fill)
                if name in ("tier", "tier_name", "rank"):
                    cell.font = Font(bold=True, color=ink)
            built[key] = copy(cell._style)


def build_workbook(
    review: pd.DataFrame,
    about: dict[str, str],
    plain: Callable[[str], str] | None = None,
    timezone: str = "",
) -> Workbook:
    """`plain` rewrites the evidence text in clinical words (display.py); time headers name
    the site's `timezone`."""
    if plain is not None and "evidence" in review.columns:
        review = review.assign(evidence=review["evidence"].astype("str").map(plain))
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Review list"
    columns = list(review.columns)
    zone = f" ({timezone})" if timezone else ""
    sheet.append([header_text(c) + (zone if c in TIME_COLUMNS else "") for c in columns])
    for record in review.itertuples(index=False, name=None):
        sheet.append([_cell_value(v) for v in record])
    header_font = Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor="1B1F24")
    for position, name in enumerate(columns, start=1):
        head = sheet.cell(row=1, column=position)
        head.font, head.fill = header_font, header_fill
        sheet.column_dimensions[get_column_letter(position)].width = WIDE_COLUMNS.get(
            name, max(10, len(name) + 2)
        )
    _style_data_rows(sheet, columns)
    sheet.freeze_panes = "D2"  # header row and rank/tier/patient stay in view
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(sheet.max_row, 1)}"
    head = sheet.row_dimensions[1]
    head.height = 30
    for cell in sheet[1]:
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    _print_setup(sheet)
    _text_as_text(sheet)
    info = book.create_sheet("About this list")
    for key, value in [*about.items(), ("notice", DISCLAIMER)]:
        info.append([neutralise_text(key), neutralise_text(value)])
    _text_as_text(info)
    info.column_dimensions["A"].width = 18
    info.column_dimensions["B"].width = 110
    for row in info.iter_rows():
        row[0].font = Font(bold=True)
        row[1].alignment = Alignment(wrap_text=True, vertical="top")
    return book


def _print_setup(sheet: Worksheet) -> None:
    """A4 landscape, fitted to the page width, the header row repeated on every page."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "1:1"
    sheet.print_options.gridLines = False


def write_review_workbook(
    path: Path,
    review: pd.DataFrame,
    about: dict[str, str],
    stamp: pd.Timestamp,
    plain: Callable[[str], str] | None = None,
    timezone: str = "",
) -> Path:
    """Written 0600 (it holds identifiers). Document properties carry `stamp` (the window
    end), not the wall clock."""
    book = build_workbook(review, about, plain, timezone)
    moment: datetime = pd.Timestamp(stamp).to_pydatetime()
    book.properties.created = moment
    book.properties.modified = moment
    book.properties.creator = "hyposcreen"
    return write_atomic(path, lambda tmp: _save_reproducibly(book, tmp, moment))


def _save_reproducibly(book: Workbook, path: Path, moment: datetime) -> None:
    """openpyxl stamps the save time into docProps/core.xml and every zip entry; write `moment`
    into the former and a fixed time into the latter so the same run gives the same bytes."""
    buffer = io.BytesIO()
    book.save(buffer)
    iso = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    # zip entries carry DOS times (1980-2107); de-identified dates run far past that
    entry_time = (1980, 1, 1, 0, 0, 0)
    with (
        zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for entry in source.infolist():
            data = source.read(entry.filename)
            if entry.filename == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + iso.encode() + rb"\g<2>",
                    data,
                )
            info = zipfile.ZipInfo(entry.filename, date_time=entry_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = entry.external_attr
            target.writestr(info, data)
