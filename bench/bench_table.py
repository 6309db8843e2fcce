"""The benchmark's verdicts and printed table: the ratio to DuckDB, the RSS and linearity
targets, and what the numbers depend on (machine, versions, commit)."""

from __future__ import annotations

import os
import platform
import subprocess
from typing import Any

import psutil

from measure import REPO_DIR

RATIO_TARGET = 3.0
RSS_TARGET_MB = 1536.0
LINEARITY_MAX = 4.4  # 20M time / 5M time (4.0 = linear)
RSS_TARGET_MIN_ROWS = 20_000_000


def _mb(item: tuple[str, float]) -> float:
    return float(item[1])


def judge_targets(rows: int, pipeline: dict[str, Any], duckdb_s: float | None) -> dict[str, Any]:
    """Return the ratio and whether each target is met (None: not measurable)."""
    screen = pipeline.get("screen_s")
    ratio = screen / duckdb_s if screen and duckdb_s else None
    rss = pipeline.get("peak_rss_mb") if pipeline.get("ok") else None
    return {
        "ratio": ratio,
        "ratio_ok": None if ratio is None else ratio <= RATIO_TARGET,
        "rss_ok": None if rss is None else rss <= RSS_TARGET_MB,
        "rss_target_applies": rows >= RSS_TARGET_MIN_ROWS,
    }


def describe_verdict(result: dict[str, Any]) -> str:
    """Return a short verdict for the table's target column."""
    if result["pipeline"].get("skipped"):
        return "baseline only"
    if not result["pipeline"].get("ok"):
        return "pipeline failed"
    parts = []
    if result["ratio_ok"] is None:
        parts.append("ratio n/a")
    elif not result["ratio_ok"]:
        parts.append(f"MISS ratio>{RATIO_TARGET}")
    if result["rss_ok"] is False:
        limit = f"RSS>{RSS_TARGET_MB:.0f}MB"
        parts.append(f"MISS {limit}" if result["rss_target_applies"] else f"{limit} (info)")
    return ", ".join(parts) or "ok"


def format_number(value: Any, spec: str) -> str:
    """Return ``value`` formatted, or ``-`` when missing."""
    return "-" if value is None else format(value, spec)


def print_table(results: list[dict[str, Any]]) -> None:
    """Print the results table."""
    header = (
        "size", "format", "rows/s", "wall s", "screen s", "RSS MB",
        "duckdb s", "duckdb RSS MB", "ratio", "GX share", "target",
    )  # fmt: skip
    lines = []
    for r in results:
        pipeline, baseline = r["pipeline"], r["duckdb"]
        screen = pipeline.get("screen_s")
        rate = r["lab_rows"] / screen if screen else None
        lines.append(
            (
                r["size"],
                r["format"],
                format_number(rate, ",.0f"),
                format_number(pipeline.get("wall_s") if pipeline.get("ok") else None, ".2f"),
                format_number(screen, ".2f"),
                format_number(pipeline.get("peak_rss_mb") if pipeline.get("ok") else None, ".0f"),
                format_number(baseline.get("seconds"), ".2f"),
                format_number(baseline.get("peak_rss_mb"), ".0f"),
                format_number(r["ratio"], ".2f"),
                format_number(pipeline.get("validation_share"), ".0%"),
                describe_verdict(r),
            )
        )
    widths = [max(len(str(x)) for x in column) for column in zip(header, *lines, strict=True)]
    for row in (header, tuple("-" * w for w in widths), *lines):
        print("  ".join(str(cell).rjust(w) for cell, w in zip(row, widths, strict=True)))
    for r in results:
        steps = r["pipeline"].get("steps") or {}
        if steps:
            listed = ", ".join(f"{step} {sec:.2f}" for step, sec in steps.items())
            print(f"steps {r['size']}-{r['format']} (s): {listed}")
        peaks = r["pipeline"].get("step_peak_rss_mb") or {}
        if peaks:  # the process high-water mark after each step, in the order it grew
            grown = ", ".join(f"{step} {mb:.0f}" for step, mb in sorted(peaks.items(), key=_mb))
            print(f"peak RSS by step {r['size']}-{r['format']} (MB): {grown}")
    for fmt, check in check_linearity(results).items():
        verdict = "ok" if check["ok"] else f"MISS > {LINEARITY_MAX}"
        print(
            f"linearity {fmt}: 20M screen s / 5M screen s = {check['ratio']:.2f} ({verdict}); "
            f"DuckDB {check['duckdb_ratio']:.2f}"
        )
    print(
        f"targets: screen s ≤ {RATIO_TARGET} × duckdb s; peak RSS ≤ {RSS_TARGET_MB:.0f} MB "
        f"at ≥ {RSS_TARGET_MIN_ROWS:,} lab rows; GX share (validate step / screen s) ≤ 15%"
    )


def check_linearity(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per format: the 20M screen time over the 5M one (target ≤ LINEARITY_MAX)."""
    checks: dict[str, dict[str, Any]] = {}
    by_key = {(r["format"], r["lab_rows"]): r for r in results}
    for (fmt, rows), large in by_key.items():
        small = by_key.get((fmt, rows // 4))
        if rows != 20_000_000 or small is None:
            continue
        t_large, t_small = large["pipeline"].get("screen_s"), small["pipeline"].get("screen_s")
        d_large, d_small = large["duckdb"].get("seconds"), small["duckdb"].get("seconds")
        if not (t_large and t_small):
            continue
        ratio = t_large / t_small
        checks[fmt] = {
            "ratio": ratio,
            "ok": ratio <= LINEARITY_MAX,
            "duckdb_ratio": d_large / d_small if d_large and d_small else float("nan"),
        }
    return checks


def describe_machine() -> dict[str, Any]:
    """Return what the numbers depend on: CPU, memory, versions, commit."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_DIR,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        commit = ""
    try:
        import duckdb

        duckdb_version = duckdb.__version__
    except ImportError:
        duckdb_version = None
    return {
        "cpu_count": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb_version,
        "git_commit": commit or None,
    }
