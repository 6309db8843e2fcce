"""The in-process runner: walk the recipe's stages for one window, in this process."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hyposcreen.config import RunSettings
from hyposcreen.context import RunContext, RunSummary, discard_outputs, prepare
from hyposcreen.ingest.tabular import TooLargeForMemory
from hyposcreen.recipe import STAGES, Stage
from hyposcreen.validate import worker_client

# how one stage is executed: call(stage, ctx, inputs) -> output (default: stage.run(ctx, *inputs))
StageCall = Callable[[Stage, RunContext, list[Any]], Any]
# told each stage's output as it is produced (progress lines); must not change it
StageObserver = Callable[[str, Any], None]


def run_stages(
    ctx: RunContext,
    stages: Sequence[Stage] = STAGES,
    call: StageCall | None = None,
    observe: StageObserver | None = None,
) -> dict[str, Any]:
    """Each stage in order, fed the outputs of the stages it names; every output by name.
    The stages whose outputs the context already holds (`ctx.done`) are not run again."""
    outputs: dict[str, Any] = dict(ctx.done)
    ctx.done = {}
    for stage in stages:
        if stage.name in outputs:
            continue
        inputs = [outputs[name] for name in stage.inputs]
        outputs[stage.name] = (
            call(stage, ctx, inputs) if call is not None else stage.run(ctx, *inputs)
        )
        if observe is not None:
            observe(stage.name, outputs[stage.name])
    return outputs


def run_recipe(
    ctx: RunContext, call: StageCall | None = None, observe: StageObserver | None = None
) -> RunSummary:
    """One window, every stage; on any failure the half-built output folder goes (the
    previous outputs stay)."""
    try:
        summary: RunSummary = run_stages(ctx, STAGES, call, observe)["publish"]
        return summary
    except BaseException as failure:
        if isinstance(failure, TooLargeForMemory):  # the partitioned runner takes over:
            worker_client.stop()  # no contracts worker then
        discard_outputs(ctx)
        raise


def run_pipeline(settings: RunSettings) -> RunSummary:
    """The whole run of one window without orchestration (tests, benchmarks)."""
    return run_recipe(prepare(settings))
