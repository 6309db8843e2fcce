"""Vectorised timestamp parsing into naive site-local wall time (datetime64[us])."""

from __future__ import annotations

import pandas as pd

# an offset only after a clock time: the "-20" of a date-only "2026-11-20" is not one
_OFFSET = r"\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$"


def parse_times(raw: pd.Series, timezone: str, formats: tuple[str, ...] = ()) -> pd.Series:
    """Parse text (or already-typed) times; unreadable values become NaT, never an exception.

    Text with a UTC offset is converted to the site time zone; text without one is taken as
    site-local already. Site formats (strftime patterns from the mapping) are tried first, then
    ISO 8601. Typed timestamps: tz-aware ones are converted, naive ones are kept as they are.
    """
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):
        return _to_local(raw, timezone)
    text = raw.astype("str").str.strip()
    text = text.where(text.str.len() > 0)
    parsed = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[us]")
    pending = text.notna()
    for fmt in formats:
        if not pending.any():
            break
        attempt = pd.to_datetime(text[pending], format=fmt, errors="coerce")
        attempt = _to_local(attempt, timezone) if attempt.dt.tz is not None else attempt
        parsed.loc[attempt.index] = attempt.astype("datetime64[us]")
        pending &= parsed.isna()
    if pending.any():
        candidates = text[pending]
        has_offset = candidates.str.contains(_OFFSET, regex=True, na=False)
        if has_offset.any():
            aware = pd.to_datetime(
                candidates[has_offset], format="ISO8601", errors="coerce", utc=True
            )
            parsed.loc[aware.index] = _to_local(aware, timezone)
        naive_text = candidates[~has_offset]
        if len(naive_text):
            naive = pd.to_datetime(naive_text, format="ISO8601", errors="coerce")
            parsed.loc[naive.index] = naive.astype("datetime64[us]")
    return parsed.astype("datetime64[us]")


def _to_local(values: pd.Series, timezone: str) -> pd.Series:
    if values.dt.tz is None:
        return values.astype("datetime64[us]")
    return values.dt.tz_convert(timezone).dt.tz_localize(None).astype("datetime64[us]")
