"""Benchmark the hyposcreen pipeline against the DuckDB baseline (``make bench``).

For each size (``--sizes 1m,5m``) and format (``--formats parquet``):

1. make sure the synthetic data exists (``bench/generate.py``, cached in
   ``bench/data/<size>-<format>/``);
2. run the pipeline in a subprocess, ``<python> -m hyposcreen.cli run --input … --out
   bench/results/<size>-<format>``, measuring its wall time and peak RSS, and read the step
   timings of its ``run_manifest.json`` (screen time = their sum: no interpreter start-up);
3. run the DuckDB baseline (``bench/duckdb_screen.py``) in a subprocess the same way;
4. print a table and write ``bench/results/summary.json``.

Peak RSS is measured twice: the kernel high-water mark of the child (``os.wait4`` rusage,
``ru_maxrss``, exact but per process) and the sum of RSS over the child's process tree polled
with psutil every 50 ms (catches helper processes). The larger one is reported.

Pipeline and baseline runs alternate (pipeline, DuckDB, pipeline, DuckDB …) so both see the
same machine load; times are medians of the repeats.

Targets (the columnar-engine work): pipeline screen time ≤ 3 × DuckDB time; peak RSS ≤ 1.5 GB
at 20M lab rows (checked from 20M up); linear growth: 20M screen time ≤ 4.4 × the 5M time (same
format). Each run's manifest records the process high-water mark after every step
(`peak_rss_mb`); the table's footer names the step where the peak was reached.
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
import importlib.util
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench_table import (
    LINEARITY_MAX,
    RATIO_TARGET,
    RSS_TARGET_MB,
    RSS_TARGET_MIN_ROWS,
    check_linearity,
    describe_machine,
    judge_targets,
    print_table,
)
from measure import (
    BENCH_DIR,
    DATA_DIR,
    REPO_DIR,
    RESULTS_DIR,
    find_case_count,
    read_step_timings,
    read_tail,
    run_measured,
)

WINDOW_START = "2026-11-01T00:00:00"
WINDOW_END = "2026-11-21T00:00:00"
TABLE_FILES = ("labs", "medications", "diagnoses", "patients")
MARKER = ".generated.json"

# Offline Prefect settings for the runs (the CLI sets the rest itself).
PIPELINE_ENV_DEFAULTS = {
    "PREFECT_HOME": str(REPO_DIR / ".prefect"),
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_LOGGING_LEVEL": "WARNING",
}


def parse_size(text: str) -> int:
    """Return the row count of a size label: ``1m`` → 1 000 000, ``250k``, ``1.5m``, ``20000``."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"bad size {text!r} (use e.g. 1m, 500k, 20000)")
    factor = {"": 1, "k": 1_000, "m": 1_000_000}[match.group(2).lower()]
    rows = int(float(match.group(1)) * factor)
    if rows < 1:
        raise argparse.ArgumentTypeError(f"size {text!r} is empty")
    return rows


GENERATOR_FILES = ("generate.py", "synthetic_catalog.py", "synthetic_tables.py")


def hash_generator() -> str:
    """Return the SHA-256 of the generator's source files (a changed generator regenerates)."""
    digest = hashlib.sha256()
    for name in GENERATOR_FILES:
        digest.update((BENCH_DIR / name).read_bytes())
    return digest.hexdigest()


def ensure_dataset(label: str, rows: int, fmt: str, seed: int) -> tuple[Path, bool]:
    """Return (data directory, whether it was generated now); generate it when missing."""
    target = DATA_DIR / f"{label}-{fmt}"
    expected = {
        "lab_rows": rows,
        "format": fmt,
        "seed": seed,
        "generator_sha256": hash_generator(),
    }
    marker = target / MARKER
    if marker.exists():
        try:
            if json.loads(marker.read_text()) == expected:
                return target, False
        except (OSError, ValueError):
            pass
    for name in TABLE_FILES:
        (target / f"{name}.{fmt}").unlink(missing_ok=True)
    marker.unlink(missing_ok=True)
    print(f"generating {label} ({rows:,} lab rows, {fmt}) in {target} …", flush=True)
    command = [
        sys.executable,
        str(BENCH_DIR / "generate.py"),
        "--lab-rows",
        str(rows),
        "--out",
        str(target),
        "--format",
        fmt,
        "--seed",
        str(seed),
    ]
    subprocess.run(command, check=True, cwd=REPO_DIR, stdout=subprocess.DEVNULL)
    marker.write_text(json.dumps(expected))
    return target, True


def compiled_package() -> None:
    """Write the bytecode of the hyposcreen package the runs import (PYTHONPATH's, if set), as
    an installed tool has it: where the environment sets PYTHONDONTWRITEBYTECODE (this
    machine's does) every run would otherwise compile its ~220 modules anew, ~0.5 s of each
    wall and more of a short run's than of a long one's."""
    spec = importlib.util.find_spec("hyposcreen")
    if spec is not None and spec.origin is not None:
        compileall.compile_dir(Path(spec.origin).parent, quiet=1)


def build_pipeline_env() -> dict[str, str]:
    """Return the environment for the pipeline: ours plus the Makefile's Prefect defaults,
    with the package's bytecode written first (compiled_package)."""
    compiled_package()
    env = dict(os.environ)
    for key, value in PIPELINE_ENV_DEFAULTS.items():
        env.setdefault(key, value)
    return env


def run_pipeline(
    data_dir: Path, name: str, timeout_s: float, extra_args: list[str] | None = None
) -> dict[str, Any]:
    """Run the hyposcreen CLI once on ``data_dir``; return its measurements."""
    out_dir = RESULTS_DIR / name
    if out_dir.exists():
        shutil.rmtree(out_dir)  # never read a stale manifest
    command = [
        sys.executable,
        "-m",
        "hyposcreen.cli",
        "run",
        "--no-flow",  # the screen itself: no Prefect server start-up in the figures
        "--input",
        str(data_dir.relative_to(REPO_DIR)),
        "--window-start",
        WINDOW_START,
        "--window-end",
        WINDOW_END,
        "--out",
        str(out_dir.relative_to(REPO_DIR)),
        *(extra_args or []),
    ]
    run = run_measured(command, f"{name}-pipeline", timeout_s, build_pipeline_env())
    # 4: screened with warnings (the bench extract plants rows that warn), the list written
    screened = not run.timed_out and run.returncode in (0, 4)
    result: dict[str, Any] = {"process": asdict(run), "ok": screened, "exit": run.returncode}
    result |= {"wall_s": run.wall_s, "peak_rss_mb": run.peak_rss_mb}
    if not screened:
        reason = "timed out" if run.timed_out else f"exit {run.returncode}"
        result["error"] = f"hyposcreen CLI failed ({reason})"
        result["stderr_tail"] = read_tail(run.stderr_path)
        return result
    # the CLI writes the window's outputs into its own folder under --out
    found = sorted(out_dir.glob("*/run_manifest.json"))
    manifest_path = found[0] if found else out_dir / "run_manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        result |= {"ok": False, "error": f"cannot read {manifest_path}: {exc}"}
        return result
    steps = read_step_timings(manifest)
    result["steps"] = steps
    result["screen_s"] = sum(steps.values()) if steps else None
    # data contracts (GX) as a share of the run: target ≤ 15 %
    result["validation_share"] = (
        steps.get("validate", 0.0) / result["screen_s"] if result["screen_s"] else None
    )
    result["step_peak_rss_mb"] = manifest.get("peak_rss_mb") or {}
    result["n_cases"] = find_case_count(manifest)
    result["partitions"] = manifest.get("partitions", 1)
    if not steps:
        result["warning"] = "run_manifest.json has no numeric `timings`: screen time unknown"
    return result


def run_baseline(
    data_dir: Path, name: str, timeout_s: float, threads: int | None
) -> dict[str, Any]:
    """Run the DuckDB baseline once in a subprocess; return its measurements."""
    command = [sys.executable, str(BENCH_DIR / "duckdb_screen.py"), "--input", str(data_dir)]
    command += ["--window-start", WINDOW_START, "--window-end", WINDOW_END, "--json"]
    if threads:
        command += ["--threads", str(threads)]
    run = run_measured(command, f"{name}-duckdb", timeout_s)
    result: dict[str, Any] = {"process": asdict(run), "ok": run.ok, "wall_s": run.wall_s}
    result["peak_rss_mb"] = run.peak_rss_mb
    if not run.ok:
        result["error"] = f"DuckDB baseline failed (exit {run.returncode})"
        result["stderr_tail"] = read_tail(run.stderr_path)
        return result
    report = json.loads(read_tail(run.stdout_path, lines=1))
    return result | report


def combine_repeats(runs: list[dict[str, Any]], time_key: str) -> dict[str, Any]:
    """Return the last run, with the median of ``time_key`` and wall and the max peak RSS."""
    good = [r for r in runs if r.get("ok")]
    if not good:
        return runs[-1]
    combined = dict(good[-1])
    for key in (time_key, "wall_s"):
        values = [r[key] for r in good if isinstance(r.get(key), int | float)]
        combined[key] = statistics.median(values) if values else None
        combined[f"{key}_all"] = values
    combined["peak_rss_mb"] = max(r["peak_rss_mb"] for r in good)
    return combined


def bench_one(
    label: str, rows: int, fmt: str, args: argparse.Namespace
) -> tuple[dict[str, Any], Path, bool]:
    """Benchmark one size and format; return (result, data directory, generated now)."""
    data_dir, generated = ensure_dataset(label, rows, fmt, args.seed)
    name = f"{label}-{fmt}"
    pipeline_runs: list[dict[str, Any]] = []
    baseline_runs: list[dict[str, Any]] = []
    extra = ["--partitions", args.partitions, "--executor", args.executor]
    pipeline_ok = True
    for attempt in range(max(args.repeat, args.duckdb_repeat)):
        # alternate the two tools so that both see the same machine load
        if not args.baseline_only and attempt < args.repeat and pipeline_ok:
            print(f"[{name}] pipeline run {attempt + 1}/{args.repeat} …", flush=True)
            pipeline_runs.append(run_pipeline(data_dir, name, args.timeout, extra))
            pipeline_ok = pipeline_runs[-1]["ok"]
        if attempt < args.duckdb_repeat:
            print(f"[{name}] duckdb run {attempt + 1}/{args.duckdb_repeat} …", flush=True)
            baseline_runs.append(run_baseline(data_dir, name, args.timeout, args.duckdb_threads))
    pipeline = combine_repeats(pipeline_runs, "screen_s") if pipeline_runs else {"skipped": True}
    if pipeline_runs and not pipeline["ok"]:
        print(f"[{name}] {pipeline.get('error')}", file=sys.stderr)
        if pipeline.get("stderr_tail"):
            print(f"--- stderr tail ---\n{pipeline['stderr_tail']}\n---", file=sys.stderr)
    baseline = combine_repeats(baseline_runs, "seconds")
    if not baseline["ok"]:
        print(f"[{name}] {baseline.get('error')}\n{baseline.get('stderr_tail')}", file=sys.stderr)
    result = {"size": label, "format": fmt, "lab_rows": rows}
    result |= {"data_dir": str(data_dir.relative_to(REPO_DIR))}
    result |= {"pipeline": pipeline, "duckdb": baseline}
    result |= judge_targets(rows, pipeline, baseline.get("seconds"))
    duck_cases, pipe_cases = baseline.get("n_cases"), pipeline.get("n_cases")
    result["cases_match"] = None if pipe_cases is None else pipe_cases == duck_cases
    return result, data_dir, generated


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Return the command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="1m,5m,20m", help="comma-separated, e.g. 1m,5m,20m or 250k"
    )
    parser.add_argument("--formats", default="parquet,csv", help="comma-separated: parquet,csv")
    parser.add_argument("--partitions", default="auto", help="hyposcreen --partitions (auto)")
    parser.add_argument("--executor", default="local", help="hyposcreen --executor (local)")
    parser.add_argument("--keep-data", action="store_true", help="keep data generated now")
    parser.add_argument("--repeat", type=int, default=1, help="pipeline runs (median time)")
    parser.add_argument("--duckdb-repeat", type=int, default=3, help="baseline runs (median)")
    parser.add_argument("--seed", type=int, default=20261121)
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per run")
    parser.add_argument("--duckdb-threads", type=int, default=None, help="default: all cores")
    parser.add_argument("--baseline-only", action="store_true", help="skip the pipeline")
    parser.add_argument("--strict", action="store_true", help="exit 2 when a target is missed")
    args = parser.parse_args(argv)
    args.size_list = [(s.strip().lower(), parse_size(s)) for s in args.sizes.split(",") if s]
    args.format_list = [f.strip().lower() for f in args.formats.split(",") if f.strip()]
    unknown = set(args.format_list) - {"parquet", "csv"}
    if unknown:
        parser.error(f"unknown format(s): {', '.join(sorted(unknown))}")
    if args.repeat < 1 or args.duckdb_repeat < 1:
        parser.error("--repeat and --duckdb-repeat must be >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark matrix; print the table and write ``bench/results/summary.json``."""
    args = parse_args(argv)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    results, generated_dirs = [], []
    for label, rows in args.size_list:
        for fmt in args.format_list:
            result, data_dir, generated = bench_one(label, rows, fmt, args)
            results.append(result)
            if generated:
                generated_dirs.append(data_dir)
    summary = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "window": {"start": WINDOW_START, "end": WINDOW_END},
        "targets": {
            "ratio_max": RATIO_TARGET,
            "rss_max_mb": RSS_TARGET_MB,
            "rss_target_min_rows": RSS_TARGET_MIN_ROWS,
            "linearity_max": LINEARITY_MAX,
        },
        "linearity": check_linearity(results),
        "options": {"partitions": args.partitions, "executor": args.executor},
        "machine": describe_machine(),
        "results": results,
    }
    (RESULTS_DIR / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    print()
    print_table(results)
    print(f"details: {(RESULTS_DIR / 'summary.json').relative_to(REPO_DIR)}")
    if not args.keep_data:
        for data_dir in generated_dirs:
            shutil.rmtree(data_dir, ignore_errors=True)
    failed = any(not r["duckdb"].get("ok") for r in results) or (
        not args.baseline_only and any(not r["pipeline"].get("ok") for r in results)
    )
    missed = any(
        r["ratio_ok"] is False or (r["rss_ok"] is False and r["rss_target_applies"])
        for r in results
    ) or any(not c["ok"] for c in check_linearity(results).values())
    if failed:
        return 1
    return 2 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
