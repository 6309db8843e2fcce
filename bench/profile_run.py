"""Profile one hyposcreen run with pyinstrument (where does the time of the hot path go?).

    python bench/profile_run.py --input bench/data/1m-parquet [--partitions auto] [--show 0.02]

Writes ``bench/results/profile-<input name>.txt`` (call tree, frames taking at least ``--show``
of the run) and ``.html`` (interactive), and prints the text. Interpreter start-up and imports
are outside the profile; the Great Expectations import (~3 s) is inside, as in a real run.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from pyinstrument import Profiler

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
WINDOW = ("2026-11-01T00:00:00", "2026-11-21T00:00:00")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, required=True, help="a bench/data/<size>-<fmt> dir")
    parser.add_argument("--partitions", default="auto", help="a number or auto")
    parser.add_argument("--show", type=float, default=0.02, help="hide frames below this share")
    parser.add_argument("--interval", type=float, default=0.005, help="sampling interval, s")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from hyposcreen.config import RunSettings, parse_window
    from hyposcreen.context import prepare
    from hyposcreen.runners import run_screen

    name = args.input.resolve().name
    out = RESULTS_DIR / f"profile-{name}-out"
    shutil.rmtree(out, ignore_errors=True)
    settings = RunSettings(input_dir=args.input, out_dir=out, window=parse_window(*WINDOW))
    partitions = None if args.partitions == "auto" else int(args.partitions)
    profiler = Profiler(interval=args.interval)
    profiler.start()
    summary = run_screen(prepare(settings), partitions)
    profiler.stop()
    text = profiler.output_text(unicode=True, color=False, show_all=False, time="percent_of_total")
    lines = [
        line
        for line in text.splitlines()
        if "%" not in line or _share(line) is None or _share(line) >= args.show * 100
    ]
    report = "\n".join(lines) + f"\nstep timings (s): {summary.manifest['timings']}\n"
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"profile-{name}.txt").write_text(report, encoding="utf-8")
    (RESULTS_DIR / f"profile-{name}.html").write_text(profiler.output_html(), encoding="utf-8")
    print(report)
    shutil.rmtree(out, ignore_errors=True)
    return 0


def _share(line: str) -> float | None:
    head = line.strip().lstrip("│├└─ ").split("%", 1)[0]
    try:
        return float(head)
    except ValueError:
        return None


if __name__ == "__main__":
    sys.exit(main())
