"""Command line: arguments, exit codes and messages; errors print one paragraph, no traceback."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from hyposcreen import __version__
from hyposcreen.errors import HyposcreenError

EXIT_OK = 0
EXIT_UNEXPECTED = 70


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hyposcreen",
        description="Screen lab extracts for hyponatremia with cramp-associated risk factors.",
    )
    parser.add_argument("--version", action="version", version=f"hyposcreen {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="screen one window and write the review list")
    run.add_argument("--input", required=True, type=Path, help="folder holding the extract tables")
    run.add_argument("--window-start", required=True, help="ISO date/time, inclusive")
    run.add_argument("--window-end", required=True, help="ISO date/time, exclusive")
    run.add_argument("--out", required=True, type=Path, help="output folder")
    run.add_argument("--source", default="canonical", help="input layout (default: canonical)")
    run.add_argument("--mapping", type=Path, help="site column-mapping YAML")
    run.add_argument("--profile", default=None, help="severity profile: seed (default) or eu2014")
    run.add_argument("--rules", type=Path, help="folder with an alternative rules set")
    run.add_argument("--glucose-factor", type=float, help="1.6 (default) or 2.4")
    run.add_argument(
        "--no-flow",
        action="store_true",
        help="run the pipeline directly instead of through the Prefect flow",
    )
    return parser


def _run(args: argparse.Namespace) -> int:
    from hyposcreen.config import RunSettings, load_mapping, parse_window

    timezone = load_mapping(args.mapping).timezone
    settings = RunSettings(
        input_dir=args.input,
        out_dir=args.out,
        window=parse_window(args.window_start, args.window_end, timezone),
        profile=args.profile,
        source=args.source,
        mapping_path=args.mapping,
        rules_dir=args.rules,
        glucose_factor=args.glucose_factor,
    )
    print(
        f"hyposcreen: screening {settings.input_dir} for {settings.window.label()} "
        f"(profile {settings.profile or 'default'})",
        file=sys.stderr,
    )
    from hyposcreen.pipeline import run_pipeline

    summary = run_pipeline(settings)
    manifest = summary.manifest
    tiers = manifest["counts_per_tier"]
    print(
        f"hyposcreen: {manifest['listed']} case(s) listed (urgent {tiers['1']}, soon {tiers['2']}, "
        f"routine {tiers['3']}); run {summary.run_id}; rules {manifest['rules_version']}",
        file=sys.stderr,
    )
    print(f"Review list: {summary.review_csv}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            return _run(args)
    except HyposcreenError as exc:
        print(f"hyposcreen: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("hyposcreen: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug, not bad input: still one paragraph unless debugging
        if os.environ.get("HYPOSCREEN_DEBUG"):
            raise
        print(
            f"hyposcreen: internal error ({type(exc).__name__}: {exc}). This is a bug in "
            "hyposcreen, not in your data; rerun with HYPOSCREEN_DEBUG=1 for the traceback and "
            "report it.",
            file=sys.stderr,
        )
        return EXIT_UNEXPECTED
    return EXIT_UNEXPECTED


if __name__ == "__main__":
    sys.exit(main())
