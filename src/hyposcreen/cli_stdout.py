"""The command's standard output as the caller left it: closed before the command started
(`hyposcreen --help >&-`), or read by a reader that leaves early (`hyposcreen status | head`).
Either way the command ends quietly with its own status, or 141 where only its output was
lost, never with a traceback. A stdout that cannot be written (a log file on a full disk:
`hyposcreen status >> /var/log/hyposcreen.log`) is the machine's problem: one line on stderr
and 75, or, for a run whose night was published, its own status."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

EXIT_PIPE_CLOSED = 141  # 128 + SIGPIPE, as a shell reports a command whose reader went away
EXIT_ENVIRONMENT = 75  # as errors.EnvironmentProblem: the machine, not the data or a bug


class CommandParser(argparse.ArgumentParser):
    """argparse's parser, except that a write of `--help` or `--version` to stdout that fails
    is not swallowed (argparse's `_print_message` passes over an OSError): with an unbuffered
    stdout (`PYTHONUNBUFFERED=1`) a full disk then ended the command with 0 and no text.
    `parsed_arguments` tells the failure as any refused stdout."""

    def _print_message(self, message: str, file: Any = None) -> None:
        if message and file is sys.stdout:
            sys.stdout.write(message)
            return
        super()._print_message(message, file)


def parsed_arguments(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None
) -> argparse.Namespace:
    """The arguments; where argparse ends the process itself (`--help`, `--version`: SystemExit
    0 once its text is written; a usage error: 2) its text is flushed first, and a reader
    already gone (`hyposcreen --help | head -1`) ends it quietly with 141, as `status` does."""
    try:
        return parser.parse_args(argv)
    except SystemExit:
        try:
            if not _stdout_flushed():
                raise SystemExit(EXIT_PIPE_CLOSED) from None
        except OSError as error:
            raise SystemExit(stdout_unwritable(error)) from None
        raise
    except BrokenPipeError:  # a text longer than stdout's buffer, written to a reader gone
        stdout_to_devnull()
        raise SystemExit(EXIT_PIPE_CLOSED) from None
    except OSError as error:  # stdout refused `--help` or `--version` (CommandParser)
        raise SystemExit(stdout_unwritable(error)) from None


def stdout_opened() -> None:
    """A stdout closed by the caller (`hyposcreen --help >&-`, `status ... >&-`), which Python
    gives as None where any flush failed: its text goes to the null device (as when its
    reader is gone), and fd 1 is taken so that no file the run opens later is written to."""
    if sys.stdout is not None:
        return
    try:
        os.fstat(1)
    except OSError:  # fd 1 closed: the null device takes it
        null = os.open(os.devnull, os.O_WRONLY)
        if null != 1:
            os.dup2(null, 1)
            os.close(null)
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)


def _stdout_flushed() -> bool:
    """Flush stdout; False (later writes sent nowhere) when its reader is gone."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        stdout_to_devnull()
        return False
    return True


def flushed(command: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """`command`'s status once stdout is flushed here, where a reader already gone (`status |
    head`, stdout a buffered pipe) is told apart (141), and a stdout that cannot be written
    (75), not at the interpreter's exit (120, "Exception ignored ..."); so too a line `say`
    could not write (stdout unbuffered, `PYTHONUNBUFFERED=1`), not told as the state's disk."""
    try:
        status = command(args)
    except StdoutRefused as refused:
        return stdout_unwritable(refused.error)
    # the command's own files' errors (an --out that is a file) are theirs, told by the caller
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as error:
        return stdout_unwritable(error)
    return status


class StdoutRefused(Exception):
    """A line of the command's output the system refused to write (`say`)."""

    def __init__(self, error: OSError) -> None:
        super().__init__(stdout_reason(error))
        self.error = error


def say(line: str) -> None:
    """A line of the command's output on stdout; a write the system refuses raises
    StdoutRefused (`flushed` tells it), which no handler of the command's own files takes for
    theirs. A reader gone stays a BrokenPipeError (141)."""
    try:
        print(line)
    except BrokenPipeError:
        raise
    except OSError as error:
        raise StdoutRefused(error) from None


def stdout_unwritable(error: OSError) -> int:
    """A write to stdout the system refused (not a reader gone): its text is dropped (the
    exit's flush would fail again), one line on stderr says so; 75, the machine's status."""
    stdout_to_devnull()
    print(
        f"hyposcreen: error: standard output could not be written ({stdout_reason(error)}), "
        "so the command's output was lost: free space on (or fix) the disk or device it goes "
        "to, then run again.",
        file=sys.stderr,
    )
    return EXIT_ENVIRONMENT


def stdout_reason(error: OSError) -> str:
    return error.strerror or type(error).__name__


def stdout_to_devnull() -> None:
    """After a reader closed stdout (or its disk refused a write): later writes, and the
    exit's flush, go nowhere; what is still buffered is dropped with them."""
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, sys.stdout.fileno())
    os.close(null)
