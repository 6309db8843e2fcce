"""What a failed run leaves and says: FAILED.json beside the outputs, environment problems
(disk full, read-only or unwritable output, damaged state DB) told apart from bugs (exit 75),
and bugs told by their kind only (their text may quote values of the extract)."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hyposcreen import __version__
from hyposcreen.errors import (
    RESTORE_STATE,
    EnvironmentProblem,
    HyposcreenError,
    InputError,
    Terminated,
    damaged_state_database,
)

FAILED_FILE = "FAILED.json"


def failure_record(
    error: BaseException, window: tuple[str | None, str | None], timezone: str | None = None
) -> dict[str, Any]:
    """What FAILED.json and the failure alerts say: type, message, window, time. Data values
    never enter it; an environment problem is named as one (exit 75), a bug as a bug. The
    window's bounds are the site's wall times: `timezone`, when known (the site mapping read),
    is named beside them as in run_manifest.json's window."""
    error = environment_problem(error) or error
    if isinstance(error, KeyboardInterrupt):
        message = (
            f"The run was stopped ({'SIGTERM' if isinstance(error, Terminated) else 'Ctrl-C'}) "
            "before this window was published: its previous outputs are kept; run the window "
            "again."
        )
    elif isinstance(error, HyposcreenError):
        message = str(error)
        if isinstance(error, InputError) and error.examples:
            message = message.split(" Examples: ")[0]  # examples may quote patient rows
    else:
        message = (
            "Internal error in hyposcreen (a bug, not a problem with the data); rerun with "
            "HYPOSCREEN_DEBUG=1 for the traceback."
        )
    return {
        "error_type": error_kind(error),
        "message": message,
        "window": {"start": window[0], "end": window[1]}
        | ({"timezone": timezone} if timezone else {}),
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "hyposcreen_version": __version__,
    }


def internal_error_line(error: BaseException) -> str:
    """The one line a run's stderr (a log) says of a bug: its kind, never its text, which may
    quote values of the extract (as `failure_record`)."""
    return (
        f"hyposcreen: internal error ({error_kind(error)}). This is a bug in hyposcreen, "
        "not in your data; rerun with HYPOSCREEN_DEBUG=1 for the traceback and report it."
    )


class InternalError(Exception):
    """A bug met inside a Prefect task, told without its text: the flow run's log and state
    keep what a task raises, and a bug's text may quote the extract (`without_its_text`)."""

    def __init__(self, kind: str, where: str | None = None) -> None:
        if where is None:  # rebuilt from its own message (Prefect's JSON of a failed run)
            self.kind = kind.partition("(")[2].partition(")")[0] or "Exception"
            super().__init__(kind)
            return
        self.kind = kind
        super().__init__(
            f"internal error ({kind}) in the {where} task: a bug in hyposcreen, not in your "
            "data; rerun with HYPOSCREEN_DEBUG=1 for the traceback"
        )


def error_kind(error: BaseException) -> str:
    """The kind of an error: a bug told without its text is named by the bug's kind."""
    return error.kind if isinstance(error, InternalError) else type(error).__name__


def without_its_text(error: Exception, where: str) -> Exception:
    """What a task raises for `error`: the error itself when it is the user's to act on (a
    HyposcreenError, an OSError a retry or environment_problem reads) or HYPOSCREEN_DEBUG is
    set; any other error (a bug) as an InternalError naming only its kind and the task."""
    if isinstance(error, (HyposcreenError, OSError, InternalError)):
        return error
    if environment_problem(error) is not None or os.environ.get("HYPOSCREEN_DEBUG"):
        return error
    return InternalError(type(error).__name__, where)


def without_chain(error: BaseException) -> BaseException:
    """`error` cut from the exceptions it was raised from or during (their text may quote the
    extract: a parse error naming a value), as Prefect keeps a failed task's error: pickled into
    its result storage, the whole chain included once tblib's pickling is installed (importing
    Dask does). An OSError or SQLite cause stays, its own chain cut: a retry and
    `environment_problem` read it (a full disk under the state database is the machine's, 75);
    their text is the system's, not the extract's. HYPOSCREEN_DEBUG keeps everything."""
    if os.environ.get("HYPOSCREEN_DEBUG"):
        return error
    cause = error.__cause__
    kept = isinstance(cause, (OSError, sqlite3.Error))
    if kept and cause is not None:
        without_chain(cause)
    error.__cause__ = cause if kept else None
    error.__context__ = None
    return error


def write_failed_json(out_dir: Path, record: dict[str, Any]) -> Path | None:
    """FAILED.json beside the outputs, written whole or not at all (a disk that fills never
    leaves it cut short); None (and a line on stderr) when it cannot be written."""
    path = out_dir / FAILED_FILE
    partial = out_dir / f".{FAILED_FILE}.partial-{os.getpid()}"
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        partial.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(partial, path)
    except OSError as exc:
        with contextlib.suppress(OSError):  # `out_dir` may be a file, or not there
            partial.unlink(missing_ok=True)
        print(f"hyposcreen: could not write {FAILED_FILE} in {out_dir}: {exc}", file=sys.stderr)
        return None
    return path


# SQLite's codes for a write the machine refused (a full disk, a file-size limit, a failing
# disk): the file is whole (SQLite undoes the unfinished transaction from its journal when the
# file is next opened), so the advice is the machine's, not a restore that loses the history
_UNWRITTEN = {
    "SQLITE_FULL",
    "SQLITE_IOERR_WRITE",
    "SQLITE_IOERR_FSYNC",
    "SQLITE_IOERR_DIR_FSYNC",
    "SQLITE_IOERR_TRUNCATE",
}
_KEPT = (
    " A write to it was refused: the disk under it is full, its file-size limit (`ulimit -f`, "
    "systemd's LimitFSIZE=) is reached or the disk failed; the file is kept whole (the "
    "unfinished write is undone when it is next opened) and this night was not recorded in it. "
    "Free space or raise the limit, then run again. Do not restore it or move it aside: it "
    "holds the nightly history (listings, reviews, late results) that a fresh state lacks."
)
_RESTORE = f" {RESTORE_STATE}"


def _unwritten(error: sqlite3.Error) -> bool:
    return getattr(error, "sqlite_errorname", None) in _UNWRITTEN


def _state_problem(error: BaseException) -> EnvironmentProblem | None:
    """A SQLite error of the state database (bare, or wrapped by the state store naming its
    file): a write the machine refused (`_KEPT`), else a damaged file (`_RESTORE`)."""
    if isinstance(error, sqlite3.DatabaseError):
        if _unwritten(error):
            return EnvironmentProblem(f"The state database could not be written ({error}).{_KEPT}")
        return damaged_state_database(error)
    cause = error.__cause__ if isinstance(error, HyposcreenError) else None
    if isinstance(cause, sqlite3.DatabaseError) and "state" in str(error).lower():
        return EnvironmentProblem(f"{error}{_KEPT if _unwritten(cause) else _RESTORE}")
    return None


_SPILL_SIZE = (
    "about 0.1 GB per million lab rows (HYPOSCREEN_SPILL_COMPRESSION=zstd makes it about a "
    "third of that)"
)


def _in_spill(filename: object) -> tuple[str | None, Path | None, bool]:
    """HYPOSCREEN_SPILL_DIR, the file an error names, and whether that file is in the spill
    folder the variable names."""
    spill = os.environ.get("HYPOSCREEN_SPILL_DIR")
    written = Path(os.fsdecode(filename)) if isinstance(filename, str | bytes) else None
    inside = bool(spill and written and written.resolve().is_relative_to(Path(spill).resolve()))
    return spill, written, inside


def _disk_full_advice(filename: object) -> str:
    """What to do about a full disk: about the folder that filled when the error names a file
    (the spill folder HYPOSCREEN_SPILL_DIR names, or another), and, where the spill goes
    already set, not to set it again."""
    spill, written, inside = _in_spill(filename)
    if inside:
        return (
            f"It filled the spill folder HYPOSCREEN_SPILL_DIR ({spill}), where a partitioned "
            f"run spills {_SPILL_SIZE}: free space on its disk, or set HYPOSCREEN_SPILL_DIR "
            "to a folder on a disk with room, then run again."
        )
    if spill and written:
        return (
            f"Free space on the disk of {written.parent}, or give the run a folder on a disk "
            "with room, then run again (a partitioned run's spill goes to HYPOSCREEN_SPILL_DIR, "
            f"{spill}, already)."
        )
    if spill:
        return (
            "Free space on the output/state disk and on that of HYPOSCREEN_SPILL_DIR "
            f"({spill}), where a partitioned run spills {_SPILL_SIZE}, or give the run folders "
            "on disks with room, then run again."
        )
    folder = f"the disk of {written.parent}" if written else "the output/state disk"
    return (
        f"Free space on {folder}, then run again. A partitioned run also spills {_SPILL_SIZE} "
        "beside the output; HYPOSCREEN_SPILL_DIR moves it to a folder on another disk."
    )


def _file_size_advice(filename: object) -> str:
    """What to do about a file-size limit: where the file was in the spill folder
    HYPOSCREEN_SPILL_DIR names, move that folder; where the variable is set already, not to
    set it again."""
    spill, _, inside = _in_spill(filename)
    if inside:
        return (
            f"It was in the spill folder HYPOSCREEN_SPILL_DIR ({spill}): raise the limit, or "
            "set HYPOSCREEN_SPILL_DIR to a folder on a file system that allows larger files, "
            "then run again."
        )
    if spill:
        return (
            "Raise the limit or write to another disk, then run again (a partitioned run's "
            f"spill goes to HYPOSCREEN_SPILL_DIR, {spill}, already)."
        )
    return (
        "Raise the limit or write to another disk (HYPOSCREEN_SPILL_DIR moves the spill), "
        "then run again."
    )


def environment_problem(error: BaseException) -> EnvironmentProblem | None:
    """The machine, not the data, stopped the run: a full disk, a read-only or unwritable
    output, a damaged state database. None for anything else."""
    if isinstance(error, EnvironmentProblem):
        return error
    if (problem := _state_problem(error)) is not None:
        return problem
    cause = error.__cause__ if isinstance(error, HyposcreenError) else error
    if not isinstance(cause, OSError):
        return None
    where = f" ({cause.filename})" if cause.filename else ""
    written = cause.filename
    if cause.filename and cause.filename2:  # a copy or a rename: from the first to the second
        where = f" ({cause.filename} -> {cause.filename2})"
        written = cause.filename2  # the advice is about the folder written to
    if cause.errno in (errno.ENOSPC, errno.EDQUOT):
        return EnvironmentProblem(f"The disk is full{where}. {_disk_full_advice(written)}")
    if cause.errno == errno.EROFS:
        return EnvironmentProblem(
            f"A folder the run writes is on a read-only file system{where}. Point --out or "
            "--state-dir, whichever holds that path, at a writable folder, then run again."
        )
    if cause.errno == errno.EFBIG:
        return EnvironmentProblem(
            f"A file the run writes outgrew the largest file this process may write{where}: "
            "its file-size limit (`ulimit -f`, systemd's LimitFSIZE=) or its file system's. "
            f"{_file_size_advice(written)}"
        )
    if cause.errno in (errno.EACCES, errno.EPERM):
        return EnvironmentProblem(
            f"Permission denied{where}. Give this user read access to the input folder and "
            "its files, and write access to the output and state folders (or choose others), "
            "then run again."
        )
    # a path that is a file where a folder must be (a setting that wraps it stays exit 2)
    if cause is error and cause.errno in (errno.ENOTDIR, errno.EISDIR, errno.ENOENT, errno.EEXIST):
        return EnvironmentProblem(
            f"A file or folder the run needs cannot be used{where}: {cause.strerror}. Check "
            "that --input, --out and --state-dir name folders (or, for the output, a place "
            "one can be made), then run again."
        )
    if cause.errno in (errno.EIO, errno.EMFILE, errno.ENFILE, errno.ENOMEM):
        return EnvironmentProblem(
            f"The system refused a file operation{where}: {cause.strerror}. Fix the machine, "
            "then run again."
        )
    return None
