"""Plain-Python composition of one run: read -> validate -> clean -> screen -> write.

Each step is a function the Prefect flow wraps as one task; `run_pipeline` chains them for
callers that do not need orchestration (tests, benchmarks).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from hyposcreen import __version__
from hyposcreen.adapters import load_adapter
from hyposcreen.clean import (
    NOT_RELEVANT,
    QUARANTINED,
    USED,
    clean_diagnoses,
    clean_labs,
    clean_medications,
    count_buckets,
    lab_row_filter,
    read_window_start,
)
from hyposcreen.config import SOURCES, RunSettings, SiteMapping, load_mapping
from hyposcreen.errors import ConfigError, HyposcreenError
from hyposcreen.ingest.canonical import REQUIRED_TABLES, SCHEMAS, IngestedTable
from hyposcreen.ingest.tabular import (
    DEFAULT_MAX_ROW_BYTES,
    RowFilter,
    find_table_files,
    read_table,
)
from hyposcreen.night_counts import record_count
from hyposcreen.report.coverage import cleaned_counts, reader_counts, unknown_drug_names
from hyposcreen.report.coverage import combine as combine_coverage
from hyposcreen.report.coverage import for_csv as coverage_for_csv
from hyposcreen.report.coverage import page_rows as coverage_page_rows
from hyposcreen.report.display import band_text, drug_names
from hyposcreen.report.folders import (
    discard_staging,
    publish_folder,
    published_paths,
    staging_folder,
)
from hyposcreen.report.quarantine import quarantine_rows
from hyposcreen.report.review_list import DISCLAIMER, build_review_list, evidence_table, to_text
from hyposcreen.report.review_page import PageInfo, write_review_views
from hyposcreen.report.writers import write_csv, write_json, write_parquet
from hyposcreen.rules.loader import Profile, RuleSet, load_rules
from hyposcreen.run_warnings import RunWarning, collect_warnings, step_count
from hyposcreen.screen.cases import ScreenResult, order_cases, screen
from hyposcreen.screen.incremental import (
    apply_listing_history,
    flag_late_results,
    late_lookback_start,
)
from hyposcreen.site_words import SiteWords, apply_site_words
from hyposcreen.state import StateStore, result_keys


@dataclass
class RunContext:
    settings: RunSettings
    rules: RuleSet
    profile: Profile
    mapping: SiteMapping
    timings: dict[str, float] = field(default_factory=dict)
    state: StateStore | None = None  # nightly state; None for a stateless run
    words: SiteWords | None = None  # the site's status words, decimal separator (site_words)
    # an in-memory run chosen from an estimate reads at most this many rows of a table
    memory_row_cap: int | None = None
    staging: Path | None = None  # hidden folder the outputs are built in (report.folders)

    def staging_dir(self) -> Path:
        """Created on first use (Data Docs are the first output written)."""
        if self.staging is None:
            self.staging = staging_folder(self.settings.out_dir)
        return self.staging

    peak_rss_mb: dict[str, float] = field(default_factory=dict)  # process high-water mark after
    partitions: int = 1  # patient-hash partitions of the run (hyposcreen.partition)
    executor: str = "local"

    @contextmanager
    def timed(self, step: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.timings[step] = round(
                self.timings.get(step, 0.0) + time.perf_counter() - started, 3
            )
            self.peak_rss_mb[step] = _peak_rss_mb()


def _peak_rss_mb() -> float:
    """This process's peak resident memory so far (Linux reports KiB), 0 where unknown."""
    try:
        import resource
    except ImportError:  # not on Windows
        return 0.0
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


@dataclass
class CleanedInputs:
    labs: pd.DataFrame
    medications: pd.DataFrame
    drug_matches: pd.DataFrame
    diagnoses: pd.DataFrame
    patients: pd.DataFrame | None
    read_not_relevant: dict[str, dict[str, int]]  # rows the reader dropped, by reason
    rows_in: dict[str, int]
    seen_results: pd.DataFrame | None = None  # nightly: result_key, specimen_time to remember
    coverage: pd.DataFrame | None = None  # seen but not recognised (report.coverage)
    drug_names: tuple[int, int] | None = None  # (names matching no drug at all, names)

    @property
    def reconciliation(self) -> dict[str, dict[str, Any]]:
        """rows_in = used + not_relevant + duplicate + quarantined, per table, as of now."""
        return {
            name: count_buckets(
                getattr(self, name), self.read_not_relevant[name], self.rows_in[name]
            )
            for name in ("labs", "medications", "diagnoses")
        }


@dataclass
class RunSummary:
    run_id: str
    out_dir: Path
    review_csv: Path
    manifest: dict[str, Any]


def prepare(settings: RunSettings) -> RunContext:
    """Load rules and mapping and check the settings before any data is read."""
    if settings.source not in SOURCES:
        raise ConfigError(f"Unknown --source '{settings.source}'. Available: {', '.join(SOURCES)}.")
    if not settings.input_dir.is_dir():
        raise ConfigError(f"Input folder {settings.input_dir} does not exist or is not a folder.")
    if settings.source != "canonical":
        load_adapter(settings.source).check_layout(settings.input_dir)
    mapping = load_mapping(settings.mapping_path)
    rules = load_rules(settings.rules_dir)
    if mapping.lab_dictionary:
        unknown = sorted(set(mapping.lab_dictionary.values()) - set(rules.analytes))
        if unknown:
            raise ConfigError(
                f"Lab dictionary maps to unknown analyte(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(rules.analytes))}."
            )
        rules = rules.with_lab_dictionary(mapping.lab_dictionary)
    rules, words = apply_site_words(rules, settings.rules_dir, mapping)
    profile = rules.profile(settings.profile)
    factor = settings.glucose_factor
    if factor is not None and factor not in [float(f) for f in rules.glucose["allowed_factors"]]:
        raise ConfigError(
            f"Glucose correction factor {factor:g} is not allowed; use one of "
            f"{', '.join(str(f) for f in rules.glucose['allowed_factors'])}."
        )
    state = StateStore(settings.state_dir, mapping.site) if settings.state_dir else None
    return RunContext(
        settings=settings, rules=rules, profile=profile, mapping=mapping, state=state, words=words
    )


def table_files(ctx: RunContext, name: str) -> list[Path]:
    """The files one canonical table is read from (for cache keys)."""
    settings = ctx.settings
    if settings.source == "canonical":
        return find_table_files(settings.input_dir, ctx.mapping.table(name).file or name)
    return load_adapter(settings.source).input_files(settings.input_dir, name)


def lab_filter(ctx: RunContext, name: str) -> RowFilter | None:
    """The reader's row filter of a table: labs of known analytes in the read window (nightly
    runs with state also read the late-result lookback and its context)."""
    if name != "labs":
        return None
    return lab_row_filter(
        ctx.rules, ctx.settings.window, ctx.state is not None, ctx.mapping.timezone
    )


def ingest_table(ctx: RunContext, name: str) -> IngestedTable:
    """Read one canonical table (labs are filtered to known analytes inside the read window)."""
    with ctx.timed(f"read_{name}"):
        row_filter = lab_filter(ctx, name)
        if ctx.settings.source != "canonical":
            table = load_adapter(ctx.settings.source).read_table(
                ctx.settings.input_dir,
                name,
                ctx.mapping,
                ctx.rules,
                ctx.settings.window,
                row_filter,
            )
            if row_filter is not None and not table.unrecognised:
                table.unrecognised = dict(row_filter.unrecognised)
            return table
        return read_table(
            ctx.settings.input_dir,
            SCHEMAS[name],
            ctx.mapping,
            row_filter=row_filter,
            required=name in REQUIRED_TABLES,
            max_row_bytes=int(ctx.rules.contracts.get("max_row_bytes", DEFAULT_MAX_ROW_BYTES)),
            max_rows=ctx.memory_row_cap,
        )


def clean_inputs(ctx: RunContext, tables: dict[str, IngestedTable]) -> CleanedInputs:
    """Spec §3 buckets for every row (the reconciliation is derived from them)."""
    with ctx.timed("clean"):
        window = ctx.settings.window
        words = ctx.words or SiteWords(frozenset(), ())
        labs = clean_labs(tables["labs"].frame, ctx.rules, words.decimal)
        seen = None
        if ctx.state is not None:
            labs, seen = _late_results(ctx, labs)
        meds, matches = clean_medications(tables["medications"].frame, ctx.rules, window)
        diagnoses = clean_diagnoses(tables["diagnoses"].frame, ctx.rules, window)
        cleaned = {"labs": labs, "medications": meds, "diagnoses": diagnoses}
        patients = tables.get("patients")
        unknown = unknown_drug_names(meds, words)
        return CleanedInputs(
            labs=labs,
            medications=meds,
            drug_matches=matches,
            diagnoses=diagnoses,
            patients=patients.frame if patients is not None else None,
            read_not_relevant={name: tables[name].not_relevant for name in cleaned},
            rows_in={name: tables[name].rows_in for name in cleaned},
            seen_results=seen,
            coverage=cleaned_counts(labs, meds, diagnoses, words),
            drug_names=(len(unknown), int(meds["drug_name"].notna().sum())),
        )


def _late_results(ctx: RunContext, labs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Flag late sodium results; rows read only for them and not needed become not relevant.

    Returns the labs and the sodium results this run has seen (remembered in the state).
    """
    assert ctx.state is not None
    window, rules = ctx.settings.window, ctx.rules
    lookback = late_lookback_start(window, rules, ctx.mapping.timezone)
    sodium = labs.loc[(labs["analyte"] == "sodium") & (labs["bucket"] == USED)]
    keys = result_keys(sodium)
    late = flag_late_results(
        sodium,
        keys,
        window,
        rules,
        ctx.state.seen_keys(lookback),
        ctx.state.screened_windows(since=lookback),
        ctx.mapping.timezone,
    )
    out = labs.assign(reported_late=False)
    out.loc[late.index[late.to_numpy()], "reported_late"] = True
    # rows before the usual read start stay only as context of a late result of their patient
    usual_start = read_window_start(window, rules, timezone=ctx.mapping.timezone)
    context = window.start - usual_start
    earliest = out.loc[out["reported_late"]].groupby("patient_id")["specimen_time"].min()
    needed_from = pd.Series(pd.NaT, index=out.index, dtype="datetime64[us]")
    if len(earliest):
        needed_from = out["patient_id"].map(earliest - context).astype("datetime64[us]")
    early = out["specimen_time"] < usual_start
    unneeded = early & ~(out["specimen_time"] >= needed_from).fillna(False)
    out.loc[unneeded, "bucket"] = NOT_RELEVANT
    out.loc[unneeded, "reason"] = "outside_window"
    out.loc[unneeded, "value_num"] = float("nan")
    recent = sodium["specimen_time"] >= lookback
    seen = pd.DataFrame(
        {"result_key": keys[recent], "specimen_time": sodium.loc[recent, "specimen_time"]}
    )
    return out, seen


def validate_inputs(ctx: RunContext, cleaned: CleanedInputs) -> dict[str, Any]:
    """Great Expectations contracts on the columns the screen reads (issue: data contracts).

    Critical failures stop the run with an InputError naming file, column and example rows.
    Rows failing a warning expectation that cleaning had kept are quarantined with the
    expectation as reason. Data Docs go to <out>/validation/.
    """
    with ctx.timed("validate"):
        report = run_contracts(ctx, validation_frames(cleaned))
        quarantined = apply_contract_warnings(report, cleaned)
        summary = report.summary()
        summary["rows_quarantined_by_contract"] = quarantined
        return summary


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


def run_contracts(ctx: RunContext, frames: dict[str, pd.DataFrame]) -> Any:
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
        candidates = pd.Index(list(flagged), dtype="int64")
        candidates = candidates[candidates.isin(frame.index)]
        labels = candidates[(frame.loc[candidates, "bucket"] == USED).to_numpy()]
        frame.loc[labels, "bucket"] = QUARANTINED
        frame.loc[labels, "reason"] = [f"{reasons[x]}:{flagged[x]}" for x in labels]
        quarantined[name] = len(labels)
    if quarantined["medications"]:
        used = cleaned.drug_matches["row"].isin(
            cleaned.medications.index[cleaned.medications["bucket"] == USED]
        )
        cleaned.drug_matches = cleaned.drug_matches.loc[used].reset_index(drop=True)
    return quarantined


def screen_inputs(ctx: RunContext, cleaned: CleanedInputs) -> ScreenResult:
    with ctx.timed("screen"):
        labs = cleaned.labs.loc[cleaned.labs["bucket"] == USED]
        meds = cleaned.medications.loc[cleaned.medications["bucket"] == USED]
        diagnoses = cleaned.diagnoses.loc[cleaned.diagnoses["bucket"] == USED]
        result = screen(
            labs,
            meds,
            cleaned.drug_matches,
            diagnoses,
            ctx.rules,
            ctx.profile,
            ctx.settings.window,
            ctx.settings.glucose_factor,
            ctx.mapping.timezone,
        )
        if ctx.state is not None:
            history = ctx.state.history(ctx.settings.window.start)
            cases = apply_listing_history(
                result.cases,
                history.last_listing,
                history.reviewed,
                ctx.settings.window,
                ctx.rules,
            )
            result.cases = order_cases(cases)
        result.attrition = attrition_table(cleaned.labs, result, ctx)
        return result


def attrition_table(
    labs: pd.DataFrame, result: ScreenResult, ctx: RunContext
) -> list[dict[str, Any]]:
    """Where results and patients leave the funnel (spec §7)."""
    window = ctx.settings.window
    sodium = labs.loc[labs["analyte"] == "sodium"]
    in_window = sodium.loc[
        (sodium["specimen_time"] >= window.start) & (sodium["specimen_time"] < window.end)
    ]
    usable = in_window.loc[in_window["bucket"] == USED]
    results = result.sodium_results.loc[result.sodium_results["in_window"]]
    cases = result.cases
    steps = [
        (
            "sodium_results_in_window",
            len(in_window),
            "serum/plasma/blood sodium rows dated in the window",
        ),
        ("usable_results", len(usable), "numeric, right unit, plausible, not duplicate"),
        (
            "hyperglycemia_related_results",
            int(results["hyperglycemia_related"].sum()),
            "low only before glucose correction (not cases)",
        ),
        (
            "hyponatremic_results",
            int(results["hyponatremic"].sum()),
            "hyponatremic after correction",
        ),
        ("cases", len(cases), "patients with >= 1 hyponatremic result in the window"),
        (
            "cases_with_risk_factor",
            int((cases["n_risk_factors"] > 0).sum()) if len(cases) else 0,
            ">= 1 risk factor of spec §6",
        ),
    ]
    if "relisted_because" in cases:
        held_back = int((cases["relisted_because"] == "not_worse").sum())
        steps.append(
            ("held_back_listed_before", held_back, "listed in an earlier night, not worse since")
        )
    steps.append(
        (
            "listed",
            int(cases["listed"].sum()) if len(cases) else 0,
            "risk factor, or severe, or over-rapid correction (and, nightly, new or worse)",
        )
    )
    return [{"step": s, "count": int(c), "meaning": m} for s, c, m in steps]


def compute_run_id(ctx: RunContext, tables: dict[str, IngestedTable]) -> str:
    """Content hash of inputs, rules, profile, window and mapping: same inputs, same id."""
    settings = ctx.settings
    payload = {
        "inputs": sorted(
            (name, Path(str(f["path"])).name, f["sha256"])
            for name, t in tables.items()
            for f in t.files
        ),
        "rules_version": ctx.rules.version,
        "rules_hash": ctx.rules.content_hash,
        "profile": ctx.profile.name,
        "window": ctx.settings.window.label(),
        "glucose_factor": settings.glucose_factor or ctx.rules.glucose["factor"],
        "source": settings.source,
        "mapping": hashlib.sha256(Path(settings.mapping_path).read_bytes()).hexdigest()
        if settings.mapping_path
        else None,
    }
    blob = json.dumps(payload, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def write_outputs(
    ctx: RunContext,
    tables: dict[str, IngestedTable],
    cleaned: CleanedInputs,
    result: ScreenResult,
    validation: dict[str, Any] | None = None,
) -> RunSummary:
    """review_list.csv/.parquet/.html/.xlsx, evidence.csv, quarantine.csv, run_manifest.json."""
    with ctx.timed("write"):
        quarantine = quarantine_rows(
            {
                "labs": cleaned.labs,
                "medications": cleaned.medications,
                "diagnoses": cleaned.diagnoses,
            }
        )
    return write_results(
        ctx,
        tables,
        result,
        validation,
        cleaned.patients,
        quarantine,
        cleaned.reconciliation,
        cleaned.seen_results,
        cleaned.coverage,
        cleaned.drug_names,
    )


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
    drug_names: tuple[int, int] | None = None,
) -> RunSummary:
    """Write the outputs of a run from its screen result, quarantine rows and reconciliation
    (one frame per table, or the merge of a partitioned run)."""
    from hyposcreen.validate.gx import validate_review_list

    with ctx.timed("write"):
        out = ctx.staging_dir()
        run_id = compute_run_id(ctx, tables)
        coverage = combine_coverage(
            [reader_counts(name, t.unrecognised) for name, t in tables.items()]
            + ([coverage] if coverage is not None else [])
        )
        warnings = collect_warnings(
            ctx.rules.warnings,
            result.attrition,
            reconciliation,
            validation,
            drug_names,
            (ctx.state.path, ctx.mapping.site, ctx.settings.window.start) if ctx.state else None,
            lab_names=ctx.settings.source == "canonical",
        )
        window = ctx.settings.window
        review = build_review_list(
            result,
            ctx.rules,
            ctx.profile.name,
            run_id,
            window.start,
            window.end,
            patients,
            ctx.mapping.allow_identifiers,
        )
        contract = validate_review_list(review, list(ctx.rules.risk_factor_vocabulary))
        if contract.critical_failures():
            problems = "; ".join(o.detail for o in contract.critical_failures())
            raise HyposcreenError(
                f"The review list broke its own contract ({problems}); not written."
            )
        validation = {**(validation or {}), "review_list": contract.summary()}
        validation = published_paths(validation, out, ctx.settings.out_dir)  # not .partial-
        review_csv = write_csv(out / "review_list.csv", to_text(review))
        write_parquet(out / "review_list.parquet", review)
        listed = set(review["patient_id"])
        evidence = evidence_table(result)
        evidence = evidence.loc[evidence["patient_id"].isin(listed)]
        write_csv(out / "evidence.csv", evidence.assign(time=evidence["time"].astype("str")))
        info = page_info(ctx, run_id, warnings, coverage)
        write_review_views(out, review, result.sodium_results, evidence, info)
        write_csv(out / "quarantine.csv", quarantine)
        write_csv(out / "coverage.csv", coverage_for_csv(coverage))
    manifest = build_manifest(ctx, tables, reconciliation, result, review, run_id, validation)
    manifest["warnings"] = [w.as_dict() for w in warnings]
    write_json(out / "run_manifest.json", manifest)
    final = publish_folder(out, ctx.settings.out_dir)
    ctx.staging = None
    if ctx.state is not None:  # only once the outputs are in place: a crash never advances it
        lookback = pd.Timedelta(hours=ctx.rules.windows.late_result_lookback_hours)
        ctx.state.record_run(
            ctx.settings.window,
            run_id,
            final,
            listed_cases(result),
            seen_results,
            keep_seen=2 * lookback,  # twice the late-result lookback: never one too few
        )
        usable = step_count(result.attrition, "usable_results")
        record_count(ctx.state.path, ctx.mapping.site, ctx.settings.window.start, usable)
    return RunSummary(
        run_id=run_id,
        out_dir=final,
        review_csv=final / review_csv.name,
        manifest=manifest,
    )


def listed_cases(result: ScreenResult) -> pd.DataFrame:
    """What the state remembers of each listed case: tier, nadir, the over-correction shown."""
    cases = result.cases.loc[result.cases["listed"]]
    oc_to = (
        cases["oc_to_time"].dt.strftime("%Y-%m-%dT%H:%M:%S").fillna("")
        if "oc_to_time" in cases
        else ""
    )
    return pd.DataFrame(
        {
            "patient_id": cases["patient_id"],
            "tier": cases["tier"],
            "nadir": cases["corrected_sodium"],
            "overcorrection_to": oc_to,
        }
    )


def discard_outputs(ctx: RunContext) -> None:
    """After a failure: drop the half-built folder; the previous outputs stay as they were."""
    discard_staging(ctx.staging)
    ctx.staging = None


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
        rules_version=ctx.rules.version,
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
        drug_names=drug_names(ctx.rules),
        atc_combinations=dict(ctx.rules.atc_combinations),
        warnings=tuple(w.message for w in warnings or ()),
        coverage=coverage_page_rows(coverage) if coverage is not None else (),
    )


def build_manifest(
    ctx: RunContext,
    tables: dict[str, IngestedTable],
    reconciliation: dict[str, dict[str, Any]],
    result: ScreenResult,
    review: pd.DataFrame,
    run_id: str,
    validation: dict[str, Any] | None,
) -> dict[str, Any]:
    """Counts only: the manifest never carries patient identifiers."""
    window = ctx.settings.window
    tiers = review["tier"].value_counts().to_dict() if len(review) else {}
    return {
        "hyposcreen_version": __version__,
        "run_id": run_id,
        "rules_version": ctx.rules.version,
        "rules_hash": ctx.rules.content_hash,
        "profile": ctx.profile.name,
        "profile_description": ctx.profile.description,
        "glucose_factor": ctx.settings.glucose_factor or ctx.rules.glucose["factor"],
        "window": {
            "start": window.start.isoformat(),
            "end": window.end.isoformat(),
            "timezone": ctx.mapping.timezone,
        },
        "site": ctx.mapping.site,
        "source": ctx.settings.source,
        "inputs": {name: t.files for name, t in tables.items()},
        "source_counts": {name: t.source_counts for name, t in tables.items() if t.source_counts},
        "reconciliation": reconciliation,
        "reconciled": all(r["reconciled"] for r in reconciliation.values()),
        "attrition": result.attrition,
        "counts_per_tier": {str(t): int(tiers.get(t, 0)) for t in (1, 2, 3)},
        "listed": len(review),
        "validation": validation or {},
        "timings": dict(ctx.timings),
        "peak_rss_mb": dict(ctx.peak_rss_mb),
        "partitions": ctx.partitions,
        "executor": ctx.executor,
        "outputs": [
            "review_list.csv",
            "review_list.parquet",
            "review_list.html",
            "review_list.xlsx",
            "evidence.csv",
            "quarantine.csv",
            "coverage.csv",
            "run_manifest.json",
        ],
        "notice": DISCLAIMER,
    }


def read_inputs(ctx: RunContext) -> dict[str, IngestedTable]:
    tables = {name: ingest_table(ctx, name) for name in REQUIRED_TABLES}
    patients = ingest_table(ctx, "patients")
    if patients.rows_in:
        tables["patients"] = patients
    return tables


def run_pipeline(settings: RunSettings) -> RunSummary:
    """The whole run without orchestration."""
    ctx = prepare(settings)
    try:
        tables = read_inputs(ctx)
        cleaned = clean_inputs(ctx, tables)
        validation = validate_inputs(ctx, cleaned)
        result = screen_inputs(ctx, cleaned)
        return write_outputs(ctx, tables, cleaned, result, validation)
    except BaseException:
        discard_outputs(ctx)
        raise
