"""The operator's side of the command line: `hyposcreen status`, and the notifications that
follow `hyposcreen run` (kept apart from cli.py, which parses and maps exit statuses)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hyposcreen.errors import HyposcreenError

EXIT_OK = 0


def add_status_parser(commands: Any) -> None:
    status = commands.add_parser(
        "status",
        help="nights screened, failed and pending; the last run's outcome; the next scheduled run",
    )
    status.add_argument(
        "--state-dir", help="the nightly state dir (default: $HYPOSCREEN_STATE_DIR)"
    )
    status.add_argument("--mapping", type=Path, help="site mapping YAML (its site and time zone)")


def status_command(args: argparse.Namespace) -> int:
    from hyposcreen.cli_stdout import say
    from hyposcreen.errors import ConfigError
    from hyposcreen.state import state_dir_from_env
    from hyposcreen.status import read_status

    state_dir = state_dir_from_env(args.state_dir)
    if state_dir is None:
        raise ConfigError("Give --state-dir (or set HYPOSCREEN_STATE_DIR): the status lives there.")
    say("\n".join(read_status(state_dir, args.mapping).lines()))
    return EXIT_OK


def run_notified(args: argparse.Namespace, run: Callable[[argparse.Namespace], int]) -> int:
    """`run(args)`, then the site's notifications (hyposcreen.notify): a failure, "screened
    with warnings" or the morning summary. `run` leaves the windows' outcomes (counts only) in
    `args.notified_outcomes` as each is published, and the window that failed, with its
    folder, in `args.failed_window`: a catch-up or backfill stopped at a later night tells the
    nights it published first (a night with warnings is never left untold behind another
    night's failure), then the failure by its own night and folder. A notification that fails
    is reported on stderr and never changes the exit status."""
    from hyposcreen.notify.messages import failure_record
    from hyposcreen.notify.send import notify_failure, notify_outcomes
    from hyposcreen.notify.settings import load_notifications

    settings = load_notifications(args.mapping)  # a wrong section stops the run at once
    args.notified_outcomes = []
    args.failed_window = None
    try:
        status = run(args)
    except Exception as error:
        if settings.enabled:
            site = _site(args.mapping)
            failed = args.failed_window  # (start, end, folder), or None: no window began
            window = failed[:2] if failed else (args.window_start, args.window_end)
            record = failure_record(error, window)
            _say(notify_outcomes(settings, site, args.notified_outcomes))
            _say(notify_failure(settings, site, record, str(failed[2] if failed else args.out)))
        raise
    if settings.enabled and args.notified_outcomes:
        _say(notify_outcomes(settings, _site(args.mapping), args.notified_outcomes))
    return status


def remember_failure(
    state_dir: Path | None, site: str, window: Any, error: BaseException, out_dir: Path
) -> None:
    """A window that failed in a --no-flow run, kept in the nightly state for `status` (the
    flow keeps its own). Best effort: the run's own error is what the user sees."""
    if state_dir is None:
        return
    from hyposcreen.notify.messages import failure_record
    from hyposcreen.state import StateStore

    record = failure_record(error, (window.start.isoformat(), window.end.isoformat()))
    try:
        StateStore(state_dir, site).record_failure(window, record, out_dir)
    except (HyposcreenError, OSError) as exc:
        print(f"hyposcreen: warning: the failure was not kept in the state: {exc}", file=sys.stderr)


def _site(mapping: Path | None) -> str:
    from hyposcreen.config import load_mapping

    try:
        return load_mapping(mapping).site
    except HyposcreenError:
        return "default"


def _say(problems: list[str]) -> None:
    for problem in problems:
        print(f"hyposcreen: warning: {problem}", file=sys.stderr)
