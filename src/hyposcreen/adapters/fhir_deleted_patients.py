"""The rows of a Patient the export records deleted: quarantined `deleted_patient`.

A `_history` Bundle's DELETE of `Patient/x` (fhir_versions.deletion_of) that is the newest
version of that Patient (ordered as fhir_index orders a referenced resource's versions: numeric
`meta.versionId`, else `meta.lastUpdated`, wherever each stands in the files) says the patient
no longer exists in the source: the patients table drops it (fhir_versions), and the labs,
medications and diagnoses naming `x` are quarantined `deleted_patient` rather than screened. The
patient may have been merged into another, or registered in error; only the sender can tell
whose those results are, so the night warns (deleted_reference_warnings). The patients table
drops the Patient too, wherever the export holds the deletion (`drop_deleted_patients`): the
tables agree. A deletion that cannot be ordered against every version of the Patient, or that
ties the latest, sets nothing aside, as for any resource; but the records then screened are
counted (`unordered_deletion_rows`) and the night warns (`unordered_patient_deletions`), unless a
version of the Patient is known newer than the deletion (created again). A row quarantined for
another reason keeps it, but a medication quarantined as read for its drug's reference (one the
export lacks or records deleted): deleted_patient. The Patients' versions are read once per
process for every table.

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

from collections import Counter
from collections.abc import Set as AbstractSet
from functools import lru_cache
from pathlib import Path

import pandas as pd

from hyposcreen.adapters.fhir_files import DOCUMENTS, MIXED, iter_blocks
from hyposcreen.adapters.fhir_index import (
    UNORDERED,
    Version,
    Versions,
    index_resources,
    known_newer,
)
from hyposcreen.adapters.fhir_lookalike_ids import lookalike_ids
from hyposcreen.adapters.fhir_table import DELETED_MEDICATION, SUBJECT, UNRESOLVED, TableBuilder
from hyposcreen.adapters.fhir_versions import DELETE_ENTRY, DELETED
from hyposcreen.adapters.fhir_versions import Version as EntryVersion
from hyposcreen.errors import InputError

DELETED_PATIENT = "deleted_patient"
READ_REASONS = (UNRESOLVED, DELETED_MEDICATION)  # set as a medication is read, before this


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
    return patient_deletions(tuple(files))[0]


def unordered_deletions(files: list[Path]) -> frozenset[str]:
    """The ids of the Patients in `files` with a deletion that sets nothing aside although no
    version of the Patient is known newer than it: it could not be ordered against them (a
    bulk export's `deleted/Patient.ndjson` entry, with no etag or lastModified, beside a
    version with `lastUpdated` alone), ties the latest, or has no version beside none."""
    return patient_deletions(tuple(files))[1]


def patient_deletions(files: tuple[Path, ...]) -> tuple[frozenset[str], frozenset[str]]:
    """(`deleted_patients`, `unordered_deletions`) of the files, read once per process for
    every table (a file known by its path, size and modification time: `_states`)."""
    return _patient_deletions(files, _states(files))


def _states(files: tuple[Path, ...]) -> tuple[tuple[int, int], ...]:
    return tuple((path.stat().st_size, path.stat().st_mtime_ns) for path in files)


@lru_cache(maxsize=4)
def _patient_deletions(
    files: tuple[Path, ...], states: tuple[tuple[int, int], ...]
) -> tuple[frozenset[str], frozenset[str]]:
    versions: Versions = {}
    tombstones: dict[str, list[Version]] = {}
    kept = index_resources(list(files), "Patient", lambda _: True, versions, True, tombstones)
    deleted = frozenset(rid for rid in versions if rid not in kept)
    live: Versions = {}
    index_resources(list(files), "Patient", lambda _: True, live, deletions=False)
    recreated = {
        rid
        for rid, stated in tombstones.items()
        if (held := live.get(rid)) not in (None, UNORDERED)
        and all(known_newer(held, version) for version in stated)
    }
    return deleted, frozenset(tombstones) - deleted - recreated


def set_aside_deleted_patients(
    frame: pd.DataFrame, by_type: dict[str, list[Path]], unresolved: AbstractSet[str] = frozenset()
) -> pd.DataFrame:
    """Give the rows of `frame` (a canonical table as read from the export's files `by_type`)
    that name a deleted Patient and no other reason yet `malformed_reason` deleted_patient, in
    place; those rows (for the counts made as they were read: fhir_medications). An id among
    `unresolved` (an identifier's value some rows hold as their patient: fhir_subjects) is
    not known to name the deleted Patient: none of its rows is set aside. A medication
    quarantined as read for its drug's reference (`READ_REASONS`, no patient_id) whose subject
    (the hidden column `SUBJECT`, dropped here) is a deleted Patient is quarantined
    deleted_patient instead, its patient_id set: not returned, it was never counted."""
    subject = frame.pop(SUBJECT) if SUBJECT in frame.columns else None
    if frame.empty or not (files := patient_version_files(by_type)):
        return frame.iloc[:0]
    deleted = deleted_patients(files)
    deleted -= lookalike_ids(by_type, deleted) | unresolved
    if not deleted:
        return frame.iloc[:0]
    hit = frame["patient_id"].isin(deleted)
    if "malformed_reason" in frame.columns:
        hit &= frame["malformed_reason"].isna()
    else:
        frame["malformed_reason"] = pd.Series(None, index=frame.index, dtype=object)
    frame.loc[hit, "malformed_reason"] = DELETED_PATIENT
    if subject is not None:
        read_as = subject.isin(deleted) & frame["malformed_reason"].isin(READ_REASONS)
        frame.loc[read_as, "patient_id"] = subject[read_as]
        frame.loc[read_as, "malformed_reason"] = DELETED_PATIENT
    return frame.loc[hit]


def drop_deleted_patients(
    frame: pd.DataFrame, by_type: dict[str, list[Path]], dropped: Counter[str]
) -> pd.DataFrame:
    """The patients table without the Patients whose newest version is a deletion wherever the
    export holds it (also in a Bundle saved as `Observation.ndjson`, which the patients table
    does not open): the tables agree. Their rows are counted in `dropped` as the deletions the
    patients table read itself are (fhir_versions: `deleted_resource`)."""
    if frame.empty or not (files := patient_version_files(by_type)):
        return frame
    deleted = deleted_patients(files)
    gone = frame["patient_id"].isin(deleted - lookalike_ids(by_type, deleted)).to_numpy()
    if not gone.any():
        return frame
    dropped[DELETED] += int(gone.sum())
    return frame.loc[~gone].reset_index(drop=True)


def patients_frame(builder: TableBuilder, by_type: dict[str, list[Path]]) -> pd.DataFrame:
    """The patients table's frame from its `builder`, agreeing with the other tables: a
    Patient deleted wherever the export holds its deletion is dropped (`drop_deleted_patients`),
    one whose id records also hold as an unresolved identifier's value kept (`kept_deletions`)."""
    builder.deletions = kept_deletions(builder.deletions, by_type)
    return drop_deleted_patients(builder.frame(), by_type, builder.not_relevant)


def kept_deletions(
    deletions: list[EntryVersion], by_type: dict[str, list[Path]]
) -> list[EntryVersion]:
    """The patients table's deletions (`TableBuilder.deletions`) but those of a deleted id
    that records also hold as an unresolved identifier's value (fhir_lookalike_ids): the
    patients table keeps that Patient, as the other tables screen its records."""
    if not deletions or not (files := patient_version_files(by_type)):
        return deletions
    if not (kept := lookalike_ids(by_type, deleted_patients(files))):
        return deletions
    keys = {f"Patient/{rid}" for rid in kept}
    return [deletion for deletion in deletions if deletion[0] not in keys]


def unordered_deletion_rows(
    frame: pd.DataFrame, by_type: dict[str, list[Path]]
) -> tuple[int, tuple[str, ...]] | None:
    """How many rows of `frame` (a table of records) are screened although their Patient has a
    deletion that could not be ordered against its versions (`unordered_deletions`), and the
    first three as `file:row`; None when there are none."""
    if frame.empty or not (files := patient_version_files(by_type)):
        return None
    deleted = deleted_patients(files)
    if not (unordered := unordered_deletions(files) | lookalike_ids(by_type, deleted)):
        return None
    hit = frame["patient_id"].isin(unordered)
    if "malformed_reason" in frame.columns:
        hit &= frame["malformed_reason"].isna()
    if not hit.any():
        return None
    rows = frame.loc[hit, ["source_file", "source_row"]].head(3)
    return int(hit.sum()), tuple(f"{f}:{r}" for f, r in rows.itertuples(index=False))
