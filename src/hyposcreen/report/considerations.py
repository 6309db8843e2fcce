"""Spec §10: the considerations of each listed case — short review prompts in our own words,
tied to the sources (docs/clinical.md); never contradicting each other."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from hyposcreen.arrow_columns import holds_arrow_text
from hyposcreen.report.html_text import choose, per_distinct
from hyposcreen.rules.loader import RuleSet

DIURETICS = ("thiazide_diuretic", "loop_diuretic", "potassium_sparing_diuretic")
SIADH_DRUGS = ("ssri", "other_antidepressant", "antiepileptic", "antipsychotic")


def considerations(cases: pd.DataFrame, rules: RuleSet) -> pd.Series:
    """Short review prompts in our own words, tied to the sources (see docs/clinical.md)."""
    return pd.Series(consideration_objects(cases, rules), dtype=object)


def consideration_objects(cases: pd.DataFrame, rules: RuleSet) -> np.ndarray:
    """`considerations` as an object array, built a note at a time over columns of Python
    strings: a note every case shares is one string shared by the cases it goes to (never a
    fixed-width copy per case); a note made of a case's text is made once per distinct text."""
    factors = cases["risk_factors"]
    factors = factors if holds_arrow_text(factors) else factors.astype("str")
    has = _factor_test(factors)
    # fluid restriction never goes with a sodium that already rose too fast
    overcorrected = cases["overcorrection"]
    overcorrected = overcorrected if overcorrected.dtype == bool else overcorrected.astype(bool)
    mild = _equals(cases["level"], "mild") & ~overcorrected.to_numpy(dtype=bool)
    notes = [
        choose(
            has(DIURETICS),
            "Check whether the diuretic is adding to the low "
            "sodium or the cramps; a dose cut or pause may be worth weighing.",
            "",
        ),
        choose(
            has(SIADH_DRUGS),
            "A listed drug (SSRI, other antidepressant, "
            "antiepileptic or antipsychotic) can cause SIADH; review its role, "
            "especially after a recent start.",
            "",
        ),
        choose(cases["correction_risk"], *correction_limit_notes(rules)),
        choose(
            mild,
            "Mild case: after assessing volume status, restricting fluid "
            "to about 1 L a day is the usual first step if euvolemic or "
            "hypervolemic and symptomatic; hypertonic saline is not for mild "
            "cases without life-threatening symptoms.",
            "",
        ),
        choose(
            has(("hypokalemia", "hypomagnesemia", "hypocalcemia")),
            "Low potassium, magnesium or calcium may add to cramps.",
            "",
        ),
        choose(
            cases["overcorrection"],
            "Sodium rose faster than the limit: review the correction plan now.",
            "",
        ),
        _spurious_note(cases),
        _workup_note(cases["missing_workup"]),
    ]
    return _joined(notes, anchor=2)


# the seeds' slower aim with correction risk is 4-6 mmol/L a day: its lower end is shown while
# the rules' limit lies above it (a site's limit of 4 or below reads "no more than 4")
_RISK_AIM_LOW = 4.0


def correction_limit_notes(rules: RuleSet) -> tuple[str, str]:
    """(the note with correction risk, the note without) from the rules' limits and the
    over-correction window: 'aim for about 4-6 mmol/L per 24 h.', 'Raise sodium by no more
    than 8 mmol/L in 24 h.' with the packaged rules."""
    limits, hours = rules.limits, f"{rules.windows.overcorrection_window_hours:g} h"
    slower = limits.overcorrection_with_risk_mmol_per_24h
    aim = f"no more than {slower:g}"
    if slower > _RISK_AIM_LOW:
        aim = f"about {_RISK_AIM_LOW:g}-{slower:g}"
    return (
        "Correction risk (liver disease, alcohol use, malnutrition, low potassium or very low "
        f"sodium): aim for {aim} mmol/L per {hours}.",
        f"Raise sodium by no more than {limits.overcorrection_mmol_per_24h:g} mmol/L in {hours}.",
    )


def _joined(notes: list[np.ndarray], anchor: int) -> np.ndarray:
    """The notes a case has, in order, with " | " between them; a case with a missing text in
    any note gets no text at all (as pandas' `+` would give). The `anchor` note (the
    correction limit) is there for every case: the notes before it end with the separator,
    those after it start with it, and the columns are joined at once."""
    missing = np.logical_or.reduce([pd.isna(text) for text in notes])
    if not missing.any() and (notes[anchor] != "").all():
        joined = notes[anchor]
        for text in notes[:anchor][::-1]:
            joined = text + choose(text != "", " | ", "") + joined
        for text in notes[anchor + 1 :]:
            joined = joined + choose(text != "", " | ", "") + text
        return np.asarray(joined, dtype=object)
    joined = np.full(len(missing), "", dtype=object)
    for text in notes:  # " | " between the notes a case has, a column at a time
        given = (text != "") & ~missing
        after = given & (joined != "")
        joined[after] = joined[after] + " | " + text[after]
        first = given & ~after
        joined[first] = text[first]
    joined[missing] = np.nan
    return joined


def _equals(values: pd.Series, text: str) -> np.ndarray:
    """`values == text` (False where missing)."""
    if holds_arrow_text(values):
        return np.asarray(values.to_numpy(dtype=object) == text, dtype=bool)
    return (values == text).to_numpy(dtype=bool)


def _spurious_note(cases: pd.DataFrame) -> np.ndarray:
    """'Possibly spurious: the index and over-correction pair rests on ...' or ''."""
    if "possibly_spurious" not in cases:
        return np.full(len(cases), "", dtype=object)
    spurious = cases["possibly_spurious"].astype("str")

    def note(text: str | pd.Series) -> str | pd.Series:
        if isinstance(text, str):
            shown = text.replace("overcorrection_pair", "over-correction pair")
            return "Possibly spurious: the " + shown.replace(";", " and ") + _SPURIOUS_END
        shown_all = text.str.replace("overcorrection_pair", "over-correction pair")
        return "Possibly spurious: the " + shown_all.str.replace(";", " and ") + _SPURIOUS_END

    once = per_distinct(spurious.to_numpy(dtype=object), lambda t: note(t) if t else "")
    return once if once is not None else choose(spurious != "", note(spurious), "")


_SPURIOUS_END = (
    " rests on a result far below the ones before and after it; repeat the sample before "
    "acting on it."
)


def _workup_note(missing: pd.Series) -> np.ndarray:
    """'Workup incomplete: no urine sodium, tsh around the index result.' or ''."""
    once = per_distinct(
        missing.to_numpy(dtype=object),
        lambda text: (
            f"Workup incomplete: no {_workup_text(text)} around the index result." if text else ""
        ),
    )
    if once is not None:
        return once
    words = "Workup incomplete: no " + _workup_words(missing) + " around the index result."
    return choose(missing != "", words, "")


def _workup_text(text: str) -> str:
    return text.replace(";", ", ").replace("_", " ")


def _factor_test(factors: pd.Series) -> Callable[[tuple[str, ...]], np.ndarray]:
    """`has(names)`: the cases with any of `names` among their ';'-separated risk factors,
    each distinct list split once for every test (else `_has_any` for each)."""
    position, distinct = pd.factorize(factors.to_numpy(dtype=object))
    plain = not (position < 0).any() and all(
        type(text) is str and "\n" not in text for text in distinct
    )
    if not plain:
        return lambda names: _has_any(factors, names)
    lists = [frozenset(text.split(";")) for text in distinct]

    def has(names: tuple[str, ...]) -> np.ndarray:
        wanted = frozenset(names)
        return np.array([not wanted.isdisjoint(one) for one in lists] + [False])[position]

    return has


def _workup_words(missing: pd.Series) -> pd.Series:
    """'urine_sodium;tsh' -> 'urine sodium, tsh', each distinct list once."""
    shown = per_distinct(missing.to_numpy(dtype=object), _workup_text)
    if shown is not None:
        return pd.Series(shown, index=missing.index, dtype=object)
    return missing.str.replace(";", ", ").str.replace("_", " ")


def _has_any(factors: pd.Series, names: tuple[str, ...]) -> np.ndarray:
    """Cases with any of `names` among their ';'-separated risk factors (each distinct list
    of factors looked at once: a list holds a few dozen). A list holding a line break goes
    to the pattern (whose `$` may match before a last one)."""
    wanted = frozenset(names)
    found = per_distinct(
        factors.to_numpy(dtype=object),
        lambda text: None if "\n" in text else not wanted.isdisjoint(text.split(";")),
    )
    if found is None or pd.isna(found).any():
        return _has_any_by_pattern(factors, names)
    return np.asarray(found, dtype=bool)


def _has_any_by_pattern(factors: pd.Series, names: tuple[str, ...]) -> np.ndarray:
    listed = "|".join(re.escape(name) for name in names)
    found = factors.str.contains(f"(?:^|;)(?:{listed})(?:;|$)", regex=True)
    return found.to_numpy(dtype=bool)
