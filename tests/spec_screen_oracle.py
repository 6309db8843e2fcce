"""SCREENING_SPEC.md sections 4-9 read on their own, for a few results per patient: the review
list's patients, tier, severity, corrected sodium and risk factors, from facts declared by hand
(instants in UTC). Written from the spec alone; it imports nothing of hyposcreen's screen, so
a test comparing the two catches a reader that makes the facts mean something else.

Facts per patient: `labs` (analyte, ISO instant, value), `meds` (risk class, start, end or None,
status), `conds` (risk factor, recorded instant, status). Serial figures (delta_48h, over-rapid
correction, possibly spurious) are left out: the exports compared give one sodium per patient.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

Facts = dict[str, dict[str, list[tuple[Any, ...]]]]
Listed = dict[str, tuple[str, str, str, str]]  # patient -> (tier, severity, corrected, factors)

_IGNORED_CONDITION = {"entered-in-error", "refuted", "resolved", "inactive", "remission"}
_STOPPED = {"stopped", "completed"}


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _severity(sodium: float) -> str | None:
    """Profile seed (spec §5): <= 135 low; < 120 severe, 120-125 moderate, else mild."""
    if sodium > 135:
        return None
    return "severe" if sodium < 120 else "moderate" if sodium <= 125 else "mild"


def _corrected(at: datetime, sodium: float, glucoses: list[tuple[datetime, float]]) -> float:
    """Spec §4: the nearest glucose within 60 min (ties: earlier, then lowest), factor 1.6."""
    near = [
        (abs((t - at).total_seconds()), t, g)
        for t, g in glucoses
        if abs(t - at) <= timedelta(minutes=60)
    ]
    if not near:
        return sodium
    glucose = min(near)[2]
    return sodium + 1.6 * (glucose - 100) / 100 if glucose > 100 else sodium


def _medication_active(start: str, end: str | None, status: str, index: datetime) -> bool:
    """Spec §6: start <= index <= end + 7 days; no end: ongoing, or start + 30 days if stopped."""
    begun = instant(start)
    if end is not None:
        last = instant(end) + timedelta(days=7)
    elif status in _STOPPED:
        last = begun + timedelta(days=30)
    else:
        return begun <= index
    return begun <= index <= last


def _risk_factors(fact: dict[str, list[tuple[Any, ...]]], labs: list, index: datetime) -> set[str]:
    """Spec §6: drugs active at the index, conditions recorded by it (a cramp within 30 days),
    potassium and magnesium co-factors within 24 h."""
    factors = {
        kind
        for kind, began, ended, status in fact.get("meds", ())
        if _medication_active(began, ended, status, index)
    }
    for kind, recorded, status in fact.get("conds", ()):
        when = instant(recorded)
        if status in _IGNORED_CONDITION:
            continue
        if kind == "cramp_documented" and abs(when - index) <= timedelta(days=30):
            factors.add(kind)
        elif kind != "cramp_documented" and when <= index:
            factors.add(kind)
    for kind, t, v in labs:
        if abs(t - index) <= timedelta(hours=24):
            if kind == "potassium" and v < 3.5:
                factors.add("hypokalemia")
            if kind == "magnesium" and v < 1.7:
                factors.add("hypomagnesemia")
    return factors


def screen(facts: Facts, window_start: str, window_end: str) -> Listed:
    start, end = instant(window_start), instant(window_end)
    listed: Listed = {}
    for patient, fact in facts.items():
        labs = [(kind, instant(t), float(v)) for kind, t, v in fact.get("labs", ())]
        glucoses = [(t, v) for kind, t, v in labs if kind == "glucose"]
        low = [
            (corrected, t)
            for kind, t, v in labs
            if kind == "sodium" and start <= t < end
            and (corrected := _corrected(t, v, glucoses)) <= 135
        ]  # fmt: skip
        if not low:
            continue
        corrected, index = min(low)  # lowest corrected, ties: earliest
        factors = _risk_factors(fact, labs, index)
        severity = _severity(corrected)
        if not factors and severity != "severe":
            continue
        if severity == "severe":
            tier = "urgent"
        elif severity == "moderate" or len(factors) >= 2 or "cramp_documented" in factors:
            tier = "soon"
        else:
            tier = "routine"
        # one decimal, half away from zero (spec §4); the values here are never negative
        shown = f"{int(corrected * 10 + 0.5 + 1e-9) / 10:.1f}"
        listed[patient] = (tier, str(severity), shown, ";".join(sorted(factors)))
    return listed
