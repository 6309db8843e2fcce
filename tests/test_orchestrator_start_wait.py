"""Waiting for Prefect's temporary server: by the clock, and straight to the loopback address
whatever proxy the environment names (flows/server_wait.py, runtime_env)."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator

import pytest

from hyposcreen.runtime_env import configure_orchestrator


@contextlib.contextmanager
def _port_that_never_answers() -> Iterator[int]:
    """A port something listens on without ever answering: a connection is accepted (by the
    kernel's backlog), a request waits for its answer as long as it is let."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


def test_the_start_is_waited_for_by_the_clock_whatever_a_health_check_costs() -> None:
    """A 2 s start-up timeout, each health check left hanging (a server too busy to answer;
    the start's own port held here by a listener that never answers): Prefect's wait counted
    its 0.1 s sleeps only and ended at httpx's 5 s read timeout with httpx's error, past the
    timeout given. It now ends 2 s after the launch, by the clock, saying so."""
    from flows.orchestrator import OwnedServer

    with _port_that_never_answers() as port:
        server = OwnedServer(port=port)
        began = time.monotonic()
        try:
            with pytest.raises(Exception) as raised:  # whichever the wait raises
                server.start(timeout=2)
            waited = time.monotonic() - began
        finally:
            server.stop()
    assert 2.0 <= waited < 3.5, raised.value  # 2 s and a last poll of the process; 5 s before
    assert "did not answer within 2 s by the clock (its last health check" in str(raised.value)


def test_the_loopback_address_is_kept_off_a_proxy_the_environment_names() -> None:
    """HTTP_PROXY set, as on many hospital servers: Prefect's client sent its calls to the
    temporary server on 127.0.0.1 through the proxy, and a run through the flow ended as a bug
    (exit 70, "Connection refused"). NO_PROXY now names the loopback address, beside the
    hosts the site listed; with no proxy set nothing is added."""
    env = {"HTTP_PROXY": "http://proxy.example:3128", "no_proxy": "intranet.example"}
    configure_orchestrator(env)
    assert env["no_proxy"] == "intranet.example,127.0.0.1,localhost"
    assert "NO_PROXY" not in env  # the one the site set is the one completed
    both = {"https_proxy": "http://p:1", "NO_PROXY": "127.0.0.1", "no_proxy": ""}
    configure_orchestrator(both)
    assert both["NO_PROXY"] == "127.0.0.1,localhost" and both["no_proxy"] == "127.0.0.1,localhost"
    alone = {"ALL_PROXY": "socks5://p:1"}
    configure_orchestrator(alone)
    assert alone["NO_PROXY"] == "127.0.0.1,localhost"
    without: dict[str, str] = {}
    configure_orchestrator(without)
    assert "NO_PROXY" not in without and "no_proxy" not in without


def test_a_no_proxy_of_every_host_is_left_as_the_site_wrote_it() -> None:
    """NO_PROXY=* keeps every host off the proxy, 127.0.0.1 included. Before, it became
    `*,127.0.0.1,localhost`, which Python's urllib (and requests, curl) no longer read as
    "every host": only `*` alone means that there, so their calls to other hosts went through
    the proxy the site had switched off."""
    env = {"HTTPS_PROXY": "http://proxy.example:3128", "NO_PROXY": "*"}
    configure_orchestrator(env)
    assert env["NO_PROXY"] == "*"
    spaced = {"HTTP_PROXY": "http://p:1", "NO_PROXY": " 127.0.0.1 , localhost "}
    configure_orchestrator(spaced)
    assert spaced["NO_PROXY"] == " 127.0.0.1 , localhost "  # both named already
