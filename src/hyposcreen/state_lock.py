"""One run at a time per site of a nightly state dir.

A run that uses a state dir holds an exclusive `flock` on `hyposcreen_state.lock` in it (for
another site than `default`, `hyposcreen_state.<site>.lock`: sites sharing a state dir keep
their nights apart in it, and each site's 02:00 run goes on beside the other's) from planning
its windows until its last window is recorded (`hyposcreen run` through the flow: from before
the orchestrator starts): a second run of the site (the scheduled night
while an operator's catch-up is going, a cron job started twice) stops at once with exit
status 75 naming the state dir and the process holding it, instead of screening the same
nights beside the first one. A state dir on a file system that cannot lock files (NFS
without its lock service) stops the run with exit status 75 too: one run at a time could not be
made sure of. The lock belongs to the open file: it goes with the process,
however that ends (`kill -9` included), so no stale lock outlives a run.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hyposcreen.errors import ConfigError, EnvironmentProblem

LOCK_FILE = "hyposcreen_state.lock"
_LENT: set[Path] = set()  # locks held with `lend`: taken again in this process, the same hold


def lock_file(site: str = "default") -> str:
    """The lock's file name for `site`: its name where it is safe in a file name, with a
    digest of it (two names that read alike there never share a lock)."""
    if site == "default":
        return LOCK_FILE
    readable = re.sub(r"[^A-Za-z0-9_-]", "_", site)[:40]
    digest = hashlib.sha256(site.encode("utf-8")).hexdigest()[:8]
    return f"hyposcreen_state.{readable}-{digest}.lock"


class StateInUse(EnvironmentProblem):
    """Another run holds the state dir (exit 75): this one screens and publishes nothing."""


def make_state_dir(state_dir: Path) -> None:
    """The state dir, made when missing (a ConfigError naming it when it cannot be)."""
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"State dir {state_dir} cannot be created: {exc}.") from exc


@contextmanager
def holding_state(
    state_dir: Path | None, site: str = "default", lend: bool = False
) -> Iterator[None]:
    """The state dir for this run alone among `site`'s (nothing to hold without one). `lend`:
    holding it again inside this hold, in this process, is the same hold (`hyposcreen run`
    holds it around the Prefect flow, which holds it itself)."""
    if state_dir is None:
        yield
        return
    make_state_dir(state_dir)
    held = (state_dir / lock_file(site)).resolve()
    if held in _LENT:  # `hyposcreen run` holds it around the flow, which holds it too
        yield
        return
    handle = os.open(held, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(handle, 32, 0).decode("ascii", "replace").strip() or "unknown"
            raise StateInUse(
                f"Another hyposcreen run (process {holder}) is using the state dir {state_dir} "
                f"for site {site!r}; one run at a time screens a site's nights. Let it finish "
                "(`hyposcreen status` then shows what it did), then run again if nights are "
                "still pending."
            ) from None
        except OSError as exc:  # ENOLCK, EOPNOTSUPP: no locks on this file system
            raise EnvironmentProblem(
                f"The state dir {state_dir} is on a file system that cannot lock files "
                f"({exc.strerror}; NFS without its lock service, for one), so this run cannot "
                "make sure it is the only one screening the site's nights. Put the state dir "
                "(--state-dir, $HYPOSCREEN_STATE_DIR) on a local disk or enable file locking "
                "there, then run again."
            ) from None
        os.ftruncate(handle, 0)
        os.pwrite(handle, f"{os.getpid()}\n".encode("ascii"), 0)
        if lend:
            _LENT.add(held)
        try:
            yield
        finally:
            _LENT.discard(held)
    finally:
        os.close(handle)  # releases the lock
