"""How a command ends when it is stopped: Ctrl-C (SIGINT) and SIGTERM (`systemctl stop`,
`kill`) each end it with one line and the shell's status for that signal (130, 143), never
as a bug (70); a run's window being built is removed (its previous outputs kept). A stop that
arrives while a window is published (its folder swapped in, its night recorded in the state)
waits until that is done, and stops the run before its next window: a night is never left
published but unrecorded, with a FAILED.json saying its previous outputs were kept."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

from hyposcreen.errors import EXIT_INTERRUPTED, EXIT_TERMINATED, Terminated

_HOLDING: list[bool] = [False]  # a window is being published (hold_stops .. release_stops)
_HELD: list[int] = []  # the stops that arrived meanwhile
_REPLACED: dict[int, Any] = {}  # the handlers hold_stops stood in for, until release_stops
_STOPS = (signal.SIGINT, signal.SIGTERM)
_NOTING: list[bool] = [False]  # inside noting_interrupts (the command's main thread)
_RAISED: list[int] = []  # the stops raised so far: the command ends by one of them


def hold_stops() -> None:
    """From here until `release_stops`, a stop is held: the window's folder is swapped in and
    its night recorded in the state, all or nothing for the next run to redo. Whatever handles
    a stop meanwhile (the Prefect flow's engine turns SIGTERM into its own TerminationSignal)
    stands aside for the hold's own, which notes it."""
    act_on_lost_stop()  # the window is not published when a stop came while it was built
    _HOLDING[0] = True
    if not _NOTING[0] or threading.current_thread() is not threading.main_thread():
        return  # a library call (no command's handlers), or theirs hold it
    for signum in _STOPS:
        usual = signal.getsignal(signum)
        if usual not in (_note_held, signal.SIG_IGN) and signum not in _REPLACED:
            _REPLACED[signum] = usual
            signal.signal(signum, _note_held)


def release_stops() -> None:
    """The window is published and recorded: a stop acts again (one held is acted on by
    `act_on_held_stop` before the next window)."""
    _HOLDING[0] = False
    if threading.current_thread() is threading.main_thread():
        for signum, usual in _REPLACED.items():
            signal.signal(signum, usual)
        _REPLACED.clear()


def _note_held(signum: int, frame: FrameType | None) -> None:
    _HELD.append(signum)


def act_on_held_stop() -> None:
    """Before a window begins: a stop held while the previous one was published ends the run
    now, as it would have had it come here."""
    act_on_lost_stop()
    if _HELD:
        signum = _HELD[-1]
        _HELD.clear()
        raise Terminated if signum == signal.SIGTERM else KeyboardInterrupt


def act_on_lost_stop() -> None:
    """A stop raised earlier that did not end the command: a library caught it and went on.
    Pydantic's serializers turn it into their own error (PydanticSerializationError), which
    Prefect's temporary server took for a failed start and started again, so a SIGTERM sent
    as the orchestrator started was lost and the night screened to its end (exit 0). It is
    raised again here, where the command can still stop cleanly (before a window, before a
    window is published, once the orchestrator is up)."""
    if _RAISED and threading.current_thread() is threading.main_thread():
        raise Terminated if _RAISED[-1] == signal.SIGTERM else KeyboardInterrupt


def _held(signum: int) -> bool:
    if _HOLDING[0]:
        _HELD.append(signum)
    return _HOLDING[0]


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
        if _held(signum):
            return
        noted.append(signum)
        _RAISED.append(signum)
        signal.default_int_handler(signum, frame)

    def terminated(signum: int, frame: FrameType | None) -> None:
        if _held(signum):
            return
        noted.append(signum)
        _RAISED.append(signum)
        raise Terminated

    Handler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None
    caught: dict[signal.Signals, tuple[Handler, Handler]] = {
        signal.SIGINT: (interrupted, signal.default_int_handler),
        signal.SIGTERM: (terminated, signal.SIG_DFL),
    }
    release_stops()
    _HELD.clear()
    _RAISED.clear()
    taken = [s for s, (_, usual) in caught.items() if signal.getsignal(s) is usual]
    for signum in taken:
        signal.signal(signum, caught[signum][0])
    _NOTING[0] = True
    try:
        yield
    finally:
        release_stops()  # first: the handlers a hold left standing aside are put back
        _NOTING[0] = False
        _HELD.clear()
        _RAISED.clear()
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
