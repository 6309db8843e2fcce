"""Importing Great Expectations ahead of time, while the run reads and cleans its input.

`import great_expectations` costs ~2 s of pure Python (scipy.stats, pydantic models for every
expectation, ...), then the first run builds a context and compiles GX's Data Docs templates.
A run that will validate starts all of this in a background thread as it begins: reading and
cleaning run mostly in DuckDB and Arrow, which release the GIL, so on a large extract the
import is done by the time the contracts stage needs it. The contracts stage waits for the
thread (validate/context.py) before it touches GX; on a tiny input it simply waits for what it
would otherwise have done itself. The overlap needs a free core: on a machine busy with other
work it saves nothing. ``HYPOSCREEN_GX_WARM_UP=0`` turns it off (to compare, bench/README.md).
"""

from __future__ import annotations

import importlib
import os
import sys

from hyposcreen.validate import context, gx_pages
from hyposcreen.validate.suites import REVIEW_LIST, TABLES


def warm_up_in_background() -> None:
    """Start the warm-up once per process (not when GX is already imported, nor when
    HYPOSCREEN_GX_WARM_UP is 0)."""
    if os.environ.get("HYPOSCREEN_GX_WARM_UP", "1") == "0":
        return
    if "great_expectations" in sys.modules or context._BACKGROUND:
        return
    context.start_in_background(_warm_up)


def _warm_up() -> None:
    import_without_sql_extras()
    context.prepare((*TABLES, REVIEW_LIST))
    gx_pages.prepare()


def import_without_sql_extras() -> None:
    """`import great_expectations` as GX is when installed without its SQL extras (~0.3 s
    less): SQLAlchemy is one of GX's optional dependencies (``great_expectations[postgresql]``
    and the like), here only because Prefect needs it, and GX then defines its SQL data sources
    and metrics on it. hyposcreen validates pandas frames only. SQLAlchemy is hidden from the
    import and only from it; nothing is hidden when it is loaded already (a flow run). Safe in
    a run without the flow, whose main thread never imports SQLAlchemy meanwhile: nothing under
    src/hyposcreen does (tests/test_validate_runtime.py)."""
    if "sqlalchemy" in sys.modules:
        importlib.import_module("great_expectations")
        return
    sys.modules["sqlalchemy"] = None  # type: ignore[assignment]  # "not installed"
    try:
        importlib.import_module("great_expectations")
    finally:
        if "sqlalchemy" in sys.modules and sys.modules["sqlalchemy"] is None:
            del sys.modules["sqlalchemy"]
