"""The synthetic extract's vocabulary: the period, the lab catalog (LOINC, name, specimen,
unit, mean, spread), the panels drawn as one specimen, the drugs as sites write them, the
diagnosis codes, and the small vectorized helpers the table builders share."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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
