"""The judges of a screened window, composed: whether its tables' key times read well enough to
publish it (`screenable_times`, exit 3 when not) and every reason its list should not be
trusted as a quiet night (`run_warnings`, exit 4). The publish stage and `hyposcreen audit`
take both, each warning's own rule living with its judge.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from hyposcreen.adapters.time_columns import TimeColumns, time_columns
from hyposcreen.clean.unnamed_drugs import DRUG_COLUMNS, UNNAMED_DRUGS
from hyposcreen.context import RunContext
from hyposcreen.dangling_lab_items import dangling_item_warnings
from hyposcreen.deleted_reference_warnings import (
    deleted_reference_warnings,
    unordered_deletion_warnings,
)
from hyposcreen.delivery_counts import DeliveryCounts, delivery_warnings
from hyposcreen.dropped_column_warnings import delivered_columns, dropped_column_warnings
from hyposcreen.empty_file_warnings import empty_part_warnings
from hyposcreen.excel_form_warnings import excel_form_warnings
from hyposcreen.ingest.canonical import IngestedTable
from hyposcreen.loinc_shape_warnings import loinc_shape_warnings
from hyposcreen.mimic_dictionary_rows import dictionary_row_warnings
from hyposcreen.nightly.unchanged_inputs import unchanged_inputs
from hyposcreen.omop_vocabulary_gaps import vocabulary_gap_warnings
from hyposcreen.quarantine_text import Matches
from hyposcreen.quarantine_warnings import quarantine_warnings
from hyposcreen.quarantined_low_sodiums import low_sodium_rows, quarantined_low_sodium_warnings
from hyposcreen.run_warnings import RunWarning, collect_warnings
from hyposcreen.screen.cases import ScreenResult
from hyposcreen.unidentified_events import unidentified_event_warnings, unnamed_drug_warnings
from hyposcreen.unreadable_times import unreadable_time_stop


def screenable_times(
    ctx: RunContext, quarantine: pd.DataFrame, reconciliation: dict[str, dict[str, Any]]
) -> tuple[Matches, TimeColumns]:
    """The stop of a window one of whose tables' key times mostly do not read (an InputError,
    exit 3: unreadable_times.unreadable_time_stop, with the rules' `contracts` limits), which a
    run applies before it publishes and `hyposcreen audit` once per read; the Matches of the
    quarantine it read and the source's names of the time columns, which the warnings take."""
    where = Matches(quarantine)  # read once for that stop and the warnings
    times = time_columns(ctx.settings.source, ctx.mapping)  # the source's names of time columns
    unreadable_time_stop(quarantine, reconciliation, ctx.rules.contracts, where, times)
    return where, times


def run_warnings(
    ctx: RunContext,
    tables: dict[str, IngestedTable],
    result: ScreenResult,
    validation: dict[str, Any] | None,
    quarantine: pd.DataFrame,
    reconciliation: dict[str, dict[str, Any]],
    drug_names: tuple[int, int, int] | None = None,
    delivery_counts: DeliveryCounts | None = None,
    where: Matches | None = None,
    times: TimeColumns | None = None,
) -> list[RunWarning]:
    """Every reason a window's screen should not be trusted as quiet (exit 4) that its tables,
    result, quarantine rows and reconciliation tell (run_warnings, quarantine_warnings,
    delivery_counts, empty parts, loinc_shapes); `hyposcreen audit` judges its months so too.
    With nightly state, the sodium count against the trailing nights'. `where` and `times`: the
    Matches and the source's names of the time columns the run's stop took, when it did."""
    settings, limits = ctx.settings, ctx.rules.warnings
    times = times or time_columns(settings.source, ctx.mapping)
    where = where or Matches(quarantine)
    state = (ctx.state.path, ctx.mapping.site, settings.window.start) if ctx.state else None
    found = collect_warnings(
        limits,
        result.attrition,
        reconciliation,
        validation,
        drug_names,
        state,
        lab_names=settings.source == "canonical",
        vocabulary_tables=settings.source == "omop",
    ) + quarantine_warnings(quarantine, reconciliation, limits, ctx.mapping.decimal, where, times)
    found += quarantined_low_sodium_warnings(quarantine, ctx.rules, ctx.profile, where)
    found += deleted_reference_warnings(quarantine, where, low_sodium_rows(quarantine, ctx.profile))
    found += unordered_deletion_warnings(tables)
    labs = tables.get("labs")
    found += delivery_warnings(delivery_counts, limits, labs.source_counts if labs else None)
    found += dangling_item_warnings(labs.source_counts if labs else None)
    found += dictionary_row_warnings(tables)
    found += vocabulary_gap_warnings(tables)
    found += empty_part_warnings({name: t.files for name, t in tables.items()}, settings.input_dir)
    nightly = {n: t for n, t in tables.items() if ctx.mapping.table(n).refreshed_nightly}
    found += [
        RunWarning(*w)
        for w in unchanged_inputs(ctx.state, settings.window, nightly, ctx.mapping.timezone)
    ]
    found += unidentified_event_warnings(tables, limits, delivery_counts)
    if settings.source == "canonical":  # other sources judge their own (unidentified_events)
        meds = tables.get("medications")
        found += unnamed_drug_warnings(
            (delivery_counts or {}).get(UNNAMED_DRUGS),
            limits,
            meds.present_columns if meds is not None else DRUG_COLUMNS,
        )
    for name, table in tables.items():
        found += excel_form_warnings(name, table.excel_forms)
    if "labs" in tables:
        found += loinc_shape_warnings(tables["labs"].loinc_shapes, limits)
    return found + dropped_column_warnings(state, delivered_columns(tables))
