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
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd

KEY, VERSION_ID, LAST_UPDATED = "__fhir_key", "__fhir_version_id", "__fhir_last_updated"
HIDDEN = (KEY, VERSION_ID, LAST_UPDATED)
SUPERSEDED = "superseded_version"
Version = tuple[str | None, str | None, str | None]
_NONE: Version = (None, None, None)


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
) -> pd.DataFrame:
    """The frame with older versions' rows given `malformed_reason` superseded_version, and
    the hidden columns dropped. `set_aside` (the patients table, which has no quarantine: the
    review list shows a patient's first row): older versions are dropped, counted there.
    `older_rows` is given the older versions' rows with their hidden columns (what was
    counted of them as read is taken back: fhir_medications)."""
    if KEY not in frame.columns:
        return frame
    keys = frame[KEY]
    repeated = (keys.notna() & keys.duplicated(keep=False)).to_numpy()
    if repeated.any():
        older = _older(frame.loc[repeated, list(HIDDEN)])
        if older.any() and older_rows is not None:
            older_rows.append(frame.loc[older.index[older.to_numpy()]])
        if older.any() and set_aside is not None:
            set_aside[SUPERSEDED] += int(older.sum())
            frame = frame.drop(index=older.index[older.to_numpy()]).reset_index(drop=True)
        elif older.any():
            if "malformed_reason" not in frame.columns:
                frame["malformed_reason"] = pd.Series(None, index=frame.index, dtype=object)
            frame.loc[older.index[older.to_numpy()], "malformed_reason"] = SUPERSEDED
    return frame.drop(columns=list(HIDDEN))


def _older(rows: pd.DataFrame) -> pd.Series:
    """True for each row of an older version among rows sharing a key (see module text)."""
    group = rows[KEY]
    number = pd.to_numeric(rows[VERSION_ID], errors="coerce")
    instant = pd.to_datetime(rows[LAST_UPDATED], utc=True, errors="coerce", format="ISO8601")
    by_number = number.notna().groupby(group).transform("all")
    by_instant = instant.notna().groupby(group).transform("all") & ~by_number
    older_number = by_number & (number < number.groupby(group).transform("max"))
    older_instant = by_instant & (instant < instant.groupby(group).transform("max"))
    return (older_number | older_instant).astype(bool)
