"""Whether a table's CSV holds cells in a spreadsheet's text-forcing form, `="P001"`, or
formulas, `=HYPERLINK(...)` (exit 4).

Such a cell is read as written (ingest.excel_forms): a patient id so written matches no other
table's id, so no risk factor reaches its case, and a value, time or code so written does not
read. The list is written but must not pass as quiet: `excel_text_forms` warns, per table,
with the cells counted by file and column and `file:row` examples, never a value, and says what
to ask the sender for. Any such cell warns: a plain CSV export holds none.
"""

from __future__ import annotations

from hyposcreen.ingest.excel_forms import ExcelFormCounts
from hyposcreen.run_warnings import RunWarning


def excel_form_warnings(table: str, counts: ExcelFormCounts | None) -> list[RunWarning]:
    """The `excel_text_forms` warning of one table's read (None: nothing counted)."""
    if counts is None or not counts.cells:
        return []
    total = sum(n for _, _, n in counts.cells)
    where = "; ".join(f"{file}, column {column}: {n}" for file, column, n in counts.cells)
    return [
        RunWarning(
            "excel_text_forms",
            f"{total} cell(s) of the extract's table {table} (its files as delivered, not only "
            f"this night's rows) are written in a spreadsheet's text-forcing "
            f'form ="..." ({where}; e.g. {", ".join(counts.examples)}), or as a formula such '
            "as =HYPERLINK(...). They are read as "
            "written, with the = and the quotes: a patient id so written matches no id of "
            "the other tables (no risk factor reaches its case) and a value, time or code so "
            "written does not read, so the list may lack patients. Ask the sender for the "
            'file saved as plain CSV (the values themselves, not ="..." formulas made for '
            "Excel), and rerun.",
        )
    ]
