"""Times and row orders for the tests of the screen's queries (hand-built tables on 2026-11-20)."""

from __future__ import annotations

import pandas as pd


def at(text: str) -> pd.Timestamp:
    return pd.Timestamp(f"2026-11-20 {text}")


def times(values: list[str]) -> pd.Series:
    return pd.Series([at(v) for v in values]).astype("datetime64[us]")


def shuffled(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.iloc[::-1].reset_index(drop=True)


def moments(values: list[str]) -> pd.Series:
    return pd.Series([pd.Timestamp(v) for v in values]).astype("datetime64[us]")
