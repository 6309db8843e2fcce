"""GX's expectations that no hyposcreen suite uses are not imported with GX
(validate/gx_expectations.py), and each still works when used: by name from GX's packages,
from a suite's JSON, and in a validation and its Data Docs (real GX, fresh interpreters)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from tests.helpers import run_script

from hyposcreen.validate.gx_expectations import CORE, USED

_IMPORTED = textwrap.dedent(
    """
    import sys
    from hyposcreen.validate.gx_import import import_gx
    gx = import_gx()
    def loaded(name):
        return f"great_expectations.expectations.core.{name}" in sys.modules
    """
)


def _run(body: str) -> str:
    done = run_script(_IMPORTED + textwrap.dedent(body), timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_every_expectation_the_suites_use_is_kept() -> None:
    suites = Path(__file__).resolve().parents[1] / "expectations"
    used = {
        expectation["type"]
        for path in suites.glob("*.json")
        for expectation in json.loads(path.read_text(encoding="utf-8"))["expectations"]
        if expectation["type"].startswith("expect_")
    }
    assert used and {f"{CORE}.{name}" for name in used} <= USED


def test_an_unused_expectation_is_not_imported_and_works_by_name() -> None:
    out = _run(
        """
        assert not loaded("expect_column_mean_to_be_between")
        assert loaded("expect_column_values_to_be_in_set")
        from great_expectations.expectations.core import expect_column_mean_to_be_between as m
        assert gx.expectations.ExpectColumnMeanToBeBetween is m.ExpectColumnMeanToBeBetween
        from great_expectations.expectations import ExpectColumnMaxToBeBetween
        assert ExpectColumnMaxToBeBetween.__module__.endswith("expect_column_max_to_be_between")
        from great_expectations.expectations import registry
        listed = registry.list_registered_expectation_implementations()
        assert "expect_column_median_to_be_between" in listed
        from great_expectations.render.renderer.content_block import content_block
        listed = content_block.ContentBlockRenderer.list_available_expectations()
        assert "expect_column_stdev_to_be_between" in listed  # GX's own copy of the registry
        print("ok")
        """
    )
    assert out == "ok"


def test_a_suite_read_from_json_finds_a_deferred_expectation_and_gx_validates_it() -> None:
    """The registry's look-up by name (as for our suites' JSON) imports the expectation; GX
    gives its own answer ("ccc" longer than 2) and renders its Data Docs line."""
    out = _run(
        """
        import pandas as pd
        name = "expect_column_value_lengths_to_be_between"
        assert not loaded(name)
        suite = gx.ExpectationSuite(name="s", expectations=[{
            "type": name, "kwargs": {"column": "s", "min_value": 1, "max_value": 2},
        }])
        assert loaded(name)
        context = gx.get_context(mode="ephemeral")
        definition = context.data_sources.add_pandas("p").add_dataframe_asset("a")
        definition = definition.add_batch_definition_whole_dataframe("w")
        frame = pd.DataFrame({"s": ["a", "bb", "ccc"]})
        result = definition.get_batch(batch_parameters={"dataframe": frame}).validate(suite)
        from great_expectations.render.renderer import ValidationResultsPageRenderer
        from great_expectations.render.view import DefaultJinjaPageView
        page = DefaultJinjaPageView().render(ValidationResultsPageRenderer().render(result))
        assert "characters long" in page
        print(result.success, result.results[0].result["unexpected_count"])
        """
    )
    assert out == "False 1"
