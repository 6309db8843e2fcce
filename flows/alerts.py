"""After a window: the failure kept in the nightly state, and people told (hyposcreen.notify).

Plain code rather than Prefect notification blocks: the same sending serves `hyposcreen run
--no-flow`, is tested against a real SMTP server and HTTP receiver, and needs no Prefect server
configuration. A notification that cannot be sent is logged as a warning and never changes
the run's outcome.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import get_run_logger

from hyposcreen.config import Window, load_mapping
from hyposcreen.errors import HyposcreenError
from hyposcreen.notify.send import notify_failure, notify_outcomes
from hyposcreen.notify.settings import load_notifications
from hyposcreen.state import StateStore


def _site(mapping: str | None) -> str:
    try:
        return load_mapping(Path(mapping) if mapping else None).site
    except HyposcreenError:
        return "default"


def remember_failure(
    state_dir: str | None, mapping: str | None, window: Window, record: dict[str, Any], out: Path
) -> None:
    """The failed window in the nightly state (for `hyposcreen status`); best effort."""
    if not state_dir:
        return
    try:
        StateStore(Path(state_dir), _site(mapping)).record_failure(window, record, out)
    except (HyposcreenError, OSError) as exc:
        get_run_logger().warning("The failure could not be kept in the state: %s", exc)


def alert_failure(mapping: str | None, record: dict[str, Any], out_dir: Path | None) -> None:
    _report(
        lambda settings: notify_failure(
            settings, _site(mapping), record, str(out_dir) if out_dir else None
        ),
        mapping,
    )


def alert_outcomes(mapping: str | None, outcomes: list[dict[str, Any]]) -> None:
    _report(lambda settings: notify_outcomes(settings, _site(mapping), outcomes), mapping)


def _report(send: Any, mapping: str | None) -> None:
    logger = get_run_logger()
    try:
        settings = load_notifications(Path(mapping) if mapping else None)
        problems = send(settings)
    except HyposcreenError as exc:
        problems = [f"notifications not sent: {exc}"]
    for problem in problems:
        logger.warning("hyposcreen: %s", problem)
