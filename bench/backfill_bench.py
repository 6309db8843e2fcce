"""Many windows, one read: a 30-night backfill against one 30-day window on the same files.

Both run as `hyposcreen run --no-flow` subprocesses (like `run_bench.py`: wall time from spawn
to exit, interpreter start included, peak RSS):

1. one window over the whole period: `--window-start <first>T00:00 --window-end <last+1>T00:00`;
2. the backfill of every night of the period: `--backfill <first> <last>` (the input read once
   and cut per night: `hyposcreen.recipe_read`).

It prints both walls and CPU times (the run's own user+sys, and its contracts worker's,
sampled), their ratio (target: backfill ≤ 2 × the window), the backfill's mean seconds per night
by step (from each night's run_manifest.json timings; the first night's read_* steps are the
shared read) and the load average before and after, and writes
bench/results/backfill-<data>.json.

    .venv/bin/python bench/backfill_bench.py --input bench/data/1m-parquet
    .venv/bin/python bench/backfill_bench.py --lab-rows 1000000   # generates bench/data/1m-parquet
    .venv/bin/python bench/backfill_bench.py --input /tmp/bf/1m-parquet --first 2026-10-22 \\
        --last 2026-11-20
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench_table import describe_machine
from measure import REPO_DIR, RESULTS_DIR, read_step_timings, read_tail, run_measured
from run_bench import build_pipeline_env, ensure_dataset

TARGET_RATIO = 2.0
FIRST_NIGHT, LAST_NIGHT = "2026-10-22", "2026-11-20"  # 30 nights of the synthetic data


def _cli(data_dir: Path, out_dir: Path, *window: str) -> list[str]:
    return [
        sys.executable, "-m", "hyposcreen.cli", "run", "--no-flow",
        "--input", str(data_dir), "--out", str(out_dir), *window,
    ]  # fmt: skip


def _measure(command: list[str], name: str, out_dir: Path, timeout_s: float) -> dict[str, Any]:
    if out_dir.exists():
        shutil.rmtree(out_dir)  # never read a stale manifest
    run = run_measured(command, name, timeout_s, build_pipeline_env())
    result: dict[str, Any] = {"wall_s": round(run.wall_s, 2), "peak_rss_mb": round(run.peak_rss_mb)}
    result["cpu_s"] = round(run.cpu_s, 2)  # the run's own user+sys
    result["worker_cpu_s"] = round(run.children_cpu_s, 2)  # its contracts worker's, sampled
    result["exit"] = run.returncode
    if run.timed_out or run.returncode not in (0, 4):  # 4: screened with warnings
        result["error"] = read_tail(run.stderr_path)
        return result
    nights = [json.loads(p.read_text("utf-8")) for p in sorted(out_dir.glob("*/run_manifest.json"))]
    per_step: dict[str, float] = defaultdict(float)
    for manifest in nights:
        for step, seconds in read_step_timings(manifest).items():
            per_step["read" if step.startswith("read_") else step] += seconds
    result["windows"] = len(nights)
    result["mean_step_s"] = {k: round(v / max(len(nights), 1), 3) for k, v in per_step.items()}
    tiers = [m.get("counts_per_tier", {}) for m in nights]
    result["listed"] = sum(int(count) for tier in tiers for count in tier.values())
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", type=Path, help="a canonical extract (default: generated)")
    parser.add_argument("--lab-rows", type=int, default=1_000_000, help="rows to generate")
    parser.add_argument("--first", default=FIRST_NIGHT, help="first night (YYYY-MM-DD)")
    parser.add_argument("--last", default=LAST_NIGHT, help="last night, included")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per run")
    args = parser.parse_args(argv)
    data = args.input
    if data is None:
        label = f"{args.lab_rows // 1_000_000}m" if args.lab_rows >= 1_000_000 else "small"
        data, _ = ensure_dataset(label, args.lab_rows, "parquet", 20261121)
    data = data.resolve()
    end = (date.fromisoformat(args.last) + timedelta(days=1)).isoformat()
    out = RESULTS_DIR / f"backfill-{data.name}"
    load_before = os.getloadavg()
    one = _measure(
        _cli(data, out / "window", "--window-start", f"{args.first}T00:00:00",
             "--window-end", f"{end}T00:00:00"),
        f"backfill-{data.name}-window", out / "window", args.timeout,
    )  # fmt: skip
    nights = _measure(
        _cli(data, out / "nights", "--backfill", args.first, args.last),
        f"backfill-{data.name}-nights", out / "nights", args.timeout,
    )  # fmt: skip
    failed = "error" in one or "error" in nights
    ratio = float("nan") if failed or not one["wall_s"] else nights["wall_s"] / one["wall_s"]
    load = os.getloadavg()
    summary = {
        "data": str(data),
        "period": [args.first, args.last],
        "one_window": one,
        "backfill": nights,
        "ratio": round(ratio, 2),
        "target_ratio": TARGET_RATIO,
        "met": None if failed else ratio <= TARGET_RATIO,
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in load],
        "machine": describe_machine(),
    }
    (RESULTS_DIR / f"backfill-{data.name}.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"data {data.relative_to(REPO_DIR) if data.is_relative_to(REPO_DIR) else data}")
    print(
        f"one window {args.first}..{args.last}: {one['wall_s']:.1f} s wall (exit {one['exit']}), "
        f"CPU {one['cpu_s']:.2f} s + worker {one['worker_cpu_s']:.2f} s"
    )
    print(
        f"backfill of {nights.get('windows', '?')} nights: {nights['wall_s']:.1f} s wall, "
        f"CPU {nights['cpu_s']:.2f} s + worker {nights['worker_cpu_s']:.2f} s"
    )
    print(
        f"ratio {ratio:.2f} (target <= {TARGET_RATIO:g}: {'met' if summary['met'] else 'missed'})"
    )
    print(f"backfill mean s per night by step: {nights.get('mean_step_s')}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in load_before)}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in load)}")
    for run in (one, nights):
        if "error" in run:
            print(run["error"], file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
