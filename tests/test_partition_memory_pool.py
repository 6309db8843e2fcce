"""The runners' Arrow memory pool: jemalloc in a process that runs the recipe, unless
$ARROW_DEFAULT_MEMORY_POOL names another (runners.executors.use_jemalloc)."""

from __future__ import annotations

import os
import subprocess
import sys

import pyarrow as pa
import pytest

_PROBE = (
    "import pyarrow as pa; before = pa.default_memory_pool().backend_name; "
    "import hyposcreen.runners; print(before, pa.default_memory_pool().backend_name)"
)


def _pools(**env: str) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.split()


@pytest.mark.skipif("jemalloc" not in pa.supported_memory_backends(), reason="no jemalloc")
def test_the_runners_allocate_from_jemalloc() -> None:
    before, after = _pools()
    assert before == "mimalloc" and after == "jemalloc"


@pytest.mark.parametrize("chosen", ["system", "mimalloc"])
def test_a_pool_named_in_the_environment_is_kept(chosen: str) -> None:
    assert _pools(ARROW_DEFAULT_MEMORY_POOL=chosen) == [chosen, chosen]
