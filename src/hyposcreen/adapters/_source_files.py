"""Which files hold a table of a source layout (OMOP, MIMIC), and what a folder holds for the
errors that say a layout is not there.

Source dumps name their files in upper or lower case, write tab-delimited text with `.csv`,
`.tsv` or `.txt` suffixes, and hold one file or a folder of parts per table; a part folder's
bookkeeping (a name starting with '.' or '_') is no part (ingest.files.is_bookkeeping).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from hyposcreen.errors import InputError
from hyposcreen.ingest.files import is_bookkeeping

TEXT_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt", ".txt.gz")
SUFFIXES = (".parquet", *TEXT_SUFFIXES)


def _table_files(folder: Path, stem: str) -> list[Path]:
    if not folder.is_dir():
        return []
    found: list[Path] = []
    for entry in sorted(folder.iterdir()):
        name = entry.name.lower()
        if entry.is_file() and any(name == stem + suffix for suffix in SUFFIXES):
            found.append(entry)
        elif entry.is_dir() and name == stem:
            found += sorted(
                p
                for p in entry.rglob("*")
                if p.is_file()
                and p.name.lower().endswith(SUFFIXES)
                and not is_bookkeeping(p, entry)
            )
    direct = [p for p in found if p.parent == folder]
    # a file beside a folder of parts (`labevents.csv.gz` and `labevents/`) holds it twice too:
    # both read, the night would hold an older delivery's rows beside the newer's
    if len(direct) > 1 or (direct and len(found) > len(direct)):
        parts = sorted({p.relative_to(folder).parts[0] + "/" for p in found if p not in direct})
        names = ", ".join([p.name for p in direct] + parts)
        raise InputError(
            f"Input folder {folder} holds the {stem} table more than once ({names}); keep one."
        )
    return found


def find_source_files(input_dir: Path, stem: str, subfolders: Sequence[str] = ()) -> list[Path]:
    """Files of one source table in `input_dir` (or the first of `subfolders` that has it).

    `<stem>.<suffix>` in any letter case, or every data file under a folder `<stem>/`.
    """
    for folder in (input_dir, *(input_dir / s for s in subfolders)):
        found = _table_files(folder, stem)
        if found:
            return found
    return []


def parts_folder(input_dir: Path, stem: str, files: Sequence[Path]) -> Path | None:
    """The folder `<stem>/` (any letter case) in `input_dir` or one of its subfolders that
    `find_source_files` read `files` from as parts, or None (a single file): listed again
    before publishing, a part written into it since stops the night
    (ingest.files.check_no_parts_added)."""
    return next(
        (
            folder
            for path in files
            for folder in path.parents
            if folder.name.lower() == stem and input_dir in (folder.parent, folder.parent.parent)
        ),
        None,
    )


# packings and archives the readers do not open (they read gzip: `.gz`): a table or an export
# file delivered so would be missing from the screen (here and adapters/fhir_files.py)
UNREAD_PACKINGS = (
    ".bz2", ".xz", ".zst", ".lz4", ".br", ".zip", ".7z", ".rar", ".tar", ".tar.gz", ".tgz",
)  # fmt: skip


def packed_tables(input_dir: Path, stems: Sequence[str], subfolders: Sequence[str] = ()) -> str:
    """The tables of `stems` that are not there but lie in an archive the readers do not
    open (`labevents.csv.zip`), for the error that says so: "" when none, else a sentence
    naming each archive (its path inside the input folder) and saying to unpack it."""
    packed: list[str] = []
    for stem in stems:
        if find_source_files(input_dir, stem, subfolders):
            continue
        for folder in (input_dir, *(input_dir / s for s in subfolders)):
            if folder.is_dir():
                packed += [
                    p.relative_to(input_dir).as_posix()
                    for p in sorted(folder.iterdir())
                    if p.is_file()
                    and p.name.lower().startswith(stem + ".")
                    and p.name.lower().endswith(UNREAD_PACKINGS)
                ]
    if not packed:
        return ""
    return (
        f"{', '.join(packed)} {'is an archive' if len(packed) == 1 else 'are archives'} the "
        "reader does not open (it reads the table files: .csv, .csv.gz, .tsv, .txt, .parquet), "
        "so the table would be missing from the screen. Unpack the table file into the same "
        "folder (plain, or recompressed with gzip as .csv.gz) and rerun."
    )


def split_tables(input_dir: Path, stems: Sequence[str], subfolders: Sequence[str] = ()) -> str:
    """The tables of `stems` that are not there but lie in numbered parts beside each other
    (`labevents-000000000000.csv.gz`, as BigQuery writes a table over 1 GB), for the error that
    says so: "" when none, else a sentence naming each table's parts (at most three) and saying
    to move them into a folder named after the table, whose files are read as one table."""
    found: list[str] = []
    for stem in stems:
        if find_source_files(input_dir, stem, subfolders):
            continue
        part = re.compile(re.escape(stem) + r"[-_.]\d+$")
        for folder in (input_dir, *(input_dir / s for s in subfolders)):
            if not folder.is_dir():
                continue
            parts = [
                p.relative_to(input_dir).as_posix()
                for p in sorted(folder.iterdir())
                if p.is_file()
                and p.name.lower().endswith(SUFFIXES)
                and part.match(_without_suffix(p.name.lower()))
            ]
            if parts:
                shown = ", ".join(parts[:3]) + (", …" if len(parts) > 3 else "")
                where = "" if folder == input_dir else f"{folder.name}/"
                found.append(
                    f"{shown} look like the {len(parts)} part(s) of the {stem} table split by "
                    f"the exporter: move them into a folder {where}{stem}/ (every file in it is "
                    "read as part of the table) and rerun"
                )
    return "; ".join(found) + "." if found else ""


def _without_suffix(name: str) -> str:
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def listing(input_dir: Path, subfolders: Sequence[str] = ()) -> str:
    """What the folder holds, for layout errors (at most 15 names)."""
    names: list[str] = []
    for folder in (input_dir, *(input_dir / s for s in subfolders)):
        if folder.is_dir():
            prefix = "" if folder == input_dir else f"{folder.name}/"
            names += [prefix + p.name for p in sorted(folder.iterdir())]
    shown = ", ".join(names[:15]) + (", …" if len(names) > 15 else "")
    return shown or "nothing"
