"""One output folder per window, published whole: built in a hidden sibling, then swapped in.

Readers of `<out>/` see either the previous complete set of outputs or the new one, never a
mix: a run killed while writing leaves only its hidden `.<name>.partial-<pid>` folder, which
the next run of the same window removes. Between the two renames of a swap the previous
folder sits at `.<name>.previous-<pid>`; `recover_folder` puts it back if a run died there.
An `<out>/<name>` that is a symbolic link is swapped as a link: its hidden previous name is
unlinked, never followed out of --out (its target stays as it is). A pid in a hidden name is
read only when written in ASCII digits (`.partial-¹` is no pid).

A swap is durable once the folder that holds `<out>/` is synced after it. A loop of windows
(`parent_syncs_later`) leaves a swap that displaces nothing (the folder's last file, the
rename and both syncs) to its fsync thread (report.writers.one_fsync_thread) while the next
window is screened, and waits for it (`swaps_durable`) before the next swap, before a window
is recorded in the state, and at the loop's end: a night is never recorded, nor the run
ended, before its folder is in place and on disk.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from hyposcreen.errors import EnvironmentProblem, naming_the_file
from hyposcreen.scratch import in_use

PARTIAL = ".partial-"
PREVIOUS = ".previous-"


def staging_folder(out_dir: Path) -> Path:
    """The hidden folder this process builds `out_dir` in (created empty)."""
    recover_folder(out_dir)
    staging = out_dir.parent / f".{out_dir.name}{PARTIAL}{os.getpid()}"
    if os.path.lexists(staging):
        _remove(staging, ignore_errors=False)
    staging.mkdir(parents=True)
    return staging


def publish_folder(
    staging: Path, out_dir: Path, last_file: Callable[[], object] | None = None
) -> Path:
    """Swap the finished staging folder in as `out_dir` and drop the previous outputs;
    `last_file` first writes the folder's last file (the manifest). In a loop of windows
    (`parent_syncs_later`) where nothing is displaced, that file, the swap and its syncs are
    left to the loop's fsync thread, while the next window screens."""
    if out_dir.exists() and not out_dir.is_dir():  # never replace someone's file
        raise EnvironmentProblem(
            f"{out_dir} exists and is not a folder, so this window's outputs cannot go there. "
            "Move it away or choose another --out, then run again."
        )
    previous = out_dir.parent / f".{out_dir.name}{PREVIOUS}{os.getpid()}"
    swaps_durable()  # the swaps before this one on disk (left to a loop's fsync thread)
    later = _LATER.get()
    if later is not None and not os.path.lexists(out_dir):
        from hyposcreen.report.writers import on_fsync_thread

        swapped = on_fsync_thread(_swap_in, staging, out_dir, last_file)
        if swapped is not None:
            later.append((out_dir, swapped))
            return out_dir
    if last_file is not None:
        last_file()
    _fsync_dir(staging)
    if os.path.lexists(out_dir):  # a folder, or a link (dangling too): moved as it is
        os.replace(out_dir, previous)
    os.replace(staging, out_dir)
    _fsync_dir(out_dir.parent)
    if os.path.lexists(previous):
        _remove(previous)
    return out_dir


def _swap_in(staging: Path, out_dir: Path, last_file: Callable[[], object] | None) -> None:
    """`last_file` written, the staging folder synced and renamed to `out_dir` (nothing
    there), the rename synced: a swap left to a loop's fsync thread."""
    if last_file is not None:
        last_file()
    _fsync_dir(staging)
    os.replace(staging, out_dir)
    _fsync_dir(out_dir.parent)


_LATER: ContextVar[list[tuple[Path, Future[None]]] | None] = ContextVar(
    "hyposcreen_swaps_synced_later", default=None
)


@contextmanager
def parent_syncs_later() -> Iterator[None]:
    """Inside (a loop of windows, within report.writers.one_fsync_thread), `publish_folder`
    leaves a swap that displaces no folder (its last file, the rename, their syncs) to the
    loop's fsync thread (a swap that does is made, then the displaced folder removed, at
    once); `swaps_durable` waits for them. Leaving the block does not wait: the fsync
    thread's end does."""
    token = _LATER.set([])
    try:
        yield
    finally:
        _LATER.reset(token)


def swaps_durable() -> None:
    """Every swap `publish_folder` left to the fsync thread (`parent_syncs_later`) made and on
    disk; the first failure raised (an OSError naming no file names the window's folder)."""
    later = _LATER.get()
    while later:
        folder, synced = later.pop(0)
        with naming_the_file(folder):
            synced.result()


def discard_staging(staging: Path | None) -> None:
    if staging is not None and os.path.lexists(staging):
        _remove(staging)


def recover_folder(out_dir: Path) -> None:
    """Undo what a killed run left: restore a displaced previous folder, drop dead partials."""
    parent = out_dir.parent
    if not parent.is_dir():
        return
    for leftover in sorted(parent.glob(f".{out_dir.name}{PREVIOUS}*")):
        if not out_dir.exists():
            if out_dir.is_symlink():  # dangling: a folder cannot be renamed over it
                out_dir.unlink()
            os.replace(leftover, out_dir)
        else:
            _remove(leftover)
    for partial in parent.glob(f".{out_dir.name}{PARTIAL}*"):
        pid = partial.name.rsplit("-", 1)[-1]
        if not (is_pid_text(pid) and _alive(int(pid))):
            _remove(partial)
    # a killed backfill's partial folder of another night (patient rows) whose night may never
    # run again: removed once its process is gone (a name without a pid stays, as it is no ours)
    for partial in parent.glob(f".*{PARTIAL}*"):
        pid = partial.name.rsplit("-", 1)[-1]
        if is_pid_text(pid) and int(pid) != os.getpid() and not _alive(int(pid)):
            _remove(partial)


def remove_dead_debris(parent: Path, prefix: str, max_age_without_pid: float = 86400) -> list[Path]:
    """Remove `<parent>/<prefix><pid>-...` folders whose process is gone (a killed run's spill
    or staging) and that no process holds (hyposcreen.scratch: a pid of another namespace). A
    folder without a pid in its name is removed once older than a day."""
    removed: list[Path] = []
    if not parent.is_dir():
        return removed
    for leftover in parent.glob(f"{prefix}*"):
        pid = leftover.name[len(prefix) :].split("-", 1)[0]
        if is_pid_text(pid) and int(pid) != os.getpid():
            stale = not _alive(int(pid))
        elif is_pid_text(pid):
            stale = False  # this process's own folder, in use
        else:
            try:
                stale = time.time() - leftover.stat().st_mtime > max_age_without_pid
            except OSError:
                continue
        if stale and leftover.is_symlink():  # a link: unlinked, its target not touched
            _remove(leftover)
            removed.append(leftover)
        elif stale and leftover.is_dir() and not in_use(leftover):  # held: another namespace's
            _remove(leftover)
            removed.append(leftover)
    return removed


def published_paths(record: dict[str, Any], staging: Path, out_dir: Path) -> dict[str, Any]:
    """`record` with each path inside the staging folder (top-level string values) moved to
    where it will be once `staging` is published as `out_dir`."""
    prefix = str(staging)
    return {
        key: (
            str(out_dir) + value[len(prefix) :]
            if isinstance(value, str) and (value == prefix or value.startswith(prefix + os.sep))
            else value
        )
        for key, value in record.items()
    }


def is_pid_text(text: str) -> bool:
    """Whether `text` is a process id written in ASCII digits (`str.isdigit` also holds for
    `¹` or `٣`, which `int()` refuses or reads as another number)."""
    return text.isascii() and text.isdigit()


def _remove(path: Path, ignore_errors: bool = True) -> None:
    """Remove a folder of ours, or unlink it when it is a symbolic link (never followed: the
    folder it points to, perhaps outside --out, stays)."""
    if path.is_symlink():
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        except OSError:
            if not ignore_errors:
                raise
        return
    shutil.rmtree(path, ignore_errors=ignore_errors)


def _alive(pid: int) -> bool:
    """Debris of this very process (an earlier attempt, retried) is stale too."""
    return pid != os.getpid() and process_alive(pid)


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs (one we may not signal counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
