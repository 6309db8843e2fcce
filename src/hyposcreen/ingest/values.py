"""Result text to numbers (spec §3): censored values such as `<2.5` or `LESS THAN 100` are numbers
with a censoring operator, empty text is not, and a site writing decimal commas has its text
rewritten first. A number followed by the laboratory's abnormal-result flag (`125 L`) is no
number (spec §3), but `flagged_numbers` tells such texts apart for the warning that says so,
and `numbers_with_text` any other number with text after it (`104 mmol/L`). Shared by the clean
stage (which decides the buckets) and the data contracts (which count non-numeric rows), so
both read a value the same way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hyposcreen.ingest.judged_texts import JudgedTexts

_CENSORED = (
    r"^\s*(?P<op><=|>=|≤|≥|<|>|less\s+than|greater\s+than)\s*(?P<num>[+-]?(?:\d+\.?\d*|\.\d+))\s*$"
)
# a trailing abnormal-result flag after the number's last digit or point (lower-cased text):
# HL7 table 0078's L, H, LL, HH, A, AA, N, bare or in brackets, and the marks * and !
_FLAG = r"(?:hh?|ll?|aa?|n)"
_FLAGGED = rf"^(?P<body>.*[0-9.])\s*(?:[*!]+|[(\[]\s*{_FLAG}\s*[)\]]|{_FLAG})[*!]*\s*$"
_CENSOR_OPS = {"≤": "<=", "≥": ">=", "less than": "<", "greater than": ">"}
# a number (perhaps censored or approximate) with other text after it, not more digits, commas
# or points (`1,2,3`): `104 mmol/L`, `104mmol/L`, `~104`, `104 (repeated)`
_NUMBER_AND_TEXT = (
    r"^\s*(?:[~≈]\s*[<>]?=?\s*[+-]?[0-9.]*[0-9]"
    r"|(?:<=|>=|[<>≤≥])?\s*[+-]?(?:\d+\.?\d*|\.\d+)\s*[^\s\d.,])"
)
_THOUSANDS_DOT = r"^(?P<head>[^\d]*)(?P<int>\d{1,3}(?:\.\d{3})+)(?P<tail>(?:,\d*)?\s*)$"


def decimal_comma_text(value_raw: pd.Series) -> pd.Series:
    """Result text of a site writing decimal commas, rewritten with a decimal point: '3,1' ->
    '3.1', '<3,5' -> '<3.5', '1.234,5' -> '1234.5' (dots between groups of three digits are
    thousands separators there). Text with no comma is left as it is."""
    text = value_raw.astype("str").where(value_raw.notna())
    grouped = text.str.extract(_THOUSANDS_DOT)
    has_groups = grouped["int"].notna()
    text = text.where(
        ~has_groups,
        grouped["head"] + grouped["int"].str.replace(".", "", regex=False) + grouped["tail"],
    )
    return text.str.replace(",", ".", regex=False)


def parse_values(value_raw: pd.Series, value: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Numeric value and censoring operator ('' when exact) of each result (spec §3)."""
    text = value_raw.astype("str").str.strip().where(value_raw.notna())
    numeric = pd.to_numeric(text, errors="coerce").astype("float64")
    numeric = numeric.where(np.isfinite(numeric))
    censor = pd.Series("", index=value_raw.index, dtype=object)
    pending = numeric.isna() & text.notna()
    if pending.any():
        parts = text[pending].str.lower().str.extract(_CENSORED)
        found = parts["num"].notna()
        numeric.loc[found[found].index] = parts.loc[found, "num"].astype("float64")
        ops = parts.loc[found, "op"].str.replace(r"\s+", " ", regex=True)
        censor.loc[ops.index] = ops.replace(_CENSOR_OPS)
    value = pd.to_numeric(value, errors="coerce").astype("float64")
    fallback = numeric.isna() & np.isfinite(value)
    numeric[fallback] = value[fallback]
    return numeric, censor


def flagged_numbers(text: pd.Series) -> np.ndarray:
    """Which result texts are a number (or a censored one) followed by an abnormal-result flag
    (`125 L`, `125.0 (H)`, `3.1LL`, `<2.0 L`, `125*`): parse_values reads no number in them,
    and one in the text before the flag. Judged once per distinct text for the process
    (judged_texts); only the texts with a flag's shape are read as numbers (most nights'
    non-numeric texts have none)."""
    return _FLAGGED_NUMBERS(text)


def _flagged_judged(distinct: np.ndarray) -> np.ndarray:
    values = pd.Series(distinct, dtype=object)
    words = values.astype("str").where(values.map(lambda value: isinstance(value, str)))
    body = words.str.lower().str.extract(_FLAGGED)["body"]
    flagged = body.notna().to_numpy(dtype=bool, copy=True)
    if flagged.any():
        shaped = np.flatnonzero(flagged)
        blank = pd.Series(np.nan, index=words.index[shaped])
        flagged[shaped] = (
            parse_values(words.iloc[shaped], blank)[0].isna().to_numpy()
            & parse_values(body.iloc[shaped], blank)[0].notna().to_numpy()
        )
    return flagged


def numbers_with_text(text: pd.Series) -> np.ndarray:
    """Which result texts that parse_values reads no number in begin with one (`104 mmol/L`,
    `~104`, `104 (repeated)`; flags, decimal commas and thousands separators among them): the
    laboratory wrote a result the screen does not see. Judged once per distinct text for the
    process (judged_texts)."""
    return _NUMBERS_WITH_TEXT(text)


def _with_text_judged(distinct: np.ndarray) -> np.ndarray:
    values = pd.Series(distinct, dtype=object)
    words = values.astype("str").where(values.map(lambda value: isinstance(value, str)), "")
    shaped = np.array(words.str.match(_NUMBER_AND_TEXT).to_numpy(), dtype=bool)
    if shaped.any():
        blank = pd.Series(np.nan, index=words.index)
        shaped &= parse_values(words, blank)[0].isna().to_numpy()
    return shaped


_FLAGGED_NUMBERS = JudgedTexts(_flagged_judged)
_NUMBERS_WITH_TEXT = JudgedTexts(_with_text_judged)
