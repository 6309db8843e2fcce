"""Derive the worked site example from the canonical sample (deterministic).

The site extract differs from the canonical layout the way real ones do: upper-case column
names, the admission id as patient key, local test codes instead of LOINC (resolved through
lab_dictionary.csv), ';' as delimiter, Latin-1 bytes and day-first local date-times.
Run: python sample_data/site_example/convert.py
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
CANONICAL = HERE.parent / "canonical"
OUT = HERE / "extract"
# LOINC -> this site's local test code (lab_dictionary.csv maps the codes to analytes)
LOCAL_CODE = {
    "2951-2": "NA-S", "2947-0": "NA-B", "39791-9": "NA-V", "32717-1": "NA-A",
    "2345-7": "GLU-S", "2339-0": "GLU-B", "41653-7": "GLU-POC", "2823-3": "K-S",
    "19123-9": "MG-S", "2601-3": "MG-SM", "17861-6": "CA-S", "1994-3": "CA-ION",
    "1751-7": "ALB-S", "2692-2": "OSMO-S", "2695-5": "OSMO-U", "2955-3": "NA-U",
}  # fmt: skip
NAME_CODE = {"sodium": "NA-S", "potassium": "K-S", "glucose": "GLU-S"}


def admission_id(patient_id: pd.Series) -> pd.Series:
    return "ADM" + patient_id.str.removeprefix("P").str.zfill(6)


def local_time(iso_text: pd.Series) -> pd.Series:
    parsed = pd.to_datetime(iso_text, format="ISO8601", errors="coerce")
    # unreadable times stay as they were, so they are quarantined here too
    return parsed.dt.strftime("%d.%m.%Y %H:%M").where(parsed.notna(), iso_text)


def convert_labs(labs: pd.DataFrame) -> pd.DataFrame:
    by_name = labs["lab_name"].str.lower().map(NAME_CODE)
    code = labs["loinc"].map(LOCAL_CODE).where(labs["loinc"].notna(), by_name)
    code = code.where(code.notna() | labs["loinc"].isna(), "X-" + labs["loinc"].fillna(""))
    return pd.DataFrame(
        {
            "ADMISSION_ID": admission_id(labs["patient_id"]),
            "SAMPLE_NO": labs["specimen_id"],
            "COLLECTED": local_time(labs["specimen_time"]),
            "TEST_CODE": code,
            "RESULT": labs["value_raw"],
            "UNITS": labs["unit"],
            "STATUS": labs["status"],
            "MATERIAL": labs["specimen_type"],
        }
    )


def convert_medications(meds: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ADMISSION_ID": admission_id(meds["patient_id"]),
            "DRUG": meds["drug_name"],
            "RXCUI": meds["rxnorm"],
            "ATC_CODE": meds["atc"],
            "START": local_time(meds["start_time"]),
            "STOP": local_time(meds["end_time"]),
            "ORDER_STATUS": meds["status"],
        }
    )


def convert_diagnoses(diagnoses: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ADMISSION_ID": admission_id(diagnoses["patient_id"]),
            "DX_CODE": diagnoses["code"],
            "CODING": diagnoses["code_system"],
            "CODED_AT": local_time(diagnoses["recorded_time"]),
            "DX_STATUS": diagnoses["status"],
        }
    )


def main() -> None:
    OUT.mkdir(exist_ok=True)
    read = {"dtype": str, "keep_default_na": False, "na_values": [""]}
    tables = {
        "LAB_RESULTS.csv": convert_labs(pd.read_csv(CANONICAL / "labs.csv", **read)),
        "MEDS.csv": convert_medications(pd.read_csv(CANONICAL / "medications.csv", **read)),
        "DIAGNOSES.csv": convert_diagnoses(pd.read_csv(CANONICAL / "diagnoses.csv", **read)),
    }
    for name, frame in tables.items():
        frame.to_csv(OUT / name, sep=";", index=False, encoding="latin-1", lineterminator="\n")


if __name__ == "__main__":
    main()
