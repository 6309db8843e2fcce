"""Spec §10: the considerations of each listed case — short review prompts in our own words,
tied to the sources (docs/clinical.md); never contradicting each other."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from hyposcreen.rules.loader import RuleSet

DIURETICS = ("thiazide_diuretic", "loop_diuretic", "potassium_sparing_diuretic")
SIADH_DRUGS = ("ssri", "other_antidepressant", "antiepileptic", "antipsychotic")


def considerations(cases: pd.DataFrame, rules: RuleSet) -> pd.Series:
    """Short review prompts in our own words, tied to the sources (see docs/clinical.md)."""
    factors = cases["risk_factors"].astype("str")

    def has(names: tuple[str, ...]) -> pd.Series:
        """Cases with any of `names` among their ';'-separated risk factors."""
        listed = "|".join(re.escape(name) for name in names)
        return factors.str.contains(f"(?:^|;)(?:{listed})(?:;|$)", regex=True)

    notes: list[pd.Series] = []
    notes.append(
        pd.Series(
            np.where(
                has(DIURETICS),
                "Check whether the diuretic is adding to the low "
                "sodium or the cramps; a dose cut or pause may be worth weighing.",
                "",
            )
        )
    )
    notes.append(
        pd.Series(
            np.where(
                has(SIADH_DRUGS),
                "A listed drug (SSRI, other antidepressant, "
                "antiepileptic or antipsychotic) can cause SIADH; review its role, "
                "especially after a recent start.",
                "",
            )
        )
    )
    limit = rules.limits
    notes.append(
        pd.Series(
            np.where(
                cases["correction_risk"],
                "Correction risk (liver disease, alcohol use, malnutrition, low potassium or "
                "very low sodium): aim for about "
                f"4-{limit.overcorrection_with_risk_mmol_per_24h:g} mmol/L per 24 h.",
                "Raise sodium by no more than "
                f"{limit.overcorrection_mmol_per_24h:g} mmol/L in 24 h.",
            )
        )
    )
    # fluid restriction never goes with a sodium that already rose too fast
    mild = (cases["level"] == "mild") & ~cases["overcorrection"].astype(bool)
    notes.append(
        pd.Series(
            np.where(
                mild,
                "Mild case: after assessing volume status, restricting fluid "
                "to about 1 L a day is the usual first step if euvolemic or "
                "hypervolemic and symptomatic; hypertonic saline is not for mild "
                "cases without life-threatening symptoms.",
                "",
            )
        )
    )
    notes.append(
        pd.Series(
            np.where(
                has(("hypokalemia", "hypomagnesemia", "hypocalcemia")),
                "Low potassium, magnesium or calcium may add to cramps.",
                "",
            )
        )
    )
    notes.append(
        pd.Series(
            np.where(
                cases["overcorrection"],
                "Sodium rose faster than the limit: review the correction plan now.",
                "",
            )
        )
    )
    spurious = (
        cases["possibly_spurious"].astype("str")
        if "possibly_spurious" in cases
        else pd.Series("", index=cases.index)
    )
    notes.append(
        pd.Series(
            np.where(
                spurious != "",
                "Possibly spurious: the "
                + spurious.str.replace("overcorrection_pair", "over-correction pair").str.replace(
                    ";", " and "
                )
                + " rests on a result far below the ones before and after it; repeat the "
                "sample before acting on it.",
                "",
            )
        )
    )
    notes.append(
        pd.Series(
            np.where(
                cases["missing_workup"] != "",
                "Workup incomplete: no "
                + cases["missing_workup"].str.replace(";", ", ").str.replace("_", " ")
                + " around the index result.",
                "",
            )
        )
    )
    joined = pd.Series("", index=range(len(cases)), dtype=object)
    for note in notes:  # " | " between the notes a case has, a column at a time
        text = pd.Series(note.to_numpy(), dtype=object)
        both = pd.Series(np.where(joined == "", text, joined + " | " + text), dtype=object)
        joined = pd.Series(np.where(text == "", joined, both), dtype=object)
    return joined
