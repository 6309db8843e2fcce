"""The only reader of the rules data: rules.yaml and its code lists, as a frozen RuleSet."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import yaml

from hyposcreen.errors import ConfigError
from hyposcreen.rules import consistency
from hyposcreen.rules.model import (
    Analyte,
    ConditionCode,
    ConditionRule,
    Ingredient,
    Profile,
    RuleSet,
    SeverityBand,
    WarningThresholds,
)
from hyposcreen.rules.sections import (
    Limits,
    Windows,
    check_top_level,
)
from hyposcreen.rules.texts import (
    RulesRow,
    normalize_code,
    normalize_label,
    normalize_unit,
    not_utf8,
    read_rules_csv,
    rules_number,
)

__all__ = [
    "RULES_DIR",
    "Analyte",
    "ConditionCode",
    "ConditionRule",
    "Ingredient",
    "Limits",
    "Profile",
    "RuleSet",
    "RulesRow",
    "SeverityBand",
    "WarningThresholds",
    "Windows",
    "load_rules",
    "load_source_map",
    "normalize_code",
    "normalize_label",
    "normalize_unit",
]

RULES_DIR = Path(__file__).resolve().parent
HINTS_FILE = "snomed_condition_hints.csv"  # read only to warn (rules.condition_hints)
# the columns the rules read from each code list (its header may hold more)
_COLUMNS = {
    "analytes.csv": (
        "analyte",
        "fluid",
        "canonical_unit",
        "urine_counterpart",
        "plausible_low",
        "plausible_high",
    ),
    "analyte_codes.csv": ("loinc", "analyte"),
    "analyte_units.csv": ("analyte", "unit", "factor"),
    "drug_ingredients.csv": ("ingredient", "drug_class", "atc", "rxnorm"),
    "drug_synonyms.csv": ("synonym", "ingredients"),
    "atc_combinations.csv": ("atc_prefix", "drug_classes"),
    "condition_codes.csv": ("condition", "code_system", "code", "match"),
    "lab_dictionary.csv": ("local_name", "analyte"),
    HINTS_FILE: ("condition", "code"),
}
_COMPARATORS = {"<", "<=", ">", ">="}
_LEVELS = {"mild", "moderate", "severe"}


def _read(directory: Path, name: str) -> list[RulesRow]:
    """The rows of the code list `name` of `directory`, its header checked (`_COLUMNS`)."""
    return read_rules_csv(directory / name, _COLUMNS[name])


def _require(mapping: dict[str, Any], key: str, where: str) -> Any:
    if key not in mapping:
        raise ConfigError(f"Rules file: '{where}' is missing the key '{key}'.")
    return mapping[key]


def _profiles(raw: dict[str, Any]) -> dict[str, Profile]:
    profiles: dict[str, Profile] = {}
    for name, spec in raw.items():
        hypo = _require(spec, "hyponatremia", f"profiles.{name}")
        bands = []
        for band in _require(spec, "severity", f"profiles.{name}"):
            if band["op"] not in _COMPARATORS or band["level"] not in _LEVELS:
                raise ConfigError(f"Rules file: profiles.{name} has an invalid band {band}.")
            bands.append(SeverityBand(band["label"], band["level"], band["op"], band["threshold"]))
        if hypo["op"] not in _COMPARATORS:
            raise ConfigError(f"Rules file: profiles.{name}.hyponatremia.op must be one of <, <=.")
        profiles[name] = Profile(
            name=name,
            description=spec.get("description", ""),
            hyponatremia_op=hypo["op"],
            hyponatremia_threshold=float(hypo["threshold"]),
            bands=tuple(bands),
        )
    return profiles


def _hash_dir(directory: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.csv")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def load_rules(directory: Path | None = None) -> RuleSet:
    """Read rules.yaml and the CSV code lists from `directory` (default: the packaged rules).
    A site's folder (`--rules`) that is missing, not a folder, lacks one of the files, or holds
    a code list lacking a column or with a number that does not read is a ConfigError naming
    it (exit 2: a setting to correct, not the machine's doing)."""
    if directory is None:
        return _load_rules(RULES_DIR)
    try:
        return _load_rules(directory)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
        if not directory.is_dir():
            raise ConfigError(
                f"Rules folder {directory} does not exist or is not a folder: --rules names a "
                "folder holding rules.yaml and the code lists (a copy of the packaged "
                "src/hyposcreen/rules, edited)."
            ) from exc
        missing = Path(exc.filename).name if exc.filename else "a rules file"
        kind = "a folder where a file belongs:" if isinstance(exc, IsADirectoryError) else "no"
        raise ConfigError(
            f"Rules folder {directory} has {kind} {missing}: a --rules folder holds rules.yaml and "
            "every code list of the packaged rules (copy src/hyposcreen/rules whole, then edit)."
        ) from exc
    except KeyError as exc:  # a rules.yaml key (a code list's header is checked as read)
        raise ConfigError(
            f"Rules file {directory / 'rules.yaml'}: no key {exc.args[0]!r} where the rules "
            "read it (edited?): it keeps the keys of the packaged rules' copy."
        ) from exc
    except ValueError as exc:  # a number of rules.yaml (a code list's are read as named)
        raise ConfigError(
            f"Rules file {directory / 'rules.yaml'}: a value does not read ({exc}): compare "
            "it with the packaged rules' copy."
        ) from exc


def _load_rules(directory: Path) -> RuleSet:
    rules_file = directory / "rules.yaml"
    try:
        text = rules_file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise not_utf8(rules_file) from exc
    raw = check_top_level(yaml.safe_load(text), rules_file)
    analytes = {
        row["analyte"]: Analyte(
            name=row["analyte"],
            fluid=row["fluid"],
            canonical_unit=row["canonical_unit"],
            urine_counterpart=row["urine_counterpart"] or None,
            plausible_low=rules_number(row, "plausible_low") if row["plausible_low"] else None,
            plausible_high=rules_number(row, "plausible_high") if row["plausible_high"] else None,
        )
        for row in _read(directory, "analytes.csv")
    }
    consistency.check_ranges(analytes, directory / "analytes.csv")
    loinc_to_analyte = {r["loinc"]: r["analyte"] for r in _read(directory, "analyte_codes.csv")}
    unit_factors = {
        (r["analyte"], normalize_unit(r["unit"])): rules_number(r, "factor")
        for r in _read(directory, "analyte_units.csv")
    }
    ingredients = {
        r["ingredient"]: Ingredient(r["ingredient"], r["drug_class"], r["atc"], r["rxnorm"] or None)
        for r in _read(directory, "drug_ingredients.csv")
    }
    synonyms = {
        r["synonym"].lower(): tuple(i.strip() for i in r["ingredients"].split(";"))
        for r in _read(directory, "drug_synonyms.csv")
    }
    for synonym, targets in synonyms.items():
        unknown = [t for t in targets if t not in ingredients]
        if unknown:
            raise ConfigError(
                f"drug_synonyms.csv: '{synonym}' names unknown ingredients {unknown}."
            )
    atc_combinations = {
        r["atc_prefix"].upper(): tuple(c.strip() for c in r["drug_classes"].split(";"))
        for r in _read(directory, "atc_combinations.csv")
    }
    condition_codes = tuple(
        ConditionCode(r["condition"], r["code_system"], normalize_code(r["code"]), r["match"])
        for r in _read(directory, "condition_codes.csv")
    )
    lab_dictionary = {
        normalize_label(r["local_name"]): r["analyte"]
        for r in _read(directory, "lab_dictionary.csv")
    }
    aliases: dict[str, str] = {}
    for system, names in raw["code_systems"].items():
        aliases[normalize_label(system)] = system
        for alias in names:
            aliases[normalize_label(str(alias))] = system
    conditions = {
        name: ConditionRule(
            name, spec["risk_factor"], bool(spec["correction_risk"]), spec["timing"]
        )
        for name, spec in raw["conditions"].items()
    }
    consistency.check_profile_numbers(raw["profiles"], rules_file)
    profiles = _profiles(raw["profiles"])
    for profile in profiles.values():
        consistency.check_profile_bands(profile, rules_file)
    windows, limits, contracts, glucose = consistency.checked_sections(raw, rules_file)
    rules = RuleSet(
        version=str(raw["version"]),
        content_hash=_hash_dir(directory),
        default_profile=raw["default_profile"],
        profiles=profiles,
        glucose=glucose,
        windows=windows,
        limits=limits,
        statuses={k: frozenset(normalize_label(s) for s in v) for k, v in raw["statuses"].items()},
        urine_words=tuple(raw["specimen"]["urine_words"]),
        other_fluid_words=tuple(raw["specimen"]["other_fluid_words"]),
        blood_words=tuple(raw["specimen"].get("blood_words", ())),
        code_system_aliases=aliases,
        conditions=conditions,
        risk_factor_vocabulary=tuple(raw["risk_factor_vocabulary"]),
        workup_analytes=tuple(raw["workup_analytes"]),
        analytes=analytes,
        loinc_to_analyte=loinc_to_analyte,
        unit_factors=unit_factors,
        ingredients=ingredients,
        synonyms=synonyms,
        atc_combinations=atc_combinations,
        condition_codes=condition_codes,
        snomed_condition_hints=_condition_hints(directory, conditions),
        lab_dictionary=lab_dictionary,
        contracts=contracts,
        audit=dict(raw.get("audit") or {}),
        warnings=WarningThresholds.from_yaml(raw.get("warnings")),
    )
    _check_consistency(rules)
    return rules


def _condition_hints(directory: Path, conditions: dict[str, ConditionRule]) -> dict[str, str]:
    """snomed_condition_hints.csv as {code as the rules compare codes: condition}: the folder's
    own (one naming a condition rules.yaml lacks is an error), else the packaged one's (a site's
    folder made before it was shipped), of the conditions the site's rules define."""
    own = (directory / HINTS_FILE).exists()
    path = (directory if own else RULES_DIR) / HINTS_FILE
    rows = read_rules_csv(path, _COLUMNS[HINTS_FILE])
    if any(not r["code"] for r in rows):
        raise ConfigError(f"Rules file {path}: a row has no code.")
    unknown = sorted({r["condition"] for r in rows} - set(conditions))
    if own and unknown:
        raise ConfigError(f"Rules file {path}: conditions {unknown} are not in rules.yaml.")
    return {normalize_code(r["code"]): r["condition"] for r in rows if r["condition"] in conditions}


def _check_consistency(rules: RuleSet) -> None:
    if rules.default_profile not in rules.profiles:
        raise ConfigError(f"Rules file: default_profile '{rules.default_profile}' is not defined.")
    vocabulary = set(rules.risk_factor_vocabulary)
    for ingredient in rules.ingredients.values():
        if ingredient.drug_class not in vocabulary:
            raise ConfigError(
                f"drug_ingredients.csv: class '{ingredient.drug_class}' not in vocabulary."
            )
    for analyte in list(rules.loinc_to_analyte.values()) + list(rules.lab_dictionary.values()):
        if analyte not in rules.analytes:
            raise ConfigError(f"Rules: analyte '{analyte}' is not defined in analytes.csv.")
    for code in rules.condition_codes:
        if code.condition not in rules.conditions:
            raise ConfigError(
                f"condition_codes.csv: condition '{code.condition}' is not in rules.yaml."
            )


def load_source_map(filename: str) -> list[RulesRow]:
    """A packaged source code map (omop_concepts.csv, mimic_labitems.csv) as rows of text.

    These maps belong to the source adapters, not to a site's rules: they are always read from
    the packaged rules folder, also when a run uses `--rules DIR`.
    """
    return read_rules_csv(RULES_DIR / filename)
