"""An independent screen written from SCREENING_SPEC.md alone (§2-9), for small hand-built
canonical extracts: no hyposcreen code, every threshold a parameter (`SpecRules`), so a test
can change a rule the way a site's rules copy does and compare the review list with it.

It covers what the edge extracts hold (serum rows, a LOINC or a lab name, no duplicates or
censored values), not every bucket of §3."""

from __future__ import annotations

import csv
import operator
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

_OPS = {"<": operator.lt, "<=": operator.le}


@dataclass
class SpecRules:
    """The spec's defaults (§4-9); a test changes the ones its site copy changes."""

    hypo: tuple[str, float] = ("<=", 135)
    bands: list[tuple[str, str, str, float]] = field(  # label, level, op, threshold
        default_factory=lambda: [
            ("severe", "severe", "<", 120),
            ("moderate", "moderate", "<=", 125),
            ("mild", "mild", "<=", 135),
        ]
    )
    glucose_threshold: float = 100
    glucose_factor: float = 1.6
    pairing_minutes: float = 60
    context_hours: float = 72
    grace_days: float = 7
    cramp_days: float = 30
    cofactor_hours: float = 24
    albumin_hours: float = 24
    delta_hours: float = 48
    overcorrection_hours: float = 24
    overcorrection: float = 8
    overcorrection_with_risk: float = 6
    risk_index_sodium: float = 105
    soon_delta: float = -5
    soon_categories: int = 2
    potassium: float = 3.5
    magnesium: float = 1.7
    ionized_calcium: float = 1.12
    total_calcium: float = 8.5
    albumin_reference: float = 4.0
    albumin_factor: float = 0.8
    units: dict[tuple[str, str], float] = field(
        default_factory=lambda: {
            ("sodium", "mmol/l"): 1,
            ("glucose", "mg/dl"): 1,
            ("potassium", "mmol/l"): 1,
            ("magnesium", "mg/dl"): 1,
            ("calcium_ionized", "mmol/l"): 1,
            ("calcium_total", "mg/dl"): 1,
            ("albumin", "g/dl"): 1,
        }
    )
    loinc: dict[str, str] = field(
        default_factory=lambda: {
            "2951-2": "sodium",
            "2345-7": "glucose",
            "2823-3": "potassium",
            "19123-9": "magnesium",
            "1994-3": "calcium_ionized",
            "17861-6": "calcium_total",
            "1751-7": "albumin",
        }
    )
    names: dict[str, str] = field(default_factory=lambda: {"sodium": "sodium"})
    drugs: dict[str, str] = field(
        default_factory=lambda: {
            "furosemide": "loop_diuretic",
            "bumetanide": "loop_diuretic",
            "hydrochlorothiazide": "thiazide_diuretic",
            "sertraline": "ssri",
        }
    )
    atc: dict[str, str] = field(default_factory=lambda: {"C03CA01": "loop_diuretic"})
    codes: dict[str, str] = field(  # code prefix -> condition (risk factor)
        default_factory=lambda: {"R25.2": "cramp_documented", "K74.6": "cirrhosis"}
    )


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _rows(folder: Path, table: str) -> list[dict[str, str]]:
    with (folder / f"{table}.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _apart(a: datetime, b: datetime) -> float:
    return abs((a - b).total_seconds())


def _labs(folder: Path, rules: SpecRules, start: datetime, end: datetime) -> dict[str, list]:
    """§2-3, §7: identified, in an accepted unit, dated from the context start to the end."""
    by_patient: dict[str, list[dict]] = {}
    for row in _rows(folder, "labs"):
        if row["loinc"]:
            analyte = rules.loinc.get(row["loinc"])
        else:
            analyte = rules.names.get(row["lab_name"].lower())
        factor = rules.units.get((analyte or "", row["unit"].lower().replace(" ", "")))
        at = _time(row["specimen_time"])
        if factor is None or not start - timedelta(hours=rules.context_hours) <= at < end:
            continue
        value = float(row["value_raw"]) * factor
        by_patient.setdefault(row["patient_id"], []).append(
            {"analyte": analyte, "at": at, "value": value, "specimen": row["specimen_id"]}
        )
    return by_patient


def _correct(sodium: list[dict], glucose: list[dict], rules: SpecRules) -> None:
    """§4-5: the same specimen's glucose, else the nearest within the window (then earlier,
    then lower); corrected sodium and whether it is hyponatremic."""
    for result in sodium:
        same = [g for g in glucose if g["specimen"] == result["specimen"]]
        near = same or [
            g for g in glucose if _apart(g["at"], result["at"]) <= rules.pairing_minutes * 60
        ]
        near.sort(key=lambda g: (_apart(g["at"], result["at"]), g["at"], g["value"]))
        excess = max(near[0]["value"] - rules.glucose_threshold, 0) if near else 0
        result["corrected"] = round(result["value"] + rules.glucose_factor * excess / 100, 9)
        result["low"] = _OPS[rules.hypo[0]](result["corrected"], rules.hypo[1])


def _medications(rows: list[dict], index: datetime, rules: SpecRules) -> set[str]:
    """§6: a class active at the index (start <= index <= end + grace; ongoing without end)."""
    found = set()
    for row in rows:
        end = _time(row["end_time"]) if row["end_time"] else None
        if _time(row["start_time"]) > index or (
            end is not None and index > end + timedelta(days=rules.grace_days)
        ):
            continue
        for name, drug_class in rules.drugs.items():
            if re.search(rf"\b{name}\b", row["drug_name"].lower()):
                found.add(drug_class)
        if row["atc"] in rules.atc:
            found.add(rules.atc[row["atc"]])
    return found


def _cofactors(labs: list[dict], index: datetime, rules: SpecRules) -> set[str]:
    """§6: low K, Mg and Ca within the co-factor window; ionized calcium decides alone."""
    near = [r for r in labs if _apart(r["at"], index) <= rules.cofactor_hours * 3600]
    found = set()
    if any(r["analyte"] == "potassium" and r["value"] < rules.potassium for r in near):
        found.add("hypokalemia")
    if any(r["analyte"] == "magnesium" and r["value"] < rules.magnesium for r in near):
        found.add("hypomagnesemia")
    ionized = [r for r in near if r["analyte"] == "calcium_ionized"]
    if ionized:
        low = any(r["value"] < rules.ionized_calcium for r in ionized)
    else:
        low = False
        for calcium in (r for r in near if r["analyte"] == "calcium_total"):
            albumins = [
                a for a in labs if a["analyte"] == "albumin"
                and _apart(a["at"], calcium["at"]) <= rules.albumin_hours * 3600
            ]  # fmt: skip
            albumins.sort(key=lambda a: (_apart(a["at"], calcium["at"]), a["at"], -a["value"]))
            value = calcium["value"]
            if albumins and albumins[0]["value"] < rules.albumin_reference:
                value += rules.albumin_factor * (rules.albumin_reference - albumins[0]["value"])
            low = low or value < rules.total_calcium
    return found | ({"hypocalcemia"} if low else set())


def spec_screen(folder: Path, rules: SpecRules, start: str, end: str) -> dict[str, dict]:
    """Listed patients -> tier, severity, corrected index sodium (1 decimal), risk factors,
    correction risk, over-correction and the 48 h change, as §4-9 say."""
    window_start, window_end = _time(start), _time(end)
    labs = _labs(folder, rules, window_start, window_end)
    medications: dict[str, list[dict]] = {}
    for row in _rows(folder, "medications"):
        medications.setdefault(row["patient_id"], []).append(row)
    diagnoses: dict[str, list[dict]] = {}
    for row in _rows(folder, "diagnoses"):
        diagnoses.setdefault(row["patient_id"], []).append(row)
    listed = {}
    for patient, rows in labs.items():
        sodium = [r for r in rows if r["analyte"] == "sodium"]
        _correct(sodium, [r for r in rows if r["analyte"] == "glucose"], rules)
        low = [r for r in sodium if r["at"] >= window_start and r["low"]]
        if not low:
            continue
        index = min(low, key=lambda r: (r["corrected"], r["at"]))
        band = next(b for b in rules.bands if _OPS[b[2]](index["corrected"], b[3]))
        factors = _medications(medications.get(patient, []), index["at"], rules)
        factors |= _cofactors(rows, index["at"], rules)
        risk = "hypokalemia" in factors or index["corrected"] <= rules.risk_index_sodium
        for row in diagnoses.get(patient, []):
            condition = next(
                (c for code, c in rules.codes.items() if row["code"].startswith(code)), None
            )
            at = _time(row["recorded_time"])
            if condition == "cramp_documented":
                if _apart(at, index["at"]) <= rules.cramp_days * 86400 and at < window_end:
                    factors.add(condition)
            elif condition is not None and at <= index["at"]:
                factors.add(condition)
                risk = risk or condition == "cirrhosis"
        earlier = [
            r for r in sodium
            if r["at"] < index["at"] and _apart(r["at"], index["at"]) <= rules.delta_hours * 3600
        ]  # fmt: skip
        delta = None
        if earlier:
            delta = round(index["corrected"] - max(earlier, key=lambda r: r["at"])["corrected"], 9)
        limit = rules.overcorrection_with_risk if risk else rules.overcorrection
        over = any(
            0 < (b["at"] - a["at"]).total_seconds() <= rules.overcorrection_hours * 3600
            and a["low"] and b["corrected"] - a["corrected"] > limit
            for a in sodium for b in sodium
        )  # fmt: skip
        level = band[1]
        if not (factors or level == "severe" or over):
            continue
        soon = (
            level == "moderate"
            or (level == "mild" and len(factors) >= rules.soon_categories)
            or "cramp_documented" in factors
            or (delta is not None and delta <= rules.soon_delta)
        )
        listed[patient] = {
            "tier": 1 if level == "severe" or over else 2 if soon else 3,
            "severity": band[0],
            "corrected": f"{index['corrected']:.1f}",
            "risk_factors": ";".join(sorted(factors)),
            "correction_risk": risk,
            "overcorrection": over,
            "delta": None if delta is None else f"{delta:.1f}",
        }
    return listed
