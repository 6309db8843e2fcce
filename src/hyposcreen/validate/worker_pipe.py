"""The messages between a run and its contracts worker (validate/worker.py): a JSON header,
then the frames it names, each as one Arrow IPC stream, over the worker's stdin and stdout.

The header is counts, settings and file references only; the frames (patient rows) travel as
Arrow IPC, never as a pickle, and never touch the disk. A pandas frame goes through Arrow
with its pandas metadata, so it comes back with the same dtypes and index (a RangeIndex as
metadata, any other index as a column). A frame shaped as one converted before (the same
column names, dtypes and index name: the labs or review list of each window), its columns
converted to the same Arrow types, takes that conversion's schema and pandas metadata (with
this frame's range of rows) and skips pandas' per-column description: the same table as
`pa.Table.from_pandas`. A table may be sent as rows of a frame sent once (`RowsOf`: the
windows of one read send their labs so), the header naming the frame and the rows.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa

_LENGTH = struct.Struct("<Q")
FRAMES = "frames"  # the header's list of the frame names that follow it, in order


class PipeClosed(EOFError):
    """The other side closed the pipe (or sent something that does not read)."""


def send(stream: IO[bytes], header: Mapping[str, Any], frames: Mapping[str, pd.DataFrame]) -> None:
    """Write `header` (with the names of `frames` added) and each frame as an IPC stream."""
    text = json.dumps({**header, FRAMES: list(frames)}, default=_plain).encode("utf-8")
    stream.write(_LENGTH.pack(len(text)))
    stream.write(text)
    for frame in frames.values():
        table = arrow_table(frame)
        with pa.ipc.new_stream(stream, table.schema) as writer:
            writer.write_table(table)
    stream.flush()


@dataclass(frozen=True)
class RowsOf:
    """A table that is the rows of `frame` where `keep` holds, numbered from 0: the worker is
    sent `frame` once, as the table `name`, and cuts the rows from it (the windows of one read
    send their labs so): a run of rows by its bounds, other rows by their positions."""

    frame: pd.DataFrame
    name: str
    keep: np.ndarray

    def run(self) -> tuple[int, int] | None:
        """(start, stop) of the rows when they are one run; else None."""
        rows = np.flatnonzero(self.keep)
        if len(rows) and rows[-1] - rows[0] + 1 == len(rows):
            return int(rows[0]), int(rows[-1]) + 1
        return None

    def rows(self) -> pd.DataFrame:
        return self.frame.loc[self.keep].reset_index(drop=True)


def frames_and_cuts(
    tables: Mapping[str, pd.DataFrame | RowsOf], remember: bool
) -> tuple[dict[str, pd.DataFrame], dict[str, list[Any]]]:
    """The frames to send for `tables` (a `RowsOf`'s whole frame under its name, its rows'
    positions as a frame of their own when they are not one run), and per table given as
    `RowsOf`: [that name, start, stop] or [that name, the positions' frame]. Without
    `remember` the worker keeps no frame to cut the next one from: the rows themselves are
    sent."""
    frames: dict[str, pd.DataFrame] = {}
    cuts: dict[str, list[Any]] = {}
    for name, table in tables.items():
        if not isinstance(table, RowsOf):
            frames[name] = table
        elif not remember:
            frames[name] = table.rows()
        else:
            frames[table.name] = table.frame
            run = table.run()
            if run is not None:
                cuts[name] = [table.name, *run]
            else:
                cuts[name] = [table.name, f"{name} rows"]
                frames[f"{name} rows"] = pd.DataFrame({"row": np.flatnonzero(table.keep)})
    return frames, cuts


def rows_of(bases: Mapping[str, pd.DataFrame], frames: Mapping[str, Any], cut: list[Any]) -> Any:
    """The worker's side of `RowsOf`: the rows a table's cut names, numbered from 0."""
    base = bases[cut[0]]
    if len(cut) == 3:
        return base.iloc[int(cut[1]) : int(cut[2])].reset_index(drop=True)
    return base.take(frames[cut[1]]["row"].to_numpy()).reset_index(drop=True)


def arrow_table(frame: pd.DataFrame) -> pa.Table:
    """`pa.Table.from_pandas(frame, preserve_index=None)`, its schema and pandas metadata
    taken from the conversion of a frame of the same shape when there was one."""
    shape = _shape(frame)
    if shape is None:
        return _from_pandas(frame)
    known = _SCHEMAS.get(shape)
    if known is None:  # a first frame of its shape: pandas' conversion, its schema kept
        table = _from_pandas(frame)
        _remember(shape, table.schema)
        return table
    schema, metadata = known
    arrays = [pa.array(_values(s), from_pandas=True, safe=True) for _, s in frame.items()]
    if [a.type for a in arrays] != schema.types:  # (an object column all missing, say)
        table = _from_pandas(frame)
        _remember(shape, table.schema)
        return table
    described = {**metadata["index_columns"][0], **_range(frame.index)}
    text = json.dumps({**metadata, "index_columns": [described]}).encode("utf8")
    return pa.Table.from_arrays(arrays, schema=schema.with_metadata({b"pandas": text}))


# (column names, their dtypes, the index's name) -> (Arrow schema, pandas metadata)
_SCHEMAS: dict[tuple[Any, ...], tuple[pa.Schema, dict[str, Any]]] = {}
_SCHEMAS_KEPT = 32


def _from_pandas(frame: pd.DataFrame) -> pa.Table:
    # nthreads=1: the same table, without a pool of threads started for each frame
    return pa.Table.from_pandas(frame, preserve_index=None, nthreads=1)


def _shape(frame: pd.DataFrame) -> tuple[Any, ...] | None:
    """What a frame's pandas metadata is made of but its range of rows (pyarrow.pandas_compat
    .construct_metadata): None for a frame converted by pandas' way every time (an index
    other than a range, no column, a column named by other than text, attributes)."""
    columns, index = frame.columns, frame.index
    if not isinstance(index, pd.RangeIndex) or not len(columns) or frame.attrs:
        return None
    if not all(isinstance(c, str) for c in columns) or not columns.is_unique:
        return None
    if not (columns.name is None or isinstance(columns.name, str)):
        return None
    if not (index.name is None or isinstance(index.name, str)):
        return None
    kinds = tuple(_kind(dtype) for dtype in frame.dtypes)
    return (tuple(columns), str(columns.dtype), columns.name, index.name, kinds)


def _kind(dtype: Any) -> tuple[Any, ...]:
    """A column's dtype as its metadata says it (a categorical: its number of categories)."""
    if isinstance(dtype, pd.CategoricalDtype):
        return (str(dtype), len(dtype.categories), dtype.ordered)
    return (str(dtype),)


def _values(series: pd.Series) -> Any:
    """What `pa.array(series)` converts (pyarrow's get_values: `series.values`), handed over
    directly when it is a numpy array or speaks Arrow's protocol: the same array, without
    pandas looking up the three Arrow protocol names among the series' labels first."""
    if isinstance(series.dtype, (pd.DatetimeTZDtype, pd.IntervalDtype, pd.PeriodDtype)):
        return series
    values = series.values
    if isinstance(values, np.ndarray) or hasattr(values, "__arrow_array__"):
        return values
    return series


def _range(index: pd.RangeIndex) -> dict[str, int]:
    return {"start": index.start, "stop": index.stop, "step": index.step}


def _remember(key: tuple[Any, ...], schema: pa.Schema) -> None:
    """Keep `schema` for frames of shape `key` when its metadata is one range descriptor and
    reads back as the very text (so that a frame of another range is described the same);
    else forget the shape's schema."""
    _SCHEMAS.pop(key, None)
    text = (schema.metadata or {}).get(b"pandas")
    if text is None or set(schema.metadata) != {b"pandas"}:
        return
    metadata = json.loads(text)
    ranges = metadata.get("index_columns")
    if not (isinstance(ranges, list) and len(ranges) == 1 and isinstance(ranges[0], dict)):
        return
    if ranges[0].get("kind") != "range" or json.dumps(metadata).encode("utf8") != text:
        return
    if len(_SCHEMAS) >= _SCHEMAS_KEPT:
        _SCHEMAS.clear()
    _SCHEMAS[key] = (schema.remove_metadata(), metadata)


def receive(stream: IO[bytes]) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    """The next header and its frames; PipeClosed at the end of the stream."""
    head = _exactly(stream, _LENGTH.size)
    (length,) = _LENGTH.unpack(head)
    try:
        header: dict[str, Any] = json.loads(_exactly(stream, length).decode("utf-8"))
    except ValueError as broken:
        raise PipeClosed("a header that does not read") from broken
    frames: dict[str, pd.DataFrame] = {}
    for name in header.pop(FRAMES, []):
        try:
            frames[name] = pa.ipc.open_stream(stream).read_all().to_pandas()
        except (pa.ArrowInvalid, OSError) as broken:
            raise PipeClosed(f"frame {name} does not read") from broken
    return header, frames


def _exactly(stream: IO[bytes], size: int) -> bytes:
    data = stream.read(size)
    if data is None or len(data) != size:
        raise PipeClosed("the pipe closed")
    return data


def _plain(value: Any) -> Any:
    """numpy scalars as Python's (JSON writes no numpy type)."""
    item = getattr(value, "item", None)
    if callable(item):
        return item()
    raise TypeError(f"{type(value).__name__} is not JSON")
