"""Vocabulary matching (rule lookup): lab rows to analytes, drug records to classes, diagnosis
codes to conditions. Part of the shared foundation, so ingest, clean and screen may all use it.

Pure functions over frames. Each works on the distinct values of its key columns and maps the
answer back, so a 5M-row extract costs one factorisation plus work on a few thousand values.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa

from hyposcreen.rules import sql_engine as engine
from hyposcreen.rules.lab_identity import identify
from hyposcreen.rules.loader import RuleSet, normalize_code, normalize_label

DRUG_KEYS = ("drug_name", "rxnorm", "atc")


def map_distinct(values: pd.Series, func: Callable[[str], object]) -> pd.Series:
    """Apply `func` to each distinct non-null value once and broadcast the results back."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    answers = np.array([func(str(u)) for u in uniques] + [None], dtype=object)
    return pd.Series(answers[codes], index=values.index, dtype=object)


# ---------------------------------------------------------------- labs → analytes


# the columns identify_analytes decides on, row by row (a reader may classify rows by their
# distinct values of these: ingest.window_pushdown)
IDENTIFYING_COLUMNS = ("loinc", "lab_name", "specimen_type")


def identify_analytes(frame: pd.DataFrame, rules: RuleSet) -> tuple[pd.Series, pd.Series]:
    """Analyte of each lab row (or None) and, for rows that are not relevant, the reason.

    A row with a LOINC is identified by its LOINC alone; a row without one by the lab-name /
    item-id dictionary. A blood analyte measured in urine becomes its urine counterpart (a
    sodium in urine is urine sodium) or is not relevant; other body fluids are not relevant.
    The work is a join of the rule tables in the engine (rules.lab_identity).
    """
    analyte, reason = identify(frame, rules)
    return (
        pd.Series(analyte, index=frame.index, dtype=object).where(pd.notna(analyte)),
        pd.Series(reason, index=frame.index, dtype=object).where(pd.notna(reason)),
    )


# ---------------------------------------------------------------- drugs → classes


@lru_cache(maxsize=8)
def _drug_term_pattern(rules_hash: str, terms: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = sorted(terms, key=len, reverse=True)
    body = "|".join(re.escape(t).replace(r"\ ", r"[\s\-]+") for t in alternatives)
    return re.compile(r"(?<![a-z])(" + body + r")(?![a-z])")


def _name_terms(rules: RuleSet) -> dict[str, tuple[str, ...]]:
    """Every matchable name (ingredient or synonym, lower case) -> the ingredients it means."""
    terms: dict[str, tuple[str, ...]] = {name: (name,) for name in rules.ingredients}
    terms.update(rules.synonyms)
    return terms


def _by_name(name: str, rules: RuleSet) -> dict[tuple[str, str], str]:
    terms = _name_terms(rules)
    pattern = _drug_term_pattern(rules.content_hash, tuple(terms))
    found: dict[tuple[str, str], str] = {}
    for match in pattern.finditer(name.lower()):
        term = re.sub(r"[\s\-]+", " ", match.group(1))
        term = term if term in terms else match.group(1)
        for ingredient in terms.get(term, ()):
            how = "name" if term == ingredient else f"synonym:{term}"
            found.setdefault((rules.ingredients[ingredient].drug_class, ingredient), how)
    return found


def _by_codes(rxnorm: str | None, atc: str | None, rules: RuleSet) -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    rx_code = (rxnorm or "").strip()
    atc_code = (atc or "").strip().upper()
    for entry in rules.ingredients.values():
        if rx_code and entry.rxnorm == rx_code:
            found.setdefault((entry.drug_class, entry.name), "rxnorm")
        if atc_code and entry.atc == atc_code:
            found.setdefault((entry.drug_class, entry.name), "atc")
    for prefix, classes in rules.atc_combinations.items():
        if atc_code.startswith(prefix):
            for drug_class in classes:
                found.setdefault((drug_class, f"ATC {atc_code}"), "atc")
    return found


def classes_for_drug(
    name: str | None, rxnorm: str | None, atc: str | None, rules: RuleSet
) -> tuple[tuple[str, str, str], ...]:
    """(drug_class, ingredient, matched_by) for one distinct drug record; empty when unlisted.

    A record matches by ingredient name (whole word, also inside combinations and strengths),
    brand/abbreviation synonym, RxNorm ingredient code or ATC code (combination ATC prefixes
    count for the classes of their parts).
    """
    found = _by_name(name, rules) if name else {}
    for key, how in _by_codes(rxnorm, atc, rules).items():
        found.setdefault(key, how)
    return tuple((cls, ingredient, how) for (cls, ingredient), how in sorted(found.items()))


_DRUG_ROWS_SQL = """
SELECT r.rn, h.drug_class, h.ingredient, h.matched_by
FROM rows r JOIN hits h ON r.combo = h.combo
ORDER BY r.rn, h.k
"""


def _drug_hits(distinct: np.ndarray, texts: list[list[str]], rules: RuleSet) -> pa.Table:
    """The classes of each distinct drug record (combination of DRUG_KEYS codes), the first
    ingredient of each class only, in the order classes_for_drug gives them (k)."""
    combos: list[int] = []
    found: dict[str, list[str]] = {"drug_class": [], "ingredient": [], "matched_by": []}
    for combo, codes in enumerate(distinct):
        name, rxnorm, atc = (texts[i][c] if c >= 0 else None for i, c in enumerate(codes))
        seen: set[str] = set()
        for drug_class, ingredient, by in classes_for_drug(name, rxnorm, atc, rules):
            if drug_class not in seen:
                seen.add(drug_class)
                combos.append(combo)
                for column, value in zip(found, (drug_class, ingredient, by), strict=True):
                    found[column].append(value)
    return pa.table(
        {
            "combo": pa.array(combos, type=pa.int64()),
            "k": pa.array(np.arange(len(combos), dtype="int64")),
            **{c: pa.array(v, type=pa.large_string()) for c, v in found.items()},
        }
    )


def match_drug_classes(frame: pd.DataFrame, rules: RuleSet) -> pd.DataFrame:
    """Long frame: one row per (medication row label, drug class), its ingredient and match
    (the first ingredient of a class when several match). Each distinct (name, RxNorm, ATC)
    is matched once; the engine joins the matches back to the rows, in row order."""
    encoded = [engine.encode(frame[k]) for k in DRUG_KEYS]
    combo, distinct = engine.combine_codes(*((codes, len(texts)) for codes, texts in encoded))
    hits = _drug_hits(distinct, [texts for _, texts in encoded], rules)
    if not hits.num_rows:
        return pd.DataFrame(
            {"row": pd.Series(dtype="int64"), "drug_class": [], "ingredient": [], "matched_by": []}
        )
    rows = engine.row_table({"combo": pa.array(combo)}, len(frame))
    found = engine.query(_DRUG_ROWS_SQL, {"rows": rows, "hits": hits})
    labels = frame.index.to_numpy()[found.column(engine.ROW).to_numpy()]
    return pd.DataFrame(
        {
            "row": labels,
            **{
                c: pd.array(found.column(c), dtype="str")
                for c in ("drug_class", "ingredient", "matched_by")
            },
        }
    )


# ---------------------------------------------------------------- diagnosis codes → conditions


def normalize_code_system(system: str, rules: RuleSet) -> str | None:
    return rules.code_system_aliases.get(normalize_label(system))


def condition_for_code(system: str | None, code: str | None, rules: RuleSet) -> str | None:
    if not system or not code:
        return None
    wanted = normalize_code(code)
    for entry in rules.condition_codes:
        if entry.code_system != system:
            continue
        if (entry.match == "exact" and wanted == entry.code) or (
            entry.match == "prefix" and wanted.startswith(entry.code)
        ):
            return entry.condition
    return None


def code_systems(systems: pd.Series, rules: RuleSet) -> pd.Series:
    """The canonical code system (or None) of each diagnosis row's `code_system`."""
    return map_distinct(systems, lambda s: normalize_code_system(s, rules))


def conditions_of(system: pd.Series, codes: pd.Series, rules: RuleSet) -> pd.Series:
    """The condition (or None) each row's code stands for in its canonical `system`."""
    pair = system.astype("str") + "\x1f" + codes.astype("str")

    def _lookup(key: str) -> str | None:
        sys_name, _, code = key.partition("\x1f")
        return condition_for_code(None if sys_name in ("None", "nan") else sys_name, code, rules)

    return map_distinct(pair, _lookup)


def match_conditions(frame: pd.DataFrame, rules: RuleSet) -> tuple[pd.Series, pd.Series]:
    """(canonical code system or None, condition or None) for each diagnosis row."""
    system = code_systems(frame["code_system"], rules)
    return system, conditions_of(system, frame["code"], rules)
