"""GX's pure helpers that its validator calls thousands of times a night, made cheap.

Profiled over a backfill (GX 1.24.1), a quarter of each night's contract time went to
`Expectation.configuration`: a property that builds a new `ExpectationConfiguration` from the
expectation's pydantic model (`self.dict()`, `camel_to_snake` of the class name) on every
read. GX's validator reads it ~90 times per expectation validated (once per domain, success
and runtime key in `_get_runtime_kwargs`, and again for every metric in
`get_metric_kwargs`), ~2,700 times a night, each read giving the same configuration.

- `camel_to_snake` (two regex substitutions) is a pure function of a class name: memoised
  for good (`functools.lru_cache`), bound wherever GX's modules imported it.
- `RendererConfiguration._get_renderer_value_base_model_type` builds a new pydantic model
  class (`create_model`, ~1 ms) for every parameter of every expectation a Data Docs page
  renders, each time the same class for the same parameter name: memoised for good, one class
  per name (tests/test_validate_render_speedups.py renders the pages both ways).
- `convert_to_json_serializable` (every metric's id is the md5 of its kwargs converted) tests
  a value against pydantic models, GX classes and numpy dtypes before it finds None: None,
  text, whole numbers, booleans and floats are answered first, as GX answers them.
- `Expectation.configuration`: while `memoized_configurations()` is open in a thread (the
  validation of one batch, validate/context.py), the first read of an expectation's
  configuration is kept and later reads in that thread return it; assigning any attribute of
  the expectation drops what was kept. Outside it (rendering, suites, other threads) every
  read builds a new configuration, as GX does. In the same scope `get_metric_kwargs` builds
  the runtime kwargs of a configuration once, not once per metric (its own expectation
  object each time: `to_domain_obj`, pydantic validation). Within one validation GX reads the
  configuration and never changes it (its own copies are `deepcopy`), so the results are the
  ones GX computes without the memo: tests/test_validate_gx_speedups.py validates every suite
  both ways and compares the results.
- `PandasExecutionEngine._apply_row_condition_filter`: GX filters the batch by an
  expectation's `row_condition` (a `DataFrame.query`, ~1.5 ms of expression parsing each)
  once for every metric of the expectation (row count, column types, the condition, the
  failing rows' index...): six times the same filter of the same frame. In the same scope the
  filtered frame of one batch frame (the very object, held so its id is not reused) and one
  condition (its JSON) is made once; GX's pandas metrics read their domain frame and never
  write into it. tests/test_validate_row_filters.py compares the results both ways.
- `PandasExecutionEngine.get_batch_data_and_markers` sums the memory of every column of a
  batch (`DataFrame.memory_usage`, ~1 ms of pandas a batch, a dozen batches a night) only to
  compare it with `HASH_THRESHOLD`, which validate/context.py sets to 0: no sum is below it.
  For a frame handed in at run time (`RuntimeDataBatchSpec`, hyposcreen's only kind) with the
  threshold at 0 or below, the batch and markers are made as GX's body makes them, without
  the sum; any other batch, or a threshold above 0, goes through GX's body.

`install()` is called once GX is imported (validate/gx_import.py) and only patches the
GX version it was checked against; with another version GX runs unchanged. The tests
compare each helper with GX's own (tests/test_validate_gx_speedups.py).
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import sys
import threading
from collections.abc import Iterator
from typing import Any

CHECKED_VERSIONS = ("1.24.1",)  # GX versions whose helpers were checked to be pure as used

_STATE = threading.local()  # .memo: id(expectation) -> (expectation, configuration)
_LOCK = threading.Lock()
_INSTALLED: list[bool] = []


def install() -> bool:
    """Patch GX's helpers (once per process); False when GX's version was not checked."""
    if _INSTALLED:
        return True
    import great_expectations
    from great_expectations import util
    from great_expectations.execution_engine.pandas_execution_engine import (
        PandasExecutionEngine,
    )
    from great_expectations.expectations import registry
    from great_expectations.expectations.expectation import Expectation
    from great_expectations.render.renderer_configuration import RendererConfiguration

    if great_expectations.__version__ not in CHECKED_VERSIONS:
        return False
    with _LOCK:
        if _INSTALLED:
            return True
        original = getattr(util, "camel_to_snake")  # untyped in GX
        _rebind("camel_to_snake", original, functools.lru_cache(maxsize=1024)(original))
        original = util.convert_to_json_serializable
        _rebind("convert_to_json_serializable", original, _plain_first(original))
        original = registry.get_metric_kwargs
        _rebind("get_metric_kwargs", original, _runtime_kwargs_once(original))
        expectation: Any = Expectation
        read = expectation.configuration  # the property
        expectation.configuration = property(_kept(read.fget), doc=read.__doc__)
        expectation.__setattr__ = _forgetting(expectation.__setattr__)
        engine: Any = PandasExecutionEngine
        engine._apply_row_condition_filter = _filtered_once(engine._apply_row_condition_filter)
        engine.get_batch_data_and_markers = _unmeasured(engine.get_batch_data_and_markers)
        renderer: Any = RendererConfiguration
        model_type = renderer._get_renderer_value_base_model_type  # a staticmethod: the function
        renderer._get_renderer_value_base_model_type = staticmethod(
            functools.lru_cache(maxsize=256)(model_type)
        )
        _INSTALLED.append(True)
    return True


def _rebind(name: str, original: Any, replacement: Any) -> None:
    """`replacement` wherever a GX module holds `original` under `name` (its own module, and
    those that imported it by name)."""
    for module in list(sys.modules.values()):
        module_name = getattr(module, "__name__", "") or ""
        if module_name.startswith("great_expectations") and (
            getattr(module, name, None) is original
        ):
            setattr(module, name, replacement)


def _plain_first(convert: Any) -> Any:
    """GX's `convert_to_json_serializable`, answering first for what it returns unchanged:
    None, text, whole numbers, booleans, and floats (NaN as None). GX tests a value against
    pydantic models, its own classes and three numpy dtypes before it reaches None; a
    metric's kwargs are mostly None and names, converted ~6,000 times a night."""

    @functools.wraps(convert)
    def convert_to_json_serializable(data: Any) -> Any:
        kind = type(data)
        if data is None or kind is str or kind is int or kind is bool:
            return data
        if kind is float:
            return None if math.isnan(data) else data
        return convert(data)

    return convert_to_json_serializable


def _runtime_kwargs_once(get_metric_kwargs: Any) -> Any:
    """GX's `registry.get_metric_kwargs`, which builds a new expectation from `configuration`
    (`to_domain_obj`, pydantic validation) and its runtime kwargs for every metric an
    expectation needs (~7 a column check): while configurations are memoised, the runtime
    kwargs of one configuration object and one runtime configuration (compared by `repr`)
    are built once, and each metric gets its own copy of them (GX sets `batch_id` in it).
    The rest is GX's body, unchanged."""
    from great_expectations import exceptions
    from great_expectations.core.id_dict import IDDict
    from great_expectations.expectations.registry import _registered_metrics

    @functools.wraps(get_metric_kwargs)
    def get_metric_kwargs_once(
        metric_name: str, configuration: Any = None, runtime_configuration: Any = None
    ) -> dict[str, Any]:
        memo = getattr(_STATE, "memo", None)
        if memo is None or not configuration:
            return get_metric_kwargs(metric_name, configuration, runtime_configuration)
        try:
            metric_definition = _registered_metrics.get(metric_name)
            if metric_definition is None:
                raise exceptions.MetricProviderError(f"No definition found for {metric_name}")
            defaults = metric_definition["default_kwarg_values"]
            metric_kwargs: dict[str, Any] = {
                "metric_domain_keys": metric_definition["metric_domain_keys"],
                "metric_value_keys": metric_definition["metric_value_keys"],
            }
            key = ("runtime kwargs", id(configuration), repr(runtime_configuration))
            kept = memo.get(key)
            if kept is None or kept[0] is not configuration:
                expectation = configuration.to_domain_obj()
                built = expectation._get_runtime_kwargs(runtime_configuration=runtime_configuration)
                kept = memo[key] = (configuration, built)
            configuration_kwargs = dict(kept[1])
            if (
                "batch_id" in metric_kwargs["metric_domain_keys"]
                and configuration_kwargs.get("batch_id") is None
            ):
                configuration_kwargs["batch_id"] = configuration.kwargs.get("batch_id")
            domain_keys, value_keys = (
                metric_kwargs["metric_domain_keys"],
                metric_kwargs["metric_value_keys"],
            )
            metric_kwargs["metric_domain_kwargs"] = IDDict(
                {k: configuration_kwargs.get(k) or defaults.get(k) for k in domain_keys}
            )
            metric_kwargs["metric_value_kwargs"] = IDDict(
                {
                    k: configuration_kwargs.get(k)
                    if configuration_kwargs.get(k) is not None
                    else defaults.get(k)
                    for k in value_keys
                }
            )
            return metric_kwargs
        except KeyError:  # as GX raises it (its traceback chained)
            raise exceptions.MetricProviderError(f"Incomplete definition found for {metric_name}")

    return get_metric_kwargs_once


@contextlib.contextmanager
def memoized_configurations() -> Iterator[None]:
    """While open, an expectation's configuration is built once per expectation in this
    thread (nested uses share the outer one's memo)."""
    if getattr(_STATE, "memo", None) is not None:
        yield
        return
    _STATE.memo = {}
    try:
        yield
    finally:
        _STATE.memo = None


def _filtered_once(apply_filter: Any) -> Any:
    """GX's row-condition filter, made once per batch frame and condition while
    configurations are memoised (a condition that is not JSON, e.g. a GX Condition object,
    is filtered every time, as GX does)."""

    @functools.wraps(apply_filter)
    def _apply_row_condition_filter(
        self: Any, data: Any, row_condition: Any, domain_kwargs: dict[str, Any]
    ) -> Any:
        memo = getattr(_STATE, "memo", None)
        if memo is None or not isinstance(row_condition, dict | str):
            return apply_filter(self, data, row_condition, domain_kwargs)
        try:
            condition = json.dumps(row_condition, sort_keys=True)
        except (TypeError, ValueError):
            return apply_filter(self, data, row_condition, domain_kwargs)
        parser = domain_kwargs.get("condition_parser")
        key = ("row filter", id(data), condition, repr(parser))
        kept = memo.get(key)
        if kept is not None and kept[0] is data:
            return kept[1]
        filtered = apply_filter(self, data, row_condition, domain_kwargs)
        memo[key] = (data, filtered)  # the frame held: its id is not reused meanwhile
        return filtered

    return _apply_row_condition_filter


def _unmeasured(get_batch_data_and_markers: Any) -> Any:
    """GX's batch of a frame handed in at run time, without the memory sum that only decides
    whether to take a fingerprint no run takes (HASH_THRESHOLD at 0 or below)."""
    import datetime

    import pandas as pd
    from great_expectations.core.batch import BatchMarkers
    from great_expectations.core.batch_spec import RuntimeDataBatchSpec
    from great_expectations.execution_engine import pandas_execution_engine as module
    from great_expectations.execution_engine.pandas_batch_data import PandasBatchData

    @functools.wraps(get_batch_data_and_markers)
    def unmeasured(self: Any, batch_spec: Any) -> tuple[Any, Any]:
        frame = getattr(batch_spec, "batch_data", None)
        if (
            module.HASH_THRESHOLD > 0
            or type(batch_spec) is not RuntimeDataBatchSpec
            or not isinstance(frame, pd.DataFrame)
        ):
            return get_batch_data_and_markers(self, batch_spec)
        now = datetime.datetime.now(datetime.UTC)  # as GX stamps it
        markers = BatchMarkers({"ge_load_time": now.strftime("%Y%m%dT%H%M%S.%fZ")})
        batch_spec.batch_data = "PandasDataFrame"
        frame = self._apply_partitioning_and_sampling_methods(batch_spec, frame)
        return PandasBatchData(execution_engine=self, dataframe=frame), markers

    return unmeasured


def _kept(build: Any) -> Any:
    def configuration(self: Any) -> Any:
        memo = getattr(_STATE, "memo", None)
        if memo is None:
            return build(self)
        kept = memo.get(id(self))
        if kept is not None and kept[0] is self:
            return kept[1]
        built = build(self)
        memo[id(self)] = (self, built)  # the expectation held: its id is not reused meanwhile
        return built

    return configuration


def _forgetting(setattr_: Any) -> Any:
    def __setattr__(self: Any, name: str, value: Any) -> None:
        memo = getattr(_STATE, "memo", None)
        if memo:
            memo.pop(id(self), None)
        setattr_(self, name, value)

    return __setattr__
