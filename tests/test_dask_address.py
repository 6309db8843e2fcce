"""`--executor dask --dask-address`: a scheduler that does not answer is the environment's
problem (exit 75), an address that is none a setting's (exit 2), each told in one line naming
the address; before, both ended as an internal error (exit 70, OSError or ValueError) after
the read, and the unanswered one only after distributed's 30 s wait."""

from __future__ import annotations

import socket
from pathlib import Path

import dask
import distributed  # noqa: F401  (its config defaults loaded before the test sets one of them)
import pytest

from hyposcreen.cli import main
from sample_delivery import SAMPLE


def _closed_port() -> int:
    with socket.socket() as probe:  # bound, then closed: nothing listens there
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run(tmp_path: Path, address: str) -> int:
    """The run's exit status (an option argparse refuses exits 2 as its usage error)."""
    args = ["run", "--no-flow", "--input", str(SAMPLE), "--out", str(tmp_path / "out")]
    try:
        with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
            return main([*args, "--window-start", "2026-11-20", "--executor", "dask",
                         "--dask-address", address])  # fmt: skip
    except SystemExit as exited:
        return int(exited.code or 0)


def test_a_scheduler_that_does_not_answer_is_exit_75(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    address = f"tcp://127.0.0.1:{_closed_port()}"
    assert _run(tmp_path, address) == 75
    err = capsys.readouterr().err
    assert f"The Dask scheduler at {address} did not answer" in err
    assert "Traceback" not in err and "internal error" not in err
    assert not (tmp_path / "out" / "2026-11-20" / "review_list.csv").exists()


# ucx:// without ucx-py ended as an internal error (exit 70, TypeError) and a port above 65535
# as a scheduler that did not answer (exit 75, after the connect timeout): both are settings
@pytest.mark.parametrize(
    "address",
    ["dask-host", "http://127.0.0.1:8786", "ucx://127.0.0.1:8786", "tcp://127.0.0.1:87860"],
)
def test_an_address_that_is_none_is_a_settings_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], address: str
) -> None:
    assert _run(tmp_path, address) == 2
    err = capsys.readouterr().err
    assert f"--dask-address: {address} is not a Dask scheduler's address" in err
    assert "read labs" not in err  # refused before any input is read
