"""Whether the medications and diagnoses of a delivery name the patients its labs name.

Risk factors reach a case only through its patient id, so a table whose ids are written
otherwise than the labs' (`000123` in one, `123` or `123.0` in another, as Excel leaves them;
an admission id in one, a patient number in the other) gives no case a risk factor, and the
list looks complete. Each table's distinct patient ids and how many of them the labs hold are
counted per run (or per patient-hash partition, where one patient's rows of every table meet,
so the counts add up); a table sharing none of its ids with the labs, judged on enough ids of
both (rules.yaml `warnings: min_rows_for_share`), warns. Counts only, never an id."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hyposcreen.rules.loader import WarningThresholds
from hyposcreen.run_warnings import RunWarning

SharedPatients = dict[str, tuple[int, int]]  # table -> (its patient ids, those the labs hold)


def distinct_ids(frame: pd.DataFrame) -> pa.Array:
    """The distinct non-empty patient ids of `frame` as text (in Arrow), in order of first
    appearance; each table's are taken once and given to the counts below."""
    column = frame["patient_id"]
    if column.dtype != "str":
        column = column.astype("str").where(column.notna())
    values = pc.unique(pa.array(column, type=pa.large_string(), from_pandas=True).drop_null())
    return values.filter(pc.not_equal(values, ""))


def shared_patients(ids: Mapping[str, pa.Array]) -> SharedPatients:
    """Per table of `ids` (distinct patient ids by table, the labs' among them): its count of
    ids and how many the labs also hold; the labs' own under "labs" (both numbers alike)."""
    lab_ids = ids["labs"]
    found = {"labs": (len(lab_ids), len(lab_ids))}
    for name, table_ids in ids.items():
        if name != "labs":
            held = pc.sum(pc.is_in(table_ids, value_set=lab_ids)).as_py() or 0
            found[name] = (len(table_ids), int(held))
    return found


def unmatched_patient_warnings(
    shared: Mapping[str, tuple[int, int]] | None, limits: WarningThresholds
) -> list[RunWarning]:
    """A warning for each table none of whose patient ids the labs hold."""
    if not shared:
        return []
    enough = max(limits.min_rows_for_share, 1)
    lab_patients = shared.get("labs", (0, 0))[0]
    if lab_patients < enough:
        return []
    return [
        RunWarning(
            "unmatched_patient_ids",
            f"none of the {patients} patient id(s) of table {name} is among the "
            f"{lab_patients} of table labs: no risk factor from {name} can reach a case. Are "
            "the ids written alike in every table (leading zeros, 123 against 123.0, a prefix, "
            "an admission id against a patient number)?",
        )
        for name, (patients, in_labs) in sorted(shared.items())
        if name != "labs" and patients >= enough and in_labs == 0
    ]


# a number as a spreadsheet shows a long one (1.23457E+11): its other digits are gone
_SCIENTIFIC = r"^[0-9](?:\.[0-9]+)?[eE]\+[0-9]{2,3}$"  # Excel, LibreOffice: 1.23457E+11, 1E+12


def scientific_count(ids: pa.Array) -> int:
    """How many of a table's distinct patient ids are written in scientific notation."""
    return int(pc.sum(scientific_ids(ids)).as_py() or 0)


def scientific_ids(ids: pa.Array) -> pa.Array:
    """Whether each patient id is written in scientific notation."""
    return pc.match_substring_regex(ids, _SCIENTIFIC)


def scientific_id_warnings(counts: Mapping[str, tuple[int, int]] | None) -> list[RunWarning]:
    """A warning for each table holding a patient id in scientific notation: a spreadsheet
    rounded a long id to its first digits, so patients whose ids share them meet as one."""
    return [
        RunWarning(
            "scientific_patient_ids",
            f"{scientific} of the {patients} patient id(s) of table {name} are written in "
            "scientific notation (1.23457E+11, as a spreadsheet shows a long number): their "
            "other digits are lost, so patients whose ids begin alike are read as one. Ask for "
            "an export that keeps the ids as text.",
        )
        for name, (patients, scientific) in sorted((counts or {}).items())
        if scientific
    ]
