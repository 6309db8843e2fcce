"""Cells written in a spreadsheet's text-forcing form, `="P001"` or `="135"`, or as a formula.

A file made for Excel writes a value it must keep as text (a patient id with leading zeros, a
code) as a formula giving that text: `="P001"`. A CSV reader reads the cell as written, the
`=` and the quotes kept, so such a patient id matches no other table's `P001` (no risk factor
reaches its case, without a sound) and such a value, time or code does not read (quarantined
or set aside). The form is not stripped: nothing in the spec says a cell's text is other than
it is. A cell holding a spreadsheet function's call, `=HYPERLINK("https://...","P001")` (a
report that links each id to the record), is read as written alike. While a CSV table file is
read (not Parquet, which no spreadsheet writes), its text cells of those forms (starting `="`
and ending `"` before any trailing spaces, or starting `=` and a function's name and `(`; each
after any blanks, ` ="135"` where the file puts a blank after the delimiter) are counted here by
file and column, with the `file:row` of the first rows; excel_form_warnings judges the counts.
Counts, file and column names (the sender's header) only, never a value.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

EXAMPLES = 3
# the first characters of a cell a spreadsheet runs as a formula (OWASP "CSV injection"; the
# full-width signs too; a line feed as well as a carriage return, since a reader that splits
# a quoted cell at its line break starts a row with what follows): report.safe_cells gives
# such text a leading ' in every file written
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
# a spreadsheet function's call: `=HYPERLINK("https://...","P001")`, `=TEXT(...)`
_FORMULA = r"^=\s*[A-Za-z][A-Za-z0-9._]*\s*\("


@dataclass(frozen=True)
class ExcelFormCounts:
    """What a read counted: cells of the form by (file, column), in the order met, and the
    `file:row` of the first rows holding one."""

    cells: tuple[tuple[str, str, int], ...] = ()
    examples: tuple[str, ...] = ()


class ExcelFormCounter:
    """The counts of one table's read, filled batch by batch (`count`)."""

    def __init__(self) -> None:
        self.cells: Counter[tuple[str, str]] = Counter()
        self.examples: list[str] = []

    def count(self, batch: pa.RecordBatch, file: str, row_column: str) -> None:
        """Count the text cells of `batch` in the form (as read, before any row is dropped);
        `row_column` holds each row's number in `file` (a CSV's line)."""
        held = None
        for name, column in zip(batch.schema.names, batch.columns, strict=True):
            if name == row_column or not _text(column.type):
                continue
            formed = _formed(column)
            found = 0 if formed is None else pc.sum(formed).as_py() or 0
            if formed is None or not found:
                continue
            self.cells[(file, name)] += found
            held = formed if held is None else pc.or_(held, formed)
        if held is not None and len(self.examples) < EXAMPLES:
            lines = batch.column(row_column).to_numpy(zero_copy_only=False)
            among = np.flatnonzero(held.to_numpy(zero_copy_only=False))
            self.examples += [
                f"{file}:{int(n)}" for n in lines[among[: EXAMPLES - len(self.examples)]]
            ]

    def counts(self, *others: ExcelFormCounter) -> ExcelFormCounts | None:
        """The counts, with those of `others` after them (a source table's auxiliary tables,
        read beside it: MIMIC's admissions, d_labitems)."""
        cells: Counter[tuple[str, str]] = Counter()
        examples: list[str] = []
        for counter in (self, *others):
            cells.update(counter.cells)
            examples += counter.examples[: EXAMPLES - len(examples)]
        if not cells:
            return None
        found = tuple((file, column, n) for (file, column), n in cells.items())
        return ExcelFormCounts(found, tuple(examples))


def _formed(column: pa.Array) -> pa.Array | None:
    """Which cells of a text column are in a form (module text); None when none can be. The
    common case, no cell starting `=` or a blank, is a look at each cell's first byte, twice
    (~4 ms per million cells each; a search of the whole text took five times as long)."""
    if pc.any(pc.starts_with(column, " ")).as_py():
        column = pc.utf8_ltrim_whitespace(column)  # ` ="135"`: a blank after the delimiter
    if not pc.any(pc.starts_with(column, "=")).as_py():
        return None
    forced = pc.and_(
        pc.starts_with(column, '="'), pc.ends_with(pc.utf8_rtrim_whitespace(column), '"')
    )
    formula = pc.match_substring_regex(column, _FORMULA)
    return pc.fill_null(pc.or_(forced, formula), False)


def _text(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))
