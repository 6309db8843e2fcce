"""Importing a GX package with some of its ``__init__``'s imports left for first use.

Some GX packages import, in their ``__init__``, every module of a family of which hyposcreen
uses a few (validate/gx_sources.py: data sources; validate/gx_expectations.py: expectations),
each module building pydantic classes as it is imported. While GX imports
(validate/gx_import.py), `DeferringFinder` loads such a package with a `Trim`: its
``__init__`` is compiled without the ``from <module> import ...`` statements (or the names of
them) that the trim defers, and a module ``__getattr__`` (PEP 562) gives each name so dropped,
and each dropped submodule, on first access by importing its module then: ``package.Name`` and
``from package import Name`` answer as before. What registers itself with GX on import is
loaded by the look-ups that miss it (hooked by the two modules above).

A package is loaded unchanged unless GX's version is one this was checked against, and when
any kept top-level statement of its ``__init__`` reads a dropped name.
"""

from __future__ import annotations

import ast
import importlib
import importlib.abc
import importlib.machinery
import sys
import threading
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hyposcreen.validate.gx_speedups import CHECKED_VERSIONS


@dataclass
class Trim:
    """What a package's ``__init__`` need not import: whole modules (`defers`, by full name)
    and single names of kept imports (`names`: name -> the module that defines it). After the
    import, `dropped` holds name -> module of what was left out."""

    package: str
    defers: Callable[[str], bool]
    names: Callable[[], dict[str, str]] = dict
    dropped: dict[str, str] = field(default_factory=dict)
    loaded: list[bool] = field(default_factory=list)
    loading: list[bool] = field(default_factory=list)

    def trimmed(self) -> bool:
        """Whether the package was imported trimmed in this process."""
        module = sys.modules.get(self.package)
        loader = getattr(getattr(module, "__spec__", None), "loader", None)
        return isinstance(loader, _Loader) and loader.transformed is not None

    def load_all(self) -> None:
        """Import every dropped module (each registers itself with GX), once; a look-up that
        their own imports make meanwhile answers as it is."""
        if self.loaded:
            return
        with _LOCK:
            if self.loaded or self.loading:
                return
            self.loading.append(True)
            try:
                for name in sorted(set(self.dropped.values())):
                    importlib.import_module(name)
                self.loaded.append(True)
            finally:
                self.loading.clear()


_LOCK = threading.RLock()


def without_deferred_imports(source: bytes | str, path: str, trim: Trim) -> tuple[Any, dict]:
    """The package ``__init__``'s code without what `trim` defers, and name -> module of each
    name left out; (None, {}) when a kept statement reads one."""
    tree = ast.parse(source, path)
    names = trim.names()
    kept: list[ast.stmt] = []
    dropped: dict[str, str] = {}
    for statement in tree.body:
        if isinstance(statement, ast.ImportFrom) and statement.level <= 1:
            module = _absolute(statement, trim.package)
            if trim.defers(module):
                dropped.update({alias.asname or alias.name: module for alias in statement.names})
                continue
            left = [alias for alias in statement.names if alias.name not in names]
            dropped.update(
                {a.asname or a.name: names[a.name] for a in statement.names if a not in left}
            )
            if not left:
                continue
            statement.names = left
        kept.append(statement)
    tree.body = kept
    read = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    if read & set(dropped) or "__getattr__" in read:
        return None, {}
    return compile(tree, path, "exec", dont_inherit=True), dropped


def _absolute(statement: ast.ImportFrom, package: str) -> str:
    if statement.level == 0:
        return statement.module or ""
    return f"{package}.{statement.module}" if statement.module else package


def imported_names(source: bytes | str, package: str) -> dict[str, str]:
    """name -> full module name of each ``from <module> import <name>`` of an ``__init__``."""
    found: dict[str, str] = {}
    for statement in ast.parse(source).body:
        if isinstance(statement, ast.ImportFrom) and statement.level <= 1:
            module = _absolute(statement, package)
            found.update({alias.asname or alias.name: module for alias in statement.names})
    return found


class _Loader(importlib.machinery.SourceFileLoader):
    """Executes the package ``__init__`` as `without_deferred_imports` gives it (never from
    or into its bytecode cache, which holds GX's own code)."""

    def __init__(self, fullname: str, path: str, trim: Trim) -> None:
        super().__init__(fullname, path)
        self.trim = trim
        self.transformed: Any = None

    def exec_module(self, module: types.ModuleType) -> None:
        version = getattr(sys.modules.get("great_expectations"), "__version__", None)
        if version in CHECKED_VERSIONS:
            path = self.get_filename(self.name)
            self.transformed, dropped = without_deferred_imports(
                self.get_data(path), path, self.trim
            )
            if self.transformed is not None:
                self.trim.dropped.update(dropped)
                module.__getattr__ = _names_on_demand(module, self.trim)  # type: ignore[method-assign]
        super().exec_module(module)  # runs get_code's code

    def get_code(self, fullname: str) -> Any:
        if fullname == self.name and self.transformed is not None:
            return self.transformed
        return super().get_code(fullname)


def _names_on_demand(package: types.ModuleType, trim: Trim) -> Callable[[str], Any]:
    def __getattr__(name: str) -> Any:
        submodule = f"{package.__name__}.{name}"
        if submodule in trim.dropped.values():
            return importlib.import_module(submodule)  # (the import binds it on the package)
        if name not in trim.dropped:
            raise AttributeError(f"module {package.__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(trim.dropped[name]), name)
        setattr(package, name, value)
        return value

    return __getattr__


class DeferringFinder(importlib.abc.MetaPathFinder):
    """Finds the trimmed packages as the path finder does, to be loaded by `_Loader`. On
    ``sys.meta_path`` only while GX imports."""

    def __init__(self, trims: Sequence[Trim]) -> None:
        self.trims = {trim.package: trim for trim in trims}

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        trim = self.trims.get(fullname)
        if trim is None:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not isinstance(spec.loader, importlib.machinery.SourceFileLoader):
            return spec
        spec.loader = _Loader(fullname, str(spec.origin), trim)
        return spec


def retried(method: Any, missing: type[Exception], trim: Trim) -> Any:
    """`method(self, key)` that, when it raises `missing` for a text key before the trim's
    modules were loaded, loads them and asks again."""

    def on_miss(self: Any, key: Any) -> Any:
        loaded = bool(trim.loaded)  # (GX's own error message may load them meanwhile)
        try:
            return method(self, key)
        except missing:
            if loaded or not isinstance(key, str) or key.startswith("__"):
                raise
        trim.load_all()
        return method(self, key)

    on_miss.__name__, on_miss.__doc__ = method.__name__, method.__doc__
    return on_miss


def loading_first(method: Any, trim: Trim) -> Any:
    """`method` that loads the trim's modules first."""

    def loading(self: Any, *args: Any, **kwargs: Any) -> Any:
        trim.load_all()
        return method(self, *args, **kwargs)

    loading.__name__, loading.__doc__ = method.__name__, method.__doc__
    return loading
