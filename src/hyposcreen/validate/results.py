"""GX's validation results read back into ExpectationOutcomes: offending rows as frame labels
(through the ``_row`` index), examples as ``file:row``, and details that quote counts of
distinct values, never values from the extract."""

from __future__ import annotations

from typing import Any

import pandas as pd

from hyposcreen.validate.outcomes import MAX_EXAMPLES, ROW_ID, ExpectationOutcome
from hyposcreen.validate.suites import Job, detail_text


def read_outcomes(job: Job, suite_result: Any) -> list[ExpectationOutcome]:
    return [_outcome(job, r) for r in suite_result.results]


def _outcome(job: Job, result: Any) -> ExpectationOutcome:
    config = result.expectation_config
    meta = dict(config.meta or {})
    kwargs = dict(config.kwargs or {})
    column = kwargs.get("column") or kwargs.get("column_A")
    severity = str(meta.get("severity", "critical"))
    reason = str(meta.get("reason", ""))
    detail = detail_text(str(meta.get("detail", config.type)), job.params)
    error = _exception_message(result.exception_info)
    if error is not None:
        return ExpectationOutcome(
            table=job.table,
            expectation=config.type,
            column=column,
            severity="critical",
            success=False,
            unexpected_count=0,
            unexpected_percent=0.0,
            example_rows=[],
            row_labels=[],
            detail=f"{detail}: could not be evaluated ({error})",
            reason="validation_error",
        )
    data = dict(result.result or {})
    if config.type == "expect_table_columns_to_match_set" and not result.success:
        missing = data.get("details", {}).get("mismatched", {}).get("missing", [])
        column, detail = ", ".join(missing), f"{detail}: {', '.join(missing)}"
    labels = index_labels(data.get("unexpected_index_list"))
    count = int(data.get("unexpected_count") or len(labels))
    percent = float(data.get("unexpected_percent") or 0.0)
    if meta.get("rate"):
        detail = f"{detail}: {percent:.1f}%"
    success = bool(result.success)
    if not success and labels and meta.get("detail_columns"):
        detail += _observed(job.frame, labels[:MAX_EXAMPLES], list(meta["detail_columns"]))
    return ExpectationOutcome(
        table=job.table,
        expectation=config.type,
        column=column,
        severity=severity,
        success=success,
        unexpected_count=count,
        unexpected_percent=percent,
        example_rows=[] if success else _examples(job, labels[:MAX_EXAMPLES]),
        row_labels=labels if severity == "warning" and not success else [],
        detail=detail,
        reason=reason,
    )


def _observed(frame: pd.DataFrame, labels: list[int], columns: list[str]) -> str:
    """' (3 distinct values of unit in the rows cited)': how varied the offending values are,
    never the values themselves (they come from the extract and may hold identifiers; the
    outcome goes to the manifest, the logs and the Data Docs, which hold counts only)."""
    columns = [c for c in columns if c in frame.columns]
    if not columns:
        return ""
    rows = _rows(frame, labels, columns)
    distinct = len(rows.astype("str").drop_duplicates())
    names = ", ".join(columns)
    plural = "s" if distinct != 1 else ""
    return f" ({distinct} distinct value{plural} of {names} in the rows cited)"


def _exception_message(info: Any) -> str | None:
    """GX reports errors either flat or per metric; any raised exception counts."""
    if not isinstance(info, dict):
        return None
    if "raised_exception" in info:
        return str(info.get("exception_message")) if info.get("raised_exception") else None
    for value in info.values():
        message = _exception_message(value)
        if message is not None:
            return message
    return None


def index_labels(index_list: Any) -> list[int]:
    """unexpected_index_list comes as [{"_row": [ids...]}] or as [{"_row": id, ...}, ...]."""
    labels: list[int] = []
    for item in index_list or []:
        value = item.get(ROW_ID) if isinstance(item, dict) else item
        if isinstance(value, list):
            labels.extend(int(v) for v in value)
        elif value is not None:
            labels.append(int(value))
    return labels


def _examples(job: Job, labels: list[int]) -> list[str]:
    """The `file:row` of the rows at `labels`, as the manifest, Data Docs and a stop quote
    them: a FHIR JSON document by its place alone (`(a JSON document):entry[3]`), for its
    name may be its patient's (Synthea's `Given_Family_<id>.json`)."""
    if not labels:
        return []
    frame = job.frame
    if {"source_file", "source_row"}.issubset(frame.columns):
        from hyposcreen.adapters.fhir_documents import message_name

        rows = _rows(frame, labels, ["source_file", "source_row"])
        files = [message_name(str(f)) for f in rows["source_file"]]
        return [f"{f}:{r}" for f, r in zip(files, rows["source_row"], strict=True)]
    return [f"{job.table}:{label + 1}" for label in labels]


def _rows(frame: pd.DataFrame, labels: list[int], columns: list[str]) -> pd.DataFrame:
    """`frame.loc[labels, columns]`: taken by position when the frame's labels are unique and
    hold every label (pandas' label lookup of a list of rows and columns costs ~1 ms; a few
    example rows per failing expectation, every night)."""
    index = frame.index
    if index.is_unique:
        positions = index.get_indexer(labels)
        if len(positions) and (positions >= 0).all():
            taken = {column: frame[column].take(positions) for column in columns}
            return pd.DataFrame(taken, index=index.take(positions), copy=False)
    return frame.loc[labels, columns]
