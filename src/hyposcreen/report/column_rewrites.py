"""A text rewrite run over a whole column in Arrow compute (RE2), as report.words runs the
scalar rewrites of display.py and clinical_times.py: each pattern's leftmost match cut out of
every text at once (`substitute_matches`), each distinct match or value put in words once.

RE2 and Python's `re` agree on printable ASCII (and on ≤ ≥, neither a word character): a text
holding anything else (a line break, a non-ASCII letter or digit, where `\\w`, `\\d`, `\\b` and
`$` can differ) is rewritten by the scalar function itself (`rewrite_each`; such texts are
rare: free-text drug names or units with accents). A short column (up to `ONE_BY_ONE` texts)
costs less in Python than in the column steps' fixed cost: the scalar function runs over each
distinct text.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hyposcreen.report.html_text import per_distinct

# texts the column rewrites reproduce exactly; any other character sends a text to display.py
_UNUSUAL = "[^\t\x20-\x7e≤≥]"

Texts = np.ndarray  # an object array of str


def arrow_texts(texts: Texts) -> pa.Array:
    return pa.array(texts, type=pa.large_string())


def object_texts(values: pa.Array | pa.ChunkedArray) -> Texts:
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=object)


def in_words_once(values: Texts, words: Callable[[str], str | None]) -> Texts:
    """`words` of each value, called once per distinct value."""
    position, distinct = pd.factorize(np.asarray(values, dtype=object))
    shown = np.array([words(value) for value in distinct] + [""], dtype=object)
    return shown[position]


_MARK = "\x00"  # around each match while a column is rewritten (no usual text holds a NUL)


def substitute_matches(
    texts: Texts, pattern: str, words: Callable[[list[str]], list[str]]
) -> Texts:
    """`re.sub(pattern, words(match), text)` of each text: RE2 marks every match (leftmost,
    not overlapping, searched with the whole text around it, as re.sub does), the texts are
    cut at the marks (every other piece a match), the distinct matches are put in `words`
    (a list of them at once) and the pieces joined again."""
    if len(texts) == 0:
        return np.array([], dtype=object)
    marked = pc.replace_substring_regex(arrow_texts(texts), f"({pattern})", f"{_MARK}\\1{_MARK}")
    split = pc.split_pattern(marked, _MARK)
    offsets = np.asarray(split.offsets)
    lengths = np.diff(offsets)
    piece = np.arange(offsets[-1] - offsets[0]) - np.repeat(offsets[:-1] - offsets[0], lengths)
    pieces = split.flatten()
    match = piece % 2 == 1
    if not match.any():
        return np.asarray(texts, dtype=object)
    hits = pieces.filter(pa.array(match)).dictionary_encode()
    shown = pa.array(words(hits.dictionary.to_pylist()), pa.large_string()).take(hits.indices)
    pieces = pc.replace_with_mask(pieces, pa.array(match), shown)
    joined = type(split).from_arrays(split.offsets, pieces)
    return object_texts(pc.binary_join(joined, pa.scalar("", pa.large_string())))


def _usual(texts: Texts) -> np.ndarray:
    """True for the texts the column rewrites reproduce exactly (see the module's note)."""
    if len(texts) == 0:
        return np.zeros(0, dtype=bool)
    present = np.array(pd.notna(texts), dtype=bool)
    usual = np.zeros(len(texts), dtype=bool)
    strings = texts[present]
    odd = pc.match_substring_regex(arrow_texts(strings), _UNUSUAL)
    usual[present] = ~np.asarray(odd, dtype=bool)
    return usual


ONE_BY_ONE = 2048  # up to this many texts, the one-text rewrite of each distinct text


def rewrite_each(
    texts: Texts, columnwise: Callable[[Texts], Texts], one: Callable[[str], str]
) -> Texts:
    """`columnwise` over the usual texts, `one` (display.py) over the rest; a short column
    (a night's evidence) `one` over each distinct text: a few hundred texts cost less in
    Python, each time and date put in words once for the run (clinical_times remembers
    them), than in the column's fixed steps."""
    texts = np.asarray(texts, dtype=object)
    if len(texts) <= ONE_BY_ONE:
        shown = per_distinct(texts, one)
        if shown is not None:
            return shown
    usual = _usual(texts)
    out = np.empty(len(texts), dtype=object)
    out[usual] = columnwise(texts[usual])
    out[~usual] = [one(text) for text in texts[~usual]]  # rare: see the module's note
    return out
