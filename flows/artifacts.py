"""What a run tells Prefect: artifact contents and FAILED.json. Counts only, no identifiers.

Pure functions of the run manifest (no Prefect import), so they are cheap to test.
"""

from __future__ import annotations

from typing import Any

from hyposcreen.context import RunSummary
from hyposcreen.notify.messages import failure_record
from hyposcreen.run_warnings import warning_texts

__all__ = ["counts_table", "failure_record", "run_counts", "summary_markdown"]

TIER_NAMES = {"1": "urgent", "2": "soon", "3": "routine"}
BUCKET_COLUMNS = ("rows_in", "used", "not_relevant", "duplicate", "quarantined", "reconciled")


def run_counts(summary: RunSummary, seconds: float) -> dict[str, Any]:
    """The JSON-safe, identifier-free facts of a run, taken from its manifest."""
    manifest = summary.manifest
    validation = manifest.get("validation") or {}
    return {
        "run_id": summary.run_id,
        "window": manifest["window"],
        "site": manifest["site"],
        "rules_version": manifest["rules_version"],
        "profile": manifest["profile"],
        "listed": int(manifest["listed"]),
        "counts_per_tier": {k: int(v) for k, v in manifest["counts_per_tier"].items()},
        "tables": {
            name: {column: rec[column] for column in BUCKET_COLUMNS if column in rec}
            for name, rec in manifest["reconciliation"].items()
        },
        "validation": validation_outcome(validation),
        "validation_warnings": int(validation.get("failed_warnings") or 0),
        "data_docs": validation.get("docs_index"),
        "warnings": warning_texts(manifest.get("warnings")),
        "coverage": manifest.get("coverage"),
        "reconciled": bool(manifest["reconciled"]),
        "timings": {**manifest["timings"], "flow_total": round(seconds, 3)},
        "out_dir": str(summary.out_dir),
    }


def validation_outcome(validation: dict[str, Any]) -> str:
    """ "passed" / "failed" from the manifest's `validation.passed`; "not run" without it."""
    if "passed" not in validation:
        return "not run"
    return "passed" if validation["passed"] else "failed"


def _warnings_lines(counts: dict[str, Any]) -> list[str]:
    warnings = counts.get("warnings") or []
    if not warnings:
        return ["Warnings: none.", ""]
    return [f"**Screened with {len(warnings)} warning(s):**", *(f"- {w}" for w in warnings), ""]


def _coverage_lines(counts: dict[str, Any]) -> list[str]:
    coverage = counts.get("coverage")
    if not coverage:
        return []
    if isinstance(coverage, dict):
        rows = [f"| {key} | {value} |" for key, value in sorted(coverage.items())]
        return ["| coverage | |", "|---|---|", *rows, ""]
    return [f"Coverage: {coverage}", ""]


def summary_markdown(counts: dict[str, Any]) -> str:
    window = counts["window"]
    tiers = counts["counts_per_tier"]
    lines = [
        f"# Screening {window['start']} to {window['end']} ({window['timezone']})",
        "",
        f"Site `{counts['site']}`, run `{counts['run_id']}`, rules {counts['rules_version']}, "
        f"profile {counts['profile']}. Output: `{counts['out_dir']}`.",
        "",
        "| tier | cases |",
        "|---|---:|",
        *(f"| {tier} {TIER_NAMES[tier]} | {tiers[tier]} |" for tier in sorted(tiers)),
        f"| **listed** | **{counts['listed']}** |",
        "",
        "| table | " + " | ".join(BUCKET_COLUMNS) + " |",
        "|---|" + "---:|" * len(BUCKET_COLUMNS),
        *(
            f"| {name} | " + " | ".join(str(rec.get(c, "")) for c in BUCKET_COLUMNS) + " |"
            for name, rec in counts["tables"].items()
        ),
        "",
        f"Validation: **{counts['validation']}** ({counts['validation_warnings']} warning "
        f"expectation(s) failed); every row accounted for: "
        f"**{'yes' if counts['reconciled'] else 'NO'}**.",
        "",
        *_warnings_lines(counts),
        *_coverage_lines(counts),
        "| step | seconds |",
        "|---|---:|",
        *(f"| {step} | {seconds:.3f} |" for step, seconds in counts["timings"].items()),
    ]
    return "\n".join(lines) + "\n"


def counts_table(counts: dict[str, Any]) -> list[dict[str, Any]]:
    """Long format (section, item, value): one JSON-safe table for tiers, tables, timings."""
    rows: list[dict[str, Any]] = [
        {"section": "tier", "item": f"{t} {TIER_NAMES[t]}", "value": n}
        for t, n in sorted(counts["counts_per_tier"].items())
    ]
    rows.append({"section": "tier", "item": "listed", "value": counts["listed"]})
    for name, rec in counts["tables"].items():
        rows.append({"section": "quarantined", "item": name, "value": rec.get("quarantined", 0)})
    rows.append({"section": "validation", "item": "outcome", "value": counts["validation"]})
    rows.append(
        {"section": "validation", "item": "warnings", "value": counts["validation_warnings"]}
    )
    rows.append({"section": "validation", "item": "reconciled", "value": counts["reconciled"]})
    rows.append({"section": "run", "item": "warnings", "value": len(counts["warnings"])})
    rows += [
        {"section": "seconds", "item": step, "value": seconds}
        for step, seconds in counts["timings"].items()
    ]
    return rows
