"""Random small canonical extracts concentrated on the spec's boundaries, for differential fuzzing.

Each extract holds a few patients whose results, drugs and diagnoses sit at and around every
threshold and time edge of SCREENING_SPEC.md: sodium bands, glucose correction and the ±60 min
pairing (ties at one distance and at one time), K/Mg/Ca limits after unit conversion and albumin
correction, 24/48/72 h, ±30 d, the 7 d grace, a medication ending before it starts, statuses,
code systems, duplicates, censored values, and the nights the clocks change in Europe/Berlin and
America/New_York (wall times that do not exist or occur twice written as such).
`write_extract` returns the window arguments the run and the oracle share.
"""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import pandas as pd

S, M, H, D = timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
DAYS = {
    "UTC": "2026-11-20 2026-03-29 2026-01-01".split(),
    "Europe/Berlin": "2026-03-29 2026-03-30 2026-03-31 2026-10-25 2026-10-26 2026-11-20".split(),
    "America/New_York": "2026-03-08 2026-03-09 2026-11-01 2026-11-02 2026-11-03".split(),
}
SODIUM = (
    "135 135.0001 134.9999 125 125.0001 124.9999 125.05 120 119.9999 120.0001 105 105.0001 "
    "104.9 130 129.9999 134.99 140 138 128 122 115 110 80 79.9 200.1 0"
).split()
STEPS = (5, 8, 8.0001, 6, 6.0001, 10, 9.9999, -5, -4.9999, -10)  # around the serial limits
# (loinc, lab name): listed LOINCs, dictionary names, urine sodium, an unknown LOINC
SODIUM_CODES = [tuple(c.split("|")) for c in (
    "2951-2|", "2947-0|", "32717-1|", "39791-9|", "|Sodium", "|Na", "|sodium, serum",
    "2955-3|Sodium, urine", "9999-9|Sodium", "| SODIUM ", " 2951-2 |", "|Sodium, urine",
)]  # fmt: skip
GLUCOSE = [tuple(g.split("|")) for g in (
    "100|mg/dL", "100.0001|mg/dL", "99.9|mg/dL", "150|mg/dL", "250|mg/dL", "400|mg/dL",
    "600|mg/dL", "2400|mg/dL", "5.55|mmol/L", "10|mmol/L", "22.2|mmol/L", "<100|mg/dL",
    "HEMOLYZED|mg/dL",
)]  # fmt: skip
GLUCOSE_CODES = [("2345-7", ""), ("2339-0", ""), ("41653-7", ""), ("", "Glucose")]
COFACTORS = {  # (loinc, unit): values at and around each limit after conversion
    ("2823-3", "mmol/L"): "3.5 3.4999 3.4 3.6 <3.5 2.9".split(),
    ("6298-4", "mEq/L"): "3.5 3.49".split(),
    ("19123-9", "mg/dL"): "1.7 1.6999 1.69 1.8".split(),
    ("2601-3", "mmol/L"): "0.7 0.69 0.6993".split(),
    ("19123-9", "mEq/L"): "1.4 1.39 1.3992".split(),
    ("17861-6", "mg/dL"): "8.5 8.4999 8.1 8.4 9.0 7.7".split(),
    ("2000-8", "mmol/L"): "2.12 2.13 2.1 2.125".split(),
    ("1994-3", "mmol/L"): "1.12 1.1199 1.13 1.0".split(),
    ("12180-6", "mg/dL"): "4.48896 4.48 4.5".split(),  # 4.48896 / 4.008 = 1.12 exactly
}
ALBUMIN = [tuple(a.split("|")) for a in (
    "4.0|g/dL", "3.9999|g/dL", "3.5|g/dL", "2.5|g/dL", "4.2|g/dL", "35|g/L", "40|g/L", "25|g/L",
    "38.7|g/L",
)]  # fmt: skip
# column=value: listed drugs by name (strengths, brands, combinations), unlisted ones, RxNorm,
# 7-character and combination ATC codes, a 5-character ATC group
DRUGS = [dict([d.split("=", 1)]) for d in (
    "drug_name=Furosemide 40mg tab", "drug_name=Lasix", "drug_name=lisinopril-hydrochlorothiazide",
    "drug_name=Lisinopril-HCTZ 20-12.5mg", "drug_name=HYDROCHLOROTHIAZIDE 25 MG",
    "drug_name=Zoloft 50 mg tablet", "drug_name=sertraline", "drug_name=Bupropion 150mg",
    "drug_name=Lithium carbonate", "drug_name=Trazodone 50mg", "drug_name=metformin",
    "drug_name=Valproic acid 250mg", "drug_name=Divalproex ER", "drug_name=Ethacrynic Acid",
    "drug_name=Quetiapine 25mg", "drug_name=Aldactazide", "drug_name=Amitriptyline 10 mg",
    "drug_name=Desvenlafaxine", "drug_name=Escitalopram oxalate", "drug_name=Indapamide SR",
    "drug_name=FUROSEMIDE", "drug_name=furosemide 40 MG", "drug_name=Spironolactone/HCTZ",
    "drug_name=Paroxetine (Paxil) 20mg", "rxnorm=4603", "rxnorm=4603.0", "rxnorm=36437",
    "rxnorm=5487", "rxnorm=999999", "rxnorm= 4603 ", "atc=C03CA01", "atc=c03ca01", "atc=C03EA01",
    "atc=C09BA03", "atc=C07BB07", "atc=C03CA", "atc=N06AB06", "atc=C09DA01", "atc=C03EB01",
    "atc=N03AG01", "atc=C09AA03",
)]  # fmt: skip
DIAGNOSES = [tuple(d.split("|")) for d in (
    "K74.60|ICD-10-CM", "K7460|ICD-10-CM", "K70.30|icd10", "K74.2|ICD-10-CM", "K76.6|I10",
    "571.5|ICD-9-CM", "19943007|SNOMED", "19943007|http://snomed.info/sct", "I50.9|ICD-10-CM",
    "I11.0|ICD-10-CM", "I13.1|ICD-10-CM", "428.0|ICD-9-CM", "428.0|ICD-10-CM", "N18.3|ICD-10-CM",
    "585.9|icd9", "E22.2|ICD-10-CM", "253.6|ICD-9-CM", "F10.20|ICD-10-CM", "F10.10|ICD-10-CM",
    "303.90|ICD-9-CM", "E43|ICD-10-CM", "263.9|ICD-9-CM", "R25.2|ICD-10-CM", "729.82|ICD-9-CM",
    "R25.1|ICD-10-CM", "E87.1|ICD-10-CM", "N18.3|ICD-11", "i50.9|Icd-10-Cm", "19943007|SNOMED CT",
    "K74.60 |ICD-10-CM",
)]  # fmt: skip
LAB_STATUS = ["final"] * 12 + [
    "", "preliminary", "entered-in-error", "cancelled", "Cancelled", "canceled", " Final",
    "ENTERED-IN-ERROR",
]  # fmt: skip
MED_STATUS = [
    "active"
] * 4 + "|stopped|completed|Stopped|cancelled|entered-in-error|not-done|on-hold".split("|")
DX_STATUS = [
    "active"
] * 5 + "|resolved|refuted|entered-in-error|inactive|remission|confirmed".split("|")
LAB_COLUMNS = (
    "patient_id specimen_id specimen_time loinc lab_name value_raw value unit status specimen_type"
)
MED_COLUMNS = "patient_id drug_name rxnorm atc start_time end_time status"
DX_COLUMNS = "patient_id code code_system recorded_time status"


class Extract:
    """One extract under construction: rows of the three tables, times chosen as UTC instants."""

    def __init__(self, rng: random.Random, tz: str):
        self.rng, self.tz = rng, tz
        self.labs: list[dict] = []
        self.meds: list[dict] = []
        self.diags: list[dict] = []
        self.wall: dict[pd.Timestamp, str] = {}  # instants first written as a DST-night wall time

    def text(self, instant: pd.Timestamp | None) -> str:
        """Site-local wall time, sometimes with its offset, in UTC or with a space (§11)."""
        if instant is None:
            return ""
        if instant in self.wall and self.rng.random() < 0.7:
            return self.wall[instant]
        local = instant.tz_convert(self.tz)
        roll = self.rng.random()
        if roll < 0.08:
            return local.isoformat()
        if roll < 0.12:
            return instant.strftime("%Y-%m-%dT%H:%M:%SZ")
        if roll < 0.16:
            return local.strftime("%Y-%m-%d %H:%M:%S")
        return local.strftime("%Y-%m-%dT%H:%M:%S")

    def lab(self, pid, when, code, value, unit, specimen="", status=None) -> None:
        rng = self.rng
        loinc, name = code
        row = {
            "patient_id": pid, "specimen_id": specimen, "specimen_time": self.text(when),
            "loinc": loinc, "lab_name": name, "value_raw": value, "unit": unit,
            "status": rng.choice(LAB_STATUS) if status is None else status,
            "specimen_type": rng.choice(["Serum", "Plasma", "", "Whole blood"]),
        }  # fmt: skip
        if value == "___" and rng.random() < 0.6:  # MIMIC-IV keeps the number in `value`
            row["value"] = rng.choice(["124.9", "135", "119", "3.2", "abc"])
        if name.endswith("urine") or (loinc == "2951-2" and rng.random() < 0.05):
            row["specimen_type"] = "Urine"
        self.labs.append(row)
        if rng.random() < 0.07:
            self.labs.append(self._duplicate(row, when))

    def _duplicate(self, row: dict, when: pd.Timestamp) -> dict:
        """The same result again: as sent, its number written otherwise, or its time with offset."""
        copy = dict(row)
        shape = self.rng.choice(["same", "number", "time"])
        value = copy["value_raw"].strip()
        if shape == "number" and value.replace(".", "", 1).isdigit():
            copy["value_raw"] = value + ("0" if "." in value else ".0")
        elif shape == "time":
            copy["specimen_time"] = when.tz_convert(self.tz).isoformat()
        return copy


def _sodium_text(rng: random.Random, value: str) -> str:
    roll = rng.random()
    if roll < 0.06:
        return rng.choice(["<", "<=", "LESS THAN ", ">"]) + value
    if roll < 0.1:
        return f" {value} "
    if roll < 0.13:
        return rng.choice(["HEMOLYZED", "___", "See Comments", ""])
    if roll < 0.2 and "." not in value:
        return value + ".0"
    return value


def _first_time(ex: Extract, day: str, ws: pd.Timestamp, we: pd.Timestamp) -> pd.Timestamp:
    """The patient's first sodium time: window edges, inside it, or a DST-night wall time."""
    rng = ex.rng
    if rng.random() < 0.15:
        wall = f"{day}T{rng.choice(['01:30', '02:30', '02:00', '03:00'])}:00"
        local = pd.Timestamp(wall).tz_localize(ex.tz, ambiguous=True, nonexistent="shift_forward")
        instant = local.tz_convert("UTC")
        ex.wall.setdefault(instant, wall)
        return instant
    minutes = rng.randrange(int((we - ws) / M))
    return rng.choice([ws, we - S, we, ws - S, ws + (we - ws) / 2, ws + minutes * M, ws + 3 * H])


def _patient(ex: Extract, pid: str, day: str, ws: pd.Timestamp, we: pd.Timestamp) -> None:
    rng = ex.rng
    t0 = _first_time(ex, day, ws, we)
    main = rng.choice(SODIUM)
    series = [(t0, main)]
    offsets = [-72 * H, -72 * H + M, -48 * H, -48 * H - S, -48 * H + M, -24 * H, -24 * H - S]
    offsets += [-24 * H + M, -12 * H, -6 * H, -H, H, 6 * H, 12 * H, 24 * H - M, 24 * H, 24 * H + S]
    for _ in range(rng.choice([0, 1, 1, 2, 3, 4])):
        base = float(main) if main != "0" else 125.0
        value = rng.choice(SODIUM + [f"{base + step:g}" for step in STEPS])
        series.append((t0 + rng.choice(offsets), value))
    for n, (when, value) in enumerate(series):
        unit = rng.choice(["mmol/L"] * 8 + ["mEq/L", "MMOL/L", "mmol / l", "mg/dL"])
        code = rng.choice(SODIUM_CODES[:4] * 3 + SODIUM_CODES)
        specimen = rng.choice([f"S{pid}-{n}", f"S{pid}-{n}", ""])
        ex.lab(pid, when, code, _sodium_text(rng, value), unit, specimen)
        if rng.random() < 0.45:
            _glucoses(ex, pid, when, specimen)
    if rng.random() < 0.6:
        _cofactors(ex, pid, t0)
    for _ in range(rng.choice([0, 0, 1, 2])):
        code, unit = rng.choice([(("2692-2", ""), "mOsm/kg"), (("2695-5", ""), "mOsm/kg H2O"),
                                 (("", "urine osmolality"), "mosmol/kg")])  # fmt: skip
        when = t0 + rng.choice([-24 * H, -24 * H - S, 48 * H, 48 * H + S, 0 * H, 2 * H])
        ex.lab(pid, when, code, rng.choice(["270", "___", "580"]), unit)
    for _ in range(rng.choice([0, 1, 1, 2, 3])):
        _medication(ex, pid, t0)
    for _ in range(rng.choice([0, 0, 1, 2, 3])):
        _diagnosis(ex, pid, t0)


def _glucoses(ex: Extract, pid: str, when: pd.Timestamp, specimen: str) -> None:
    """Glucose of the same specimen, near, at one distance either side, or two at one time."""
    rng = ex.rng

    def add(at: pd.Timestamp, specimen: str = "") -> None:
        ex.lab(pid, at, rng.choice(GLUCOSE_CODES), *rng.choice(GLUCOSE), specimen, "final")

    shape = rng.choice(["specimen", "near", "tie_distance", "tie_time", "specimen_and_nearer"])
    if shape in ("specimen", "specimen_and_nearer") and specimen:
        add(when, specimen)
        if shape == "specimen_and_nearer":
            add(when + rng.choice([-M, M, 0 * M]))
    elif shape == "tie_distance":
        apart = rng.choice([30 * M, 60 * M, 61 * M])
        add(when - apart)
        add(when + apart)
    else:
        at = when + rng.choice([0 * M, 30 * M, 59 * M, 60 * M, 60 * M + S, 61 * M]) * rng.choice(
            [1, -1]
        )
        add(at)
        if shape == "tie_time":
            add(at)


def _cofactors(ex: Extract, pid: str, t0: pd.Timestamp) -> None:
    rng = ex.rng
    offsets = [0 * H, 23 * H + 59 * M, 24 * H, 24 * H + S, 25 * H, 6 * H]
    for _ in range(rng.choice([1, 2, 3, 4])):
        (loinc, unit), values = rng.choice(list(COFACTORS.items()))
        when = t0 + rng.choice(offsets) * rng.choice([1, -1])
        ex.lab(pid, when, (loinc, ""), rng.choice(values), unit, status="final")
        if loinc in ("17861-6", "2000-8") and rng.random() < 0.8:
            for _ in range(rng.choice([1, 1, 2])):
                apart = rng.choice([0 * H, 12 * H, 24 * H, 24 * H + S, 2 * H]) * rng.choice([1, -1])
                ex.lab(pid, when + apart, ("1751-7", ""), *rng.choice(ALBUMIN), status="final")


def _medication(ex: Extract, pid: str, t0: pd.Timestamp) -> None:
    rng = ex.rng
    start = t0 + rng.choice(
        [0 * S, S, -S, -10 * D, -29 * D, -30 * D, -30 * D - S, -30 * D + S, -100 * D]
    )
    ends = [None, None, t0, t0 - 7 * D, t0 - 7 * D - S, t0 - 7 * D + S, t0 - 6 * D, t0 + 5 * D]
    end = rng.choice([*ends, start - H, start - S, start])  # also ending before it starts
    row = {"drug_name": "", "rxnorm": "", "atc": ""} | rng.choice(DRUGS)
    times = {"start_time": ex.text(start), "end_time": ex.text(end)}
    ex.meds.append({"patient_id": pid, **row, **times, "status": rng.choice(MED_STATUS)})


def _diagnosis(ex: Extract, pid: str, t0: pd.Timestamp) -> None:
    rng = ex.rng
    code, system = rng.choice(DIAGNOSES)
    offsets = [
        0 * S,
        S,
        -S,
        -1800 * D,
        -30 * D,
        -30 * D - S,
        30 * D,
        30 * D + S,
        2 * D,
        10 * D,
        -3 * D,
    ]
    when = ex.text(t0 + rng.choice(offsets))
    row = {
        "code": code,
        "code_system": system,
        "recorded_time": when,
        "status": rng.choice(DX_STATUS),
    }
    ex.diags.append({"patient_id": pid, **row})


def write_extract(folder: Path, seed: int, patients: int | None = None, **fixed: str) -> dict:
    """Write labs/medications/diagnoses CSVs (and site.yaml for a zone) into folder/input; return
    the run's settings: window_start (a site-local day), tz, profile, factor, mapping path or
    None. `fixed` sets any of tz, window_start, profile, factor instead of drawing it."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    tz = fixed.get("tz") or rng.choice(list(DAYS))
    day = fixed.get("window_start") or rng.choice(DAYS[tz])
    profile = fixed.get("profile") or rng.choice(["seed"] * 4 + ["eu2014"])
    factor = fixed.get("factor") or rng.choice(["1.6"] * 5 + ["2.4"])
    ws = pd.Timestamp(day).tz_localize(tz).tz_convert("UTC")
    we = (pd.Timestamp(day) + D).tz_localize(tz).tz_convert("UTC")
    ex = Extract(rng, tz)
    for n in range(patients or rng.randint(3, 7)):
        _patient(ex, f"P{seed % 1000:03d}{n:02d}", day, ws, we)
    rng.shuffle(ex.labs)
    data = folder / "input"
    data.mkdir(parents=True, exist_ok=True)
    tables = {"labs": (ex.labs, LAB_COLUMNS), "medications": (ex.meds, MED_COLUMNS)}
    tables["diagnoses"] = (ex.diags, DX_COLUMNS)
    for name, (rows, columns) in tables.items():
        pd.DataFrame(rows, columns=columns.split()).to_csv(data / f"{name}.csv", index=False)
    mapping = None
    if tz != "UTC":
        mapping = folder / "site.yaml"
        mapping.write_text(f"site: fuzz\ntimezone: {tz}\n")
    return {"window_start": day, "tz": tz, "profile": profile, "factor": factor, "mapping": mapping}
