"""The expectation suites: one JSON file per table in ``expectations/``, each expectation with
``meta: {"severity", "reason", "detail"}``. Values known only at run time are written
``{"$PARAMETER": name}`` and substituted per run, except those a job hands GX as its suite
parameters (GX substitutes them when it validates: a value that changes every night, such as
window_end, then leaves the suite, and its Data Docs page, the same every night); a Job is a
suite cut down to the expectations whose columns exist, ready for the GX context."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from hyposcreen.errors import ConfigError

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


TABLE_LEVEL_PREFIXES = ("expect_table_", "expect_column_to_exist")  # never skipped


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


def contract_columns(spec: dict[str, Any]) -> list[str]:
    """The ordered column list a suite's expect_table_columns_to_match_ordered_list names (the
    review list's column contract lives in its suite, so the report stage is not imported)."""
    for expectation in spec.get("expectations", []):
        if expectation.get("type") == "expect_table_columns_to_match_ordered_list":
            return list(expectation["kwargs"]["column_list"])
    raise ConfigError(f"Expectation suite {spec.get('name')} names no ordered column list.")


def risk_factor_regex(vocabulary: Sequence[str]) -> str:
    """Regex for a ';'-joined list of vocabulary entries (empty allowed)."""
    entry = "(?:" + "|".join(re.escape(v) for v in sorted(vocabulary, key=len, reverse=True)) + ")"
    return rf"^(?:{entry}(?:;{entry})*)?$"


@dataclass
class Job:
    table: str
    frame: pd.DataFrame  # original frame, for example rows
    view: pd.DataFrame  # what GX sees
    suite: dict[str, Any]  # suite spec with the runnable expectations only
    params: dict[str, Any]
    columns: tuple[str, ...] = ()  # the table's column names as GX's table-level checks see them
    # values of the {"$PARAMETER": name} left in `suite`, given to GX as its suite parameters
    suite_parameters: dict[str, Any] = field(default_factory=dict)


def thresholds_with_defaults(thresholds: Mapping[str, float] | None) -> dict[str, float]:
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


def share_parameters(thresholds: Mapping[str, float] | None) -> dict[str, float]:
    """The contract limits (DEFAULT_THRESHOLDS, overridden by rules.yaml `contracts:`) and the
    `mostly` each share check is given from its limit, as the suites' parameters: a share
    check passes when at least `mostly` of its rows hold an expected value (the epsilon keeps
    a share exactly at its limit passing). `hyposcreen audit` judges its months' shares by
    these same numbers (audit_month_contracts)."""
    limits = thresholds_with_defaults(thresholds)
    return {
        **limits,
        "duplicate_mostly": max(0.0, 1.0 - limits["max_duplicate_rate"] - 1e-12),
        "numeric_sodium_mostly": max(0.0, 1.0 - limits["max_non_numeric_sodium_rate"] - 1e-12),
    }


def referenced_columns(expectation: dict[str, Any]) -> set[str]:
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


def build_job(
    table: str,
    frame: pd.DataFrame,
    view: pd.DataFrame,
    spec: dict[str, Any],
    params: dict[str, Any],
    skipped: list[dict[str, str]],
    columns: Sequence[str] | None = None,
    gx_parameters: Sequence[str] = (),
) -> Job:
    """Keep the expectations whose columns exist; the rest are reported as skipped. `columns`
    (default: the view's) are the table's column names: the view may leave out the values of
    a column that only a table-level check names (GX reads its name only). The parameters
    named in `gx_parameters` stay ``{"$PARAMETER": name}`` in the suite; GX substitutes them
    from the job's `suite_parameters` when it validates."""
    names = tuple(view.columns) if columns is None else tuple(columns)
    runnable = []
    for expectation in expand_templates(spec["expectations"], params):
        missing = sorted(referenced_columns(expectation) - set(names))
        if missing and not expectation["type"].startswith(TABLE_LEVEL_PREFIXES):
            skipped.append(
                {
                    "table": table,
                    "expectation": expectation["type"],
                    "detail": expectation["meta"].get("detail", ""),
                    "missing_columns": ", ".join(missing),
                }
            )
            continue
        runnable.append(substitute(expectation, params, frozenset(gx_parameters)))
    suite = {**spec, "expectations": runnable}
    left = _parameters_named(runnable)  # a table whose suite names none gets none: its
    passed = {name: params[name] for name in gx_parameters if name in left}  # result may repeat
    return Job(table, frame, view, suite, params, names, passed)


def expand_templates(
    expectations: list[dict[str, Any]], params: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """An expectation with ``meta.for_each: name`` stands for one expectation per item of the
    run-time list ``params[name]`` (each item a dict of parameters, e.g. one plausible range
    per analyte), in place and in the list's order; its detail is written per item."""
    expanded = []
    for expectation in expectations:
        name = expectation.get("meta", {}).get("for_each")
        if not name:
            expanded.append(expectation)
            continue
        if name not in params:
            raise ConfigError(f"Expectation suite parameter '{name}' is not known.")
        for item in params[name]:
            values = {**params, **item}
            copy = substitute(expectation, values)
            copy["meta"]["detail"] = detail_text(str(copy["meta"].get("detail", "")), values)
            expanded.append(copy)
    return expanded


def filled_expectations(spec: dict[str, Any], params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The suite's expectations as a run checks them: templates expanded, parameters filled."""
    return [substitute(e, params) for e in expand_templates(spec["expectations"], params)]


def detail_text(template: str, values: Mapping[str, Any]) -> str:
    """An expectation's `meta.detail` with its `{name}`s filled from `values` (as written
    when one does not fill)."""
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return template


def _parameters_named(value: Any) -> set[str]:
    """The names of every {"$PARAMETER": name} left in `value`."""
    if isinstance(value, dict):
        if set(value) == {"$PARAMETER"}:
            return {str(value["$PARAMETER"])}
        return set().union(*(_parameters_named(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_parameters_named(v) for v in value))
    return set()


def substitute(value: Any, params: Mapping[str, Any], kept: frozenset[str] = frozenset()) -> Any:
    """Replace every {"$PARAMETER": name} by its run-time value (but those named in `kept`)."""
    if isinstance(value, dict):
        if set(value) == {"$PARAMETER"}:
            name = value["$PARAMETER"]
            if name in kept:
                return dict(value)
            if name not in params:
                raise ConfigError(f"Expectation suite parameter '{name}' is not known.")
            return params[name]
        return {k: substitute(v, params, kept) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, params, kept) for v in value]
    return value
