"""The contracts stage's parts: Great Expectations on the columns the screen reads.

`validation_frames` projects the cleaned tables, `run_contracts` validates them (a critical
failure stops the run with an InputError naming file, column and example rows) and
`apply_contract_warnings` quarantines the rows a warning expectation flagged that cleaning had
kept. The in-process recipe chains the three; the partitioned runner validates the whole
tables once and applies the warnings per partition.

With a contracts worker (validate/worker_client.py), `ask_worker` sends the projected tables
and the values `run_contracts` would pass GX to the worker and returns at once; the recipe
screens meanwhile and `worker_report` takes the report (or, when the worker failed, validates
here after all: the same report, the same stop).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hyposcreen.clean import QUARANTINED, USED
from hyposcreen.context import CleanedInputs, RunContext


def validation_frames(cleaned: CleanedInputs) -> dict[str, pd.DataFrame]:
    """The cleaned tables narrowed to the columns their contracts read (labs: `value_num` is
    the canonical value before implausible rows are blanked)."""
    return {"labs": _projected_labs(cleaned.labs), **_event_frames(cleaned)}


def _projected_labs(labs: pd.DataFrame) -> pd.DataFrame:
    from hyposcreen.validate.gx import project_for_validation

    return project_for_validation("labs", labs, values={"value_num": labs["value_canonical"]})


def _event_frames(cleaned: CleanedInputs) -> dict[str, pd.DataFrame]:
    """`validation_frames` of the tables but the labs."""
    from hyposcreen.validate.gx import project_for_validation

    frames = {
        "medications": project_for_validation("medications", cleaned.medications),
        "diagnoses": project_for_validation("diagnoses", cleaned.diagnoses),
    }
    if cleaned.patients is not None:
        frames["patients"] = project_for_validation("patients", cleaned.patients)
    return frames


def sent_frames(ctx: RunContext, cleaned: CleanedInputs) -> dict[str, Any]:
    """`validation_frames` as sent to the contracts worker: the labs of a window cut from one
    read (`CleanedInputs.lab_cut`), while the worker keeps the frames of the loop's windows,
    as those rows of the read's cleaned labs projected once (worker_pipe.RowsOf: the read's
    projection is sent once, each night names its rows). Projecting is done row by row, so
    the rows of the read's projection are the projection of the window's rows."""
    from hyposcreen.validate.worker_pipe import RowsOf

    projected = _read_projection(ctx, cleaned)
    if projected is None or cleaned.lab_cut is None:
        return validation_frames(cleaned)
    return {"labs": RowsOf(projected, _READ_LABS, cleaned.lab_cut), **_event_frames(cleaned)}


def read_rows(ctx: RunContext, cleaned: CleanedInputs) -> dict[str, Any] | None:
    """For `run_contracts` in a loop of windows cut from one read: the read's labs projected
    once and the positions of the window's labs among them (their view is cut from the
    read's: validate/view_rows.py); None otherwise."""
    projected = _read_projection(ctx, cleaned)
    if projected is None or cleaned.lab_cut is None:
        return None
    return {"labs": (projected, np.flatnonzero(cleaned.lab_cut))}


def _read_projection(ctx: RunContext, cleaned: CleanedInputs) -> pd.DataFrame | None:
    """`validation_frames`' labs of the read the window's labs are cut from (projected once
    per read), while a loop remembers; None when the window was not cut from one."""
    from hyposcreen.validate.remembered import remembering

    shared = ctx.shared_read
    known = shared.decided.get("labs") if shared is not None else None
    keep = cleaned.lab_cut
    if shared is None or known is None or keep is None or not remembering():
        return None
    union: pd.DataFrame = known[2]
    if list(union.columns) != list(cleaned.labs.columns) or len(keep) != len(union):
        return None
    projected = shared.decided.get(_PROJECTED)
    if projected is None or projected[0] is not union:
        projected = (union, _projected_labs(union))
        shared.decided[_PROJECTED] = projected
    labs: pd.DataFrame = projected[1]
    return labs


_PROJECTED = "contract_labs"  # SharedRead.decided: (cleaned labs, their validation projection)
_READ_LABS = "labs of the read"  # the worker's name of that projection


def read_labs(ctx: RunContext, cleaned: CleanedInputs) -> pd.DataFrame:
    """The cleaned labs of the whole read a window is cut from (`hyposcreen audit`'s months:
    recipe_clean.window_labs_cut keeps them), as one window over all the read's windows holds
    them; a window read for itself: its own."""
    shared = ctx.shared_read
    known = shared.decided.get("labs") if shared is not None else None
    if known is None or cleaned.lab_cut is None:
        return cleaned.labs
    labs: pd.DataFrame = known[2]
    return labs


def read_frames(labs: pd.DataFrame, cleaned: CleanedInputs) -> dict[str, pd.DataFrame]:
    """`validation_frames` of the read's cleaned `labs` (read_labs) and the window's other
    tables (whole in every window of a read)."""
    return {"labs": _projected_labs(labs), **_event_frames(cleaned)}


def run_contracts(
    ctx: RunContext,
    frames: Mapping[str, pd.DataFrame],
    data_docs: bool = True,
    rows_of_read: Mapping[str, Any] | None = None,
) -> Any:
    """Validate the (projected) tables; a critical failure raises an InputError. Data Docs
    go to the run's staging folder (`data_docs`; `hyposcreen audit` writes none).
    `rows_of_read`: `read_rows`."""
    from hyposcreen.validate.gx import validate_tables  # GX imports in ~3 s: only when used

    thresholds, min_rows, broken_share = contract_limits(ctx)
    report = validate_tables(
        frames,
        window_end=ctx.settings.window.end,
        thresholds=thresholds,
        docs_dir=ctx.staging_dir() / "validation" if data_docs else None,
        code_system_aliases=ctx.rules.code_system_aliases,
        rules=ctx.rules,  # units and ranges of the run's rules (a site's --rules copy)
        timezone=ctx.mapping.timezone,
        read_rows=rows_of_read,
    )
    report.demote_small_breaches(min_rows, broken_share)  # listed as warnings of the run
    report.raise_for_critical()
    return report


def contract_limits(ctx: RunContext) -> tuple[dict[str, Any], int, float]:
    """The rules' contract thresholds GX checks, and the two that judge a breach's size."""
    thresholds = dict(ctx.rules.contracts)
    broken_share = thresholds.pop("broken_share", 0.5)
    min_rows = int(thresholds.pop("min_rows_to_judge", 20))
    thresholds.pop("max_row_bytes", None)  # the reader's limit (ingest.oversized)
    return thresholds, min_rows, broken_share


@dataclass
class AskedWorker:
    """Contracts sent to the worker (its request `number`), their answer not read yet."""

    worker: Any
    docs_dir: Path | None
    number: int


def ask_worker(
    ctx: RunContext, frames: Callable[[], Mapping[str, Any]], data_docs: bool = True
) -> AskedWorker | None:
    """Send the contracts to the run's worker (the tables `frames()` gives: `sent_frames`);
    None when there is none (or it failed, or the run's values do not pass through JSON
    unchanged): validate here. `data_docs`: as run_contracts."""
    from hyposcreen.validate.remembered import remembering
    from hyposcreen.validate.rule_values import rule_parameters
    from hyposcreen.validate.worker_client import WorkerFailed, current

    worker = current()
    if worker is None:
        return None
    thresholds, min_rows, broken_share = contract_limits(ctx)
    docs_dir = ctx.staging_dir() / "validation" if data_docs else None
    told = {
        "kind": "contracts",
        "window_end": ctx.settings.window.end.isoformat(),
        "thresholds": thresholds,
        "min_rows": min_rows,
        "broken_share": broken_share,
        "docs_dir": str(docs_dir) if docs_dir is not None else None,
        "code_system_aliases": dict(ctx.rules.code_system_aliases),
        "rule_values": rule_parameters(ctx.rules),
        "timezone": ctx.mapping.timezone,
    }
    try:
        if json.loads(json.dumps(told)) != told:
            return None
    except (TypeError, ValueError):
        return None
    try:
        number = worker.ask(told, frames(), remember=remembering())
    except WorkerFailed:
        return None
    return AskedWorker(worker, docs_dir, number)


def worker_report(ctx: RunContext, asked: AskedWorker, frames: Any) -> Any:
    """The worker's report on the contracts `asked` (a critical failure raises the InputError
    that `run_contracts` raises); when the worker failed, `run_contracts` on `frames()` here,
    its Data Docs written anew."""
    from hyposcreen.validate.outcomes import ValidationReport
    from hyposcreen.validate.worker_client import WorkerFailed

    try:
        report = ValidationReport.from_message(asked.worker.answer(asked.number))
    except (WorkerFailed, KeyError, TypeError, ValueError):
        if asked.docs_dir is None:
            return run_contracts(ctx, frames(), data_docs=False)
        shutil.rmtree(asked.docs_dir, ignore_errors=True)  # what the worker left of its pages
        return run_contracts(ctx, frames())
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
        if not flagged and {"bucket", "reason"} <= set(frame.columns):
            quarantined[name] = 0  # most nights: no row flagged, nothing to mark
            continue
        reasons = report.warning_reasons(name)
        labels, positions = _used(frame, pd.Index(list(flagged), dtype="int64"))
        # the reason code alone (spec §6: `end_before_start`), like cleaning's reasons; the
        # check that flagged the row is named in the Data Docs
        marks = [reasons[x] for x in labels]
        if positions is None or not {"bucket", "reason"} <= set(frame.columns):
            frame.loc[labels, "bucket"] = QUARANTINED  # labels that repeat: by label
            frame.loc[labels, "reason"] = marks
        else:
            frame.iloc[positions, frame.columns.get_loc("bucket")] = QUARANTINED
            frame.iloc[positions, frame.columns.get_loc("reason")] = marks
        quarantined[name] = len(labels)
    if quarantined["medications"]:
        used = cleaned.drug_matches["row"].isin(
            cleaned.medications.index[cleaned.medications["bucket"] == USED]
        )
        cleaned.drug_matches = cleaned.drug_matches.loc[used].reset_index(drop=True)
    return quarantined


def _used_rows(frame: pd.DataFrame, candidates: pd.Index) -> pd.Index:
    """The labels of `candidates` that `frame` holds with bucket `used`, in their order."""
    return _used(frame, candidates)[0]


def _used(frame: pd.DataFrame, candidates: pd.Index) -> tuple[pd.Index, np.ndarray | None]:
    """`_used_rows`, and their positions in `frame` (None when its labels repeat). Their rows
    are found by position: a range index finds them by arithmetic and labels that run upwards
    (a partition's rows, in read order) by halving, not by hashing the frame's labels."""
    if not frame.index.is_unique:
        candidates = candidates[candidates.isin(frame.index)]
        return candidates[(frame.loc[candidates, "bucket"] == USED).to_numpy()], None
    positions = label_positions(frame.index, candidates)
    held = positions >= 0
    used = (frame["bucket"].iloc[positions[held]] == USED).to_numpy()
    return candidates[held][used], positions[held][used]


def label_positions(index: pd.Index, labels: pd.Index) -> np.ndarray:
    """The position in the unique `index` of each of `labels` (-1: not held): by halving
    when `index` runs upwards (a partition's rows, in read order), else by hashing (a range
    index by arithmetic)."""
    if isinstance(index, pd.RangeIndex) or not index.is_monotonic_increasing or not len(index):
        return index.get_indexer(labels)
    values = index.to_numpy()
    wanted = labels.to_numpy()
    at = np.searchsorted(values, wanted).clip(0, len(values) - 1)
    return np.where(values[at] == wanted, at, -1)
