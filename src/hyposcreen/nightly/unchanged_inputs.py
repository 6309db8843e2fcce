"""A night screened on the very files the night before was screened on: the delivery did not
arrive (the run read yesterday's extract), or only some of its tables were refreshed.

Tonight's input files (name and sha256, as the manifest lists them) are compared, table by
table, with those of the night just before, from that night's run_manifest.json. Nights this
process screened itself are not compared (a catch-up or backfill shares one read of one
delivery), nor a night before that was screened only once tonight's window had ended (a
backfill in parts, nights re-run by hand, the late runs of a scheduler restarted after an
outage): it was screened on a delivery that may already hold tonight. Counts and file names
only, never a value from the extract.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from hyposcreen.config import Window
from hyposcreen.ingest.canonical import IngestedTable
from hyposcreen.ingest.timeparse import instant_of
from hyposcreen.state import StateStore

_ISO = "%Y-%m-%dT%H:%M:%S"
_PUBLISHED_HERE: set[str] = set()  # the nights' folders this process published with state


def published_here(folder: Path) -> None:
    """Remember a night this process published: a later night of the same run shares its
    delivery by design and is not compared with it."""
    _PUBLISHED_HERE.add(str(folder))


def unchanged_inputs(
    state: StateStore | None,
    window: Window,
    tables: Mapping[str, IngestedTable],
    timezone: str = "UTC",
) -> list[tuple[str, str]]:
    """The warning (code `unchanged_inputs`, message) when a table's files are those the night
    before was screened on, when a new delivery was due between the two runs; none otherwise.
    `timezone`: the site's (the window's times are its wall times)."""
    if state is None:
        return []
    runs = state.runs()
    before = runs.loc[runs["window_end"] == window.start.strftime(_ISO)]
    if before.empty or str(before.iloc[-1]["out_dir"]) in _PUBLISHED_HERE:
        return []
    if _screened_after(before.iloc[-1]["screened_at"], window, timezone):
        return []
    night, folder = str(before.iloc[-1]["window_start"])[:10], Path(before.iloc[-1]["out_dir"])
    earlier = _inputs(folder / "run_manifest.json")
    # a table whose files hold no row tonight is alike on any night: no sign of a stale extract
    tonight = {name: _files(t.files) for name, t in tables.items() if _rows(t.files)}
    same = sorted(n for n, files in tonight.items() if earlier.get(n) == files)
    if not same:
        return []
    names = ", ".join(f"{n} ({', '.join(name for name, _ in tonight[n])})" for n in same)
    changed = sorted(set(tonight) - set(same))
    if not changed:
        message = (
            f"every input file is the one night {night} was screened on ({names}; same "
            "sha256): tonight's delivery did not arrive? This night's list holds only what "
            "that extract held of it. Ask the sender for the current extract, then run the "
            "night again (--window-start)"
        )
    else:
        message = (
            f"{names} {'is' if len(same) == 1 else 'are'} the same file(s) night {night} was "
            f"screened on (same sha256), while {', '.join(changed)} changed: only part of the "
            "delivery was refreshed? Risk factors and patients added since that extract are "
            "missing from this night's list. Ask the sender for the whole current extract, "
            "then run the night again (--window-start)"
        )
    return [("unchanged_inputs", message)]


def _screened_after(screened_at: object, window: Window, timezone: str) -> bool:
    """Whether the night before was recorded (`runs.screened_at`, UTC) once `window` had
    ended: its delivery was then tonight's too. Unknown (a night recorded before the state
    kept the time): not after, so the nights are compared."""
    if not isinstance(screened_at, str) or not screened_at:
        return False
    try:
        recorded = pd.Timestamp(screened_at).tz_convert("UTC").tz_localize(None)
    except (ValueError, TypeError):
        return False
    return bool(recorded >= instant_of(window.end, timezone))


def _rows(records: list[dict[str, object]]) -> int:
    """The rows the files hold (one without a count counts as holding some)."""
    return sum(int(str(f.get("rows", 1) or 0)) for f in records)


def _files(records: list[dict[str, object]]) -> list[tuple[str, str]]:
    return sorted((Path(str(f.get("path"))).name, str(f.get("sha256"))) for f in records)


def _inputs(manifest: Path) -> dict[str, list[tuple[str, str]]]:
    """The input files of a published night, by table (empty when its manifest is gone)."""
    try:
        inputs = json.loads(manifest.read_text(encoding="utf-8")).get("inputs", {})
    except (OSError, ValueError, AttributeError):
        return {}
    if not isinstance(inputs, dict):
        return {}
    return {
        name: _files(records)
        for name, records in inputs.items()
        if isinstance(records, list) and all(isinstance(r, dict) for r in records)
    }
