"""A text column of every partition as the one categorical validation sees, made by Arrow.

What a single run validates of a text column is pandas' categorical of it
(`contract_gather.contract_frame`): per partition ``astype("str").astype("category")``, whose
categories are the partition's distinct values sorted, then the partitions' categoricals put
together with ``union_categoricals`` (the first partition's categories, then each next
partition's new ones in its sorted order). The categories' order reaches GX's results (the
order it meets values in) and so the outcomes, examples and Data Docs; it is kept exactly.

Pandas hashes every row's text twice for this (factorising and again on the union: ~6 s of a
20M-row run's gather). Here Arrow dictionary-encodes each partition's column once (its
dictionary: the distinct values), sorts only the dictionary (code-point order, as pandas
sorts Python strings), and the partitions' sorted dictionaries are encoded once more into the
union's categories; the rows' codes are looked up through small per-partition tables. The
clean stage's reason becomes, as `views.project_for_validation` makes it, a categorical of
the codes the contracts read. A column that is not plain Arrow text in every partition (a
stored categorical, a column of nothing but nulls written as such) is left to pandas.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hyposcreen.validate.derived import CLEAN_REASON, REASONS_READ, distinct_categories

PRESENT = "present"  # the one category of a column gathered as present or missing
NOT_CATEGORICAL = ("source_row",)  # text validation keeps as text (contract_gather.as_categories)


def categorical_text(column: str, parts: list[pa.ChunkedArray]) -> pd.Categorical | None:
    """The categorical validation sees of `column` held as `parts` (one per partition, in the
    whole table's partition order; rows in each partition's order), or None when the column is
    not text in every part, or is text kept as text."""
    if column in NOT_CATEGORICAL or not parts or not all(_is_text(p.type) for p in parts):
        return None
    if column == CLEAN_REASON:
        return _reasons(parts)
    return _sorted_union(parts)


def presence(parts: list[pa.ChunkedArray]) -> pd.Categorical | None:
    """A text column validation reads only as present or missing (validate.tables.
    presence_read) as a categorical of one category, PRESENT, missing where the text is
    missing or blank (as derived.BLANK_AS_MISSING judges it: nothing left once Arrow trims
    its whitespace); None when it is not text in every part. Its values are never hashed,
    sorted or held (a million patient ids: ~0.3 s a table)."""
    if not parts or not all(_is_text(p.type) for p in parts):
        return None
    codes = [
        pc.fill_null(pc.greater(pc.binary_length(pc.utf8_trim_whitespace(part)), 0), False)
        .to_numpy(zero_copy_only=False)
        .astype(np.int8)
        - np.int8(1)  # present: 0, missing or blank: -1
        for part in parts
    ]
    dtype = distinct_categories(pd.Index([PRESENT], dtype="str"))
    return pd.Categorical.from_codes(_concatenated(codes, np.int8), dtype=dtype)


def _is_text(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _reasons(parts: list[pa.ChunkedArray]) -> pd.Categorical:
    """Each row's reason as a code of REASONS_READ (-1: any other reason, or none)."""
    wanted = pa.array(REASONS_READ, type=pa.large_string())
    codes = [
        pc.index_in(part.cast(pa.large_string()), value_set=wanted)
        .fill_null(-1)
        .to_numpy()
        .astype(np.int8)
        for part in parts
    ]
    return pd.Categorical.from_codes(_concatenated(codes, np.int8), categories=REASONS_READ)


def _encoded(part: pa.ChunkedArray) -> tuple[pa.Array, np.ndarray]:
    """The part's distinct values (in order of first appearance) and each row's position among
    them (-1: missing). Arrow encodes a chunked column with one dictionary for all its chunks;
    should the chunks' dictionaries differ, the column is encoded as one array instead."""
    encoded = pc.dictionary_encode(part)
    chunks = encoded.chunks
    if not chunks:
        return pa.array([], type=part.type), np.array([], dtype=np.int32)
    dictionary = chunks[0].dictionary
    if any(not _same_buffers(chunk.dictionary, dictionary) for chunk in chunks[1:]):
        whole = pc.dictionary_encode(part.combine_chunks())
        dictionary, chunks = whole.dictionary, [whole]
    rows = [chunk.indices.fill_null(-1).to_numpy(zero_copy_only=False) for chunk in chunks]
    return dictionary, rows[0] if len(rows) == 1 else np.concatenate(rows)


def _same_buffers(array: pa.Array, other: pa.Array) -> bool:
    return len(array) == len(other) and [
        (b.address, b.size) if b is not None else None for b in array.buffers()
    ] == [(b.address, b.size) if b is not None else None for b in other.buffers()]


def _sorted_union(parts: list[pa.ChunkedArray]) -> pd.Categorical:
    """The parts' values as union_categoricals puts together their sorted categoricals."""
    sorted_dictionaries: list[pa.Array] = []
    local: list[tuple[np.ndarray, np.ndarray]] = []  # per part: row -> dictionary, -> rank
    for part in parts:
        dictionary, rows = _encoded(part)
        by_value = pc.array_sort_indices(dictionary).to_numpy()
        rank = np.empty(len(dictionary), dtype=np.int64)
        rank[by_value] = np.arange(len(dictionary))
        sorted_dictionaries.append(dictionary.take(by_value).cast(pa.large_string()))
        local.append((rows, rank))
    union = pc.dictionary_encode(pa.concat_arrays(sorted_dictionaries))
    union_codes = union.indices.to_numpy()  # each sorted dictionary entry's category
    categories = pd.Index(union.dictionary.to_pandas(), dtype="str")
    kind = _code_type(len(categories))
    codes, offset = [], 0
    for rows, rank in local:
        category_of = union_codes[offset : offset + len(rank)][rank].astype(kind)
        offset += len(rank)
        codes.append(np.append(category_of, kind(-1))[rows])  # -1 (missing) is the last one
    # the union's dictionary: distinct by construction, not hashed again to be checked
    dtype = distinct_categories(categories)
    return pd.Categorical.from_codes(_concatenated(codes, kind), dtype=dtype)


def _code_type(categories: int) -> type[np.signedinteger]:
    """The smallest signed integer type holding every code and -1 (pandas' choice too)."""
    for kind in (np.int8, np.int16, np.int32):
        if categories < np.iinfo(kind).max:
            return kind
    return np.int64


def _concatenated(codes: list[np.ndarray], kind: type[np.signedinteger]) -> np.ndarray:
    return np.concatenate(codes) if codes else np.array([], dtype=kind)
