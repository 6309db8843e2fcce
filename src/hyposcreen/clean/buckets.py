"""Spec §3 buckets: their names, the reasons shared by every table, and the reconciliation.

Every input row ends in exactly one bucket (used | not_relevant | duplicate | quarantined) and
the manifest reconciles rows_in = used + not_relevant + duplicate + quarantined.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hyposcreen.rules import sql_engine as engine
from hyposcreen.rules.loader import RuleSet
from hyposcreen.rules.tables import status_table
from hyposcreen.site_words import status_key

USED, NOT_RELEVANT, DUPLICATE, QUARANTINED = "used", "not_relevant", "duplicate", "quarantined"
BUCKETS = (USED, NOT_RELEVANT, DUPLICATE, QUARANTINED)


def malformed_reasons(frame: pd.DataFrame) -> pd.Series:
    """A reason per row, set only for rows the CSV parser could not split (malformed_row) or
    the reader refused (its `malformed_reason`, e.g. oversized_row)."""
    reason = pd.Series(None, index=frame.index, dtype=object)
    if "malformed_text" in frame.columns:
        reason[frame["malformed_text"].notna()] = "malformed_row"
    if "malformed_reason" in frame.columns:  # e.g. oversized_row (ingest.oversized)
        given = frame["malformed_reason"].notna()
        reason[given] = frame.loc[given, "malformed_reason"]
    return reason


# characters an id never holds, that exports leave in one: NUL (a database's CHAR padding),
# zero-width spaces and joiners, word joiner, byte order mark
_INVISIBLE = "[\\x00\u200b\u200c\u200d\u2060\ufeff]"


def patient_codes(patient_id: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Patient ids without surrounding spaces or invisible characters (null stays null), where
    one is missing, and a code per row that is equal exactly where the stripped ids are (-1
    where missing); the stripping is done once per distinct id."""
    encoded = pc.dictionary_encode(engine.text_array(patient_id))
    stripped = stripped_ids(encoded.dictionary)
    same = pc.dictionary_encode(stripped)
    blank = pc.equal(stripped, "").to_numpy(zero_copy_only=False)
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    key = np.append(same.indices.to_numpy(zero_copy_only=False), -1)[codes]
    missing = np.append(blank, True)[codes]
    key[missing] = -1
    texts = pd.Series(pd.array(pc.take(stripped, encoded.indices), dtype="str"))
    return texts.set_axis(patient_id.index), missing, key


def stripped_ids(ids: pa.Array) -> pa.Array:
    """Ids (Arrow text) as cleaning keys them: without invisible characters anywhere and
    without surrounding spaces (`P1` after a zero-width space or a byte order mark, and ` P1`,
    are `P1`); the patient-hash partitions hash this form, so that ids cleaning makes equal
    meet in one partition."""
    return pc.utf8_trim_whitespace(_visible(ids))


def specimen_ids(specimen_id: pd.Series, used: np.ndarray) -> pd.Series:
    """The specimen ids of the `used` rows compared as patient ids are (`patient_codes`:
    without surrounding spaces or invisible characters) and none where that leaves nothing: a
    blank id (spaces from a CHAR column, an empty string in a Parquet text column) names no
    specimen, so it pairs no glucose (spec §4) and does not count as a specimen id when a
    duplicate is chosen. The other rows keep their ids as read (the quarantine shows them);
    typed numbers, which are never blank, and ids that need no change are returned as they
    are (the usual extract: no copy of the column)."""
    if not (pd.api.types.is_string_dtype(specimen_id.dtype) or specimen_id.dtype == object):
        return specimen_id
    ids = engine.text_array(specimen_id)
    trimmed = pc.utf8_trim_whitespace(_visible(ids))
    blank = pc.equal(trimmed, "").fill_null(False)
    changed = pc.or_(pc.not_equal(trimmed, ids).fill_null(False), blank)
    if not pc.any(pc.and_(changed, pa.array(used))).as_py():
        return specimen_id
    cleaned = pd.Series(pd.array(trimmed, dtype="str"), index=specimen_id.index)
    return cleaned.mask(blank.to_numpy(zero_copy_only=False)).where(used, specimen_id)


def _visible(ids: pa.Array) -> pa.Array:
    """`ids` without the invisible characters (searched only when an id holds a NUL or is not
    ASCII: a usual extract's ids are returned as they are)."""
    plain = pc.all(pc.string_is_ascii(ids)).as_py() is not False
    if plain and not pc.any(pc.match_substring(ids, "\x00")).as_py():
        return ids
    return pc.replace_substring_regex(ids, _INVISIBLE, "")


_STATUS_SQL = """
SELECT st.code, ex.status_key IS NOT NULL AS excluded
FROM status_texts st
LEFT JOIN (SELECT status_key FROM statuses WHERE category = $category) ex
    ON st.value = ex.status_key
ORDER BY st.code
"""


def excluded_statuses(
    status: pd.Series, rules: RuleSet, category: str
) -> tuple[pd.Series, np.ndarray]:
    """Status words as the rules hold them (accents folded, '_' and spaces as one '-'; None
    where there is none), and where one is in the rules' `category` of excluded statuses —
    decided once per distinct word, joined with the rules' status table in the engine."""
    codes, texts = engine.encode(status)
    keys = [status_key(t) for t in texts]
    table = engine.mapping_table(texts, keys, pa.large_string())
    found = engine.query(
        _STATUS_SQL,
        {"status_texts": table, "statuses": status_table(rules)},
        {"category": category},
    )
    excluded = np.append(found.column("excluded").to_numpy(zero_copy_only=False), False)
    words = np.array([*keys, None], dtype=object)
    return pd.Series(words[codes], index=status.index, dtype=object), excluded[codes]


def first_reasons(malformed: pd.Series, checks: list[tuple[np.ndarray, str]]) -> pd.Series:
    """Each row's reason: the malformed one when there is one, else the first check that holds
    (checks in the spec's order), else none (NaN). The checks are chosen among as numbers
    (the first that holds) and the reasons taken by them: no pass over objects per check."""
    names = np.array([np.nan, *(code for _, code in checks)], dtype=object)
    which = np.zeros(len(malformed), dtype=np.int64)
    for number, (mask, _) in reversed(list(enumerate(checks, start=1))):
        which[np.asarray(mask, dtype=bool)] = number  # an earlier check overwrites a later one
    reason = names[which]
    given = malformed.notna().to_numpy()
    reason[given] = malformed.to_numpy(dtype=object)[given]
    return pd.Series(reason, index=malformed.index, dtype=object)


BUCKET_CODES = (USED, NOT_RELEVANT, QUARANTINED)  # the buckets a reason alone decides


def bucket_codes(reason: pd.Series, not_relevant: tuple[str, ...]) -> np.ndarray:
    """The bucket of each row from its reason, as a code of BUCKET_CODES: none -> used, a
    not-relevant reason -> not_relevant, any other -> quarantined."""
    return np.select([reason.isna(), reason.isin(not_relevant)], [0, 1], default=2)


def coded_bucket_codes(
    reasons: np.ndarray, reason_names: list[object], not_relevant: tuple[str, ...]
) -> np.ndarray:
    """`bucket_codes` from each row's reason as a code of the distinct `reason_names` (-1 for
    none, as pd.factorize gives them): each distinct reason is judged once."""
    of_name = np.array([1 if name in not_relevant else 2 for name in reason_names] + [0])
    return of_name.astype(np.int64)[reasons]


def buckets_of(reason: pd.Series, not_relevant: tuple[str, ...]) -> pd.Series:
    """The bucket of each row from its reason (`bucket_codes`), as text."""
    return engine.texts_by_code(BUCKET_CODES, bucket_codes(reason, not_relevant), reason.index)


@dataclass(frozen=True)
class HeldSizes:
    """The (bucket, reason) sizes of a cleaned frame found from the codes its bucket and
    reason columns were made from, with those columns as made (Series of the frame). They are
    the frame's sizes while the frame holds those very columns: pandas copies on write, so a
    write into either column of the frame (a contract warning, late results) first gives the
    frame new arrays and these keep the old ones; a frame whose columns are not these is
    counted anew."""

    bucket: pd.Series
    reason: pd.Series
    sizes: dict[tuple[str, str], int]
    codes: np.ndarray | None = None  # each row's bucket as a code of BUCKET_CODES, if known

    def used(self, frame: pd.DataFrame) -> np.ndarray | None:
        """Where `frame`'s rows are used, from the codes its buckets were made of, while it
        holds those columns (`hold_for`); None when it does not (or no codes are known)."""
        if self.codes is None or not self.hold_for(frame):
            return None
        used: np.ndarray = self.codes == BUCKET_CODES.index(USED)
        return used

    def hold_for(self, frame: pd.DataFrame) -> bool:
        """Whether `frame`'s bucket and reason columns are the ones these sizes were found of:
        the same reason array (the same memory, so the same objects) and the same buckets."""
        if "bucket" not in frame.columns or "reason" not in frame.columns:
            return False
        reason, held = frame["reason"], self.reason
        if reason.dtype != object or held.dtype != object or len(reason) != len(held):
            return False
        mine, kept = reason.to_numpy(), held.to_numpy()
        if mine.__array_interface__ != kept.__array_interface__:  # data address, shape, strides
            return False
        bucket = frame["bucket"]
        return bucket.dtype == self.bucket.dtype and bool(
            pa.array(bucket.array).equals(pa.array(self.bucket.array))
        )


def coded_sizes(
    buckets: np.ndarray, bucket_names: tuple[str, ...], reasons: np.ndarray, reason_names: list
) -> dict[tuple[str, str], int]:
    """`bucket_sizes` from codes: each row's bucket (a code of `bucket_names`) and reason (a
    code of `reason_names`, -1 for none; an empty reason counts as none)."""
    counts = coded_counts(buckets, bucket_names, reasons, reason_names)
    return sizes_of_counts(counts, bucket_names, reason_names)


def coded_counts(
    buckets: np.ndarray, bucket_names: tuple[str, ...], reasons: np.ndarray, reason_names: list
) -> np.ndarray:
    """Rows per (bucket, reason) code pair, at bucket * (len(reason_names) + 1) + reason + 1
    (reason -1: none), for `sizes_of_counts`."""
    width = len(reason_names) + 1
    pairs = buckets.astype(np.int64) * width + (reasons.astype(np.int64) + 1)
    return np.bincount(pairs, minlength=len(bucket_names) * width)


def sizes_of_counts(
    counts: np.ndarray, bucket_names: tuple[str, ...], reason_names: list
) -> dict[tuple[str, str], int]:
    """`coded_sizes` from the rows per code pair (`coded_counts`)."""
    names = ["", *("" if r == "" else str(r) for r in reason_names)]
    width = len(names)
    sizes: dict[tuple[str, str], int] = {}
    for code in np.flatnonzero(counts):
        key = (str(bucket_names[code // width]), names[code % width])
        sizes[key] = sizes.get(key, 0) + int(counts[code])  # '' and none are one reason
    return dict(sorted(sizes.items()))


def bucket_sizes(frame: pd.DataFrame, held: HeldSizes | None = None) -> dict[tuple[str, str], int]:
    """Rows per (bucket, reason) of one cleaned frame ('' when there is no reason); `held`:
    the sizes found when its columns were made, used while the frame holds those columns."""
    if not len(frame):
        return {}
    if held is not None and held.hold_for(frame):
        return dict(held.sizes)
    buckets, bucket_names = pd.factorize(frame["bucket"])
    reasons, reason_names = pd.factorize(frame["reason"])  # -1 where there is no reason
    return coded_sizes(buckets, tuple(bucket_names), reasons, list(reason_names))


def count_buckets(
    frame: pd.DataFrame,
    read_not_relevant: dict[str, int],
    rows_in: int,
    held: HeldSizes | None = None,
) -> dict:
    """Reconciliation of one table: rows_in = used + not_relevant + duplicate + quarantined."""
    return reconcile(bucket_sizes(frame, held), read_not_relevant, rows_in)


def reconcile(
    sizes: dict[tuple[str, str], int], read_not_relevant: dict[str, int], rows_in: int
) -> dict:
    """count_buckets from (bucket, reason) sizes, which partitions of a table can add up."""
    by_bucket = {b: 0 for b in BUCKETS}
    by_reason: dict[str, dict[str, int]] = {b: {} for b in BUCKETS}
    for (bucket, reason), count in sizes.items():
        by_bucket[bucket] += int(count)
        if reason:
            by_reason[bucket][reason] = int(count)
    for reason, count in read_not_relevant.items():
        by_bucket[NOT_RELEVANT] += int(count)
        by_reason[NOT_RELEVANT][reason] = by_reason[NOT_RELEVANT].get(reason, 0) + int(count)
    total = sum(by_bucket.values())
    return {
        "rows_in": rows_in,
        **by_bucket,
        "reasons": {b: dict(sorted(r.items())) for b, r in by_reason.items() if r},
        "reconciled": total == rows_in,
    }
