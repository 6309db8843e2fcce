"""The run's identity and its manifest: counts only, never patient identifiers."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd

from hyposcreen import __version__
from hyposcreen.config import RunSettings, SiteMapping
from hyposcreen.ingest.canonical import IngestedTable
from hyposcreen.report.display import band_text
from hyposcreen.report.review_list import DISCLAIMER
from hyposcreen.rules.loader import Profile, RuleSet

OUTPUTS = [
    "review_list.csv",
    "review_list.parquet",
    "review_list.html",
    "review_list.xlsx",
    "evidence.csv",
    "quarantine.csv",
    "coverage.csv",
    "run_manifest.json",
]


def compute_run_id(
    settings: RunSettings,
    rules: RuleSet,
    profile: Profile,
    tables: dict[str, IngestedTable],
) -> str:
    """Content hash of inputs, rules, profile, window and mapping: same inputs, same id."""
    payload = {
        "inputs": sorted(
            (name, Path(str(f["path"])).name, f["sha256"])
            for name, t in tables.items()
            for f in t.files
        ),
        "rules_version": rules.version,
        "rules_hash": rules.content_hash,
        "profile": profile.name,
        "window": settings.window.label(),
        "glucose_factor": settings.glucose_factor or rules.glucose["factor"],
        "source": settings.source,
        "mapping": hashlib.sha256(Path(settings.mapping_path).read_bytes()).hexdigest()
        if settings.mapping_path
        else None,
    }
    blob = json.dumps(payload, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def build_manifest(
    settings: RunSettings,
    rules: RuleSet,
    profile: Profile,
    mapping: SiteMapping,
    tables: dict[str, IngestedTable],
    reconciliation: dict[str, dict[str, Any]],
    attrition: list[dict[str, Any]],
    review: pd.DataFrame,
    run_id: str,
    validation: dict[str, Any] | None,
    execution: dict[str, Any],
) -> dict[str, Any]:
    """Counts only: the manifest never carries patient identifiers. `execution`: timings,
    peak_rss_mb, partitions and executor of the run."""
    window = settings.window
    tiers = review["tier"].value_counts().to_dict() if len(review) else {}
    return {
        "hyposcreen_version": __version__,
        "run_id": run_id,
        "rules_version": rules.version,
        "rules_hash": rules.content_hash,
        "profile": profile.name,
        "profile_description": profile.description,
        # the bands as the screen applied them (a copy's description is its own free text)
        "profile_bands": band_text(profile),
        "glucose_factor": settings.glucose_factor or rules.glucose["factor"],
        # the numbers the night was screened with, so a rules change between nights is seen
        "rules_in_force": {
            "glucose_correction": dict(rules.glucose),
            "windows": asdict(rules.windows),
            "limits": asdict(rules.limits),
        },
        "window": {
            "start": window.start.isoformat(),
            "end": window.end.isoformat(),
            "timezone": mapping.timezone,
        },
        "site": mapping.site,
        "source": settings.source,
        "inputs": {name: t.files for name, t in tables.items()},
        "source_counts": {name: t.source_counts for name, t in tables.items() if t.source_counts},
        "reconciliation": reconciliation,
        "reconciled": all(r["reconciled"] for r in reconciliation.values()),
        "attrition": attrition,
        "counts_per_tier": {str(t): int(tiers.get(t, 0)) for t in (1, 2, 3)},
        "listed": len(review),
        "validation": validation or {},
        "timings": dict(execution["timings"]),
        "peak_rss_mb": dict(execution["peak_rss_mb"]),
        "partitions": execution["partitions"],
        "executor": execution["executor"],
        "outputs": list(OUTPUTS),
        "notice": DISCLAIMER,
    }
