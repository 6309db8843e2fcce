"""A plain run may have a contracts worker that imports Great Expectations beside its read
(validate/warm_up.py, worker_client.py): never on one CPU nor with HYPOSCREEN_GX_WARM_UP=0,
always with 1, by default on two CPUs (the worker then watches the machine). This process
never imports GX for it, nor starts a thread."""

from __future__ import annotations

import os
import textwrap

from tests.helpers import run_script

_SCRIPT = textwrap.dedent(
    """
    import argparse, os, sys, threading
    if os.environ.get("ONE_CPU"):
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:1])
    from hyposcreen.cli import _warm_up_validation
    from hyposcreen.validate import worker_client
    _warm_up_validation(argparse.Namespace(no_flow=True))
    names = sorted(t.name for t in threading.enumerate() if t is not threading.main_thread())
    assert not names, names
    print(",".join(worker_client._ALLOWED) or "-", "great_expectations" in sys.modules)
    """
)


def _started(setting: str | None, one_cpu: bool = False) -> str:
    env = {k: v for k, v in os.environ.items() if k != "HYPOSCREEN_GX_WARM_UP"}
    if one_cpu:
        env["ONE_CPU"] = "1"
    if setting is not None:
        env["HYPOSCREEN_GX_WARM_UP"] = setting
    done = run_script(_SCRIPT, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_run_on_one_cpu_or_with_the_warm_up_off_does_not_import_gx_while_it_reads() -> None:
    assert _started(None, one_cpu=True) == "- False"
    assert _started("auto", one_cpu=True) == "- False"
    assert _started("0") == "- False"


def test_the_worker_can_be_asked_for_and_is_tried_by_default_on_two_cpus() -> None:
    assert _started("1", one_cpu=True) == "on False"
    if len(os.sched_getaffinity(0)) >= 2:  # the worker starts, watches, then decides
        assert _started(None) == "auto False"
