"""Flow runs a killed `hyposcreen run` left Running: tagged with the process that started them,
and marked Crashed by the next run of the same machine (the UI then shows no run forever
Running)."""

from __future__ import annotations

import os
import socket

from hyposcreen.report.folders import is_pid_text, process_alive

RUN_TAG_PREFIX = "hyposcreen-cli:"  # + <host>:<pid> on flow runs started by `hyposcreen run`


def run_tag() -> str:
    return f"{RUN_TAG_PREFIX}{socket.gethostname()}:{os.getpid()}"


def mark_crashed_runs() -> int:
    """Flow runs left Running by a `hyposcreen run` of this machine that is gone -> Crashed."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
        FlowRunFilterTags,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.states import Crashed

    host_prefix = f"{RUN_TAG_PREFIX}{socket.gethostname()}:"
    marked = 0
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(
                    type=FlowRunFilterStateType(any_=[StateType.RUNNING, StateType.PENDING])
                ),
                tags=FlowRunFilterTags(is_null_=False),
            )
        )
        for run in runs:
            pids = [t[len(host_prefix) :] for t in run.tags if t.startswith(host_prefix)]
            if pids and is_pid_text(pids[0]) and not process_alive(int(pids[0])):
                client.set_flow_run_state(
                    run.id,
                    Crashed(message="The hyposcreen run that started it was killed."),
                    force=True,
                )
                marked += 1
    return marked
