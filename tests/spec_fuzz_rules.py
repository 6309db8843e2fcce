"""The spec's defaults as the rules data files hold them, and how the spec fuzz oracle reads
texts (times §11, values §3). Part of the independent reading of SCREENING_SPEC.md in
spec_fuzz_oracle; reads only the rules data files, never the project's code."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from fractions import Fraction
from pathlib import Path

import pandas as pd
import yaml

RULES_DIR = Path(__file__).resolve().parents[1] / "src" / "hyposcreen" / "rules"
H = timedelta(hours=1)
D = timedelta(days=1)
NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
CENSORED = re.compile(rf"^(<=|>=|<|>|less than|greater than)\s*({NUMBER})$", re.IGNORECASE)


def _csv(name: str) -> pd.DataFrame:
    return pd.read_csv(RULES_DIR / name, dtype=str, keep_default_na=False)


def space_free(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


@dataclass(frozen=True)
class Rules:
    """The spec's defaults as the rules data files hold them."""

    raw: dict = field(
        default_factory=lambda: yaml.safe_load((RULES_DIR / "rules.yaml").read_text())
    )
    loinc: dict = field(
        default_factory=lambda: dict(_csv("analyte_codes.csv")[["loinc", "analyte"]].values)
    )
    names: dict = field(
        default_factory=lambda: {
            k.strip().lower(): v
            for k, v in _csv("lab_dictionary.csv")[["local_name", "analyte"]].values
        }
    )
    units: dict = field(
        default_factory=lambda: {
            (a, space_free(u)): (
                Fraction(1) / Fraction(f[2:]) if f.startswith("1/") else Fraction(f)
            )
            for a, u, f in _csv("analyte_units.csv")[["analyte", "unit", "factor"]].values
        }
    )
    ingredients: pd.DataFrame = field(default_factory=lambda: _csv("drug_ingredients.csv"))
    synonyms: dict = field(
        default_factory=lambda: {
            s.lower(): i.split(";")
            for s, i in _csv("drug_synonyms.csv")[["synonym", "ingredients"]].values
        }
    )
    combos: dict = field(
        default_factory=lambda: {
            p: c.split(";")
            for p, c in _csv("atc_combinations.csv")[["atc_prefix", "drug_classes"]].values
        }
    )
    conditions: pd.DataFrame = field(default_factory=lambda: _csv("condition_codes.csv"))

    def limit(self, key: str) -> Fraction:
        return Fraction(str(self.raw["limits"][key]))

    def statuses(self, key: str) -> set[str]:
        return {s.lower() for s in self.raw["statuses"][key]}

    def code_system(self, text: str) -> str | None:
        low = text.strip().lower()
        for name, aliases in self.raw["code_systems"].items():
            if low == name.lower() or low in {str(a).lower() for a in aliases}:
                return name
        return None


def read_time(text: str, tz: str) -> pd.Timestamp | None:
    """§11: naive text is site-local (a doubled wall time its first occurrence, a missing one the
    end of the gap); text with an offset is that instant. Returns a UTC instant."""
    text = text.strip()
    if not text:
        return None
    try:
        ts = pd.Timestamp(text)
    except ValueError:
        return None
    if ts.tzinfo is None:
        ts = ts.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
    return ts.tz_convert("UTC")


def read_value(text: str) -> Fraction | None:
    text = text.strip()
    if re.fullmatch(NUMBER, text):
        return Fraction(text)
    hit = CENSORED.match(text)
    return Fraction(hit.group(2)) if hit else None


@dataclass
class Result:
    patient: str
    analyte: str
    time: pd.Timestamp
    value: Fraction
    specimen: str
    glucose: Fraction | None = None
    corrected: Fraction | None = None
