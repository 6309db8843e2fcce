"""The publish stage: the outputs of a run, built in a hidden folder and swapped in whole.

review_list.csv/.parquet/.html/.xlsx, evidence.csv, quarantine.csv, coverage.csv and
run_manifest.json; then (nightly) the state is advanced past the window. `write_results` takes
the screen result, quarantine rows and reconciliation of one in-memory run or of the merge of
a partitioned run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from hyposcreen.arrow_columns import is_listed, text_on_every_row
from hyposcreen.cli_signals import hold_stops
from hyposcreen.context import RunContext, RunSummary
from hyposcreen.delivery_counts import DeliveryCounts
from hyposcreen.dropped_column_warnings import delivered_columns
from hyposcreen.errors import OwnOutputBroken
from hyposcreen.ingest.canonical import IngestedTable
from hyposcreen.ingest.files import check_no_table_parts_added
from hyposcreen.ingest.read_identities import check_read_files_unchanged
from hyposcreen.nightly.remember import remember_run
from hyposcreen.recipe_warnings import run_warnings, screenable_times
from hyposcreen.report.coverage import combine as combine_coverage
from hyposcreen.report.coverage import for_csv as coverage_for_csv
from hyposcreen.report.coverage import page_rows as coverage_page_rows
from hyposcreen.report.coverage import reader_counts
from hyposcreen.report.display import band_text, drug_names, page_rule_texts
from hyposcreen.report.evidence import evidence_for_csv
from hyposcreen.report.folders import publish_folder, published_paths, swaps_durable
from hyposcreen.report.manifest import build_manifest, compute_run_id
from hyposcreen.report.patient_identifiers import conflicting_identifiers
from hyposcreen.report.quarantine import for_csv as quarantine_for_csv
from hyposcreen.report.review_list import build_review_list, evidence_table, to_text
from hyposcreen.report.review_page import PageInfo, write_review_views
from hyposcreen.report.writers import (
    json_text,
    synced_together,
    write_csv,
    write_json,
    write_parquet,
)
from hyposcreen.run_warnings import RunWarning, step_count
from hyposcreen.screen.cases import ScreenResult


def write_results(
    ctx: RunContext,
    tables: dict[str, IngestedTable],
    result: ScreenResult,
    validation: dict[str, Any] | None,
    patients: pd.DataFrame | None,
    quarantine: pd.DataFrame,
    reconciliation: dict[str, dict[str, Any]],
    seen_results: pd.DataFrame | None = None,
    coverage: pd.DataFrame | None = None,
    drug_names: tuple[int, int, int] | None = None,
    release_memory: Callable[[], None] | None = None,
    delivery_counts: DeliveryCounts | None = None,
) -> RunSummary:
    """Write the outputs of a run from its screen result, quarantine rows and reconciliation
    (one frame per table, or the merge of a partitioned run). `release_memory` (a runner's,
    for long lists) hands what the review list, its contract and the CSV writers freed back
    to the system before the page and workbook are made (their slices bound their own peak),
    so the step's peak is not the sum of their leftovers."""
    between_writers = release_memory or (lambda: None)
    from hyposcreen.validate.gx import review_list_check

    settings, window = ctx.settings, ctx.settings.window
    # a table whose key times mostly do not read cannot be screened: nothing is published
    where, times = screenable_times(ctx, quarantine, reconciliation)
    # nor one of a delivery still being written (a file grew since it was read)
    check_read_files_unchanged(r for t in tables.values() for r in (*t.files, *t.documents_read))
    for table in tables.values():  # nor a part written into a table's folder since
        check_no_table_parts_added(table)
    with ctx.timed("write"), synced_together():  # every file on disk before the block ends
        out = ctx.staging_dir()
        run_id = compute_run_id(settings, ctx.rules, ctx.profile, tables)
        coverage = combine_coverage(
            [_reader_counts(ctx, name, t.unrecognised) for name, t in tables.items()]
            + ([coverage] if coverage is not None else [])
        )
        warnings = run_warnings(
            ctx, tables, result, validation, quarantine, reconciliation, drug_names,
            delivery_counts, where, times,
        )  # fmt: skip
        evidence = evidence_table(result)
        review = build_review_list(
            result,
            ctx.rules,
            ctx.profile.name,
            run_id,
            window.start,
            window.end,
            patients,
            ctx.mapping.allow_identifiers,
            evidence,
            ctx.mapping.timezone,
        )
        if ctx.mapping.allow_identifiers and patients is not None:
            warnings += conflicting_identifiers(
                patients, review["patient_id"], references=settings.source != "fhir"
            )
        # checked by the contracts worker while the files are written into the staging
        # folder, which is published only once the list kept its contract
        labels = [band.label for band in ctx.profile.bands]
        contract_of = review_list_check(review, list(ctx.rules.risk_factor_vocabulary), labels)
        review_csv = write_csv(out / "review_list.csv", to_text(review))
        write_parquet(out / "review_list.parquet", review)
        evidence = evidence.loc[is_listed(evidence["patient_id"], review["patient_id"])]
        stamp = _Stamp(ctx.profile.name, ctx.rules.version)
        write_csv(out / "evidence.csv", stamp(evidence_for_csv(evidence, ctx.mapping.timezone)))
        info = page_info(ctx, run_id, warnings, coverage)
        between_writers()  # what the list, its contract and the CSVs left, before the views
        write_review_views(out, review, result.sodium_results, evidence, info)
        written = stamp(quarantine_for_csv(quarantine, ctx.mapping.timezone))
        write_csv(out / "quarantine.csv", written, blocks_by="table")  # same rows nightly
        write_csv(out / "coverage.csv", stamp(coverage_for_csv(coverage)))
        contract = contract_of()
        if contract.critical_failures():
            problems = "; ".join(o.detail for o in contract.critical_failures())
            raise OwnOutputBroken(
                f"The review list broke its own contract ({problems}); not written. This is a "
                "bug in hyposcreen, not in your data: rerun with HYPOSCREEN_DEBUG=1 and report it."
            )
        validation = {**(validation or {}), "review_list": contract.summary()}
        validation = published_paths(validation, out, settings.out_dir)  # not .partial-
    execution = {
        "timings": ctx.timings,
        "peak_rss_mb": ctx.peak_rss_mb,
        "partitions": ctx.partitions,
        "executor": ctx.executor,
    }
    manifest = build_manifest(
        settings,
        ctx.rules,
        ctx.profile,
        ctx.mapping,
        tables,
        reconciliation,
        result.attrition,
        review,
        run_id,
        validation,
        execution,
    )
    manifest["warnings"] = [w.as_dict() for w in warnings]
    # its text made now (it holds the context's timings, which go on changing), written
    # last: in a loop it is written and the folder swapped on the fsync thread
    manifest_text = json_text(manifest)
    hold_stops()  # folder and state, all or nothing: a stop waits (runners.window_loop)
    final = publish_folder(
        out, settings.out_dir, lambda: write_json(out / "run_manifest.json", manifest_text)
    )
    ctx.staging = None
    if ctx.state is not None:  # only once the outputs are in place: a crash never advances it
        swaps_durable()  # and on disk (a loop's swap is synced on its fsync thread)
        usable = step_count(result.attrition, "usable_results")
        remember_run(
            ctx.state,
            ctx.mapping.site,
            window,
            ctx.rules,
            run_id,
            final,
            result,
            seen_results,
            usable,
            (ctx.profile.name, ctx.settings.glucose_factor),
            delivered_columns(tables),
        )
    return RunSummary(
        run_id=run_id,
        out_dir=final,
        review_csv=final / review_csv.name,
        manifest=manifest,
    )


def _reader_counts(
    ctx: RunContext, table: str, seen: Mapping[tuple[str, str], int]
) -> pd.DataFrame:
    """report.coverage.reader_counts of a table, made once per shared read: its windows
    publish the same table as read, whose reader saw the same values (compared: a copy of
    `seen` is kept), so the same counts every night."""
    shared = ctx.shared_read
    if shared is None:
        return reader_counts(table, seen)
    known = shared.decided.setdefault("reader_counts", {})
    found = known.get(table)
    if found is None or found[0] != seen:
        found = known[table] = (dict(seen), reader_counts(table, seen))
    return found[1]


def page_info(
    ctx: RunContext,
    run_id: str,
    warnings: list[RunWarning] | None = None,
    coverage: pd.DataFrame | None = None,
) -> PageInfo:
    """What the HTML page and the spreadsheet state about the run besides their rows."""
    window = ctx.settings.window
    context = pd.Timedelta(hours=ctx.rules.windows.context_hours_before_window)
    return PageInfo(
        profile=ctx.profile.name,
        profile_description=ctx.profile.description,
        hyponatremia_threshold=ctx.profile.hyponatremia_threshold,
        window_start=window.start,
        window_end=window.end,
        context_start=window.start - context,
        run_id=run_id,
        site=ctx.mapping.site,
        timezone=ctx.mapping.timezone,
        bands=band_text(ctx.profile),
        **page_rule_texts(ctx.rules),
        drug_names=drug_names(ctx.rules),
        atc_combinations=dict(ctx.rules.atc_combinations),
        warnings=tuple(w.message for w in warnings or ()),
        coverage=coverage_page_rows(coverage) if coverage is not None else (),
    )


class _Stamp:
    """Spec §5: the profile name and rules version appear in every output. A CSV beside the
    review list gets `profile` and `rules_version` on every row, before its closing
    `time_zone` (at the end when it has none)."""

    def __init__(self, profile: str, rules_version: str) -> None:
        self.columns = {"profile": profile, "rules_version": rules_version}

    def __call__(self, frame: pd.DataFrame) -> pd.DataFrame:
        at = frame.columns.get_loc("time_zone") if "time_zone" in frame.columns else None
        stamped = frame.copy(deep=False)
        for offset, (name, value) in enumerate(self.columns.items()):
            column = pd.Series(text_on_every_row(len(frame), value), index=frame.index)
            if at is None:
                stamped[name] = column
            else:
                stamped.insert(int(at) + offset, name, column)
        return stamped
