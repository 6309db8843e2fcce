"""Cell values as the XLSX writer stores them: text as XML character data, times as Excel
serial day numbers (what openpyxl writes for the same values), a column at a time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
# not allowed in XML 1.0 at all (control characters, and U+FFFE / U+FFFF as characters)
_ILLEGAL_XML = r"[\x00-\x08\x0b\x0c\x0e-\x1f" + "\ufffe\uffff]"


def escape_text(text: pa.Array) -> pa.Array:
    """XML character data: & < > escaped, a carriage return kept as a reference, characters
    XML cannot hold replaced by U+FFFD (Arrow text in, Arrow text out)."""
    special = pc.match_substring_regex(text, f"[&<>\r]|{_ILLEGAL_XML}")
    if not pc.any(special).as_py():
        return text
    escaped = text.filter(special)
    for plain, reference in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#13;")):
        escaped = pc.replace_substring(escaped, plain, reference)
    escaped = pc.replace_substring_regex(escaped, _ILLEGAL_XML, "\ufffd")
    return pc.replace_with_mask(text, special, escaped)


_MICROSECONDS_A_DAY = 86_400 * 10**6


def excel_serials(times: pd.Series) -> np.ndarray:
    """Excel serial day numbers of naive times (openpyxl's `to_excel`, column at once): whole
    days since 1899-12-30 plus the time of day, the day's seconds and microseconds added as
    openpyxl adds them. Missing times give NaN."""
    stamps = pd.to_datetime(times)
    if stamps.dt.tz is not None or stamps.dt.unit not in ("s", "ms", "us"):
        return _excel_serials_of_fields(stamps)
    ticks = stamps.to_numpy().astype("datetime64[us]").astype("int64")
    since = ticks - _EXCEL_EPOCH.as_unit("us")._value
    whole_days, of_day = np.divmod(since, _MICROSECONDS_A_DAY)
    days = whole_days.astype("float64")
    days = np.where((days > 0) & (days <= 60), days - 1, days)  # Excel's 1900 leap day
    seconds, micro = np.divmod(of_day, 10**6)
    serials = days + (seconds.astype("float64") + micro.astype("float64") / 10**6) / 86400
    return np.where(stamps.notna().to_numpy(), serials, np.nan)


def _excel_serials_of_fields(stamps: pd.Series) -> np.ndarray:
    """excel_serials from the times' calendar fields (any resolution or zone)."""
    days = ((stamps.dt.normalize() - _EXCEL_EPOCH).dt.days).to_numpy(dtype="float64")
    days = np.where((days > 0) & (days <= 60), days - 1, days)  # Excel's 1900 leap day
    seconds = (stamps.dt.hour * 3600 + stamps.dt.minute * 60 + stamps.dt.second).to_numpy(
        dtype="float64"
    ) + stamps.dt.microsecond.to_numpy(dtype="float64") / 10**6
    return days + seconds / 86400
