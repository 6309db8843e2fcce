"""Which analyte each lab row measures (spec §2), as a query joining the rule tables.

A row with a LOINC is identified by its LOINC alone (loinc table); a row without one by the
lab-name / item-id dictionary. A blood analyte measured in urine becomes its urine counterpart
(a sodium in urine is urine sodium) or is not relevant; other body fluids are not relevant.
The fluid is the specimen type's; a row without one takes the fluid its lab name names
(`Sodium, urine` under the serum LOINC 2951-2), as the FHIR reader takes a code text naming
it, so a urine result is never read as a blood one for want of a specimen type.

The row's texts are first mapped once per distinct value (LOINC text -> trimmed code, its dash
read as `-` (rules.loinc_text), lab name -> normalised label and the fluid it names, specimen
type -> fluid), then joined with the rule tables in the engine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa

from hyposcreen.rules import sql_engine as engine
from hyposcreen.rules.loader import RuleSet, normalize_label
from hyposcreen.rules.loinc_text import loinc_key
from hyposcreen.rules.tables import analyte_table, lab_dictionary_table, loinc_table

_TEXT = pa.large_string()

# per distinct (LOINC, lab name, specimen type) of the rows; the first problem wins; reasons
# are those of spec §2 for rows that are not relevant
IDENTIFY_SQL = """
WITH keyed AS (
    SELECT c.combo, lk.value AS loinc_key, nk.value AS label,
        CASE WHEN c.specimen_type >= 0 THEN sf.value ELSE nf.value END AS fluid
    FROM combos c
    LEFT JOIN loinc_keys lk ON c.loinc = lk.code
    LEFT JOIN name_labels nk ON c.lab_name = nk.code
    LEFT JOIN name_fluids nf ON c.lab_name = nf.code
    LEFT JOIN specimen_fluids sf ON c.specimen_type = sf.code
), found AS (
    SELECT k.*, CASE WHEN k.loinc_key IS NOT NULL THEN bl.analyte ELSE bn.analyte END AS analyte
    FROM keyed k
    LEFT JOIN loinc_rules bl ON k.loinc_key = bl.loinc
    LEFT JOIN lab_dictionary bn ON k.loinc_key IS NULL AND k.label = bn.label
), judged AS (
    SELECT f.combo, f.analyte, a.urine_counterpart,
        a.fluid = 'blood' AND f.fluid = 'urine' AS blood_in_urine,
        CASE
            WHEN f.loinc_key IS NOT NULL AND f.analyte IS NULL THEN 'unknown_loinc'
            WHEN f.loinc_key IS NULL AND f.label IS NOT NULL AND f.analyte IS NULL
                THEN 'unknown_lab_name'
            WHEN f.loinc_key IS NULL AND f.label IS NULL THEN 'no_lab_identifier'
            WHEN a.fluid = 'blood' AND f.fluid = 'urine' AND a.urine_counterpart IS NULL
                THEN 'urine_specimen'
            WHEN a.fluid = 'blood' AND f.fluid = 'other' THEN 'other_fluid'
        END AS reason
    FROM found f
    LEFT JOIN analytes a ON f.analyte = a.analyte
)
SELECT combo, reason,
    CASE WHEN reason IS NULL THEN
        CASE WHEN blood_in_urine THEN urine_counterpart ELSE analyte END
    END AS analyte
FROM judged
ORDER BY combo
"""


_LETTERS = r"[^\W\d_]*"  # the rest of a word (any letters) where a rules word has a '*'


@lru_cache(maxsize=4096)
def word_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """Any of `words` as a whole word, ignoring case; 'urin*' is a word beginning so
    ('urinary', 'urines'), '*urin' one ending so (German compounds: 'spontanurin')."""
    shapes = [
        ("" if not w.startswith("*") else _LETTERS)
        + re.escape(w.strip("*"))
        + ("" if not w.endswith("*") else _LETTERS)
        for w in words
    ]
    return re.compile(r"(?<![a-z])(" + "|".join(shapes) + r")(?![a-z])", re.IGNORECASE)


def named_fluid(lab_name: str, rules: RuleSet) -> str | None:
    """'urine' or 'other' when a lab name names a fluid other than blood, else None."""
    fluid = fluid_of(lab_name, rules)
    return None if fluid == "blood" else fluid


def fluid_of(specimen_type: str, rules: RuleSet) -> str:
    """'urine', 'other' or 'blood' for a specimen type text (whole words of the rules)."""
    text = specimen_type.lower()
    if word_pattern(rules.urine_words).search(text):
        return "urine"
    if word_pattern(rules.other_fluid_words).search(text):
        return "other"
    return "blood"


@dataclass(frozen=True)
class LabIdentity:
    """Analyte and reason per distinct (LOINC, lab name, specimen type), and which of these
    each row has: `analyte[combo]` is the analyte of every row (None where not relevant),
    `reason[combo]` its reason (None where relevant)."""

    combo: np.ndarray  # per row: index into the per-combination arrays
    analyte: np.ndarray  # per combination (object: str or None)
    reason: np.ndarray  # per combination (object: str or None)
    loinc: list[str | None]  # per combination: the row's LOINC text as read
    lab_name: list[str | None]  # per combination: the row's lab name text as read


def identify_rows(frame: pd.DataFrame, rules: RuleSet) -> LabIdentity:
    """The analyte of each lab row, decided once per distinct combination of its texts."""
    key_of = {
        "loinc": loinc_key,
        "lab_name": lambda n: normalize_label(n) or None,
        "specimen_type": lambda t: fluid_of(t, rules),
    }
    encoded = {c: engine.encode(frame[c]) for c in key_of}
    combo, distinct = engine.combine_codes(*((c, len(texts)) for c, texts in encoded.values()))
    columns = {"combo": pa.array(np.arange(len(distinct), dtype="int64"))}
    columns.update({c: pa.array(distinct[:, i].astype("int32")) for i, c in enumerate(key_of)})
    tables = {
        "combos": pa.table(columns),
        **{
            name: engine.mapping_table(texts, [key_of[c](t) for t in texts], _TEXT)
            for name, (c, (_, texts)) in zip(
                ("loinc_keys", "name_labels", "specimen_fluids"), encoded.items(), strict=True
            )
        },
        "name_fluids": engine.mapping_table(
            encoded["lab_name"][1], [named_fluid(t, rules) for t in encoded["lab_name"][1]], _TEXT
        ),
        "loinc_rules": loinc_table(rules),
        "lab_dictionary": lab_dictionary_table(rules),
        "analytes": analyte_table(rules),
    }
    result = engine.query(IDENTIFY_SQL, tables)

    def texts_of(column: str, position: int) -> list[str | None]:
        texts = encoded[column][1]
        return [texts[c] if c >= 0 else None for c in distinct[:, position]]

    return LabIdentity(
        combo=combo,
        analyte=result.column("analyte").to_numpy(zero_copy_only=False),
        reason=result.column("reason").to_numpy(zero_copy_only=False),
        loinc=texts_of("loinc", 0),
        lab_name=texts_of("lab_name", 1),
    )


def identify(frame: pd.DataFrame, rules: RuleSet) -> tuple[np.ndarray, np.ndarray]:
    """Analyte (None where not relevant) and reason (None where relevant) of each row, as
    object arrays in the frame's row order."""
    found = identify_rows(frame, rules)
    return found.analyte[found.combo], found.reason[found.combo]
