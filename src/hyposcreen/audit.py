"""`hyposcreen audit`: screen a period one calendar month at a time and write the QI report.

Each month is one screening window, read, cleaned and screened by the same functions as a
nightly run (the recipe's read, clean, screen and history stages; the months share one read
of the input, cut per month as a backfill's nights are), so a month's cases are the cases
`hyposcreen run` would find over that month: a patient with several low results in a month
is one case of that month. The run's data contracts are run once per read (audit_contracts:
a critical failure stops the audit, exit 3; the outcome goes to the manifest), their share
contracts counted month by month too (audit_month_contracts: a month over a limit warns
though the whole period is under it), and each month is judged for the warnings a run of it
would give (recipe_warnings.run_warnings: unknown units, flagged results, LOINC codes written
otherwise …), so an extract that loses results does not give a silently low count: they are
listed, with their month, under `warnings` in audit_manifest.json and at the top of
audit.html, and the command exits 4. A read a run could not screen (a table whose key times
mostly do not read) stops the audit with the run's stop and message (exit 3), judged once
per read. Outputs: audit.html, audit_tables.csv and audit_manifest.json (aggregates,
suppressed) and, only with a pseudonym key, audit_patients.csv.
"""

from __future__ import annotations

import itertools
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hyposcreen import __version__, recipe
from hyposcreen.audit_inputs import file_labels, shown_inputs, without_file_names
from hyposcreen.audit_reads import MonthQuarantine, ReadChecks
from hyposcreen.audit_warning_text import count_withheld, shared_message, tells_any
from hyposcreen.config import RunSettings, Window
from hyposcreen.context import CleanedInputs, ReadTables, RunContext, prepare
from hyposcreen.errors import ConfigError
from hyposcreen.ingest.canonical import IngestedTable
from hyposcreen.recipe_warnings import run_warnings
from hyposcreen.report.audit_counts import PeriodCounts, hyponatremia_coded, period_counts
from hyposcreen.report.audit_coverage import window_days_text
from hyposcreen.report.audit_measures import TOTAL, audit_frame, audit_table, shared_tables
from hyposcreen.report.audit_page import render_audit_page
from hyposcreen.report.audit_rule_numbers import rule_numbers
from hyposcreen.report.display import band_text
from hyposcreen.report.pseudonyms import KEY_ENV, load_key, pseudonymize
from hyposcreen.report.writers import PRIVATE_MODE, write_atomic, write_csv, write_json
from hyposcreen.run_warnings import RunWarning
from hyposcreen.runners.window_loop import SharedInput
from hyposcreen.screen.cases import ScreenResult

AGGREGATE_MODE = 0o644  # suppressed aggregates: no identifiers
DEFAULT_CODES = {"ICD-10-CM": ["E87.1"], "ICD-9-CM": ["276.1"]}


@dataclass(frozen=True)
class AuditSettings:
    input_dir: Path
    out_dir: Path
    start: pd.Timestamp
    end: pd.Timestamp
    source: str = "canonical"
    mapping_path: Path | None = None
    profile: str | None = None
    rules_dir: Path | None = None
    glucose_factor: float | None = None
    min_cell_size: int | None = None
    key_file: Path | None = None


@dataclass
class AuditSummary:
    out_dir: Path
    manifest: dict[str, Any]
    patient_export: Path | None


def _tell(text: str) -> None:
    print(f"hyposcreen: {text}", file=sys.stderr)


MAX_AUDIT_MONTHS = 120  # ten years: a longer period is most likely a mistyped year


def month_windows(start: pd.Timestamp, end: pd.Timestamp) -> list[Window]:
    """[start, end) cut at calendar-month boundaries (the first and last may be partial); a
    period over MAX_AUDIT_MONTHS calendar months is refused (a mistyped `--end 2126-12-01`
    would otherwise screen a thousand months)."""
    if end <= start:
        raise ConfigError(f"The audit end {end.isoformat()} must be after its start.")
    partial_last = end != end.to_period("M").to_timestamp()  # ends inside its month
    months = (end.year - start.year) * 12 + end.month - start.month + int(partial_last)
    if months > MAX_AUDIT_MONTHS:
        raise ConfigError(
            f"The audit period {start.date().isoformat()} to {end.date().isoformat()} touches "
            f"{months} calendar months; one audit screens at most {MAX_AUDIT_MONTHS} (is --end "
            "mistyped?). Split a longer history into several audits."
        )
    bounds = [start]
    month = start.to_period("M").to_timestamp() + pd.DateOffset(months=1)
    while month < end:
        bounds.append(pd.Timestamp(month).as_unit("us"))
        month = month + pd.DateOffset(months=1)
    bounds.append(end)
    return [Window(a, b) for a, b in itertools.pairwise(bounds)]


def patient_rows(
    period: str, result: ScreenResult, diagnoses: pd.DataFrame, end: pd.Timestamp,
    key: bytes, codes: dict[str, list[str]],
) -> pd.DataFrame:  # fmt: skip
    """One row per case with a keyed pseudonym instead of the patient id, and no dates."""
    cases = result.cases
    coded = hyponatremia_coded(diagnoses, codes)
    coded_ids = set(coded.loc[coded["recorded_time"] < end, "patient_id"])
    return pd.DataFrame(
        {
            "pseudonym": pseudonymize(cases["patient_id"].astype("str"), key),
            "period": period,
            "listed": cases["listed"].astype(bool),
            "tier": np.where(cases["listed"], cases["tier"].astype("str"), ""),
            "severity": cases["severity"].astype("str"),
            "corrected_sodium": cases["corrected_sodium"].round(1),
            "risk_factors": cases["risk_factors"].astype("str"),
            "correction_risk": cases["correction_risk"].astype(bool),
            "overcorrection": cases["overcorrection"].astype(bool),
            "missing_workup": cases["missing_workup"].astype("str"),
            "hyponatremia_coded": cases["patient_id"].isin(coded_ids),
        }
    )


def _month_warnings(
    ctx: RunContext, tables: dict[str, IngestedTable], cleaned: CleanedInputs,
    result: ScreenResult, quarantine: MonthQuarantine, label: str, min_cell: int,
) -> list[dict[str, str]]:  # fmt: skip
    """The warnings a run of the month would give (its contracts' are its read's: ReadChecks),
    each message led by the month as a backfill's by its night: counts and `file:row` only,
    none the tables would suppress (audit_warning_text)."""
    where, times = quarantine.judged or (None, None)
    found = run_warnings(
        ctx,
        tables,
        result,
        None,
        quarantine.rows,
        quarantine.reconciliation,
        cleaned.drug_names,
        cleaned.delivery_counts,
        where,
        times,
    )
    return _labelled(found, label, min_cell)


def _withheld(warning: dict[str, str], hidden: set[int], min_cell: int) -> dict[str, str]:
    """`warning` without a count its period's tables hide (at least min_cell, complementary:
    `[2026-03] no usable serum sodium result (120 sodium row(s) dated in it …)` would give
    back the month's hidden sodium rows, and a `<11` month with them)."""
    label, message = warning["period"], warning["message"]
    if not tells_any(message.removeprefix(f"[{label}] "), hidden):
        return warning
    return {**warning, "message": f"[{label}] {count_withheld(warning['code'], min_cell)}"}


def _labelled(found: list[RunWarning], label: str, min_cell: int) -> list[dict[str, str]]:
    return [
        {
            "period": label,
            "code": w.code,
            "message": f"[{label}] {shared_message(w.code, w.message, min_cell)}",
        }
        for w in found
    ]


def run_audit(settings: AuditSettings, share_read: bool = True) -> AuditSummary:
    """The audit of settings' period. Its months share one read of the input when it fits the
    in-memory run (`runners.window_loop.SharedInput`); `share_read=False` reads per month."""
    # a bad key stops the audit before any work
    key = load_key(settings.key_file, (settings.input_dir, settings.out_dir))
    base = RunSettings(
        input_dir=settings.input_dir,
        out_dir=settings.out_dir,
        window=Window(settings.start, settings.end),
        profile=settings.profile,
        source=settings.source,
        mapping_path=settings.mapping_path,
        rules_dir=settings.rules_dir,
        glucose_factor=settings.glucose_factor,
    )
    ctx = prepare(base)
    audit_rules = ctx.rules.audit
    min_cell = settings.min_cell_size
    if min_cell is None:
        min_cell = int(audit_rules.get("min_cell_size", 11))
    if min_cell < 2:
        raise ConfigError(
            f"--min-cell-size must be at least 2 (got {min_cell}): a minimum cell size of 1 "
            "suppresses nothing."
        )
    protection_range = int(audit_rules.get("protection_range", 0))
    codes = dict(audit_rules.get("hyponatremia_codes") or DEFAULT_CODES)
    vocabulary = ctx.rules.risk_factor_vocabulary
    periods: list[PeriodCounts] = []
    warnings: list[dict[str, str]] = []
    exported: list[pd.DataFrame] = []
    files: dict[str, list[dict[str, Any]]] = {}
    months = month_windows(settings.start, settings.end)
    settings.out_dir.mkdir(parents=True, exist_ok=True)  # its problem told before any month
    shared = SharedInput(months if share_read else [], tell=_tell, spill=False)
    # each read judged as a run judges its delivery, and its share contracts month by month
    checks = ReadChecks([(w.start.strftime("%Y-%m"), w) for w in months], min_cell=min_cell)
    for at, window in enumerate(months):
        began = time.monotonic()
        period_ctx = replace(ctx, settings=replace(base, window=window), timings={})
        cut = shared.attach(period_ctx)  # a month cut from the read the months share
        tables = recipe.read(period_ctx).tables
        files = {name: table.files for name, table in tables.items()}
        cleaned = recipe.clean(period_ctx, ReadTables(tables))
        label = window.start.strftime("%Y-%m")
        read = (TOTAL, base.window) if cut else (label, window)  # the months of this read
        quarantine = checks.month(period_ctx, cleaned, read if not cut or at == 0 else None)
        result = recipe.history(period_ctx, recipe.screen(period_ctx, cleaned))
        warnings += _month_warnings(
            period_ctx, tables, cleaned, result, quarantine, label, min_cell
        )
        periods.append(
            period_counts(label, result, cleaned.diagnoses, window, vocabulary, codes, cleaned.labs)
        )
        if key is not None:
            exported.append(patient_rows(label, result, cleaned.diagnoses, window.end, key, codes))
        # progress on stderr, month by month: its name and seconds, never a count
        _tell(f"[{at + 1}/{len(months)}] {label} screened ({time.monotonic() - began:.1f} s)")
    _tell("choosing the cells to hide (many months of small counts: up to minutes)")
    rows, hidden_counts = audit_table(periods, vocabulary, min_cell, protection_range)
    frame = audit_frame(rows)
    sodium_rows = frame.loc[frame["measure"] == "sodium_results_in_window"]
    checks.hidden_months = frozenset(sodium_rows.loc[sodium_rows["suppressed"] != "", "period"])
    for found, read_label in checks.warnings():  # the contracts' (a critical one stops)
        warnings += _labelled([found], read_label, min_cell)
    warnings = [_withheld(w, hidden_counts.get(w["period"], set()), min_cell) for w in warnings]
    labels = file_labels(files, settings.input_dir)  # no file's name: it may be a patient's
    warnings = [{**w, "message": without_file_names(w["message"], labels)} for w in warnings]
    inputs = shown_inputs(files, min_cell, set().union(*hidden_counts.values()))
    out = settings.out_dir
    export_path = out / "audit_patients.csv" if key is not None else None
    export_note = (
        "A patient-level export with keyed pseudonyms (HMAC-SHA256) is in audit_patients.csv."
        if export_path
        else f"No patient-level export: no pseudonym key was given (set {KEY_ENV} or --key-file)."
    )
    about = {
        "start": settings.start.isoformat(),
        "end": settings.end.isoformat(),
        "profile": f"{ctx.profile.name} — {band_text(ctx.profile)} (corrected sodium, mmol/L)",
        "start_text": f"{settings.start:%d %b %Y %H:%M}",
        "end_text": f"{settings.end:%d %b %Y %H:%M} {ctx.mapping.timezone}",
        "rules_version": ctx.rules.version,
        "site": ctx.mapping.site,
        "patient_export": export_note,
        "warnings": [w["message"] for w in warnings],
        "window_days": {w.start.strftime("%Y-%m"): window_days_text(w) for w in months},
        "rule_numbers": rule_numbers(ctx.rules, codes),
    }
    bounds = {w.start.strftime("%Y-%m"): (w.start, w.end) for w in months}
    bounds[TOTAL] = (settings.start, settings.end)
    named = [ctx.mapping.timezone, ctx.profile.name, ctx.rules.version]
    shared_frame = shared_tables(frame, bounds, named, min_cell)
    write_csv(out / "audit_tables.csv", shared_frame, mode=AGGREGATE_MODE, numeric=("value",))
    html = render_audit_page(frame, about, min_cell)
    write_atomic(out / "audit.html", lambda tmp: tmp.write_text(html, "utf-8"), AGGREGATE_MODE)
    if export_path is not None:
        export = pd.concat(exported, ignore_index=True)
        export = export.assign(profile=ctx.profile.name, rules_version=ctx.rules.version)
        write_csv(export_path, export, mode=PRIVATE_MODE)
    manifest = {
        "hyposcreen_version": __version__,
        "audit": {"start": about["start"], "end": about["end"], "periods": "calendar months"},
        "periods": [p.period for p in periods],
        "profile": ctx.profile.name,
        "rules_version": ctx.rules.version,
        "rules_hash": ctx.rules.content_hash,
        "site": ctx.mapping.site,
        "source": settings.source,
        "inputs": inputs,
        "min_cell_size": min_cell,
        "protection_range": min(max(protection_range, 0), min_cell - 2),
        "hyponatremia_codes": codes,
        "contracts": checks.outcome(),
        "tables": frame.astype(object).where(frame.notna(), None).to_dict("records"),
        "patient_export": {"written": export_path is not None, "note": export_note},
        "warnings": warnings,
        "outputs": ["audit.html", "audit_tables.csv", "audit_manifest.json"]
        + (["audit_patients.csv"] if export_path else []),
    }
    write_json(out / "audit_manifest.json", manifest, mode=AGGREGATE_MODE)
    if export_path is None:
        print(f"hyposcreen: {export_note}", file=sys.stderr)
    return AuditSummary(out_dir=out, manifest=manifest, patient_export=export_path)
