"""Errors a user can act on: each carries a one-paragraph message and the CLI exit code."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class HyposcreenError(Exception):
    """Base class: the message is shown to the user as-is, without a traceback."""

    exit_code = 1


class ConfigError(HyposcreenError):
    """A settings, mapping or rules file is wrong (unknown key, bad value, missing file)."""

    exit_code = 2


class InputError(HyposcreenError):
    """An input extract cannot be screened: unreadable file, missing column, failed contract."""

    exit_code = 3

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        column: str | None = None,
        examples: list[str] | None = None,
    ) -> None:
        self.file = file
        self.column = column
        self.examples = examples or []
        parts = [message]
        if self.examples:
            parts.append("Examples: " + "; ".join(self.examples[:5]) + ".")
        super().__init__(" ".join(parts))


class OwnOutputBroken(HyposcreenError):
    """An output of the screen broke its own contract (the review list's ranks, tiers or
    vocabulary): a bug in hyposcreen, not in the data, the settings or the machine (EX_SOFTWARE,
    as any other bug). The message names the broken checks, never a value of the extract."""

    exit_code = 70


class EnvironmentProblem(HyposcreenError):
    """The machine, not the data or the settings, stopped the run: a full disk, a read-only or
    unwritable output folder, a damaged state database, an orchestrator that could not start.
    The message says the cause in one line and what to do (EX_TEMPFAIL: try again once fixed)."""

    exit_code = 75


@contextmanager
def naming_the_file(path: Path) -> Iterator[None]:
    """An OSError raised while `path` is written that names no file (Arrow's and a Python
    file object's write errors: a full disk, a file-size limit) is given `path`, so the message
    of the environment problem says which file (a path of ours, never a value of the data).
    One without an errno (a library's own error: `gzip.BadGzipFile`, an Arrow failure) is left
    as it is: given a file name, its text would read `[Errno None] None: 'path'`, its own lost."""
    try:
        yield
    except OSError as error:
        if error.filename is None and error.errno is not None:
            error.filename = str(path)
        raise


RESTORE_STATE = (
    "Restore the state database from a backup, then run again (moved aside, a fresh state "
    "starts without the nightly history)."
)


def damaged_state_database(error: BaseException, path: Path | None = None) -> EnvironmentProblem:
    """The state database cannot be read as one: the advice is to restore it from a backup."""
    named = f" {path}" if path is not None else ""
    return EnvironmentProblem(
        f"The state database{named} is damaged or unreadable ({error}). {RESTORE_STATE}"
    )


class Terminated(KeyboardInterrupt):
    """SIGTERM (`systemctl stop`, `kill`) raised as Ctrl-C is: the window being built is
    removed, its previous outputs kept, and the run ends with EXIT_TERMINATED."""


# Ctrl-C and SIGTERM end a run with 128 + the signal's number, as a shell reports them.
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143

# A run that completed but should not be trusted as a quiet night exits with this status
# (each reason is printed, listed under `warnings` in the manifest and shown on the page).
EXIT_SCREENED_WITH_WARNINGS = 4
