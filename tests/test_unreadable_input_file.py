"""An extract file the run's user may not read (mode 000, owned by another account) stops the
night as an environment problem (exit 75) whose message says what to grant: read access to the
input as well as write access to the outputs, where it spoke of the output and state folders
alone and sent the operator to the wrong place. Tests may run as root, who reads a file of mode
000: the error the reader raises is given to the real mapping function."""

from __future__ import annotations

import errno
from pathlib import Path

from hyposcreen.errors import InputError
from hyposcreen.failures import environment_problem


def test_an_unreadable_extract_file_asks_for_read_access(tmp_path: Path) -> None:
    labs = tmp_path / "extract" / "labs.csv"
    problem = environment_problem(PermissionError(errno.EACCES, "Permission denied", str(labs)))
    assert problem is not None and problem.exit_code == 75
    assert str(problem).startswith(f"Permission denied ({labs}). Give this user read access")
    assert "read access to the input folder and its files" in str(problem)


def test_an_unreadable_file_behind_an_input_error_asks_the_same(tmp_path: Path) -> None:
    labs = tmp_path / "extract" / "labs.csv"
    wrapped = InputError(f"{labs} could not be read.")
    wrapped.__cause__ = PermissionError(errno.EACCES, "Permission denied", str(labs))
    problem = environment_problem(wrapped)
    assert problem is not None and problem.exit_code == 75
    assert "read access to the input folder and its files" in str(problem)
