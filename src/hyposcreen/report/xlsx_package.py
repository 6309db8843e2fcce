"""A small XLSX (Office Open XML) writer: sheets whose cells `xlsx_cells` made, put in one zip
package.

The review workbook has thousands of rows and a few dozen styles; building a cell object per
value (openpyxl) made it the slowest output of a run. Here the cells are XML text made a
column at a time (`xlsx_cells`), a sheet one join, and the package a zip whose entries carry a
fixed time, so the same cells give the same bytes. The XML is what openpyxl writes for the
same workbook (inline strings, `%.16g` numbers, Excel serial times), so any reader of the
former reads this one.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path

from hyposcreen.report.xlsx_styles import MAIN, Styles

RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # zip entries hold DOS times; the package time is in core.xml


@dataclass(frozen=True)
class Sheet:
    """One worksheet: its name and the XML of its `<worksheet>` element, whole or as pieces
    in order (a long sheet is streamed into the package a slice of rows at a time)."""

    name: str
    xml: str | Iterable[str]


def write_package(
    path: Path, sheets: list[Sheet], styles: Styles, defined_names: str, moment: datetime
) -> None:
    """The .xlsx zip: content types, relationships, document properties (creator hyposcreen,
    created and modified at `moment`), workbook, styles, theme and sheets."""
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    sheet_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
    office = "application/vnd.openxmlformats-officedocument"
    overrides = [
        ("/xl/styles.xml", f"{office}.spreadsheetml.styles+xml"),
        ("/xl/theme/theme1.xml", f"{office}.theme+xml"),
        ("/docProps/core.xml", "application/vnd.openxmlformats-package.core-properties+xml"),
        ("/docProps/app.xml", f"{office}.extended-properties+xml"),
        *[(f"/xl/worksheets/sheet{i}.xml", sheet_type) for i in range(1, len(sheets) + 1)],
        ("/xl/workbook.xml", f"{office}.spreadsheetml.sheet.main+xml"),
    ]
    content_types = (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml" /><Default Extension="xml" ContentType="application/xml" />'
        + "".join(f'<Override PartName="{p}" ContentType="{t}" />' for p, t in overrides)
        + "</Types>"
    )
    relations = (
        f'<Relationships xmlns="{PACKAGE_RELS}">'
        f'<Relationship Type="{RELS}/officeDocument" Target="xl/workbook.xml" Id="rId1" />'
        f'<Relationship Type="{PACKAGE_RELS}/metadata/core-properties" '
        'Target="docProps/core.xml" Id="rId2" />'
        f'<Relationship Type="{RELS}/extended-properties" Target="docProps/app.xml" Id="rId3" />'
        "</Relationships>"
    )
    app = (
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
        'extended-properties"><Application>hyposcreen</Application></Properties>'
    )
    core = (
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
        'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:creator>hyposcreen'
        f'</dc:creator><dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
        "</cp:coreProperties>"
    )
    n = len(sheets)
    workbook = (
        f'<workbook xmlns:r="{RELS}" xmlns="{MAIN}"><workbookPr /><bookViews>'
        '<workbookView activeTab="0" /></bookViews><sheets>'
        + "".join(
            f'<sheet name="{s.name}" sheetId="{i}" state="visible" r:id="rId{i}" />'
            for i, s in enumerate(sheets, start=1)
        )
        + f"</sheets>{defined_names}"
        '<calcPr calcId="124519" fullCalcOnLoad="1" /></workbook>'
    )
    workbook_relations = (
        f'<Relationships xmlns="{PACKAGE_RELS}">'
        + "".join(
            f'<Relationship Type="{RELS}/worksheet" Target="/xl/worksheets/sheet{i}.xml" '
            f'Id="rId{i}" />'
            for i in range(1, n + 1)
        )
        + f'<Relationship Type="{RELS}/styles" Target="styles.xml" Id="rId{n + 1}" />'
        f'<Relationship Type="{RELS}/theme" Target="theme/theme1.xml" Id="rId{n + 2}" />'
        "</Relationships>"
    )
    parts = [
        ("docProps/app.xml", app),
        ("docProps/core.xml", core),
        ("xl/theme/theme1.xml", _theme()),
        *[(f"xl/worksheets/sheet{i}.xml", s.xml) for i, s in enumerate(sheets, start=1)],
        ("xl/styles.xml", None),  # after the sheets: their cells register the styles
        ("_rels/.rels", relations),
        ("xl/workbook.xml", workbook),
        ("xl/_rels/workbook.xml.rels", workbook_relations),
        ("[Content_Types].xml", content_types),
    ]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        for name, text in parts:
            entry = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            # deflate level 3: a quarter larger than the default level, in half the time
            setattr(entry, "_compresslevel", 3)  # what writestr(compresslevel=3) sets
            pieces = [styles.xml()] if text is None else [text] if isinstance(text, str) else text
            # the same bytes as one writestr: deflate's output does not depend on how its
            # input is cut, and the entry's header is rewritten with sizes and CRC at close
            with package.open(entry, "w") as member:
                for piece in pieces:
                    member.write(piece.encode("utf-8"))


@lru_cache(maxsize=1)
def _theme() -> str:
    """The workbook's theme (a fixed file shipped with the package; read once)."""
    theme = resources.files("hyposcreen.report").joinpath("templates/xlsx_theme.xml")
    return theme.read_text(encoding="utf-8")
