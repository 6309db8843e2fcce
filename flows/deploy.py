"""The nightly cron deployment of `nightly_screen`, served by one long-running process.

    PREFECT_API_URL=http://127.0.0.1:4242/api python -m flows.deploy --input /data/extract \\
        --mapping /etc/hyposcreen/site.yaml --out '/data/hyposcreen/{date}'

The schedule runs at 02:00 in the site's time zone (the mapping file's `timezone`, UTC
without one); each run screens every night not yet screened (the state dir remembers them) up
to the calendar day before its scheduled start. Exit status 75 when the Prefect API does not
answer within --wait seconds. See docs/operations.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hyposcreen.runtime_env import configure_orchestrator, make_private

if __name__ == "__main__":  # the serve process: private files, telemetry off, INFO logs
    make_private()
    configure_orchestrator()

from prefect import serve
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron
from prefect.settings import PREFECT_API_URL

from flows.nightly import nightly_screen
from flows.parameters import site_timezone
from hyposcreen.errors import EnvironmentProblem, HyposcreenError

DEFAULT_CRON = "0 2 * * *"
DEFAULT_NAME = "nightly"


def _absolute(path: str | None) -> str | None:
    """Runs execute in a subprocess of the serve process: relative paths would be fragile."""
    return None if path is None else str(Path(path).expanduser().absolute())


def build_deployment(
    input: str,  # noqa: A002 - the flow parameter's name
    out: str,
    mapping: str | None = None,
    source: str = "canonical",
    profile: str | None = None,
    rules: str | None = None,
    glucose_factor: float | None = None,
    name: str = DEFAULT_NAME,
    cron: str = DEFAULT_CRON,
    state_dir: str | None = None,
    partitions: int | None = None,
    executor: str | None = None,
    dask_address: str | None = None,
) -> RunnerDeployment:
    """The deployment `serve` runs: cron in the site's time zone, window left to the default."""
    timezone = site_timezone(_absolute(mapping))
    parameters: dict[str, Any] = {
        "input": _absolute(input),
        "out": _absolute(out),
        "source": source,
        "mapping": _absolute(mapping),
        "profile": profile,
        "rules": _absolute(rules),
        "glucose_factor": glucose_factor,
        "state_dir": _absolute(state_dir),
        "partitions": partitions,
        "executor": executor,
        "dask_address": dask_address,
    }
    return nightly_screen.to_deployment(  # type: ignore[return-value]  # sync call, not awaited
        name=name,
        schedule=Cron(cron, timezone=timezone),
        parameters={key: value for key, value in parameters.items() if value is not None},
        description=f"Screen the nights not yet screened ({timezone}) at '{cron}'.",
        tags=["hyposcreen"],
    )


def wait_for_api(url: str, timeout: float = 120.0) -> bool:
    """True once `<url>/health` answers; False after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url.rstrip('/')}/health", timeout=5):  # noqa: S310
                return True
        except OSError:
            time.sleep(1)
    return False


EXIT_ENVIRONMENT = EnvironmentProblem.exit_code  # the machine: here, no Prefect API


def _partitions(text: str) -> int | None:
    """`--partitions` as `hyposcreen run` takes it: a number, or `auto` (the flow's default)."""
    if text.strip().lower() == "auto":
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is neither a number nor auto") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m flows.deploy",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--input", help="folder the nightly extract lands in (required to serve)")
    parser.add_argument(
        "--out",
        default="out/nightly",
        help="output folder, one subfolder per night (default: out/nightly under this folder)",
    )
    parser.add_argument(
        "--state-dir",
        default="state",
        help="nightly state: catch-up, re-listing only on worsening, late results "
        "(default: state under this folder)",
    )
    parser.add_argument("--mapping", help="site mapping YAML (its timezone sets the schedule's)")
    parser.add_argument(
        "--source", default="canonical", help="input layout: canonical (default), omop, mimic, fhir"
    )
    parser.add_argument("--profile", help="severity profile: seed (default) or eu2014")
    parser.add_argument("--rules", help="folder with an alternative rules set")
    parser.add_argument("--glucose-factor", type=float, help="1.6 (default) or 2.4")
    parser.add_argument(
        "--partitions",
        type=_partitions,
        help="patient-hash partitions: a number, or auto (default; see docs/scaling.md)",
    )
    parser.add_argument("--executor", choices=("local", "dask"), help="default: local")
    parser.add_argument("--dask-address", help="Dask scheduler for --executor dask")
    parser.add_argument("--name", default=DEFAULT_NAME, help="deployment name")
    parser.add_argument("--cron", default=DEFAULT_CRON, help="cron in the site's time zone")
    parser.add_argument(
        "--wait", type=float, default=120, help="seconds to wait for the API (default: 120)"
    )
    parser.add_argument(
        "--check", action="store_true", help="only wait for the Prefect API to answer, then exit"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    url = PREFECT_API_URL.value() or os.environ.get("PREFECT_API_URL")
    if not url:
        print("flows.deploy: set PREFECT_API_URL to a running Prefect server.", file=sys.stderr)
        return 2
    if not wait_for_api(url, args.wait):
        print(
            f"flows.deploy: no Prefect API at {url} after {args.wait:g} s: start the Prefect "
            "server (make serve, or the hyposcreen-prefect-server unit) or give it longer "
            "(--wait), then run again.",
            file=sys.stderr,
        )
        return EXIT_ENVIRONMENT
    if args.check:
        return 0
    if not args.input:
        print("flows.deploy: --input is required to serve.", file=sys.stderr)
        return 2
    try:
        deployment = build_deployment(
            input=args.input,
            out=args.out,
            mapping=args.mapping,
            source=args.source,
            profile=args.profile,
            rules=args.rules,
            glucose_factor=args.glucose_factor,
            name=args.name,
            cron=args.cron,
            state_dir=args.state_dir,
            partitions=args.partitions,
            executor=args.executor,
            dask_address=args.dask_address,
        )
    except HyposcreenError as exc:
        print(f"flows.deploy: error: {exc}", file=sys.stderr)
        return exc.exit_code
    # Blocks until SIGTERM/Ctrl-C. The schedule stays active meanwhile: nights missed while
    # this process is down show as Late and run on restart, each screening its own night.
    serve(deployment, pause_on_shutdown=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
