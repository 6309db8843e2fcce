"""The styles part of an XLSX workbook (xl/styles.xml): fonts, fills, borders, number
formats and the cell formats that combine them, each registered once, in the order first
asked for, so the same workbook gets the same style ids."""

from __future__ import annotations

from dataclasses import dataclass, field

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


@dataclass
class Styles:
    """The styles of a workbook: fonts, fills, borders, number formats and cell formats (xf),
    each registered once in the order first asked for (so the same workbook, same ids)."""

    fonts: list[str] = field(
        default_factory=lambda: [
            '<font><name val="Calibri" /><family val="2" /><color theme="1" /><sz val="11" />'
            '<scheme val="minor" /></font>'
        ]
    )
    fills: list[str] = field(
        default_factory=lambda: [
            "<fill><patternFill /></fill>",
            '<fill><patternFill patternType="gray125" /></fill>',
        ]
    )
    borders: list[str] = field(
        default_factory=lambda: ["<border><left /><right /><top /><bottom /><diagonal /></border>"]
    )
    formats: list[str] = field(default_factory=list)  # custom number formats, ids from 164
    cells: list[str] = field(
        default_factory=lambda: ['<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" />']
    )

    @staticmethod
    def _add(items: list[str], xml: str) -> int:
        if xml not in items:
            items.append(xml)
        return items.index(xml)

    def font(self, bold: bool = False, color: str | None = None) -> int:
        parts = ('<b val="1" />' if bold else "") + (f'<color rgb="00{color}" />' if color else "")
        return self._add(self.fonts, f"<font>{parts}</font>")

    def fill(self, color: str) -> int:
        xml = (
            f'<fill><patternFill patternType="solid"><fgColor rgb="00{color}" /></patternFill>'
            "</fill>"
        )
        return self._add(self.fills, xml)

    def bottom_border(self, color: str) -> int:
        xml = f'<border><bottom style="thin"><color rgb="00{color}" /></bottom></border>'
        return self._add(self.borders, xml)

    def number_format(self, code: str) -> int:
        if code == "0":
            return 1  # built in
        return 164 + self._add(self.formats, code)

    def cell(
        self,
        font: int = 0,
        fill: int = 0,
        border: int = 0,
        number_format: int = 0,
        vertical: str | None = None,
        wrap: bool = False,
    ) -> int:
        """The id of the cell format with these parts (the `s` of a cell)."""
        applied = "".join(
            f' apply{name}="1"'
            for name, used in (
                ("NumberFormat", number_format),
                ("Font", font),
                ("Fill", fill),
                ("Border", border),
                ("Alignment", vertical or wrap),
            )
            if used
        )
        alignment = (f' vertical="{vertical}"' if vertical else "") + (
            ' wrapText="1"' if wrap else ""
        )
        xml = (
            f'<xf numFmtId="{number_format}" fontId="{font}" fillId="{fill}" borderId="{border}"'
            f'{applied} xfId="0"' + (f"><alignment{alignment} /></xf>" if alignment else " />")
        )
        return self._add(self.cells, xml)

    def xml(self) -> str:
        formats = "".join(
            f'<numFmt numFmtId="{164 + i}" formatCode="{code}" />'
            for i, code in enumerate(self.formats)
        )

        def listed(tag: str, items: list[str]) -> str:
            return f'<{tag} count="{len(items)}">{"".join(items)}</{tag}>'

        return (
            f'<styleSheet xmlns="{MAIN}">'
            + (f'<numFmts count="{len(self.formats)}">{formats}</numFmts>' if formats else "")
            + listed("fonts", self.fonts)
            + listed("fills", self.fills)
            + listed("borders", self.borders)
            + '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" />'
            "</cellStyleXfs>"
            + listed("cellXfs", self.cells)
            + '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0" />'
            "</cellStyles></styleSheet>"
        )
