"""The run's recipe: its stages, declared once, in the order data flows.

    read -> clean -> contracts -> screen -> history -> publish

Each stage is a plain function of the run context and earlier stages' typed outputs
(`hyposcreen.context`): ReadTables -> CleanedInputs -> ContractReport -> ScreenResult ->
ScreenResult (listing after the nightly history) -> RunSummary. `STAGES` lists them with the
outputs they take; a runner walks that list and says only *how* (in this process:
`runners.in_process`; one patient-hash partition at a time or on Dask:
`runners.partitioned`, which runs these same stages up to screen per partition; as Prefect
tasks: flows/nightly.py). Adding a runner touches no stage; adding a stage touches no runner.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hyposcreen.clean import USED
from hyposcreen.clean.unnamed_drugs import UNNAMED_DRUGS
from hyposcreen.context import (
    CleanedInputs,
    ContractReport,
    ReadTables,
    RunContext,
    RunSummary,
)
from hyposcreen.decimal_commas import decimal_comma_count, hinting_decimal_commas
from hyposcreen.nightly.late_results import mark_late_results
from hyposcreen.recipe_clean import held_sizes, window_events, window_labs_cut
from hyposcreen.recipe_contracts import (
    apply_contract_warnings,
    ask_worker,
    read_rows,
    run_contracts,
    sent_frames,
    validation_frames,
    worker_report,
)
from hyposcreen.recipe_lab_counts import window_delivery_counts, window_lab_counts
from hyposcreen.recipe_publish import write_results
from hyposcreen.recipe_quarantine import quarantined_rows
from hyposcreen.recipe_read import ingest_table as ingest_table  # the partitioned spill's
from hyposcreen.recipe_read import read_tables, window_tables
from hyposcreen.recipe_screen import window_used_labs
from hyposcreen.recipe_screen_windows import screened_window
from hyposcreen.report.attrition import result_steps, with_case_steps
from hyposcreen.report.coverage import combine as combine_coverage
from hyposcreen.rules.condition_hints import SNOMED_HINTS
from hyposcreen.run_progress import contracts_line, read_line
from hyposcreen.screen.cases import (
    DIAGNOSIS_COLUMNS,
    LAB_COLUMNS,
    MEDICATION_COLUMNS,
    ScreenResult,
    order_cases,
)
from hyposcreen.screen.cases import screen as screen_patients
from hyposcreen.screen.incremental import apply_listing_history, grading_key
from hyposcreen.site_words import SiteWords
from hyposcreen.validate import worker_client

# --- read ------------------------------------------------------------------------------------


def read(ctx: RunContext) -> ReadTables:
    """Every required table, and the patients table when the input has one (recipe_read);
    cut from the input read once for several windows when the context carries that read.
    A run allowed a contracts worker starts it here, so that it imports GX beside the read
    (with ``auto`` not for a small input: its ~1 s to start would be waited for)."""
    if ctx.shared_read is not None:
        with ctx.timed("read_slice"):
            read = window_tables(ctx.shared_read, ctx)
    else:
        from hyposcreen.runners.spill import worth_a_worker

        worker_client.start(lambda: worth_a_worker(ctx))
        read = read_tables(ctx)
    ctx.say(read_line(read.tables.values()))
    return read


# --- clean -----------------------------------------------------------------------------------


def clean(ctx: RunContext, read: ReadTables) -> CleanedInputs:
    """Spec §3 buckets for every row (the reconciliation is derived from them)."""
    tables = read.tables
    with ctx.timed("clean"):
        window = ctx.settings.window
        words = ctx.words or SiteWords(frozenset(), ())
        labs, cut = window_labs_cut(ctx, read, words)
        seen = None
        if ctx.state is not None:
            labs, seen = mark_late_results(labs, window, ctx.rules, ctx.mapping.timezone, ctx.state)
            cut = None  # the rows counted are the marked ones
        in_window = window_events(ctx, read, words)
        events = in_window.window_free
        meds, matches, diagnoses = (
            in_window.medications,
            in_window.drug_matches,
            in_window.diagnoses,
        )
        cleaned = {"labs": labs, "medications": meds, "diagnoses": diagnoses}
        patients = tables.get("patients")
        return CleanedInputs(
            labs=labs,
            medications=meds,
            drug_matches=matches,
            diagnoses=diagnoses,
            patients=patients.frame if patients is not None else None,
            read_not_relevant={name: tables[name].not_relevant for name in cleaned},
            rows_in={name: tables[name].rows_in for name in cleaned},
            seen_results=seen,
            coverage=combine_coverage(
                [*window_lab_counts(ctx, labs, cut, words), *events.coverage]
            ),
            drug_names=(len(events.unknown_drugs), events.named_drugs, events.code_like_drugs),
            delivery_counts=window_delivery_counts(ctx, labs, cut, meds, diagnoses, words)
            | {  # counted once per read
                SNOMED_HINTS: events.diagnoses.snomed_hints,
                UNNAMED_DRUGS: {"medications": events.medications.unnamed_drugs},
            },
            lab_cut=cut,
        )


# --- contracts -------------------------------------------------------------------------------


def contracts(ctx: RunContext, cleaned: CleanedInputs) -> ContractReport:
    """Great Expectations contracts on the columns the screen reads (recipe_contracts):
    critical failures stop the run; rows failing a warning expectation that cleaning had kept
    are quarantined with the expectation as reason. Data Docs go to <out>/validation/.

    With a contracts worker (validate/worker_client.py) the tables are only sent here: the
    report is `pending`, and the screen stage takes it once it has screened meanwhile."""
    with ctx.timed("validate"):
        asked = ask_worker(ctx, lambda: sent_frames(ctx, cleaned))
        if asked is not None:
            return ContractReport({}, pending=asked)
        frames = validation_frames(cleaned)
        of_read = read_rows(ctx, cleaned)
        return _judged(ctx, cleaned, lambda: run_contracts(ctx, frames, rows_of_read=of_read))


def _judged(
    ctx: RunContext, cleaned: CleanedInputs, validated: Callable[[], Any]
) -> ContractReport:
    """The report `validated()` gives, its warning rows quarantined in `cleaned`; a stop for
    results all written with decimal commas says so."""
    with hinting_decimal_commas(lambda: decimal_comma_count(cleaned.labs, ctx.mapping.decimal)):
        report = validated()
    quarantined = apply_contract_warnings(report, cleaned)
    summary = report.summary()
    summary["rows_quarantined_by_contract"] = quarantined
    ctx.say(contracts_line(summary))
    return ContractReport(summary)


def _settled(ctx: RunContext, cleaned: CleanedInputs, contracts: ContractReport) -> bool:
    """The worker's report taken into `contracts` (rows quarantined as in `contracts`);
    whether it quarantined any row the screen used."""
    asked, contracts.pending = contracts.pending, None
    with ctx.timed("validate"):
        report = _judged(
            ctx, cleaned, lambda: worker_report(ctx, asked, lambda: validation_frames(cleaned))
        )
    contracts.summary = report.summary
    return any(report.summary["rows_quarantined_by_contract"].values())


# --- screen ----------------------------------------------------------------------------------


def screen(
    ctx: RunContext, cleaned: CleanedInputs, contracts: ContractReport | None = None
) -> ScreenResult:
    """The spec's screen of the usable rows; the attrition holds the result steps.

    Contracts still `pending` on the worker: the rows are screened meanwhile, then the report
    is taken; in the rare night its warnings quarantined a row, screened again. A critical
    failure stops the run as before the screen (also when the screen itself failed)."""
    if contracts is None or contracts.pending is None:
        return _screen(ctx, cleaned)
    try:
        found = _screen(ctx, cleaned)
    except Exception:  # an interrupt is not held up by the contracts (nor GX's import here)
        _settled(ctx, cleaned, contracts)  # the contracts' stop, if any, is the run's
        raise
    return _screen(ctx, cleaned) if _settled(ctx, cleaned, contracts) else found


def _screen(ctx: RunContext, cleaned: CleanedInputs) -> ScreenResult:
    """The screen of the cleaned rows now used. Only the columns the screen reads are taken
    along (no copy of the wide cleaned tables' text)."""
    with ctx.timed("screen"):
        labs = cleaned.labs[[c for c in (*LAB_COLUMNS, "bucket") if c in cleaned.labs.columns]]
        found = screened_window(ctx, labs, cleaned)  # a loop's windows: screened at once
        if found is not None:
            found.attrition = result_steps(labs, found.sodium_results, ctx.settings.window)
            return found
        used = (labs["bucket"] == USED).to_numpy(dtype=bool)
        cut = window_used_labs(ctx, labs, used)  # windows of one read: prepared once
        used_labs, lab_rows, known = cut if cut is not None else (labs.loc[used], None, None)
        meds, diagnoses = cleaned.medications, cleaned.diagnoses
        result = screen_patients(
            used_labs,
            meds[[c for c in MEDICATION_COLUMNS if c in meds]],  # the cases' used rows taken
            cleaned.drug_matches,
            diagnoses[[c for c in DIAGNOSIS_COLUMNS if c in diagnoses]],
            ctx.rules,
            ctx.profile,
            ctx.settings.window,
            ctx.settings.glucose_factor,
            ctx.mapping.timezone,
            lab_rows,
            known,
            used_events=(_used(meds), _used(diagnoses)),
        )
        result.attrition = result_steps(labs, result.sodium_results, ctx.settings.window)
        return result


def _used(table: pd.DataFrame) -> np.ndarray:
    return (table["bucket"] == USED).to_numpy(dtype=bool)


# --- history ---------------------------------------------------------------------------------


def history(ctx: RunContext, screened: ScreenResult) -> ScreenResult:
    """Nightly, with state: a case listed before stays listed only when it worsened since.
    Then the funnel's case steps (a stateless run has no history to apply)."""
    with ctx.timed("history"):
        if ctx.state is not None:
            past = ctx.state.history(ctx.settings.window.start)
            grading = grading_key(ctx.rules, ctx.profile.name, ctx.settings.glucose_factor)
            window, rules = ctx.settings.window, ctx.rules
            cases = apply_listing_history(
                screened.cases, past.last_listing, past.reviewed, window, rules, grading
            )
            screened.cases = order_cases(cases)
        screened.attrition = with_case_steps(screened.attrition, screened.cases)
        return screened


# --- publish ---------------------------------------------------------------------------------


def publish(
    ctx: RunContext,
    read: ReadTables,
    cleaned: CleanedInputs,
    listing: ScreenResult,
    contracts: ContractReport,
) -> RunSummary:
    """The run's outputs, swapped in whole (recipe_publish); nightly, then the state."""
    with ctx.timed("write"):
        quarantine = quarantined_rows(ctx, cleaned)
    return write_results(
        ctx,
        read.tables,
        listing,
        contracts.summary,
        cleaned.patients,
        quarantine,
        cleaned.reconciled(held_sizes(ctx)),
        cleaned.seen_results,
        cleaned.coverage,
        cleaned.drug_names,
        delivery_counts=cleaned.delivery_counts,
    )


# --- the list a runner walks -----------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    """One step of the recipe: `run(ctx, *outputs of the stages named in inputs)`; its own
    output is known by the stage's name."""

    name: str
    run: Callable[..., Any]
    inputs: tuple[str, ...] = ()


STAGES: tuple[Stage, ...] = (
    Stage("read", read),
    Stage("clean", clean, ("read",)),
    Stage("contracts", contracts, ("clean",)),
    Stage("screen", screen, ("clean", "contracts")),
    Stage("history", history, ("screen",)),
    Stage("publish", publish, ("read", "clean", "history", "contracts")),
)
