"""A second process that writes each window's review page and workbook while the run goes on.

In a loop over windows (a backfill, a catch-up of missed nights) a night's page and workbook
are the largest part of its cost, and nothing later in the run reads them. `serving()` forks
a copy of the run's process (hyposcreen.process_copy) before the loop reads its input, so the
two share little memory that either then writes, and keeps it for the loop. `write_beside`
sends it one window's review list, sodium results and evidence as Arrow IPC over a pipe
(validate.worker_pipe: no pickle, nothing on disk) with what the page states about the run
(`PageInfo`, as JSON), and the run goes on with the list's contract and its other files;
`Views.wait()`, before the folder is published, takes the writer's word. The writer writes
into the window's staging folder with the same code, so the same bytes; it fsyncs each file
itself. A writer that fails in any way (raises, dies, stalls, gets a frame whose dtypes did
not survive the pipe) is stopped for the rest of the loop and the run writes the two files
itself, so an error is raised where it would be without a writer.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pandas as pd

from hyposcreen import process_copy
from hyposcreen.report.page_cases import PLOTTED_COLUMNS
from hyposcreen.report.review_page import PageInfo, write_review_views
from hyposcreen.report.writers import remove_unfinished, synced_at_once
from hyposcreen.validate.worker_pipe import PipeClosed, receive, send

VIEW_FILES = ("review_list.html", "review_list.xlsx")
_TIMES = ("window_start", "window_end", "context_start")
_WRITER: list[_Writer] = []  # the loop's writer, while it works


class _Writer:
    """The run's side of a forked writer: its pid and the two pipe ends the run keeps."""

    def __init__(self, pid: int, requests: IO[bytes], replies: IO[bytes]) -> None:
        self.pid, self.requests, self.replies = pid, requests, replies

    def close(self) -> None:
        for end in (self.requests, self.replies):
            with contextlib.suppress(OSError):
                end.close()
        process_copy.stop(self.pid)


@contextlib.contextmanager
def serving() -> Iterator[None]:
    """A writer for the windows written in this block (none where process_copy forks none)."""
    writer = _start() if process_copy.copies_wanted() and not _WRITER else None
    if writer is not None:
        _WRITER.append(writer)
    try:
        yield
    finally:
        if writer is not None:
            _stop(writer)


def _start() -> _Writer | None:
    to_writer, from_run = os.pipe()
    to_run, from_writer = os.pipe()
    pid = process_copy.fork(lambda: _serve(to_writer, from_writer, (from_run, to_run)))
    if pid is None:
        for end in (to_writer, from_run, to_run, from_writer):
            os.close(end)
        return None
    os.close(to_writer)
    os.close(from_writer)
    return _Writer(pid, os.fdopen(from_run, "wb"), os.fdopen(to_run, "rb"))


def _stop(writer: _Writer) -> None:
    if writer in _WRITER:
        _WRITER.remove(writer)
    writer.close()


def _serve(requests_fd: int, replies_fd: int, run_ends: tuple[int, ...]) -> None:
    """The writer's loop: a request, the two files, a word back; until the run closes."""
    for end in run_ends:
        os.close(end)
    with os.fdopen(requests_fd, "rb") as requests, os.fdopen(replies_fd, "wb") as replies:
        while True:
            try:
                header, frames = receive(requests)
            except PipeClosed:
                return
            written = _dtypes(frames) == header["dtypes"]
            if written:
                try:
                    with synced_at_once():
                        write_review_views(
                            Path(header["out"]),
                            frames["review"],
                            frames["sodium_results"],
                            frames["evidence"],
                            _info_of(header["info"]),
                        )
                except Exception:  # the run writes them itself, and reports what fails
                    if process_copy.debugging():
                        traceback.print_exc()
                    written = False
            send(replies, {"written": written}, {})


class Views:
    """One window's page and workbook: sent to the writer, or (`wait`) written here."""

    def __init__(self, writer: _Writer | None, here: Callable[[], object]) -> None:
        self._writer, self._here, self.done = writer, here, False
        self.beside = writer is not None  # begun by the writer

    def wait(self) -> None:
        """Return once both files are in the staging folder (a second call returns at once)."""
        if self.done:
            return
        writer, self._writer = self._writer, None
        if writer is None or not _written(writer):
            self._here()
        self.done = True

    def cancel(self) -> None:
        """The window failed before `wait`: a writer still at its files is stopped (before the
        staging folder is discarded; the loop ends with the failed window)."""
        writer, self._writer = self._writer, None
        if writer is not None:
            _stop(writer)


@contextlib.contextmanager
def write_beside(
    out: Path,
    review: pd.DataFrame,
    sodium_results: pd.DataFrame,
    evidence: pd.DataFrame,
    info: PageInfo,
    before_here: Callable[[], object] = lambda: None,
    may_send: bool = True,
) -> Iterator[Views]:
    """The page and workbook of a window, begun by the loop's writer when there is one; the
    block calls `wait()` before it publishes `out` (leaving it without stops the writer).
    `before_here` runs first when the run writes them itself. `may_send`: False keeps them
    in this process (a long list, whose frames are not copied to a second process)."""

    def here() -> None:
        before_here()
        remove_unfinished(out, VIEW_FILES)  # what a writer stopped midway left
        write_review_views(out, review, sodium_results, evidence, info)

    writer = _WRITER[0] if _WRITER and may_send else None
    if writer is not None:
        plotted = sodium_results[list(PLOTTED_COLUMNS)]  # all the page reads of them
        frames = {"review": review, "sodium_results": plotted, "evidence": evidence}
        header = {"out": str(out), "info": _info_header(info), "dtypes": _dtypes(frames)}
        try:
            send(writer.requests, header, frames)
        except (OSError, ValueError, TypeError):  # the writer is gone, or a frame Arrow refuses
            _stop(writer)
            writer = None
    views = Views(writer, here)
    try:
        yield views
    finally:
        views.cancel()


def _written(writer: _Writer) -> bool:
    """The writer's word on the request sent; a writer that failed is stopped for the loop."""
    try:
        if process_copy.answered_or_stalled(writer.replies.fileno(), writer.pid):
            header, _ = receive(writer.replies)
            if header.get("written") is True:
                return True
    except (PipeClosed, OSError, ValueError):
        pass
    _stop(writer)
    return False


def _dtypes(frames: dict[str, pd.DataFrame]) -> dict[str, list[str]]:
    """Each frame's column dtypes and index type, which the writer checks its copies against."""
    return {
        name: [*(str(d) for d in f.dtypes), type(f.index).__name__, str(f.index.dtype)]
        for name, f in frames.items()
    }


def _info_header(info: PageInfo) -> dict[str, Any]:
    """PageInfo as JSON: each time as its text, unit and zone (restored exactly)."""
    fields = dataclasses.asdict(info)
    for name in _TIMES:
        stamp: pd.Timestamp = fields[name]
        fields[name] = [stamp.isoformat(), stamp.unit, None if stamp.tz is None else str(stamp.tz)]
    return fields


def _info_of(fields: dict[str, Any]) -> PageInfo:
    fields = dict(fields)
    for name in _TIMES:
        text, unit, zone = fields[name]
        stamp = pd.Timestamp(text)
        fields[name] = (stamp if zone is None else stamp.tz_convert(zone)).as_unit(unit)
    fields["atc_combinations"] = {k: tuple(v) for k, v in fields["atc_combinations"].items()}
    fields["warnings"] = tuple(fields["warnings"])
    fields["coverage"] = tuple(fields["coverage"])
    return PageInfo(**fields)
