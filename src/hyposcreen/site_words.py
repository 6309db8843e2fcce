"""A site's own words: status words, drug synonyms and the decimal separator of results.

The default rules ship German and French status words (rules/status_words.csv) and the INN
spellings and brands of every listed ingredient (rules/drug_synonyms.csv); a site mapping adds
its own under `status_words:` and `drug_synonyms:` without copying the rules folder. Words are
compared with accents folded (annulé == annule, Etacrynsäure == etacrynsaure).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from hyposcreen.config import SiteMapping
from hyposcreen.errors import ConfigError
from hyposcreen.rules.loader import RULES_DIR, RuleSet, RulesRow, read_rules_csv

STATUS_WORDS_FILE = "status_words.csv"
NON_LISTED_FILE = "drug_non_listed.csv"


def fold(text: str) -> str:
    """Lower case without accents: 'Furosémide' -> 'furosemide', 'Säure' -> 'saure'."""
    decomposed = unicodedata.normalize("NFKD", text.replace("ß", "ss"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def fold_series(values: pd.Series) -> pd.Series:
    """`fold` of each distinct value (nulls stay null)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    folded = [fold(str(u)) for u in uniques] + [None]
    out = pd.Series(pd.array(folded, dtype="str")[codes], index=values.index)
    return out.where(values.notna())


def status_key(word: str) -> str:
    """A status word as cleaning compares it: folded, '_' and spaces as single '-'."""
    return "-".join(fold(word).replace("_", " ").split())


@dataclass(frozen=True)
class SiteWords:
    """What cleaning and the coverage report need beyond the rules."""

    known_statuses: frozenset[str]  # every status word with a meaning (status_key form)
    non_listed_drugs: tuple[str, ...]  # folded names of common drugs outside spec §6
    decimal: str = "."
    # every specimen word with a meaning (blood, urine, other fluids); none: not checked
    specimen_words: tuple[str, ...] = ()


def _rows(directory: Path | None, name: str, columns: tuple[str, ...]) -> list[RulesRow]:
    """The rows of the rules file `name` (the site's `--rules` copy, else the packaged one);
    a copy lacking one of `columns` is a ConfigError naming the file, the header found and the
    columns expected (rules.texts.header_error)."""
    path = (directory or RULES_DIR) / name
    if not path.is_file():
        path = RULES_DIR / name
    return read_rules_csv(path, columns)


def apply_site_words(
    rules: RuleSet, rules_dir: Path | None, mapping: SiteMapping
) -> tuple[RuleSet, SiteWords]:
    """The rules with the default and the site's status words and drug synonyms added."""
    by_status: dict[str, set[str]] = {}
    for row in _rows(rules_dir, STATUS_WORDS_FILE, ("word", "status")):
        by_status.setdefault(status_key(row["status"]), set()).add(status_key(row["word"]))
    known_status_names = set(by_status) | {s for words in rules.statuses.values() for s in words}
    source = mapping.source_path or "the site mapping"
    for status, site_words in mapping.status_words.items():
        key = status_key(status)
        if key not in known_status_names:
            raise ConfigError(
                f"Mapping file {source}: status_words.{status} is not a known status "
                f"(known: {', '.join(sorted(known_status_names))})."
            )
        by_status.setdefault(key, set()).update(status_key(w) for w in site_words)
    statuses = {}
    for category, category_words in rules.statuses.items():
        base = {status_key(w) for w in category_words}
        extra = {w for status in base for w in by_status.get(status, ())}
        statuses[category] = frozenset(base | extra)
    synonyms = {fold(k): v for k, v in rules.synonyms.items()}
    for local, ingredients in mapping.drug_synonyms.items():
        unknown = [i for i in ingredients if i not in rules.ingredients]
        if unknown:
            raise ConfigError(
                f"Mapping file {source}: drug_synonyms.{local} names unknown ingredient(s) "
                f"{', '.join(unknown)} (listed ingredients: rules/drug_ingredients.csv)."
            )
        synonyms[fold(local)] = tuple(ingredients)
    known = {w for group in by_status.values() for w in group} | set(known_status_names)
    non_listed_rows = _rows(rules_dir, NON_LISTED_FILE, ("name",))
    non_listed = tuple(sorted({fold(r["name"]) for r in non_listed_rows}))
    words = SiteWords(
        known_statuses=frozenset(known | {w for s in statuses.values() for w in s}),
        non_listed_drugs=non_listed,
        decimal=mapping.decimal,
        specimen_words=(
            (*rules.blood_words, *rules.urine_words, *rules.other_fluid_words)
            if rules.blood_words
            else ()
        ),
    )
    return replace(rules, statuses=statuses, synonyms=synonyms), words
