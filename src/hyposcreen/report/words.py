"""Plain clinical words a column at a time: the text rewrites of display.py and
clinical_times.py for whole columns.

The page and the workbook show each evidence text in clinical words (a code-only drug named
by its ingredient, a lab value at clinical precision, times and dates in words). display.py
and clinical_times.py say how for one text; here the same rewrites run over a column in
Arrow compute (RE2, report.column_rewrites): each pattern's leftmost match is cut out of every
text at once, and each distinct drug code, lab value, time or date is put in words once, by
their own functions. The result is the scalar functions' text for every text (a text RE2 may
read otherwise than Python's `re` is rewritten by the scalar function: see column_rewrites).

A short column (a night's few hundred texts) costs less in Python than in the column steps'
fixed cost: its drugs and lab values are labelled by display.py per distinct text and its
times put in words in one text joined of them all (joined_words).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hyposcreen.report import clinical_times, display
from hyposcreen.report.column_rewrites import (
    ONE_BY_ONE,
    Texts,
    arrow_texts,
    in_words_once,
    object_texts,
    rewrite_each,
    substitute_matches,
)
from hyposcreen.report.html_text import per_distinct
from hyposcreen.report.joined_words import labelled_cell, times_joined

_ISO = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?(?:[+-]\d{2}:\d{2})?"  # as clinical_times
# clinical_times._DATE's `(?!T)` after `\b` never rejects a match (no boundary before a `T`)
_DATE = r"\b\d{4}-\d{2}-\d{2}\b"
_CODED_DRUG = r"(?s)^(?P<system>RxNorm|ATC) (?P<code>[0-9A-Za-z]+)\b(?P<rest>.*)$"
_LAB = r"(?s)^(?P<analyte>\w+) (?P<sign>(?:[<>≤≥] )?)(?P<value>-?[\d.]+(?:e-?\d+)?) (?P<rest>.*)$"


def times_in_words(texts: Texts, timezone: str) -> Texts:
    """clinical_times.clinical_times_in of each text (a short column of Python strings: of
    the texts joined, see joined_words.times_joined)."""
    texts = np.asarray(texts, dtype=object)
    if len(texts) <= ONE_BY_ONE:
        shown = times_joined(texts, timezone)
        if shown is not None:
            return shown
    return rewrite_each(
        texts,
        lambda usual: _times_in_words(usual, timezone),
        lambda text: clinical_times.clinical_times_in(text, timezone),
    )


def _times_in_words(texts: Texts, timezone: str) -> Texts:
    timed = substitute_matches(texts, _ISO, lambda times: _times(times, timezone))
    return substitute_matches(
        timed, _DATE, lambda days: [clinical_times._date_in_words(d) for d in days]
    )


_KNOWN_TIMES: dict[tuple[str, str], str] = {}  # (ISO time, zone) -> words, for the run
_KNOWN_TIMES_MAX = 1 << 17


def _times(iso: list[str], timezone: str) -> list[str]:
    """clinical_times.clinical_time of each distinct ISO time: those already put in words (the page
    and the workbook show the same evidence) remembered, the others a column at once (one at
    a time for a time pandas does not read as clinical_times.py does, e.g. a year before 1678)."""
    known = [_KNOWN_TIMES.get((t, timezone)) for t in iso]
    new = [t for t, words in zip(iso, known, strict=True) if words is None]
    if new:
        if len(_KNOWN_TIMES) > _KNOWN_TIMES_MAX:
            _KNOWN_TIMES.clear()
        _KNOWN_TIMES.update(
            ((t, timezone), w) for t, w in zip(new, _new_times(new, timezone), strict=True)
        )
        known = [_KNOWN_TIMES[(t, timezone)] for t in iso]
    return [str(words) for words in known]


def _new_times(iso: list[str], timezone: str) -> list[str]:
    try:
        stamps = pd.to_datetime(pd.Series(iso, dtype=object), format="ISO8601")
        if stamps.dt.tz is None and stamps.notna().all():
            return list(clinical_times.clinical_time_texts(stamps, timezone))
    except (ValueError, OverflowError):
        pass
    return [clinical_times._time_in_words(t, timezone) for t in iso]


def drug_labels(
    texts: Texts, names: dict[str, str], combinations: dict[str, tuple[str, ...]]
) -> Texts:
    """display.drug_label of each text."""
    return rewrite_each(
        texts,
        lambda usual: _drug_labels(usual, names, combinations),
        lambda text: display.drug_label(text, names, combinations),
    )


def _drug_labels(
    texts: Texts, names: dict[str, str], combinations: dict[str, tuple[str, ...]]
) -> Texts:
    out = texts.copy()
    found = pc.extract_regex(arrow_texts(texts), _CODED_DRUG)
    coded = np.asarray(found.is_valid(), dtype=bool)
    if not coded.any():
        return out
    found = found.filter(pa.array(coded))
    code = object_texts(found.field("system")) + " " + object_texts(found.field("code"))
    position, distinct = pd.factorize(code)  # each distinct code's name looked up once
    names_of = [display.coded_drug_name(c, names, combinations) for c in distinct]
    has_name = np.array([n is not None for n in names_of], dtype=bool)[position]
    name = np.array([n or "" for n in names_of], dtype=object)[position]
    rest = found.field("rest")
    joins = np.asarray(pc.starts_with(rest, " ("), dtype=bool)  # "(start ...)" joins "(code"
    inner = np.asarray(pc.ends_with(rest, ")"), dtype=bool) & joins
    rest_text = object_texts(rest)
    rest_text[inner] = ", " + object_texts(pc.utf8_slice_codeunits(rest.filter(inner), 2, -1))
    # drug_label: a joined text needs a non-empty name, any other text a name at all
    labelled = np.where(
        joins, name + " (" + code + rest_text + ")", name + " (" + code + ")" + rest_text
    )
    keep = np.where(joins, name.astype(bool), has_name)
    rows = np.flatnonzero(coded)
    out[rows[keep]] = labelled[keep]
    return out


def lab_labels(texts: Texts) -> Texts:
    """display.lab_label of each text."""
    return rewrite_each(texts, _lab_labels, display.lab_label)


def _lab_labels(texts: Texts) -> Texts:
    out = texts.copy()
    found = pc.extract_regex(arrow_texts(texts), _LAB)
    rows = np.flatnonzero(np.asarray(found.is_valid(), dtype=bool))
    if not len(rows):
        return out
    found = found.filter(pc.is_valid(found))
    analyte = object_texts(found.field("analyte"))
    known = np.isin(analyte.astype(str), list(display.decimals()))
    if not known.any():
        return out
    found, rows, analyte = found.filter(pa.array(known)), rows[known], analyte[known]
    value = object_texts(found.field("value"))
    limits = np.array(  # the threshold each text states, kept true when shown (display)
        [display.stated_limit(text) for text in object_texts(found.field("rest"))], dtype=object
    )
    shown = in_words_once(  # analyte, value and limit hold no space; None: no number ('1.2.3')
        analyte + " " + value + " " + limits,
        lambda key: display.lab_value_in_words(*key.split(" ")),
    )
    number = np.array(pd.notna(shown), dtype=bool)  # text that is no number stays as written
    found, rows, analyte, shown = (
        found.filter(pa.array(number)),
        rows[number],
        analyte[number],
        shown[number],
    )
    rest = found.field("rest")
    name = object_texts(pc.replace_substring(arrow_texts(analyte), "_", " "))
    albumin = (analyte == "calcium_total") & np.asarray(
        pc.match_substring_regex(rest, r"albumin \d"), dtype=bool
    )
    name[albumin] = "calcium (albumin-corrected)"
    out[rows] = name + " " + object_texts(found.field("sign")) + shown + " " + object_texts(rest)
    return out


def evidence_lines(
    sources: Texts,
    texts: Texts,
    names: dict[str, str],
    combinations: dict[str, tuple[str, ...]],
    timezone: str,
) -> Texts:
    """'medication: furosemide (RxNorm 4603, start 12 May 2026, ...)' for each evidence row
    (its source and text), as the page shows it: a medication's drug named, a lab value at
    clinical precision, times and dates in words."""
    sources = np.asarray(sources, dtype=object)
    texts = np.array(texts, dtype=object)
    medication, lab = sources == "medication", sources == "lab"
    texts[medication] = drug_labels(texts[medication], names, combinations)
    texts[lab] = lab_labels(texts[lab])
    return sources + ": " + times_in_words(texts, timezone)


def evidence_in_words(
    texts: Texts, names: dict[str, str], combinations: dict[str, tuple[str, ...]], timezone: str
) -> Texts:
    """display.evidence_in_words of each review-list evidence text ('factor: text | ...'); a
    short column of Python strings: each distinct text's drugs and lab values labelled
    (joined_words.labelled_cell), then the times of all of them put in words at once."""
    texts = np.asarray(texts, dtype=object)
    if len(texts) <= ONE_BY_ONE:
        labelled = per_distinct(texts, lambda text: labelled_cell(text, names, combinations))
        shown = None if labelled is None else times_joined(labelled, timezone)
        if shown is not None:
            return shown
    return rewrite_each(
        texts,
        lambda usual: _evidence_in_words(usual, names, combinations, timezone),
        lambda text: display.evidence_in_words(text, names, combinations, timezone),
    )


def _evidence_in_words(
    texts: Texts, names: dict[str, str], combinations: dict[str, tuple[str, ...]], timezone: str
) -> Texts:
    """Each text cut at ' | ' (str.split), each piece at its first ': ' (str.partition), the
    body labelled, the piece's times put in words, the pieces joined again."""
    if len(texts) == 0:
        return np.array([], dtype=object)
    split = pc.split_pattern(arrow_texts(texts), " | ")
    pieces = split.flatten()
    parted = pc.split_pattern(pieces, ": ", max_splits=1)  # str.partition(": ")
    has_sep = np.asarray(pc.list_value_length(parted), dtype=np.int64) == 2
    shown = object_texts(pieces)
    parted = parted.filter(pa.array(has_sep))
    factor, body = (
        object_texts(pc.list_element(parted, 0)),
        object_texts(pc.list_element(parted, 1)),
    )
    body = _lab_labels(_drug_labels(body, names, combinations))
    shown[has_sep] = factor + ": " + body
    shown = _times_in_words(shown, timezone)
    joined = type(split).from_arrays(split.offsets, arrow_texts(shown))
    return object_texts(pc.binary_join(joined, pa.scalar(" | ", pa.large_string())))
