"""Command line: arguments, exit codes and messages; errors print one paragraph, no traceback."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from hyposcreen import __version__
from hyposcreen.cli_ops import (
    add_status_parser,
    remember_failure,
    run_notified,
    status_command,
)
from hyposcreen.errors import EXIT_SCREENED_WITH_WARNINGS, HyposcreenError
from hyposcreen.failures import environment_problem, write_failed_json

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
    run.add_argument(
        "--window-start",
        help="ISO date/time, inclusive (default: the nights not yet screened, see --state-dir, "
        "else yesterday in the site's time zone)",
    )
    run.add_argument("--window-end", help="ISO date/time, exclusive (default: start + 1 day)")
    run.add_argument(
        "--backfill",
        nargs=2,
        metavar=("START", "END"),
        help="screen each calendar day from START through END (dates, both included)",
    )
    run.add_argument(
        "--out",
        required=True,
        help="output folder; each window writes to OUT/<date>/ (or OUT with {date} replaced)",
    )
    run.add_argument(
        "--state-dir",
        help="nightly state (SQLite): catch up missed nights, list a case again only when it "
        "worsened, pick up late results (default: $HYPOSCREEN_STATE_DIR; none = stateless)",
    )
    run.add_argument("--source", default="canonical", help="input layout (default: canonical)")
    run.add_argument("--mapping", type=Path, help="site column-mapping YAML")
    run.add_argument("--profile", default=None, help="severity profile: seed (default) or eu2014")
    run.add_argument("--rules", type=Path, help="folder with an alternative rules set")
    run.add_argument("--glucose-factor", type=float, help="1.6 (default) or 2.4")
    run.add_argument(
        "--partitions",
        type=_partitions,
        default=None,
        help="patient-hash partitions: a number, or auto (default: 1 up to 2M lab rows, then "
        "one per 2M; see docs/scaling.md)",
    )
    run.add_argument(
        "--executor",
        choices=("local", "dask"),
        default="local",
        help="where partition work runs: local (this process, default) or dask",
    )
    run.add_argument(
        "--dask-address",
        help="Dask scheduler, e.g. tcp://10.0.0.5:8786 (default with --executor dask: a "
        "LocalCluster on this machine)",
    )
    run.add_argument(
        "--no-flow",
        action="store_true",
        help="run the pipeline directly instead of through the Prefect flow",
    )
    reviewed = commands.add_parser(
        "reviewed", help="record clinician reviews so reviewed cases stop reappearing"
    )
    reviewed.add_argument(
        "--file", required=True, type=Path, help="CSV: patient_id, reviewed_at, reviewer"
    )
    reviewed.add_argument(
        "--state-dir", help="the nightly state dir (default: $HYPOSCREEN_STATE_DIR)"
    )
    reviewed.add_argument("--mapping", type=Path, help="site mapping YAML (its `site` name)")
    add_status_parser(commands)
    audit = commands.add_parser(
        "audit",
        help="QI report over a period (one window per calendar month): audit.html, "
        "audit_tables.csv, audit_manifest.json",
    )
    audit.add_argument("--input", required=True, type=Path, help="folder holding the extracts")
    audit.add_argument("--start", required=True, help="ISO date/time, inclusive")
    audit.add_argument("--end", required=True, help="ISO date/time, exclusive")
    audit.add_argument("--out", required=True, type=Path, help="output folder")
    audit.add_argument("--source", default="canonical", help="input layout (default: canonical)")
    audit.add_argument("--mapping", type=Path, help="site column-mapping YAML")
    audit.add_argument("--profile", default=None, help="severity profile: seed or eu2014")
    audit.add_argument("--rules", type=Path, help="folder with an alternative rules set")
    audit.add_argument("--glucose-factor", type=float, help="1.6 (default) or 2.4")
    audit.add_argument(
        "--min-cell-size",
        type=int,
        help="suppress aggregate cells below this count (default: rules.yaml audit, 11)",
    )
    audit.add_argument(
        "--key-file",
        type=Path,
        help="secret file holding the pseudonym key for the patient-level export "
        "(else $HYPOSCREEN_PSEUDONYM_KEY; without a key there is no patient-level export)",
    )
    return parser


def _partitions(text: str) -> int | None:
    if text.strip().lower() == "auto":
        return None
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1 or auto, not {text!r}")
    return count


def _audit(args: argparse.Namespace) -> int:
    from hyposcreen.audit import AuditSettings, run_audit
    from hyposcreen.config import load_mapping, parse_window

    window = parse_window(args.start, args.end, load_mapping(args.mapping).timezone)
    settings = AuditSettings(
        input_dir=args.input,
        out_dir=args.out,
        start=window.start,
        end=window.end,
        source=args.source,
        mapping_path=args.mapping,
        profile=args.profile,
        rules_dir=args.rules,
        glucose_factor=args.glucose_factor,
        min_cell_size=args.min_cell_size,
        key_file=args.key_file,
    )
    print(f"hyposcreen: auditing {settings.input_dir} for {window.label()}", file=sys.stderr)
    summary = run_audit(settings)
    print(
        f"hyposcreen: {len(summary.manifest['periods'])} month(s) audited; cells below "
        f"{summary.manifest['min_cell_size']} suppressed",
        file=sys.stderr,
    )
    print(f"Audit report: {summary.out_dir / 'audit.html'}")
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    from hyposcreen.config import load_mapping
    from hyposcreen.state import state_dir_from_env

    state_dir = state_dir_from_env(args.state_dir)
    nightly = None if args.no_flow else _load_flow_module()
    folders: list[Path] = []
    if nightly is None:
        if not args.no_flow:
            print(
                "hyposcreen: flows/nightly.py is not next to this installation (it ships with the "
                "source checkout), so this run goes without Prefect, as with --no-flow.",
                file=sys.stderr,
            )
        outcomes = _run_without_flow(args, state_dir)
    else:
        with nightly.orchestrated(str(args.input)), _quiet_prefect_console():
            outcome = nightly.nightly_screen(
                input=str(args.input),
                out=str(args.out),
                window_start=args.window_start,
                window_end=args.window_end,
                source=args.source,
                mapping=str(args.mapping) if args.mapping else None,
                profile=args.profile,
                rules=str(args.rules) if args.rules else None,
                glucose_factor=args.glucose_factor,
                state_dir=str(state_dir) if state_dir else None,
                backfill_start=args.backfill[0] if args.backfill else None,
                backfill_end=args.backfill[1] if args.backfill else None,
                partitions=args.partitions,
                executor=args.executor,
                dask_address=args.dask_address,
                notify=False,  # the CLI tells people itself (_run_notified)
            )
        outcomes = [outcome] if outcome["windows"] else []
        folders = [_window_folder(str(args.out), label) for label in outcome["windows"]]
    if not outcomes:
        site = load_mapping(args.mapping)
        print(
            f"hyposcreen: nothing to screen: site {site.site} is screened up to today "
            f"(state in {state_dir}).",
            file=sys.stderr,
        )
        return EXIT_OK
    args.notified_outcomes = outcomes  # for _run_notified
    outcome = outcomes[-1]
    tiers = outcome["counts_per_tier"]
    print(
        f"hyposcreen: {outcome['listed']} case(s) listed (urgent {tiers['1']}, soon {tiers['2']}, "
        f"routine {tiers['3']}); run {outcome['run_id']}; rules {outcome['rules_version']}",
        file=sys.stderr,
    )
    print(f"Review list: {outcome['review_csv']}")
    if nightly is None:
        folders = [Path(str(o["review_csv"])).parent for o in outcomes]
    return _warnings_status(folders)


def _window_folder(out: str, label: str) -> Path:
    """A window's output folder from its label (as windows.out_folder names it)."""
    return Path(out.replace("{date}", label)) if "{date}" in out else Path(out) / label


def _warnings_status(folders: list[Path]) -> int:
    """Print each window's warnings (from its run_manifest.json) and return 4 if there were any.

    Read from the manifests so the flow and the plain run end the same way."""
    import json

    found = False
    for folder in folders:
        manifest = folder / "run_manifest.json"
        try:
            warnings = json.loads(manifest.read_text(encoding="utf-8")).get("warnings", [])
        except (OSError, ValueError):
            continue
        where = f"[{folder.name}] " if len(folders) > 1 else ""
        for warning in warnings:
            print(f"hyposcreen: warning: {where}{warning['message']}", file=sys.stderr)
            found = True
    return EXIT_SCREENED_WITH_WARNINGS if found else EXIT_OK


def _run_without_flow(args: argparse.Namespace, state_dir: Path | None) -> list[dict[str, Any]]:
    """The flow's loop over windows (runners.window_loop), in plain Python (no Prefect)."""
    from hyposcreen.config import RunSettings, Window, load_mapping
    from hyposcreen.context import prepare
    from hyposcreen.runners import run_screen
    from hyposcreen.runners.window_loop import screen_windows
    from hyposcreen.windows import out_folder, plan_windows

    site = load_mapping(args.mapping)
    windows = plan_windows(
        args.window_start,
        args.window_end,
        site.timezone,
        state_dir=state_dir,
        site=site.site,
        backfill=tuple(args.backfill) if args.backfill else None,
    )

    def settings_for(window: Window) -> RunSettings:
        return RunSettings(
            input_dir=args.input,
            out_dir=out_folder(str(args.out), window),
            window=window,
            profile=args.profile,
            source=args.source,
            mapping_path=args.mapping,
            rules_dir=args.rules,
            glucose_factor=args.glucose_factor,
            state_dir=state_dir,
        )

    def screen_window(settings: RunSettings) -> dict[str, Any]:
        summary = run_screen(prepare(settings), args.partitions, args.executor, args.dask_address)
        return {**summary.manifest, "review_csv": str(summary.review_csv)}

    def on_failure(window: Window, settings: RunSettings, error: BaseException) -> None:
        write_failed_json(settings.out_dir, error, window.label())
        remember_failure(state_dir, site.site, window, error, settings.out_dir)

    def progress(number: int, total: int, window: Window) -> None:
        _progress(number, total, window.label(), args)

    return screen_windows(windows, settings_for, screen_window, on_failure, progress)


def _progress(number: int, total: int, label: str, args: argparse.Namespace) -> None:
    step = f" [{number}/{total}]" if total > 1 else ""
    print(
        f"hyposcreen:{step} screening {args.input} for {label} "
        f"(profile {args.profile or 'default'})",
        file=sys.stderr,
    )


def _reviewed(args: argparse.Namespace) -> int:
    from hyposcreen.config import load_mapping
    from hyposcreen.errors import ConfigError
    from hyposcreen.state import StateStore, read_reviews, state_dir_from_env

    state_dir = state_dir_from_env(args.state_dir)
    if state_dir is None:
        raise ConfigError("Give --state-dir (or set HYPOSCREEN_STATE_DIR): reviews live there.")
    site = load_mapping(args.mapping).site
    reviews = read_reviews(args.file)
    added = StateStore(state_dir, site).record_reviews(reviews)
    print(
        f"hyposcreen: recorded {added} new review(s) of {reviews['patient_id'].nunique()} "
        f"patient(s) for site {site} ({len(reviews) - added} already known).",
        file=sys.stderr,
    )
    return EXIT_OK


def _load_flow_module() -> ModuleType | None:
    """flows.nightly from the source checkout this package is installed from, if any.

    `flows/` sits at the repository root, outside the installed package, so the package is
    loaded by path (and only here: importing it imports Prefect).
    """
    import importlib
    import importlib.util

    import hyposcreen

    if "flows" not in sys.modules:
        folder = Path(hyposcreen.__file__).resolve().parents[2] / "flows"
        spec = importlib.util.spec_from_file_location(
            "flows", folder / "__init__.py", submodule_search_locations=[str(folder)]
        )
        if not (folder / "nightly.py").is_file() or spec is None or spec.loader is None:
            return None
        package = importlib.util.module_from_spec(spec)
        sys.modules["flows"] = package
        spec.loader.exec_module(package)
    return importlib.import_module("flows.nightly")


@contextmanager
def _quiet_prefect_console() -> Iterator[None]:
    """Keep Prefect's console log (tracebacks included) off the terminal: errors print one
    paragraph. The flow run's log on the Prefect server keeps everything."""
    if os.environ.get("HYPOSCREEN_DEBUG"):
        yield
        return
    root = logging.getLogger()
    console = [h for h in root.handlers if type(h).__name__ == "PrefectConsoleHandler"]
    levels = [h.level for h in console]
    for handler in console:
        handler.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for handler, level in zip(console, levels, strict=True):
            handler.setLevel(level)


def _prepare_process() -> None:
    """Private files and the orchestrator's settings, before anything imports Prefect."""
    from hyposcreen.runtime_env import configure_orchestrator, make_private

    make_private()
    configure_orchestrator()
    if not os.environ.get("HYPOSCREEN_DEBUG"):
        logging.raiseExceptions = False  # a log handler's own failure prints nothing either


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        _prepare_process()
        if args.command == "run":
            return run_notified(args, _run)
        if args.command == "status":
            return status_command(args)
        if args.command == "reviewed":
            return _reviewed(args)
        if args.command == "audit":
            return _audit(args)
    except HyposcreenError as exc:
        shown: HyposcreenError = environment_problem(exc) or exc
        print(f"hyposcreen: error: {shown}", file=sys.stderr)
        return shown.exit_code
    except KeyboardInterrupt:
        print("hyposcreen: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug, not bad input: still one paragraph unless debugging
        problem = environment_problem(exc)
        if problem is not None:
            print(f"hyposcreen: error: {problem}", file=sys.stderr)
            return problem.exit_code
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
