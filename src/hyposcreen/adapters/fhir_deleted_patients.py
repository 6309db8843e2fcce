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
(TableBuilder.patient_deleted): an export without one costs nothing more.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from hyposcreen.adapters.fhir_index import Versions, index_resources

DELETED_PATIENT = "deleted_patient"


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
