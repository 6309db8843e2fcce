"""Lab results whose number is written in characters other than ASCII digits, point and sign.

A laboratory system or a spreadsheet on the way may write `１２５` (full-width digits, from an
East Asian input method), `−3.1` (the Unicode minus), `1 050` or `1\u00a0050` (a space or a
no-break space between groups of digits) or digits of another script. Spec §3 reads a number
as written, so such a row is quarantined `non_numeric` like `HEMOLYZED`, and that is kept: a
reading of these characters would be a guess the laboratory never confirmed. But the screen
then does not see the result, and a lone severe sodium so written would leave its patient off
the list while every share limit holds. Any such row warns (`number_characters`, exit 4), with
its count and up to three `file:row` references, never the text.

A text is such a number when it reads as no number as written and as one once its characters
are folded (Unicode NFKC, which maps full-width digits and signs to ASCII; digits of other
scripts to theirs in ASCII; a Unicode minus to `-`; blanks between digits removed). Judged once
per distinct text for the process (ingest.judged_texts), on the texts quarantine_text's
`non_numeric_results` reads once for all the judges of number shapes.
"""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd

from hyposcreen.ingest.judged_texts import JudgedTexts
from hyposcreen.ingest.values import parse_values
from hyposcreen.quarantine_text import references
from hyposcreen.run_warnings import RunWarning

# minus signs NFKC leaves as they are (U+2212 minus, U+2012 figure dash)
_MINUS = r"[\u2212\u2012]"
# blanks of any kind between two digits: a thousands grouping, or a number broken by a space
_BLANKS_BETWEEN_DIGITS = r"(?<=\d)\s+(?=\d)"


def other_character_numbers(text: pd.Series) -> np.ndarray:
    """Which result texts read as no number as written (ingest.values) and as one once their
    characters are folded (see above): `１２５`, `−3.1`, `1 050`, `١٢٥`."""
    return _OTHER_CHARACTER_NUMBERS(text)


def _other_character_judged(distinct: np.ndarray) -> np.ndarray:
    values = pd.Series(distinct, dtype=object)
    words = values.astype("str").where(values.map(lambda value: isinstance(value, str)), "")
    folded = (
        words.str.normalize("NFKC")
        .str.replace(_MINUS, "-", regex=True)
        .str.replace(r"[^\x00-\x7f]", lambda found: _fold_digit(found.group()), regex=True)
        .str.replace(_BLANKS_BETWEEN_DIGITS, "", regex=True)
    )
    blank = pd.Series(np.nan, index=words.index)
    return np.asarray(
        (folded != words).to_numpy()
        & parse_values(words, blank)[0].isna().to_numpy()
        & parse_values(folded, blank)[0].notna().to_numpy(),
        dtype=bool,
    )


def _fold_digit(character: str) -> str:
    """A digit of another script as its ASCII digit; any other character as it is."""
    return str(unicodedata.decimal(character)) if character.isdecimal() else character


_OTHER_CHARACTER_NUMBERS = JudgedTexts(_other_character_judged)


def number_character_warnings(quarantine: pd.DataFrame, found: np.ndarray) -> list[RunWarning]:
    """`number_characters` when any lab result quarantined non_numeric (at quarantine
    positions `found`) is such a number."""
    if not len(found):
        return []
    return [
        RunWarning(
            "number_characters",
            f"{len(found)} lab result(s) are numbers written in characters other than ASCII "
            f"digits (e.g. {references(quarantine, found)}: full-width digits, a Unicode minus "
            "or a blank between digits): they are quarantined non_numeric and the screen does "
            "not see them, so a low sodium written so is missing from the list. See "
            "quarantine.csv; ask the sender to export numbers in plain digits.",
        )
    ]
