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

A deletion counts wherever the export holds it: in a Patient file (a Bundle of deletions in
`Patient.ndjson`, a bulk export's `deleted/Patient.ndjson`, which no other table's reading
opens), in a file of Bundles or a JSON document, or in a Bundle saved under another type's name
(`Observation.ndjson`, which the medications table does not open). Every export file is
searched for a DELETE entry's bytes (`fhir_versions.DELETE_ENTRY`, once per file and process:
a file is known by its path, size and modification time); only when one holds some are the
Patients' versions read, from the Patient files, the files of Bundles, the JSON documents and
the files holding a deletion: an export without one costs one byte search of its files. A
file that cannot be read whole is searched as far as it reads: the table reading it says
so, and one of a type no table reads (a cut-off `Claim.ndjson.gz`) does not stop the run.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from functools import lru_cache
from pathlib import Path

import pandas as pd

from hyposcreen.adapters.fhir_files import DOCUMENTS, MIXED, iter_blocks
from hyposcreen.adapters.fhir_index import Versions, index_resources
from hyposcreen.adapters.fhir_versions import DELETE_ENTRY
from hyposcreen.errors import InputError

DELETED_PATIENT = "deleted_patient"


def holds_deletion(path: Path) -> bool:
    """Whether the file holds a Bundle entry's DELETE (its bytes: `DELETE_ENTRY`)."""
    stat = path.stat()
    return _holds_deletion(path, stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=1 << 16)
def _holds_deletion(path: Path, size: int, modified: int) -> bool:
    """`holds_deletion` of one state of the file (`size`, `modified`: the cache's key); a
    damaged file (a cut-off .gz) as far as it reads: the table reading it, if one does, stops
    on it; one of a type no table reads (Claim.ndjson.gz) never stopped the run."""
    try:
        for buffer, end in iter_blocks(path):
            if DELETE_ENTRY.search(buffer, 0, end):
                return True
    except InputError:
        return False
    return False


def patient_version_files(by_type: dict[str, list[Path]]) -> list[Path]:
    """The files to read the Patients' versions from (module text): none when no export file
    holds a deletion."""
    holding = [path for paths in by_type.values() for path in paths if holds_deletion(path)]
    if not holding:
        return []
    kinds = ("Patient", MIXED, DOCUMENTS)
    return list(dict.fromkeys([p for kind in kinds for p in by_type.get(kind, [])] + holding))


def deleted_patients(files: list[Path]) -> frozenset[str]:
    """The ids of the Patients in `files` whose newest version is a deletion."""
    versions: Versions = {}
    kept = index_resources(files, "Patient", lambda _: True, versions)
    return frozenset(rid for rid in versions if rid not in kept)


def set_aside_deleted_patients(
    frame: pd.DataFrame, by_type: dict[str, list[Path]], unresolved: AbstractSet[str] = frozenset()
) -> pd.DataFrame:
    """Give the rows of `frame` (a canonical table as read from the export's files `by_type`)
    that name a deleted Patient and no other reason yet `malformed_reason` deleted_patient, in
    place; those rows (for the counts made as they were read: fhir_medications). An id among
    `unresolved` (an identifier's value some rows hold as their patient: fhir_subjects) is
    not known to name the deleted Patient: none of its rows is set aside."""
    if frame.empty or not (files := patient_version_files(by_type)):
        return frame.iloc[:0]
    deleted = deleted_patients(files) - unresolved
    if not deleted:
        return frame.iloc[:0]
    hit = frame["patient_id"].isin(deleted)
    if "malformed_reason" in frame.columns:
        hit &= frame["malformed_reason"].isna()
    else:
        frame["malformed_reason"] = pd.Series(None, index=frame.index, dtype=object)
    frame.loc[hit, "malformed_reason"] = DELETED_PATIENT
    return frame.loc[hit]
