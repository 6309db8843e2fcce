"""GX's expectations that no hyposcreen suite uses, imported only when something asks.

`great_expectations.expectations.core` imports all ~50 of GX's core expectations at module
level, each a pydantic model with its renderers (~0.1 s of GX's import); the suites under
``expectations/`` use the ones in `USED`. While GX imports, the package's ``__init__`` is
imported without the others, and ``great_expectations.expectations`` without their names
(validate/gx_trim.py): ``gx.expectations.ExpectColumnMeanToBeBetween`` and
``from great_expectations.expectations.core import ...`` import their module on first use and
answer as before. Each expectation registers itself and its renderers with GX's registry when
its module is imported; the registry's look-ups by expectation name (a suite read from JSON, a
configuration turned into its expectation, the renderers of a stored result's expectation)
and its listings import the others first when they miss, so GX finds every expectation and
renderer it found before.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from hyposcreen.validate.gx_trim import Trim, imported_names

CORE = "great_expectations.expectations.core"
PACKAGE = "great_expectations.expectations"

# What the suites use (expectations/*.json, validate/suites.py, validate/views.py), and the
# one GX's own modules import while GX imports (ValidationDefinition).
USED = frozenset(
    f"{CORE}.{name}"
    for name in (
        "expect_column_pair_values_a_to_be_greater_than_b",
        "expect_column_to_exist",
        "expect_column_unique_value_count_to_be_between",
        "expect_column_values_to_be_between",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_be_increasing",
        "expect_column_values_to_be_unique",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_not_be_null",
        "expect_table_columns_to_match_ordered_list",
        "expect_table_columns_to_match_set",
        "unexpected_rows_expectation",
    )
)


def _deferred(module: str) -> bool:
    return module.startswith(CORE + ".") and module not in USED


def _names_of_deferred() -> dict[str, str]:
    """The core package's names that come from a deferred module (read from its source)."""
    package = sys.modules.get(PACKAGE)
    path = next(iter(getattr(package, "__path__", [])), None)
    if path is None:
        return {}
    with open(f"{path}/core/__init__.py", "rb") as source:
        names = imported_names(source.read(), CORE)
    return {name: module for name, module in names.items() if _deferred(module)}


CORE_TRIM = Trim(CORE, _deferred)
PACKAGE_TRIM = Trim(PACKAGE, lambda module: False, _names_of_deferred)
TRIMS = (PACKAGE_TRIM, CORE_TRIM)
_HOOKED: list[bool] = []


class _LoadingRegistry(dict[str, Any]):
    """GX's registry of expectations (name -> class) or of renderers (expectation name ->
    renderers): a name not found, or any listing, imports the deferred expectations first."""

    def get(self, key: Any, default: Any = None) -> Any:
        if key not in self and not CORE_TRIM.loaded and isinstance(key, str):
            CORE_TRIM.load_all()
        return super().get(key, default)

    def items(self) -> Any:
        CORE_TRIM.load_all()
        return super().items()

    def keys(self) -> Any:
        CORE_TRIM.load_all()
        return super().keys()

    def values(self) -> Any:
        CORE_TRIM.load_all()
        return super().values()

    def __iter__(self) -> Iterator[str]:
        CORE_TRIM.load_all()
        return super().__iter__()


def hook_lookups() -> None:
    """Put `_LoadingRegistry` in place of GX's two registries, wherever a GX module holds
    them (once GX is imported; only when the core package was imported without some
    expectations)."""
    if _HOOKED or not CORE_TRIM.trimmed():
        return
    from great_expectations.expectations import registry

    for name in ("_registered_expectations", "_registered_renderers"):
        original = getattr(registry, name)
        loading = _LoadingRegistry(original)
        for module in list(sys.modules.values()):
            module_name = getattr(module, "__name__", "") or ""
            if module_name.startswith("great_expectations") and (
                getattr(module, name, None) is original
            ):
                setattr(module, name, loading)
    _HOOKED.append(True)
