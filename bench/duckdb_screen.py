"""The DuckDB baseline: the core of the screen written as one SQL query over the same files.

This is what the Python pipeline's speed is compared to. It reads the canonical files
(``labs``, ``medications`` as Parquet, or CSV with ISO times) written by ``bench/generate.py``
and does the core work of spec §2, §4, §5 (profile ``seed``) and the medication part of §6:

1. sodium rows by LOINC (2951-2, 2947-0, 32717-1, 39791-9; never a urine specimen) with
   ``specimen_time`` in ``[window_start, window_end)``, status not entered-in-error/cancelled,
   unit mmol/L or mEq/L, value parsed as ``TRY_CAST(trim(value_raw) AS DOUBLE)`` (censored
   ``<N``/``>N``/``LESS THAN N`` read as N), plausible 80-200 mmol/L;
2. glucose correction: the glucose of the same specimen, else the nearest glucose of the
   patient within ±60 min (ties: the earlier; two ASOF joins, backward and forward), only
   glucose dated before ``window_end``; ``Na + 1.6 × (glucose − 100) / 100`` when glucose
   > 100 mg/dL (mmol/L × 18.016);
3. hyponatremia = corrected ≤ 135; severity severe < 120, moderate ≤ 125, else mild;
4. index = the lowest corrected sodium per patient (ties: earliest) — one case per patient;
5. exposure: medications active at the index time (``start ≤ index ≤ end + 7 days``; null end
   = ongoing, or ``start + 30 days`` when stopped/completed; entered-in-error, cancelled and
   not-done ignored) whose lower-cased ``drug_name`` matches a listed ingredient or synonym as a
   whole word (one RE2 pattern per class built from ``src/hyposcreen/rules``).

It produces one row per case with its sorted list of drug classes. Conditions, electrolyte
co-factors, serial results, tiers and reports are not part of the baseline.

Usage::

    python bench/duckdb_screen.py --input bench/data/1m-parquet \\
        --window-start 2026-11-01T00:00:00 --window-end 2026-11-21T00:00:00 [--json]
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

RULES_DIR = Path(__file__).resolve().parents[1] / "src" / "hyposcreen" / "rules"
SODIUM_LOINCS = ("2951-2", "2947-0", "32717-1", "39791-9")
GLUCOSE_LOINCS = ("2345-7", "2339-0", "41653-7")
LAB_STATUS_IGNORED = ("entered-in-error", "entered in error", "cancelled", "canceled")
MED_STATUS_IGNORED = (*LAB_STATUS_IGNORED, "not-done", "not done")
MED_STATUS_ENDED = ("stopped", "completed")
TIME_COLUMNS = {
    "labs": ("specimen_time", "result_time"),
    "medications": ("start_time", "end_time"),
}


def load_class_patterns(rules_dir: Path = RULES_DIR) -> dict[str, str]:
    """Return {drug_class: RE2 whole-word pattern of its ingredients and synonyms}."""
    terms: dict[str, set[str]] = defaultdict(set)
    class_of: dict[str, str] = {}
    with (rules_dir / "drug_ingredients.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            ingredient = row["ingredient"].strip().lower()
            class_of[ingredient] = row["drug_class"].strip()
            terms[class_of[ingredient]].add(ingredient)
    with (rules_dir / "drug_synonyms.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            for ingredient in row["ingredients"].split(";"):
                drug_class = class_of.get(ingredient.strip().lower())
                if drug_class:
                    terms[drug_class].add(row["synonym"].strip().lower())
    return {
        drug_class: r"\b(?:" + "|".join(re.escape(t) for t in sorted(words)) + r")\b"
        for drug_class, words in sorted(terms.items())
    }


def quote_sql(text: str) -> str:
    """Return ``text`` as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def format_in_list(values: tuple[str, ...]) -> str:
    """Return ``('a', 'b')`` for a SQL ``IN``."""
    return "(" + ", ".join(quote_sql(v) for v in values) + ")"


def format_timestamp(moment: str) -> str:
    """Return a SQL TIMESTAMP literal for an ISO-8601 string (validated)."""
    return f"TIMESTAMP '{datetime.fromisoformat(moment).isoformat(sep=' ')}'"


def find_table_source(data_dir: Path, table: str) -> str:
    """Return the SQL relation reading ``table`` from ``data_dir`` (Parquet, else CSV)."""
    parquet = data_dir / f"{table}.parquet"
    if parquet.exists():
        return f"read_parquet({quote_sql(str(parquet))})"
    text = data_dir / f"{table}.csv"
    if not text.exists():
        raise FileNotFoundError(f"neither {parquet} nor {text} exists")
    casts = ", ".join(f"TRY_CAST({c} AS TIMESTAMP) AS {c}" for c in TIME_COLUMNS[table])
    reader = f"read_csv({quote_sql(str(text))}, header = true, all_varchar = true)"
    return f"(SELECT * REPLACE ({casts}) FROM {reader})"  # noqa: S608 (quoted path)


def build_screen_sql(data_dir: Path, window_start: str, window_end: str) -> str:
    """Return the core-screen query (one row per case, ordered by patient_id)."""
    labs = find_table_source(data_dir, "labs")
    meds = find_table_source(data_dir, "medications")
    ws, we = format_timestamp(window_start), format_timestamp(window_end)
    class_cases = ",\n                ".join(
        f"CASE WHEN regexp_matches(drug, {quote_sql(pattern)}) THEN {quote_sql(name)} END"
        for name, pattern in load_class_patterns().items()
    )
    censored = r"^(?:<=|>=|<|>|LESS THAN|GREATER THAN)\s*([0-9]+(?:\.[0-9]+)?)$"
    return f"""
    WITH lab_rows AS (
        SELECT patient_id, specimen_id, specimen_time, loinc, lower(trim(unit)) AS unit_l,
               coalesce(
                   TRY_CAST(trim(value_raw) AS DOUBLE),
                   TRY_CAST(regexp_extract(upper(trim(value_raw)), {quote_sql(censored)}, 1)
                            AS DOUBLE)
               ) AS val
        FROM {labs}
        WHERE loinc IN {format_in_list(SODIUM_LOINCS + GLUCOSE_LOINCS)}
          AND patient_id IS NOT NULL AND trim(patient_id) <> ''
          AND specimen_time >= {ws} - INTERVAL 60 MINUTE AND specimen_time < {we}
          AND coalesce(lower(trim(status)), '') NOT IN {format_in_list(LAB_STATUS_IGNORED)}
          AND coalesce(lower(specimen_type), '') NOT LIKE '%urine%'
    ),
    sodium AS (
        SELECT patient_id, specimen_id, specimen_time, val AS na
        FROM lab_rows
        WHERE loinc IN {format_in_list(SODIUM_LOINCS)} AND specimen_time >= {ws}
          AND unit_l IN ('mmol/l', 'meq/l') AND val BETWEEN 80 AND 200
    ),
    glucose AS (
        SELECT patient_id, specimen_id, specimen_time,
               val * CASE unit_l WHEN 'mg/dl' THEN 1.0 ELSE 18.016 END AS glu
        FROM lab_rows
        WHERE loinc IN {format_in_list(GLUCOSE_LOINCS)} AND unit_l IN ('mg/dl', 'mmol/l')
          AND isfinite(val)
    ),
    same_specimen AS (
        SELECT patient_id, specimen_id, arg_min(glu, specimen_time) AS glu
        FROM glucose WHERE specimen_id IS NOT NULL GROUP BY ALL
    ),
    with_same AS (
        SELECT s.*, ss.glu AS glu_same
        FROM sodium s
        LEFT JOIN same_specimen ss
          ON ss.patient_id = s.patient_id AND ss.specimen_id = s.specimen_id
    ),
    with_prev AS (
        SELECT w.*, g.glu AS glu_prev, w.specimen_time - g.specimen_time AS dt_prev
        FROM with_same w ASOF LEFT JOIN glucose g
          ON g.patient_id = w.patient_id AND w.specimen_time >= g.specimen_time
    ),
    with_next AS (
        SELECT w.*, g.glu AS glu_next, g.specimen_time - w.specimen_time AS dt_next
        FROM with_prev w ASOF LEFT JOIN glucose g
          ON g.patient_id = w.patient_id AND w.specimen_time <= g.specimen_time
    ),
    paired AS (
        SELECT patient_id, specimen_time, na,
               CASE
                   WHEN glu_same IS NOT NULL THEN glu_same
                   WHEN dt_prev <= INTERVAL 60 MINUTE
                        AND (dt_next IS NULL OR dt_prev <= dt_next) THEN glu_prev
                   WHEN dt_next <= INTERVAL 60 MINUTE THEN glu_next
               END AS glu
        FROM with_next
    ),
    scored AS (
        SELECT *,
               round(CASE WHEN glu > 100 THEN na + 1.6 * (glu - 100) / 100 ELSE na END, 9)
                   AS corrected
        FROM paired
    ),
    cases AS (
        SELECT patient_id, specimen_time AS index_time, na AS index_measured, glu,
               corrected AS index_corrected,
               CASE WHEN corrected < 120 THEN 'severe'
                    WHEN corrected <= 125 THEN 'moderate'
                    ELSE 'mild' END AS severity
        FROM scored
        WHERE corrected <= 135
        QUALIFY row_number() OVER (
            PARTITION BY patient_id ORDER BY corrected, specimen_time) = 1
    ),
    meds AS (
        SELECT patient_id, lower(drug_name) AS drug, start_time,
               CASE WHEN end_time IS NOT NULL THEN end_time + INTERVAL 7 DAY
                    WHEN lower(trim(status)) IN {format_in_list(MED_STATUS_ENDED)}
                        THEN start_time + INTERVAL 30 DAY
               END AS active_until
        FROM {meds}
        WHERE drug_name IS NOT NULL
          AND coalesce(lower(trim(status)), '') NOT IN {format_in_list(MED_STATUS_IGNORED)}
    ),
    exposures AS (
        SELECT c.patient_id, m.drug
        FROM cases c JOIN meds m ON m.patient_id = c.patient_id
        WHERE m.start_time <= c.index_time
          AND (m.active_until IS NULL OR c.index_time <= m.active_until)
    ),
    classes AS (
        SELECT patient_id, unnest(list_filter([
                {class_cases}
            ], lambda x: x IS NOT NULL)) AS drug_class
        FROM exposures
    )
    SELECT c.patient_id, c.index_time, c.index_measured, round(c.glu, 1) AS glucose,
           round(c.index_corrected, 1) AS index_corrected, c.severity,
           list_sort(list_distinct(list(k.drug_class))) AS drug_classes
    FROM cases c LEFT JOIN classes k USING (patient_id)
    GROUP BY ALL
    ORDER BY c.patient_id
    """  # noqa: S608 (identifiers, rules terms and validated timestamps, all quoted)


def run_core_screen(
    data_dir: Path | str, window_start: str, window_end: str, threads: int | None = None
) -> tuple[pa.Table, float]:
    """Run the baseline; return (one row per case, seconds from connect to fetched result)."""
    sql = build_screen_sql(Path(data_dir), window_start, window_end)
    started = time.perf_counter()
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    result = con.sql(sql).to_arrow_table()
    seconds = time.perf_counter() - started
    con.close()
    return result, seconds


def duckdb_core_screen(
    data_dir: Path | str, window_start: str, window_end: str, threads: int | None = None
) -> tuple[int, float]:
    """Run the baseline core screen; return (number of cases, seconds)."""
    cases, seconds = run_core_screen(data_dir, window_start, window_end, threads)
    return cases.num_rows, seconds


def read_thread_count(threads: int | None) -> int:
    """Return the DuckDB thread count used (the default is one per core)."""
    if threads:
        return threads
    row = duckdb.connect().execute("SELECT current_setting('threads')").fetchone()
    return int(row[0]) if row else 0


def summarize_cases(cases: pa.Table) -> dict[str, object]:
    """Return counts by severity and by drug class, to compare with the pipeline's output."""
    severity = pc.value_counts(cases["severity"]).to_pylist()
    classes = pc.value_counts(pc.list_flatten(cases["drug_classes"])).to_pylist()
    with_class = pc.sum(pc.greater(pc.list_value_length(cases["drug_classes"]), 0)).as_py()
    return {
        "n_cases": cases.num_rows,
        "by_severity": {d["values"]: d["counts"] for d in sorted(severity, key=str)},
        "by_drug_class": {d["values"]: d["counts"] for d in sorted(classes, key=str)},
        "cases_with_drug_class": with_class or 0,
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Return the command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, required=True, help="directory of canonical files")
    parser.add_argument("--window-start", default="2026-11-01T00:00:00")
    parser.add_argument("--window-end", default="2026-11-21T00:00:00")
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads (default all)")
    parser.add_argument("--cases-out", type=Path, default=None, help="write the cases as CSV")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the baseline once and print its timing and case counts."""
    args = parse_args(argv)
    cases, seconds = run_core_screen(args.input, args.window_start, args.window_end, args.threads)
    summary = {
        "seconds": round(seconds, 4),
        "threads": read_thread_count(args.threads),
        "duckdb_version": duckdb.__version__,
    } | summarize_cases(cases)
    if args.cases_out:
        args.cases_out.parent.mkdir(parents=True, exist_ok=True)
        flat = cases.set_column(
            cases.schema.get_field_index("drug_classes"),
            "drug_classes",
            pc.binary_join(cases["drug_classes"], ";"),
        )
        duckdb.from_arrow(flat).write_csv(str(args.cases_out))
    if args.json:
        print(json.dumps(summary))
    else:
        for key, value in summary.items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
