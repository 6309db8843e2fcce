"""Output files, each written to a temporary name in the same folder and renamed into place."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from hyposcreen.report.csv_text import csv_chunks
from hyposcreen.report.safe_cells import neutralise_frame

PRIVATE_MODE = 0o600  # files that hold patient identifiers


def write_atomic(path: Path, write: Callable[[Path], None], mode: int = PRIVATE_MODE) -> Path:
    """Write via `write(tmp)` then rename: readers never see a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, mode)
        with tmp.open("rb") as synced:
            os.fsync(synced.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def write_csv(
    path: Path, frame: pd.DataFrame, mode: int = PRIVATE_MODE, numeric: Iterable[str] = ()
) -> Path:
    """Every CSV of the project goes through here: text cells that a spreadsheet would run
    as a formula are neutralised first (report.safe_cells); `numeric` names the columns that
    hold numbers written as text (their plain numbers stay numbers)."""
    safe = neutralise_frame(frame, numeric)

    def _write(tmp: Path) -> None:
        pieces = csv_chunks(safe)  # the bytes pandas writes, a column at a time (csv_text)
        if pieces is None:  # a column of values csv_text leaves to pandas
            safe.to_csv(tmp, index=False, lineterminator="\n", encoding="utf-8")
            return
        with tmp.open("wb") as out:
            for piece in pieces:
                out.write(piece)

    return write_atomic(path, _write, mode)


def write_parquet(path: Path, frame: pd.DataFrame, mode: int = PRIVATE_MODE) -> Path:
    # one thread: a list of cases converts faster than a pool of threads starts
    table = pa.Table.from_pandas(frame, preserve_index=False, nthreads=1)
    # drop pandas' metadata blob so bytes do not depend on pandas' own bookkeeping
    table = table.replace_schema_metadata(None)
    return write_atomic(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"), mode)


def write_json(path: Path, payload: dict[str, Any], mode: int = 0o644) -> Path:
    text = json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n"

    def _write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    return write_atomic(path, _write, mode)
