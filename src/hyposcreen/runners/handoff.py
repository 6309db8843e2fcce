"""The files a partitioned run's steps hand their work through, in its private spill folder:
frames as Arrow IPC files (Feather v2; dtypes, categoricals and the index - the rows' numbers
in the whole table - come back as written), plain counts as JSON. No executable format (no
pickle): a spill file holds patient rows, and a replaced one must not be able to run code.
Every file is created 0600 by its owner, whatever the umask.

Arrow IPC rather than Parquet: the files live for one run and are read back by the same
library, so they are written as Arrow holds the columns (no encoding) and read back with
only the columns asked for. The buffers are LZ4-compressed by default
($HYPOSCREEN_SPILL_COMPRESSION: lz4, zstd or none; a reader needs no setting, each file names
its compression). An uncompressed file is memory-mapped when read back (its columns are the
file's pages): less partition I/O, but every mapped page counts in the run's memory. At 20M
lab rows (10 partitions, 2-core machine, load ~2): lz4 peak RSS 1.28 GB, partition_io 11.7 s,
the folder 1.6 GB at its largest; none 2.6 GB, 4.7 s, 4.7 GB (docs/scaling.md)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from hyposcreen.errors import ConfigError, naming_the_file

_NOTES_KEY = b"hyposcreen"
FRAME_SUFFIX = ".arrow"
COMPRESSION_VARIABLE = "HYPOSCREEN_SPILL_COMPRESSION"
_BATCH_ROWS = 128 * 1024  # rows per record batch: the unit a compressed file is read in
_CODECS = {"": "lz4", "none": None, "lz4": "lz4", "zstd": "zstd"}  # "": the default


def private_file(path: Path) -> Any:
    """`path` opened for binary writing, created (or truncated) readable by its owner only."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")


def write_table(path: Path, table: pa.Table) -> None:
    """`table` as an Arrow IPC file (one dictionary per categorical column: an IPC file holds
    no dictionary replacements); a write the machine stops names the file."""
    if table.num_rows and any(
        pa.types.is_dictionary(column.type) and column.num_chunks > 1 for column in table.columns
    ):
        table = table.unify_dictionaries()
    options = ipc.IpcWriteOptions(compression=spill_codec())
    with (
        naming_the_file(path),
        private_file(path) as handle,
        ipc.new_file(handle, table.schema, options=options) as out,
    ):
        out.write_table(table, max_chunksize=_BATCH_ROWS)


def spill_codec() -> str | None:
    """The spill files' compression: $HYPOSCREEN_SPILL_COMPRESSION (none, lz4 or zstd)."""
    chosen = os.environ.get(COMPRESSION_VARIABLE, "").strip().lower()
    if chosen not in _CODECS:
        raise ConfigError(
            f"{COMPRESSION_VARIABLE}={chosen!r} is not a spill compression; use none, lz4 or zstd."
        )
    return _CODECS[chosen]


def _opened(path: Path) -> Any:
    """Uncompressed files are memory-mapped (a frame read back is the file's pages); compressed
    ones are read a batch at a time, so only one batch's compressed bytes are held beside the
    decompressed columns (a map would keep every page it touched until it is closed)."""
    return pa.memory_map(str(path)) if spill_codec() is None else pa.OSFile(str(path))


def read_table(path: Path, columns: list[str] | None = None, head: bool = False) -> pa.Table:
    """An Arrow IPC file `write_table` wrote (only `columns`, in their order, when given):
    only the columns asked for are read. `head`: only the file's first record batch (its
    columns and their types at the cost of a few rows)."""
    with _opened(path) as source:
        if columns is None:
            return _read(ipc.open_file(source), head)
        names = ipc.open_file(source).schema.names
        fields = [i for i, name in enumerate(names) if name in set(columns)]
        if not fields:  # an empty list would read them all
            return pa.table({})
        options = ipc.IpcReadOptions(included_fields=fields)
        table = _read(ipc.open_file(source, options=options), head)
    return table.select([name for name in columns if name in names])


def _read(reader: Any, head: bool) -> pa.Table:
    if not head:
        return reader.read_all()
    if reader.num_record_batches == 0:
        return reader.schema.empty_table()
    return pa.Table.from_batches([reader.get_batch(0)], schema=reader.schema)


def read_schema(path: Path) -> pa.Schema:
    with _opened(path) as source:
        return ipc.open_file(source).schema


def count_rows(path: Path) -> int:
    with _opened(path) as source:
        return int(ipc.open_file(source).count_rows())


def write_frame(path: Path, frame: pd.DataFrame) -> None:
    """A frame as an Arrow IPC file (one dictionary per categorical column, so its categories
    come back in their order). Arrow reads text back as pandas' `str`; an `object`
    column is noted with its missing marker (None when it holds any None, else NaN), and a
    categorical one with the dtype of its categories (an empty dictionary loses it; the
    categories of a frame without rows are not kept)."""
    table = pa.Table.from_pandas(frame)  # a RangeIndex as metadata, any other as a column
    objects = {
        str(column): "none" if _holds_none(frame[column]) else "nan"
        for column in frame.columns
        if frame[column].dtype == object
    }
    categories = {
        str(column): str(frame[column].cat.categories.dtype)
        for column in frame.columns
        if isinstance(frame[column].dtype, pd.CategoricalDtype)
    }
    noted = json.dumps({"objects": objects, "categories": categories}).encode()
    metadata = {**(table.schema.metadata or {}), _NOTES_KEY: noted}
    write_table(path, table.replace_schema_metadata(metadata))


def _rows_of(path: Path, columns: list[str] | None, rows: np.ndarray) -> pa.Table:
    """The rows at the positions `rows` of the `columns` (as `read_table` reads them): only
    the record batches holding them are read (where each batch starts is told by its cheapest
    column, the stored index, when the file has one)."""
    schema = read_schema(path)
    index = [n for n in schema.pandas_metadata.get("index_columns", []) if isinstance(n, str)]
    names = schema.names if columns is None else [n for n in columns if n in schema.names]
    if not index or not names or len(rows) == 0:
        return read_table(path, columns).take(pa.array(rows, type=pa.int64()))
    with _opened(path) as source:
        marks = ipc.open_file(source, options=_fields(schema, index[:1]))
        lengths = [marks.get_batch(i).num_rows for i in range(marks.num_record_batches)]
        starts = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])
        if len(rows) and (rows.min() < 0 or rows.max() >= starts[-1]):
            raise IndexError("a row position past the file's rows")
        batch_of = np.searchsorted(starts, rows, side="right") - 1
        wanted = np.unique(batch_of)
        reader = ipc.open_file(source, options=_fields(schema, names))
        batches = [reader.get_batch(int(i)) for i in wanted]
    table = pa.Table.from_batches(batches, schema=batches[0].schema).select(names)
    table = table.replace_schema_metadata(schema.metadata)
    kept = np.diff(starts)[wanted]
    offsets = np.concatenate([[0], np.cumsum(kept)[:-1]])
    at = rows - starts[batch_of] + offsets[np.searchsorted(wanted, batch_of)]
    return table.take(pa.array(at, type=pa.int64()))


def _fields(schema: pa.Schema, names: list[str]) -> ipc.IpcReadOptions:
    return ipc.IpcReadOptions(
        included_fields=[i for i, name in enumerate(schema.names) if name in set(names)]
    )


def _holds_none(column: pd.Series) -> bool:
    none: Any = None  # compared element-wise by numpy (object arrays)
    return bool(np.equal(column.to_numpy(), none).any())


def read_frame(
    path: Path,
    columns: list[str] | None = None,
    head: bool = False,
    rows: np.ndarray | None = None,
) -> pd.DataFrame:
    """A frame `write_frame` wrote (only `columns`, without the index, when given; only the
    rows of its first record batch with `head`; only the rows at the positions `rows`, taken
    from the Arrow columns before they are made pandas', numbered from 0)."""
    if rows is not None:
        table = _rows_of(path, columns, np.asarray(rows, dtype=np.int64))
    else:
        table = read_table(path, columns, head)
    frame = table.to_pandas()
    notes = json.loads((table.schema.metadata or {})[_NOTES_KEY])
    if columns is not None:
        notes = {
            kind: {c: v for c, v in held.items() if c in columns} for kind, held in notes.items()
        }
    for column, dtype in notes["categories"].items():
        values = frame[column]
        if not isinstance(values.dtype, pd.CategoricalDtype):  # all missing: stored as nulls
            categories = pd.Index(values.dropna().unique(), dtype=dtype)
            frame[column] = values.astype(pd.CategoricalDtype(categories))
        elif str(values.cat.categories.dtype) != dtype:  # no categories: object dtype
            categories = values.cat.categories.astype(dtype)
            frame[column] = values.cat.rename_categories(categories)
    for column, marker in notes["objects"].items():
        missing = None if marker == "none" else np.nan
        frame[column] = _objects(table.column(column), frame[column], missing)
    return frame


def _objects(stored: pa.ChunkedArray, read: pd.Series, missing: Any) -> pd.Series:
    """An `object` column as written: its values, `missing` where there is none. Text is
    made into Python strings once per distinct text (an Arrow dictionary), not once per row."""
    if pa.types.is_string(stored.type) or pa.types.is_large_string(stored.type):
        encoded = pc.dictionary_encode(stored.combine_chunks())
        words = np.array([*encoded.dictionary.to_pylist(), missing], dtype=object)
        codes = encoded.indices.fill_null(len(encoded.dictionary)).to_numpy(zero_copy_only=False)
        return pd.Series(words[codes], index=read.index, dtype=object)
    values = read.astype(object).to_numpy()
    return pd.Series(np.where(pd.isna(values), missing, values), index=read.index, dtype=object)


def frame_columns(path: Path) -> list[str]:
    """The columns of a frame `write_frame` wrote (not its index), in their order."""
    schema = read_schema(path)
    index = schema.pandas_metadata.get("index_columns", []) or []
    stored = {name for name in index if isinstance(name, str)}  # a RangeIndex is a dict, not stored
    return [name for name in schema.names if name not in stored]


def read_row_labels(path: Path) -> np.ndarray:
    """The index of a frame `write_frame` wrote (its rows' numbers in the whole table)."""
    index = read_schema(path).pandas_metadata["index_columns"]
    if index and isinstance(index[0], str):
        return read_table(path, [index[0]]).column(0).to_numpy()
    kept = index[0] if index else {"start": 0, "step": 1}  # a RangeIndex, kept as metadata
    rows = count_rows(path)
    return kept["start"] + kept["step"] * np.arange(rows, dtype=np.int64)


def write_json(path: Path, value: object) -> None:
    with private_file(path) as handle:
        handle.write(json.dumps(value, sort_keys=True).encode())


def read_json(path: Path) -> Any:
    return json.loads(path.read_bytes())
