"""A character-by-character reading of a CSV with the parser's rules (pyarrow, with
`newlines_in_values`; test helper, slow by design), the parser's own reading, and generated
files that mix every layout the line numbering must survive."""

from __future__ import annotations

import io
import random

import pyarrow as pa
import pyarrow.csv as pacsv

BOM = b"\xef\xbb\xbf"
QUOTE, LF, CR, COMMA = 34, 10, 13, 44


def reference_records(data: bytes, columns: int) -> tuple[list[tuple[int, list[str]]], list[int]]:
    """(first line, fields) of the records with `columns` fields after the header, and the
    first lines of the others; blank lines are no records."""
    at, size, line = (3 if data.startswith(BOM) else 0), len(data), 1
    records: list[tuple[int, list[str]]] = []
    while at < size:
        first, fields, state, empty = line, [bytearray()], "start", True
        while at < size:
            char = data[at]
            if state == "quoted":
                if char == QUOTE and at + 1 < size and data[at + 1] == QUOTE:
                    fields[-1].append(QUOTE)
                    at += 2
                    continue
                if char == QUOTE:
                    state = "field"
                else:
                    line += char == LF
                    fields[-1].append(char)
                at += 1
                continue
            at += 1
            if char == COMMA:
                fields.append(bytearray())
                state, empty = "start", False
            elif char == LF:
                line += 1
                break
            elif char == CR:
                if at < size and data[at] == LF:
                    line, at = line + 1, at + 1
                break
            else:
                empty = False
                if char == QUOTE and state == "start":
                    state = "quoted"
                else:
                    state = "field"
                    fields[-1].append(char)
        if not empty:
            records.append((first, [bytes(f).decode() for f in fields]))
    rest = records[1:]
    return [r for r in rest if len(r[1]) == columns], [r[0] for r in rest if len(r[1]) != columns]


def arrow_rows(data: bytes, columns: int) -> tuple[list[list[str]], int] | None:
    """The parser's rows (as text) and how many it set aside; None when it refuses the file."""
    invalid: list[str | None] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        invalid.append(row.text)
        return "skip"

    names = [f"c{i}" for i in range(columns)]
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=pacsv.ParseOptions(
                newlines_in_values=True, invalid_row_handler=on_invalid
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names}, strings_can_be_null=False
            ),
        )
    except pa.ArrowInvalid:
        return None
    return [list(r.values()) for r in table.to_pylist()], len(invalid)


def _field(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.4:
        return rng.choice(["a", "bb", "", " c ", "5"])
    if kind < 0.7:
        pieces = ["x", ",", '""', "\n", "\r\n", " ", "y"]
        return '"' + "".join(rng.choice(pieces) for _ in range(rng.randint(0, 4))) + '"'
    if kind < 0.85:
        return rng.choice(['5" wound', 'a"b', 'x""', '"q"z', 'p"'])
    return rng.choice(["NULL", "é"])


def generated_csv(seed: int) -> tuple[bytes, int]:
    """A small CSV (and its column count): blank lines, one-field notes, rows with a field too
    many, quoted values with delimiters, quotes and line breaks, quotes inside unquoted values,
    LF or CR LF, sometimes a byte-order mark or no last line end."""
    rng = random.Random(seed)  # noqa: S311 (test data, not secrets)
    columns, line_end = rng.choice([1, 2, 3]), rng.choice(["\n", "\r\n"])
    lines = [",".join(f"h{i}" for i in range(columns))]
    for _ in range(rng.randint(0, 12)):
        kind = rng.random()
        if kind < 0.1:
            lines.append("")
        elif kind < 0.2:
            lines.append("see attached note")
        else:
            count = columns + (1 if kind < 0.25 else 0)
            lines.append(",".join(_field(rng) for _ in range(count)))
    data = (line_end.join(lines) + (line_end if rng.random() < 0.7 else "")).encode()
    return (BOM + data if rng.random() < 0.2 else data), columns
