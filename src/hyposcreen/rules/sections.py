"""Typed, strict sections of rules.yaml: windows and limits as frozen dataclasses.

A key the code does not know, a key it needs that is missing, or a value that is not a number is
a ConfigError naming the key and the file when the rules are loaded, never a KeyError while
screening. The top-level sections the loader accepts are listed once, in TOP_LEVEL_SECTIONS.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

from hyposcreen.errors import ConfigError

# Every top-level key of rules.yaml: name -> required. A new section is one line here.
TOP_LEVEL_SECTIONS: dict[str, bool] = {
    "version": True,
    "default_profile": True,
    "profiles": True,
    "glucose_correction": True,
    "windows": True,
    "limits": True,
    "contracts": False,
    "statuses": True,
    "specimen": True,
    "code_systems": True,
    "conditions": True,
    "risk_factor_vocabulary": True,
    "workup_analytes": True,
    "audit": False,
    "warnings": False,
}


@dataclass(frozen=True)
class Windows:
    """Time spans of the spec (hours or days of elapsed time, spec §11)."""

    context_hours_before_window: float
    medication_grace_days: float
    medication_stopped_active_days: float
    new_start_days: float
    cramp_window_days: float
    cofactor_window_hours: float
    albumin_window_hours: float
    delta_window_hours: float
    overcorrection_window_hours: float
    workup_hours_before: float
    workup_hours_after: float
    late_result_lookback_hours: float
    spurious_neighbour_hours: float


@dataclass(frozen=True)
class Limits:
    """Thresholds of the screen, tiers and nightly re-listing."""

    relist_nadir_drop_mmol_l: float
    relist_after_days: float
    overcorrection_mmol_per_24h: float
    overcorrection_with_risk_mmol_per_24h: float
    correction_risk_index_sodium_max: float
    soon_delta_48h_max: float
    soon_mild_min_risk_categories: float
    potassium_low_mmol_l: float
    magnesium_low_mg_dl: float
    ionized_calcium_low_mmol_l: float
    total_calcium_low_mg_dl: float
    albumin_reference_g_dl: float
    albumin_calcium_factor: float
    trend_change_mmol_l: float
    spurious_drop_mmol_l: float


Section = TypeVar("Section", Windows, Limits)


def check_top_level(raw: Any, path: Path) -> dict[str, Any]:
    """The parsed rules.yaml as a mapping with only known sections and every required one."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the rules file must be a mapping of sections.")
    unknown = sorted(str(k) for k in raw if k not in TOP_LEVEL_SECTIONS)
    if unknown:
        known = ", ".join(TOP_LEVEL_SECTIONS)
        raise ConfigError(f"{path}: unknown section(s) {', '.join(unknown)} (known: {known}).")
    missing = [k for k, required in TOP_LEVEL_SECTIONS.items() if required and k not in raw]
    if missing:
        raise ConfigError(f"{path}: missing section(s) {', '.join(missing)}.")
    return raw


def _number(value: Any, where: str, path: Path) -> float:
    # YAML reads `true` as a bool (an int subclass) and `"8"` as text: neither is a number
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{path}: {where} must be a number, not {value!r}.")
    return float(value)


def number_mapping(raw: Any, name: str, path: Path) -> dict[str, float]:
    """An open section of named numbers (e.g. `contracts:`): every value must be a number."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: '{name}' must be a mapping of keys to numbers.")
    return {str(k): _number(v, f"{name}.{k}", path) for k, v in raw.items()}


def typed_section(cls: type[Section], raw: Any, name: str, path: Path) -> Section:
    """`raw` (the mapping under `name:`) as the frozen dataclass `cls`; every value a number."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: '{name}' must be a mapping of keys to numbers.")
    expected = [f.name for f in fields(cls)]
    unknown = sorted(str(k) for k in raw if k not in expected)
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(f'{name}.{k}' for k in unknown)}.")
    missing = [k for k in expected if k not in raw]
    if missing:
        raise ConfigError(f"{path}: missing key(s) {', '.join(f'{name}.{k}' for k in missing)}.")
    return cls(**{key: _number(raw[key], f"{name}.{key}", path) for key in expected})
