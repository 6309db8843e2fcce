"""Run settings and the site mapping file: typed, strict (unknown keys are errors)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from hyposcreen import mapping_values
from hyposcreen.errors import ConfigError
from hyposcreen.legacy_text import LEGACY_ENCODING
from hyposcreen.rules.loader import normalize_label
from hyposcreen.schema import SCHEMAS
from hyposcreen.site_zone import check_timezone

TABLES = ("labs", "medications", "diagnoses", "patients")
SOURCES = ("canonical", "fhir", "omop", "mimic")


@dataclass(frozen=True)
class Window:
    """Screening window [start, end) in site-local wall time (naive timestamps)."""

    start: pd.Timestamp
    end: pd.Timestamp

    def label(self) -> str:
        return f"{self.start.isoformat()}/{self.end.isoformat()}"


_ISO_8601 = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
)


def parse_timestamp(text: str, timezone: str, what: str) -> pd.Timestamp:
    """An ISO 8601 date or datetime (nothing else: 05.11.2026 could be May or November); one
    with an offset is converted to site-local wall time."""
    if not isinstance(text, str) or not _ISO_8601.fullmatch(text.strip()):
        raise ConfigError(
            f"{what} '{text}' is not an ISO 8601 date or date-time; write e.g. 2026-11-05 or "
            "2026-11-05T06:00."
        )
    try:
        stamp = pd.Timestamp(text.strip())
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"{what} '{text}' is not a valid date; write e.g. 2026-11-05 or 2026-11-05T06:00."
        ) from exc
    if stamp is pd.NaT:
        raise ConfigError(f"{what} is empty.")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(timezone).tz_localize(None)
    return stamp.as_unit("us")


def parse_window(
    start: str,
    end: str,
    timezone: str = "UTC",
    options: tuple[str, str] = ("--window-start", "--window-end"),
    what: str = "window",
) -> Window:
    """[start, end) read as `options` (the command's own: `--start`/`--end` for an audit) of
    the `what` its errors name."""
    window = Window(
        parse_timestamp(start, timezone, options[0]),
        parse_timestamp(end, timezone, options[1]),
    )
    if window.end <= window.start:
        raise ConfigError(
            f"The {what} end {window.end.isoformat()} must be after its start "
            f"{window.start.isoformat()}."
        )
    return window


@dataclass(frozen=True)
class TableMapping:
    """How one site file maps onto a canonical table."""

    file: str | None = None  # file stem in the input folder; default: the table name
    columns: dict[str, str] = field(default_factory=dict)  # canonical name -> site column
    constants: dict[str, str] = field(default_factory=dict)  # canonical name -> fixed value
    datetime_formats: tuple[str, ...] = ()
    # a time column delivered as a date column and a time-of-day column: canonical name ->
    # (date column, time column); `columns` names it by `joined_column_name` (ingest.joined_times)
    joined: dict[str, tuple[str, str]] = field(default_factory=dict)
    # false: the sender refreshes this table less often than nightly (a weekly demographics
    # dump), so its files being those of the night before is no sign of a stale delivery
    refreshed_nightly: bool = True


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
    decimal: str = "."  # decimal separator of result values ("," : 3,1 is 3.1)
    status_words: dict[str, tuple[str, ...]] = field(default_factory=dict)  # status -> words
    drug_synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)  # name -> ingredients

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
    "status_words",
    "drug_synonyms",
    "notifications",  # read by hyposcreen.notify.settings
}
_TABLE_KEYS = {"file", "columns", "constants", "datetime_formats", "refreshed_nightly"}
_CSV_KEYS = {"delimiter", "encoding", "decimal"}


def read_lab_dictionary(path: Path) -> dict[str, str]:
    """A site lab dictionary CSV with columns local_name (name or item id) and analyte: UTF-8,
    else (a sheet saved by Excel on Windows) Windows-1252, as the extract's CSVs are read;
    separated by `,`, or by `;` or tabs as a spreadsheet saves it where the decimal is a comma
    (the header decides)."""
    if not path.is_file():
        raise ConfigError(f"Lab dictionary {path} does not exist.")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode(LEGACY_ENCODING)
    delimiter = header_delimiter(text.split("\n", 1)[0], ("local_name", "analyte"))
    with io.StringIO(text, newline="") as handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        reader.fieldnames = [name.strip().lower() for name in reader.fieldnames or []]
        missing = {"local_name", "analyte"} - set(reader.fieldnames)
        if missing:
            raise ConfigError(
                f"Lab dictionary {path} lacks column(s) {', '.join(sorted(missing))}: its "
                "first row is read as the header, local_name and analyte (separated by commas, "
                "semicolons or tabs)."
            )
        return {
            normalize_label(row["local_name"]): (row["analyte"] or "").strip()
            for row in reader
            if (row["local_name"] or "").strip()
        }


def header_delimiter(header: str, needed: Sequence[str]) -> str:
    """The first of `,`, `;` and tab that splits the `header` line of a site's own CSV (a lab
    dictionary, a review file) into names holding every one of `needed` (compared without
    spaces around them, in lower case), else `,`: a spreadsheet where the decimal is a comma
    saves its CSV with `;`."""
    for delimiter in (",", ";", "\t"):
        names = {name.strip().lower() for name in next(csv.reader([header], delimiter=delimiter))}
        if set(needed) <= names:
            return delimiter
    return ","


def _mapping_timezone(raw: dict[str, object], where: str) -> str:
    if "timezone" not in raw:
        return "UTC"
    name = raw["timezone"]
    try:
        return check_timezone(name if isinstance(name, str) else "")
    except ConfigError as exc:
        raise ConfigError(f"{where}: timezone {name!r}: {exc}") from exc


def load_mapping(path: Path | None) -> SiteMapping:
    """Read a site mapping YAML; None gives the default (canonical column names, UTC)."""
    if path is None:
        return SiteMapping()
    if not path.is_file():
        raise ConfigError(f"Mapping file {path} does not exist.")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"Mapping file {path} is not UTF-8 text (saved as ANSI or Windows-1252 by an "
            "editor?): YAML files are UTF-8. Save it again as UTF-8."
        ) from exc
    except yaml.YAMLError as exc:
        # one line (YAML's message spans several); the text YAML parsed is this file
        detail = " ".join(str(exc).split()).replace('in "<unicode string>", ', "at ")
        raise ConfigError(f"Mapping file {path} is not valid YAML: {detail}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"Mapping file {path} must hold a mapping of keys at the top level.")
    where = f"Mapping file {path}"
    mapping_values.reject_unknown(raw, _MAPPING_KEYS, where)
    csv_options = mapping_values.section(raw, "csv", where)
    mapping_values.reject_unknown(csv_options, _CSV_KEYS, f"{where}, section csv")
    tables: dict[str, TableMapping] = {}
    for name, spec in mapping_values.section(raw, "tables", where).items():
        if name not in TABLES:
            raise ConfigError(f"{where}: unknown table '{name}' (tables: {', '.join(TABLES)}).")
        spec = mapping_values.section({name: spec}, name, f"{where}, tables")
        mapping_values.reject_unknown(spec, _TABLE_KEYS, f"{where}, table {name}")
        spec, joined = mapping_values.joined_time_columns(
            spec, SCHEMAS[name].time_columns, f"{where}, tables.{name}"
        )
        columns = mapping_values.text_map(spec, "columns", f"{where}, tables.{name}")
        mapping_values.reject_shared_columns(columns, f"{where}, tables.{name}.columns")
        # the parts of a joined time are read, not renamed: one date column may serve two
        columns |= {c: mapping_values.joined_column_name(ps) for c, ps in joined.items()}
        constants = mapping_values.text_map(spec, "constants", f"{where}, tables.{name}")
        for key, found in (("columns", columns), ("constants", constants)):
            mapping_values.reject_unknown(
                found, set(SCHEMAS[name].columns), f"{where}, tables.{name}.{key}"
            )
        tables[name] = TableMapping(
            file=mapping_values.file_stem_in_input(
                mapping_values.text(spec, "file", f"{where}, tables.{name}"),
                f"{where}, table {name}",
            ),
            columns=columns,
            constants=constants,
            joined=joined,
            datetime_formats=mapping_values.texts(
                spec, "datetime_formats", f"{where}, tables.{name}"
            ),
            refreshed_nightly=mapping_values.flag(
                spec, "refreshed_nightly", f"{where}, tables.{name}", default=True
            ),
        )
        mapping_values.reject_swapped_formats(
            tables[name].datetime_formats + mapping_values.texts(raw, "datetime_formats", where),
            f"{where}, tables.{name}.datetime_formats",
        )
    mapping_values.reject_swapped_formats(
        mapping_values.texts(raw, "datetime_formats", where), f"{where}, datetime_formats"
    )
    dictionary: dict[str, str] = {}
    if raw.get("lab_dictionary"):
        name = mapping_values.text(raw, "lab_dictionary", where) or ""
        dictionary = read_lab_dictionary((path.parent / name).resolve())
    allow = raw.get("allow_identifiers", False)
    if not isinstance(allow, bool):
        raise ConfigError(f"{where}: allow_identifiers must be true or false.")
    return SiteMapping(
        site=mapping_values.text(raw, "site", where) or "default",
        timezone=_mapping_timezone(raw, where),
        allow_identifiers=allow,
        delimiter=mapping_values.delimiter(csv_options, where),
        encoding=mapping_values.encoding(csv_options, where),
        datetime_formats=mapping_values.texts(raw, "datetime_formats", where),
        lab_dictionary=dictionary,
        tables=tables,
        source_path=str(path),
        decimal=mapping_values.decimal(csv_options, where),
        status_words={  # a key YAML reads as no text (5, true) is named as written
            str(k): mapping_values.texts(
                mapping_values.section(raw, "status_words", where), k, f"{where}, status_words"
            )
            for k in mapping_values.section(raw, "status_words", where)
        },
        drug_synonyms={
            str(k).strip(): mapping_values.ingredients(v, f"{where}, drug_synonyms.{k}")
            for k, v in mapping_values.section(raw, "drug_synonyms", where).items()
        },
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
