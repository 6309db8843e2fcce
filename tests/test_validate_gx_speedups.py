"""GX's helpers memoised (validate/gx_speedups.py) give the results GX gives without them."""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

import pytest

from gx_tables import VOCABULARY, WINDOW_END, keeping_results, make_dirty_frames, make_review
from hyposcreen.validate import batches, context
from hyposcreen.validate import gx as v
from hyposcreen.validate.gx_import import import_gx
from hyposcreen.validate.gx_speedups import install, memoized_configurations


def _gx_results(monkeypatch: pytest.MonkeyPatch, memo: bool, narrow: bool) -> list[str]:
    """Every batch result GX returned validating the dirty tables, a good and a broken
    review list (meta left out: it holds load times)."""
    seen: list[str] = []
    validate = context._validate

    broken = make_review(4)
    broken["rank"] = [1, 1, 3, 9]  # ranks 1..n: failing rows
    with monkeypatch.context() as patch:
        patch.setattr(context, "_validate", keeping_results(validate, seen))
        if narrow:
            patch.setattr(batches, "NARROW_FROM_ROWS", 0)
        if not memo:
            patch.setattr(context, "memoized_configurations", contextlib.nullcontext)
        v.validate_tables(make_dirty_frames(), window_end=WINDOW_END)
        v.validate_review_list(make_review(3), VOCABULARY)
        report = v.validate_review_list(broken, VOCABULARY)
    assert report.critical_failures()  # the broken list's results are in `seen`
    return seen


@pytest.mark.parametrize("narrow", [False, True])
def test_memoised_configurations_give_gx_results_unchanged(
    monkeypatch: pytest.MonkeyPatch, narrow: bool
) -> None:
    """Every suite, failing rows of every kind, whole and narrow batches, pass/fail only and
    complete results: the same results with and without the memo."""
    with_memo = _gx_results(monkeypatch, memo=True, narrow=narrow)
    without = _gx_results(monkeypatch, memo=False, narrow=narrow)
    assert len(with_memo) >= 6
    assert with_memo == without
    assert any('"success": false' in result for result in with_memo)


def test_a_configuration_is_kept_only_while_memoised_and_until_changed() -> None:
    gx = import_gx()
    assert install()
    expectation = gx.expectations.ExpectColumnValuesToNotBeNull(column="a")
    assert expectation.configuration is not expectation.configuration  # GX's own: new each read
    with memoized_configurations():
        first = expectation.configuration
        assert expectation.configuration is first
        with memoized_configurations():  # nested: the outer memo
            assert expectation.configuration is first
        expectation.column = "b"  # an assignment drops what was kept
        assert expectation.configuration.kwargs["column"] == "b"
        assert expectation.configuration is not first
    assert expectation.configuration is not expectation.configuration
    assert expectation.configuration.kwargs["column"] == "b"


def test_camel_to_snake_is_memoised_with_gx_results() -> None:
    import_gx()
    from great_expectations import util
    from great_expectations.expectations import expectation as module
    from great_expectations.expectations.expectation import Expectation

    assert module.camel_to_snake is util.camel_to_snake
    original = util.camel_to_snake.__wrapped__
    names = [cls.__name__ for cls in _subclasses(Expectation)]
    names += ["ExpectColumnValuesToBeInSet", "HTTPServer", "already_snake", "A1B2", ""]
    for name in names:
        assert util.camel_to_snake(name) == original(name)
        # GX's definition, written out: the memo answers what the two regexes answer
        step = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
        assert original(name) == re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", step).lower()
    assert util.camel_to_snake.cache_info().hits > 0


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def test_the_outcomes_do_not_depend_on_the_memo(monkeypatch: pytest.MonkeyPatch) -> None:
    """The report of the dirty tables, as the manifest holds it, with and without the memo."""
    memo = v.validate_tables(make_dirty_frames(), window_end=WINDOW_END)
    monkeypatch.setattr(context, "memoized_configurations", contextlib.nullcontext)
    plain = v.validate_tables(make_dirty_frames(), window_end=WINDOW_END)
    assert not all(o.success for o in memo.outcomes)
    assert [o.as_dict() for o in memo.outcomes] == [o.as_dict() for o in plain.outcomes]


def test_json_conversion_answers_plain_values_first_as_gx_does() -> None:
    import datetime
    import math

    import numpy as np

    import_gx()
    from great_expectations import util
    from great_expectations.core import id_dict

    convert = util.convert_to_json_serializable
    original = convert.__wrapped__
    assert id_dict.convert_to_json_serializable is convert  # imported by name: rebound too
    values: list[Any] = [None, "", "sodium", 0, -3, 2**70, True, False, 1.5, -0.0, math.inf]
    values += [float("nan"), np.float64(1.25), np.int64(7), np.bool_(True), np.nan]
    values += [datetime.date(2026, 11, 20), (1, None), {"a": [None, "x", {1: 2.5}]}]
    values += [{"column": "value_num", "row_condition": None, "batch_id": "b"}, {3, 4}]
    for value in values:
        got, expected = convert(value), original(value)
        assert json.dumps(got, sort_keys=True) == json.dumps(expected, sort_keys=True)
        assert type(got) is type(expected)


def test_metric_kwargs_are_gx_own_and_each_call_gets_its_own() -> None:
    """Within a memo, the kwargs of every metric a column check asks for are those GX's own
    `get_metric_kwargs` builds, and one metric's kwargs changed do not reach the next's."""
    gx = import_gx()
    from great_expectations.expectations import registry

    fast = registry.get_metric_kwargs
    original = fast.__wrapped__
    expectation = gx.expectations.ExpectColumnValuesToBeBetween(
        column="value_num", min_value=1, max_value=9, mostly=0.9, row_condition='analyte=="x"'
    )
    runtime = {"result_format": {"result_format": "COMPLETE", "partial_unexpected_count": 3}}
    names = [
        "column_values.nonnull.unexpected_count",
        "column_values.between.unexpected_count",
        "column_values.between.unexpected_index_list",
        "table.row_count",
    ]
    with memoized_configurations():
        configuration = expectation.configuration
        for name in names * 2:
            got = fast(name, configuration, runtime)
            assert got == original(name, configuration, runtime)
            got["metric_domain_kwargs"]["column"] = "changed"  # the next call: untouched
        assert fast(names[1], configuration, runtime)["metric_domain_kwargs"]["column"] == (
            "value_num"
        )
    with pytest.raises(Exception, match="No definition found"):
        with memoized_configurations():
            fast("no.such.metric", expectation.configuration, runtime)


def test_a_run_time_batch_is_gx_own_without_the_memory_sum(monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch of a frame handed in at run time: the very frame, GX's markers (its load
    time only: no fingerprint below a threshold of 0) and the spec changed as GX changes it;
    above a threshold GX's body runs (and takes its fingerprint)."""
    import pandas as pd

    context._gx()
    from great_expectations.core.batch_spec import RuntimeDataBatchSpec
    from great_expectations.execution_engine import pandas_execution_engine as module

    engine = module.PandasExecutionEngine()
    own = module.PandasExecutionEngine.get_batch_data_and_markers
    gx_own = own.__wrapped__
    frame = pd.DataFrame({"a": [1, 2, None], "b": ["x", None, "z"]})
    monkeypatch.setattr(module, "HASH_THRESHOLD", 0)
    made = [method(engine, RuntimeDataBatchSpec(batch_data=frame)) for method in (own, gx_own)]
    for batch, markers in made:
        assert batch.dataframe is frame
        assert sorted(markers) == ["ge_load_time"]
        assert re.fullmatch(r"\d{8}T\d{6}\.\d{6}Z", markers["ge_load_time"])
    spec = RuntimeDataBatchSpec(batch_data=frame)
    own(engine, spec)
    assert spec.batch_data == "PandasDataFrame"  # as GX leaves it
    monkeypatch.setattr(module, "HASH_THRESHOLD", 1e9)
    _, markers = own(engine, RuntimeDataBatchSpec(batch_data=frame))
    assert "pandas_data_fingerprint" in markers  # GX's body
