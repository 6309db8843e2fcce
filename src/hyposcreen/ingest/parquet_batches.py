"""Arrow record batches of a Parquet file: opened (a damaged footer or page is an InputError
naming the file), its columns read checked to be flat (`check_flat_columns`), projected, and
with the null words of a SQL client's export (`NULL`, `(null)`, `\\N` …, rules/null_words.csv)
read as empty in text columns, as the CSV reader reads them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cache
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from hyposcreen.errors import InputError
from hyposcreen.rules.loader import load_source_map

BATCH_ROWS = 1 << 18  # ~256k rows: lower peak memory, and faster than 1M here


@cache
def null_words() -> tuple[str, ...]:
    """Cell texts a delimited export writes for "no value" (rules/null_words.csv: `NULL`,
    `(null)`, ...): read as empty, like an empty cell, in every column. A SQL client's
    `NULL` in an ongoing medication's end_time is then ongoing (spec §6), not a time that
    does not read; a patient_id of `NULL` is a missing key, not a patient named NULL."""
    return tuple(row["text"] for row in load_source_map("null_words.csv"))


def parquet_file(path: Path, as_dictionary: Sequence[str] = ()) -> pq.ParquetFile:
    """A Parquet file opened (its footer read); a damaged or cut-off one is an InputError.
    `as_dictionary`: text columns read as dictionaries of their distinct texts (a lab file's
    codes, names, units and statuses: the LOINC filter judges each distinct code once and
    decodes them for the rows it keeps, ingest.row_filter.prefilter_loinc)."""
    try:
        handle = pq.ParquetFile(path)
        types = handle.schema_arrow
        coded = [
            name
            for name in as_dictionary
            if types.get_field_index(name) >= 0 and types.field(name).type == pa.string()
        ]
        if coded:  # opened again with the footer already read
            handle = pq.ParquetFile(path, metadata=handle.metadata, read_dictionary=coded)
        return handle
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"{path} is not a readable Parquet file: {exc}.", file=str(path)) from exc


def check_flat_columns(
    path: Path, schema: pa.Schema, read_as: Mapping[str, str], table: str
) -> None:
    """An InputError naming the file and the column when a column read (`read_as`: the file's
    column -> the canonical column it is read as) holds nested values (a struct, a list, a
    map): each cell is one text, number or time, and a nested cell cast to text (`{'id':
    'P043'}`) would be screened as a wrong value, not refused. Checked before any cast."""
    for site, canon in read_as.items():
        at = schema.get_field_index(site)
        if at < 0:
            continue
        kind = schema.field(at).type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        if not pa.types.is_nested(kind):
            continue
        shown = site if site == canon else f"{site} (read as {canon})"
        raise InputError(
            f"{path} ({table}) column {shown} holds nested values ({_nested_kind(kind)}) where "
            "text, a number or a time was expected; export it as a plain column (the value "
            "itself, not a structure holding it). Nothing was screened.",
            file=str(path),
            column=site,
        )


def _nested_kind(kind: pa.DataType) -> str:
    if pa.types.is_struct(kind):
        return "a struct"
    if pa.types.is_map(kind):
        return "a map"
    if pa.types.is_union(kind):
        return "a union"
    return "a list"


def parquet_batches(
    path: Path, include: list[str], as_dictionary: Sequence[str] = ()
) -> Iterator[pa.RecordBatch]:
    handle = parquet_file(path, as_dictionary)
    batches = handle.iter_batches(columns=include, batch_size=BATCH_ROWS)
    wordy = may_hold_null_words(handle.metadata, range(handle.metadata.num_row_groups))
    yield from damage_checked(path, batches, wordy)


_TEXT_TYPES = frozenset({"BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"})  # text, or bytes


def may_hold_null_words(metadata: pq.FileMetaData, row_groups: Iterable[int]) -> frozenset[str]:
    """The columns of `row_groups` whose statistics do not rule out a null word (a column of
    ids `P0001` .. `P9999` or of LOINC codes holds none): the others are not searched."""
    words = null_words()
    found: set[str] = set()
    for group in row_groups:
        chunks = metadata.row_group(group)
        for at in range(chunks.num_columns):
            chunk = chunks.column(at)
            if chunk.physical_type not in _TEXT_TYPES:
                found.add(chunk.path_in_schema)  # numbers, times: not read as Python values
                continue  # (a time's bounds may lie beyond Python's datetime)
            stats = chunk.statistics
            try:
                low, high = (
                    (stats.min, stats.max) if stats is not None and stats.has_min_max else (0, 0)
                )
            except (OverflowError, ValueError):  # bounds Python cannot hold: searched
                low, high = 0, 0
            if not isinstance(low, str) or not isinstance(high, str):
                found.add(chunk.path_in_schema)  # no text bounds: searched
            elif any(low <= word <= high for word in words):
                found.add(chunk.path_in_schema)
    return frozenset(found)


def damage_checked(
    path: Path, batches: Iterator[pa.RecordBatch], wordy: frozenset[str] | None = None
) -> Iterator[pa.RecordBatch]:
    """A Parquet file's `batches` with the null words read as empty in the `wordy` columns
    (all when None: `null_words_as_nulls`); a page that cannot be decoded (its footer was
    readable) is an InputError naming the file. An OSError with an errno (the disk, not the
    file's bytes) is left to the environment handling."""
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except (pa.ArrowInvalid, OSError) as exc:
            if isinstance(exc, OSError) and exc.errno is not None:
                raise
            raise InputError(
                f"{path} is a damaged Parquet file: a data page cannot be read ({exc}). Ask the "
                "sender for the file again; nothing was screened.",
                file=str(path),
            ) from exc
        yield null_words_as_nulls(batch, wordy)


def null_words_as_nulls(
    batch: pa.RecordBatch, wordy: frozenset[str] | None = None
) -> pa.RecordBatch:
    """A Parquet batch whose text cells holding a null word (`NULL`, `(null)`, `\\N` …) are
    nulls, as the CSV reader reads them in every column: a SQL client's Parquet export casts
    an absent value to text as its word, and an ongoing medication's `NULL` end_time is then
    ongoing, not a time that does not read. A dictionary column holding a word is decoded, a
    `string_view` one searched as `large_string` (no `is_in` kernel for views); a `binary`
    one (text without the UTF8 annotation) is searched for the words' bytes."""
    arrays = list(batch.columns)
    changed = False
    for at, column in enumerate(arrays):
        if wordy is not None and batch.schema.names[at] not in wordy:
            continue
        values = column
        if pa.types.is_dictionary(values.type):
            if not _is_text(values.type.value_type) or not _holds_word(values.dictionary):
                continue  # no word among its distinct texts: left as it is, not decoded
            values = values.dictionary_decode()
        if not _is_text(values.type):
            continue
        if pa.types.is_string_view(values.type):
            values = values.cast(pa.large_string())
        binary = pa.types.is_binary(values.type) or pa.types.is_large_binary(values.type)
        words = [word.encode() if binary else word for word in null_words()]
        found = pc.is_in(values, value_set=pa.array(words, values.type))
        if pc.any(found).as_py():
            arrays[at] = pc.if_else(found, pa.scalar(None, values.type), values)
            changed = True
    if not changed:
        return batch
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)


def _holds_word(texts: pa.Array) -> bool:
    """Whether a null word is among `texts` (a dictionary's distinct texts)."""
    if pa.types.is_string_view(texts.type):
        texts = texts.cast(pa.large_string())
    binary = pa.types.is_binary(texts.type) or pa.types.is_large_binary(texts.type)
    words = [word.encode() if binary else word for word in null_words()]
    return bool(pc.any(pc.is_in(texts, value_set=pa.array(words, texts.type))).as_py())


def _is_text(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_string_view(kind)
        or pa.types.is_binary(kind)
        or pa.types.is_large_binary(kind)
    )
