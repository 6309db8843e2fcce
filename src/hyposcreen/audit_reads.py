"""What a run judges of its delivery before it publishes, judged by `hyposcreen audit` once
per read of the input (the months cut from one read together; a month read for itself, on
its own): the stop of a table whose key times mostly do not read (recipe_publish.
screenable_times) and the data contracts (audit_contracts), whose share contracts are also
counted for each month of a read holding several (audit_month_contracts). Their stops are the
run's InputErrors with the run's messages (exit 3, no report written); the contracts' warnings
and outcome, the months' too, go to the audit's warnings and manifest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from hyposcreen.adapters.time_columns import TimeColumns
from hyposcreen.audit_contracts import SentContracts, outcome, send_contracts, take_contracts
from hyposcreen.audit_month_contracts import (
    MonthShare,
    judge_months,
    month_outcome,
    month_warnings,
)
from hyposcreen.audit_warning_text import count_withheld
from hyposcreen.config import Window
from hyposcreen.context import CleanedInputs, RunContext
from hyposcreen.quarantine_text import Matches
from hyposcreen.recipe_clean import held_sizes
from hyposcreen.recipe_contracts import contract_limits
from hyposcreen.recipe_quarantine import quarantined_rows
from hyposcreen.recipe_warnings import screenable_times
from hyposcreen.run_warnings import AUDIT_SETS_ASIDE, RunWarning, demoted_contract_warnings


@dataclass(frozen=True)
class MonthQuarantine:
    """A month's quarantine rows and reconciliation, as a run of the month publishes them, and
    (when the month's read was judged) the Matches and time-column names the unreadable-time
    stop read, which the month's warnings take."""

    rows: pd.DataFrame
    reconciliation: dict[str, dict[str, Any]]
    judged: tuple[Matches, TimeColumns] | None = None


@dataclass
class ReadChecks:
    """The audit's reads judged as a run judges its delivery: `month` for each month, in
    order; `warnings` and `outcome` once the months are screened. `months`: the audit's
    (label, window) in order, whose share contracts are judged month by month too
    (audit_month_contracts) in each read that holds several."""

    months: list[tuple[str, Window]] = field(default_factory=list)
    sent: list[tuple[SentContracts, str]] = field(default_factory=list)
    validated: list[dict[str, Any]] = field(default_factory=list)
    found: list[tuple[RunWarning, str]] = field(default_factory=list)
    by_month: list[MonthShare] = field(default_factory=list)
    month_limits: tuple[int, float] = (0, 0.0)  # contracts: min_rows_to_judge, broken_share
    min_cell: int = 0  # the audit's: the months' counts below it are written `<k`
    # the months whose sodium_results_in_window the tables hide: their rows judged not told
    hidden_months: frozenset[str] = frozenset()

    def month(
        self, ctx: RunContext, cleaned: CleanedInputs, read: tuple[str, Window] | None
    ) -> MonthQuarantine:
        """The month's quarantine; when the month is the first of a read (`read`: the label
        and period of that read's months), the read judged: a table whose key times mostly
        do not read stops the audit before any of its months is screened (the months cut
        from one read hold the same unread rows against the same rows that matter: every
        month keeps the rows whose time did not read, rows_in is the read's), its contracts
        sent (the previous read's taken first) and its share contracts counted per month."""
        rows = quarantined_rows(ctx, cleaned)
        reconciliation = cleaned.reconciled(held_sizes(ctx))
        if read is None:
            return MonthQuarantine(rows, reconciliation)
        judged = screenable_times(ctx, rows, reconciliation)
        self._take()
        self.sent = [(send_contracts(ctx, cleaned, read[1]), read[0])]
        self.month_limits = contract_limits(ctx)[1:]
        period = read[1]
        held = [m for m in self.months if period.start <= m[1].start and m[1].end <= period.end]
        self.by_month += judge_months(ctx, self.sent[0][0].frames()["labs"], held)
        return MonthQuarantine(rows, reconciliation, judged)

    def warnings(self) -> list[tuple[RunWarning, str]]:
        """The contracts' warnings a run would give of each read, with the read's label, once
        every read's contracts are taken (a critical failure: the run's InputError), then the
        months over a share contract's limit, each with its month's label."""
        self._take()
        went = AUDIT_SETS_ASIDE[1]
        limits, hidden = self.month_limits, self.hidden_months
        return self.found + month_warnings(self.by_month, limits, went, self.min_cell, hidden)

    def outcome(self) -> dict[str, Any]:
        """What audit_manifest.json says of the contracts (audit_contracts.outcome), the
        months' shares under `by_month` (audit_month_contracts.month_outcome)."""
        return {
            **outcome(self.validated, self.min_cell),
            "by_month": month_outcome(
                self.by_month, self.month_limits[0], self.min_cell, self.hidden_months
            ),
        }

    def _take(self) -> None:
        for contracts, label in self.sent:
            self.validated.append({**take_contracts(contracts), "period": label})
            for found in self.validated[-1]["outcomes"]:  # one warning per demoted outcome
                for w in demoted_contract_warnings({"outcomes": [found]}, AUDIT_SETS_ASIDE):
                    # its share of a few rows gives their count back: 5.4% of the read
                    if 0 < int(found["unexpected_count"]) < self.min_cell:
                        w = RunWarning(w.code, count_withheld(w.code, self.min_cell))
                    self.found.append((w, label))
        self.sent = []
