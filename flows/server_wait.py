"""Waiting for the temporary Prefect server to answer: by the clock, and never through a proxy.

Prefect's `SubprocessASGIServer.start` counts its timeout by adding up its 0.1 s sleeps: the
time each health check and each process poll took is not counted, so on a loaded machine the
real wait ran past the timeout the message named (9.5 s for 8 s at load 5-7, each of the two
tries), and a health check the server took longer than httpx's 5 s to answer ended the wait at
once with httpx's own error, before the timeout. Here the wait ends when `timeout` seconds
have passed by the clock since the server was launched, whatever each check costs.

The health check goes straight to the loopback address: with `HTTP_PROXY` set (as on many
hospital servers), httpx sent it to the proxy, the server never seemed to answer, and the run
stopped after twice the timeout blaming the load (runtime_env also keeps Prefect's own client
off the proxy for the loopback address).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from subprocess import Popen
from typing import Any

import httpx

from flows.server_exits import STARTUP_FAILED

_PAUSE_SECONDS = 0.1  # between two health checks, as Prefect's own wait
_CHECK_SECONDS = 5.0  # one health check at most (httpx's default), never past the deadline


class StartTimedOut(RuntimeError):
    """The server did not answer its health check within the timeout, by the clock."""


def wait_until_answering(
    api_url: Callable[[], str],
    process: Callable[[], Popen[Any]],
    restart: Callable[[], None],
    timeout: float,
) -> None:
    """Return once `api_url()/health` answers 200; StartTimedOut when `timeout` seconds have
    passed since the call. `process()` is the server's process: uvicorn's status 3 (a start-up
    that failed, which Prefect reads as a busy port) is met by `restart()`, as Prefect does."""
    deadline = time.monotonic() + timeout
    last = "it never accepted a connection"
    with httpx.Client(trust_env=False) as client:
        while True:
            if process().poll() == STARTUP_FAILED:
                restart()
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                raise StartTimedOut(f"it did not answer within {timeout:g} s by the clock ({last})")
            try:
                response = client.get(f"{api_url()}/health", timeout=min(left, _CHECK_SECONDS))
            except httpx.TransportError as error:  # refused, or not answering yet: not up yet
                if not isinstance(error, httpx.ConnectError):
                    last = f"its last health check: {type(error).__name__}"
            else:
                if response.status_code == 200:
                    return
                last = f"its last health check answered HTTP {response.status_code}"
            time.sleep(max(0.0, min(_PAUSE_SECONDS, deadline - time.monotonic())))
