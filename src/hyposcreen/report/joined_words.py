"""Clinical words for a short column of texts (a night's evidence) made in one text: the
texts joined by NULs, every time and date in them put in words by clinical_times' own
rewrite at once, and the text cut again; an evidence cell's drugs and lab values labelled by
display.py, its times left for the joined rewrite."""

from __future__ import annotations

import numpy as np

from hyposcreen.report import clinical_times, display

Texts = np.ndarray  # an object array of str


_JOIN = "\x00"  # between the texts of a joined column (no usual text holds a NUL)


def times_joined(texts: Texts, timezone: str) -> Texts | None:
    """clinical_times_in of each text, made once over the texts joined by NULs and cut again
    (None when a text is not a `str` or holds a NUL). The same: neither pattern matches a
    NUL, and a NUL is, like a text's start or end, no word character and no 'T', so each
    match in the joined text is a match in one text, and every match of a text is one."""
    items = texts.tolist()
    if not items:
        return np.array([], dtype=object)
    if set(map(type, items)) != {str}:
        return None
    joined = _JOIN.join(items)
    if joined.count(_JOIN) != len(items) - 1:
        return None
    pieces = clinical_times.clinical_times_in(joined, timezone).split(_JOIN)
    if len(pieces) != len(items):  # a time put in words with a NUL in it (never written)
        return None
    shown = np.empty(len(items), dtype=object)
    shown[:] = pieces
    return shown


def labelled_cell(
    text: str, names: dict[str, str], combinations: dict[str, tuple[str, ...]]
) -> str:
    """display.evidence_in_words of one text but its times: its times are put in words in the
    whole text as in each ' | ' piece alone (a match holds neither a space nor a '|', and a
    space, like a text's start or end, is no word character and no 'T')."""
    pieces = []
    for piece in text.split(" | "):
        factor, sep, body = piece.partition(": ")
        if sep:
            body = display.lab_label(display.drug_label(body, names, combinations))
        pieces.append(f"{factor}{sep}{body}")
    return " | ".join(pieces)
