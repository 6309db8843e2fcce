"""The process settings the installed `hyposcreen` command carries itself (no Makefile needed).

Called first thing by the CLI, before anything imports Prefect:
  * umask 077, so every folder and file a run creates is private to its user;
  * the orchestrator's environment: a start-up timeout sized for a loaded 2-core machine,
    the loopback address off any proxy the environment names, analytics and telemetry off,
    INFO records to the Prefect API (counts only) while Prefect's console handler stays quiet,
    and a private PREFECT_HOME (`~/.hyposcreen/prefect`) unless the user chose one. A value
    the user set explicitly in the environment wins (`setdefault`), except the switches that
    stop data leaving the machine, which are always off.

Nothing here imports Prefect.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import MutableMapping
from pathlib import Path

PRIVATE_UMASK = 0o077
STARTUP_TIMEOUT_SECONDS = 180  # a cold start (migrations) took 11-21 s quiet, >120 s at load 7

# Defaults: the user's own environment wins.
ORCHESTRATOR_DEFAULTS = {
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": str(STARTUP_TIMEOUT_SECONDS),
    "PREFECT_LOGGING_LEVEL": "INFO",  # what reaches the flow run's log on the API
    "PREFECT_LOGGING_TO_API_ENABLED": "true",
    # Prefect's console handler (also the temporary server's): the terminal gets only
    # hyposcreen's own lines; the flow run's log on the API keeps everything
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "CRITICAL",
    "PREFECT_LOGGING_HANDLERS_DEBUG_LEVEL": "CRITICAL",  # prefect._internal's own stderr handler
    "PREFECT_SERVER_LOGGING_LEVEL": "ERROR",
    "PREFECT_SERVER_UI_ENABLED": "false",  # the temporary server needs no UI
}

# Always set: nothing about the site's runs is sent anywhere.
NO_TELEMETRY = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY": "false",
    "PREFECT_TELEMETRY_ENABLE_RESOURCE_METRICS": "false",
    "OTEL_SDK_DISABLED": "true",
    "OTEL_TRACES_EXPORTER": "none",
    "OTEL_METRICS_EXPORTER": "none",
    "OTEL_LOGS_EXPORTER": "none",
}


PROXY_VARIABLES = tuple(f"{k}_PROXY" for k in ("HTTP", "HTTPS", "ALL"))
PROXY_VARIABLES += tuple(name.lower() for name in PROXY_VARIABLES)
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")


def default_prefect_home() -> Path:
    return Path.home() / ".hyposcreen" / "prefect"


def make_private() -> None:
    """umask 077: folders 0700 and files 0600 from here on (outputs set their own modes)."""
    os.umask(PRIVATE_UMASK)


def configure_orchestrator(environ: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """Put the orchestrator settings into `environ` (default: this process's environment)
    and return the ones that were chosen here. Must run before Prefect is imported."""
    env = os.environ if environ is None else environ
    chosen: dict[str, str] = {}
    for name, value in ORCHESTRATOR_DEFAULTS.items():
        if name not in env:
            env[name] = chosen[name] = value
    for name, value in NO_TELEMETRY.items():
        if env.get(name) != value:
            env[name] = chosen[name] = value
    _loopback_off_proxy(env, chosen)
    if not env.get("PREFECT_HOME"):
        home = default_prefect_home()
        env["PREFECT_HOME"] = chosen["PREFECT_HOME"] = str(home)
    try:  # a run without Prefect (--no-flow, status, audit) needs no PREFECT_HOME
        Path(env["PREFECT_HOME"]).expanduser().mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        pass  # a flow run then stops with the cause (flows/orchestrator.py, exit 75)
    return chosen


def _loopback_off_proxy(env: MutableMapping[str, str], chosen: dict[str, str]) -> None:
    """With a proxy in the environment (HTTP_PROXY and kin, as on many hospital servers), the
    loopback address is kept off it: the temporary server listens on 127.0.0.1, which the
    proxy cannot reach, and httpx (under Prefect's client) sends every request to the proxy
    unless NO_PROXY names the host. Without this, a run through the flow stopped as a bug
    (exit 70, "Connection refused") or waited out the server's start twice."""
    if not any(env.get(name) for name in PROXY_VARIABLES):
        return
    named = [name for name in ("NO_PROXY", "no_proxy") if name in env] or ["NO_PROXY"]
    for name in named:  # both, when both are set (the lower-case one wins in urllib)
        hosts = [host.strip() for host in env.get(name, "").split(",") if host.strip()]
        missing = [host for host in LOOPBACK_HOSTS if host not in hosts]
        if missing and hosts != ["*"]:  # `*` alone: no host goes through the proxy
            env[name] = chosen[name] = ",".join(hosts + missing)


def prefect_home_problem(environ: dict[str, str] | None = None) -> str | None:
    """Why a flow run's temporary server could not keep its database in PREFECT_HOME (a home
    folder on a read-only disk, or not this user's), or None: it can, or a running server
    (PREFECT_API_URL) is used. Asked before Prefect is imported, which only warns about it
    and leaves the run to stop later with advice about --out and --state-dir."""
    env = os.environ if environ is None else environ
    if env.get("PREFECT_API_URL") or not env.get("PREFECT_HOME"):
        return None
    home = Path(env["PREFECT_HOME"]).expanduser()
    try:
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        with tempfile.TemporaryFile(dir=home):
            pass
    except OSError as error:
        # mkdir's "File exists" for a file or a symlink that leads nowhere (a loop) misleads
        why = "it is not a folder" if isinstance(error, FileExistsError) else error.strerror
        return (
            f"PREFECT_HOME ({home}), where the run's temporary Prefect server keeps its "
            f"database, cannot be written: {why or type(error).__name__}. Set "
            "PREFECT_HOME to a folder this user can write (it defaults to "
            "~/.hyposcreen/prefect under HOME), point PREFECT_API_URL at a running server, or "
            "run with --no-flow, then run again."
        )
    return None
