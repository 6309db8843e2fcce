"""GX's fluent data sources that hyposcreen never builds, imported only when something asks.

`great_expectations.datasource.fluent` imports every data source GX has at module level:
Spark (on files, DBFS, S3, GCS, Azure: ~25 pydantic models of reader options), SQL (Postgres,
Snowflake, Redshift, Databricks, BigQuery, SQL Server, Fabric ...) and pandas on files and
cloud storage, ~0.15-0.2 s of GX's ~0.9 s import, all building pydantic classes. hyposcreen
validates in-memory frames through one pandas data source (`add_pandas`,
`add_dataframe_asset`): only `PandasDatasource` is needed.

While GX imports (validate/gx_import.py), the package's ``__init__`` is compiled without its
``from <data source module> import ...`` statements for the modules in `DEFERRED_SOURCES`; a
module ``__getattr__`` (PEP 562) gives each name so dropped, and each dropped submodule, on
first access by importing its module then, so ``fluent.SparkDatasource`` or
``from great_expectations.datasource.fluent import SQLDatasource`` answer as before. Every
data source registers itself with GX's `DataSourceManager` when its module is imported; for
those not yet imported, `load_deferred_sources` imports them all, and it is called by GX's
own look-ups when they miss (a crud method such as ``context.data_sources.add_spark``, a type
name read from a stored config, the list of factories), so they find what they found before.

The transformation applies only to the GX versions it was checked against, and only when no
other top-level statement of the ``__init__`` reads a dropped name; otherwise the package
imports unchanged.
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
from typing import Any

from hyposcreen.validate.gx_speedups import CHECKED_VERSIONS

PACKAGE = "great_expectations.datasource.fluent"
_PREFIX = PACKAGE + "."

# The package's modules whose names its __init__ imports and hyposcreen never uses.
DEFERRED_SOURCES = tuple(
    _PREFIX + name
    for name in (
        "alloy_datasource",
        "aurora_datasource",
        "bigquery_datasource",
        "citus_datasource",
        "databricks_sql_datasource",
        "fabric",
        "fabric_datasource",
        "neon_datasource",
        "pandas_azure_blob_storage_datasource",
        "pandas_dbfs_datasource",
        "pandas_file_path_datasource",
        "pandas_filesystem_datasource",
        "pandas_google_cloud_storage_datasource",
        "pandas_s3_datasource",
        "postgres_datasource",
        "redshift_datasource",
        "snowflake_datasource",
        "spark_azure_blob_storage_datasource",
        "spark_datasource",
        "spark_dbfs_datasource",
        "spark_file_path_datasource",
        "spark_filesystem_datasource",
        "spark_google_cloud_storage_datasource",
        "spark_s3_datasource",
        "sql_datasource",
        "sql_server_datasource",
        "sqlite_datasource",
    )
)

_LOCK = threading.RLock()
_LOADED: list[bool] = []  # every deferred module imported (once per process)
_LOADING: list[bool] = []  # being imported (a look-up their imports make answers as it is)
_HOOKED: list[bool] = []


def without_deferred_imports(source: bytes | str, path: str) -> tuple[Any, dict[str, str]]:
    """The package ``__init__``'s code without its imports from `DEFERRED_SOURCES`, and
    name -> module of each name they bound; (None, {}) when a kept statement reads one."""
    tree = ast.parse(source, path)
    kept: list[ast.stmt] = []
    dropped: dict[str, str] = {}
    for statement in tree.body:
        if isinstance(statement, ast.ImportFrom) and statement.module in DEFERRED_SOURCES:
            for alias in statement.names:
                dropped[alias.asname or alias.name] = statement.module
            continue
        kept.append(statement)
    tree.body = kept
    read = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    if read & set(dropped) or "__getattr__" in read:
        return None, {}
    return compile(tree, path, "exec", dont_inherit=True), dropped


class _Loader(importlib.machinery.SourceFileLoader):
    """Executes the package ``__init__`` as `without_deferred_imports` gives it (never from
    or into its bytecode cache, which holds GX's own code)."""

    transformed: Any = None

    def exec_module(self, module: types.ModuleType) -> None:
        version = getattr(sys.modules.get("great_expectations"), "__version__", None)
        if version in CHECKED_VERSIONS:
            path = self.get_filename(self.name)
            self.transformed, dropped = without_deferred_imports(self.get_data(path), path)
            if self.transformed is not None:
                module.__getattr__ = _names_on_demand(module, dropped)  # type: ignore[method-assign]
        super().exec_module(module)  # runs get_code's code

    def get_code(self, fullname: str) -> Any:
        if fullname == self.name and self.transformed is not None:
            return self.transformed
        return super().get_code(fullname)


def _names_on_demand(package: types.ModuleType, dropped: dict[str, str]) -> Callable[[str], Any]:
    def __getattr__(name: str) -> Any:
        submodule = _PREFIX + name
        if submodule in DEFERRED_SOURCES:
            return importlib.import_module(submodule)  # (the import binds it on the package)
        if name not in dropped:
            raise AttributeError(f"module {package.__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(dropped[name]), name)
        setattr(package, name, value)
        return value

    return __getattr__


class DeferringFinder(importlib.abc.MetaPathFinder):
    """Finds the fluent package as the path finder does, to be loaded by `_Loader`. On
    ``sys.meta_path`` only while GX imports."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != PACKAGE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not isinstance(spec.loader, importlib.machinery.SourceFileLoader):
            return spec
        spec.loader = _Loader(fullname, str(spec.origin))
        return spec


def load_deferred_sources() -> None:
    """Import every deferred data source (each registers itself with GX), once."""
    if _LOADED:
        return
    with _LOCK:
        if _LOADED or _LOADING:
            return
        _LOADING.append(True)
        try:
            for name in DEFERRED_SOURCES:
                importlib.import_module(name)
            _LOADED.append(True)
        finally:
            _LOADING.clear()


def hook_lookups() -> None:
    """GX's data-source look-ups load the deferred sources when they miss (once GX is
    imported; only when the package was imported without them)."""
    package = sys.modules.get(PACKAGE)
    loader = getattr(getattr(package, "__spec__", None), "loader", None)
    if _HOOKED or not isinstance(loader, _Loader) or loader.transformed is None:
        return
    from great_expectations.datasource.fluent.sources import DataSourceManager
    from great_expectations.datasource.fluent.type_lookup import TypeLookup

    with _LOCK:
        if _HOOKED:
            return
        manager: Any = DataSourceManager
        manager.__getattr__ = _retried(manager.__getattr__, AttributeError)
        factories = manager.factories.fget
        manager.factories = property(_loading_first(factories), doc=factories.__doc__)
        lookup: Any = TypeLookup
        lookup.__getitem__ = _retried(lookup.__getitem__, LookupError)
        lookup.type_names = _loading_first(lookup.type_names)
        _HOOKED.append(True)


def _retried(method: Any, missing: type[Exception]) -> Any:
    def on_miss(self: Any, key: Any) -> Any:
        loaded = bool(_LOADED)  # (GX's own error message may load them meanwhile)
        try:
            return method(self, key)
        except missing:
            if loaded or not isinstance(key, str) or key.startswith("__"):
                raise
        load_deferred_sources()
        return method(self, key)

    on_miss.__name__, on_miss.__doc__ = method.__name__, method.__doc__
    return on_miss


def _loading_first(method: Any) -> Any:
    def loading(self: Any, *args: Any, **kwargs: Any) -> Any:
        load_deferred_sources()
        return method(self, *args, **kwargs)

    loading.__name__, loading.__doc__ = method.__name__, method.__doc__
    return loading
