"""Scratch folders that hold patient rows while a process works in them, and how a later run
tells one still in use.

A scratch folder is named with its process id (`hyposcreen-rows-<pid>-...` in $TMPDIR), and a
run removes those whose process is gone (report.folders.remove_dead_debris). A pid is only
meaningful in its own pid namespace: a container sharing /tmp with the host or with another
container sees a live run's pid as gone (or as another, reused process). So the owner also
holds a shared `flock` on the folder for as long as it uses it; a folder whose lock someone
holds is in use whatever its name says. The lock goes with the process, however it ends.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import weakref
from pathlib import Path

ROWS_PREFIX = "hyposcreen-rows-"  # $TMPDIR/hyposcreen-rows-<pid>-...: patient rows
# a partitioned run's spill, <spill root>/.hyposcreen-partitions-<pid>-...: every table's rows
SPILL_PREFIX = ".hyposcreen-partitions-"


def spill_parent(out_dir: Path) -> Path:
    """Where spill folders go: $HYPOSCREEN_SPILL_DIR, else beside the window's output folder
    (never inside it: that folder is swapped in whole at the end)."""
    return Path(os.environ.get("HYPOSCREEN_SPILL_DIR") or out_dir.parent)


def rows_name(tag: str) -> str:
    """The name of a scratch folder of this process's patient rows (its pid, then `tag`): what
    the clean-up of killed runs (report.folders.remove_dead_debris) reads the pid from."""
    return f"{ROWS_PREFIX}{os.getpid()}-{tag}"


def hold(folder: Path) -> int | None:
    """A descriptor holding a shared lock on `folder` while it is open (None on a file system
    without locks: the pid in the name is all there is then)."""
    try:
        handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return None
    try:
        fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        os.close(handle)
        return None
    return handle


def release(handle: int | None) -> None:
    if handle is not None:
        with contextlib.suppress(OSError):
            os.close(handle)


def in_use(folder: Path) -> bool:
    """Whether a process holds `folder` (`hold`), in any pid namespace."""
    try:
        handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return False
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(handle)
    return False


class HeldScratch(tempfile.TemporaryDirectory[str]):
    """A temporary folder (0700) held (`hold`) until it is cleaned up or collected."""

    def __init__(self, tag: str) -> None:
        """A folder named `rows_name(tag)` and a random end, in $TMPDIR."""
        super().__init__(prefix=rows_name(tag))
        self._release = weakref.finalize(self, release, hold(Path(self.name)))

    def cleanup(self) -> None:
        self._release()
        super().cleanup()
