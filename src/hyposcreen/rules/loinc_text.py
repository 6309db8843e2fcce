"""A LOINC code as a site writes it, made the code the rules know.

LOINC codes are digits, a hyphen and a check digit (`2951-2`). Exports typed or pasted through
word processors and spreadsheets write the hyphen as another dash: an en dash (`2951–2`), a
non-breaking hyphen (`2951‑2`), a minus sign, a full-width hyphen. Such a code is the same code:
its dash is read as `-` wherever a LOINC is compared with the rules (the identity of a lab row,
rules.lab_identity; the readers' early drop of unknown LOINC, ingest.row_filter), and the row
keeps its text as read.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

# hyphen, non-breaking hyphen, figure dash, en dash, em dash, horizontal bar (U+2010-U+2015),
# minus sign (U+2212), small em dash (U+FE58), small and full-width hyphen-minus (U+FE63, U+FF0D)
DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_AS_HYPHEN = str.maketrans(DASHES, "-" * len(DASHES))
_DASH_PATTERN = "[" + DASHES + "]"


def loinc_key(text: str) -> str | None:
    """The code of a LOINC text: trimmed, any dash read as `-`; None when blank."""
    return text.strip().translate(_AS_HYPHEN) or None


def with_plain_dashes(codes: pa.Array) -> pa.Array:
    """LOINC texts (Arrow strings) with any dash read as `-`. Codes are ASCII: only when some
    text is not is it searched (a batch of millions of ASCII codes is returned as it is)."""
    if pc.all(pc.string_is_ascii(codes)).as_py() is not False:
        return codes
    return pc.replace_substring_regex(codes, _DASH_PATTERN, "-")
