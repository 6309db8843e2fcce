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

The work is split by concern: ``suites`` (load the suite files, fill in run-time values),
``views`` and ``derived`` (what GX sees of a table), ``tables`` (a table held in part: the
columns read row by row, the quoted rows on demand), ``batches`` (a suite run on narrow batches
of its view, the results put together as GX's one result), ``context`` (the process-wide
ephemeral GX context, reused by every window), ``gx_pages`` (GX's Data Docs pages for this
run's results) and ``docs`` (their offline copy and our index), ``results`` (GX results read back),
``outcomes`` (the plain ValidationReport), ``run`` (the input tables) and ``review_list`` (the
output contract). This module is the public entry: the pipeline imports ``validate_tables``,
``project_for_validation`` and ``validate_review_list`` from here. Importing it does not import
GX (~1 s, ``gx_import``); the first validation does, or the contracts worker (``warm_up``,
``worker``) in a process of its own while a run reads.
"""

from hyposcreen.validate.derived import normalize_units
from hyposcreen.validate.outcomes import ExpectationOutcome, ValidationReport
from hyposcreen.validate.review_list import review_list_check, validate_review_list
from hyposcreen.validate.run import validate_tables
from hyposcreen.validate.suites import (
    DEFAULT_THRESHOLDS,
    REVIEW_LIST,
    SUITES_DIR,
    TABLES,
    load_suite_spec,
    risk_factor_regex,
)
from hyposcreen.validate.views import project_for_validation, validation_columns

__all__ = [
    "DEFAULT_THRESHOLDS",
    "REVIEW_LIST",
    "SUITES_DIR",
    "TABLES",
    "ExpectationOutcome",
    "ValidationReport",
    "load_suite_spec",
    "normalize_units",
    "project_for_validation",
    "review_list_check",
    "risk_factor_regex",
    "validate_review_list",
    "validate_tables",
    "validation_columns",
]
