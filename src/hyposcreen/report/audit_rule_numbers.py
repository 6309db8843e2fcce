"""The rules' numbers the audit page's notes state (the over-correction and workup windows, the
hyponatremia codes of the coding gap), taken from the rules the audit ran with, so that a
site's rules copy is described as it screened."""

from __future__ import annotations

from hyposcreen.rules.loader import RuleSet


def rule_numbers(rules: RuleSet, codes: dict[str, list[str]]) -> dict[str, str]:
    """The notes' numbers: `oc_hours`, `workup_before`, `workup_after` (hours, as few digits as
    they need) and `codes` (coding_gap_codes of the hyponatremia `codes` by system)."""
    windows = rules.windows
    return {
        "oc_hours": f"{windows.overcorrection_window_hours:g}",
        "workup_before": f"{windows.workup_hours_before:g}",
        "workup_after": f"{windows.workup_hours_after:g}",
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
