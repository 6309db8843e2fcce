"""The loop over the windows of a run, shared by `hyposcreen run --no-flow` and the Prefect
flow: each window in turn, in its own folder; a failed window is told to `on_failure` (its
FAILED.json, the state, alerts) and stops the loop, leaving later windows for the next run."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hyposcreen.config import RunSettings, Window
from hyposcreen.failures import FAILED_FILE  # a failed window's record; gone once it succeeds


def screen_windows(
    windows: Sequence[Window],
    settings_for: Callable[[Window], RunSettings],
    screen_window: Callable[[RunSettings], dict[str, Any]],
    on_failure: Callable[[Window, RunSettings, BaseException], None],
    progress: Callable[[int, int, Window], None] | None = None,
) -> list[dict[str, Any]]:
    """Screen each window with `screen_window`; its outcomes in window order."""
    outcomes = []
    for number, window in enumerate(windows, start=1):
        if progress is not None:
            progress(number, len(windows), window)
        settings = settings_for(window)
        try:
            outcome = screen_window(settings)
        except BaseException as error:
            on_failure(window, settings, error)
            raise
        (settings.out_dir / FAILED_FILE).unlink(missing_ok=True)
        outcomes.append(outcome)
    return outcomes
