"""Versions of one FHIR resource read more than once: the latest is used, the others are
quarantined `superseded_version` at their place.

A `_history` Bundle, or two incremental exports side by side, may hold the same resourceType/id
several times (a sodium entered, then corrected). Each row a resource maps to carries hidden
columns: `resourceType/id`, `meta.versionId`, `meta.lastUpdated` (only for a resource that has
an id and one of the two; others are never compared). Among the rows kept by the window that
share a resourceType/id, the latest version is used: the highest numeric `meta.versionId`
when every one of them has one, else the latest `meta.lastUpdated` (an instant, compared in
UTC) when every one of them has one; the rows of older versions are quarantined. When the
versions cannot be ordered (a versionId that is not a number beside none, no lastUpdated) or
tie (the same version twice: spec §3 duplicates), all are kept, as before. A table without a
repeated id is unchanged (the hidden columns are dropped). Only rows inside the read window
compete: a newer version dated outside it does not set aside an older one inside it. The
patients table has no quarantine: there older versions are dropped (counted not relevant).

A Bundle entry recording a deletion (`request.method` DELETE and no `resource`: a `_history`
Bundle's delete) is a version of the resource its `request.url` names (`Observation/123`,
`.../Observation/123/_history/3`, `Patient/P1?_cascade=delete`: parameters after an id do not
make a condition; `Patient?identifier=...`, a conditional delete, names none): its versionId is
`response.etag`'s (`W/"3"`), else the url's `_history/3`, its lastUpdated
`response.lastModified`. When it is the newest version of that resource (ordered as above, among
the rows kept and the deletions of that resourceType/id), the resource no longer exists: all its
rows are quarantined `deleted_resource` (patients: dropped, counted). Conservatively, a deletion
that cannot be ordered against every version (no version of its own, or of another kind than
theirs), that ties the latest, or that is newer by versionId but older by lastUpdated than a
version (a versionId from another server, or one started again: the two disagree), sets nothing
aside: the versions are screened as before, the entry counted `entry_without_resource` as ever.
A deletion is not dated, so it meets every row the window kept; one older than a later version
(the resource created again) sets aside nothing itself.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pandas as pd

from hyposcreen.adapters.fhir_documents import EMPTY_ENTRY

KEY, VERSION_ID, LAST_UPDATED = "__fhir_key", "__fhir_version_id", "__fhir_last_updated"
HIDDEN = (KEY, VERSION_ID, LAST_UPDATED)
SUPERSEDED = "superseded_version"
DELETED = "deleted_resource"
TOMBSTONE = "#deleted"  # marks the stand-in resource of a deletion (`deletion_of`)
Version = tuple[str | None, str | None, str | None]
_NONE: Version = (None, None, None)
_ETAG = re.compile(r'(?:W/)?"([^"]+)"')
# The bytes of a Bundle entry's DELETE, as `deletion_of` reads one: the key `method` as written
# (JSON keys are case-sensitive), its value in any letter case, or any value holding a JSON
# `\u` escape within its first six bytes (DELETE spelled with one, `"DEL\u0045TE"`, has its
# first after at most five letters): such a line is parsed and its method read. The one test
# of a file or line for deletions before parsing it (the lab pre-filter, fhir_deleted_patients).
DELETE_ENTRY = re.compile(rb'"method"\s*:\s*"(?:(?i:delete)"|[^"]{0,5}\\u)')
_TYPE = re.compile(r"[A-Z][A-Za-z]+")


def deletion_of(pseudo: dict[str, Any]) -> dict[str, Any] | None:
    """For an entry holding no resource (`fhir_documents.EMPTY_ENTRY`) that records a deletion:
    a stand-in resource `{resourceType, id, meta: {versionId, lastUpdated}, TOMBSTONE: True}`
    (see module text; `meta` holds only what the entry gives). None for any other entry."""
    entry = pseudo.get("entry") if pseudo.get("resourceType") == EMPTY_ENTRY else None
    request = entry.get("request") if isinstance(entry, dict) else None
    if not isinstance(request, dict) or str(request.get("method")).upper() != "DELETE":
        return None
    url = request.get("url")
    if not isinstance(url, str):
        return None
    path, query, _ = url.partition("?")
    parts = [part for part in path.split("/") if part]
    if query and len(parts) < 2:
        return None  # a conditional delete (`Observation?code=...`) names no one resource
    version_id = None
    if len(parts) >= 4 and parts[-2] == "_history":
        version_id, parts = parts[-1], parts[:-2]
    if len(parts) < 2 or not _TYPE.fullmatch(parts[-2]):
        return None
    response = entry.get("response") if isinstance(entry, dict) else None
    response = response if isinstance(response, dict) else {}
    etag = response.get("etag")
    if isinstance(etag, str) and (tag := _ETAG.fullmatch(etag.strip())):
        version_id = tag.group(1)
    meta = {"versionId": version_id, "lastUpdated": response.get("lastModified")}
    meta = {name: value for name, value in meta.items() if isinstance(value, str)}
    return {"resourceType": parts[-2], "id": parts[-1], "meta": meta, TOMBSTONE: True}


def version_of(resource: dict[str, Any]) -> Version:
    """(resourceType/id, versionId, lastUpdated) of a resource that has an id and a version
    in `meta`; (None, None, None) otherwise."""
    meta = resource.get("meta")
    rid = resource.get("id")
    if not isinstance(meta, dict) or not isinstance(rid, str):
        return _NONE
    version_id, updated = meta.get("versionId"), meta.get("lastUpdated")
    version_id = version_id if isinstance(version_id, str) else None
    updated = updated if isinstance(updated, str) else None
    if version_id is None and updated is None:
        return _NONE
    return f"{resource['resourceType']}/{rid}", version_id, updated


def quarantine_superseded(
    frame: pd.DataFrame,
    set_aside: Counter[str] | None = None,
    older_rows: list[pd.DataFrame] | None = None,
    deletions: Sequence[Version] = (),
) -> pd.DataFrame:
    """The frame with older versions' rows given `malformed_reason` superseded_version, those
    of a resource whose newest version is one of the `deletions` deleted_resource, and the
    hidden columns dropped. `set_aside` (the patients table, which has no quarantine: the
    review list shows a patient's first row): those rows are dropped, counted there.
    `older_rows` is given those rows with their hidden columns (what was counted of them as
    read is taken back: fhir_medications)."""
    if KEY not in frame.columns:
        return frame
    keys = frame[KEY]
    deleted_keys = {key for key, _, _ in deletions if key is not None}
    repeated = (keys.notna() & (keys.duplicated(keep=False) | keys.isin(deleted_keys))).to_numpy()
    if repeated.any():
        rows = frame.loc[repeated, list(HIDDEN)]
        gone = _deleted(rows, deletions) if deleted_keys else rows[KEY].isna()
        older = _older(rows) & ~gone
        dropped: list[pd.Index] = []
        for reason, chosen in ((SUPERSEDED, older), (DELETED, gone)):
            index = chosen.index[chosen.to_numpy()]
            if index.empty:
                continue
            if older_rows is not None:
                older_rows.append(frame.loc[index])
            if set_aside is not None:
                set_aside[reason] += len(index)
                dropped.append(index)
                continue
            if "malformed_reason" not in frame.columns:
                frame["malformed_reason"] = pd.Series(None, index=frame.index, dtype=object)
            frame.loc[index, "malformed_reason"] = reason
        if dropped:
            frame = frame.drop(index=dropped[0].append(dropped[1:])).reset_index(drop=True)
    return frame.drop(columns=list(HIDDEN))


def _older(rows: pd.DataFrame) -> pd.Series:
    """True for each row of an older version among rows sharing a key (see module text)."""
    group = rows[KEY]
    older = pd.Series(False, index=rows.index)
    for ordered, values in _orders(rows):
        older |= ordered & (values < values.groupby(group).transform("max"))
    return older.astype(bool)


def _orders(rows: pd.DataFrame) -> list[tuple[pd.Series, pd.Series]]:
    """How the rows sharing a key are ordered (module text), as (which rows it orders, their
    values): by numeric versionId where every row of the key has one, else by lastUpdated
    (in UTC) where every row of the key has one; a key neither orders is in neither."""
    group = rows[KEY]
    number = pd.to_numeric(rows[VERSION_ID], errors="coerce")
    instant = pd.to_datetime(rows[LAST_UPDATED], utc=True, errors="coerce", format="ISO8601")
    by_number = number.notna().groupby(group).transform("all")
    by_instant = instant.notna().groupby(group).transform("all") & ~by_number
    return [(by_number, number), (by_instant, instant)]


def _deleted(rows: pd.DataFrame, deletions: Sequence[Version]) -> pd.Series:
    """True for each row of a resource whose newest version is a deletion (module text)."""
    stated = pd.DataFrame(list(deletions), columns=list(HIDDEN), dtype=object)
    both = pd.concat([rows, stated], ignore_index=True)
    deletion = pd.Series([False] * len(rows) + [True] * len(stated), index=both.index)
    group = both[KEY]
    found = pd.Series(False, index=both.index)
    for ordered, values in _orders(both):
        newest_deletion = values.where(deletion).groupby(group).transform("max")
        newest_kept = values.where(~deletion).groupby(group).transform("max")
        found |= ordered & (newest_deletion > newest_kept)
    # newer by versionId, older by lastUpdated: the two disagree, the deletion is not known newer
    instant = pd.to_datetime(both[LAST_UPDATED], utc=True, errors="coerce", format="ISO8601")
    newest_kept_at = instant.where(~deletion).groupby(group).transform("max")
    found &= ~(instant.where(deletion).groupby(group).transform("max") < newest_kept_at)
    return pd.Series(found.to_numpy()[: len(rows)], index=rows.index)
