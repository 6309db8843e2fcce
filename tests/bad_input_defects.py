"""The bad-input corpus's defects built in code: each takes the input folder holding the
minimal valid extract and adds exactly one defect (an encoding, a layout, a damaged file, a
mapping)."""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from bad_input_rows import (
    BASE_LAB_TEXT,
    BASE_LABS,
    BASE_MEDS,
    DX_COLUMNS,
    LAB_COLUMNS,
    MED_COLUMNS,
    dx,
    glucose,
    lab,
    med,
    to_csv,
    write,
)

# ---------------------------------------------------------------- defects built in code


def latin1_drug(d: Path) -> None:
    # Legacy Windows/latin-1 extract: é is the single byte 0xE9 (invalid as UTF-8).
    rows = [*BASE_MEDS, med("Furosémide 40mg"), med("Furosemide 20mg, service médecine", "")]
    write(d, "medications.csv", to_csv(rows, MED_COLUMNS).encode("latin-1"))


def bom_header(d: Path) -> None:
    # Excel's "CSV UTF-8" export: a byte-order mark before the header and CRLF line ends
    write(d, "labs.csv", b"\xef\xbb\xbf" + BASE_LAB_TEXT.replace("\n", "\r\n").encode())


def quoted_newline(d: Path) -> None:
    rows = [*BASE_LABS, lab("See\nComments", patient_id="P2")]
    text = to_csv(rows, LAB_COLUMNS)
    assert '"See\nComments"' in text
    write(d, "labs.csv", text)


def truncated_last_line(d: Path) -> None:
    # the extract was cut off while writing the last record
    write(d, "labs.csv", BASE_LAB_TEXT + "P2,2026-11-20T09:00:00,12")


def too_many_fields(d: Path) -> None:
    write(d, "labs.csv", BASE_LAB_TEXT + "P2,2026-11-20T09:00:00,125,mmol/L,2951-2,serum,final,x\n")


def extra_columns(d: Path) -> None:
    rows = [{**r, "ward": "4B", "comment": "ok, checked", "": ""} for r in BASE_LABS]
    write(d, "labs.csv", to_csv(rows, ["comment", *LAB_COLUMNS, "ward"]))


def drop_column(column: str) -> Callable[[Path], None]:
    return lambda d: write(
        d, "labs.csv", to_csv(BASE_LABS, [c for c in LAB_COLUMNS if c != column])
    )


def renamed_patient_id(d: Path) -> None:
    rows = [{("pid" if k == "patient_id" else k): v for k, v in r.items()} for r in BASE_LABS]
    write(d, "labs.csv", to_csv(rows))


def no_analyte_identifier(d: Path) -> None:
    columns = [c for c in LAB_COLUMNS if c != "loinc"]
    write(d, "labs.csv", to_csv(BASE_LABS, columns))


def delimited(sep: str) -> Callable[[Path], None]:
    def mutate(d: Path) -> None:
        write(d, "labs.csv", to_csv(BASE_LABS, LAB_COLUMNS, sep=sep))
        write(d, "medications.csv", to_csv(BASE_MEDS, MED_COLUMNS, sep=sep))

    return mutate


def lab_name_only(d: Path) -> None:
    rows = [
        {**{k: v for k, v in r.items() if k != "loinc"}, "lab_name": name}
        for r, name in zip([*BASE_LABS, lab(patient_id="P2")], ["Sodium", "Glucose", "Zorbium"])
    ]
    write(d, "labs.csv", to_csv(rows))


def all_sodium_non_numeric(d: Path) -> None:
    values = ["HEMOLYZED", "___", "See Comments", "cancelled", ""]
    rows = [lab(v, patient_id=f"P{i}") for i, v in enumerate(values, start=1)]
    write(d, "labs.csv", to_csv([*rows, glucose()], LAB_COLUMNS))


def huge_value(d: Path) -> None:
    write(d, "labs.csv", to_csv([*BASE_LABS, lab("9" * 10 + "x" * (1 << 20))], LAB_COLUMNS))


def parquet_wrong_types(d: Path) -> None:
    (d / "labs.csv").unlink()
    table = pa.table(
        {
            "patient_id": pa.array([1001, 1001], pa.int64()),
            "specimen_time": pa.array(
                [pd.Timestamp("2026-11-20 08:00"), pd.Timestamp("2026-11-20 08:00")],
                pa.timestamp("us"),
            ),
            "value_raw": pa.array([128.0, 90.0], pa.float64()),
            "unit": ["mmol/L", "mg/dL"],
            "loinc": ["2951-2", "2345-7"],
        }
    )
    pq.write_table(table, d / "labs.parquet")
    meds = pa.table(
        {
            "patient_id": pa.array([1001], pa.int64()),
            "drug_name": ["Furosemide 40mg tab"],
            "start_time": ["2026-11-01T08:00:00"],
        }
    )
    (d / "medications.csv").unlink()
    pq.write_table(meds, d / "medications.parquet")
    write(d, "diagnoses.csv", to_csv([dx(patient_id="1001")], DX_COLUMNS))


def parquet_zoned_times(d: Path) -> None:
    (d / "labs.csv").unlink()
    berlin = pd.Timestamp("2026-11-20 08:00", tz="Europe/Berlin")  # 07:00 UTC
    frame = pd.DataFrame(BASE_LABS).assign(specimen_time=[berlin, berlin])
    frame.to_parquet(d / "labs.parquet")


def parquet_zero_rows(d: Path) -> None:
    (d / "labs.csv").unlink()
    pd.DataFrame({c: pd.Series([], dtype=str) for c in LAB_COLUMNS}).to_parquet(d / "labs.parquet")


def trailing_delimiter(d: Path) -> None:
    # every data row ends in a delimiter the header does not have: one field too many
    write(d, "labs.csv", BASE_LAB_TEXT.replace("final\n", "final,\n"))


def decimal_comma(d: Path) -> None:
    delimited(";")(d)
    rows = [*BASE_LABS, lab("128,5", patient_id="P2")]
    write(d, "labs.csv", to_csv(rows, LAB_COLUMNS, sep=";"))


def leading_zero_ids(d: Path) -> None:
    write(d, "labs.csv", to_csv([{**r, "patient_id": "007"} for r in BASE_LABS], LAB_COLUMNS))
    write(d, "medications.csv", to_csv([med(patient_id="007")], MED_COLUMNS))
    write(d, "diagnoses.csv", to_csv([dx(patient_id="007")], DX_COLUMNS))


def header_only(name: str, columns: list[str]) -> Callable[[Path], None]:
    return lambda d: write(d, name, ",".join(columns) + "\n")


def parquet_missing_column(d: Path) -> None:
    (d / "labs.csv").unlink()
    frame = pd.DataFrame(BASE_LABS).drop(columns=["unit"])
    frame.to_parquet(d / "labs.parquet")


def parquet_truncated(d: Path) -> None:
    (d / "labs.csv").unlink()
    buffer = io.BytesIO()
    pd.DataFrame(BASE_LABS).to_parquet(buffer)
    write(d, "labs.parquet", buffer.getvalue()[: len(buffer.getvalue()) // 2])


def csv_and_parquet(d: Path) -> None:
    pd.DataFrame(BASE_LABS).to_parquet(d / "labs.parquet")


def csv_and_gzip(d: Path) -> None:
    write(d, "labs.csv.gz", gzip.compress(BASE_LAB_TEXT.encode()))


def damaged_gzip() -> bytes:
    """A whole-length gzip whose compressed bytes were overwritten in the middle."""
    data = bytearray(gzip.compress((BASE_LAB_TEXT * 50).encode()))
    middle = len(data) // 2
    data[middle : middle + 16] = b"\xff" * 16
    return bytes(data)


def gzip_only(d: Path) -> None:
    (d / "labs.csv").unlink()
    write(d, "labs.csv.gz", gzip.compress(BASE_LAB_TEXT.encode()))


def fake_gzip(d: Path) -> None:
    (d / "labs.csv").unlink()
    write(d, "labs.csv.gz", BASE_LAB_TEXT)


def folder_of_parts(d: Path) -> None:
    (d / "labs.csv").unlink()
    write(d, "labs/part-0001.csv", to_csv([BASE_LABS[0]], LAB_COLUMNS))
    write(d, "labs/part-0002.csv", to_csv([BASE_LABS[1], lab("HEMOLYZED")], LAB_COLUMNS))


def empty_folder(d: Path) -> None:
    (d / "labs.csv").unlink()
    (d / "labs").mkdir()


def missing_medications(d: Path) -> None:
    (d / "medications.csv").unlink()


def duplicate_header_column(d: Path) -> None:
    write(d, "labs.csv", BASE_LAB_TEXT.replace("specimen_type,status", "unit,status", 1))


def site_yaml(text: str) -> Callable[[Path], None]:
    return lambda d: write(d, "site.yaml", text)


def future_dates(d: Path) -> None:
    # de-identification shifted every date by 124 years
    for name in ("labs.csv", "medications.csv", "diagnoses.csv"):
        write(d, name, (d / name).read_text().replace("2026-", "2150-"))
