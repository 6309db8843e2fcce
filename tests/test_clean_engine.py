"""The cleaning on the engine decides exactly what the pandas cleaning decided.

tests/clean_reference.py keeps the pandas implementation the engine replaced. On a dirty
generated extract (bench/generate.py at small size, made dirtier here: padded and blank
LOINCs, rows identified by lab name, urine and other-fluid specimens, same-key duplicates that
differ in censoring, specimen id, text or unit spelling, decimal commas) both must give equal
frames: every column, dtype, value, missing value and the row order; the reader's selector must
keep the same rows with the same analytes and count the same reasons and unknown values.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import clean_reference as reference
from hyposcreen import recipe
from hyposcreen.clean import clean_diagnoses, clean_labs, clean_medications
from hyposcreen.clean.labs import read_numbers
from hyposcreen.clean.selector import not_relevant_counts, select_known_analytes
from hyposcreen.config import RunSettings, parse_window
from hyposcreen.context import prepare
from hyposcreen.rules.lab_identity import identify_rows
from hyposcreen.rules.loader import load_rules
from hyposcreen.rules.matching import identify_analytes

GENERATE = Path(__file__).resolve().parents[1] / "bench" / "generate.py"
WINDOW = parse_window("2026-11-01T00:00:00", "2026-11-21T00:00:00")
RULES = load_rules(None)


def _generator():  # type: ignore[no-untyped-def]
    if str(GENERATE.parent) not in sys.path:  # the generator imports its sibling modules
        sys.path.insert(0, str(GENERATE.parent))
    spec = importlib.util.spec_from_file_location("bench_generate", GENERATE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_generate", module)
    spec.loader.exec_module(module)
    return module


def _pick(rng: np.random.Generator, n: int, share: float) -> pa.Array:
    return pa.array(rng.random(n) < share)


def _dirtier_labs(labs: pa.Table, seed: int) -> pa.Table:
    """The generated labs with the dirt the generator does not make."""
    rng = np.random.default_rng(seed)
    n = labs.num_rows
    loinc, name = labs["loinc"], labs["lab_name"]
    padded = pc.binary_join_element_wise(" ", loinc, " ", "")
    loinc = pc.if_else(_pick(rng, n, 0.02), padded, loinc)
    loinc = pc.if_else(_pick(rng, n, 0.02), pa.scalar(""), loinc)
    loinc = pc.if_else(_pick(rng, n, 0.02), pa.scalar(None, pa.string()), loinc)
    names = pa.array(["Sodium", "  SODIUM  serum", "Kalium", "Glucose, POC", "", None])
    name = pc.if_else(_pick(rng, n, 0.05), names.take(rng.integers(0, len(names), n)), name)
    fluids = pa.array(["urine", "Urine, spot", "CSF", "pleural fluid", "serum", None, "BLOOD"])
    specimen = labs["specimen_type"]
    chosen = fluids.take(rng.integers(0, len(fluids), n))
    specimen = pc.if_else(_pick(rng, n, 0.05), chosen, specimen)
    units = pa.array(["MMOL/L", "mmol / l", "mOsm/kg H2O", "meq/l", None, "µmol/L"])
    unit = pc.if_else(_pick(rng, n, 0.03), units.take(rng.integers(0, len(units), n)), labs["unit"])
    statuses = pa.array(["Entered in error", "annulé", "STORNIERT", "final ", "Cancelled"])
    status = pc.if_else(
        _pick(rng, n, 0.02), statuses.take(rng.integers(0, len(statuses), n)), labs["status"]
    )
    values = pa.array(["≤ 3.5", "GREATER THAN 200", "1e400", "-0", "0", "inf", "12,5", " 7 "])
    value = pc.if_else(
        _pick(rng, n, 0.02), values.take(rng.integers(0, len(values), n)), labs["value_raw"]
    )
    table = labs
    for column, array in (
        ("loinc", loinc),
        ("lab_name", name),
        ("specimen_type", specimen),
        ("unit", unit),
        ("status", status),
        ("value_raw", value),
    ):
        table = table.set_column(table.schema.get_field_index(column), column, array)
    return pa.concat_tables([table, _near_copies(table, rng)])


def _near_copies(labs: pa.Table, rng: np.random.Generator) -> pa.Table:
    """Rows that repeat another's (patient, analyte, time, value) but differ in what decides
    which one is used: censoring, specimen id, the value's text, the unit's spelling."""
    copies = labs.take(rng.integers(0, labs.num_rows, max(1, labs.num_rows // 50)))
    n = copies.num_rows
    value = copies["value_raw"]
    value = pc.if_else(_pick(rng, n, 0.3), pc.binary_join_element_wise("<", value, ""), value)
    value = pc.if_else(_pick(rng, n, 0.3), pc.binary_join_element_wise(value, " ", ""), value)
    specimen_id = pc.if_else(
        _pick(rng, n, 0.4), pa.scalar(None, pa.string()), copies["specimen_id"]
    )
    unit = pc.if_else(_pick(rng, n, 0.3), pc.utf8_upper(copies["unit"]), copies["unit"])
    for column, array in (("value_raw", value), ("specimen_id", specimen_id), ("unit", unit)):
        copies = copies.set_column(copies.schema.get_field_index(column), column, array)
    return copies


@pytest.fixture(scope="module", params=[("parquet", 11), ("csv", 12)], ids=["parquet", "csv"])
def extract(request, tmp_path_factory):  # type: ignore[no-untyped-def]
    """A dirty generated extract written as Parquet or CSV, and its tables as read."""
    fmt, seed = request.param
    tables = _generator().generate_tables(6_000, seed=seed)
    tables["labs"] = _dirtier_labs(tables["labs"], seed)
    folder = tmp_path_factory.mktemp(f"extract-{fmt}")
    _generator().write_tables(tables, folder, fmt)
    settings = RunSettings(input_dir=folder, out_dir=folder / "out", window=WINDOW)
    ctx = prepare(settings)
    return tables, ctx, recipe.read(ctx).tables


def test_cleaned_labs_equal_the_pandas_cleaning(extract) -> None:  # type: ignore[no-untyped-def]
    _, ctx, read = extract
    labs = read["labs"].frame
    expected = reference.clean_labs(labs, ctx.rules)
    cleaned = clean_labs(labs, ctx.rules)
    pd.testing.assert_frame_equal(_with_read(cleaned), expected, check_exact=True)
    # not vacuous: the extract has every bucket and reason the cleaning gives
    reasons = set(cleaned["reason"].dropna())
    assert {"duplicate", "non_numeric", "bad_unit", "status", "implausible"} <= reasons
    assert (cleaned["censored"] != "").sum() > 0


def test_decimal_comma_labs_equal_the_pandas_cleaning(extract) -> None:  # type: ignore[no-untyped-def]
    _, ctx, read = extract
    labs = read["labs"].frame
    commas = labs.assign(value_raw=labs["value_raw"].str.replace(".", ",", regex=False))
    expected = reference.clean_labs(commas, ctx.rules, ",")
    cleaned = _with_read(clean_labs(commas, ctx.rules, ","), ",")
    pd.testing.assert_frame_equal(cleaned, expected, check_exact=True)


def test_medications_and_diagnoses_equal_the_pandas_cleaning(extract) -> None:  # type: ignore[no-untyped-def]
    _, ctx, read = extract
    meds, matches = clean_medications(read["medications"].frame, ctx.rules, WINDOW)
    old_meds, old_matches = reference.clean_medications(
        read["medications"].frame, ctx.rules, WINDOW
    )
    pd.testing.assert_frame_equal(meds, old_meds, check_exact=True)
    pd.testing.assert_frame_equal(matches, old_matches, check_exact=True)
    diagnoses = clean_diagnoses(read["diagnoses"].frame, ctx.rules, WINDOW)
    expected = reference.clean_diagnoses(read["diagnoses"].frame, ctx.rules, WINDOW)
    pd.testing.assert_frame_equal(diagnoses, expected, check_exact=True)


def test_the_selector_keeps_and_counts_what_the_pandas_selector_did(extract) -> None:  # type: ignore[no-untyped-def]
    tables, ctx, _ = extract
    raw = tables["labs"].to_pandas(
        types_mapper={pa.string(): pd.StringDtype("pyarrow", np.nan)}.get
    )
    expected_kept, expected_dropped, expected_unknown = reference.select_labs(raw, ctx.rules)
    kept, found = select_known_analytes(raw, ctx.rules)
    dropped, unknown = not_relevant_counts(found)
    pd.testing.assert_frame_equal(kept, expected_kept, check_exact=True)
    assert list(dropped.items()) == list(expected_dropped.items())
    assert list(unknown.items()) == list(expected_unknown.items())
    assert {"unknown_loinc", "urine_specimen", "other_fluid", "no_lab_identifier"} <= set(dropped)
    analyte, reason = identify_analytes(raw, ctx.rules)
    old_analyte, old_reason = reference.identify_analytes(raw, ctx.rules)
    pd.testing.assert_series_equal(analyte, old_analyte, check_exact=True)
    pd.testing.assert_series_equal(reason, old_reason, check_exact=True)


def test_edge_rows_equal_the_pandas_cleaning() -> None:
    """Rows the generator never makes: unparseable lines, a row refused while reading, no
    analyte, no specimen id or result time columns, infinite and huge values, the source's
    number behind a placeholder text."""
    t = pd.Timestamp("2026-11-20 08:00")
    frame = pd.DataFrame(
        {
            "patient_id": pd.Series(["P1", " P1 ", "", None, "P2", "P2", "P3", "P3"], dtype="str"),
            "specimen_time": pd.Series([t, t, t, t, None, t, t, t], dtype="datetime64[us]"),
            "value_raw": pd.Series(
                ["128", "128.0", "130", "1e308", "126", "___", "inf", None], dtype="str"
            ),
            "value": [np.nan, np.nan, np.nan, np.nan, np.nan, 131.0, np.nan, np.inf],
            "unit": pd.Series(["mmol/L", "MMOL/L", "mmol/L", "mmol/L", None, "mEq/L", "", "x"]),
            "status": pd.Series(["final", "final", "final", None, "final", "final", "", "x"]),
            "analyte": pd.Series(["sodium"] * 6 + [None, "glucose"], dtype="str"),
            "malformed_text": pd.Series([None] * 6 + ["a,b", None], dtype="str"),
            "malformed_reason": pd.Series([None] * 7 + ["oversized_row"], dtype="str"),
        }
    )
    pd.testing.assert_frame_equal(
        _with_read(clean_labs(frame, RULES)), reference.clean_labs(frame, RULES), check_exact=True
    )
    empty = frame.iloc[:0].drop(columns=["analyte", "malformed_text", "malformed_reason"])
    pd.testing.assert_frame_equal(
        _with_read(clean_labs(empty, RULES)), reference.clean_labs(empty, RULES), check_exact=True
    )


def test_cleaned_labs_keep_no_number_as_read_on_every_row(extract) -> None:  # type: ignore[no-untyped-def]
    """The number as read before any unit (a float on every cleaned row) served only the few
    quarantined sodiums' warning: they read it again there (read_numbers)."""
    _, ctx, read = extract
    assert "value_read" not in clean_labs(read["labs"].frame, ctx.rules).columns


def _with_read(cleaned: pd.DataFrame, decimal: str = ".") -> pd.DataFrame:
    """The cleaned labs with the number as read (read_numbers of every row) where the
    reference cleaning keeps it: read again, it is the number the cleaning read."""
    found = cleaned.copy()
    at = found.columns.get_loc("value_canonical")
    found.insert(at, "value_read", read_numbers(found, decimal))  # type: ignore[arg-type]
    return found


def test_distinct_combinations_are_judged_once() -> None:
    """The selector's work is per distinct (LOINC, name, specimen), not per row."""
    frame = pd.DataFrame(
        {
            "loinc": pd.Series(["2951-2", "2951-2", None, "2951-2"] * 1000, dtype="str"),
            "lab_name": pd.Series(["Na", "Na", "Sodium", "Na"] * 1000, dtype="str"),
            "specimen_type": pd.Series(["serum", "serum", "urine", "urine"] * 1000, dtype="str"),
        }
    )
    found = identify_rows(frame, RULES)
    assert len(found.analyte) == 3  # (2951-2, serum), (no LOINC, Sodium, urine), (2951-2, urine)
    # a sodium in urine is urine sodium, whether known by its LOINC or by its name (spec §2)
    expected = ["sodium", "sodium", "urine_sodium", "urine_sodium"]
    assert list(found.analyte[found.combo[:4]]) == expected


def test_edge_medications_and_diagnoses_equal_the_pandas_cleaning(extract) -> None:  # type: ignore[no-untyped-def]
    """Unparseable and refused rows, blank ids and codes, unknown code systems, no times."""
    _, ctx, read = extract
    for name, time_column in (("medications", "start_time"), ("diagnoses", "recorded_time")):
        frame = read[name].frame.iloc[:60].copy()
        frame["malformed_text"] = pd.Series([None] * 60, dtype="str", index=frame.index)
        frame.loc[frame.index[:5], "malformed_text"] = "a,b,c"
        frame["malformed_reason"] = pd.Series([None] * 60, dtype="str", index=frame.index)
        frame.loc[frame.index[3:8], "malformed_reason"] = "oversized_row"
        frame.loc[frame.index[8:12], "patient_id"] = [" ", "", None, " P9 "]
        frame.loc[frame.index[12:15], time_column] = pd.NaT
        frame.loc[frame.index[15:20], "status"] = ["Entered_in_error", "", None, "résolu", "x"]
        if name == "diagnoses":
            frame.loc[frame.index[20:24], "code"] = ["", " ", None, "ZZZ"]
            frame.loc[frame.index[24:27], "code_system"] = ["nonsense", "", None]
            cleaned = clean_diagnoses(frame, ctx.rules, WINDOW)
            expected = reference.clean_diagnoses(frame, ctx.rules, WINDOW)
            pd.testing.assert_frame_equal(cleaned, expected, check_exact=True)
        else:
            cleaned, matches = clean_medications(frame, ctx.rules, WINDOW)
            old, old_matches = reference.clean_medications(frame, ctx.rules, WINDOW)
            pd.testing.assert_frame_equal(cleaned, old, check_exact=True)
            pd.testing.assert_frame_equal(matches, old_matches, check_exact=True)
        assert {"malformed_row", "oversized_row", "missing_key"} <= set(cleaned["reason"].dropna())
