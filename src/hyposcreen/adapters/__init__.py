"""Source adapters: each turns one source layout into the canonical tables of spec §1.

An adapter is a module with three functions (see `Adapter`); screening, validation and the
outputs stay the same code whatever the source. `canonical` (site CSV/Parquet with a mapping
file) is read by `hyposcreen.ingest.tabular` directly and has no module here.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Protocol

from hyposcreen.config import SiteMapping, Window
from hyposcreen.errors import ConfigError
from hyposcreen.ingest.canonical import IngestedTable
from hyposcreen.ingest.tabular import RowFilter
from hyposcreen.rules.loader import RuleSet

ADAPTER_MODULES = {
    "fhir": "hyposcreen.adapters.fhir",
    "omop": "hyposcreen.adapters.omop",
    "mimic": "hyposcreen.adapters.mimic",
}


class Adapter(Protocol):
    def check_layout(self, input_dir: Path) -> None:
        """Raise InputError naming what is missing when the folder does not look like this
        source (e.g. `--source fhir` on a folder of CSVs)."""

    def input_files(self, input_dir: Path, name: str) -> list[Path]:
        """The files one canonical table is built from (hashed for caching and the run id)."""

    def read_table(
        self,
        input_dir: Path,
        name: str,
        mapping: SiteMapping,
        rules: RuleSet,
        window: Window,
        row_filter: RowFilter | None,
    ) -> IngestedTable:
        """One canonical table (labs, medications, diagnoses or patients).

        Build canonical text columns plus `source_file`/`source_row`, then pass each batch
        through `tabular.canonical_columns` and `tabular.finish_batch` (selector, time parsing,
        window) like the tabular reader. Fill `rows_in`, `not_relevant`, `files` and
        `source_counts` (rows read / mapped / unmapped per resource type or source table).
        """


def load_adapter(source: str) -> Adapter:
    module_name = ADAPTER_MODULES.get(source)
    if module_name is None:
        raise ConfigError(f"No adapter for --source '{source}'.")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise ConfigError(f"--source {source} is not available in this version.") from exc
    return module  # a module satisfies the Protocol structurally
