"""The contracts worker: a process that runs the run's Great Expectations contracts on the
other core (`python -m hyposcreen.validate.worker on|auto [package folder]`;
validate/worker_client.py starts it and is the only one that talks to it).

It first says whether it takes the work (not when it imported hyposcreen from another folder
than the run's; with ``auto``: only when half a CPU stayed idle while
it watched the machine for 0.1 s, as the background import did: validate/warm_up.py), then
imports GX and builds its context while the run reads, and answers requests in order: the
contracts of a window's tables (validate.run.validate_tables with the values the run's rules
give, the small breaches demoted; the Data Docs written into the window's staging folder) and
the review list's contract. The answers are the reports' outcomes (counts, reasons, `file:row`
examples and frame labels: no values). Requests are read by a thread as they come, so the run
never waits on a full pipe while GX imports. The end of its stdin ends it.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import queue
import struct
import sys
import threading
import time
from typing import IO, Any

_HELLO = struct.Struct("<Q")


def main(argv: list[str]) -> int:
    replies = os.fdopen(os.dup(1), "wb")
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 1)  # GX's own prints never reach the answers
    # the run's own code only: a child started with another sys.path (python -E or -I, a
    # PYTHONPATH the run did not read) may import another copy of hyposcreen
    same_code = argv[1:2] in ([], [package_dir()])
    accepted = same_code and (argv[:1] == ["on"] or _core_free())
    text = json.dumps({"accepted": accepted, "frames": []}).encode("utf-8")
    replies.write(_HELLO.pack(len(text)) + text)
    replies.flush()
    if not accepted:
        return 0
    requests: queue.Queue[Any] = queue.Queue()
    reader = threading.Thread(target=_read, args=(sys.stdin.buffer, requests), daemon=True)
    reader.start()
    with contextlib.suppress(Exception):  # what fails here fails again on first use, answered
        from hyposcreen.validate import warm_up

        warm_up.prepare_contracts()
    # GX's modules and context stay to the end: left out of the cyclic garbage collector,
    # whose full collections of each request's objects would otherwise walk them all again
    gc.freeze()
    return _serve(requests, replies)


def package_dir() -> str:
    """The folder of the hyposcreen package this process imported."""
    import hyposcreen

    return os.path.dirname(os.path.realpath(hyposcreen.__file__))


def _core_free() -> bool:
    """Whether a second core stays free while this worker watches the machine (a little
    longer than the shortest watch that decides, `SAMPLE_S`)."""
    from hyposcreen.validate import warm_up

    before = warm_up.cpu_times()
    time.sleep(warm_up.SAMPLE_S * 1.5)
    return warm_up.core_free_since(before)


def _read(stream: IO[bytes], requests: queue.Queue[Any]) -> None:
    from hyposcreen.validate.worker_pipe import receive

    try:
        while True:
            requests.put(receive(stream))
    except Exception:  # the end of the run's pipe (or something that does not read): stop
        requests.put(None)


def _serve(requests: queue.Queue[Any], replies: IO[bytes]) -> int:
    from hyposcreen.validate.remembered import remembering_results
    from hyposcreen.validate.worker_pipe import send

    kept: dict[str, Any] = {}  # while remembering: the last frame of each table
    with contextlib.ExitStack() as loop:
        remembering = False
        while (item := requests.get()) is not None:
            header, frames = item
            if header.get("remember") != remembering:
                loop.close()
                kept.clear()
                remembering = bool(header.get("remember"))
                if remembering:
                    loop.enter_context(remembering_results())
            try:
                answer = {"ok": True, **_answer(header, frames, kept)}
            except Exception as error:  # the run validates in its own process instead
                answer = {"ok": False, "error": type(error).__name__}
            try:
                send(replies, answer, {})
            except OSError:
                return 0
            del item, header, frames, answer  # the window's frames, unless kept for the next
            if not remembering:  # a lone window: while the run writes (its peak), only GX
                _release_free_memory()
    return 0


def _release_free_memory() -> None:
    """Hand the pages of the frames let go back to the system (Arrow's pool and glibc keep
    them otherwise), so that the run's peak is not counted with them."""
    import ctypes

    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _answer(header: dict[str, Any], frames: dict[str, Any], kept: dict[str, Any]) -> dict[str, Any]:
    for name, frame in frames.items():
        if _dtypes(frame) != header["dtypes"][name]:
            raise TypeError(f"{name} did not come through Arrow as it was")
    from hyposcreen.validate.worker_pipe import rows_of

    cuts = header.get("cuts", {})  # table -> the frame it is cut from and its rows
    bases = {cut[0]: frames[cut[0]] if cut[0] in frames else kept[cut[0]] for cut in cuts.values()}
    tables = {
        name: rows_of(bases, frames, cuts[name])
        if name in cuts
        else (frames[name] if name in frames else kept[name])
        for name in header["order"]
    }
    if header.get("remember"):  # every frame sent (the frames cut from among them), then
        kept.update(frames)  # the tables: the client counts on the last of each name
        kept.update(tables)
    if header["kind"] == "review_list":
        from hyposcreen.validate.review_list import SEVERITY_LABELS, validate_review_list

        severities = header.get("severities", SEVERITY_LABELS)
        report = validate_review_list(tables["review"], header["vocabulary"], severities)
    else:
        report = _contracts(tables, header, _read_rows(bases, frames, cuts))
    return report.as_message()


def _read_rows(
    bases: dict[str, Any], frames: dict[str, Any], cuts: dict[str, list[Any]]
) -> dict[str, Any]:
    """Per table cut from a frame kept by the loop: that frame and the rows' positions in it
    (validate/view_rows.py cuts the table's view from that frame's)."""
    import numpy as np

    read_rows = {}
    for name, cut in cuts.items():
        if len(cut) == 3:
            positions = np.arange(int(cut[1]), int(cut[2]))
        else:
            positions = frames[cut[1]]["row"].to_numpy()
        read_rows[name] = (bases[cut[0]], positions)
    return read_rows


def _contracts(tables: dict[str, Any], told: dict[str, Any], read_rows: dict[str, Any]) -> Any:
    """The contracts as recipe_contracts.run_contracts runs them, with the values it sent."""
    from pathlib import Path

    import pandas as pd

    from hyposcreen.validate.run import validate_tables

    report = validate_tables(
        tables,
        window_end=pd.Timestamp(told["window_end"]),
        thresholds=told["thresholds"],
        docs_dir=Path(told["docs_dir"]) if told["docs_dir"] is not None else None,
        code_system_aliases=told["code_system_aliases"],
        rule_values=told["rule_values"],
        timezone=told.get("timezone", "UTC"),
        read_rows=read_rows,
    )
    report.demote_small_breaches(told["min_rows"], told["broken_share"])
    return report


def _dtypes(frame: Any) -> list[str]:
    return [*(str(d) for d in frame.dtypes), type(frame.index).__name__, str(frame.index.dtype)]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
