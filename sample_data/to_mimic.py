"""Convert a canonical extract (sample_data/canonical/) into the MIMIC-IV `hosp` layout.

    python sample_data/to_mimic.py OUT_DIR [--input DIR] [--gzip]

Writes hosp/{labevents, d_labitems, prescriptions, diagnoses_icd, admissions, patients}.csv
(.csv.gz with --gzip) with MIMIC-IV column names. It behaves like the MIMIC-IV export, so the
MIMIC run must list the same cases as the canonical one:
- subject_id is the number of the canonical id (P007 -> 7).
- Lab LOINCs become MIMIC-IV item ids (sodium 50983, blood-gas sodium 50824, urine sodium
  51100, ...). Rows without LOINC get local item ids whose d_labitems label and fluid identify
  them (a "Sodium" measured in urine is item 59998, fluid Urine); the unknown LOINC of the
  sample becomes an item whose label is no analyte ("Sodium, research assay").
- MIMIC-IV has no status columns: entered-in-error rows are not exported, and a stopped or
  completed prescription without stop time gets stoptime = start + 30 days (spec §6).
- Diagnoses carry no time in MIMIC-IV: each one gets its own admission whose admittime is the
  canonical recorded_time (the adapter dates codes at admittime). ICD codes lose their dots.
All data are invented (see sample_data/README.md).
"""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from hyposcreen.rules.loader import load_rules

ROOT = Path(__file__).resolve().parent
CANONICAL = ROOT / "canonical"
ITEMS = {  # LOINC -> (itemid, label, fluid, category)
    "2951-2": ("50983", "Sodium", "Blood", "Chemistry"),
    "2947-0": ("50824", "Sodium, Whole Blood", "Blood", "Blood Gas"),
    "39791-9": ("50824", "Sodium, Whole Blood", "Blood", "Blood Gas"),
    "2345-7": ("50931", "Glucose", "Blood", "Chemistry"),
    "41653-7": ("50809", "Glucose", "Blood", "Blood Gas"),
    "2823-3": ("50971", "Potassium", "Blood", "Chemistry"),
    "19123-9": ("50960", "Magnesium", "Blood", "Chemistry"),
    "2601-3": ("50960", "Magnesium", "Blood", "Chemistry"),
    "17861-6": ("50893", "Calcium, Total", "Blood", "Chemistry"),
    "1994-3": ("50808", "Free Calcium", "Blood", "Blood Gas"),
    "1751-7": ("50862", "Albumin", "Blood", "Chemistry"),
    "2692-2": ("50964", "Osmolality, Measured", "Blood", "Chemistry"),
    "2695-5": ("51093", "Osmolality, Urine", "Urine", "Chemistry"),
    "2955-3": ("51100", "Sodium, Urine", "Urine", "Chemistry"),
}
UNKNOWN_ITEM = ("59999", "Sodium, research assay", "Blood", "Chemistry")
NAMED_ITEMS = {  # (lab name, urine?) of rows without LOINC -> local item
    ("sodium", True): ("59998", "Sodium", "Urine", "Chemistry"),
    ("sodium", False): ("59997", "Sodium", "Blood", "Chemistry"),
    ("potassium", False): ("59996", "Potassium", "Blood", "Chemistry"),
}
MEQ_ITEMS = {"50983", "50824", "51100", "50971", "59996", "59997", "59998"}  # Na, K: mEq/L
ATC_NAMES = {"C03EA": "Amiloride-Hydrochlorothiazide", "C03EB": "Amiloride-Furosemide"}


def subject_id(patient_id: str) -> str:
    digits = "".join(ch for ch in str(patient_id) if ch.isdigit())
    return str(int(digits)) if digits else ""


def _mimic_time(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return ""


def _read(folder: Path, name: str) -> pd.DataFrame:
    path = folder / f"{name}.csv"
    return pd.read_csv(path, dtype=str, keep_default_na=False) if path.is_file() else pd.DataFrame()


def _item_of(lab: dict[str, str]) -> tuple[str, str, str, str]:
    if lab["loinc"]:
        urine = "urine" in lab["specimen_type"].lower()
        if urine and ITEMS.get(lab["loinc"], ("",))[0] in ("50983", "50824"):
            return ITEMS["2955-3"]
        return ITEMS.get(lab["loinc"], UNKNOWN_ITEM)
    key = (lab["lab_name"].strip().lower(), "urine" in lab["specimen_type"].lower())
    return NAMED_ITEMS[key]


def _labevents(labs: pd.DataFrame, excluded: set[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows, items, specimens = [], {}, {}
    for number, lab in enumerate(labs.to_dict("records"), start=1):
        if lab["status"].strip().lower() in excluded:
            continue
        item = _item_of(lab)
        items[item[0]] = item
        specimen = specimens.setdefault(lab["specimen_id"], str(90000 + len(specimens)))
        value = lab["value_raw"]
        numeric = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
        rows.append(
            {
                "labevent_id": str(number),
                "subject_id": subject_id(lab["patient_id"]),
                "hadm_id": "",
                "specimen_id": specimen,
                "itemid": item[0],
                "order_provider_id": "",
                "charttime": _mimic_time(lab["specimen_time"]),
                "storetime": _mimic_time(lab["result_time"]),
                "value": value,
                "valuenum": "" if pd.isna(numeric) else value.strip(),
                "valueuom": "mEq/L"
                if item[0] in MEQ_ITEMS and lab["unit"] == "mmol/L"
                else lab["unit"],
                "ref_range_lower": "",
                "ref_range_upper": "",
                "flag": "",
                "priority": "ROUTINE",
                "comments": "",
            }
        )
    dictionary = pd.DataFrame(
        sorted(items.values()), columns=["itemid", "label", "fluid", "category"]
    )
    return pd.DataFrame(rows), dictionary


def _drug_of(med: dict[str, str]) -> str:
    if med["drug_name"]:
        return med["drug_name"]
    rules = load_rules()
    for entry in rules.ingredients.values():
        if (med["rxnorm"] and entry.rxnorm == med["rxnorm"]) or med["atc"] == entry.atc:
            return entry.name.capitalize()
    return next((n for p, n in ATC_NAMES.items() if med["atc"].startswith(p)), med["atc"])


def _prescriptions(meds: pd.DataFrame, excluded: set[str]) -> pd.DataFrame:
    rows = []
    for med in meds.to_dict("records"):
        status = med["status"].strip().lower()
        if status in excluded:
            continue
        stop = _mimic_time(med["end_time"])
        if not stop and status in ("stopped", "completed"):
            start = datetime.fromisoformat(med["start_time"])
            stop = (start + timedelta(days=30)).strftime("%Y-%m-%d %H:%M:%S")
        rows.append(
            {
                "subject_id": subject_id(med["patient_id"]),
                "hadm_id": "",
                "pharmacy_id": str(len(rows) + 1),
                "starttime": _mimic_time(med["start_time"]),
                "stoptime": stop,
                "drug_type": "MAIN",
                "drug": _drug_of(med),
                "gsn": "",
                "ndc": "0",
                "prod_strength": "",
                "route": "PO" if med["route"] == "oral" else med["route"],
            }
        )
    return pd.DataFrame(rows)


def _diagnoses(diagnoses: pd.DataFrame, excluded: set[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    codes, admissions = [], []
    for number, dx in enumerate(diagnoses.to_dict("records"), start=1):
        if dx["status"].strip().lower() in excluded:
            continue
        hadm = str(30_000_000 + number)
        admit = datetime.fromisoformat(dx["recorded_time"])
        admissions.append(
            {
                "subject_id": subject_id(dx["patient_id"]),
                "hadm_id": hadm,
                "admittime": admit.strftime("%Y-%m-%d %H:%M:%S"),
                "dischtime": (admit + timedelta(days=3)).strftime("%Y-%m-%d %H:%M:%S"),
                "admission_type": "EW EMER.",
            }
        )
        codes.append(
            {
                "subject_id": subject_id(dx["patient_id"]),
                "hadm_id": hadm,
                "seq_num": "1",
                "icd_code": dx["code"].replace(".", ""),
                "icd_version": "9" if dx["code_system"] == "ICD-9-CM" else "10",
            }
        )
    return pd.DataFrame(codes), pd.DataFrame(admissions)


def _patients(patients: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "subject_id": patients["patient_id"].map(subject_id),
            "gender": patients["sex"],
            "anchor_age": "60",
            "anchor_year": "2026",
            "anchor_year_group": "2017 - 2019",
            "dod": "",
        }
    )


def convert(out_dir: Path, canonical_dir: Path = CANONICAL, *, gzip: bool = False) -> list[Path]:
    """Write the MIMIC-IV hosp tables of `canonical_dir` under `out_dir/hosp/`."""
    rules = load_rules()
    labevents, d_labitems = _labevents(
        _read(canonical_dir, "labs"), set(rules.statuses["lab_excluded"])
    )
    diagnoses_icd, admissions = _diagnoses(
        _read(canonical_dir, "diagnoses"), set(rules.statuses["diagnosis_excluded"])
    )
    tables = {
        "labevents": labevents,
        "d_labitems": d_labitems,
        "prescriptions": _prescriptions(
            _read(canonical_dir, "medications"), set(rules.statuses["medication_excluded"])
        ),
        "diagnoses_icd": diagnoses_icd,
        "admissions": admissions,
        "patients": _patients(_read(canonical_dir, "patients")),
    }
    hosp = out_dir / "hosp"
    hosp.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in tables.items():
        path = hosp / (f"{name}.csv.gz" if gzip else f"{name}.csv")
        frame.to_csv(path, index=False, lineterminator="\n")
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--input", type=Path, default=CANONICAL)
    parser.add_argument("--gzip", action="store_true")
    args = parser.parse_args()
    for path in convert(args.out, args.input, gzip=args.gzip):
        print(path)


if __name__ == "__main__":
    main()
