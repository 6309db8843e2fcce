"""The warnings a run tells on stderr as it ends, read from each published window's
run_manifest.json (so the Prefect flow and the plain loop end the same way).

A backfill or catch-up tells each window's warnings named by the window. A warning whose text
is the same on consecutive windows (a span of nights the extract holds no sodium for) is told
once, naming the span and how many windows it covers: ten years of empty nights typed by
mistake are one line, not 3,650. Each window's manifest keeps its own warnings whole.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hyposcreen.errors import EXIT_SCREENED_WITH_WARNINGS

EXIT_OK = 0


@dataclass
class _Told:
    """One warning text and the consecutive windows (folder names) that had it."""

    message: str
    first: str
    last: str
    windows: int = 1


def warnings_status(folders: list[Path], named: bool = False) -> int:
    """Print each window's warnings and return 4 if there were any; each named by its window
    (or span of windows) when there are several windows, or `named`."""
    told = _grouped(folders)
    nights = all(_is_night(folder.name) for folder in folders)
    for warning in told:
        where = f"[{_span(warning, nights)}] " if named or len(folders) > 1 else ""
        print(f"hyposcreen: warning: {where}{warning.message}", file=sys.stderr)
    return EXIT_SCREENED_WITH_WARNINGS if told else EXIT_OK


def _grouped(folders: list[Path]) -> list[_Told]:
    """The windows' warnings in order of first appearance, a text repeated by the windows
    that follow one another told once."""
    told: list[_Told] = []
    running: dict[str, _Told] = {}  # texts the window before had, to their span
    for folder in folders:
        messages = _messages(folder)  # a window without warnings (or unread) ends every span
        now: dict[str, _Told] = {}
        for message in messages:
            span = running.get(message) if message not in now else None
            if span is None:
                span = _Told(message, folder.name, folder.name)
                told.append(span)
            else:
                span.last, span.windows = folder.name, span.windows + 1
            now[message] = span
        running = now
    return told


def read_manifest(folder: Path) -> dict[str, Any]:
    """A published window's run_manifest.json ({} when it cannot be read)."""
    try:
        loaded = json.loads((folder / "run_manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _messages(folder: Path) -> list[str]:
    """The window's warning texts (none when its manifest cannot be read)."""
    warnings = read_manifest(folder).get("warnings", [])
    if not isinstance(warnings, list):
        return []
    return [str(w.get("message", "")) for w in warnings if isinstance(w, dict)]


def _span(warning: _Told, nights: bool) -> str:
    if warning.windows == 1:
        return warning.first
    kind = "nights" if nights else "windows"
    return f"{warning.first} .. {warning.last}, {warning.windows} {kind}"


def _is_night(name: str) -> bool:
    """A nightly folder's name: the night's date (2026-11-20)."""
    return len(name) == 10 and name[4] == "-" and name[7] == "-"
