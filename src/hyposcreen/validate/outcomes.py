"""The plain results of validation: one ExpectationOutcome per check, gathered in a
ValidationReport that the pipeline reads (critical failures, warning rows per table, the
manifest summary). Holds no Great Expectations objects."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from hyposcreen.errors import InputError

ROW_ID = "_row"


MAX_EXAMPLES = 5


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
    gx_version: str | None = None  # told by a contracts worker (validate/worker.py); else GX's

    def as_message(self) -> dict[str, Any]:
        """Everything the report holds, as JSON (row labels included: counts and frame
        labels, no values), for a contracts worker's reply."""
        from hyposcreen.validate.context import gx_version

        return {
            "outcomes": [{**o.as_dict(), "unexpected_percent": o.unexpected_percent,
                          "row_labels": list(o.row_labels)} for o in self.outcomes],
            "skipped": list(self.skipped),
            "seconds": self.seconds,
            "docs_index": str(self.docs_index) if self.docs_index else None,
            "gx_version": self.gx_version or gx_version(),
        }  # fmt: skip

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> ValidationReport:
        """The report `as_message` wrote."""
        docs = message.get("docs_index")
        return cls(
            [ExpectationOutcome(**o) for o in message["outcomes"]],
            [dict(s) for s in message["skipped"]],
            float(message["seconds"]),
            Path(docs) if docs else None,
            str(message["gx_version"]),
        )

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
        from hyposcreen.validate.context import gx_version  # GX is imported on first use

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
            "great_expectations": self.gx_version or gx_version(),
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


def plain_outcome(
    table: str, name: str, column: str | None, detail: str, reason: str, success: bool = False
) -> ExpectationOutcome:
    """Outcome of a contract check done in plain Python (always critical)."""
    return ExpectationOutcome(
        table, name, column, "critical", success, 0, 0.0, [], [], detail, reason
    )
