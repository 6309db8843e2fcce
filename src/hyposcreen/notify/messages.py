"""What a notification says: a subject and a few lines, from counts and folders only.

Inputs are the run's identifier-free facts (the flow's counts, a manifest's counts, or
FAILED.json's record: error type and a message that never quotes data rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from hyposcreen.failures import failure_record
from hyposcreen.run_warnings import warning_texts

__all__ = ["failure_record"]  # FAILED.json's record, also what a failure alert says

TIER_NAMES = {"1": "urgent", "2": "soon", "3": "routine"}
FAILURE, WARNINGS, SUMMARY = "failure", "warnings", "summary"


@dataclass(frozen=True)
class Message:
    event: str  # failure | warnings | summary
    subject: str
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def failure_message(site: str, record: dict[str, Any], out_dir: str | None) -> Message:
    """A night that failed: which window, the error type, the one-paragraph reason."""
    window = record.get("window") or {}
    when = window.get("start") or "the planned night"
    lines = (
        f"hyposcreen could not screen site {site} for {when} "
        f"(until {window.get('end') or 'the default end'}).",
        f"Error: {record.get('error_type', 'Error')}: {record.get('message', '')}",
        f"Output folder: {out_dir or 'not reached'} (its FAILED.json says the same; the "
        "previous outputs are unchanged).",
        "What to do: see docs/operations.md, 'Exit statuses'; the next run retries this night.",
    )
    return Message(FAILURE, f"[hyposcreen] FAILED: site {site}, {when}", lines)


def outcome_message(site: str, counts: dict[str, Any], event: str) -> Message:
    """A night screened: cases per tier and where the list is; its warnings if any."""
    tiers = {str(k): int(v) for k, v in (counts.get("counts_per_tier") or {}).items()}
    window = counts.get("window") or {}
    when = window.get("start") if isinstance(window, dict) else str(window)
    per_tier = ", ".join(f"{TIER_NAMES.get(t, t)} {n}" for t, n in sorted(tiers.items()))
    lines = [
        f"hyposcreen screened site {site} for {when}: {int(counts.get('listed', 0))} case(s) "
        f"listed ({per_tier}).",
        f"Review list folder: {_folder(counts)}",
    ]
    warnings = warning_texts(counts.get("warnings"))
    if warnings:
        lines.append(f"Screened with {len(warnings)} warning(s) - check before relying on it:")
        lines += [f"- {w}" for w in warnings]
    label = "screened with warnings" if event == WARNINGS else "screened"
    return Message(event, f"[hyposcreen] {label}: site {site}, {when}", tuple(lines))


def _folder(counts: dict[str, Any]) -> str:
    if counts.get("out_dir"):
        return str(counts["out_dir"])
    if counts.get("review_csv"):
        return str(PurePath(str(counts["review_csv"])).parent)
    return "unknown"
