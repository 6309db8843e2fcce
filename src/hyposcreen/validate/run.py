"""Validation of the canonical input tables against their suites, with the values the suites
take from the loaded rules (units, plausible ranges) filled in for the run."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from functools import partial as partial_call
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hyposcreen.ingest.canonical import REQUIRED_TABLES, IngestedTable
from hyposcreen.rules.loader import RuleSet
from hyposcreen.validate.context import Validated, run_jobs
from hyposcreen.validate.docs import make_offline
from hyposcreen.validate.gx_pages import write_pages
from hyposcreen.validate.outcomes import ExpectationOutcome, ValidationReport, plain_outcome
from hyposcreen.validate.remembered import outcomes_once, table_view_once
from hyposcreen.validate.results import read_outcomes
from hyposcreen.validate.rule_values import packaged_rules, rule_parameters
from hyposcreen.validate.suites import (
    TABLES,
    build_job,
    load_suite_spec,
    share_parameters,
)
from hyposcreen.validate.tables import PartialTable, cited_labels
from hyposcreen.validate.view_rows import view_of_rows
from hyposcreen.validate.views import table_view, unpack

# The suite parameters that change from one window to the next: left in the suites as
# {"$PARAMETER": name} and handed to GX with each validation, so that a table's suite (and its
# Data Docs page) is the same every night of a backfill; GX substitutes the night's value.
NIGHT_PARAMETERS = ("window_end",)


def validate_tables(
    frames: Mapping[str, pd.DataFrame | IngestedTable | PartialTable],
    *,
    window_end: pd.Timestamp,
    thresholds: Mapping[str, float] | None = None,
    docs_dir: Path | None = None,
    present_columns: Mapping[str, Iterable[str]] | None = None,
    code_system_aliases: Mapping[str, str] | None = None,
    suites_dir: Path | None = None,
    rules: RuleSet | None = None,
    rule_values: Mapping[str, Any] | None = None,
    timezone: str = "UTC",
    read_rows: Mapping[str, tuple[pd.DataFrame, np.ndarray]] | None = None,
) -> ValidationReport:
    """Validate the canonical tables against their suites.

    ``frames`` maps table name to its frame, or to the IngestedTable (whose ``present_columns``
    is then used). Labs must carry ``analyte`` and ``value_num`` (parsed value in canonical
    units, NaN when non-numeric or the unit is wrong; *not* yet blanked for implausible rows),
    else ValueError. ``present_columns`` (table -> columns the source really had) makes a
    canonical column that ingest filled with nulls count as missing. ``window_end`` bounds
    specimen times. ``thresholds`` overrides DEFAULT_THRESHOLDS. ``code_system_aliases``
    (RuleSet.code_system_aliases; default: the packaged rules) maps code-system spellings to
    their canonical names before the set check. ``rules`` (the run's RuleSet, a site's
    ``--rules`` copy included; default: the packaged rules) gives the accepted units per
    analyte and the plausible ranges the suites check, so no suite contradicts the rules;
    ``rule_values`` (``rule_parameters(rules)``, as a contracts worker is told them) stands in
    for it. ``timezone`` (the site's) turns the times a column-pair check compares into
    instants on a night with a repeated hour's second occurrences (validate/repeated_hours.py).
    A labs frame that carries the clean stage's ``reason`` column (the pipeline validates the
    cleaned tables) has its non-numeric and duplicate shares taken from those decisions
    instead of derived again. With ``docs_dir`` GX Data Docs are written
    there (give each run its own folder); ``report.docs_index`` is its index.html.
    ``read_rows`` (table -> the frame of the loop's read and the positions of the table's
    rows in it) lets a loop of windows cut the table's view from the read's (view_rows.py).
    """
    started = time.perf_counter()
    shares = share_parameters(thresholds)  # the limits and the `mostly` of the rate checks
    unknown = sorted(set(frames) - set(TABLES))
    if unknown:
        raise ValueError(f"Unknown table(s) {', '.join(unknown)}; expected {', '.join(TABLES)}.")
    params: dict[str, Any] = {
        "window_end": _timestamp(window_end),
        **shares,
        **(rule_values if rule_values is not None else rule_parameters(rules or packaged_rules())),
    }
    if code_system_aliases is None:
        code_system_aliases = (rules or packaged_rules()).code_system_aliases
    outcomes: list[ExpectationOutcome] = []
    skipped: list[dict[str, str]] = []
    for table in REQUIRED_TABLES:
        if table not in frames:
            outcomes.append(
                plain_outcome(
                    table,
                    "hyposcreen.table_present",
                    None,
                    f"table {table} is missing",
                    "required_table",
                )
            )
    checked: list[ExpectationOutcome] = []  # GX's outcomes, after every table's plain ones
    validated: list[Validated] = []
    for table in TABLES:  # one table at a time: its frame and view are let go before the next
        if table not in frames:
            continue
        given = frames[table]
        partial = given if isinstance(given, PartialTable) else None
        frame, present = unpack(
            partial.frame if partial else given, (present_columns or {}).get(table)
        )
        described = partial.columns if partial else frame  # every column: names, dtypes
        spec = load_suite_spec(table, suites_dir)
        build = partial_call(
            table_view, table, frame, present, spec, code_system_aliases, described, timezone
        )
        cut = (read_rows or {}).get(table) if partial is None else None
        if partial is None:  # a frame of a shared read: the same arrays every window
            inputs = (*_view_inputs(spec, present, code_system_aliases), timezone)
            of_read = partial_call(
                table_view, table, present=present, spec=spec,
                code_system_aliases=code_system_aliases, timezone=timezone,
            )  # fmt: skip
            rows = cut and view_of_rows(table, *cut, frame, spec, inputs, of_read)
            view, names, pre = rows or table_view_once(table, frame, inputs, build)
        else:  # gathered anew from the partitions for each window: nothing to keep
            view, names, pre = build()
        outcomes.extend(pre)
        quoted = _quoted_columns(described, spec)  # a partial table's are read after GX
        job = build_job(
            table, described[quoted], view, spec, params, skipped, names, NIGHT_PARAMETERS
        )
        rows_at = partial.rows if partial is not None else None
        # what GX does not see and no outcome quotes: let go (a partial table's gathered
        # columns too, those the view does not share)
        del frame, view, given, build, partial
        item = _one_run(run_jobs([job])[0], validated[0] if validated else None)
        if rows_at is not None:  # the few rows the outcomes quote
            job.frame = rows_at(cited_labels(item.result), quoted)
        read = partial_call(read_outcomes, job, item.result)
        checked.extend(outcomes_once(job, item.result, read))  # a result reused: read once
        validated.append(item)
        del job
    outcomes.extend(checked)
    docs_index = None
    if docs_dir is not None:
        write_pages(validated, Path(docs_dir))
        docs_index = make_offline(
            Path(docs_dir), [o.as_dict() for o in outcomes], "hyposcreen: validation of the inputs"
        )
    return ValidationReport(outcomes, skipped, time.perf_counter() - started, docs_index)


def _view_inputs(
    spec: dict[str, Any], present: set[str] | None, aliases: Mapping[str, str] | None
) -> tuple[Any, ...]:
    """What a table's view depends on besides its frame's arrays (validate/remembered.py):
    the suite, the columns the source had and the code-system aliases."""
    return (
        json.dumps(spec, sort_keys=True, default=repr),
        None if present is None else tuple(sorted(present)),
        None if aliases is None else tuple(sorted(aliases.items())),
    )


def _quoted_columns(frame: pd.DataFrame, spec: dict[str, Any]) -> list[str]:
    """The frame's columns an outcome quotes after GX has run: the examples' `file:row` and
    the suite's `detail_columns` (validate/results.py)."""
    wanted = {"source_file", "source_row"}
    for expectation in spec["expectations"]:
        wanted.update(expectation.get("meta", {}).get("detail_columns", []))
    return [c for c in frame.columns if c in wanted]


def _one_run(item: Validated, first: Validated | None) -> Validated:
    """The tables are validated one after the other (one table's frame and view in memory at a
    time), as one run: every result carries the first one's run id and validation time, as the
    results of one checkpoint do (the Data Docs file them under one run time)."""
    if first is not None:
        item.result.meta["run_id"] = first.result.meta["run_id"]
        item.result.meta["validation_time"] = first.result.meta["validation_time"]
    return item


def _timestamp(value: Any) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    if stamp is pd.NaT:
        raise ValueError("window_end must be a timestamp")
    if stamp.tzinfo is not None:
        raise ValueError("window_end must be naive site-local time, like the frames")
    return stamp
