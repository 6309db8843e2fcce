"""A plain run reads and cleans without Great Expectations importing beside it: the import
holds the GIL and slows every Arrow, DuckDB and numpy call of the read more than it saves
(docs/scaling.md). HYPOSCREEN_GX_WARM_UP=1 still asks for the background import."""

from __future__ import annotations

import os
import textwrap

from tests.helpers import run_script

_SCRIPT = textwrap.dedent(
    """
    import argparse, sys, threading
    from hyposcreen.cli import _warm_up_validation
    _warm_up_validation(argparse.Namespace(no_flow=True))
    names = sorted(t.name for t in threading.enumerate() if t is not threading.main_thread())
    print(",".join(names) or "-", "great_expectations" in sys.modules)
    """
)


def _started(setting: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "HYPOSCREEN_GX_WARM_UP"}
    if setting is not None:
        env["HYPOSCREEN_GX_WARM_UP"] = setting
    done = run_script(_SCRIPT, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_run_without_the_flow_does_not_import_gx_while_it_reads() -> None:
    assert _started(None) == "- False"
    assert _started("0") == "- False"


def test_the_background_import_can_still_be_asked_for() -> None:
    threads, _ = _started("1").split()
    assert threads == "hyposcreen-gx-warm-up"
