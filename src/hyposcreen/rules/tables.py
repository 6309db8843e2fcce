"""The loaded rules as Arrow tables, for the engine to join (rules stay data; these only reshape).

Each function turns one part of a RuleSet into a small table with the column names the cleaning
and selector queries use. They are rebuilt per call (a few dozen rows each): a site's rules may
add entries after loading (e.g. its lab dictionary), so nothing is cached by the rules' hash.
"""

from __future__ import annotations

import pyarrow as pa

from hyposcreen.rules.loader import RuleSet

_TEXT = pa.large_string()


def analyte_table(rules: RuleSet) -> pa.Table:
    """Each analyte: its fluid, urine counterpart, whether it counts by presence only (no
    unit check) and its plausible range (null bounds where the rules give none)."""
    specs = list(rules.analytes.values())
    return pa.table(
        {
            "analyte": pa.array([s.name for s in specs], type=_TEXT),
            "fluid": pa.array([s.fluid for s in specs], type=_TEXT),
            "urine_counterpart": pa.array([s.urine_counterpart for s in specs], type=_TEXT),
            "presence_only": pa.array([s.canonical_unit == "*" for s in specs], type=pa.bool_()),
            "plausible_low": pa.array([s.plausible_low for s in specs], type=pa.float64()),
            "plausible_high": pa.array([s.plausible_high for s in specs], type=pa.float64()),
        }
    )


def unit_factor_table(rules: RuleSet) -> pa.Table:
    """(analyte, normalised unit) -> factor to the analyte's canonical unit."""
    keys = list(rules.unit_factors)
    return pa.table(
        {
            "analyte": pa.array([a for a, _ in keys], type=_TEXT),
            "unit_key": pa.array([u for _, u in keys], type=_TEXT),
            "factor": pa.array([rules.unit_factors[k] for k in keys], type=pa.float64()),
        }
    )


def loinc_table(rules: RuleSet) -> pa.Table:
    """LOINC code -> analyte."""
    return pa.table(
        {
            "loinc": pa.array(list(rules.loinc_to_analyte), type=_TEXT),
            "analyte": pa.array(list(rules.loinc_to_analyte.values()), type=_TEXT),
        }
    )


def lab_dictionary_table(rules: RuleSet) -> pa.Table:
    """Normalised lab name / item id -> analyte (rows without a LOINC)."""
    return pa.table(
        {
            "label": pa.array(list(rules.lab_dictionary), type=_TEXT),
            "analyte": pa.array(list(rules.lab_dictionary.values()), type=_TEXT),
        }
    )


def status_table(rules: RuleSet) -> pa.Table:
    """(category, status word in status_key form): every word of every status category,
    the site's words included once applied (site_words.apply_site_words)."""
    pairs = sorted((c, w) for c, words in rules.statuses.items() for w in words)
    return pa.table(
        {
            "category": pa.array([c for c, _ in pairs], type=_TEXT),
            "status_key": pa.array([w for _, w in pairs], type=_TEXT),
        }
    )
