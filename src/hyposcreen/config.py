"""Run settings and the site mapping file: typed, strict (unknown keys are errors)."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import yaml

from hyposcreen.errors import ConfigError
from hyposcreen.rules.loader import normalize_label

TABLES = ("labs", "medications", "diagnoses", "patients")
SOURCES = ("canonical", "fhir", "omop", "mimic")


@dataclass(frozen=True)
class Window:
    """Screening window [start, end) in site-local wall time (naive timestamps)."""

    start: pd.Timestamp
    end: pd.Timestamp

    def label(self) -> str:
        return f"{self.start.isoformat()}/{self.end.isoformat()}"


def parse_timestamp(text: str, timezone: str, what: str) -> pd.Timestamp:
    """An ISO date or datetime; one with an offset is converted to site-local wall time."""
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{what} '{text}' is not an ISO 8601 date or date-time.") from exc
    if stamp is pd.NaT:
        raise ConfigError(f"{what} is empty.")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(timezone).tz_localize(None)
    return stamp.as_unit("us")


def parse_window(start: str, end: str, timezone: str = "UTC") -> Window:
    window = Window(
        parse_timestamp(start, timezone, "--window-start"),
        parse_timestamp(end, timezone, "--window-end"),
    )
    if window.end <= window.start:
        raise ConfigError(
            f"The window end {window.end.isoformat()} must be after its start "
            f"{window.start.isoformat()}."
        )
    return window


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"Unknown time zone '{name}' (use an IANA name such as Europe/Berlin)."
        ) from exc
    return name


@dataclass(frozen=True)
class TableMapping:
    """How one site file maps onto a canonical table."""

    file: str | None = None  # file stem in the input folder; default: the table name
    columns: dict[str, str] = field(default_factory=dict)  # canonical name -> site column
    constants: dict[str, str] = field(default_factory=dict)  # canonical name -> fixed value
    datetime_formats: tuple[str, ...] = ()


@dataclass(frozen=True)
class SiteMapping:
    site: str = "default"
    timezone: str = "UTC"
    allow_identifiers: bool = False
    delimiter: str | None = None  # None: sniffed from the header line
    encoding: str = "utf-8"
    datetime_formats: tuple[str, ...] = ()
    lab_dictionary: dict[str, str] = field(default_factory=dict)  # normalised local name -> analyte
    tables: dict[str, TableMapping] = field(default_factory=dict)
    source_path: str | None = None

    def table(self, name: str) -> TableMapping:
        return self.tables.get(name, TableMapping())


_MAPPING_KEYS = {
    "site",
    "timezone",
    "allow_identifiers",
    "csv",
    "datetime_formats",
    "lab_dictionary",
    "tables",
    "notifications",  # read by hyposcreen.notify.settings
}
_TABLE_KEYS = {"file", "columns", "constants", "datetime_formats"}
_CSV_KEYS = {"delimiter", "encoding"}


def _reject_unknown(found: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(found) - allowed)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}. Allowed: {', '.join(sorted(allowed))}."
        )


def read_lab_dictionary(path: Path) -> dict[str, str]:
    """A site lab dictionary CSV with columns local_name (name or item id) and analyte."""
    if not path.is_file():
        raise ConfigError(f"Lab dictionary {path} does not exist.")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = {"local_name", "analyte"} - set(reader.fieldnames or [])
        if missing:
            raise ConfigError(
                f"Lab dictionary {path} lacks column(s) {', '.join(sorted(missing))}."
            )
        return {
            normalize_label(row["local_name"]): row["analyte"].strip()
            for row in reader
            if (row["local_name"] or "").strip()
        }


def _file_stem_in_input(stem: Any, where: str) -> str | None:
    """A table's `file:` names a file or folder inside --input: no absolute path, no `..`."""
    if stem is None:
        return None
    text = str(stem)
    parts = Path(text).parts
    if not text.strip() or Path(text).is_absolute() or ".." in parts or text.startswith("~"):
        raise ConfigError(
            f"{where}: file '{text}' must name a file inside the input folder (a name such as "
            "lab_export, no absolute path and no '..')."
        )
    return text


def load_mapping(path: Path | None) -> SiteMapping:
    """Read a site mapping YAML; None gives the default (canonical column names, UTC)."""
    if path is None:
        return SiteMapping()
    if not path.is_file():
        raise ConfigError(f"Mapping file {path} does not exist.")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"Mapping file {path} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"Mapping file {path} must hold a mapping of keys at the top level.")
    _reject_unknown(raw, _MAPPING_KEYS, f"Mapping file {path}")
    csv_options = raw.get("csv") or {}
    _reject_unknown(csv_options, _CSV_KEYS, f"Mapping file {path}, section csv")
    tables: dict[str, TableMapping] = {}
    for name, spec in (raw.get("tables") or {}).items():
        if name not in TABLES:
            raise ConfigError(
                f"Mapping file {path}: unknown table '{name}' (tables: {', '.join(TABLES)})."
            )
        spec = spec or {}
        _reject_unknown(spec, _TABLE_KEYS, f"Mapping file {path}, table {name}")
        tables[name] = TableMapping(
            file=_file_stem_in_input(spec.get("file"), f"Mapping file {path}, table {name}"),
            columns={str(k): str(v) for k, v in (spec.get("columns") or {}).items()},
            constants={str(k): str(v) for k, v in (spec.get("constants") or {}).items()},
            datetime_formats=tuple(spec.get("datetime_formats") or ()),
        )
    dictionary: dict[str, str] = {}
    if raw.get("lab_dictionary"):
        dictionary = read_lab_dictionary((path.parent / raw["lab_dictionary"]).resolve())
    allow = raw.get("allow_identifiers", False)
    if not isinstance(allow, bool):
        raise ConfigError(f"Mapping file {path}: allow_identifiers must be true or false.")
    return SiteMapping(
        site=str(raw.get("site", "default")),
        timezone=check_timezone(str(raw.get("timezone", "UTC"))),
        allow_identifiers=allow,
        delimiter=csv_options.get("delimiter"),
        encoding=str(csv_options.get("encoding", "utf-8")),
        datetime_formats=tuple(raw.get("datetime_formats") or ()),
        lab_dictionary=dictionary,
        tables=tables,
        source_path=str(path),
    )


@dataclass(frozen=True)
class RunSettings:
    """Everything one screening run needs; flow parameters map 1:1 onto these fields."""

    input_dir: Path
    out_dir: Path
    window: Window
    profile: str | None = None
    source: str = "canonical"
    mapping_path: Path | None = None
    rules_dir: Path | None = None
    glucose_factor: float | None = None
    state_dir: Path | None = None  # nightly state (hyposcreen.state); None = a stateless run
