"""The patient-hash partition of each row: a stable 64-bit hash of the patient id, computed in
numpy over the bytes Arrow holds the ids in (no Python object per id).

The hash is FNV-1a over the id's UTF-8 bytes (of an id over 128 bytes: its first and last 64
and its length) followed by MurmurHash3's 64-bit finaliser (so that `% partitions` spreads
ids that differ only in their last byte): plain arithmetic on fixed constants, the same in
every process, on every machine and in every release of numpy, pandas or Arrow (unlike
Python's `hash`, salted per process, or DuckDB's `hash()`, which a release may change). Which
partition a patient lands in changes no output (the merge orders every row by its key and its
number in the whole table); only that all rows of one patient land in one partition matters.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hyposcreen.clean.buckets import stripped_ids
from hyposcreen.patient_id_forms import hashed_form_arrow

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
_MIX_1 = np.uint64(0xFF51AFD7ED558CCD)
_MIX_2 = np.uint64(0xC4CEB93FE53E4EC9)
_SHIFT = np.uint64(33)
# the bytes of an id hashed at most: the first and last half of them, and its length
_HASHED_BYTES = 128


def partition_of(patient_id: pd.Series, partitions: int, grouped: bool = True) -> np.ndarray:
    """The partition (0..n-1) of each row: the hash of the patient id without surrounding
    spaces or invisible characters, as cleaning keys patients (clean.buckets.stripped_ids: `P1`
    and a zero-width space meet `P1`; missing ids hash like the empty id), in its matching
    form in lower case (patient_id_forms.hashed_form: `000123` and `123.0` meet `123`, `p007`
    and `'P007` meet `P007`, so their counts add up), modulo `partitions`. `grouped`: each
    distinct id is formed and hashed once (else every row's id: the same partitions)."""
    return _partitions(patient_id, partitions, grouped)[0]


class TablePartitions:
    """`partition_of` for the batches of one table: its ids grouped (each distinct id formed
    and hashed once) while a batch holds many rows per id (labs: ~9 a patient in a batch);
    once a batch of `_JUDGED_ROWS` or more held mostly distinct ids (medications, diagnoses:
    one or two rows a patient), the later batches hash every row's id as it is, which costs
    there about a third of finding the distinct ids first. Each id lands in the same
    partition either way."""

    def __init__(self, partitions: int) -> None:
        self.partitions = partitions
        self.grouped = True

    def __call__(self, patient_id: pd.Series) -> np.ndarray:
        parts, distinct_share = _partitions(patient_id, self.partitions, self.grouped)
        if self.grouped and len(patient_id) >= _JUDGED_ROWS and distinct_share > _GROUPING_PAYS:
            self.grouped = False
        return parts


# grouping pays while distinct ids are at most this share of a batch's rows (measured on
# 262,144-row batches: 11 % distinct, grouped 16 ms against 28 ms a row at a time; 88 %
# distinct, 70 ms against 25 ms); judged on batches of at least _JUDGED_ROWS rows
_GROUPING_PAYS = 0.25
_JUDGED_ROWS = 65_536


def _partitions(patient_id: pd.Series, partitions: int, grouped: bool) -> tuple[np.ndarray, float]:
    """`partition_of`, and the share of the rows' ids that are distinct (1.0 when not
    grouped: not counted)."""
    if partitions == 1:
        return np.zeros(len(patient_id), dtype=np.int64), 1.0
    ids = pa.array(patient_id.astype("str"), type=pa.large_string(), from_pandas=True)
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks()
    ids = pc.fill_null(ids, "")
    if not grouped:
        hashed = id_hash(hashed_form_arrow(stripped_ids(ids))) % np.uint64(partitions)
        return hashed.astype(np.int64), 1.0
    # each distinct id is stripped and hashed once (Arrow finds them)
    encoded = pc.dictionary_encode(ids)
    distinct = hashed_form_arrow(stripped_ids(encoded.dictionary))
    hashed = id_hash(distinct) % np.uint64(partitions)
    share = len(encoded.dictionary) / max(len(ids), 1)
    return hashed.astype(np.int64)[encoded.indices.to_numpy()], share


def id_hash(ids: pa.Array) -> np.ndarray:
    """The 64-bit hash of each text of `ids` (large_string, no missing values) over its UTF-8
    bytes: each byte position is one numpy step over the ids at least that long. An id longer
    than `_HASHED_BYTES` is hashed over its first and last `_HASHED_BYTES // 2` bytes and its
    length (the same id, the same hash): the steps are at most `_HASHED_BYTES`, however long
    an id a batch holds (one 16 MiB id took a minute a batch)."""
    if not len(ids):
        return np.empty(0, dtype=np.uint64)
    ids = ids.cast(pa.large_string())
    _, offset_buffer, data_buffer = ids.buffers()
    offsets = np.frombuffer(offset_buffer, dtype=np.int64)[ids.offset : ids.offset + len(ids) + 1]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.empty(0)
    lengths = offsets[1:] - offsets[:-1]
    hashed_lengths = np.minimum(lengths, _HASHED_BYTES)
    longest_first = np.argsort(-hashed_lengths, kind="stable")
    lengths_down = hashed_lengths[longest_first]
    starts_down = offsets[:-1][longest_first]
    # the tail of a long id: its bytes from `skipped` after the head on
    skipped = (lengths - hashed_lengths)[longest_first]
    hashed = np.full(len(ids), _FNV_OFFSET, dtype=np.uint64)
    longest = int(lengths_down[0])
    # the ids longer than `position`: a prefix of longest_first
    longer = len(ids) - np.searchsorted(lengths_down[::-1], np.arange(longest), side="right")
    for position in range(longest):
        rows = slice(0, int(longer[position]))
        at = starts_down[rows] + position
        if position >= _HASHED_BYTES // 2:
            at = at + skipped[rows]
        hashed[rows] = (hashed[rows] ^ data[at].astype(np.uint64)) * _FNV_PRIME
    long_ids = skipped > 0
    hashed[long_ids] = (hashed[long_ids] ^ lengths[longest_first][long_ids].astype(np.uint64)) * (
        _FNV_PRIME
    )
    hashed ^= hashed >> _SHIFT
    hashed *= _MIX_1
    hashed ^= hashed >> _SHIFT
    hashed *= _MIX_2
    hashed ^= hashed >> _SHIFT
    result = np.empty_like(hashed)
    result[longest_first] = hashed
    return result
