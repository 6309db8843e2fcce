"""GX's metric plan of an expectation, worked out once per loop of windows.

Before GX computes anything on a batch, its validator works out, for every expectation
configuration, which metrics it needs (`Expectation.get_validation_dependencies`) and the
graph of the metrics those depend on (`ValidationGraph.build_metric_dependency_graph`: a
`MetricConfiguration` per metric, each id the md5 of its kwargs as JSON), and after the
metrics are computed it works out the expectation's metrics again to read their values
(`metrics_validate`). None of it reads the batch: it is a function of the configuration (its
kwargs, the batch id GX adds to them), the runtime configuration (result format) and the
execution engine. A loop of windows validates the same configurations every night (the labs
suite, the review list's; only an expectation that names the night's window_end differs), and
profiled over a backfill this planning took ~40 % of GX's time per night.

While a loop remembers results (validate/remembered.py), in this process:

- `Validator._generate_metric_dependency_subgraphs_for_each_expectation_configuration` plans
  each configuration whose plan is not known as GX does (its own body, one configuration at
  a time) and keeps the plan's graph; a configuration planned before (the same type, kwargs,
  meta and every other attribute, each value with its type, the same batch id, result format
  and engine) gets a new graph of the edges kept and, as GX gives it, a deep copy of the
  configuration with the batch id set. The graph's metric configurations are shared: once
  planned nothing writes into them (GX's resolution reads their names, kwargs and
  dependencies, and its engine deep-copies a metric's domain kwargs before it changes them,
  `ExecutionEngine.get_compute_domain`), and a metric's values are kept per validation, by
  id, outside them (the engine's metric cache is emptied after each batch,
  validate/context.py);
- the metrics an expectation names (`get_validation_dependencies` of GX's generic base
  classes, for an expectation class that does not override it: `metrics_validate` works them
  out again after the metrics are computed) are kept per class, configuration and runtime
  configuration, each caller getting metric configurations of its own.

A configuration whose planning raised (GX reports it as a failed expectation) is planned
again every time. Leaving the loop forgets every plan. tests/test_validate_gx_graphs.py
validates every suite with and without the plans kept and compares GX's results.
"""

from __future__ import annotations

import copy
import datetime
import decimal
import enum
import functools
import threading
import uuid
from typing import Any

import numpy as np

_LOCK = threading.Lock()
# plan key -> (the engine, held so that its id names it, the graph's edges)
_GRAPHS: dict[Any, tuple[Any, list[Any]]] = {}
_DEPENDENCIES: dict[Any, Any] = {}  # (class, configuration, runtime) key -> dependencies
_INSTALLED: list[bool] = []


def install() -> None:
    """Patch GX's validator and expectation base classes (once per process)."""
    from great_expectations.expectations import expectation as module
    from great_expectations.validator.validator import Validator

    from hyposcreen.validate.remembered import LOOP_MEMOS

    with _LOCK:
        if _INSTALLED:
            return
        validator: Any = Validator
        plan = validator._generate_metric_dependency_subgraphs_for_each_expectation_configuration
        validator._generate_metric_dependency_subgraphs_for_each_expectation_configuration = (
            _planned_once(plan)
        )
        for name in (
            "BatchExpectation",
            "ColumnMapExpectation",
            "ColumnPairMapExpectation",
            "MulticolumnMapExpectation",
        ):
            base: Any = getattr(module, name)
            base.get_validation_dependencies = _dependencies_once(base.get_validation_dependencies)
        LOOP_MEMOS.extend([_GRAPHS, _DEPENDENCIES])
        _INSTALLED.append(True)


def _remembering() -> bool:
    from hyposcreen.validate.remembered import remembering

    return remembering()


class Unkeyable(TypeError):
    """A value whose text may not tell it apart from another (its plan is not kept)."""


def typed_key(value: Any) -> Any:
    """`value` as a hashable key in which every value keeps its type: 1, 1.0, True, "1" and
    numpy's 1.0 are five keys (GX's JSON of a configuration would make some of them one).
    Containers are keyed item by item, scalars by their type and `repr`; Unkeyable for any
    other value (an array or a frame: their `repr` leaves values out)."""
    kind = type(value)
    if isinstance(value, dict):
        items = tuple((typed_key(k), typed_key(v)) for k, v in value.items())
        return ("dict", kind.__module__, kind.__qualname__, items)
    if isinstance(value, list | tuple):
        return (kind.__module__, kind.__qualname__, tuple(typed_key(v) for v in value))
    if isinstance(value, set | frozenset):
        return (kind.__module__, kind.__qualname__, frozenset(typed_key(v) for v in value))
    if value is None or isinstance(value, _SCALARS) or isinstance(value, enum.Enum):
        return (kind.__module__, kind.__qualname__, repr(value))
    raise Unkeyable(kind.__qualname__)


_SCALARS = (
    str,
    int,
    float,
    complex,
    bool,
    decimal.Decimal,
    uuid.UUID,
    datetime.date,  # (datetime.datetime and pandas' Timestamp are dates)
    datetime.time,
    datetime.timedelta,
    np.generic,  # numpy's scalars
)


def configuration_key(configuration: Any) -> Any:
    """Every attribute of a GX ExpectationConfiguration (type, kwargs, meta, id, ...), or
    None when one holds a value `typed_key` cannot key."""
    try:
        return (type(configuration).__qualname__, typed_key(dict(vars(configuration))))
    except Unkeyable:
        return None


def _planned_once(plan: Any) -> Any:
    """GX's planning of a list of configurations, each configuration's plan kept while a loop
    remembers results (see the module's docstring)."""
    from great_expectations.validator.validation_graph import (
        ExpectationValidationGraph,
        ValidationGraph,
    )

    @functools.wraps(plan)
    def planned(
        self: Any,
        expectation_configurations: list[Any],
        processed_configurations: list[Any],
        catch_exceptions: bool,
        runtime_configuration: dict[str, Any] | None = None,
    ) -> tuple[list[Any], list[Any], list[Any]]:
        if not _remembering():
            return plan(
                self,
                expectation_configurations=expectation_configurations,
                processed_configurations=processed_configurations,
                catch_exceptions=catch_exceptions,
                runtime_configuration=runtime_configuration,
            )
        engine = self._execution_engine
        runtime = _runtime_key(runtime_configuration)
        graphs: list[Any] = []
        results: list[Any] = []
        for configuration in expectation_configurations:
            known = configuration_key(configuration)
            key = (id(engine), self.active_batch_id, runtime, known)
            with _LOCK:
                kept = _GRAPHS.get(key) if known is not None and runtime is not None else None
            if kept is not None and kept[0] is engine:
                evaluated = copy.deepcopy(configuration)
                if self.active_batch_id:
                    evaluated.kwargs.update({"batch_id": self.active_batch_id})
                graph = ValidationGraph(execution_engine=engine, edges=list(kept[1]))
                graphs.append(ExpectationValidationGraph(configuration=evaluated, graph=graph))
                processed_configurations.append(evaluated)
                continue
            made, failed, _ = plan(
                self,
                expectation_configurations=[configuration],
                processed_configurations=processed_configurations,
                catch_exceptions=catch_exceptions,
                runtime_configuration=runtime_configuration,
            )
            graphs.extend(made)
            results.extend(failed)
            if len(made) == 1 and not failed and known is not None and runtime is not None:
                with _LOCK:
                    _GRAPHS[key] = (engine, list(made[0].graph.edges))
        return graphs, results, processed_configurations

    return planned


def _dependencies_once(get_dependencies: Any) -> Any:
    """A generic base class's `get_validation_dependencies`, kept per expectation class,
    configuration and runtime configuration while a loop remembers results, for a class that
    does not override it (an override, which may read the engine, calls it as GX does)."""

    @functools.wraps(get_dependencies)
    def get_validation_dependencies(
        self: Any,
        execution_engine: Any = None,
        runtime_configuration: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        if (
            kwargs
            or not _remembering()
            or type(self).get_validation_dependencies is not get_validation_dependencies
        ):
            return get_dependencies(
                self,
                execution_engine=execution_engine,
                runtime_configuration=runtime_configuration,
                **kwargs,
            )
        known = configuration_key(self.configuration)
        runtime = _runtime_key(runtime_configuration)
        if known is None or runtime is None:
            return get_dependencies(
                self, execution_engine=execution_engine, runtime_configuration=runtime_configuration
            )
        key = (type(self), known, runtime)
        with _LOCK:
            kept = _DEPENDENCIES.get(key)
        if kept is None:
            made = get_dependencies(
                self, execution_engine=execution_engine, runtime_configuration=runtime_configuration
            )
            with _LOCK:  # before the caller adds to its metrics' kwargs (GX's planning does)
                _DEPENDENCIES[key] = _own_copy(made)
            return made
        return _own_copy(kept)

    return get_validation_dependencies


def _runtime_key(runtime_configuration: Any) -> Any:
    try:
        return typed_key(runtime_configuration)
    except Unkeyable:
        return None


def _own_copy(dependencies: Any) -> Any:
    """`dependencies` with metric configurations of their own: GX's planning adds default
    kwargs to a metric's kwargs and sets its dependencies (their ids, md5s of the kwargs
    taken when the configuration was made, are kept); the kwargs' values, which nothing
    changes, are shared."""
    from great_expectations.core.id_dict import IDDict

    configurations = {}
    for name, metric in dependencies.metric_configurations.items():
        own = copy.copy(metric)
        own._metric_domain_kwargs = IDDict(metric.metric_domain_kwargs)
        own._metric_value_kwargs = IDDict(metric.metric_value_kwargs)
        own._metric_dependencies = IDDict(metric.metric_dependencies)
        configurations[name] = own
    return type(dependencies)(
        metric_configurations=configurations,
        result_format=copy.deepcopy(dependencies.result_format),
    )
