"""The progress lines a run tells while it works (counts and seconds only, never a value from
the extract), the same whichever runner runs the recipe: `hyposcreen run` with or without the
Prefect flow, in memory or by patient-hash partition. The runner gives the window's context a
`tell` (the flow: its run log and the terminal; the CLI without the flow: stderr) and the
stages say these lines through `RunContext.say`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from hyposcreen.ingest.canonical import IngestedTable


def read_line(tables: Iterable[IngestedTable], partitions: int = 1) -> str:
    """What the read found: each table's rows (into how many partitions, when spilled)."""
    counts = ", ".join(f"{t.name} {t.rows_in:,} row(s)" for t in tables)
    return f"read {counts}" + (f" into {partitions} partitions" if partitions > 1 else "")


def contracts_line(summary: Mapping[str, Any]) -> str:
    """How the input's data contracts came out (critical ones stop the run before this); a
    night whose warning expectations all held says nothing of warnings (a log searched for
    the word finds the nights that had some)."""
    verdict = "passed" if summary.get("passed") else "failed"
    failed = int(summary.get("failed_warnings", 0))
    if not failed:
        return f"input validation {verdict}"
    return f"input validation {verdict}; {failed} warning expectation(s) failed"


def partitions_line(done: str, partitions: int, seconds: float) -> str:
    """A partitioned run's stage done over every partition, with the seconds it took (a run
    on a Dask cluster may have one partition)."""
    return f"{done} {partitions} partition{'' if partitions == 1 else 's'} ({seconds:.1f} s)"


def screening_line(input_dir: object, window: str, profile: str | None, timezone: str = "") -> str:
    """The line a window's screening starts with: the input, the window in the site's
    `timezone` (its bounds are the site's wall times: named, so a log read on a server in UTC
    does not read them as UTC) and the severity profile (rules.yaml `profiles`: the bands and
    tiers the cases are put in) asked for by name, else the rules' default, whose name is
    known once the rules are read (the line saying how many cases were listed names it)."""
    chosen = f"severity profile {profile}" if profile else "the rules' default severity profile"
    zone = f" {timezone}" if timezone else ""
    return f"screening {input_dir} for {window}{zone} ({chosen})"
