"""Great Expectations checks of the canonical input tables and of the review list.

The suites are data: one JSON file per table in ``expectations/`` (``labs.json``,
``medications.json``, ``diagnoses.json``, ``patients.json``, ``review_list.json``), each
expectation carrying ``meta: {"severity": "critical" | "warning", "reason": <code>, "detail":
<short text>}``. Values known only at run time (``window_end``, the duplicate and non-numeric
thresholds, the review-list length and vocabulary) are written ``{"$PARAMETER": name}`` and
substituted into the kwargs for each run (Data Docs show the concrete values); nothing is taken
from the wall clock.

Severity decides what the pipeline does:

* ``critical``: the input (or the review list) breaks its contract and the run must stop;
  ``ValidationReport.raise_for_critical()`` turns these into an ``InputError``.
* ``warning``: row-level problems; ``ValidationReport.warning_rows(table)`` maps the frame
  label of every offending row to the first failing expectation (suites list row checks in the
  bucket precedence of spec §3), ``warning_reasons(table)`` to its reason code.

GX runs in one ephemeral in-memory context per process (built lazily, so importing this module
does not import GX), with progress bars off and no analytics. Before validating, each table is
narrowed to the columns its suite reads plus the derived columns described in each suite's
meta (analyte|normalised unit, duplicate flag, non-numeric flags from clean.parse_values, code
system by its canonical name), each computed once per distinct value. GX costs to keep in mind
(measured on 1.24.1): datetimes other than datetime64[ns] are compared row by row in Python, so
times are handed over as ns; every row_condition re-filters the whole view several times, so
large string columns are handed over as categoricals; column mean/sum scan every value in
Python, so rates are `mostly` checks on 0/1 flags. Row ids come back through a named index
(``_row``, the frame's own labels) with ``exclude_unexpected_values``, which keeps even many
failing rows cheap.
"""

from __future__ import annotations

import functools
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hyposcreen.clean import parse_values
from hyposcreen.errors import ConfigError, InputError
from hyposcreen.ingest.canonical import PROVENANCE, REQUIRED_TABLES, SCHEMAS, IngestedTable
from hyposcreen.report.review_list import REVIEW_COLUMNS
from hyposcreen.rules.loader import load_rules, normalize_label, normalize_unit
from hyposcreen.validate.docs import make_offline

SUITES_DIR = Path(
    os.environ.get(
        "HYPOSCREEN_EXPECTATIONS_DIR", Path(__file__).resolve().parents[3] / "expectations"
    )
)
TABLES = ("labs", "medications", "diagnoses", "patients")
REVIEW_LIST = "review_list"
DEFAULT_THRESHOLDS: dict[str, float] = {
    # share of lab rows repeating an earlier row's (patient, analyte, specimen_time, value_num)
    "max_duplicate_rate": 0.20,
    "max_non_numeric_sodium_rate": 0.05,  # share of sodium rows whose value_raw is not a number
}
SEVERITIES = ("critical", "warning")
ROW_ID = "_row"
MAX_EXAMPLES = 5
DOCS_SITE = "hyposcreen_run"
INGEST_COLUMNS = {"labs": ("analyte", "value_num")}  # added by the pipeline before validation

_RESULT_FORMAT: dict[str, Any] = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": [ROW_ID],
    "exclude_unexpected_values": True,  # values per row cost ~70 µs each; we only need the ids
    "return_unexpected_index_query": False,
    "partial_unexpected_count": MAX_EXAMPLES,
}
_TABLE_LEVEL_PREFIXES = ("expect_table_", "expect_column_to_exist")  # never skipped

_LOCK = threading.Lock()
_CONTEXT: Any = None
_BATCH_DEFINITIONS: dict[str, Any] = {}


@dataclass(frozen=True)
class ExpectationOutcome:
    """The result of one expectation (or one of the few plain-Python contract checks)."""

    table: str
    expectation: str
    column: str | None
    severity: str  # "critical" | "warning"
    success: bool
    unexpected_count: int
    unexpected_percent: float
    example_rows: list[str]  # up to 5 "source_file:source_row"
    row_labels: list[int]  # frame index labels of offending rows (failed warnings only)
    detail: str  # short human text
    reason: str = ""  # reason code from the suite's meta (e.g. missing_key, bad_unit)

    def as_dict(self) -> dict[str, Any]:
        """JSON-serialisable form without the (possibly long) row label list."""
        return {
            "table": self.table,
            "expectation": self.expectation,
            "column": self.column,
            "severity": self.severity,
            "reason": self.reason,
            "success": self.success,
            "unexpected_count": self.unexpected_count,
            "unexpected_percent": round(self.unexpected_percent, 4),
            "example_rows": list(self.example_rows),
            "detail": self.detail,
        }


@dataclass
class ValidationReport:
    """All outcomes of one validation call, in suite order per table."""

    outcomes: list[ExpectationOutcome]
    skipped: list[dict[str, str]] = field(default_factory=list)  # not run: a column was absent
    seconds: float = 0.0
    docs_index: Path | None = None

    def critical_failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if o.severity == "critical" and not o.success]

    def failed_warnings(self, table: str | None = None) -> list[ExpectationOutcome]:
        return [
            o
            for o in self.outcomes
            if o.severity == "warning" and not o.success and (table is None or o.table == table)
        ]

    def warning_rows(self, table: str) -> dict[int, str]:
        """Frame label -> type of the first failing warning expectation for that row."""
        return {label: o.expectation for label, o in self._first_failure(table).items()}

    def warning_reasons(self, table: str) -> dict[int, str]:
        """Frame label -> reason code of the first failing warning expectation for that row."""
        return {label: o.reason for label, o in self._first_failure(table).items()}

    def _first_failure(self, table: str) -> dict[int, ExpectationOutcome]:
        first: dict[int, ExpectationOutcome] = {}
        for outcome in self.failed_warnings(table):
            for label in outcome.row_labels:
                first.setdefault(label, outcome)
        return first

    def summary(self) -> dict[str, Any]:
        """JSON-serialisable digest for run_manifest.json."""
        tables: dict[str, dict[str, int]] = {}
        for o in self.outcomes:
            entry = tables.setdefault(
                o.table, {"expectations": 0, "failed": 0, "critical_failed": 0, "warning_rows": 0}
            )
            entry["expectations"] += 1
            if not o.success:
                entry["failed"] += 1
                entry["critical_failed"] += o.severity == "critical"
        for table, entry in tables.items():
            entry["warning_rows"] = len(self._first_failure(table))
        return {
            "passed": not self.critical_failures(),
            "critical_failures": len(self.critical_failures()),
            "failed_warnings": len(self.failed_warnings()),
            "tables": tables,
            "outcomes": [o.as_dict() for o in self.outcomes],
            "skipped": list(self.skipped),
            "seconds": round(self.seconds, 3),
            "docs_index": str(self.docs_index) if self.docs_index else None,
            "great_expectations": _gx_version(),
        }

    def demote_small_breaches(self, min_rows: int, broken_share: float) -> list[ExpectationOutcome]:
        """Share contracts (the `*_rate` checks) above their limit stop the night only when the
        delivery looks broken: at least `broken_share` of the rows judged, on at least
        `min_rows` rows. Any smaller breach becomes a warning (its rows are already quarantined
        or duplicate after cleaning); the demoted outcomes are returned."""
        demoted: list[ExpectationOutcome] = []
        for position, outcome in enumerate(self.outcomes):
            if outcome.success or outcome.severity != "critical":
                continue
            if not outcome.reason.endswith("_rate"):
                continue
            share = outcome.unexpected_percent / 100
            judged = round(outcome.unexpected_count / share) if share > 0 else 0
            if judged >= min_rows and share >= broken_share:
                continue
            why = (
                f"judged on {judged} row(s), fewer than {min_rows}"
                if judged < min_rows
                else f"below the {broken_share:.0%} that means a broken delivery"
            )
            outcome = replace(outcome, severity="warning", detail=f"{outcome.detail} ({why})")
            self.outcomes[position] = outcome
            demoted.append(outcome)
        return demoted

    def raise_for_critical(self) -> None:
        """Raise an InputError naming every critical failure (no-op when there is none)."""
        failures = self.critical_failures()
        if not failures:
            return
        first = failures[0]
        listed = "; ".join(f"{o.table}: {o.detail}" for o in failures)
        raise InputError(
            f"The input failed {len(failures)} critical data check(s): {listed}.",
            column=first.column,
            examples=[e for o in failures for e in o.example_rows][:MAX_EXAMPLES],
        )


# --------------------------------------------------------------------------- public API


def validate_tables(
    frames: Mapping[str, pd.DataFrame | IngestedTable],
    *,
    window_end: pd.Timestamp,
    thresholds: Mapping[str, float] | None = None,
    docs_dir: Path | None = None,
    present_columns: Mapping[str, Iterable[str]] | None = None,
    code_system_aliases: Mapping[str, str] | None = None,
    suites_dir: Path | None = None,
) -> ValidationReport:
    """Validate the canonical tables (as read, before cleaning) against their suites.

    ``frames`` maps table name to its frame, or to the IngestedTable (whose ``present_columns``
    is then used). Labs must carry ``analyte`` and ``value_num`` (parsed value in canonical
    units, NaN when non-numeric or the unit is wrong; *not* yet blanked for implausible rows),
    else ValueError. ``present_columns`` (table -> columns the source really had) makes a
    canonical column that ingest filled with nulls count as missing. ``window_end`` bounds
    specimen times. ``thresholds`` overrides DEFAULT_THRESHOLDS. ``code_system_aliases``
    (RuleSet.code_system_aliases; default: the packaged rules) maps code-system spellings to
    their canonical names before the set check. With ``docs_dir`` GX Data Docs are written
    there (give each run its own folder); ``report.docs_index`` is its index.html.
    """
    started = time.perf_counter()
    limits = _thresholds(thresholds)
    unknown = sorted(set(frames) - set(TABLES))
    if unknown:
        raise ValueError(f"Unknown table(s) {', '.join(unknown)}; expected {', '.join(TABLES)}.")
    params: dict[str, Any] = {
        "window_end": _timestamp(window_end),
        **limits,
        # `mostly` of the rate checks; the epsilon keeps a share exactly at the limit passing
        "duplicate_mostly": max(0.0, 1.0 - limits["max_duplicate_rate"] - 1e-12),
        "numeric_sodium_mostly": max(0.0, 1.0 - limits["max_non_numeric_sodium_rate"] - 1e-12),
    }
    outcomes: list[ExpectationOutcome] = []
    skipped: list[dict[str, str]] = []
    jobs: list[_Job] = []
    for table in REQUIRED_TABLES:
        if table not in frames:
            outcomes.append(
                _plain(
                    table,
                    "hyposcreen.table_present",
                    None,
                    f"table {table} is missing",
                    "required_table",
                )
            )
    for table in TABLES:
        if table not in frames:
            continue
        frame, present = _unpack(frames[table], (present_columns or {}).get(table))
        spec = load_suite_spec(table, suites_dir)
        view, pre = _table_view(table, frame, present, spec, code_system_aliases)
        outcomes.extend(pre)
        jobs.append(_job(table, frame, view, spec, params, skipped))
    results, docs_index = _run(jobs, docs_dir)
    for job, result in zip(jobs, results, strict=True):
        outcomes.extend(_outcomes(job, result))
    if docs_index is not None:
        docs_index = make_offline(
            docs_index.parent,
            [o.as_dict() for o in outcomes],
            "hyposcreen: validation of the inputs",
        )
    return ValidationReport(outcomes, skipped, time.perf_counter() - started, docs_index)


def validate_review_list(
    review: pd.DataFrame, vocabulary: Sequence[str], *, suites_dir: Path | None = None
) -> ValidationReport:
    """Check the review list's contract: columns, tiers, ranks 1..n, risk-factor vocabulary."""
    started = time.perf_counter()
    spec = load_suite_spec(REVIEW_LIST, suites_dir)
    view = review.iloc[:, : len(REVIEW_COLUMNS)].reset_index(drop=True)
    view.index = view.index.rename(ROW_ID)
    outcomes = _integer_dtype_outcomes(view, spec)
    # max(…, 1): GX rejects the bounds [1, 0]; an empty list has no rank to check anyway
    params = {"n_rows": max(len(view), 1), "risk_factor_regex": risk_factor_regex(vocabulary)}
    skipped: list[dict[str, str]] = []
    job = _job(REVIEW_LIST, view, view, spec, params, skipped)
    results, _ = _run([job], None)
    outcomes.extend(_outcomes(job, results[0]))
    return ValidationReport(outcomes, skipped, time.perf_counter() - started)


def risk_factor_regex(vocabulary: Sequence[str]) -> str:
    """Regex for a ';'-joined list of vocabulary entries (empty allowed)."""
    entry = "(?:" + "|".join(re.escape(v) for v in sorted(vocabulary, key=len, reverse=True)) + ")"
    return rf"^(?:{entry}(?:;{entry})*)?$"


def load_suite_spec(name: str, suites_dir: Path | None = None) -> dict[str, Any]:
    """The suite JSON as a dict, checked for the meta every expectation must carry."""
    path = (suites_dir or SUITES_DIR) / f"{name}.json"
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"Expectation suite {path} does not exist.") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"Expectation suite {path} is not valid JSON: {exc}") from exc
    for i, expectation in enumerate(spec.get("expectations", [])):
        meta = expectation.get("meta") or {}
        if meta.get("severity") not in SEVERITIES or not meta.get("reason"):
            raise ConfigError(
                f"Expectation suite {path}, expectation {i + 1} ({expectation.get('type')}): "
                "meta needs severity critical|warning and a reason."
            )
    return spec


# --------------------------------------------------------------------------- preparing frames


# Columns the derived columns are computed from (see _derived), per table.
_DERIVED_INPUTS = {
    "labs": ("patient_id", "analyte", "unit", "specimen_time", "value_num", "value_raw", "value"),
    "diagnoses": ("code_system",),
}


def validation_columns(table: str, suites_dir: Path | None = None) -> set[str]:
    """Every frame column validating `table` can read: what the suite names, the inputs of the
    derived columns, the time columns (dtype checks), the one-of groups, and the columns the
    failure details and example rows quote. Validating `frame[sorted subset]` gives the same
    outcomes as validating the whole frame, at a fraction of the copying."""
    spec = load_suite_spec(table, suites_dir)
    columns: set[str] = set(PROVENANCE) | set(SCHEMAS[table].time_columns)
    columns |= set(_BLANK_AS_MISSING.get(table, ())) | set(_DERIVED_INPUTS.get(table, ()))
    for group in spec.get("meta", {}).get("required_one_of", []):
        columns.update(group)
    for expectation in spec["expectations"]:
        columns |= _referenced(expectation)
        columns.update(expectation.get("meta", {}).get("detail_columns", []))
    return columns


def project_for_validation(
    table: str, frame: pd.DataFrame, suites_dir: Path | None = None
) -> pd.DataFrame:
    """`frame` narrowed to validation_columns(table), in the frame's own column order."""
    wanted = validation_columns(table, suites_dir)
    return frame[[c for c in frame.columns if c in wanted]]


@dataclass
class _Job:
    table: str
    frame: pd.DataFrame  # original frame, for example rows
    view: pd.DataFrame  # what GX sees
    suite: dict[str, Any]  # suite spec with the runnable expectations only
    params: dict[str, Any]


def _thresholds(thresholds: Mapping[str, float] | None) -> dict[str, float]:
    limits = dict(DEFAULT_THRESHOLDS)
    for key, value in (thresholds or {}).items():
        if key not in DEFAULT_THRESHOLDS:
            raise ConfigError(
                f"Unknown validation threshold '{key}' (known: {', '.join(DEFAULT_THRESHOLDS)})."
            )
        if not 0 <= float(value) <= 1:
            raise ConfigError(f"Validation threshold {key} must be a share between 0 and 1.")
        limits[key] = float(value)
    return limits


def _timestamp(value: Any) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    if stamp is pd.NaT:
        raise ValueError("window_end must be a timestamp")
    if stamp.tzinfo is not None:
        raise ValueError("window_end must be naive site-local time, like the frames")
    return stamp


def _unpack(
    item: pd.DataFrame | IngestedTable, present: Iterable[str] | None
) -> tuple[pd.DataFrame, set[str] | None]:
    if isinstance(item, IngestedTable):
        frame = item.frame
        present = present if present is not None else (item.present_columns or None)
    else:
        frame = item
    return frame, (set(present) if present is not None else None)


def _available(table: str, frame: pd.DataFrame, present: set[str] | None) -> list[str]:
    """Frame columns usable for validation: canonical ones only when the source had them."""
    canonical = set(SCHEMAS[table].columns)
    return [c for c in frame.columns if present is None or c not in canonical or c in present]


def _table_view(
    table: str,
    frame: pd.DataFrame,
    present: set[str] | None,
    spec: dict[str, Any],
    code_system_aliases: Mapping[str, str] | None,
) -> tuple[pd.DataFrame, list[ExpectationOutcome]]:
    """The narrow frame GX validates, plus plain-Python contract outcomes (one-of, dtypes)."""
    lacking = [c for c in INGEST_COLUMNS.get(table, ()) if c not in frame.columns]
    if lacking:
        raise ValueError(
            f"The {table} frame lacks {', '.join(lacking)}: the pipeline adds these before "
            "validation (see validate_tables)."
        )
    available = _available(table, frame, present)
    outcomes = _one_of_outcomes(table, available, spec)
    wanted = set().union(*(_referenced(e) for e in spec["expectations"]))
    data: dict[str, pd.Series] = {c: frame[c] for c in available if c in wanted}
    data.update(_derived(table, frame, available, code_system_aliases))
    for column, series in list(data.items()):
        if pd.api.types.is_datetime64_dtype(series.dtype):
            data[column] = _as_ns(series)
        elif pd.api.types.is_string_dtype(series.dtype):
            # GX filters rows (row_condition) many times per expectation; codes copy cheaply
            data[column] = series.astype("category")
    outcomes.extend(_time_dtype_outcomes(table, frame, available))
    view = pd.DataFrame(data, index=frame.index.rename(ROW_ID))
    return view, outcomes


# String columns whose blank text the suites treat as missing (the ingest keeps text as read).
_BLANK_AS_MISSING = {
    "labs": ("patient_id",),
    "medications": ("patient_id", "end_time_raw"),
    "diagnoses": ("patient_id", "code"),
    "patients": ("patient_id",),
}


def _derived(
    table: str,
    frame: pd.DataFrame,
    available: list[str],
    code_system_aliases: Mapping[str, str] | None,
) -> dict[str, pd.Series]:
    """The derived columns the suites describe in their meta.derived_columns."""
    have = set(available)
    out: dict[str, pd.Series] = {
        c: _blank_as_missing(frame[c]) for c in _BLANK_AS_MISSING.get(table, ()) if c in have
    }
    if table == "labs":
        if have.issuperset(["analyte", "unit"]):
            codes, values = _distinct(frame[["analyte", "unit"]], _analyte_unit)
            out["analyte_unit"] = _categorical(codes, values, frame.index)
        key = ["patient_id", "analyte", "specimen_time", "value_num"]
        if have.issuperset(key):
            complete = frame[key].notna().all(axis=1)
            dup = frame.duplicated(subset=key, keep="first") & complete
            out["duplicate_flag"] = dup.astype("float64")
        if "value_raw" in have:
            value = frame["value"] if "value" in have else None
            out["non_numeric"] = pd.Series(_non_numeric(frame["value_raw"], value), frame.index)
            if "analyte" in have:
                sodium = (frame["analyte"] == "sodium").fillna(False).to_numpy(dtype=bool)
                out["sodium_non_numeric"] = out["non_numeric"].where(sodium)
    if table == "diagnoses" and "code_system" in have:
        aliases = code_system_aliases if code_system_aliases is not None else _default_aliases()
        codes, values = _distinct(
            frame[["code_system"]],
            lambda s: "" if s is None else aliases.get(normalize_label(s), s),
        )
        out["code_system"] = _categorical(codes, values, frame.index)
    return out


@functools.cache
def _default_aliases() -> dict[str, str]:
    return dict(load_rules().code_system_aliases)


def _blank_as_missing(series: pd.Series) -> pd.Series:
    text = series.astype("str")
    return text.where(text.str.strip().str.len() > 0)


def _analyte_unit(analyte: str | None, unit: str | None) -> str | None:
    """'sodium|mmol/l': the unit compared as rules.loader.normalize_unit does; '' if missing."""
    if analyte is None:
        return None
    return f"{analyte}|{normalize_unit(unit) if unit is not None else ''}"


def _non_numeric(value_raw: pd.Series, value: pd.Series | None) -> np.ndarray:
    """1.0 where clean.parse_values finds no number (spec §3: censored values are numbers, an
    empty value is not, a finite source-parsed `value` rescues the row), else 0.0.

    parse_values runs once per distinct text, then the result is broadcast to the rows.
    """
    codes, uniques = pd.factorize(value_raw)
    distinct = pd.Series(uniques, dtype="str")
    parsed, _ = parse_values(distinct, pd.Series(np.nan, index=distinct.index))
    flags = np.append(parsed.isna().to_numpy(), True)[codes]  # code -1: missing text
    if value is not None:
        number = pd.to_numeric(value, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        flags &= ~np.isfinite(number)
    return flags.astype("float64")


def _distinct(columns: pd.DataFrame, fn: Callable[..., Any]) -> tuple[np.ndarray, list[Any]]:
    """fn applied once per distinct row of `columns` (missing values as None).

    Returns per-row codes into the list of results: on a million lab rows with a few hundred
    distinct (analyte, unit) pairs this is ~100x faster than string operations per row.
    """
    key = np.zeros(len(columns), dtype=np.int64)
    uniques = []
    for name in columns.columns:
        codes, values = pd.factorize(columns[name])
        key = key * (len(values) + 1) + (codes + 1)  # 0 = missing
        uniques.append(values)
    key_codes, keys = pd.factorize(key)
    results = []
    for combined in keys.tolist():
        parts: list[Any] = []
        for values in reversed(uniques):
            combined, position = divmod(combined, len(values) + 1)
            parts.append(None if position == 0 else str(values[position - 1]))
        results.append(fn(*reversed(parts)))
    return key_codes, results


def _categorical(codes: np.ndarray, values: list[Any], index: pd.Index) -> pd.Series:
    value_codes, categories = pd.factorize(pd.Series(values, dtype="object"))
    return pd.Series(pd.Categorical.from_codes(value_codes[codes], categories), index=index)


def normalize_units(units: pd.Series) -> pd.Series:
    """rules.loader.normalize_unit per row (computed once per distinct unit); missing -> ''."""
    codes, values = _distinct(units.to_frame(), lambda u: "" if u is None else normalize_unit(u))
    return _categorical(codes, values, units.index).astype("str")


def _as_ns(series: pd.Series) -> pd.Series:
    """datetime64[ns] so GX compares vectorised; keeps the unit when ns would overflow."""
    if series.dtype == "datetime64[ns]":
        return series
    try:
        return series.astype("datetime64[ns]")
    except (pd.errors.OutOfBoundsDatetime, OverflowError):
        return series


def _one_of_outcomes(
    table: str, available: list[str], spec: dict[str, Any]
) -> list[ExpectationOutcome]:
    outcomes = []
    for group in spec.get("meta", {}).get("required_one_of", []):
        ok = any(c in available for c in group)
        detail = f"at least one of the columns {', '.join(group)} is required"
        outcomes.append(
            _plain(
                table, "hyposcreen.columns_one_of", "|".join(group), detail, "required_column", ok
            )
        )
    return outcomes


def _time_dtype_outcomes(
    table: str, frame: pd.DataFrame, available: list[str]
) -> list[ExpectationOutcome]:
    outcomes = []
    for column in SCHEMAS[table].time_columns:
        if column in available and not pd.api.types.is_datetime64_dtype(frame[column].dtype):
            detail = f"column {column} has dtype {frame[column].dtype}, expected naive datetime64"
            outcomes.append(_plain(table, "hyposcreen.column_dtype", column, detail, "dtype"))
    return outcomes


def _integer_dtype_outcomes(view: pd.DataFrame, spec: dict[str, Any]) -> list[ExpectationOutcome]:
    outcomes = []
    for column in spec.get("meta", {}).get("integer_columns", []):
        if column in view.columns and len(view):
            ok = pd.api.types.is_integer_dtype(view[column].dtype)
            detail = f"column {column} has dtype {view[column].dtype}, expected integers"
            outcomes.append(
                _plain(REVIEW_LIST, "hyposcreen.column_dtype", column, detail, "dtype", ok)
            )
    return outcomes


def _plain(
    table: str, name: str, column: str | None, detail: str, reason: str, success: bool = False
) -> ExpectationOutcome:
    """Outcome of a contract check done in plain Python (always critical)."""
    return ExpectationOutcome(
        table, name, column, "critical", success, 0, 0.0, [], [], detail, reason
    )


def _referenced(expectation: dict[str, Any]) -> set[str]:
    """Columns an expectation names (kwargs, column sets and row_condition)."""
    kwargs = expectation.get("kwargs", {})
    columns = {
        kwargs[k] for k in ("column", "column_A", "column_B") if isinstance(kwargs.get(k), str)
    }
    for key in ("column_list", "column_set"):
        columns.update(kwargs.get(key) or [])
    columns.update(_condition_columns(kwargs.get("row_condition")))
    return columns


def _condition_columns(condition: Any) -> set[str]:
    if not isinstance(condition, dict):
        return set()
    found = set()
    column = condition.get("column")
    if isinstance(column, dict) and isinstance(column.get("name"), str):
        found.add(column["name"])
    for sub in condition.get("conditions", []):
        found |= _condition_columns(sub)
    return found


def _job(
    table: str,
    frame: pd.DataFrame,
    view: pd.DataFrame,
    spec: dict[str, Any],
    params: dict[str, Any],
    skipped: list[dict[str, str]],
) -> _Job:
    """Keep the expectations whose columns exist; the rest are reported as skipped."""
    runnable = []
    for expectation in spec["expectations"]:
        missing = sorted(_referenced(expectation) - set(view.columns))
        if missing and not expectation["type"].startswith(_TABLE_LEVEL_PREFIXES):
            skipped.append(
                {
                    "table": table,
                    "expectation": expectation["type"],
                    "detail": expectation["meta"].get("detail", ""),
                    "missing_columns": ", ".join(missing),
                }
            )
            continue
        runnable.append(_substitute(expectation, params))
    suite = {**spec, "expectations": runnable}
    return _Job(table, frame, view, suite, params)


def _substitute(value: Any, params: Mapping[str, Any]) -> Any:
    """Replace every {"$PARAMETER": name} by its run-time value."""
    if isinstance(value, dict):
        if set(value) == {"$PARAMETER"}:
            name = value["$PARAMETER"]
            if name not in params:
                raise ConfigError(f"Expectation suite parameter '{name}' is not known.")
            return params[name]
        return {k: _substitute(v, params) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, params) for v in value]
    return value


# --------------------------------------------------------------------------- running GX


def _gx() -> Any:
    import great_expectations as gx  # imported on first use: it costs ~3 s

    return gx


def _gx_version() -> str:
    return str(getattr(_gx(), "__version__", "unknown"))


def _new_context() -> Any:
    gx = _gx()
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    return gx.get_context(project_config=config, mode="ephemeral")


def _batch_definition(context: Any, table: str, cache: dict[str, Any]) -> Any:
    """One pandas dataframe asset per table in the context's "hyposcreen" data source."""
    if table not in cache:
        if "__source__" not in cache:
            cache["__source__"] = context.data_sources.add_pandas("hyposcreen")
        asset = cache["__source__"].add_dataframe_asset(table)
        cache[table] = asset.add_batch_definition_whole_dataframe("whole")
    return cache[table]


def _run(jobs: list[_Job], docs_dir: Path | None) -> tuple[list[Any], Path | None]:
    """Validate every job; with docs_dir through checkpoints that also build Data Docs."""
    global _CONTEXT
    gx = _gx()
    with _LOCK:
        if docs_dir is None:
            if _CONTEXT is None:
                _CONTEXT = _new_context()
            results = []
            for job in jobs:
                batch = _batch_definition(_CONTEXT, job.table, _BATCH_DEFINITIONS).get_batch(
                    batch_parameters={"dataframe": job.view}
                )
                suite = gx.ExpectationSuite(**job.suite)
                results.append(batch.validate(suite, result_format=_RESULT_FORMAT))
            return results, None
        return _run_with_docs(jobs, Path(docs_dir))


def _run_with_docs(jobs: list[_Job], docs_dir: Path) -> tuple[list[Any], Path]:
    """A fresh context per run, so the docs index shows this run only."""
    gx = _gx()
    from great_expectations.checkpoint import UpdateDataDocsAction

    docs_dir.mkdir(parents=True, exist_ok=True)
    context = _new_context()
    context.add_data_docs_site(
        DOCS_SITE,
        {
            "class_name": "SiteBuilder",
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(docs_dir.resolve()),
            },
        },
    )
    sources: dict[str, Any] = {}
    results = []
    for job in jobs:
        suite = context.suites.add(gx.ExpectationSuite(**job.suite))
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(
                name=job.table, data=_batch_definition(context, job.table, sources), suite=suite
            )
        )
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name=f"hyposcreen_{job.table}",
                validation_definitions=[definition],
                actions=[UpdateDataDocsAction(name="data_docs", site_names=[DOCS_SITE])],
                result_format=_RESULT_FORMAT,
            )
        )
        run = checkpoint.run(batch_parameters={"dataframe": job.view})
        results.append(next(iter(run.run_results.values())))
    _forget_context()
    return results, docs_dir / "index.html"


def _forget_context() -> None:
    """GX keeps the last context it built in a module global, and through it the validated
    frames (its batch data): hand that slot back so a run's frames are freed once read."""
    from great_expectations.data_context.data_context.context_factory import project_manager

    project_manager.set_project(_CONTEXT)


# --------------------------------------------------------------------------- reading results


def _outcomes(job: _Job, suite_result: Any) -> list[ExpectationOutcome]:
    return [_outcome(job, r) for r in suite_result.results]


def _outcome(job: _Job, result: Any) -> ExpectationOutcome:
    config = result.expectation_config
    meta = dict(config.meta or {})
    kwargs = dict(config.kwargs or {})
    column = kwargs.get("column") or kwargs.get("column_A")
    severity = str(meta.get("severity", "critical"))
    reason = str(meta.get("reason", ""))
    detail = _detail(str(meta.get("detail", config.type)), job.params)
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
    labels = _index_labels(data.get("unexpected_index_list"))
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
    rows = frame.loc[labels, columns]
    distinct = len(rows.astype("str").drop_duplicates())
    names = ", ".join(columns)
    plural = "s" if distinct != 1 else ""
    return f" ({distinct} distinct value{plural} of {names} in the rows cited)"


def _detail(template: str, params: Mapping[str, Any]) -> str:
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template


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


def _index_labels(index_list: Any) -> list[int]:
    """unexpected_index_list comes as [{"_row": [ids...]}] or as [{"_row": id, ...}, ...]."""
    labels: list[int] = []
    for item in index_list or []:
        value = item.get(ROW_ID) if isinstance(item, dict) else item
        if isinstance(value, list):
            labels.extend(int(v) for v in value)
        elif value is not None:
            labels.append(int(value))
    return labels


def _examples(job: _Job, labels: list[int]) -> list[str]:
    if not labels:
        return []
    frame = job.frame
    if {"source_file", "source_row"}.issubset(frame.columns):
        rows = frame.loc[labels, ["source_file", "source_row"]]
        return [f"{f}:{r}" for f, r in zip(rows["source_file"], rows["source_row"], strict=True)]
    return [f"{job.table}:{label + 1}" for label in labels]
