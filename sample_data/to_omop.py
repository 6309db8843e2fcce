"""Convert a canonical extract (sample_data/canonical/) into OMOP CDM 5.4 tables.

    python sample_data/to_omop.py OUT_DIR [--input DIR] [--comma] [--upper] [--parquet]
                                          [--no-vocabulary]

Writes person, measurement, drug_exposure, condition_occurrence and, unless --no-vocabulary,
concept and concept_ancestor (tab-delimited .csv by default, as OMOP dumps often are). It
behaves like a plain ETL, so the OMOP run must list the same cases as the canonical one:
- person_id is the number of the canonical id (P007 -> 7); person_source_value holds the MRN.
- Rows whose status says entered-in-error are not loaded (an ETL drops them; OMOP has no
  status column for measurements). Drug status stopped/completed goes to stop_reason.
- Lab rows get the real OMOP concept of their LOINC when the shipped map has it, else a local
  concept (id >= 2,000,000,000, the OMOP range for local concepts) written to `concept`;
  without the vocabulary the LOINC stays in measurement_source_value. A sodium row taken from
  urine is loaded as urine sodium (2955-3), as a lab's own code for it would be.
- Drug records coded only by RxNorm or ATC point to an ingredient concept (or a local
  combination concept whose ancestors are the ingredients of the ATC group); names stay in
  drug_source_value. Conditions keep the code as written in condition_source_value and point
  to a local ICD concept.
All data are invented (see sample_data/README.md).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import pandas as pd

from hyposcreen.rules.loader import load_rules, load_source_map

ROOT = Path(__file__).resolve().parent
CANONICAL = ROOT / "canonical"
LOCAL = 2_000_000_000
UNITS = {"mmol/L": "8753", "mEq/L": "9557", "mg/dL": "8840", "g/dL": "8713", "g/L": "8636"}
OPERATORS = {"<": "4171756", ">": "4172704", "<=": "4171754", ">=": "4171755"}
GENDER = {"M": "8507", "F": "8532"}
URINE_SODIUM = "2955-3"
# ATC groups of spec §6 -> the listed ingredients an ETL would map the record to
ATC_PARTS = {
    "C03EA": ("hydrochlorothiazide", "amiloride"),
    "C03EB": ("furosemide", "amiloride"),
    "C07B": ("hydrochlorothiazide",),
    "C09BA": ("hydrochlorothiazide",),
    "C09DA": ("hydrochlorothiazide",),
}


def person_id(patient_id: str) -> str:
    digits = "".join(ch for ch in str(patient_id) if ch.isdigit())
    return str(int(digits)) if digits else ""


def _read(folder: Path, name: str) -> pd.DataFrame:
    path = folder / f"{name}.csv"
    if not path.is_file():
        return pd.DataFrame()
    return pd.read_csv(path, dtype=str, keep_default_na=False)


class _Concepts:
    """The concept rows the converted tables use (real ids where known, else local ones)."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, str]] = {}
        self.ancestors: set[tuple[str, str]] = set()
        self.by_key: dict[tuple[str, str], str] = {}
        for row in load_source_map("omop_concepts.csv"):
            self._add(row["concept_id"], row["vocabulary"], row["concept_code"], row["name"])

    def _add(self, concept_id: str, vocabulary: str, code: str, name: str) -> str:
        klass = "Ingredient" if vocabulary == "RxNorm" else ""
        vocab_id = "SNOMED" if vocabulary == "Meas Value Operator" else vocabulary
        self.rows[concept_id] = {
            "concept_id": concept_id,
            "concept_name": name,
            "domain_id": "",
            "vocabulary_id": vocab_id,
            "concept_class_id": klass,
            "standard_concept": "S",
            "concept_code": code,
        }
        self.by_key[(vocabulary, code)] = concept_id
        return concept_id

    def get(self, vocabulary: str, code: str, name: str) -> str:
        known = self.by_key.get((vocabulary, code))
        if known:
            return known
        return self._add(str(LOCAL + len(self.rows)), vocabulary, code, name)

    def ingredient(self, name: str, rxnorm: str) -> str:
        concept = self.get("RxNorm", rxnorm or f"local-{name}", name)
        self.ancestors.add((concept, concept))
        return concept

    def combination(self, name: str, parts: list[str]) -> str:
        concept = self.get("RxNorm", f"local-{name}", name)
        self.rows[concept]["concept_class_id"] = "Clinical Drug"
        for part in parts:
            self.ancestors.add((part, concept))
        return concept


def _measurements(labs: pd.DataFrame, concepts: _Concepts, excluded: set[str]) -> pd.DataFrame:
    rules = load_rules()
    rows = []
    for number, lab in enumerate(labs.to_dict("records"), start=1):
        if lab["status"].strip().lower() in excluded:
            continue
        loinc, name = lab["loinc"], lab["lab_name"]
        is_sodium = rules.loinc_to_analyte.get(loinc) == "sodium" or name.lower() == "sodium"
        if "urine" in lab["specimen_type"].lower() and is_sodium:
            loinc, name = URINE_SODIUM, "Sodium, urine"
        concept = concepts.get("LOINC", loinc, name) if loinc in rules.loinc_to_analyte else "0"
        value = lab["value_raw"].strip()
        operator = next((op for op in (">=", "<=", ">", "<") if value.startswith(op)), "")
        number_text = value[len(operator) :].strip()
        numeric = pd.to_numeric(pd.Series([number_text]), errors="coerce").notna().iloc[0]
        time = lab["specimen_time"]
        rows.append(
            {
                "measurement_id": str(number),
                "person_id": person_id(lab["patient_id"]),
                "measurement_concept_id": concept,
                "measurement_date": time[:10] if time[:4].isdigit() else "",
                "measurement_datetime": time,
                "measurement_type_concept_id": "32856",
                "operator_concept_id": OPERATORS.get(operator, "4172703" if numeric else ""),
                "value_as_number": number_text if numeric else "",
                "value_as_concept_id": "",
                "unit_concept_id": UNITS.get(lab["unit"], "0"),
                "range_low": "",
                "range_high": "",
                "visit_occurrence_id": person_id(lab["encounter_id"]),
                "measurement_source_value": loinc or name,
                "unit_source_value": lab["unit"],
                "value_source_value": value,
            }
        )
    return pd.DataFrame(rows)


def _drug_concept(med: dict[str, str], concepts: _Concepts) -> str:
    rules = load_rules()
    by_rxnorm = {i.rxnorm: i for i in rules.ingredients.values() if i.rxnorm}
    by_atc = {i.atc: i for i in rules.ingredients.values()}
    if med["rxnorm"] in by_rxnorm:
        return concepts.ingredient(by_rxnorm[med["rxnorm"]].name, med["rxnorm"])
    atc = med["atc"].upper()
    if atc in by_atc:
        entry = by_atc[atc]
        return concepts.ingredient(entry.name, entry.rxnorm or "")
    for prefix, names in ATC_PARTS.items():
        if atc.startswith(prefix):
            parts = [concepts.ingredient(n, rules.ingredients[n].rxnorm or "") for n in names]
            return concepts.combination(f"{' / '.join(names)} ({atc})", parts)
    return "0"


def _drug_exposures(meds: pd.DataFrame, concepts: _Concepts, excluded: set[str]) -> pd.DataFrame:
    rows = []
    for number, med in enumerate(meds.to_dict("records"), start=1):
        status = med["status"].strip().lower()
        if status in excluded:
            continue
        start, end = med["start_time"], med["end_time"]
        rows.append(
            {
                "drug_exposure_id": str(number),
                "person_id": person_id(med["patient_id"]),
                "drug_concept_id": _drug_concept(med, concepts),
                "drug_exposure_start_date": start[:10],
                "drug_exposure_start_datetime": start,
                "drug_exposure_end_date": end[:10],
                "drug_exposure_end_datetime": end,
                "verbatim_end_date": "",
                "drug_type_concept_id": "32817",
                "stop_reason": status if status in ("stopped", "completed") else "",
                "route_source_value": med["route"],
                "drug_source_value": med["drug_name"],
                "visit_occurrence_id": person_id(med["encounter_id"]),
            }
        )
    return pd.DataFrame(rows)


def _conditions(diagnoses: pd.DataFrame, concepts: _Concepts) -> pd.DataFrame:
    vocabularies = {"ICD-10-CM": "ICD10CM", "ICD-9-CM": "ICD9CM", "SNOMED": "SNOMED"}
    rows = []
    for number, dx in enumerate(diagnoses.to_dict("records"), start=1):
        vocabulary = vocabularies[dx["code_system"]]
        concept = concepts.get(vocabulary, dx["code"], dx["description"])
        snomed = vocabulary == "SNOMED"
        rows.append(
            {
                "condition_occurrence_id": str(number),
                "person_id": person_id(dx["patient_id"]),
                "condition_concept_id": concept if snomed else "0",
                "condition_start_date": dx["recorded_time"][:10],
                "condition_start_datetime": dx["recorded_time"],
                "condition_type_concept_id": "32817",
                "condition_status_source_value": dx["status"],
                "condition_source_value": dx["code"],
                "condition_source_concept_id": "0" if snomed else concept,
                "visit_occurrence_id": person_id(dx["encounter_id"]),
            }
        )
    return pd.DataFrame(rows)


def _persons(patients: pd.DataFrame) -> pd.DataFrame:
    birth = patients["birth_date"].str.split("-", expand=True)
    return pd.DataFrame(
        {
            "person_id": patients["patient_id"].map(person_id),
            "gender_concept_id": patients["sex"].map(GENDER).fillna("0"),
            "year_of_birth": birth[0],
            "month_of_birth": birth[1].str.lstrip("0"),
            "day_of_birth": birth[2].str.lstrip("0"),
            "birth_datetime": "",
            "race_concept_id": "0",
            "ethnicity_concept_id": "0",
            "person_source_value": patients["mrn"],
            "gender_source_value": patients["sex"],
        }
    )


def convert(
    out_dir: Path,
    canonical_dir: Path = CANONICAL,
    *,
    delimiter: str = "\t",
    upper: bool = False,
    parquet: bool = False,
    vocabulary: bool = True,
) -> list[Path]:
    """Write the OMOP tables of `canonical_dir` into `out_dir`; returns the files written."""
    rules = load_rules()
    concepts = _Concepts()
    tables = {
        "measurement": _measurements(
            _read(canonical_dir, "labs"), concepts, set(rules.statuses["lab_excluded"])
        ),
        "drug_exposure": _drug_exposures(
            _read(canonical_dir, "medications"),
            concepts,
            set(rules.statuses["medication_excluded"]),
        ),
        "condition_occurrence": _conditions(_read(canonical_dir, "diagnoses"), concepts),
    }
    patients = _read(canonical_dir, "patients")
    if not patients.empty:
        tables["person"] = _persons(patients)
    if vocabulary:
        tables["concept"] = pd.DataFrame(list(concepts.rows.values()))
        tables["concept_ancestor"] = pd.DataFrame(
            sorted(concepts.ancestors), columns=["ancestor_concept_id", "descendant_concept_id"]
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in tables.items():
        if upper:
            frame = frame.rename(columns=str.upper)
            name = name.upper()
        if parquet:
            path = out_dir / f"{name}.parquet"
            frame.to_parquet(path, index=False)
        else:
            path = out_dir / f"{name}.csv"
            frame.to_csv(
                path, index=False, sep=delimiter, lineterminator="\n", quoting=csv.QUOTE_MINIMAL
            )
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--input", type=Path, default=CANONICAL)
    parser.add_argument("--comma", action="store_true", help="comma- instead of tab-delimited")
    parser.add_argument("--upper", action="store_true", help="upper-case table and column names")
    parser.add_argument("--parquet", action="store_true")
    parser.add_argument("--no-vocabulary", action="store_true")
    args = parser.parse_args()
    for path in convert(
        args.out,
        args.input,
        delimiter="," if args.comma else "\t",
        upper=args.upper,
        parquet=args.parquet,
        vocabulary=not args.no_vocabulary,
    ):
        print(path)


if __name__ == "__main__":
    main()
