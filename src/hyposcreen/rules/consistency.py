"""Rules that read but do not hold together: a site's `--rules` copy whose numbers each parse
yet describe no screen the spec allows. A profile whose severity bands leave a hyponatremic
result without a band, or let a band reach above the definition so that no result is mild; a
glucose correction factor of zero or one the copy does not allow; a negative span; a limit that
turns a rule inside out. Each is a ConfigError naming the key and the file when the rules load
(exit 2), never an odd review list or an internal error while screening.
"""

from __future__ import annotations

import operator
from pathlib import Path
from typing import Any

from hyposcreen.errors import ConfigError
from hyposcreen.rules.sections import Limits, Windows, number_mapping, typed_section

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_LEVEL_RANK = {"mild": 1, "moderate": 2, "severe": 3}
# values this close on either side of each threshold are where bands meet (far above the 9
# decimals the screen rounds corrected sodium to, far below any clinical precision)
_STEP = 1e-6
GLUCOSE_KEYS = ("threshold_mg_dl", "factor", "allowed_factors", "pairing_window_minutes")
# windows whose zero turns a rule off without saying so (no pair of results is 0 h apart)
_POSITIVE_WINDOWS = ("overcorrection_window_hours",)
_POSITIVE_LIMITS = (
    "overcorrection_mmol_per_24h",
    "overcorrection_with_risk_mmol_per_24h",
    "correction_risk_index_sodium_max",
    "potassium_low_mmol_l",
    "magnesium_low_mg_dl",
    "ionized_calcium_low_mmol_l",
    "total_calcium_low_mg_dl",
    "albumin_reference_g_dl",
    "spurious_drop_mmol_l",
)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def checked_sections(
    raw: dict[str, Any], path: Path
) -> tuple[Windows, Limits, dict[str, float], dict[str, Any]]:
    """rules.yaml's windows, limits, contracts and glucose correction, typed and checked."""
    windows = checked_windows(typed_section(Windows, raw["windows"], "windows", path), path)
    limits = checked_limits(typed_section(Limits, raw["limits"], "limits", path), path)
    contracts = check_contracts(number_mapping(raw.get("contracts"), "contracts", path), path)
    return windows, limits, contracts, check_glucose(raw["glucose_correction"], path)


def check_profile_numbers(raw: dict[str, Any], path: Path) -> None:
    """Every profile's thresholds are numbers and its comparisons are <, <=, >, >= (the
    definition's < or <=), before the profiles are built."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: 'profiles' must be a mapping of profile names.")
    for name, spec in raw.items():
        where = f"profiles.{name}"
        hypo = spec.get("hyponatremia") if isinstance(spec, dict) else None
        if not isinstance(hypo, dict) or hypo.get("op") not in ("<", "<="):
            raise ConfigError(f"{path}: {where}.hyponatremia.op must be < or <=.")
        if not _is_number(hypo.get("threshold")):
            raise ConfigError(f"{path}: {where}.hyponatremia.threshold must be a number.")
        bands = spec.get("severity")
        if not isinstance(bands, list) or not bands:
            raise ConfigError(f"{path}: {where}.severity must be a list of bands.")
        for number, band in enumerate(bands, start=1):
            band_where = f"{where}.severity band {number}"
            if not isinstance(band, dict) or band.get("op") not in _OPS:
                raise ConfigError(f"{path}: {band_where}: op must be one of <, <=, >, >=.")
            if not _is_number(band.get("threshold")):
                raise ConfigError(f"{path}: {band_where}: threshold must be a number.")


def check_profile_bands(profile: Any, path: Path) -> None:
    """The bands of `profile` (a rules.loader Profile) sort every hyponatremic value: each such
    value falls in a band, each band holds some value, and severity never rises with sodium
    (a severe band above a moderate or mild one, or reaching the definition's threshold, would
    list every low result as severe)."""
    where = f"profiles.{profile.name}"
    hypo_op, hypo_threshold = profile.hyponatremia_op, float(profile.hyponatremia_threshold)
    thresholds = {hypo_threshold, *(float(b.threshold) for b in profile.bands)}
    points = sorted(
        {round(t + d, 9) for t in thresholds for d in (-_STEP, 0.0, _STEP)}
        | {min(thresholds) - 10.0}
    )
    reached: set[int] = set()
    previous: tuple[float, int] | None = None
    for value in points:
        if not _OPS[hypo_op](value, hypo_threshold):
            continue
        hit = next(
            (i for i, b in enumerate(profile.bands) if _OPS[b.op](value, float(b.threshold))),
            None,
        )
        if hit is None:
            raise ConfigError(
                f"{path}: {where}: a corrected sodium of {round(value, 6)} is hyponatremic "
                f"({hypo_op} {hypo_threshold:g}) but falls in no severity band: the bands "
                "must cover the definition (change the mild band with the definition)."
            )
        reached.add(hit)
        rank = _LEVEL_RANK[profile.bands[hit].level]
        if previous is not None and rank > previous[1]:
            raise ConfigError(
                f"{path}: {where}: severity rises with sodium ({round(previous[0], 6)} is less "
                f"severe than {round(value, 6)}): order the bands from the lowest sodium up."
            )
        previous = (value, rank)
    if previous is not None and previous[1] == _LEVEL_RANK["severe"]:
        raise ConfigError(
            f"{path}: {where}: a severe band reaches the hyponatremia threshold "
            f"({hypo_op} {hypo_threshold:g}), so every low result would be severe: a severe "
            "threshold must lie below the definition's."
        )
    unused = [b.label for i, b in enumerate(profile.bands) if i not in reached]
    if unused:
        raise ConfigError(
            f"{path}: {where}: severity band(s) {', '.join(map(str, unused))} hold no "
            "hyponatremic value (a band above takes them all, or they lie above the definition)."
        )


def check_glucose(raw: Any, path: Path) -> dict[str, Any]:
    """`glucose_correction:` as a mapping of its four keys with usable numbers (spec §4)."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: 'glucose_correction' must be a mapping.")
    unknown = sorted(str(k) for k in raw if k not in GLUCOSE_KEYS)
    if unknown:
        raise ConfigError(
            f"{path}: unknown key(s) {', '.join(f'glucose_correction.{k}' for k in unknown)}."
        )
    missing = [k for k in GLUCOSE_KEYS if k not in raw]
    if missing:
        raise ConfigError(
            f"{path}: missing key(s) {', '.join(f'glucose_correction.{k}' for k in missing)}."
        )
    allowed = raw["allowed_factors"]
    if not isinstance(allowed, list) or not allowed or not all(_is_number(f) for f in allowed):
        raise ConfigError(f"{path}: glucose_correction.allowed_factors must be a list of numbers.")
    for key in ("threshold_mg_dl", "factor", "pairing_window_minutes"):
        if not _is_number(raw[key]) or raw[key] < 0:
            raise ConfigError(f"{path}: glucose_correction.{key} must be a number >= 0.")
    if any(f <= 0 for f in allowed) or raw["factor"] <= 0:
        raise ConfigError(
            f"{path}: glucose_correction.factor and allowed_factors must be above 0 "
            "(a factor of 0 leaves every sodium uncorrected, spec §4)."
        )
    if float(raw["factor"]) not in [float(f) for f in allowed]:
        raise ConfigError(
            f"{path}: glucose_correction.factor {raw['factor']:g} is not one of "
            f"glucose_correction.allowed_factors {allowed}."
        )
    return dict(raw)


# contracts: a share in [0, 1], the broken share above 0 (a share of 0 stops every night that
# has one unread time), counts that are whole numbers >= 1
_CONTRACT_SHARES = ("max_duplicate_rate", "max_non_numeric_sodium_rate", "broken_share")
_CONTRACT_COUNTS = ("min_rows_to_judge", "max_row_bytes")


def check_contracts(contracts: dict[str, float], path: Path) -> dict[str, float]:
    """`contracts:` (numbers already) with shares in [0, 1] and whole counts >= 1."""
    for key in _CONTRACT_SHARES:
        value = contracts.get(key)
        if value is None:
            continue
        if not 0 <= value <= 1 or (key == "broken_share" and value == 0):
            raise ConfigError(
                f"{path}: contracts.{key} must be a share between 0 and 1"
                f"{' above 0' if key == 'broken_share' else ''} (is {value:g})."
            )
    for key in _CONTRACT_COUNTS:
        value = contracts.get(key)
        if value is not None and (value < 1 or value != int(value)):
            raise ConfigError(
                f"{path}: contracts.{key} must be a whole number >= 1 (is {value:g})."
            )
    return contracts


def check_ranges(analytes: dict[str, Any], path: Path) -> None:
    """analytes.csv's plausible ranges run from low to high (a range [200, 80] holds nothing:
    the contract could not evaluate it and stopped the night as a broken delivery, exit 3)."""
    for name, analyte in analytes.items():
        low, high = analyte.plausible_low, analyte.plausible_high
        if low is not None and high is not None and low >= high:
            raise ConfigError(
                f"{path}: {name}: plausible_low ({low:g}) must be below plausible_high ({high:g})."
            )


def checked_windows(windows: Windows, path: Path) -> Windows:
    """`windows`, every span elapsed time >= 0 and the over-correction window above 0."""
    for key, value in vars(windows).items():
        if value < 0 or (key in _POSITIVE_WINDOWS and value == 0):
            bound = "above 0" if key in _POSITIVE_WINDOWS else ">= 0"
            raise ConfigError(f"{path}: windows.{key} must be {bound} (is {value:g}).")
    return windows


def checked_limits(limits: Limits, path: Path) -> Limits:
    """`limits`, kept the spec's sense: positive thresholds and limits, a correction-risk
    limit no faster than the usual one, a `soon` change that is a fall, a whole count."""
    for key, value in vars(limits).items():
        if value < 0 and key != "soon_delta_48h_max":
            raise ConfigError(f"{path}: limits.{key} must be >= 0 (is {value:g}).")
        if key in _POSITIVE_LIMITS and value == 0:
            raise ConfigError(f"{path}: limits.{key} must be above 0 (is 0).")
    if limits.overcorrection_with_risk_mmol_per_24h > limits.overcorrection_mmol_per_24h:
        raise ConfigError(
            f"{path}: limits.overcorrection_with_risk_mmol_per_24h "
            f"({limits.overcorrection_with_risk_mmol_per_24h:g}) must not exceed "
            f"limits.overcorrection_mmol_per_24h ({limits.overcorrection_mmol_per_24h:g}): "
            "with correction risk the limit is the slower one (spec §8)."
        )
    if limits.soon_delta_48h_max > 0:
        raise ConfigError(
            f"{path}: limits.soon_delta_48h_max must be <= 0 (a fall, spec §9; "
            f"is {limits.soon_delta_48h_max:g})."
        )
    count = limits.soon_mild_min_risk_categories
    if count < 1 or count != int(count):
        raise ConfigError(
            f"{path}: limits.soon_mild_min_risk_categories must be a whole number >= 1 "
            f"(is {count:g})."
        )
    return limits
