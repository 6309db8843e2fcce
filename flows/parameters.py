"""The flow's parameters as the core's settings: the site's time zone, the scheduled time a
late or retried run still screens, the flow run's name and a backfill range."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from prefect.runtime import flow_run as current_flow_run

from hyposcreen.config import load_mapping
from hyposcreen.errors import ConfigError, HyposcreenError
from hyposcreen.windows import plan_windows


def site_timezone(mapping: str | None) -> str:
    """The site's time zone: the mapping file's `timezone`, UTC without a mapping."""
    return load_mapping(Path(mapping) if mapping else None).timezone


def scheduled_time() -> datetime:
    """The run's scheduled start: a late or retried nightly run still screens its own night."""
    return current_flow_run.scheduled_start_time


def run_name() -> str:
    """`screen-<first window date>` (`..<last>` when nights are caught up), from the flow
    run's parameters."""
    params = current_flow_run.parameters
    try:
        mapping = load_mapping(Path(params["mapping"]) if params.get("mapping") else None)
        windows = plan_windows(
            params.get("window_start"),
            params.get("window_end"),
            mapping.timezone,
            scheduled_time(),
            Path(params["state_dir"]) if params.get("state_dir") else None,
            mapping.site,
            backfill_range(params.get("backfill_start"), params.get("backfill_end")),
        )
    except HyposcreenError:
        return "screen-invalid-settings"  # the flow body fails with the readable message
    if not windows:
        return "screen-up-to-date"
    first, last = windows[0].start.date(), windows[-1].start.date()
    return f"screen-{first}" if first == last else f"screen-{first}..{last}"


def backfill_range(start: str | None, end: str | None) -> tuple[str, str] | None:
    if start is None and end is None:
        return None
    if start is None or end is None:
        raise ConfigError("A backfill needs both a start and an end date.")
    return start, end
