"""`python -m flows.deploy` when no Prefect API answers: one line saying what to start, and
exit status 75 (the machine, as for `hyposcreen run`), not 1."""

from __future__ import annotations

import socket

import pytest
from prefect.settings import PREFECT_API_URL, temporary_settings

from flows import deploy


def test_no_prefect_api_is_an_environment_problem(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/api"
    monkeypatch.setenv("PREFECT_API_URL", url)
    # the setting too: after the flow tests' server harness, Prefect's own setting (which
    # deploy reads first) names that server, not the environment's
    with temporary_settings(updates={PREFECT_API_URL: url}):
        status = deploy.main(["--check", "--wait", "0.5"])
    err = capsys.readouterr().err
    assert status == 75, err
    assert f"no Prefect API at http://127.0.0.1:{port}/api after 0.5 s" in err
    assert "start the Prefect server" in err


@pytest.mark.parametrize("partitions", ["auto", "AUTO", "4"])
def test_partitions_are_taken_as_hyposcreen_run_takes_them(
    partitions: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`SERVE_ARGS='--partitions auto'`, as `hyposcreen run` takes it and as the help's
    "(default: auto)" reads, was refused by argparse (`invalid int value: 'auto'`, exit 2)
    before the API was even asked for; it is the default, and a number stays a number."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/api"
    monkeypatch.setenv("PREFECT_API_URL", url)
    with temporary_settings(updates={PREFECT_API_URL: url}):
        status = deploy.main(["--partitions", partitions, "--check", "--wait", "0.1"])
    assert status == 75, capsys.readouterr().err  # parsed, then no API: the machine's problem
    assert deploy._partitions(partitions) == (None if partitions != "4" else 4)
