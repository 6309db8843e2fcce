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

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from synthetic_catalog import DEFAULT_SEED, IRRELEVANT_LOINCS, SODIUM_LOINCS
from synthetic_tables import generate_tables

__all__ = ["generate_tables", "write_tables"]


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
