"""`import great_expectations` without paying for the parts of GX hyposcreen never uses.

GX's import costs ~1.7 s of CPU here (Python 3.11, GX 1.24), and half of it is three things
no hyposcreen suite touches:

- **scipy.stats** (~0.7 s with scipy.optimize, scipy.spatial, ...): imported at module level
  by the KL-divergence expectation and the two KS-test metrics, used only inside them.
- **altair** (~0.2 s with narwhals and jsonschema): imported at module level by the
  KL-divergence expectation, used only to draw its charts.
- **SQLAlchemy** (~0.3 s): one of GX's optional dependencies (``great_expectations[postgresql]``
  and the like), installed here only because Prefect needs it; when it is importable GX
  defines its SQL data sources and metrics on it. hyposcreen validates pandas frames only.

While GX imports, SQLAlchemy is hidden (GX then behaves as when installed without its SQL
extras), and scipy.stats and altair are bound to stand-ins that import the real module on
first use: GX's modules keep the stand-in, and `stats.entropy` or `alt.Chart` there loads
and answers from the real module, so every expectation and renderer works as before, only the
first use of those three pays the import. The stand-ins sit in ``sys.modules`` only during
GX's import; any other ``import scipy.stats`` meanwhile (another thread) gets a stand-in that
answers the same way. Nothing is hidden or deferred that is already loaded (a flow run has
SQLAlchemy). GX's packages that import a whole family of modules of which hyposcreen uses a
few are imported trimmed, the rest on first use: its data sources (validate/gx_sources.py:
Spark, SQL, pandas on files and cloud storage) and its core expectations
(validate/gx_expectations.py: those no suite uses); jsonschema, imported at module level by
one expectation's metric only, is deferred like scipy.stats. With them GX imports in ~0.55 s
of CPU instead of ~1.0 s. The cyclic garbage collector is paused during the import: GX builds ~200k
objects, and the full collections they trigger cost ~0.3 s while finding nothing to free.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import sys
import threading
import types
from typing import Any

from hyposcreen.validate import gx_expectations, gx_sources
from hyposcreen.validate.gx_trim import DeferringFinder

# imported by GX at module level, used in its functions
_DEFERRED = ("scipy.stats", "altair", "jsonschema")
_HIDDEN = "sqlalchemy"  # optional for GX: without it, GX skips its SQL data sources

_LOCK = threading.Lock()
_HOOKING = threading.Lock()  # one thread puts GX's look-up hooks in place (each checks, then hooks)


class DeferredModule(types.ModuleType):
    """Stands for a module until an attribute is first read, then imports and delegates to it."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.__spec__ = None  # an import of the name sees a module, not one being initialised
        self._hyposcreen_real: types.ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        if attribute != "__path__" and attribute.startswith("__") and attribute.endswith("__"):
            raise AttributeError(attribute)  # a probe (copy, inspect, pickle) loads nothing
        return getattr(self._hyposcreen_load(), attribute)  # __path__: a submodule's import

    def _hyposcreen_load(self) -> types.ModuleType:
        with _LOCK:
            if self._hyposcreen_real is None:
                if sys.modules.get(self.__name__) is self:
                    del sys.modules[self.__name__]
                self._hyposcreen_real = importlib.import_module(self.__name__)
            return self._hyposcreen_real

    def __dir__(self) -> list[str]:
        return dir(self._hyposcreen_load())


def import_gx() -> types.ModuleType:
    """Import GX as described above (once; later calls return the loaded module), with its
    pure helpers memoised (validate/gx_speedups.py) and its metric plans kept over a loop of
    windows (validate/gx_graphs.py)."""
    if "great_expectations" in sys.modules:  # (waits if another thread is importing it)
        return _with_speedups(importlib.import_module("great_expectations"))
    placed: dict[str, types.ModuleType | None] = {}
    with _LOCK:
        if _HIDDEN not in sys.modules:
            placed[_HIDDEN] = sys.modules[_HIDDEN] = None  # type: ignore[assignment]
        for name in _DEFERRED:
            if name not in sys.modules:
                placed[name] = sys.modules[name] = DeferredModule(name)
    finder = DeferringFinder([gx_sources.TRIM, *gx_expectations.TRIMS])
    collecting = gc.isenabled()
    gc.disable()
    sys.meta_path.insert(0, finder)
    try:
        gx = importlib.import_module("great_expectations")
    finally:
        if finder in sys.meta_path:
            sys.meta_path.remove(finder)
        if collecting:
            gc.enable()
        with _LOCK:
            for name, stand_in in placed.items():
                if name in sys.modules and sys.modules[name] is stand_in:
                    del sys.modules[name]
    return _frozen(_with_speedups(gx))


def _frozen(gx: types.ModuleType) -> types.ModuleType:
    """The objects alive once GX is imported (its ~150k, kept for the rest of the process) are
    moved out of the cyclic garbage collector's reach (`gc.freeze`): a full collection after
    it (a partitioned run's `release_free_memory` before its contracts' tables, its merge and
    its writers: ~0.15-0.25 s each with GX loaded) does not walk them again. They are handed
    back at exit (`gc.unfreeze`), so the interpreter's last collections still reach every
    object (DuckDB's extension types count theirs at exit and would report them leaked)."""
    gc.freeze()
    atexit.register(gc.unfreeze)
    return gx


def _with_speedups(gx: types.ModuleType) -> types.ModuleType:
    from hyposcreen.validate import gx_graphs
    from hyposcreen.validate.gx_speedups import install

    if install():  # a GX version whose helpers were checked: its planning kept as well
        gx_graphs.install()
    with _HOOKING:  # a thread importing GX ahead and this one may both get here
        gx_sources.hook_lookups()
        gx_expectations.hook_lookups()
    return gx
