"""SNOMED CT codes of the screen's conditions that the rules do not list (rules data
`snomed_condition_hints.csv`), read only to warn, never to screen.

The rules list conditions by ICD-10-CM and ICD-9-CM codes and one SNOMED CT code (cirrhosis,
spec §6). An export coding its diagnoses in SNOMED CT alone (Synthea, many problem lists, OMOP's
`condition_concept_id`) names heart failure or CKD by codes no condition has: those rows are
set aside as `unlisted_code` like any unrelated diagnosis. The hints name such codes, so the
night can say how many rows of which condition it did not read (`snomed_hint_counts`, judged by
unidentified_events). A site that lists a hinted code in its own condition_codes.csv reads the
rows as the condition, and they are no longer counted. rules.loader reads the file (a site's
rules folder, `--rules`, may hold its own copy; one without it reads the packaged copy).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from hyposcreen.rules.texts import normalize_code

# the delivery counts' check under which the rows are counted: {condition: (rows, patients)}
SNOMED_HINTS = "snomed_hints"
_SNOMED = "SNOMED"


def snomed_hint_counts(
    code: pd.Series,
    system: pd.Series,
    condition: pd.Series,
    judged: np.ndarray,
    patient_key: np.ndarray,
    hints: Mapping[str, str],
) -> dict[str, tuple[int, int]]:
    """{condition: (rows, patients)} of the judged diagnosis rows (those a listed code would
    read: no excluded status, patient and time known; clean.events) coded in SNOMED CT (`system`:
    the canonical code system) by a hinted code and matching no condition of the rules;
    `patient_key`: a code per row equal where the patient is (-1: none). Only those rows'
    distinct codes are compared."""
    candidate = judged & (system == _SNOMED).fillna(False).to_numpy(dtype=bool)
    candidate &= condition.isna().to_numpy()
    if not hints or not candidate.any():
        return {}
    rows = np.flatnonzero(candidate)
    codes, uniques = pd.factorize(code.iloc[rows])
    hinted = np.array(
        [hints.get(normalize_code(str(u)), "") for u in uniques] + [""], dtype=object
    )[codes]
    found = hinted != ""
    if not found.any():
        return {}
    frame = pd.DataFrame({"condition": hinted[found], "patient": patient_key[rows[found]]})
    patients = frame[frame["patient"] >= 0].groupby("condition")["patient"].nunique()
    sizes = frame.groupby("condition").size()
    return {
        str(name): (int(size), int(patients.get(name, 0))) for name, size in sorted(sizes.items())
    }
