"""Result texts judged once per distinct text for the process (`JudgedTexts`): a backfill's
nights quarantine mostly the same results, and each night's judges of their shapes
(ingest.values' flagged numbers and numbers with text, decimal_commas) would otherwise read
the same texts again, each through a column's fixed steps. A judge must say of each text what
it says of that text alone; only texts (`str`) are remembered, any other value is judged every
time."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

# the distinct values of a column (an object array, each a text or another value) -> whether
# each is of the shape judged
Judge = Callable[[np.ndarray], np.ndarray]


class JudgedTexts:
    """`judge` of each value of a column, each distinct value judged once, and a text judged
    before in the process as it was judged then (at most `limit` texts remembered)."""

    def __init__(self, judge: Judge, limit: int = 1 << 16) -> None:
        self.judge = judge
        self.limit = limit
        self.known: dict[str, bool] = {}

    def __call__(self, text: pd.Series) -> np.ndarray:
        codes, distinct = pd.factorize(text, use_na_sentinel=True)
        if not len(distinct):
            return np.zeros(len(text), dtype=bool)
        values = np.asarray(distinct, dtype=object)
        known = [self.known.get(value) if type(value) is str else None for value in values]
        new = np.array([judged is None for judged in known], dtype=bool)
        judged = np.array([bool(judged) for judged in known], dtype=bool)
        if new.any():
            judged[new] = self.judge(values[new])
            remembered = [
                (value, bool(shaped))
                for value, shaped in zip(values[new], judged[new], strict=True)
                if type(value) is str
            ][: self.limit]  # a column of more new texts than the memory holds: its first
            if len(self.known) + len(remembered) > self.limit:
                self.known.clear()
            self.known.update(remembered)
        return np.append(judged, False)[codes]
