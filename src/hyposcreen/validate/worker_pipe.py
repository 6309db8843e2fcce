"""The messages between a run and its contracts worker (validate/worker.py): a JSON header,
then the frames it names, each as one Arrow IPC stream, over the worker's stdin and stdout.

The header is counts, settings and file references only; the frames (patient rows) travel as
Arrow IPC, never as a pickle, and never touch the disk. A pandas frame goes through Arrow
with its pandas metadata, so it comes back with the same dtypes and index (a RangeIndex as
metadata, any other index as a column).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from typing import IO, Any

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
        # nthreads=1: the same table, without a pool of threads started for each frame
        table = pa.Table.from_pandas(frame, preserve_index=None, nthreads=1)
        with pa.ipc.new_stream(stream, table.schema) as writer:
            writer.write_table(table)
    stream.flush()


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
