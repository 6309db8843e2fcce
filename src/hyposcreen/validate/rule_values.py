"""The values the suites take from the loaded rules at run time: the units accepted per analyte,
the analytes recorded for presence only (any unit), every plausible range the rules define and
the code systems the rules know.

The suites name these as ``{"$PARAMETER": name}`` (or repeat one expectation per range with
``meta.for_each``), so a site's ``--rules`` copy that accepts a new unit or sets a range is
what the contracts check: a suite never holds a copy of the rules that could disagree.
"""

from __future__ import annotations

import functools
from typing import Any

from hyposcreen.rules.loader import RuleSet, load_rules

PRESENCE_ONLY_UNIT = "*"  # analytes.csv canonical_unit of an analyte recorded for presence only


@functools.cache
def packaged_rules() -> RuleSet:
    """The packaged rules, for callers that validate without giving theirs."""
    return load_rules()


def rule_parameters(rules: RuleSet) -> dict[str, Any]:
    """Suite parameters from `rules`, in a stable order (Data Docs and outcomes repeat)."""
    presence_only = sorted(
        name for name, spec in rules.analytes.items() if spec.canonical_unit == PRESENCE_ONLY_UNIT
    )
    ranges = [
        {
            "analyte": name,
            "plausible_low": spec.plausible_low,
            "plausible_high": spec.plausible_high,
            "canonical_unit": spec.canonical_unit,
        }
        for name, spec in sorted(rules.analytes.items())
        if spec.plausible_low is not None and spec.plausible_high is not None
    ]
    return {
        # 'sodium|mmol/l': the pairs rules.unit_factors holds (units normalised as the loader does)
        "accepted_analyte_units": sorted(f"{a}|{u}" for a, u in rules.unit_factors),
        "presence_only_analytes": presence_only,
        # the canonical code system names of rules.yaml `code_systems:` (a site may add one)
        "known_code_systems": sorted(set(rules.code_system_aliases.values())),
        "plausible_range": ranges,
    }
