"""GX's fluent data sources that hyposcreen never builds, imported only when something asks.

`great_expectations.datasource.fluent` imports every data source GX has at module level:
Spark (on files, DBFS, S3, GCS, Azure: ~25 pydantic models of reader options), SQL (Postgres,
Snowflake, Redshift, Databricks, BigQuery, SQL Server, Fabric ...) and pandas on files and
cloud storage, ~0.15-0.2 s of GX's ~0.9 s import, all building pydantic classes. hyposcreen
validates in-memory frames through one pandas data source (`add_pandas`,
`add_dataframe_asset`): only `PandasDatasource` is needed.

While GX imports, the package's ``__init__`` is imported without its
``from <data source module> import ...`` statements for the modules in `DEFERRED_SOURCES`
(validate/gx_trim.py): ``fluent.SparkDatasource`` or
``from great_expectations.datasource.fluent import SQLDatasource`` import their module on
first use and answer as before. Every data source registers itself with GX's
`DataSourceManager` when its module is imported; for those not yet imported, GX's own
look-ups import them all when they miss (a crud method such as
``context.data_sources.add_spark``, a type name read from a stored config) and before they
list them (the factories, the type names), so they find what they found before.
"""

from __future__ import annotations

from typing import Any

from hyposcreen.validate.gx_trim import Trim, loading_first, retried

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

TRIM = Trim(PACKAGE, DEFERRED_SOURCES.__contains__)
_HOOKED: list[bool] = []


def load_deferred_sources() -> None:
    """Import every deferred data source (each registers itself with GX), once."""
    TRIM.load_all()


def hook_lookups() -> None:
    """GX's data-source look-ups load the deferred sources when they miss (once GX is
    imported; only when the package was imported without them)."""
    if _HOOKED or not TRIM.trimmed():
        return
    from great_expectations.datasource.fluent.sources import DataSourceManager
    from great_expectations.datasource.fluent.type_lookup import TypeLookup

    manager: Any = DataSourceManager
    manager.__getattr__ = retried(manager.__getattr__, AttributeError, TRIM)
    factories = manager.factories.fget
    manager.factories = property(loading_first(factories, TRIM), doc=factories.__doc__)
    lookup: Any = TypeLookup
    lookup.__getitem__ = retried(lookup.__getitem__, LookupError, TRIM)
    lookup.type_names = loading_first(lookup.type_names, TRIM)
    _HOOKED.append(True)
