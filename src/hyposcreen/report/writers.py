"""Output files, each written to a temporary name in the same folder and renamed into place.

Each file is flushed to disk (fsync) before a reader can rely on it. Inside `synced_together`
(the outputs of a run, built in a hidden staging folder that is published whole) a file is
written under its own name (nobody reads the folder before it is published; a file whose
writing fails is removed), its fsync runs on a background thread while the next output is
made, and the block ends only once every file is on disk, so the folder is never published
before its files are durable. No temporary name there: on ext4 a file's creation or rename
beside a background fsync waits for the journal commit that fsync forces.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from hyposcreen.errors import naming_the_file
from hyposcreen.report.csv_blocks import csv_of_blocks
from hyposcreen.report.csv_text import csv_chunks
from hyposcreen.report.safe_cells import neutralise_frame

PRIVATE_MODE = 0o600  # files that hold patient identifiers
# a larger file is synced at once even in `synced_together`: flushing it in the background
# would compete with the next outputs' writes for the disk (what is saved is a small file's
# wait, not a large file's flush)
SYNC_LATER_MAX_BYTES = 8 << 20


class _PendingSyncs:
    """The fsyncs of the files written inside one `synced_together` block, on one thread: the
    block's own, or the one a loop of windows shares (`one_fsync_thread`)."""

    def __init__(self) -> None:
        self._shared = _SHARED_THREAD.get()
        self._pool = self._shared or ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="hyposcreen-fsync"
        )
        self._futures: list[Future[None]] = []

    def add(self, handle: BinaryIO) -> None:
        self._futures.append(self._pool.submit(_fsync_and_close, handle))

    def wait(self, raise_errors: bool = True) -> None:
        """Every pending fsync done (then the first failure raised, if asked)."""
        if self._shared is None:
            self._pool.shutdown(wait=True)
        else:
            wait(self._futures)
        failures = [f.exception() for f in self._futures]
        first = next((failure for failure in failures if failure is not None), None)
        if raise_errors and first is not None:
            raise first


_SHARED_THREAD: ContextVar[ThreadPoolExecutor | None] = ContextVar(
    "hyposcreen_fsync_thread", default=None
)


@contextmanager
def one_fsync_thread() -> Iterator[None]:
    """Every `synced_together` block in this one sends its fsyncs to the same thread, started
    with the first and ended when this ends: a loop of windows publishes a folder a night, and
    on a busy machine a thread started per folder kept the run waiting until the system first
    ran it."""
    if _SHARED_THREAD.get() is not None:
        yield
        return
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hyposcreen-fsync")
    token = _SHARED_THREAD.set(pool)
    try:
        yield
    finally:
        _SHARED_THREAD.reset(token)
        pool.shutdown(wait=True)


def on_fsync_thread(sync: Callable[..., None], *args: Any) -> Future[None] | None:
    """`sync(*args)` sent to the fsync thread of the `one_fsync_thread` block this runs in (its
    future), or None outside such a block."""
    shared = _SHARED_THREAD.get()
    return None if shared is None else shared.submit(sync, *args)


_PENDING: ContextVar[_PendingSyncs | None] = ContextVar("hyposcreen_pending_syncs", default=None)


def _fsync_and_close(handle: BinaryIO) -> None:
    """`handle` on disk and closed; a failed fsync names the file (its name as written, in
    the output folder)."""
    with handle, naming_the_file(Path(handle.name)):
        os.fsync(handle.fileno())


@contextmanager
def synced_together() -> Iterator[None]:
    """Files written by `write_atomic` in this block (up to SYNC_LATER_MAX_BYTES) are fsynced
    on a background thread while the block goes on; leaving the block waits until all of
    them are on disk (an fsync error is raised there). For files in a folder nobody reads
    before the block has ended."""
    pending = _PendingSyncs()
    token = _PENDING.set(pending)
    try:
        yield
    except BaseException:
        _PENDING.reset(token)
        pending.wait(raise_errors=False)  # the block's own error is the one to report
        raise
    _PENDING.reset(token)
    pending.wait()


def write_atomic(path: Path, write: Callable[[Path], object], mode: int = PRIVATE_MODE) -> Path:
    """Write via `write(tmp)` then rename: readers never see a half-written file. Inside
    `synced_together` (a staging folder published whole) `write(path)` itself."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pending = _PENDING.get()
    if pending is not None:
        return _write_unpublished(path, write, mode, pending)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    tmp = Path(tmp_name)
    try:
        with naming_the_file(path):  # a write the machine stops (a full disk) names the file
            write(tmp)
            os.chmod(tmp, mode)
            _fsync_and_close(tmp.open("rb"))
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def _write_unpublished(
    path: Path, write: Callable[[Path], object], mode: int, pending: _PendingSyncs
) -> Path:
    """`write(path)` into a folder not yet published, the file made first with mode 0600 (as
    mkstemp makes a temporary one) so that no other user can open it while it is written;
    removed again if writing it fails."""
    path.unlink(missing_ok=True)  # made anew: never an older file's mode
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE))
    try:
        with naming_the_file(path):  # a write the machine stops (a full disk) names the file
            write(path)
            os.chmod(path, mode)
            synced = path.open("rb")
            if os.fstat(synced.fileno()).st_size <= SYNC_LATER_MAX_BYTES:
                pending.add(synced)  # on disk before the block ends
            else:
                _fsync_and_close(synced)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def write_csv(
    path: Path,
    frame: pd.DataFrame,
    mode: int = PRIVATE_MODE,
    numeric: Iterable[str] = (),
    blocks_by: str | None = None,
) -> Path:
    """Every CSV of the project goes through here: text cells that a spreadsheet would run
    as a formula are neutralised first (report.safe_cells); `numeric` names the columns that
    hold numbers written as text (their plain numbers stay numbers). `blocks_by`: a column
    whose values come in runs of rows, each run's text remembered by its exact content and
    taken again for the same rows (report.csv_blocks), the same bytes."""
    numeric = tuple(numeric)
    blocks = csv_of_blocks(frame, blocks_by, path.name, numeric) if blocks_by else None
    if blocks is not None:
        whole = b"".join(blocks)

        def _write_blocks(tmp: Path) -> None:
            tmp.write_bytes(whole)

        return write_atomic(path, _write_blocks, mode)
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


def write_json(path: Path, payload: dict[str, Any] | str, mode: int = 0o644) -> Path:
    """`payload` as JSON, or a `json_text` made before."""
    text = payload if isinstance(payload, str) else json_text(payload)

    def _write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    return write_atomic(path, _write, mode)


def json_text(payload: dict[str, Any]) -> str:
    """The text `write_json` writes for `payload`."""
    return json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n"
