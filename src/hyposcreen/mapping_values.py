"""Typed reading of the site mapping YAML's values: each helper returns the value of one key
in the type the mapping needs, or raises a ConfigError naming the key and what it must be."""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Any

from hyposcreen.errors import ConfigError


def reject_unknown(found: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(found) - allowed)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}. Allowed: {', '.join(sorted(allowed))}."
        )


def reject_shared_columns(columns: dict[str, str], where: str) -> None:
    """One site column read as two canonical ones: the reader renames each site column once,
    so one of the two keys would be lost (and the file blamed for lacking it)."""
    keys_of: dict[str, list[str]] = {}
    for canon, site in columns.items():
        keys_of.setdefault(site, []).append(canon)
    shared = {site: keys for site, keys in keys_of.items() if len(keys) > 1}
    if shared:
        site, keys = sorted(shared.items())[0]
        raise ConfigError(
            f"{where}: {' and '.join(keys)} all name the column {site}; a site column can be "
            "mapped to one canonical column only (leave the optional one out)."
        )


def reject_swapped_formats(formats: tuple[str, ...], where: str) -> None:
    """Day-first and month-first versions of one format (`%d/%m/%Y` and `%m/%d/%Y`): the first
    listed would silently read 05/12/2026 for every day up to the 12th, the second the rest."""
    for position, first in enumerate(formats):
        swapped = first.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")
        if swapped != first and swapped in formats[position + 1 :]:
            raise ConfigError(
                f"{where}: '{first}' and '{swapped}' read a date such as 05/12/2026 as two "
                "different days; list only the order the site writes."
            )


def file_stem_in_input(stem: Any, where: str) -> str | None:
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


def section(raw: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = raw.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: {key} must be a mapping of keys (got {type(value).__name__}).")
    return value


def text(raw: dict[str, Any], key: str, where: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ConfigError(f"{where}: {key} must be text (got {type(value).__name__}).")
    return str(value)


def flag(raw: dict[str, Any], key: str, where: str, default: bool) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: {key} must be true or false (got {value!r}).")
    return value


def text_map(raw: dict[str, Any], key: str, where: str) -> dict[str, str]:
    found = section(raw, key, where)
    for name, value in found.items():
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise ConfigError(f"{where}: {key}.{name} must be text (got {type(value).__name__}).")
    return {str(k): str(v) for k, v in found.items()}


def texts(raw: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = raw.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(
            f'{where}: {key} must be a list of text, e.g. {key}: ["..."] '
            f"(got {type(value).__name__})."
        )
    return tuple(value)


def ingredients(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.split(";")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or not value:
        raise ConfigError(f"{where} must name one listed ingredient or a list of them.")
    return tuple(v.strip().lower() for v in value)


def delimiter(options: dict[str, Any], where: str) -> str | None:
    value = text(options, "delimiter", f"{where}, csv")
    if value is not None and len(value) != 1:
        raise ConfigError(f'{where}: csv.delimiter must be one character, e.g. ";".')
    return value


def encoding(options: dict[str, Any], where: str) -> str:
    value = text(options, "encoding", f"{where}, csv") or "utf-8"
    try:
        codecs.lookup(value)
    except LookupError as exc:
        raise ConfigError(
            f"{where}: csv.encoding '{value}' is not a known encoding (e.g. utf-8, latin-1, "
            "cp1252)."
        ) from exc
    return value


def decimal(options: dict[str, Any], where: str) -> str:
    value = text(options, "decimal", f"{where}, csv") or "."
    if value not in (".", ","):
        raise ConfigError(f'{where}: csv.decimal must be "." or "," (got {value!r}).')
    if value == options.get("delimiter"):
        raise ConfigError(f"{where}: csv.decimal and csv.delimiter cannot both be {value!r}.")
    return value


def joined_column_name(parts: tuple[str, str]) -> str:
    """The name a date column and a time column read together go by (`DATE+TIME`)."""
    return "+".join(parts)


def joined_time_columns(
    spec: dict[str, Any], time_columns: tuple[str, ...], where: str
) -> tuple[dict[str, Any], dict[str, tuple[str, str]]]:
    """`columns: {specimen_time: [COLLECT_DATE, COLLECT_TIME]}`: a time column delivered as a
    date column and a time-of-day column. Returns the table spec without those entries and
    them as canonical name -> (date column, time column); a list anywhere else, or one not of
    two names, is a ConfigError naming the key."""
    columns = spec.get("columns")
    if not isinstance(columns, dict):
        return spec, {}
    joined: dict[str, tuple[str, str]] = {}
    for canon, value in columns.items():
        if not isinstance(value, list):
            continue
        names = [v.strip() for v in value if isinstance(v, str) and v.strip()]
        if str(canon) not in time_columns or len(names) != 2 or len(value) != 2:
            raise ConfigError(
                f"{where}: columns.{canon} is a list; only a time column ("
                f"{', '.join(time_columns)}) may name two columns, its date and its time of "
                "day, e.g. [COLLECT_DATE, COLLECT_TIME]."
            )
        joined[str(canon)] = (names[0], names[1])
    if not joined:
        return spec, {}
    rest = {k: v for k, v in columns.items() if str(k) not in joined}
    return {**spec, "columns": rest}, joined
