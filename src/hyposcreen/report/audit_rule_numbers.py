"""The rules' numbers the audit page's notes state (the tiers' thresholds, the over-correction
limits and window, the context read before a month, the workup window, the hyponatremia codes
of the coding gap), taken from the rules the audit ran with, so that a site's rules copy is
described as it screened."""

from __future__ import annotations

from hyposcreen.rules.loader import RuleSet

# the notes' numbers as the packaged rules set them (a page rendered without the run's rules)
PACKAGED_NUMBERS = {
    "oc_hours": "24", "oc_limit": "8", "oc_limit_risk": "6", "risk_index_max": "105",
    "context_hours": "72", "workup_before": "24", "workup_after": "48",
    "soon_factors": "2", "soon_drop": "5", "delta_hours": "48", "codes": "E87.1, ICD-9 276.1",
}  # fmt: skip


def rule_numbers(rules: RuleSet, codes: dict[str, list[str]]) -> dict[str, str]:
    """The notes' numbers (as few digits as they need), keyed as PACKAGED_NUMBERS: hours
    `oc_hours`, `context_hours`, `workup_before`, `workup_after`, `delta_hours`; mmol/L
    `oc_limit`, `oc_limit_risk`, `risk_index_max`, `soon_drop` (the fall of delta_48h that
    makes a case tier 2); `soon_factors` (risk factors that make a mild case tier 2); and
    `codes` (coding_gap_codes of the hyponatremia `codes` by system)."""
    windows, limits = rules.windows, rules.limits
    return {
        "oc_hours": f"{windows.overcorrection_window_hours:g}",
        "oc_limit": f"{limits.overcorrection_mmol_per_24h:g}",
        "oc_limit_risk": f"{limits.overcorrection_with_risk_mmol_per_24h:g}",
        "risk_index_max": f"{limits.correction_risk_index_sodium_max:g}",
        "context_hours": f"{windows.context_hours_before_window:g}",
        "workup_before": f"{windows.workup_hours_before:g}",
        "workup_after": f"{windows.workup_hours_after:g}",
        "soon_factors": f"{limits.soon_mild_min_risk_categories:g}",
        "soon_drop": f"{-limits.soon_delta_48h_max:g}",
        "delta_hours": f"{windows.delta_window_hours:g}",
        "codes": coding_gap_codes(codes),
    }


def coding_gap_codes(codes: dict[str, list[str]]) -> str:
    """'E87.1, ICD-9 276.1' of {ICD-10-CM: [E87.1], ICD-9-CM: [276.1]}: ICD-10-CM codes bare,
    the others after their system's name."""
    prefix = {"ICD-10-CM": "", "ICD-9-CM": "ICD-9 "}
    return ", ".join(
        prefix.get(system, f"{system} ") + str(code) for system, listed in codes.items()
        for code in listed
    )  # fmt: skip
