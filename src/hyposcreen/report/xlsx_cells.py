"""The workbook's cells as XML text, a whole column at a time: numbers (`%.16g`), Excel serial
times and inline strings (escaped, cut at Excel's cell limit with a note), each column's
`<c>` elements made in a few vectorised string operations, and a sheet's rows joined from
them (`xlsx_package` puts the sheets in their zip package)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hyposcreen.arrow_columns import arrow_text, holds_arrow_text
from hyposcreen.report.html_text import choose
from hyposcreen.report.xlsx_values import escape_text, excel_serials

CELL_MAX_CHARS = 32_767  # Excel's limit; a longer text is cut, with a note (the CSV has it all)
_TEXT = ' t="inlineStr"><is><t>'
_TEXT_KEEPING_SPACES = ' t="inlineStr"><is><t xml:space="preserve">'
_CUT_NOTE = " … [cut at Excel's cell limit; the CSV holds the full text]"


def column_letter(position: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _texts(values: np.ndarray) -> np.ndarray:
    return np.asarray(values).astype("str").astype(object)


# a cell's parts: texts shared by every cell and columns of one text per cell, in order
CellParts = list[str | np.ndarray]


def column_cells(heads: np.ndarray, values: pd.Series) -> np.ndarray:
    """The `<c>` element of each value; `heads` hold each cell's opening '<c r=".." s=".."'
    (the cells of `cell_parts`, each joined into one text)."""
    cells = np.asarray(heads, dtype=object)
    for part in cell_parts(values):
        cells = cells + part
    return cells


def cell_parts(values: pd.Series) -> CellParts:
    """What follows each cell's opening '<c r=".." s=".."' up to its `</c>`, as three columns
    of texts (kind, value, close), so a sheet is joined once without a string per cell.

    Text is stored as inline strings (never as a formula: neutralise it before), numbers as
    `%.16g`, times as serial numbers, booleans as 0/1; a missing value leaves an empty cell
    that keeps its style."""
    present = values.notna().to_numpy()
    if pd.api.types.is_bool_dtype(values):
        kind = choose(present, ' t="b"><v>', ' t="n" />')
        shown = np.where(values.to_numpy(bool), "1", "0").astype(object)
        return [kind, choose(present, shown, ""), choose(present, "</v></c>", "")]
    if _is_number(values):
        return _number_cell_parts(_numbers(values), present)
    return _text_cell_parts(_arrow_text(values, present), present)


def _is_number(values: pd.Series) -> bool:
    """Cells stored as numbers: numbers and times (booleans are not)."""
    return not pd.api.types.is_bool_dtype(values) and (
        pd.api.types.is_datetime64_any_dtype(values) or pd.api.types.is_numeric_dtype(values)
    )


def _numbers(values: pd.Series) -> np.ndarray:
    """A column of numbers or times as the floats stored (times as Excel serials)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return excel_serials(values)
    return values.to_numpy(dtype="float64", na_value=np.nan)


def _number_cell_parts(numbers: np.ndarray, present: np.ndarray) -> CellParts:
    """`cell_parts` of number cells (their floats, and where present)."""
    kind = choose(present, ' t="n"><v>', ' t="n" />')
    shown = _number_texts(np.where(present, numbers, 0.0))
    return [kind, choose(present, shown, ""), choose(present, "</v></c>", "")]


def _kind(dtype: object) -> str:
    """How `cell_parts` stores a column of this type: "bool", "number" (numbers and times)
    or "text"; the pandas type tests read the type only, so each type is judged once."""
    known = _KINDS.get(dtype) if isinstance(dtype, (np.dtype, pd.StringDtype)) else None
    if known is not None:
        return known
    if pd.api.types.is_bool_dtype(dtype):
        kind = "bool"
    elif pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        kind = "number"
    else:
        kind = "text"
    if isinstance(dtype, (np.dtype, pd.StringDtype)):
        _KINDS[dtype] = kind
    return kind


_KINDS: dict[object, str] = {}  # numpy's and pandas' text types -> `_kind` (a handful)


def frame_cell_parts(frame: pd.DataFrame) -> list[CellParts]:
    """`cell_parts` of each column of `frame`, in order: the text columns' made in one pass
    over all of them (their text joined, each step one call for all columns), likewise the
    number and time columns' (the times of one type made serials in one call), the booleans'
    a column at a time. Each column is judged by its type, read once for the frame."""
    parts: list[CellParts] = [[] for _ in range(frame.shape[1])]  # filled below
    texts: list[tuple[int, pa.Array, np.ndarray]] = []
    numbers: list[tuple[int, np.ndarray | None, np.ndarray]] = []
    times: dict[object, list[tuple[int, pd.Series]]] = {}  # times by type: serials at once
    unique = frame.columns.is_unique  # a column by its name: no positional indexer per column
    for position, (name, dtype) in enumerate(frame.dtypes.items()):
        values = frame[name] if unique else frame.iloc[:, position]
        kind = _kind(dtype)
        if kind == "bool":
            parts[position] = _bool_cell_parts(values)
        elif kind == "number":
            if isinstance(dtype, np.dtype) and dtype.kind == "M":
                times.setdefault(dtype, []).append((len(numbers), values))
                numbers.append((position, None, ~np.isnat(values.to_numpy())))
            elif isinstance(dtype, np.dtype) and dtype.kind in "iuf":  # missing: NaN only
                column = _numbers(values)
                numbers.append((position, column, ~np.isnan(column)))
            else:
                numbers.append((position, _numbers(values), values.notna().to_numpy()))
        else:
            texts.append((position, *_text_and_presence(values)))
    if texts:
        joined = _text_cell_parts(
            pa.concat_arrays([text for _, text, _ in texts]),
            np.concatenate([present for _, _, present in texts]),
        )
        end = 0
        for position, text, _ in texts:
            start, end = end, end + len(text)
            parts[position] = [np.asarray(part)[start:end] for part in joined]
    if numbers:
        columns: list[np.ndarray | None] = [column for _, column, _ in numbers]
        for same in times.values():  # one call per type; each serial is of its own time
            serials = excel_serials(
                pd.Series(np.concatenate([values.to_numpy() for _, values in same]))
            )
            for at, (slot, values) in enumerate(same):
                columns[slot] = serials[at * len(values) : (at + 1) * len(values)]
        made = _number_cell_parts(
            np.concatenate([column for column in columns if column is not None]),
            np.concatenate([present for _, _, present in numbers]),
        )
        count = len(frame)
        for at, (position, _, _) in enumerate(numbers):
            parts[position] = [np.asarray(part)[at * count : (at + 1) * count] for part in made]
    return parts


def _bool_cell_parts(values: pd.Series) -> CellParts:
    """`cell_parts` of a column of booleans: numpy's hold no missing value, so their kind and
    close are texts shared by every cell; any other kind as `cell_parts` makes it."""
    if isinstance(values.dtype, np.dtype):
        return [' t="b"><v>', np.where(values.to_numpy(bool), "1", "0").astype(object), "</v></c>"]
    return cell_parts(values)


def _text_and_presence(values: pd.Series) -> tuple[pa.Array, np.ndarray]:
    """A text column's Arrow text ('' where missing, one chunk) and where it is present."""
    if holds_arrow_text(values):  # present where Arrow holds a value, as pandas' notna
        text = arrow_text(values)
        present = (
            np.ones(len(text), dtype=bool)
            if text.null_count == 0
            else np.asarray(text.is_valid(), dtype=bool)
        )
        return pc.fill_null(text, ""), present
    present = values.notna().to_numpy()
    text = _arrow_text(values, present)
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    return text, present


def _text_cell_parts(text: pa.Array, present: np.ndarray) -> CellParts:
    """`cell_parts` of text cells (their Arrow text, '' where missing, and where present)."""
    too_long = pc.greater(pc.utf8_length(text), CELL_MAX_CHARS)
    if pc.any(too_long).as_py():
        cut = pc.utf8_slice_codeunits(text, 0, CELL_MAX_CHARS - len(_CUT_NOTE))
        note, nothing = (
            pa.scalar(_CUT_NOTE, pa.large_string()),
            pa.scalar("", pa.large_string()),
        )
        text = pc.if_else(too_long, pc.binary_join_element_wise(cut, note, nothing), text)
    stripped = pc.utf8_trim_whitespace(text)
    preserve = np.asarray(
        pc.and_(pc.not_equal(stripped, ""), pc.not_equal(stripped, text)), dtype=bool
    )
    shown = np.asarray(escape_text(text).to_numpy(zero_copy_only=False), dtype=object)
    filled = present & np.asarray(pc.not_equal(text, ""), dtype=bool)
    opening = choose(preserve, _TEXT_KEEPING_SPACES, _TEXT)
    kind = choose(filled, opening, choose(present, ' t="inlineStr" />', ' t="n" />'))
    return [kind, choose(filled, shown, ""), choose(filled, "</t></is></c>", "")]


_TEXT_CELLS: dict[str, tuple[str, str, str]] = {}  # a text -> its cell's parts, for the run


def text_cells(texts: list[str]) -> CellParts:
    """`cell_parts` of a few texts of the run (the about sheet's: the same night after night),
    each text's parts made once (`_text_cell_parts`, a cell's parts depending on its text
    alone) and remembered."""
    known = {text: cell for text in texts if (cell := _TEXT_CELLS.get(text)) is not None}
    new = [text for text in dict.fromkeys(texts) if text not in known]
    if new:
        made = _text_cell_parts(pa.array(new, type=pa.large_string()), np.ones(len(new), bool))
        columns = [np.broadcast_to(np.asarray(part, dtype=object), len(new)) for part in made]
        cells = dict(zip(new, zip(*(c.tolist() for c in columns), strict=True), strict=True))
        known.update(cells)
        if len(_TEXT_CELLS) > 1024:
            _TEXT_CELLS.clear()
        _TEXT_CELLS.update(cells)
    parts = [known[text] for text in texts]
    return [np.array([cell[at] for cell in parts], dtype=object) for at in range(3)]


def _arrow_text(values: pd.Series, present: np.ndarray) -> pa.Array:
    """The cells' text as Arrow ('' where missing): Arrow-backed text as it is, Python
    strings converted, any other value as pandas writes it as text (`astype("str")`)."""
    if holds_arrow_text(values):
        return pc.fill_null(arrow_text(values), "")
    objects = np.where(present, values.to_numpy(dtype=object), "")
    try:
        return pa.array(objects, type=pa.large_string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all of them text
        return pa.array(pd.Series(objects, dtype=object).astype("str").array).cast(
            pa.large_string()
        )


def _number_texts(numbers: np.ndarray) -> np.ndarray:
    """'%.16g' of each number, each distinct number printed once (-0 and 0 print apart)."""
    if np.signbit(numbers[numbers == 0]).any():
        return _texts(np.char.mod("%.16g", numbers))
    distinct, position = np.unique(numbers, return_inverse=True)
    return _texts(np.char.mod("%.16g", distinct))[position.reshape(-1)]


def sheet_rows(
    cells: list[np.ndarray] | list[CellParts], first_row: int, row_attributes: str = ""
) -> str:
    """`<row>` elements around equally long columns of cells (each a column of whole cells
    or the parts of one), as one string (one join)."""
    parts: CellParts = []
    for cell in cells:
        parts.extend(cell if isinstance(cell, list) else [cell])
    count = next((len(p) for p in parts if not isinstance(p, str)), 0)
    opening = '<row r="' + _texts(np.arange(first_row, first_row + count)) + '"' + row_attributes
    # one table of texts, a row of the sheet per line: a text shared by every cell is set
    # into its column once (no column of copies made for it)
    table = np.empty((count, len(parts) + 2), dtype=object)
    table[:, 0] = opening + ">"
    for position, part in enumerate(parts, start=1):
        table[:, position] = part
    table[:, -1] = "</row>"
    return "".join(table.ravel().tolist())


def cell_head_parts(letter: str, first_row: int, styles: np.ndarray) -> CellParts:
    """'<c r="D2" s="5"' for the cells of one column from `first_row` on, as parts (the row
    numbers' text is made once per slice of rows, each distinct style's once per column)."""
    distinct, position = np.unique(np.asarray(styles), return_inverse=True)
    style_texts = _texts(distinct)[position.reshape(-1)]
    return [f'<c r="{letter}', row_number_texts(first_row, len(styles)), style_texts, '"']


@lru_cache(maxsize=4)
def row_number_texts(first_row: int, count: int) -> np.ndarray:
    """'2" s="', '3" s="', ... for `count` rows from `first_row` (read-only, shared)."""
    texts = _texts(np.arange(first_row, first_row + count)) + '" s="'
    texts.setflags(write=False)
    return texts
