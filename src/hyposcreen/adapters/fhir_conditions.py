"""FHIR Condition resources -> rows of the canonical diagnoses table.

One row per resource, coded by the coding that matches a condition of the rules (else its
first ICD-10-CM or ICD-9-CM coding, else the first coding of a known system, a coding without a
system read by its code's shape: so a row coded SNOMED CT that matches nothing had no ICD
coding, and one whose code stands for a listed condition warns: rules.condition_hints); one that
abated without a clinicalStatus is resolved; one dated by nothing else is dated at the start of
its encounter (MIMIC-IV on FHIR: diagnoses_icd has no time, its codes belong to the stay; the
same date --source mimic gives them), else, when its onset is an age (`onsetAge`,
`onsetRange.low`), on the day its Patient's birthDate reached that age.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from hyposcreen.adapters.fhir_index import index_resources
from hyposcreen.adapters.fhir_types import (
    EXTRA_DIAGNOSIS_SYSTEMS,
    codings,
    concept_label,
    encounter_of,
    first_time,
    period,
    status_code,
    subject_of,
    system_key,
    text,
    time_text,
)
from hyposcreen.rules.loader import RuleSet, normalize_label
from hyposcreen.rules.matching import condition_for_code

DIAGNOSIS_COLUMNS = (
    "patient_id",
    "code",
    "code_system",
    "recorded_time",
    "status",
    "encounter_id",
    "description",
)
Row = tuple[object, ...]

_ICD10_SHAPE = re.compile(r"^[A-TV-Z]\d{2}(\.?[0-9A-Z]{1,4})?$", re.I)
_ICD9_SHAPE = re.compile(r"^(\d{3}|V\d{2}|E[89]\d{2})(\.?\d{1,2})?$", re.I)
_SNOMED_SHAPE = re.compile(r"^\d{6,18}$")
_ICD_SYSTEMS = ("ICD-10-CM", "ICD-9-CM")


class ConditionMapper:
    def __init__(
        self,
        rules: RuleSet,
        encounter_starts: dict[str, str | None] | None = None,
        patient_files: list[Path] | None = None,
    ):
        self.rules = rules
        self.aliases = rules.code_system_aliases
        self.encounter_starts = encounter_starts or {}  # Encounter id -> period.start
        self.patient_files = patient_files or []  # where birth dates are, for an onsetAge
        self._births: dict[str, str | None] | None = None  # Patient id -> birthDate

    def _system(self, system: str | None, code: str) -> str | None:
        """Canonical code system of a coding; without a system, guessed from the code's shape
        (ICD-10-CM letter + digits, ICD-9-CM three digits, SNOMED CT 6-18 digits)."""
        if system:
            key = system_key(system)
            found = self.aliases.get(normalize_label(system)) or self.aliases.get(key)
            found = found or EXTRA_DIAGNOSIS_SYSTEMS.get(key)
            if found is None and key.startswith("http://snomed.info/sct"):
                found = "SNOMED"
            return found
        if _SNOMED_SHAPE.match(code):
            return "SNOMED"
        if _ICD9_SHAPE.match(code):
            return "ICD-9-CM"
        if _ICD10_SHAPE.match(code):
            return "ICD-10-CM"
        return None

    def _onset_by_age(self, resource: dict[str, Any]) -> str | None:
        """A Condition dated by the patient's age alone (`onsetAge`, or `onsetRange.low`): the
        day the Patient's `birthDate` reached it (the Patients are read the first time)."""
        age = resource.get("onsetAge")
        if age is None and isinstance(age_range := resource.get("onsetRange"), dict):
            age = age_range.get("low")
        if not isinstance(age, dict) or (patient := subject_of(resource)) is None:
            return None
        if self._births is None:
            self._births = index_resources(self.patient_files, "Patient", _birth_date)
        born = self._births.get(patient)
        return _age_onset(born, age) if born else None

    def row(self, resource: dict[str, Any]) -> Row:
        concept = resource.get("code")
        candidates = []
        for coding in codings(concept):
            code = text(coding.get("code"))
            if code:
                raw_system = text(coding.get("system"))
                system = self._system(raw_system, code)
                candidates.append((code, system or raw_system, system is not None, coding))
        known = [c for c in candidates if c[2]]
        chosen = next(
            (c for c in known if condition_for_code(c[1], c[0], self.rules)),
            next(
                (c for c in known if c[1] in _ICD_SYSTEMS),
                known[0] if known else candidates[0] if candidates else None,
            ),
        )
        code, system, description = None, None, concept_label(concept)
        if chosen is not None:
            code, system = chosen[0], chosen[1]
            description = text(concept.get("text")) if isinstance(concept, dict) else None
            description = description or text(chosen[3].get("display"))
        verification = status_code(resource.get("verificationStatus"))
        clinical = status_code(resource.get("clinicalStatus")) or _abated(resource)
        refuted = verification and verification.lower() in ("entered-in-error", "refuted")
        status = verification if refuted else (clinical or verification)
        onset = period(resource.get("onsetPeriod"))[0]
        recorded = (
            first_time(resource, "recordedDate", "onsetDateTime", "assertedDate", "dateRecorded")
            or onset
        )  # assertedDate: STU3's name for recordedDate, dateRecorded: DSTU2's
        encounter = encounter_of(resource)
        if recorded is None and encounter is not None:
            recorded = self.encounter_starts.get(encounter)
        if recorded is None:
            recorded = self._onset_by_age(resource)
        return (
            subject_of(resource),
            code,
            system,
            recorded,
            status,
            encounter,
            description,
        )


_ABATEMENT = ("abatementDateTime", "abatementAge", "abatementPeriod", "abatementRange",
              "abatementString")  # fmt: skip


def _birth_date(resource: dict[str, Any]) -> str | None:
    return time_text(resource.get("birthDate"))


def _abated(resource: dict[str, Any]) -> str | None:
    """`resolved` for a Condition that says when it abated but has no clinicalStatus: FHIR R4
    requires an abated condition's status to be inactive, resolved or remission (con-4), all
    ignored by spec §6 (`abatementBoolean`, an STU3 export's, when true)."""
    if resource.get("abatementBoolean") is True or any(
        resource.get(key) not in (None, "", {}) for key in _ABATEMENT
    ):
        return "resolved"
    return None


_DAYS_PER_UNIT = {"d": 1, "day": 1, "days": 1, "wk": 7, "week": 7, "weeks": 7}
_MONTHS_PER_UNIT = {"a": 12, "yr": 12, "year": 12, "years": 12, "mo": 1, "month": 1, "months": 1}


def _age_onset(born: str, age: dict[str, Any]) -> str | None:
    """The date a patient born on `born` (`YYYY-MM-DD`) reached `age` (an Age quantity: years
    `a`, months `mo`, weeks or days; whole units), or None when either does not read."""
    value = age.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    unit = (text(age.get("code")) or text(age.get("unit")) or "").lower()
    try:
        birth = date.fromisoformat(born[:10])
        if unit in _DAYS_PER_UNIT:
            return (birth + timedelta(days=int(value) * _DAYS_PER_UNIT[unit])).isoformat()
        if unit not in _MONTHS_PER_UNIT:
            return None
        months = birth.month - 1 + int(value) * _MONTHS_PER_UNIT[unit]
        year, month = birth.year + months // 12, months % 12 + 1
        day = min(birth.day, 28 if month == 2 else 30 if month in (4, 6, 9, 11) else 31)
        return date(year, month, day).isoformat()
    except (ValueError, OverflowError):  # no date, or an age past year 9999
        return None
