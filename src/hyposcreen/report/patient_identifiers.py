"""The identifiers the review list shows for its cases (`mrn`, `name`, `unit`) when the site
mapping allows them, from the patients table, and the warning when a listed case's patients
rows disagree on them.

A patients extract may hold several rows for one patient (a merged record, one row per stay, a
transfer between wards). What the list shows never depends on their order in the file: each
patient is shown the fields of the row that sorts first by `mrn`, then `name`, then `unit`,
compared as text, an empty field after any value (a row with an MRN before one without). The
unit is the row's `unit`, else its `ward` (a source that calls it so). When the rows of a listed
case disagree on any of the three, the run warns (`conflicting_identifiers`, exit 4) with the
number of such cases and of their rows not shown, and `file:row` references of those rows, never
a value. Rows alike in the three fields (a row delivered twice) do not warn: whichever is shown,
the list is the same. The contracts' `duplicate_key` outcome (validation/) lists every patient
id the table repeats, listed or not.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hyposcreen.arrow_columns import is_listed
from hyposcreen.run_warnings import RunWarning

SHOWN = ("mrn", "name", "unit")
EXAMPLES = 3  # file:row references in the warning


def shown_identifiers(patients: pd.DataFrame) -> pd.DataFrame:
    """The fields shown for each patient (indexed by patient_id; '' for none), each patient's
    row chosen as the module docstring says."""
    fields = _ordered_fields(patients)
    return fields.drop_duplicates("patient_id").set_index("patient_id")[list(SHOWN)]


def conflicting_identifiers(
    patients: pd.DataFrame, listed: pd.Series, references: bool = True
) -> list[RunWarning]:
    """The warning for the `listed` patient ids whose patients rows disagree on a shown field;
    `references`: name the rows by `file:row` (not for a source whose file names may name the
    patient, as Synthea's FHIR bundles do)."""
    fields = _ordered_fields(patients)
    fields = fields.loc[is_listed(fields["patient_id"], listed)]
    distinct = fields.drop_duplicates(["patient_id", *SHOWN])
    per_patient = distinct["patient_id"].value_counts()
    torn = per_patient.index[per_patient > 1]
    if not len(torn):
        return []
    rows = fields.loc[fields["patient_id"].isin(torn)]
    shown = rows.drop_duplicates("patient_id").set_index("patient_id")
    unlike = np.zeros(len(rows), dtype=bool)
    for column in SHOWN:
        chosen = rows["patient_id"].map(shown[column]).to_numpy(dtype=object)
        unlike |= rows[column].to_numpy(dtype=object) != chosen
    others = rows.loc[unlike]
    where = f" (e.g. {_references(others)})" if references else ""
    return [
        RunWarning(
            "conflicting_identifiers",
            f"{len(torn)} listed case(s) have patients rows that disagree on mrn, name or unit: "
            f"{len(others)} row(s) besides the one shown{where}. Each such case shows the row "
            "that sorts first by mrn, name, unit (an empty field last); check these patients' "
            "identifiers in the record before acting on them.",
        )
    ]


def _ordered_fields(patients: pd.DataFrame) -> pd.DataFrame:
    """patient_id, the shown fields as text ('' for none), source_file and source_row of each
    row with a patient id, sorted by patient, then by each shown field (an empty one last)."""
    index = patients.index
    fields: dict[str, pd.Series] = {"patient_id": patients["patient_id"]}
    for column in SHOWN:
        values = (
            patients[column] if column in patients else pd.Series(None, index=index, dtype="str")
        )
        if column == "unit" and "ward" in patients:
            values = values.where(values.notna(), patients["ward"])
        fields[column] = values.astype("str").where(values.notna(), "")
    for column in ("source_file", "source_row"):
        fields[column] = (
            patients[column] if column in patients else pd.Series("", index=index, dtype="str")
        )
    frame = pd.DataFrame(fields).loc[patients["patient_id"].notna()]
    keys = ["patient_id"]
    for column in SHOWN:
        frame[f"_{column}_empty"] = frame[column].eq("")
        keys += [f"_{column}_empty", column]
    ordered = frame.sort_values(keys, kind="stable")
    return ordered.drop(columns=[f"_{column}_empty" for column in SHOWN]).reset_index(drop=True)


def _references(rows: pd.DataFrame) -> str:
    """`file:row` of the first rows in file order (rows numbered as numbers, not as text)."""
    number = pd.to_numeric(rows["source_row"], errors="coerce")
    order = pd.DataFrame({"file": rows["source_file"].astype("str"), "row": number})
    first = order.sort_values(["file", "row"], kind="stable").index[:EXAMPLES]
    return ", ".join(
        f"{file}:{row}"
        for file, row in zip(
            rows["source_file"].loc[first].astype("str"),
            rows["source_row"].loc[first].astype("str"),
            strict=True,
        )
    )
