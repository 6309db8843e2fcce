"""The rows of a Patient the export records deleted: quarantined `deleted_patient`.

A `_history` Bundle's DELETE of `Patient/x` (fhir_versions.deletion_of) that is the newest
version of that Patient (ordered as fhir_index orders a referenced resource's versions: numeric
`meta.versionId`, else `meta.lastUpdated`, wherever each stands in the files) says the patient
no longer exists in the source: the patients table drops it (fhir_versions), and the labs,
medications and diagnoses naming `x` are quarantined `deleted_patient` rather than screened. The
patient may have been merged into another, or registered in error; only the sender can tell
whose those results are, so the night warns (deleted_reference_warnings). A deletion that
cannot be ordered against every version of the Patient, or that ties the latest, sets nothing
aside, as for any resource. A row quarantined for another reason keeps it.

The Patient files are read for it only when a table's own reading met a Patient's deletion
(TableBuilder.patient_deleted) or a Patient file holds a DELETE entry (a byte search: a Bundle
of deletions in `Patient.ndjson`, a bulk export's `deleted/Patient.ndjson`, which no other
table's reading opens): an export without one costs little more.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from hyposcreen.adapters.fhir_files import iter_blocks
from hyposcreen.adapters.fhir_index import Versions, index_resources

DELETED_PATIENT = "deleted_patient"
_DELETE = re.compile(rb'"method"\s*:\s*"DELETE"', re.IGNORECASE)


def holds_deletion(files: list[Path]) -> bool:
    """Whether any of `files` (the Patient files, which only the patients table reads) holds a
    Bundle entry's DELETE."""
    for path in files:
        for buffer, end in iter_blocks(path):
            if _DELETE.search(buffer, 0, end):
                return True
    return False


def deleted_patients(files: list[Path]) -> frozenset[str]:
    """The ids of the Patients in `files` whose newest version is a deletion."""
    versions: Versions = {}
    kept = index_resources(files, "Patient", lambda _: True, versions)
    return frozenset(rid for rid in versions if rid not in kept)


def set_aside_deleted_patients(frame: pd.DataFrame, patient_files: list[Path]) -> None:
    """Give the rows of `frame` (a canonical table as read) that name a deleted Patient and no
    other reason yet `malformed_reason` deleted_patient, in place."""
    deleted = deleted_patients(patient_files)
    if not deleted or frame.empty:
        return
    hit = frame["patient_id"].isin(deleted)
    if "malformed_reason" in frame.columns:
        hit &= frame["malformed_reason"].isna()
    else:
        frame["malformed_reason"] = pd.Series(None, index=frame.index, dtype=object)
    frame.loc[hit, "malformed_reason"] = DELETED_PATIENT
