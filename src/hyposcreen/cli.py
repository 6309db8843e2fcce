"""Command line: arguments, exit codes and messages; errors print one paragraph, no traceback."""

from __future__ import annotations

import argparse
import functools
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from hyposcreen import __version__
from hyposcreen.cli_audit import audit_command
from hyposcreen.cli_ops import add_status_parser, run_notified, status_command
from hyposcreen.cli_run import EXIT_OK, run_command
from hyposcreen.cli_signals import noting_interrupts, stopped
from hyposcreen.cli_stdout import (
    EXIT_PIPE_CLOSED,
    CommandParser,
    flushed,
    parsed_arguments,
    stdout_opened,
    stdout_to_devnull,
)
from hyposcreen.errors import EXIT_SCREENED_WITH_WARNINGS, HyposcreenError, Terminated
from hyposcreen.failures import environment_problem, internal_error_line

EXIT_UNEXPECTED = 70


# the packaged rules' choices; a --rules copy's profiles and allowed_factors are its own
PROFILE_HELP = "severity profile of the rules (packaged: seed, the default, or eu2014)"
FACTOR_HELP = (
    "a glucose_correction.allowed_factors of the rules (packaged: 1.6, the default, or 2.4)"
)


def _parser() -> argparse.ArgumentParser:
    parser = CommandParser(
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
    run.add_argument(
        "--source",
        default="canonical",
        help="input layout: canonical (default), omop, mimic or fhir",
    )
    run.add_argument("--mapping", type=Path, help="site column-mapping YAML")
    run.add_argument("--profile", default=None, help=PROFILE_HELP)
    run.add_argument("--rules", type=Path, help="folder with an alternative rules set")
    run.add_argument("--glucose-factor", type=float, help=FACTOR_HELP)
    run.add_argument(
        "--partitions",
        type=_partitions,
        default=None,
        help="patient-hash partitions: a number, or auto (default: 1 up to 5M lab rows, then "
        "one per 2.5M; see docs/scaling.md)",
    )
    run.add_argument(
        "--executor",
        choices=("local", "dask"),
        default="local",
        help="where partition work runs: local (this process, default) or dask",
    )
    run.add_argument(
        "--dask-address",
        type=_scheduler_address,
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
    audit.add_argument(
        "--source",
        default="canonical",
        help="input layout: canonical (default), omop, mimic or fhir",
    )
    audit.add_argument("--mapping", type=Path, help="site column-mapping YAML")
    audit.add_argument("--profile", default=None, help=PROFILE_HELP)
    audit.add_argument("--rules", type=Path, help="folder with an alternative rules set")
    audit.add_argument("--glucose-factor", type=float, help=FACTOR_HELP)
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


def _scheduler_address(text: str) -> str:
    """A Dask scheduler's address as given, refused before any input is read when it does not
    read as one (the executor checks it again before it connects)."""
    from hyposcreen.errors import ConfigError
    from hyposcreen.runners.executors import check_scheduler_address

    try:
        check_scheduler_address(text)
    except ConfigError as problem:
        raise argparse.ArgumentTypeError(str(problem).removeprefix("--dask-address ")) from problem
    return text


def _reviewed(args: argparse.Namespace) -> int:
    from hyposcreen.config import load_mapping
    from hyposcreen.errors import ConfigError
    from hyposcreen.review_file import read_reviews, unlisted_reviews
    from hyposcreen.state import StateStore, require_state, state_dir_from_env

    state_dir = state_dir_from_env(args.state_dir)
    if state_dir is None:
        raise ConfigError("Give --state-dir (or set HYPOSCREEN_STATE_DIR): reviews live there.")
    mapping = load_mapping(args.mapping)
    site = mapping.site

    @functools.cache
    def opened() -> StateStore:
        require_state(state_dir, "; no review was recorded")  # no new, empty state there
        store = StateStore(state_dir, site)
        store.require_this_site(state_dir)  # reviews under another site's name would never apply
        return store

    # the file's errors come first; the listed ids judge an id in a spreadsheet's form
    reviews = read_reviews(args.file, mapping.timezone, lambda: opened().listed_patients())
    store = opened()
    added = store.record_reviews(reviews)
    print(
        f"hyposcreen: recorded {added} new review(s) of {reviews['patient_id'].nunique()} "
        f"patient(s) for site {site} ({len(reviews) - added} already known).",
        file=sys.stderr,
    )
    if (unlisted := unlisted_reviews(args.file, reviews, store.listed_patients())) is None:
        return EXIT_OK
    print(f"hyposcreen: warning: {unlisted}", file=sys.stderr)
    return EXIT_SCREENED_WITH_WARNINGS


class _PackageWarnings(logging.Handler):
    """The package's logged warnings (the FHIR reader's: export files it ignores) on stderr as
    every other message is printed, `hyposcreen: warning: …` (stderr looked up per message)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            print(f"hyposcreen: {record.levelname.lower()}: {record.getMessage()}", file=sys.stderr)
        except Exception:
            self.handleError(record)


def _prepare_process() -> None:
    """Private files and the orchestrator's settings, before anything imports Prefect."""
    from hyposcreen.runtime_env import configure_orchestrator, make_private

    make_private()
    configure_orchestrator()
    package = logging.getLogger("hyposcreen")
    if not any(isinstance(h, _PackageWarnings) for h in package.handlers):
        package.addHandler(_PackageWarnings(logging.WARNING))
    if not os.environ.get("HYPOSCREEN_DEBUG"):
        logging.raiseExceptions = False  # a log handler's own failure prints nothing either


def _warm_up_validation(args: argparse.Namespace) -> None:
    """A run without the flow may import GX while it reads: validate/warm_up.py decides (by
    default when a second core is free; HYPOSCREEN_GX_WARM_UP=1 always, 0 never). The import
    is pure Python and holds the GIL, which the read and clean take back after every Arrow,
    DuckDB and numpy call: beside them on a free core it costs the read less than the validate
    step saves, on a machine whose cores are all taken it did not (bench/README.md). Never
    under the flow: its main thread imports Prefect meanwhile."""
    if args.no_flow:
        from hyposcreen.validate.warm_up import warm_up_in_background

        warm_up_in_background()


def main(argv: Sequence[str] | None = None) -> int:
    stdout_opened()
    args = parsed_arguments(_parser(), argv)
    noted: list[int] = []
    with noting_interrupts(noted):
        return _main(args, noted)


def _main(args: argparse.Namespace, noted: list[int]) -> int:
    try:
        _prepare_process()
        if args.command == "run":
            _warm_up_validation(args)
            return run_notified(args, run_command)
        if args.command == "status":
            return flushed(status_command, args)
        if args.command == "reviewed":
            return flushed(_reviewed, args)
        if args.command == "audit":
            return flushed(audit_command, args)
    except HyposcreenError as exc:
        shown: HyposcreenError = environment_problem(exc) or exc
        print(f"hyposcreen: error: {shown}", file=sys.stderr)
        return shown.exit_code
    except BrokenPipeError:  # `hyposcreen status | head`: the reader has all it wanted
        stdout_to_devnull()
        return EXIT_PIPE_CLOSED
    except KeyboardInterrupt as exc:
        return stopped(
            signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT, args.command
        )
    except Exception as exc:  # a bug, not bad input: still one paragraph unless debugging
        if noted:  # an interrupt a library reported as its own error
            return stopped(noted[-1], args.command)
        problem = environment_problem(exc)
        if problem is not None:
            print(f"hyposcreen: error: {problem}", file=sys.stderr)
            return problem.exit_code
        if os.environ.get("HYPOSCREEN_DEBUG"):
            raise
        print(internal_error_line(exc), file=sys.stderr)  # its kind only: no extract values
        return EXIT_UNEXPECTED
    return EXIT_UNEXPECTED


if __name__ == "__main__":
    sys.exit(main())
