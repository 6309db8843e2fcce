"""The contracts stage's parts: Great Expectations on the columns the screen reads.

`validation_frames` projects the cleaned tables, `run_contracts` validates them (a critical
failure stops the run with an InputError naming file, column and example rows) and
`apply_contract_warnings` quarantines the rows a warning expectation flagged that cleaning had
kept. The in-process recipe chains the three; the partitioned runner validates the whole
tables once and applies the warnings per partition.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from hyposcreen.clean import QUARANTINED, USED
from hyposcreen.context import CleanedInputs, RunContext


def validation_frames(cleaned: CleanedInputs) -> dict[str, pd.DataFrame]:
    """The cleaned tables narrowed to the columns their contracts read (labs: `value_num` is
    the canonical value before implausible rows are blanked)."""
    from hyposcreen.validate.gx import project_for_validation

    labs = project_for_validation("labs", cleaned.labs.drop(columns="value_num"))
    frames: dict[str, pd.DataFrame] = {
        "labs": labs.assign(value_num=cleaned.labs["value_canonical"]),
        "medications": project_for_validation("medications", cleaned.medications),
        "diagnoses": project_for_validation("diagnoses", cleaned.diagnoses),
    }
    if cleaned.patients is not None:
        frames["patients"] = project_for_validation("patients", cleaned.patients)
    return frames


def run_contracts(ctx: RunContext, frames: Mapping[str, pd.DataFrame]) -> Any:
    """Validate the (projected) tables; a critical failure raises an InputError."""
    from hyposcreen.validate.gx import validate_tables  # GX imports in ~3 s: only when used

    thresholds = dict(ctx.rules.contracts)
    broken_share = thresholds.pop("broken_share", 0.5)
    min_rows = int(thresholds.pop("min_rows_to_judge", 20))
    thresholds.pop("max_row_bytes", None)  # the reader's limit (ingest.oversized)
    report = validate_tables(
        frames,
        window_end=ctx.settings.window.end,
        thresholds=thresholds,
        docs_dir=ctx.staging_dir() / "validation",
        code_system_aliases=ctx.rules.code_system_aliases,
        rules=ctx.rules,  # units and ranges of the run's rules (a site's --rules copy)
    )
    report.demote_small_breaches(min_rows, broken_share)  # listed as warnings of the run
    report.raise_for_critical()
    return report


def apply_contract_warnings(report: Any, cleaned: CleanedInputs) -> dict[str, int]:
    """Quarantine the rows a warning expectation flagged that cleaning had kept.

    The report's row labels are the frames' index labels; a partition of a table takes the
    labels it holds (its index is the rows' numbers in the whole table)."""
    quarantined: dict[str, int] = {}
    for name in ("labs", "medications", "diagnoses"):
        frame = getattr(cleaned, name)
        flagged = report.warning_rows(name)
        reasons = report.warning_reasons(name)
        labels = _used_rows(frame, pd.Index(list(flagged), dtype="int64"))
        frame.loc[labels, "bucket"] = QUARANTINED
        frame.loc[labels, "reason"] = [f"{reasons[x]}:{flagged[x]}" for x in labels]
        quarantined[name] = len(labels)
    if quarantined["medications"]:
        used = cleaned.drug_matches["row"].isin(
            cleaned.medications.index[cleaned.medications["bucket"] == USED]
        )
        cleaned.drug_matches = cleaned.drug_matches.loc[used].reset_index(drop=True)
    return quarantined


def _used_rows(frame: pd.DataFrame, candidates: pd.Index) -> pd.Index:
    """The labels of `candidates` that `frame` holds with bucket `used`, in their order. Their
    rows are found by position (a range index finds them by arithmetic, not by hashing the
    frame's labels every night)."""
    if not frame.index.is_unique:
        candidates = candidates[candidates.isin(frame.index)]
        return candidates[(frame.loc[candidates, "bucket"] == USED).to_numpy()]
    positions = frame.index.get_indexer(candidates)
    held = positions >= 0
    used = (frame["bucket"].iloc[positions[held]] == USED).to_numpy()
    return candidates[held][used]
