"""Warnings read from FHIR records quarantined because what they refer to was deleted.

A `_history` Bundle's DELETE that is the newest version of a resource says it no longer exists
(adapters.fhir_versions). A deleted record itself is only set aside (`deleted_resource`, no
warning): its source removed it. But a record that is not deleted yet refers to one that is
cannot be screened and cannot be dropped unsaid (exit 4):

- `deleted_patients`: labs, medications and diagnoses of a Patient the export records deleted
  (quarantined `deleted_patient`, adapters.fhir_deleted_patients): the patient may have been
  merged into another whose list now lacks them, or registered in error. The source deleted
  them with the patient, so nothing in them is to be corrected: the sender is to confirm the
  deletion, or say whose records they are. The low sodiums among them (quarantined_low_sodiums.
  low_sodium_rows) are counted in this message, not in `quarantined_low_sodiums`, whose advice
  (correct the unit or time) does not fit them.
- `deleted_medications`: medication records naming their drug only by a Medication the export
  records deleted (quarantined `deleted_medication`, adapters.fhir_medications): no drug is
  read from them, so a medication risk factor may be missing. Not `unresolved_references`: no
  file is missing from the delivery, its Medication was deleted at the source.

- `unordered_patient_deletions`: records screened although the export records their Patient
  deleted, the deletion not known newer than the Patient's versions (not from the quarantine:
  the tables count them as read, `IngestedTable.unordered_deletions`).

Each message holds counts and up to three `file:row` references, never a value or an id. The
medication and diagnosis tables are read whole for every night (not cut to its window, as its
labs are), so their counts are the extract's, repeated by each night of a backfill and each
month of an audit: the message says so (as unidentified_events does), lest a night seem to
claim them.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from hyposcreen.ingest.canonical import IngestedTable
from hyposcreen.quarantine_text import Matches, references
from hyposcreen.run_warnings import WHOLE_TABLE_COUNTS, RunWarning

_TABLES = ("labs", "medications", "diagnoses")
_NOUN = {"medications": "medication", "diagnoses": "diagnosis"}


def deleted_reference_warnings(
    quarantine: pd.DataFrame, where: Matches, low_sodiums: tuple[np.ndarray, str] | None = None
) -> list[RunWarning]:
    """The two warnings above, from the run's quarantine rows (report.quarantine's columns);
    `low_sodiums`: which of them are low sodium results, and the bound as a message says it
    (quarantined_low_sodiums.low_sodium_rows)."""
    if quarantine.empty:
        return []
    found = _deleted_patients(quarantine, where, low_sodiums)
    drugs = np.flatnonzero(where("reason", "deleted_medication"))
    if len(drugs):
        found.append(
            RunWarning(
                "deleted_medications",
                f"{len(drugs)} medication record(s) name their drug only by a Medication "
                f"whose newest version in the export is a deletion (e.g. "
                f"{references(quarantine, drugs)}): they are quarantined deleted_medication "
                "and no drug is read from them, so a medication risk factor may be missing "
                "from the list. See quarantine.csv; ask the sender for the records' current "
                "drug." + WHOLE_TABLE_COUNTS.format(these="These are", tables="medication table"),
            )
        )
    return found


def _deleted_patients(
    quarantine: pd.DataFrame, where: Matches, low_sodiums: tuple[np.ndarray, str] | None
) -> list[RunWarning]:
    """The `deleted_patients` warning (none without such records)."""
    patients = where("reason", "deleted_patient")
    if not patients.any():
        return []
    sodiums = 0
    if low_sodiums is not None:
        sodiums = int((patients & where("table", "labs") & low_sodiums[0]).sum())
    hyponatremia = (
        f" Among them are {sodiums} sodium result(s) {low_sodiums[1]}: if the patient lives "
        "on as another record, that patient's hyponatremia may be missing from the list."
        if sodiums and low_sodiums is not None
        else ""
    )
    counts = {t: int((patients & where("table", t)).sum()) for t in _TABLES}
    told = ", ".join(f"{table} {n}" for table, n in counts.items() if n)
    events = " and ".join(_NOUN[t] for t in _TABLES[1:] if counts[t])
    tables = f"{events} table" + ("s" if " and " in events else "")
    whole = (
        WHOLE_TABLE_COUNTS.format(these=f"The {events} records are", tables=tables)
        if events
        else ""
    )
    return [
        RunWarning(
            "deleted_patients",
            f"{int(patients.sum())} record(s) ({told}) refer to a Patient whose newest "
            f"version in the export is a deletion (e.g. "
            f"{references(quarantine, np.flatnonzero(patients))}): they are quarantined "
            f"deleted_patient and not screened.{hyponatremia} The source deleted them with "
            "the patient, so nothing in them is to be corrected: see quarantine.csv and ask "
            "the sender to confirm the deletion (a patient registered in error) or, if the "
            f"patient was merged into another, whose records they are.{whole}",
        )
    ]


def unordered_deletion_warnings(tables: Mapping[str, IngestedTable]) -> list[RunWarning]:
    """`unordered_patient_deletions`: records screened although the export records their
    Patient deleted, because the deletion could not be ordered against the Patient's other
    versions (adapters.fhir_deleted_patients.unordered_deletions: a bulk export's
    `deleted/Patient.ndjson` entry carries no version or time, nor need the Patient beside it).
    Or the id is also an unresolved identifier's value some records hold as their patient
    (adapters.fhir_lookalike_ids). Never hiding a real patient, the screen keeps them; the
    night says so (exit 4)."""
    found = {
        name: table.unordered_deletions
        for name in _TABLES
        if (table := tables.get(name)) is not None and table.unordered_deletions
    }
    if not found:
        return []
    told = ", ".join(f"{name} {rows}" for name, (rows, _) in found.items())
    examples = ", ".join([ref for _, refs in found.values() for ref in refs][:3])
    return [
        RunWarning(
            "unordered_patient_deletions",
            f"{sum(rows for rows, _ in found.values())} record(s) ({told}, as read) refer to a "
            f"Patient the export records deleted (e.g. {examples}), yet they were screened: the "
            "deletion could not be ordered against the patient's other version(s) (it carries "
            "no versionId or lastModified, as a bulk export's deleted/ file, or the versions "
            "carry another kind), so it is not known to be the newest; or the patient's id is "
            "also the value of an identifier no Patient holds that records name their patient "
            "by (an MRN beside a server's numeric ids), so those rows cannot be told apart. "
            "If the patient was "
            "deleted, the list may hold records of a patient who no longer exists. Confirm the "
            "deletion with the sender, or ask for an export whose deletions and Patients carry "
            "versions (meta.versionId, response.etag) or times (meta.lastUpdated, "
            "response.lastModified), and rerun.",
        )
    ]
