"""The notes of each case joined at once around the note every case has (the correction
limit) read as the notes joined one case at a time: non-empty ones, in order, ' | ' between."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hyposcreen.report.considerations import _joined


def _one_at_a_time(notes: list[np.ndarray]) -> list[object]:
    rows = zip(*notes, strict=True)
    return [
        np.nan if any(pd.isna(n) for n in row) else " | ".join(n for n in row if n) for row in rows
    ]


def test_notes_joined_at_once_read_as_one_case_at_a_time() -> None:
    rng = np.random.default_rng(11)
    count = 300
    texts = np.array(["", "", "a", "b | c", " |", "é"], dtype=object)
    notes = [texts[rng.integers(0, len(texts), count)] for _ in range(8)]
    notes[2] = np.array(["limit x", "limit y"], dtype=object)[rng.integers(0, 2, count)]
    assert _joined(notes, anchor=2).tolist() == _one_at_a_time(notes)


def test_a_missing_note_or_a_case_without_the_anchor_goes_one_note_at_a_time() -> None:
    notes = [np.array(t, dtype=object) for t in (["a", ""], ["", ""], ["x", ""], ["", "w"])]
    assert _joined(notes, anchor=2).tolist() == ["a | x", "w"]
    notes[3] = np.array([np.nan, "w"], dtype=object)
    shown = _joined(notes, anchor=2)
    assert pd.isna(shown[0]) and shown[1] == "w"
    assert _joined([n[:0] for n in notes], anchor=2).tolist() == []
