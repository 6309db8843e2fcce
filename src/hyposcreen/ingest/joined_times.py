"""A time delivered as two columns, a date and a time of day (`COLLECT_DATE`, `COLLECT_TIME`),
read as one: the site mapping names both (`columns: {specimen_time: [COLLECT_DATE,
COLLECT_TIME]}`) and the reader joins them into one text before the times are parsed.

Each part is read as real exports write it: the date as `2026-11-20` or with a midnight time
after it (`2026-11-20 00:00:00.000`, a SQL DATETIME holding a date; `11/20/2026 12:00:00 AM`),
the time as `08:05`, `8:05:30`, `08:05 PM`, after a placeholder date (`1900-01-01 08:05:00`,
a SQL DATETIME holding a time), or as clock digits (`805`, `0805`, `5` for 00:05). A row
without a time of day keeps its date alone (read as any date-only value is); one without a
date has no time. Typed Parquet columns (date32, time64, timestamp) are read as their text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import pyarrow as pa
import pyarrow.compute as pc

from hyposcreen.config import TableMapping
from hyposcreen.mapping_values import joined_column_name

_MIDNIGHT_TAIL = r"(?i)[ T](?:00:00(?::00(?:[.,]0+)?)?|12:00(?::00(?:[.,]0+)?)?\s*a\.?m\.?)$"
# the clock at the text's end, after its start, a space or a `T` (not after a `+` or `-`: that
# is a UTC offset, 08:05+01:00, whose text is kept whole for the time parser to judge)
_CLOCK = r"(?i)(?:^|[\sT])(?P<clock>\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s*[ap]\.?m\.?)?)\s*$"


def joined_names(table: TableMapping, header: Iterable[str]) -> list[str]:
    """The joined columns' names (`DATE+TIME`) whose two parts the header holds."""
    names = set(header)
    return [
        joined_column_name(parts)
        for parts in table.joined.values()
        if parts[0] in names and parts[1] in names
    ]


def spelled_parts(table: TableMapping, header: list[str]) -> TableMapping:
    """`table` with each date or time part the header lacks named as the header spells it but
    for letter case (`collect_date` for COLLECT_DATE; one such name only), as a single column
    is (ingest.frames.spelled_as_in); its joined column renamed alike."""
    names = set(header)

    def spelled(name: str) -> str:
        matches = [h for h in header if h.casefold() == name.casefold()]
        return matches[0] if name not in names and len(matches) == 1 else name

    joined = {canon: (spelled(day), spelled(clock)) for canon, (day, clock) in table.joined.items()}
    if joined == table.joined:
        return table
    renamed = {canon: joined_column_name(parts) for canon, parts in joined.items()}
    return replace(table, columns={**table.columns, **renamed}, joined=joined)


def part_columns(table: TableMapping, header: Iterable[str]) -> list[str]:
    """The date and time columns to read for the joined columns (those the header holds)."""
    names = set(header)
    parts = [p for pair in table.joined.values() for p in pair]
    return [p for p in dict.fromkeys(parts) if p in names]


def join_times(batch: pa.RecordBatch, table: TableMapping, keep: Iterable[str]) -> pa.RecordBatch:
    """`batch` with each joined column added as text (date, a space, time of day) and its
    part columns dropped unless `keep` names them (mapped on their own as well)."""
    if not table.joined:
        return batch
    kept = set(keep)
    for parts in table.joined.values():
        if parts[0] not in batch.schema.names or parts[1] not in batch.schema.names:
            continue
        day = _text(batch.column(parts[0]))
        day = pc.replace_substring_regex(day, pattern=_MIDNIGHT_TAIL, replacement="")
        joined = pc.if_else(
            pc.is_null(clock := _clock(_text(batch.column(parts[1])))),
            day,
            pc.binary_join_element_wise(day, clock, " "),
        )
        batch = batch.append_column(joined_column_name(parts), joined)
    drop = [p for p in part_columns(table, batch.schema.names) if p not in kept]
    return batch.drop_columns(drop) if drop else batch


def _text(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A column as trimmed text, blanks as null."""
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        column = pc.cast(column, pa.string())
    text = pc.utf8_trim_whitespace(column)
    return pc.if_else(pc.equal(pc.utf8_length(text), 0), pa.scalar(None, text.type), text)


def _clock(text: pa.Array) -> pa.Array:
    """The time of day of each text: the clock time at its end (after a placeholder date, if
    any), or clock digits as `08:05` (`805`, `0805`; an integer HHMM column drops the leading
    zeros of the first hour: `5` is 00:05, `0` midnight); other text as it is (it will not read)."""
    found = pc.extract_regex(text, _CLOCK)
    clock = pc.struct_field(found, [0])
    digits = pc.match_substring_regex(text, r"^\d{1,4}$")
    padded = pc.utf8_lpad(text, 4, "0")
    from_digits = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(padded, 0, 2), pc.utf8_slice_codeunits(padded, 2, 4), ":"
    )
    clock = pc.if_else(pc.fill_null(digits, False), from_digits, clock)
    clock = pc.coalesce(clock, text)
    # a one-digit hour (`8:05`) as two, so ISO 8601 reads it
    return pc.replace_substring_regex(clock, pattern=r"^(\d):", replacement=r"0\1:")
