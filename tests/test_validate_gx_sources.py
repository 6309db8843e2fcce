"""GX's data sources hyposcreen never builds (Spark, SQL, pandas on files and cloud storage)
and jsonschema are not imported with GX (validate/gx_sources.py, validate/gx_import.py), and
each still works when used: by name from GX's package, through the context's factories, by
type name, and in a validation (real GX, fresh interpreters)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.helpers import run_script

from hyposcreen.validate.gx_sources import DEFERRED_SOURCES
from hyposcreen.validate.gx_trim import Trim, without_deferred_imports

_IMPORTED = textwrap.dedent(
    """
    import sys
    from hyposcreen.validate.gx_import import import_gx
    from hyposcreen.validate.gx_sources import DEFERRED_SOURCES
    gx = import_gx()
    def loaded():
        unused = "great_expectations.expectations.core.expect_column_mean_to_be_between"
        names = [*DEFERRED_SOURCES, "jsonschema", unused]
        return [name for name in names if name in sys.modules]
    """
)


def _run(body: str) -> str:
    done = run_script(_IMPORTED + textwrap.dedent(body), timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_deferred_modules_are_not_imported_by_gx_nor_by_our_validation(
    tmp_path: Path,
) -> None:
    out = _run(
        f"""
        from pathlib import Path
        assert loaded() == [], loaded()
        from tests.gx_tables import make_frames, WINDOW_END
        from hyposcreen.validate import gx as v
        docs = Path({str(tmp_path)!r}) / "docs"
        report = v.validate_tables(make_frames(), window_end=WINDOW_END, docs_dir=docs)
        assert report.summary()["passed"] is True
        assert sorted(p.stem for p in (docs / "expectations").glob("*.html")) == sorted(v.TABLES)
        assert loaded() == [], loaded()
        print("ok")
        """
    )
    assert out == "ok"


def test_a_deferred_data_source_answers_by_name_as_gx_imported_it() -> None:
    """`fluent.X` and `from ... import X` give the class of X's own module; a deferred
    submodule is an attribute of the package; unknown names still raise AttributeError."""
    out = _run(
        """
        import great_expectations.datasource.fluent as fluent
        from great_expectations.datasource.fluent import SparkDatasource, SQLDatasource
        from great_expectations.datasource.fluent import spark_datasource, sql_datasource
        assert SparkDatasource is spark_datasource.SparkDatasource
        assert SQLDatasource is sql_datasource.SQLDatasource
        assert fluent.PandasFilesystemDatasource.__module__.endswith("filesystem_datasource")
        assert fluent.snowflake_datasource.SnowflakeDatasource is fluent.SnowflakeDatasource
        try:
            fluent.NoSuchDatasource
        except AttributeError:
            print("ok")
        """
    )
    assert out == "ok"


def test_the_context_finds_a_deferred_data_source_by_factory_and_type_name() -> None:
    """What GX's look-ups found before: `add_spark` among the factories and as a method,
    `type_lookup["spark"]` (a stored config's type), adding one reaches GX's Spark code."""
    out = _run(
        """
        from great_expectations.datasource.fluent.sources import DataSourceManager
        context = gx.get_context(mode="ephemeral")
        assert loaded() == [], loaded()
        assert callable(context.data_sources.add_spark)
        assert {"add_spark", "add_sqlite", "add_pandas_filesystem"} <= set(
            context.data_sources.factories
        )
        from great_expectations.datasource.fluent import SparkDatasource
        assert DataSourceManager.type_lookup["spark"] is SparkDatasource
        assert DataSourceManager.type_lookup["snowflake"].__name__ == "SnowflakeDatasource"
        from great_expectations.datasource.fluent.interfaces import TestConnectionError
        try:  # GX's own answer without pyspark, from its Spark data source
            context.data_sources.add_spark("s")
        except TestConnectionError as error:
            assert "pyspark is not installed" in str(error), error
        try:
            DataSourceManager.type_lookup["no such type"]
        except LookupError:
            print("ok")
        """
    )
    assert out == "ok"


def test_a_pandas_file_data_source_validates_a_csv_file(tmp_path: Path) -> None:
    """`add_pandas_filesystem` (a deferred module) reads a CSV and GX validates it."""
    (tmp_path / "t.csv").write_text("n\n1\n2\n30\n", encoding="utf-8")
    out = _run(
        f"""
        context = gx.get_context(mode="ephemeral")
        source = context.data_sources.add_pandas_filesystem("f", base_directory={str(tmp_path)!r})
        asset = source.add_csv_asset("t")
        batch = asset.add_batch_definition_path("t", path="t.csv").get_batch()
        result = batch.validate(
            gx.expectations.ExpectColumnValuesToBeBetween(column="n", min_value=0, max_value=10)
        )
        print(result.success, result.result["unexpected_count"])
        """
    )
    assert out == "False 1"


def test_a_json_schema_expectation_loads_jsonschema_and_gives_gx_s_answer() -> None:
    out = _run(
        """
        import pandas as pd
        context = gx.get_context(mode="ephemeral")
        asset = context.data_sources.add_pandas("p").add_dataframe_asset("a")
        definition = asset.add_batch_definition_whole_dataframe("w")
        frame = pd.DataFrame({"c": ['{"a": 1}', '{"a": "x"}', '{"a": 2}']})
        expectation = gx.expectations.ExpectColumnValuesToMatchJsonSchema(
            column="c", json_schema={"properties": {"a": {"type": "integer"}}}
        )
        result = definition.get_batch(batch_parameters={"dataframe": frame}).validate(
            expectation
        )
        assert not result.exception_info.get("raised_exception"), result.exception_info
        assert "jsonschema" in sys.modules
        print(result.success, result.result["unexpected_count"])
        """
    )
    assert out == "False 1"


def test_the_package_is_left_as_gx_wrote_it_when_a_kept_statement_reads_a_dropped_name() -> None:
    module = DEFERRED_SOURCES[0]
    name = "Dropped"
    trim = Trim("package", DEFERRED_SOURCES.__contains__)
    deferred = f"from {module} import {name}\nfrom pathlib import Path\n"
    code, dropped = without_deferred_imports(deferred, "<test>", trim)
    assert code is not None and dropped == {name: module}
    assert "Path" in code.co_names and name not in code.co_names  # only the kept import
    assert without_deferred_imports(deferred + f"X = {name}\n", "<test>", trim) == (None, {})


def test_single_names_of_a_kept_import_are_dropped_and_relative_modules_resolved() -> None:
    """`from .core import (A, B)` keeps A when only B's module is deferred; `from .b import
    C` of a deferred `package.b` is dropped whole."""
    trim = Trim("package", "package.b".__eq__, lambda: {"B": "package.core.b"})
    source = "from .core import A, B\nfrom .b import C\nfrom .a import D\n"
    code, dropped = without_deferred_imports(source, "<test>", trim)
    assert dropped == {"B": "package.core.b", "C": "package.b"}
    assert {"A", "D"} <= set(code.co_names) and not {"B", "C"} & set(code.co_names)
