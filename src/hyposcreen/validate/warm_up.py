"""Importing Great Expectations ahead of time, while the run reads and cleans its input.

`import great_expectations` costs ~1 s of pure Python even without the parts hyposcreen never
uses (validate/gx_import.py: pydantic models for every expectation and data source, ...), then
the first run builds a context and compiles GX's Data Docs templates (~0.1 s).
Only with ``HYPOSCREEN_GX_WARM_UP=1`` does `warm_up_in_background` start all of this in a
background thread (cli.py calls it as a run without the flow begins; unset or any other value:
GX is imported in the validate step, decided here and nowhere else): reading and
cleaning run mostly in DuckDB and Arrow, which release the GIL now and then, so on a large
extract with a free core the import is done by the time the contracts stage needs it. The
contracts stage waits for the thread (validate/context.py) before it touches GX. On a busy
machine the import slows the read more than it saves (bench/README.md), hence opt-in.
"""

from __future__ import annotations

import os
import sys

from hyposcreen.validate import context, gx_pages
from hyposcreen.validate.gx_import import import_gx
from hyposcreen.validate.suites import REVIEW_LIST, TABLES


def warm_up_in_background() -> None:
    """Start the warm-up once per process, only when HYPOSCREEN_GX_WARM_UP is 1 (not when GX
    is already imported)."""
    if os.environ.get("HYPOSCREEN_GX_WARM_UP") != "1":
        return
    if "great_expectations" in sys.modules or context._BACKGROUND:
        return
    context.start_in_background(_warm_up)


def _warm_up() -> None:
    import_gx()
    context.prepare((*TABLES, REVIEW_LIST))
    gx_pages.prepare()
