"""The rules that label a case's printed sodium figures, so rounding never moves a figure across
them (report/numbers.rounded_on_side).

Spec §4 rounds outputs to 1 decimal so that "a printed value never reads as the next band";
half away from zero alone does not keep that promise for 125.04 (mild under the seed profile's
'moderate <= 125', printed 125.0). Each figure is checked against the rules that judged it:

- a sodium (measured, corrected, latest, an over-correction's two results): the profile's
  hyponatremia threshold and severity bands, and the index sodium of correction risk (<= 105);
- delta_48h: the fall that makes a case `soon` (<= -5) and the trend's change (<= -2 falling,
  >= 2 rising);
- an over-correction's rise: its case's limit (a rise is over it when > 8, or > 6).
"""

from __future__ import annotations

import numpy as np

from hyposcreen.report.numbers import Cut, rounded_on_side
from hyposcreen.rules.loader import RuleSet


def sodium_cuts(rules: RuleSet, profile_name: str | None) -> list[Cut]:
    """The rules that label a sodium figure under the profile."""
    profile = rules.profile(profile_name)
    cuts: list[Cut] = [(profile.hyponatremia_op, profile.hyponatremia_threshold)]
    cuts += [(band.op, float(band.threshold)) for band in profile.bands]
    cuts.append(("<=", rules.limits.correction_risk_index_sodium_max))
    return cuts


def delta_cuts(rules: RuleSet) -> list[Cut]:
    """The rules that label a delta_48h: the tier's fall and the trend's change (a rise of
    `change` or more is 'rising': the complement of `< change`)."""
    change = rules.limits.trend_change_mmol_l
    return [("<=", rules.limits.soon_delta_48h_max), ("<=", -change), ("<", change)]


def sodium_figures(values: np.ndarray, rules: RuleSet, profile_name: str | None) -> np.ndarray:
    """Sodium figures (any shape) rounded for output, each kept on its side of the profile's
    bands."""
    return rounded_on_side(values, sodium_cuts(rules, profile_name))


def delta_figures(values: np.ndarray, rules: RuleSet) -> np.ndarray:
    """delta_48h figures rounded for output, each kept on its side of the tier and trend."""
    return rounded_on_side(values, delta_cuts(rules))


def rise_figures(rises: np.ndarray, limits: np.ndarray) -> np.ndarray:
    """Over-correction rises rounded for output, each kept above its case's limit (a rise of
    8.04 over the limit 8 is not printed 8.0)."""
    return rounded_on_side(rises, [("<=", np.asarray(limits, dtype="float64"))])
