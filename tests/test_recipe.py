"""One recipe, several runners: the stages are declared once and every runner walks them.

The in-process runner, the partitioned runner's per-partition work and the Prefect flow take
their stages from `hyposcreen.recipe.STAGES`; the CLI and the flow share one window loop.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from hyposcreen.config import RunSettings, parse_window
from hyposcreen.context import CleanedInputs, ContractReport, ReadTables, RunContext, prepare
from hyposcreen.recipe import STAGES, Stage
from hyposcreen.runners.in_process import run_pipeline, run_recipe
from hyposcreen.runners.window_loop import FAILED_FILE, screen_windows
from hyposcreen.screen.cases import ScreenResult

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "canonical"
WINDOW = parse_window("2026-11-20T00:00:00", "2026-11-21T00:00:00")


def test_the_stages_are_listed_in_the_order_data_flows() -> None:
    names = [stage.name for stage in STAGES]
    assert names == ["read", "clean", "contracts", "screen", "history", "publish"]
    for position, stage in enumerate(STAGES):  # a stage takes only earlier stages' outputs
        assert set(stage.inputs) <= set(names[:position]), stage.name


def test_a_runner_with_its_own_way_of_calling_stages_writes_the_same_outputs(
    tmp_path: Path,
) -> None:
    """A runner decides only how a stage is called (as the flow does with tasks): every stage
    runs once, in order, on typed outputs, and the outputs equal the plain in-process run's."""
    called: list[str] = []
    produced: dict[str, type] = {}

    def call(stage: Stage, ctx: RunContext, inputs: list[Any]) -> Any:
        called.append(stage.name)
        return stage.run(ctx, *inputs)

    def observe(name: str, output: Any) -> None:
        produced[name] = type(output)

    ctx = prepare(RunSettings(SAMPLE, tmp_path / "walked", WINDOW))
    walked = run_recipe(ctx, call=call, observe=observe)
    plain = run_pipeline(RunSettings(SAMPLE, tmp_path / "plain", WINDOW))
    assert called == [stage.name for stage in STAGES]
    assert produced["read"] is ReadTables and produced["clean"] is CleanedInputs
    assert produced["contracts"] is ContractReport and produced["screen"] is ScreenResult
    assert produced["history"] is ScreenResult
    for name in ("review_list.csv", "evidence.csv", "quarantine.csv", "coverage.csv"):
        assert (walked.out_dir / name).read_bytes() == (plain.out_dir / name).read_bytes()
    steps = [s["step"] for s in walked.manifest["attrition"]]  # history completes the funnel
    assert steps[:4] == [
        "sodium_results_in_window",
        "usable_results",
        "hyperglycemia_related_results",
        "hyponatremic_results",
    ]
    assert steps[-1] == "listed" and walked.manifest["listed"] == 35


def test_the_window_loop_stops_at_a_failed_window_and_clears_old_failures(
    tmp_path: Path,
) -> None:
    windows = [
        parse_window(f"2026-11-{day}T00:00:00", f"2026-11-{day + 1}T00:00:00")
        for day in (18, 19, 20)
    ]
    first = tmp_path / "2026-11-18"
    first.mkdir()
    (first / FAILED_FILE).write_text("{}")  # an earlier failure of this night
    failures: list[tuple[str, str]] = []

    def settings_for(window: Any) -> RunSettings:
        return RunSettings(SAMPLE, tmp_path / window.start.strftime("%Y-%m-%d"), window)

    def screen_window(settings: RunSettings) -> dict[str, Any]:
        if settings.window == windows[1]:
            raise OSError("share went away")
        return {"window": settings.window.label()}

    def on_failure(window: Any, settings: RunSettings, error: BaseException) -> None:
        failures.append((window.label(), str(error)))

    with pytest.raises(OSError, match="share went away"):
        screen_windows(windows, settings_for, screen_window, on_failure)
    assert failures == [(windows[1].label(), "share went away")]
    assert not (first / FAILED_FILE).exists()
    outcomes = screen_windows(windows[:1], settings_for, screen_window, on_failure)
    assert outcomes == [{"window": windows[0].label()}]


def _imported_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom):
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_no_module_but_the_recipe_restates_the_chain() -> None:
    """The stage bodies (cleaning, the screen, the contracts, the writers) are called from the
    recipe's modules only; runners, the CLI, audit and the flow go through the recipe."""
    bodies = {
        "hyposcreen.clean.clean_labs",
        "hyposcreen.screen.cases.screen",
        "hyposcreen.validate.gx.validate_tables",
        "hyposcreen.report.review_list.build_review_list",
    }
    recipe = {"recipe.py", "recipe_clean.py", "recipe_contracts.py", "recipe_publish.py"}
    files = [*(ROOT / "src" / "hyposcreen").rglob("*.py"), *(ROOT / "flows").glob("*.py")]
    callers = {
        str(path.relative_to(ROOT))
        for path in files
        if path.name not in recipe
        and path.parent.name not in ("clean", "screen", "validate", "report")
        and _imported_names(path) & bodies
    }
    assert callers == set()
    assert _imported_names(ROOT / "src" / "hyposcreen" / "recipe.py") & bodies  # not vacuous
