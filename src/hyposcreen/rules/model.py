"""The typed shape of the rules data: a frozen RuleSet and its parts (profiles, analytes,
conditions, ingredients, warning thresholds), as `rules.loader` builds them."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from hyposcreen.errors import ConfigError
from hyposcreen.rules.sections import Limits, Windows


@dataclass(frozen=True)
class SeverityBand:
    label: str
    level: str
    op: str
    threshold: float


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    hyponatremia_op: str
    hyponatremia_threshold: float
    bands: tuple[SeverityBand, ...]


@dataclass(frozen=True)
class Analyte:
    name: str
    fluid: str
    canonical_unit: str
    urine_counterpart: str | None
    plausible_low: float | None
    plausible_high: float | None


@dataclass(frozen=True)
class ConditionRule:
    name: str
    risk_factor: str | None
    correction_risk: bool
    timing: str


@dataclass(frozen=True)
class ConditionCode:
    condition: str
    code_system: str
    code: str  # without dots, upper case
    match: str  # prefix | exact


@dataclass(frozen=True)
class Ingredient:
    name: str
    drug_class: str
    atc: str
    rxnorm: str | None


@dataclass(frozen=True)
class WarningThresholds:
    """rules.yaml `warnings:` — when a completed run is screened with warnings (exit 4)."""

    max_unrecognised_lab_share: float = 0.5
    max_unrecognised_medication_share: float = 0.5
    max_unreadable_time_share: float = 0.05
    max_missing_key_share: float = 0.5
    max_bad_unit_share: float = 0.05
    max_unknown_code_system_share: float = 0.05
    max_loinc_shape_share: float = 0.05
    max_malformed_rows: int = 0
    min_rows_for_share: int = 10
    max_near_match_id_share: float = 0.05
    near_window_days: float = 7.0
    sodium_drop_fraction: float = 1 / 3
    sodium_trailing_nights: int = 7

    @classmethod
    def from_yaml(cls, raw: Any) -> WarningThresholds:
        if raw is None:
            return cls()
        if not isinstance(raw, dict):
            raise ConfigError("Rules file: 'warnings' must be a mapping of thresholds.")
        known = {f: type(getattr(cls(), f)) for f in cls.__dataclass_fields__}
        values: dict[str, Any] = {}
        for key, value in raw.items():
            if key not in known:
                raise ConfigError(
                    f"Rules file: warnings.{key} is not a known threshold "
                    f"(known: {', '.join(sorted(known))})."
                )
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ConfigError(f"Rules file: warnings.{key} must be a number >= 0.")
            if known[key] is int and value != int(value):
                raise ConfigError(f"Rules file: warnings.{key} must be a whole number.")
            values[key] = known[key](value)
        return cls(**values)


@dataclass(frozen=True)
class RuleSet:
    version: str
    content_hash: str
    default_profile: str
    profiles: dict[str, Profile]
    glucose: dict[str, Any]
    windows: Windows
    limits: Limits
    statuses: dict[str, frozenset[str]]
    urine_words: tuple[str, ...]
    other_fluid_words: tuple[str, ...]
    code_system_aliases: dict[str, str]  # normalised alias -> canonical system
    conditions: dict[str, ConditionRule]
    risk_factor_vocabulary: tuple[str, ...]
    workup_analytes: tuple[str, ...]
    analytes: dict[str, Analyte]
    loinc_to_analyte: dict[str, str]
    unit_factors: dict[tuple[str, str], float]  # (analyte, normalised unit) -> factor
    ingredients: dict[str, Ingredient]
    synonyms: dict[str, tuple[str, ...]]  # synonym -> ingredients
    atc_combinations: dict[str, tuple[str, ...]]  # ATC prefix -> drug classes
    condition_codes: tuple[ConditionCode, ...]
    # SNOMED CT code (as the rules compare codes) -> condition, read only to warn of rows so
    # coded that no condition lists (snomed_condition_hints.csv; rules.condition_hints)
    snomed_condition_hints: dict[str, str] = field(default_factory=dict)
    lab_dictionary: dict[str, str] = field(default_factory=dict)  # normalised name -> analyte
    contracts: dict[str, float] = field(default_factory=dict)  # data-contract thresholds
    audit: dict[str, Any] = field(default_factory=dict)  # `hyposcreen audit` settings
    warnings: WarningThresholds = field(default_factory=WarningThresholds)
    # specimen words that say blood (the coverage report names the other specimen texts
    # read as blood; none: nothing is named)
    blood_words: tuple[str, ...] = ()

    def profile(self, name: str | None) -> Profile:
        key = name or self.default_profile
        if key not in self.profiles:
            known = ", ".join(sorted(self.profiles))
            raise ConfigError(
                f"Unknown profile '{key}'. Profiles in rules {self.version}: {known}."
            )
        return self.profiles[key]

    def with_lab_dictionary(self, extra: dict[str, str]) -> RuleSet:
        """A copy whose lab dictionary is extended (and overridden) by a site dictionary."""
        merged = {**self.lab_dictionary, **extra}
        return _replace(self, lab_dictionary=merged)


def _replace(rules: RuleSet, **changes: Any) -> RuleSet:
    return replace(rules, **changes)
