"""The bytes of the FHIR Observation pre-filter (fhir_labs.ObservationMapper.needle): each
LOINC code of the rules, each MIMIC lab item id the reader maps (fhir_lab_items) and each name /
local code of the lab dictionary as a JSON string may write it (a character outside ASCII raw or
`\\u` escaped, `/` as `\\/`, any run of spaces for a space, a LOINC's hyphen as any dash of
rules.loinc_text).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from hyposcreen.rules.loader import RuleSet
from hyposcreen.rules.loinc_text import DASHES


def _written(char: str) -> bytes:
    """A character outside ASCII as a JSON string may hold it: raw (UTF-8) or escaped
    (`\\u00e9`, as serializers keeping to ASCII write it), in either letter case."""
    forms = dict.fromkeys((char, char.lower(), char.upper()))
    found = [re.escape(form.encode("utf-8")) for form in forms]
    found += [rb"\\u" + f"{ord(form):04x}".encode() for form in forms if ord(form) <= 0xFFFF]
    return b"(?:" + b"|".join(found) + b")"


# a LOINC's hyphen as any dash of rules.loinc_text
_ANY_DASH = b"(?:-|" + b"|".join(_written(dash) for dash in DASHES) + b")"


def _json_pattern(word: str, code: bool) -> bytes:
    """What a `"code"`/`"display"`/`"text"` string holding `word` may look like: any run of
    spaces for a space, `/` also escaped (`\\/`), a character outside ASCII raw or escaped, and
    a LOINC's hyphen (`code`) as any dash."""
    parts = []
    for char in word:
        if char == " ":
            parts.append(rb"\s+")
        elif char == "-" and code:
            parts.append(_ANY_DASH)
        elif char == "/":
            parts.append(rb"(?:/|\\/)")
        elif not char.isascii():
            parts.append(_written(char))
        else:
            parts.append(re.escape(char.encode("utf-8")))
    return b"".join(parts)


def value_alternatives(rules: RuleSet, item_codes: Iterable[str] = ()) -> bytes:
    """The alternatives of the needle, longest first (a longer name wins over its prefix);
    `item_codes`: local codes that identify a result by themselves (fhir_lab_items)."""
    codes = set(rules.loinc_to_analyte) | set(item_codes)
    names = set(rules.lab_dictionary)
    ordered = sorted(codes | names, key=len, reverse=True)
    return b"|".join(_json_pattern(word, word in codes) for word in ordered)
