"""`hyposcreen run`: the windows of a run through the Prefect flow or, without it, through
the shared window loop (runners.window_loop); the closing lines and the exit status."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from hyposcreen.cli_ops import remember_failure
from hyposcreen.cli_stdout import stdout_reason, stdout_to_devnull
from hyposcreen.cli_warnings import read_manifest, warnings_status
from hyposcreen.errors import EnvironmentProblem
from hyposcreen.failures import failure_record, write_failed_json
from hyposcreen.runtime_env import prefect_home_problem

EXIT_OK = 0


def run_command(args: argparse.Namespace) -> int:
    """`hyposcreen run`: every window still to do, through the Prefect flow or without it."""
    from hyposcreen.config import load_mapping
    from hyposcreen.runners.handoff import spill_codec
    from hyposcreen.state import state_dir_from_env

    state_dir = state_dir_from_env(args.state_dir)
    spill_codec()  # a misspelt spill compression is refused before any input is read
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
        with (
            _holding_the_state(args, state_dir),
            nightly.orchestrated(str(args.input)),
            _quiet_prefect_console(),
        ):
            outcome = _flow_run(
                nightly,
                args,
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
        folders = nightly.published_folders()  # the folders of outcome["windows"], in order
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
    if nightly is None:
        folders = [Path(str(o["review_csv"])).parent for o in outcomes]
    for folder in folders[:-1]:  # the earlier windows of a backfill or catch-up, each named
        _listed_line(read_manifest(folder), f"[{folder.name}] ")
    _listed_line(outcome, f"[{folders[-1].name}] " if len(folders) > 1 else "")
    _say_out(f"Review list: {outcome['review_csv']}")
    return warnings_status(folders)


def _say_out(line: str) -> None:
    """A line on stdout; a reader gone already (`run ... | grep -q`) does not replace the
    run's own exit status and warnings (still told on stderr) with 141, nor does a stdout the
    system refuses (`>> run.log` on a full disk: 120 at the exit's flush), told on stderr."""
    try:
        print(line, flush=True)
    except BrokenPipeError:
        stdout_to_devnull()
    except OSError as error:
        stdout_to_devnull()
        print(
            f"hyposcreen: warning: standard output could not be written ({stdout_reason(error)}):"
            " the night was screened and published, only this line was lost.",
            file=sys.stderr,
        )


def _listed_line(outcome: dict[str, Any], where: str) -> None:
    """The line saying how many cases a window listed (counts only)."""
    tiers = outcome.get("counts_per_tier") or {}
    print(
        f"hyposcreen: {where}{outcome.get('listed', '?')} case(s) listed (urgent "
        f"{tiers.get('1', '?')}, soon {tiers.get('2', '?')}, routine {tiers.get('3', '?')}); "
        f"run {outcome.get('run_id', '?')}; rules {outcome.get('rules_version', '?')}, "
        f"severity profile {outcome.get('profile', '?')}",
        file=sys.stderr,
    )


def _flow_run(nightly: ModuleType, args: argparse.Namespace, **parameters: Any) -> dict[str, Any]:
    """The flow's outcome; when a window fails, the warnings of the windows it published
    before are told first (named by window), as the plain loop tells them, and those windows
    and the one that failed are left in `args` for the alerts (cli_ops.run_notified)."""
    nightly.forget_published()
    try:
        outcome: dict[str, Any] = nightly.nightly_screen(**parameters)
    except BaseException:
        published = nightly.published_folders()
        warnings_status(published, named=True)
        args.notified_outcomes = [{**read_manifest(f), "out_dir": str(f)} for f in published]
        args.failed_window = nightly.failed_window()
        raise
    return outcome


@contextmanager
def _holding_the_state(args: argparse.Namespace, state_dir: Path | None) -> Iterator[None]:
    """The state dir held by this process from before the orchestrator starts until the flow
    is done (the flow's own hold is then the same one): a state dir another run holds stops
    this run at once (StateInUse, 75). A second nightly run waited for its own Prefect server
    (45 s at load 5) only to be refused by the flow, and two started together both started
    one. A mapping that does not load is left for the flow to report (its FAILED.json)."""
    from hyposcreen.config import load_mapping
    from hyposcreen.errors import HyposcreenError
    from hyposcreen.state_lock import holding_state

    try:
        site = load_mapping(args.mapping).site
    except HyposcreenError:
        site = None
    if state_dir is None or site is None:
        yield
        return
    with holding_state(state_dir, site, lend=True):
        yield


def _run_without_flow(args: argparse.Namespace, state_dir: Path | None) -> list[dict[str, Any]]:
    """The flow's loop over windows (runners.window_loop), in plain Python (no Prefect)."""
    from hyposcreen.config import load_mapping
    from hyposcreen.state_lock import holding_state

    site = load_mapping(args.mapping)
    with holding_state(state_dir, site.site):  # one run at a time screens a site's nights
        return _screen_planned(args, state_dir, site)


def _screen_planned(
    args: argparse.Namespace, state_dir: Path | None, site: Any
) -> list[dict[str, Any]]:
    """The windows still to do (plan_windows), each screened in turn."""
    from hyposcreen.config import RunSettings, Window
    from hyposcreen.runners import run_screen
    from hyposcreen.runners.in_process import run_recipe
    from hyposcreen.runners.window_loop import (
        ReadAhead,
        SharedInput,
        WindowContexts,
        screen_windows,
    )
    from hyposcreen.windows import out_folder, plan_windows

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

    def tell(text: str) -> None:
        print(f"hyposcreen: {text}", file=sys.stderr)

    shared = SharedInput(windows, args.partitions, args.executor, tell)
    contexts = WindowContexts()  # mapping, rules and state loaded once for the windows
    screened: list[Path] = []  # the windows published so far

    def screen_window(settings: RunSettings) -> dict[str, Any]:
        ctx = contexts(settings)
        if len(windows) == 1:  # a loop's windows read ahead: each tells its count line only
            ctx.tell = tell
        if shared.attach(ctx):  # cut from the input read once for every window
            summary = run_recipe(ctx)
        else:
            summary = run_screen(
                ctx, shared.partitions, args.executor, args.dask_address, shared.spilled()
            )
        screened.append(summary.review_csv.parent)
        outcome = {**summary.manifest, "review_csv": str(summary.review_csv)}
        args.notified_outcomes.append(outcome)  # told even when a later window fails
        return outcome

    def on_failure(window: Window, settings: RunSettings, error: BaseException) -> None:
        if len(windows) > 1:  # the windows published before this one keep their warnings
            warnings_status(screened, named=True)
        bounds = (window.start.isoformat(), window.end.isoformat())
        record = failure_record(error, bounds, site.timezone)
        args.failed_window = (*bounds, settings.out_dir)  # for the alert
        write_failed_json(settings.out_dir, record)
        remember_failure(state_dir, site.site, window, error, settings.out_dir)

    def progress(number: int, total: int, window: Window) -> None:
        _progress(number, total, window.label(), args, site.timezone)

    try:
        ahead = ReadAhead(contexts, shared)  # the next windows validated while one publishes
        return screen_windows(windows, settings_for, screen_window, on_failure, progress, ahead)
    finally:
        shared.close()  # a spill shared by the windows holds patient rows


def _progress(number: int, total: int, label: str, args: argparse.Namespace, timezone: str) -> None:
    step = f" [{number}/{total}]" if total > 1 else ""
    from hyposcreen.run_progress import screening_line

    line = screening_line(args.input, label, args.profile, timezone)
    print(f"hyposcreen:{step} {line}", file=sys.stderr)


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
        if (problem := prefect_home_problem()) is not None:  # before Prefect's import warns
            raise EnvironmentProblem(problem)
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
