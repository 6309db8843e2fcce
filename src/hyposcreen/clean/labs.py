"""Lab rows to buckets (spec §3): values parsed, units converted, problems and duplicates found.

pandas at the edges: the frame's text columns are encoded as codes of their distinct values;
each distinct text is interpreted once (result text -> number and censoring, unit -> its key,
status -> its key), and the rows are judged in the engine against the rule tables
(clean.lab_sql). The cleaned frame keeps the input's rows, order and columns, and adds
value_canonical, value_num, censored, bucket and reason. The number as read before any unit is
not kept on every row: the few quarantined rows that need it read it again
(report.quarantine, with `read_numbers`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa

from hyposcreen.clean.buckets import (
    DUPLICATE,
    QUARANTINED,
    USED,
    malformed_reasons,
    patient_codes,
    specimen_ids,
)
from hyposcreen.clean.lab_sql import JUDGE_SQL, OPTIONAL, PROBLEMS, duplicates_sql
from hyposcreen.ingest.clock_folds import second_marks
from hyposcreen.ingest.values import decimal_comma_text, parse_values
from hyposcreen.rules import sql_engine as engine
from hyposcreen.rules.loader import RuleSet, normalize_unit
from hyposcreen.rules.tables import analyte_table, status_table, unit_factor_table
from hyposcreen.site_words import status_key

_TEXT = pa.large_string()


def value_texts(texts: list[str], decimal: str) -> tuple[pa.Table, np.ndarray]:
    """Each distinct result text: its number and censoring operator (ingest.values), as a
    table by code, and the operators as an array by code with '' after the last (null text)."""
    text = pd.Series(texts, dtype="str")
    if decimal == ",":
        text = decimal_comma_text(text)
    numeric, censor = parse_values(text, pd.Series(np.nan, index=text.index))
    table = pa.table(
        {
            "code": pa.array(np.arange(len(texts), dtype="int32")),
            "raw": pa.array(texts, type=_TEXT),
            "numeric": pa.array(numeric.to_numpy(dtype="float64"), from_pandas=True),
            "censor": pa.array(censor.tolist(), type=_TEXT),
        }
    )
    return table, np.array([*censor.tolist(), ""], dtype=object)


def read_numbers(rows: pd.DataFrame, decimal: str) -> np.ndarray:
    """The number each of `rows` (cleaned labs) reads as before any unit, as `clean_labs`
    reads it (`value_texts`, else the source's parsed `value`); NaN where none."""
    text = rows["value_raw"]
    if decimal == ",":
        text = decimal_comma_text(text)
    value = rows["value"] if "value" in rows.columns else pd.Series(np.nan, index=rows.index)
    numeric, _ = parse_values(text, value)
    return numeric.to_numpy(dtype="float64", na_value=np.nan)


def _text_keys(texts: list[str], key_of: Callable[[str], str | None]) -> pa.Table:
    """code -> the key of a distinct text, and the text itself (raw)."""
    table = engine.mapping_table(texts, [key_of(t) for t in texts], _TEXT)
    return table.append_column("raw", pa.array(texts, type=_TEXT))


def clean_labs(frame: pd.DataFrame, rules: RuleSet, decimal: str = ".") -> pd.DataFrame:
    """Labs with bucket, reason, value (canonical units) and censor flag for every row.

    `decimal` is the site's decimal separator (site mapping csv.decimal): with "," the parsed
    number is also put in `value`, so the data contract reads the row as numeric."""
    out = frame.copy(deep=False)  # copy on write: the caller's frame is never changed
    if "analyte" not in out.columns:  # no data row reached the selector (empty or all malformed)
        out["analyte"] = pd.Series(None, index=out.index, dtype="str")
    length = len(out)
    malformed = malformed_reasons(out)
    patient, no_patient, patient_code = patient_codes(out["patient_id"])
    value_codes, value_distinct = engine.encode(out["value_raw"])
    values, censor_by_code = value_texts(value_distinct, decimal)
    coded = {c: engine.encode(out[c]) for c in ("analyte", "unit", "status")}
    texts = {
        "value_texts": values,
        "analyte_texts": _text_keys(coded["analyte"][1], lambda a: a),
        "unit_texts": _text_keys(coded["unit"][1], normalize_unit),
        "status_texts": _text_keys(coded["status"][1], status_key),
    }
    kind, kinds = engine.combine_codes(
        *((coded[c][0], len(coded[c][1])) for c in ("analyte", "unit"))
    )
    rows = {
        "malformed": pa.array(malformed.notna().to_numpy()),
        "no_key": pa.array(no_patient | out["specimen_time"].isna().to_numpy()),
        "value": engine.float_array(out["value"]),
        "value_raw": pa.array(value_codes),
        "kind": pa.array(kind),
        "status": pa.array(coded["status"][0]),
    }
    texts["kinds"] = pa.table(
        {
            "kind": pa.array(np.arange(len(kinds), dtype="int64")),
            "analyte": pa.array(kinds[:, 0].astype("int32")),
            "unit": pa.array(kinds[:, 1].astype("int32")),
        }
    )
    rules_tables = {
        "analytes": analyte_table(rules),
        "unit_factors": unit_factor_table(rules),
        "statuses": status_table(rules),
    }
    judged = engine.query(
        JUDGE_SQL,
        {"rows": engine.row_table(rows, length), **texts, **rules_tables},
        {"excluded": "lab_excluded"},
    )
    problem = engine.in_row_order(judged, "problem", length, fill=0)
    canonical = engine.in_row_order(judged, "canonical", length)
    used = problem == 0
    if "specimen_id" in out.columns:
        out["specimen_id"] = specimen_ids(out["specimen_id"], used)
    duplicate = duplicate_rows(out, patient_code, canonical, used, value_codes, coded, texts)

    reason = np.array([np.nan, *PROBLEMS[1:]], dtype=object)[problem.astype("int64")]
    given = malformed.notna().to_numpy()
    reason[given] = malformed.to_numpy()[given]
    reason[duplicate] = DUPLICATE
    numeric = pd.Series(engine.in_row_order(judged, "numeric", length), index=out.index)
    if decimal == ",":
        out["value"] = out["value"].where(out["value"].notna(), numeric)
    out["patient_id"] = patient
    out["value_canonical"] = pd.Series(canonical, index=out.index)
    out["value_num"] = pd.Series(np.where(used, canonical, np.nan), index=out.index)
    out["censored"] = pd.Series(censor_by_code[value_codes], index=out.index, dtype=object)
    bucket = np.where(used, 0, 1)
    bucket[duplicate] = 2
    out["bucket"] = engine.texts_by_code((USED, QUARANTINED, DUPLICATE), bucket, out.index)
    out["reason"] = pd.Series(reason, index=out.index, dtype=object)
    return out


def duplicate_rows(
    labs: pd.DataFrame,
    patient: np.ndarray,
    canonical: np.ndarray,
    used: np.ndarray,
    value_codes: np.ndarray,
    coded: dict[str, tuple[np.ndarray, list[str]]],
    texts: dict[str, pa.Table],
) -> np.ndarray:
    """Spec §3 exact duplicates among the used rows: True for every row but one of each
    (patient, analyte, time, value) group; the one kept is chosen by content (lab_sql)."""
    present = [c for c in OPTIONAL if c in labs.columns]
    columns = {
        "used": pa.array(used),
        "patient_id": pa.array(patient),
        "analyte": pa.array(coded["analyte"][0]),
        "specimen_time": pa.array(labs["specimen_time"]),
        "canonical": pa.array(canonical, from_pandas=True),
        "value_raw": pa.array(value_codes),
        "unit": pa.array(coded["unit"][0]),
    }
    for name in present:
        column = labs[name]
        columns[name] = engine.text_array(column) if name == "specimen_id" else pa.array(column)
    second = second_marks(labs, "specimen_time")
    folded = second is not None
    if second is not None:  # the same wall time twice, an hour apart, is not a duplicate
        columns["fold"] = pa.array(second)
    candidates = engine.row_table(columns, len(labs))
    found = engine.query(duplicates_sql(present, folded), {"candidates": candidates, **texts})
    duplicate = np.zeros(len(labs), dtype=bool)
    duplicate[found.column(engine.ROW).to_numpy()] = True
    return duplicate
