"""How a command ends when it is stopped: Ctrl-C (SIGINT) and SIGTERM (`systemctl stop`,
`kill`) each end it with one line and the shell's status for that signal (130, 143), never
as a bug (70); a run's window being built is removed (its previous outputs kept)."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

from hyposcreen.errors import EXIT_INTERRUPTED, EXIT_TERMINATED, Terminated


@contextlib.contextmanager
def noting_interrupts(noted: list[int]) -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt as always, and SIGTERM (`systemctl stop`, `kill`) raises
    Terminated, a KeyboardInterrupt: either way the window being built is removed and the run
    ends with one line. Each is noted in `noted`: a library that turns it into its own error
    (DuckDB: RuntimeError "Query interrupted") still ends the run as an interrupt, not as a
    bug (70)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupted(signum: int, frame: FrameType | None) -> None:
        noted.append(signum)
        signal.default_int_handler(signum, frame)

    def terminated(signum: int, frame: FrameType | None) -> None:
        noted.append(signum)
        raise Terminated

    Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None
    caught: dict[signal.Signals, tuple[Handler, Handler]] = {
        signal.SIGINT: (interrupted, signal.default_int_handler),
        signal.SIGTERM: (terminated, signal.SIG_DFL),
    }
    taken = [s for s, (_, usual) in caught.items() if signal.getsignal(s) is usual]
    for signum in taken:
        signal.signal(signum, caught[signum][0])
    try:
        yield
    finally:
        for signum in taken:
            signal.signal(signum, caught[signum][1])


def stopped(signum: int, command: str) -> int:
    """The line and exit status of a command stopped by Ctrl-C (130) or SIGTERM (143); for
    `run`, what became of the window it was screening."""
    by = "SIGTERM" if signum == signal.SIGTERM else "Ctrl-C"
    told = (
        ": the window being screened was not published (its previous outputs are kept, the "
        "nightly state was not advanced); run again to screen it"
        if command == "run"
        else ""
    )
    print(f"hyposcreen: interrupted ({by}){told}", file=sys.stderr)
    return EXIT_TERMINATED if signum == signal.SIGTERM else EXIT_INTERRUPTED
