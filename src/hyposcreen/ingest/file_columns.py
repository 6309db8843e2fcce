"""Which columns of one delivered file a table reads, and as what: the site mapping's names as
this file spells them (`PATIENT_ID` for `patient_id`), a date + time pair read as one time, the
columns to project from the file, and those the file holds (for the manifest)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from hyposcreen.config import TableMapping
from hyposcreen.errors import InputError
from hyposcreen.ingest.canonical import TableSchema
from hyposcreen.ingest.frames import check_columns, spelled_as_in
from hyposcreen.ingest.joined_times import joined_names, part_columns, spelled_parts

UNREAD = "\x00unread"  # a name no header carries: the canonical column is not read


@dataclass(frozen=True)
class FileColumns:
    """One file's reading plan: `site_for` canonical -> the file's column, `wanted` the
    reverse, `table` the mapping as this file spells it, `include` the columns to project and
    `present` the canonical columns the file holds."""

    site_for: dict[str, str]
    wanted: dict[str, str]
    table: TableMapping
    include: list[str]
    present: set[str]

    @property
    def read_as(self) -> dict[str, str]:
        """Each projected column -> the canonical column it is read as (a date or time part:
        the joined time's)."""
        parts = {part: canon for canon, pair in self.table.joined.items() for part in pair}
        return {site: self.wanted.get(site, parts.get(site, site)) for site in self.include}


def site_columns(table: TableMapping, schema: TableSchema) -> dict[str, str]:
    """Canonical -> site column; identity for unmapped canonical names, unless the mapping
    reads a site column of that name as another canonical one (`value_raw: value`)."""
    claimed = set(table.columns.values())
    return {
        canon: table.columns.get(canon, UNREAD if canon in claimed else canon)
        for canon in schema.columns
    }


def file_columns(
    path: Path,
    header: list[str],
    mapping_table: TableMapping,
    schema: TableSchema,
    site_for: dict[str, str],
) -> FileColumns:
    """The plan for one file with this `header` (its required columns checked: InputError)."""
    site_for_file = spelled_as_in(header, site_for, UNREAD, path)
    table = replace(mapping_table, columns={c: site_for_file[c] for c in mapping_table.columns})
    table = spelled_parts(table, header)  # a date + time pair's parts alike
    site_for_file |= {canon: table.columns[canon] for canon in table.joined}
    wanted = {site: canon for canon, site in site_for_file.items()}
    joined = joined_names(table, header)  # date + time columns read as one
    present = check_columns(path, [*header, *joined], wanted, schema, table)
    include = [c for c in header if c in wanted]  # required columns are among them
    include += [c for c in part_columns(table, header) if c not in include]
    return FileColumns(site_for_file, wanted, table, include, present)


def refuse_other_columns(
    table: str, first: tuple[Path, set[str]], path: Path, present: set[str]
) -> None:
    """A part of a table holding other canonical columns than its `first` part (path, columns):
    an InputError naming both files and the columns, for the column one part lacks would read
    as empty for its rows alone (an entered-in-error status as none, a urine specimen as
    blood)."""
    first_path, first_present = first
    lacks, adds = sorted(first_present - present), sorted(present - first_present)
    if not lacks and not adds:
        return
    differ = "; ".join(
        text
        for text in (
            f"it lacks {', '.join(lacks)}" if lacks else "",
            f"it also has {', '.join(adds)}" if adds else "",
        )
        if text
    )
    raise InputError(
        f"{path} ({table}) does not carry the columns of {first_path}: {differ}. The parts of "
        "one table are read alike only when they carry the same columns (a column missing from "
        "one part would read as empty for its rows alone); export every part with the same "
        "columns. Nothing was screened.",
        file=str(path),
        column=(lacks or adds)[0],
    )
