"""Generate a synthetic canonical extract (spec §1) of a given size, for benchmarks.

The generator is vectorized (numpy + pyarrow, no Python loop per row) and deterministic: the
same ``--seed`` and ``--lab-rows`` always give the same tables. It writes ``labs``,
``medications``, ``diagnoses`` and ``patients`` as Parquet (``labs.parquet`` …) or as CSV with
ISO-8601 times (``labs.csv`` …).

Shape of the data (roughly, at any size):

* one patient per 20 lab rows, each with a stay somewhere in 2026-10-01 .. 2026-11-21; lab rows
  come in specimens (panels drawn together: chemistry, electrolytes, blood gas, CBC, …) so a
  sodium usually has a glucose of the same specimen or close in time;
* ~30 % sodium rows (mostly LOINC 2951-2), ~8 % of them hyponatremic (110-134 mmol/L, from
  ~10 % "hyponatremia-prone" patients who recover over their stay), ~30 % other analytes of
  spec §2 and ~40 % LOINCs the screen ignores (718-7, 2160-0, 6690-2, …);
* dirt: ~1 % non-numeric or censored value strings (``HEMOLYZED``, ``___``, ``<2.5``), padded
  values, a few bad units, implausible sodium, entered-in-error/cancelled status, missing
  patient ids and exact duplicate rows;
* ~2 medications per patient, half of them listed drugs written as a site would ("Furosemide
  40mg tab", "Lasix", "Lisinopril-HCTZ 20-12.5mg") and half unlisted ("metformin 500mg");
* ~2 diagnoses per patient (K74.60, I50.9, N18.3, E22.2, R25.2, … and unrelated E11.9, I10).

Usage::

    python bench/generate.py --lab-rows 1000000 --out bench/data/1m [--format parquet|csv|both]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

DEFAULT_SEED = 20261121
ROWS_PER_PATIENT = 20
PERIOD_START = np.datetime64("2026-10-01T00:00:00", "s")
PERIOD_END = np.datetime64("2026-11-21T00:00:00", "s")
DAY = 86_400
TABLE_NAMES = ("labs", "medications", "diagnoses", "patients")

# LOINC -> (lab_name, specimen_type, unit, mean, sd, decimals)
LABS_CATALOG: dict[str, tuple[str, str, str, float, float, int]] = {
    "2951-2": ("Sodium, serum", "serum", "mmol/L", 140.0, 2.0, 0),
    "2947-0": ("Sodium, whole blood", "blood", "mmol/L", 140.0, 2.0, 0),
    "32717-1": ("Sodium, arterial", "arterial blood", "mmol/L", 140.0, 2.0, 0),
    "39791-9": ("Sodium, venous", "venous blood", "mmol/L", 140.0, 2.0, 0),
    "2345-7": ("Glucose, serum", "serum", "mg/dL", 105.0, 18.0, 0),
    "2339-0": ("Glucose, blood", "blood", "mg/dL", 105.0, 18.0, 0),
    "41653-7": ("Glucose, POC", "capillary blood", "mg/dL", 110.0, 25.0, 0),
    "2823-3": ("Potassium, serum", "serum", "mmol/L", 4.1, 0.4, 1),
    "6298-4": ("Potassium, blood", "blood", "mmol/L", 4.1, 0.4, 1),
    "32713-0": ("Potassium, arterial", "arterial blood", "mmol/L", 4.1, 0.4, 1),
    "19123-9": ("Magnesium, serum", "serum", "mg/dL", 2.0, 0.25, 1),
    "2601-3": ("Magnesium, serum (molar)", "serum", "mmol/L", 0.82, 0.1, 2),
    "17861-6": ("Calcium, total", "serum", "mg/dL", 9.0, 0.6, 1),
    "2000-8": ("Calcium, total (molar)", "serum", "mmol/L", 2.25, 0.15, 2),
    "1994-3": ("Calcium, ionized", "arterial blood", "mmol/L", 1.18, 0.07, 2),
    "12180-6": ("Calcium, ionized (serum)", "serum", "mmol/L", 1.18, 0.07, 2),
    "1751-7": ("Albumin", "serum", "g/dL", 3.6, 0.6, 1),
    "2692-2": ("Osmolality, serum", "serum", "mOsm/kg", 288.0, 10.0, 0),
    "2695-5": ("Osmolality, urine", "urine", "mOsm/kg", 450.0, 180.0, 0),
    "2955-3": ("Sodium, urine", "urine", "mmol/L", 60.0, 30.0, 0),
    "3084-1": ("Uric acid", "serum", "mg/dL", 5.5, 1.5, 1),
    "3016-3": ("TSH", "serum", "m[IU]/L", 2.0, 1.2, 2),
    "2143-6": ("Cortisol", "serum", "ug/dL", 14.0, 5.0, 1),
    # not relevant to the screen
    "718-7": ("Hemoglobin", "blood", "g/dL", 12.5, 1.8, 1),
    "6690-2": ("WBC", "blood", "10*3/uL", 8.0, 2.5, 1),
    "777-3": ("Platelets", "blood", "10*3/uL", 250.0, 60.0, 0),
    "789-8": ("RBC", "blood", "10*6/uL", 4.5, 0.5, 2),
    "2160-0": ("Creatinine", "serum", "mg/dL", 1.0, 0.3, 2),
    "2075-0": ("Chloride", "serum", "mmol/L", 102.0, 3.0, 0),
    "1963-8": ("Bicarbonate", "serum", "mmol/L", 25.0, 2.5, 0),
    "3094-0": ("BUN", "serum", "mg/dL", 15.0, 5.0, 0),
    "1742-6": ("ALT", "serum", "U/L", 30.0, 12.0, 0),
    "1920-8": ("AST", "serum", "U/L", 28.0, 10.0, 0),
    "6768-6": ("Alkaline phosphatase", "serum", "U/L", 80.0, 25.0, 0),
    "5902-2": ("PT", "plasma", "s", 12.5, 1.5, 1),
    "6301-6": ("INR", "plasma", "{INR}", 1.1, 0.2, 2),
}
SODIUM_LOINCS = ("2951-2", "2947-0", "32717-1", "39791-9")
GLUCOSE_LOINCS = ("2345-7", "2339-0", "41653-7")
IRRELEVANT_LOINCS = (
    "718-7", "6690-2", "777-3", "789-8", "2160-0", "2075-0", "1963-8", "3094-0", "1742-6",
    "1920-8", "6768-6", "5902-2", "6301-6",
)  # fmt: skip

# Panels drawn as one specimen: (weight, LOINCs). Weights give ~30 % sodium, ~40 % irrelevant.
PANELS: tuple[tuple[float, tuple[str, ...]], ...] = (
    (0.25, ("2951-2", "2823-3", "2345-7", "2075-0", "1963-8", "3094-0", "2160-0")),
    (0.06, ("2951-2", "2823-3", "19123-9", "17861-6", "1751-7")),
    (0.62, ("2951-2",)),
    (0.25, ("2951-2", "2345-7")),
    (0.03, ("32717-1", "32713-0", "1994-3", "2339-0")),
    (0.02, ("39791-9", "6298-4", "2339-0")),
    (0.01, ("2947-0", "2339-0")),
    (0.13, ("718-7", "6690-2", "777-3", "789-8")),
    (0.04, ("1742-6", "1920-8", "6768-6", "1751-7")),
    (0.06, ("41653-7",)),
    (0.03, ("2692-2", "2951-2")),
    (0.02, ("2695-5", "2955-3")),
    (0.01, ("3084-1", "3016-3", "2143-6")),
    (0.01, ("2601-3", "2000-8", "12180-6")),
    (0.04, ("5902-2", "6301-6")),
)

# drug as written, RxNorm ingredient, ATC, route, listed (for the weights only)
DRUG_CATALOG: tuple[tuple[str, str | None, str | None, str, bool], ...] = (
    ("Furosemide 40mg tab", "4603", "C03CA01", "oral", True),
    ("Lasix", "4603", "C03CA01", "oral", True),
    ("furosemide 20 mg/2 mL injection", "4603", "C03CA01", "IV", True),
    ("Bumetanide 1 MG Oral Tablet", "1808", "C03CA02", "oral", True),
    ("torsemide 20mg", "38413", "C03CA04", "oral", True),
    ("Hydrochlorothiazide 25 MG Oral Tablet", "5487", "C03AA03", "oral", True),
    ("HCTZ 12.5mg", "5487", "C03AA03", "oral", True),
    ("Lisinopril-HCTZ 20-12.5mg", None, "C09BA03", "oral", True),
    ("lisinopril-hydrochlorothiazide", None, "C09BA03", "oral", True),
    ("Chlorthalidone 25 mg", "2409", "C03BA04", "oral", True),
    ("indapamide 2.5mg", "5764", "C03BA11", "oral", True),
    ("Metolazone 5 mg", "6916", "C03BA08", "oral", True),
    ("Spironolactone 25mg", "9997", "C03DA01", "oral", True),
    ("Aldactone 50 mg", "9997", "C03DA01", "oral", True),
    ("triamterene-hydrochlorothiazide 37.5-25 mg", None, "C03EA01", "oral", True),
    ("Dyazide", None, "C03EA01", "oral", True),
    ("eplerenone 25 mg", "298869", "C03DA04", "oral", True),
    ("amiloride 5mg", "644", "C03DB01", "oral", True),
    ("sertraline 50 mg", "36437", "N06AB06", "oral", True),
    ("Zoloft 100mg", "36437", "N06AB06", "oral", True),
    ("Fluoxetine 20 mg cap", "4493", "N06AB03", "oral", True),
    ("citalopram 20mg", "2556", "N06AB04", "oral", True),
    ("Escitalopram 10 MG", "321988", "N06AB10", "oral", True),
    ("paroxetine 20mg", "32937", "N06AB05", "oral", True),
    ("Venlafaxine ER 75mg", "39786", "N06AX16", "oral", True),
    ("desvenlafaxine 50 mg", "734064", "N06AX23", "oral", True),
    ("Duloxetine 60 mg", "72625", "N06AX21", "oral", True),
    ("mirtazapine 15mg", "15996", "N06AX11", "oral", True),
    ("Amitriptyline 25 mg", "704", "N06AA09", "oral", True),
    ("Carbamazepine 200 mg", "2002", "N03AF01", "oral", True),
    ("Tegretol XR 400mg", "2002", "N03AF01", "oral", True),
    ("oxcarbazepine 300mg", "32624", "N03AF02", "oral", True),
    ("Divalproex sodium DR 500 mg", None, "N03AG01", "oral", True),
    ("valproic acid 250mg", "11118", "N03AG01", "oral", True),
    ("Lamotrigine 100mg", "28439", "N03AX09", "oral", True),
    ("Haloperidol 5 mg", "5093", "N05AD01", "oral", True),
    ("quetiapine 25mg", "51272", "N05AH04", "oral", True),
    ("Seroquel", "51272", "N05AH04", "oral", True),
    ("olanzapine 5 mg", "61381", "N05AH03", "oral", True),
    ("risperidone 1mg", "35636", "N05AX08", "oral", True),
    ("aripiprazole 10 mg", "89013", "N05AX12", "oral", True),
    ("metformin 500mg", "6809", "A10BA02", "oral", False),
    ("atorvastatin", "83367", "C10AA05", "oral", False),
    ("Atorvastatin 40 MG Oral Tablet", "83367", "C10AA05", "oral", False),
    ("lisinopril 10 mg", "29046", "C09AA03", "oral", False),
    ("amlodipine 5mg", "17767", "C08CA01", "oral", False),
    ("Metoprolol succinate ER 50 mg", "6918", "C07AB02", "oral", False),
    ("omeprazole 20mg", "7646", "A02BC01", "oral", False),
    ("pantoprazole 40 mg", "40790", "A02BC02", "oral", False),
    ("insulin glargine 100 unit/mL", "274783", "A10AE04", "subcutaneous", False),
    ("enoxaparin 40 mg", "67108", "B01AB05", "subcutaneous", False),
    ("apixaban 5 mg", "1364430", "B01AF02", "oral", False),
    ("acetaminophen 500 mg", "161", "N02BE01", "oral", False),
    ("gabapentin 300mg", "25480", "N03AX12", "oral", False),
    ("bupropion XL 150 mg", "42347", "N06AX12", "oral", False),
    ("trazodone 50mg", "10737", "N06AX05", "oral", False),
    ("lithium carbonate 300 mg", "42351", "N05AN01", "oral", False),
    ("Potassium chloride 20 mEq", "8591", "A12BA01", "oral", False),
    ("tramadol 50mg", "10689", "N02AX02", "oral", False),
    ("hydroxyzine 25 mg", "5553", "N05BB01", "oral", False),
)
LISTED_DRUG_SHARE = 0.5

# code, code_system, weight
DIAGNOSIS_CATALOG: tuple[tuple[str, str, float], ...] = (
    ("K74.60", "ICD-10-CM", 0.05),
    ("K70.30", "ICD-10-CM", 0.02),
    ("K76.6", "ICD-10-CM", 0.01),
    ("I50.9", "ICD-10-CM", 0.08),
    ("I11.0", "ICD-10-CM", 0.02),
    ("N18.3", "ICD-10-CM", 0.06),
    ("N18.4", "ICD-10-CM", 0.02),
    ("E22.2", "ICD-10-CM", 0.03),
    ("R25.2", "ICD-10-CM", 0.04),
    ("F10.20", "ICD-10-CM", 0.03),
    ("E43", "ICD-10-CM", 0.01),
    ("571.5", "ICD-9-CM", 0.01),
    ("428.0", "ICD-9-CM", 0.01),
    ("19943007", "SNOMED", 0.01),
    ("E11.9", "ICD-10-CM", 0.16),
    ("I10", "ICD-10-CM", 0.20),
    ("J18.9", "ICD-10-CM", 0.06),
    ("E78.5", "ICD-10-CM", 0.10),
    ("Z79.4", "ICD-10-CM", 0.04),
    ("M54.50", "ICD-10-CM", 0.04),
)
FIRST_NAMES = (
    "Ada", "Ben", "Carla", "Dev", "Elif", "Femi", "Gus", "Hana", "Ivo", "June",
    "Kai", "Lena", "Milo", "Nora", "Omar", "Pia", "Quinn", "Rosa", "Sami", "Tove",
)  # fmt: skip
LAST_NAMES = (
    "ALVES", "BAKER", "CHEN", "DIAZ", "EKSTROM", "FOLEY", "GARCIA", "HOLM", "IVERSEN",
    "JONES", "KOVAC", "LINDQVIST", "MORENO", "NGUYEN", "OKAFOR", "PATEL", "QUINTERO",
    "ROSSI", "SATO", "TANAKA",
)  # fmt: skip
WARDS = ("4 West", "5 East", "ICU", "CCU", "Renal", "Oncology", "Geriatrics", "ED Obs")


def choose_weighted(
    rng: np.random.Generator, n: int, weights: np.ndarray | list[float]
) -> np.ndarray:
    """Return ``n`` indices drawn with the given (unnormalized) weights."""
    w = np.asarray(weights, dtype=float)
    return rng.choice(len(w), size=n, p=w / w.sum())


def take_strings(values: list[str | None] | tuple[str | None, ...], idx: np.ndarray) -> pa.Array:
    """Return an Arrow string array ``values[idx]`` (vectorized lookup)."""
    return pa.array(values, type=pa.string()).take(pa.array(idx))


def format_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Return ids such as ``P0000042`` for an integer array."""
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def to_timestamps(seconds: np.ndarray) -> pa.Array:
    """Return a ``timestamp[us]`` array from epoch seconds (NaN/negative sentinel -> null)."""
    mask = ~np.isfinite(seconds)
    as_int = np.where(mask, 0, seconds).astype("int64") * 1_000_000
    return pa.array(as_int, type=pa.timestamp("us"), mask=mask)


def format_numbers(values: np.ndarray, decimals: np.ndarray) -> pa.Array:
    """Return value strings rounded per row to ``decimals`` (shortest representation)."""
    scale = 10.0**decimals
    rounded = np.round(values * scale) / scale
    return pc.cast(pa.array(rounded), pa.string())


def epoch_seconds(moment: np.datetime64) -> int:
    """Return seconds since the Unix epoch of a ``datetime64``."""
    return int(moment.astype("datetime64[s]").astype("int64"))


def generate_patients(rng: np.random.Generator, n_patients: int) -> dict[str, np.ndarray]:
    """Return per-patient latent attributes: stay, sodium profile, diabetes."""
    start = epoch_seconds(PERIOD_START)
    end = epoch_seconds(PERIOD_END)
    stay_days = np.clip(1.0 + rng.exponential(5.0, n_patients), 1.0, 30.0)
    admit = rng.uniform(start, end - DAY, n_patients)
    discharge = np.minimum(admit + stay_days * DAY, end - 60)
    hypo = rng.random(n_patients) < 0.10
    nadir = np.where(hypo, np.clip(132.0 - rng.exponential(6.0, n_patients), 110.0, 133.0), 0.0)
    baseline = np.where(hypo, nadir, rng.normal(140.0, 1.8, n_patients))
    recovery = np.where(hypo, rng.uniform(0.0, 2.5, n_patients), 0.0)  # mmol/L per day
    return {
        "admit": admit,
        "discharge": discharge,
        "hypo": hypo,
        "baseline": baseline,
        "recovery": recovery,
        "diabetic": rng.random(n_patients) < 0.15,
    }


def expand_panels(rng: np.random.Generator, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (draw index, LOINC index) per lab row: specimens of panels cut to ``n_rows``."""
    weights = np.array([w for w, _ in PANELS])
    lengths = np.array([len(codes) for _, codes in PANELS])
    loinc_keys = list(LABS_CATALOG)
    flat = np.array([loinc_keys.index(c) for _, codes in PANELS for c in codes])
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    mean_len = float((weights / weights.sum()) @ lengths)
    n_draws = int(n_rows / mean_len * 1.05) + 16
    panel = choose_weighted(rng, n_draws, weights)
    draw_len = lengths[panel]
    draw_of_row = np.repeat(np.arange(n_draws), draw_len)[:n_rows]
    starts = np.concatenate([[0], np.cumsum(draw_len)[:-1]])
    position = np.arange(len(draw_of_row)) - starts[draw_of_row]
    return draw_of_row, flat[offsets[panel[draw_of_row]] + position]


def simulate_values(
    rng: np.random.Generator,
    loinc_idx: np.ndarray,
    patient: np.ndarray,
    days_in: np.ndarray,
    people: dict[str, np.ndarray],
) -> np.ndarray:
    """Return one numeric result per lab row in the catalog's unit."""
    codes = list(LABS_CATALOG)
    means = np.array([LABS_CATALOG[c][3] for c in codes])
    sds = np.array([LABS_CATALOG[c][4] for c in codes])
    values = np.abs(means[loinc_idx] + sds[loinc_idx] * rng.standard_normal(len(loinc_idx)))
    hypo = people["hypo"][patient]

    is_na = np.isin(loinc_idx, [codes.index(c) for c in SODIUM_LOINCS])
    sodium = people["baseline"][patient] + people["recovery"][patient] * days_in
    sodium = np.where(hypo, np.minimum(sodium, 141.0), sodium)
    sodium = np.clip(sodium + rng.normal(0.0, 1.5, len(sodium)), 108.0, 152.0)
    values = np.where(is_na, sodium, values)

    is_glu = np.isin(loinc_idx, [codes.index(c) for c in GLUCOSE_LOINCS])
    high = people["diabetic"][patient] & (rng.random(len(values)) < 0.6)
    glucose = np.where(high, np.minimum(170.0 + rng.exponential(120.0, len(values)), 900.0), values)
    values = np.where(is_glu, glucose, values)

    for code, shift in (("2823-3", -0.5), ("6298-4", -0.5), ("19123-9", -0.25)):
        values = np.where((loinc_idx == codes.index(code)) & hypo, values + shift, values)
    return values


def add_lab_dirt(
    rng: np.random.Generator, value_raw: pa.Array, unit: pa.Array, status: pa.Array
) -> tuple[pa.Array, pa.Array]:
    """Return (value_raw, unit) with non-numeric, censored, padded and bad-unit rows mixed in."""
    n = len(value_raw)
    draw = rng.random(n)
    words = ("HEMOLYZED", "___", "See Comments", "cancelled", "", "QNS")
    word = take_strings(words, rng.integers(0, len(words), n))
    signs = ("<", ">", "<=", "LESS THAN ")
    censored = pc.binary_join_element_wise(
        take_strings(signs, rng.integers(0, len(signs), n)), value_raw, ""
    )
    padded = pc.binary_join_element_wise(" ", value_raw, " ", "")
    value_raw = pc.if_else(pa.array(draw < 0.008), word, value_raw)
    value_raw = pc.if_else(pa.array((draw >= 0.008) & (draw < 0.010)), censored, value_raw)
    value_raw = pc.if_else(pa.array((draw >= 0.010) & (draw < 0.015)), padded, value_raw)
    bad_units = ("mg/L", "%", "g/L", "")
    bad = take_strings(bad_units, rng.integers(0, len(bad_units), n))
    unit = pc.if_else(pa.array(rng.random(n) < 0.002), bad, unit)
    return value_raw, unit


def build_labs(rng: np.random.Generator, n_rows: int, people: dict[str, np.ndarray]) -> pa.Table:
    """Return the ``labs`` table with ``n_rows`` rows."""
    codes = list(LABS_CATALOG)
    draw_of_row, loinc_idx = expand_panels(rng, n_rows)
    n_draws = int(draw_of_row[-1]) + 1
    n_patients = len(people["admit"])
    draw_patient = rng.integers(0, n_patients, n_draws)
    draw_time = rng.uniform(people["admit"][draw_patient], people["discharge"][draw_patient])
    draw_time = np.floor(draw_time / 60.0) * 60.0
    order = np.argsort(draw_time, kind="stable")  # extracts come roughly in time order
    rank = np.empty(n_draws, dtype=np.int64)
    rank[order] = np.arange(n_draws)
    sort_rows = np.argsort(rank[draw_of_row], kind="stable")
    draw_of_row, loinc_idx = draw_of_row[sort_rows], loinc_idx[sort_rows]

    patient = draw_patient[draw_of_row]
    spec_time = draw_time[draw_of_row]
    days_in = (spec_time - people["admit"][patient]) / DAY
    values = simulate_values(rng, loinc_idx, patient, days_in, people)

    unit_idx = np.zeros(n_rows, dtype=np.int64)  # 0: catalog unit, 1: mEq/L, 2: mmol/L, 3: g/L
    is_na = np.isin(loinc_idx, [codes.index(c) for c in SODIUM_LOINCS])
    unit_idx[is_na & (rng.random(n_rows) < 0.15)] = 1
    glu_mol = (loinc_idx == codes.index("2345-7")) & (rng.random(n_rows) < 0.05)
    unit_idx[glu_mol] = 2
    values = np.where(glu_mol, values / 18.016, values)
    alb_gl = (loinc_idx == codes.index("1751-7")) & (rng.random(n_rows) < 0.05)
    unit_idx[alb_gl] = 3
    values = np.where(alb_gl, values * 10.0, values)
    implausible = is_na & (rng.random(n_rows) < 0.0003)
    values = np.where(implausible, values * 10.0, values)
    decimals = np.array([LABS_CATALOG[c][5] for c in codes])[loinc_idx]
    decimals = np.where(glu_mol, 1, np.where(alb_gl, 0, decimals))

    catalog_unit = take_strings([LABS_CATALOG[c][2] for c in codes], loinc_idx)
    alt_unit = take_strings([None, "mEq/L", "mmol/L", "g/L"], unit_idx)
    unit = pc.if_else(pa.array(unit_idx > 0), alt_unit, catalog_unit)
    statuses = ("final", "corrected", "preliminary", "entered-in-error", "cancelled")
    status = take_strings(statuses, choose_weighted(rng, n_rows, [0.96, 0.02, 0.015, 0.003, 0.002]))
    value_raw, unit = add_lab_dirt(rng, format_numbers(values, decimals), unit, status)

    patient_id = format_ids("P", patient, 7)
    patient_id = pc.if_else(pa.array(rng.random(n_rows) < 0.0001), pa.nulls(n_rows, pa.string()),
                            patient_id)  # fmt: skip
    result_time = spec_time + np.floor(rng.uniform(20, 240, n_rows)) * 60.0
    table = pa.table(
        {
            "patient_id": patient_id,
            "encounter_id": format_ids("E", patient, 7),
            "specimen_id": format_ids("S", draw_of_row, 9),
            "specimen_time": to_timestamps(spec_time),
            "result_time": to_timestamps(result_time),
            "loinc": take_strings(codes, loinc_idx),
            "lab_name": take_strings([LABS_CATALOG[c][0] for c in codes], loinc_idx),
            "value_raw": value_raw,
            "unit": unit,
            "status": status,
            "specimen_type": take_strings([LABS_CATALOG[c][1] for c in codes], loinc_idx),
        }
    )
    return insert_duplicates(rng, table, share=0.003)


def insert_duplicates(rng: np.random.Generator, table: pa.Table, share: float) -> pa.Table:
    """Return ``table`` where a ``share`` of rows is replaced by an exact copy of the row before."""
    n = table.num_rows
    source = np.arange(n)
    dup = np.flatnonzero(rng.random(n) < share)
    dup = dup[dup > 0]
    source[dup] = dup - 1
    return table.take(pa.array(source))


def build_medications(rng: np.random.Generator, people: dict[str, np.ndarray]) -> pa.Table:
    """Return the ``medications`` table, ~2 records per patient."""
    n_patients = len(people["admit"])
    n = 2 * n_patients
    patient = rng.integers(0, n_patients, n)
    listed = np.array([d[4] for d in DRUG_CATALOG])
    weights = np.where(
        listed, LISTED_DRUG_SHARE / listed.sum(), (1 - LISTED_DRUG_SHARE) / (~listed).sum()
    )
    drug = choose_weighted(rng, n, weights)
    admit = people["admit"][patient]
    stay = people["discharge"][patient] - admit
    chronic = rng.random(n) < 0.6
    start = np.where(
        chronic, admit - rng.uniform(0, 400, n) * DAY, admit + rng.uniform(-2 * DAY, stay)
    )
    start = np.floor(start / 60.0) * 60.0
    statuses = ("active", "completed", "stopped", "on-hold", "entered-in-error", "cancelled")
    status_idx = choose_weighted(rng, n, [0.55, 0.2, 0.15, 0.08, 0.01, 0.01])
    ended = np.isin(status_idx, [1, 2]) & (rng.random(n) < 0.8)
    ended |= (status_idx == 0) & (rng.random(n) < 0.1)
    end = np.where(ended, start + np.floor(rng.uniform(1, 60, n)) * DAY, np.nan)
    keep_codes = rng.random(n) < 0.7
    rxnorm = take_strings([d[1] for d in DRUG_CATALOG], drug)
    atc = take_strings([d[2] for d in DRUG_CATALOG], drug)
    return pa.table(
        {
            "patient_id": format_ids("P", patient, 7),
            "drug_name": take_strings([d[0] for d in DRUG_CATALOG], drug),
            "rxnorm": pc.if_else(pa.array(keep_codes), rxnorm, pa.nulls(n, pa.string())),
            "atc": pc.if_else(pa.array(keep_codes), atc, pa.nulls(n, pa.string())),
            "start_time": to_timestamps(start),
            "end_time": to_timestamps(end),
            "status": take_strings(statuses, status_idx),
            "route": take_strings([d[3] for d in DRUG_CATALOG], drug),
        }
    )


def build_diagnoses(rng: np.random.Generator, people: dict[str, np.ndarray]) -> pa.Table:
    """Return the ``diagnoses`` table, ~2 records per patient."""
    n_patients = len(people["admit"])
    n = 2 * n_patients
    patient = rng.integers(0, n_patients, n)
    which = choose_weighted(rng, n, [d[2] for d in DIAGNOSIS_CATALOG])
    code = take_strings([d[0] for d in DIAGNOSIS_CATALOG], which)
    undotted = pc.replace_substring(code, ".", "")
    code = pc.if_else(pa.array(rng.random(n) < 0.2), undotted, code)
    admit = people["admit"][patient]
    stay = people["discharge"][patient] - admit
    history = rng.random(n) < 0.8
    recorded = np.where(
        history, admit - rng.uniform(0, 1000, n) * DAY, admit + rng.uniform(0, stay + 3 * DAY)
    )
    statuses = ("active", "confirmed", "resolved", "inactive", "refuted", "entered-in-error")
    status_idx = choose_weighted(rng, n, [0.86, 0.04, 0.06, 0.02, 0.01, 0.01])
    return pa.table(
        {
            "patient_id": format_ids("P", patient, 7),
            "code": code,
            "code_system": take_strings([d[1] for d in DIAGNOSIS_CATALOG], which),
            "recorded_time": to_timestamps(np.floor(recorded / 60.0) * 60.0),
            "status": take_strings(statuses, status_idx),
        }
    )


def build_patients(rng: np.random.Generator, n_patients: int) -> pa.Table:
    """Return the ``patients`` table (one row per patient)."""
    ids = np.arange(n_patients)
    last = take_strings(LAST_NAMES, rng.integers(0, len(LAST_NAMES), n_patients))
    first = take_strings(FIRST_NAMES, rng.integers(0, len(FIRST_NAMES), n_patients))
    return pa.table(
        {
            "patient_id": format_ids("P", ids, 7),
            "mrn": format_ids("MRN", 10_000_000 + rng.permutation(n_patients), 8),
            "name": pc.binary_join_element_wise(last, first, ", "),
            "unit": take_strings(WARDS, rng.integers(0, len(WARDS), n_patients)),
        }
    )


def generate_tables(lab_rows: int, seed: int = DEFAULT_SEED) -> dict[str, pa.Table]:
    """Return the four canonical tables for ``lab_rows`` lab rows (deterministic per seed)."""
    if lab_rows < 1:
        raise ValueError("lab_rows must be >= 1")
    rng = np.random.default_rng(seed)
    n_patients = max(1, lab_rows // ROWS_PER_PATIENT)
    people = generate_patients(rng, n_patients)
    return {
        "labs": build_labs(rng, lab_rows, people),
        "medications": build_medications(rng, people),
        "diagnoses": build_diagnoses(rng, people),
        "patients": build_patients(rng, n_patients),
    }


def to_iso_text(table: pa.Table) -> pa.Table:
    """Return ``table`` with timestamp columns as ISO-8601 text (``2026-11-01T08:30:00``)."""
    columns = []
    for field in table.schema:
        column = table[field.name]
        if pa.types.is_timestamp(field.type):
            seconds = pc.cast(column, pa.timestamp("s"))  # %S would print microseconds
            column = pc.strftime(seconds, format="%Y-%m-%dT%H:%M:%S")
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def write_tables(tables: dict[str, pa.Table], out: Path, fmt: str) -> list[Path]:
    """Write the tables to ``out`` as ``<name>.parquet`` or ``<name>.csv``; return the paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, table in tables.items():
        if fmt == "parquet":
            path = out / f"{name}.parquet"
            pq.write_table(table, path, compression="snappy")
        elif fmt == "csv":
            path = out / f"{name}.csv"
            pacsv.write_csv(to_iso_text(table), path)
        else:
            raise ValueError(f"unknown format {fmt!r}")
        paths.append(path)
    return paths


def describe_tables(tables: dict[str, pa.Table]) -> dict[str, Any]:
    """Return row counts and a few shares of the labs table, for a quick sanity check."""
    labs = tables["labs"]
    loinc = labs["loinc"]
    is_na = pc.is_in(loinc, value_set=pa.array(SODIUM_LOINCS))
    irrelevant = pc.is_in(loinc, value_set=pa.array(IRRELEVANT_LOINCS))
    na_raw = pc.filter(labs["value_raw"], is_na)
    numeric = pc.match_substring_regex(na_raw, r"^\d+(\.\d+)?$")
    na_num = pc.cast(pc.filter(na_raw, numeric), pa.float64())
    n = labs.num_rows
    return {
        "rows": {name: t.num_rows for name, t in tables.items()},
        "sodium_share": round(pc.sum(is_na).as_py() / n, 4),
        "irrelevant_share": round(pc.sum(irrelevant).as_py() / n, 4),
        "sodium_low_share": round(pc.mean(pc.less_equal(na_num, 134)).as_py(), 4),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Return the command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lab-rows", type=int, required=True, help="number of lab rows")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--format", choices=("parquet", "csv", "both"), default="parquet")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Generate the tables and write them; print a one-line JSON summary."""
    args = parse_args(argv)
    started = time.perf_counter()
    tables = generate_tables(args.lab_rows, args.seed)
    generated = time.perf_counter() - started
    formats = ("parquet", "csv") if args.format == "both" else (args.format,)
    for fmt in formats:
        write_tables(tables, args.out, fmt)
    summary = describe_tables(tables) | {
        "seed": args.seed,
        "formats": list(formats),
        "generate_s": round(generated, 2),
        "total_s": round(time.perf_counter() - started, 2),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
