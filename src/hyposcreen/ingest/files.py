"""The files of one canonical table in an input folder, and their manifest records."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from hyposcreen.errors import InputError
from hyposcreen.ingest.listing import BOOKKEEPING as _BOOKKEEPING
from hyposcreen.ingest.listing import listed_files
from hyposcreen.ingest.read_identities import remember, sha256_of

if TYPE_CHECKING:
    from hyposcreen.ingest.canonical import IngestedTable

SUFFIXES = (".parquet", ".csv", ".csv.gz")
# names in a table folder that are no part of it, as Spark, Hadoop and Arrow datasets decide:
# a file or folder whose name starts with `_BOOKKEEPING` (_SUCCESS, _metadata, a job's
# unfinished _temporary/ folder, hidden .part-0.csv.crc, .DS_Store, .ipynb_checkpoints/)


def find_table_files(input_dir: Path, stem: str) -> list[Path]:
    """The files holding one table: `<stem>.<suffix>` or every such file under `<stem>/` (or
    the file `<stem>` itself when the mapping names it with its suffix).

    A file in the folder that is neither a part nor bookkeeping (`part2.CSV`, `part2.txt`,
    `part2.csv.bz2`) is an InputError naming it: skipping it would lose its rows unseen. What
    lies under a bookkeeping name is no part, also a `.csv` (a notebook's checkpoint copy, an
    unfinished Spark job's `_temporary/` attempt): reading it would count rows twice. A folder
    with no part but such data files did not finish: an InputError naming the folder."""
    named = input_dir / stem
    _refuse_unreadable_entries([named])
    # `file: LAB_RESULTS.csv` (or `.CSV`, as Windows exports name it), as sites write
    if stem.lower().endswith(SUFFIXES) and named.is_file():
        return [named]
    direct = [input_dir / f"{stem}{suffix}" for suffix in SUFFIXES]
    _refuse_unreadable_entries(direct)
    found = [p for p in direct if p.is_file()]
    folder = table_folder(input_dir, stem)
    if folder.is_dir():
        inside = _files_inside(folder)
        found += [p for p in inside if p.name.endswith(SUFFIXES)]
        unread = [p for p in inside if not p.name.endswith(SUFFIXES)]
        if not found:
            _refuse_unfinished(folder, stem)
        if unread:
            raise InputError(
                f"The {stem} folder holds {len(unread)} file(s) hyposcreen cannot read as part "
                f"of the table, e.g. {unread[0]}: parts are .csv, .csv.gz or .parquet (lower "
                "case). Rename or convert them, or move them out of the folder; nothing was "
                "screened.",
                file=str(unread[0]),
            )
    direct_count = sum(p.parent == input_dir for p in found)  # beside a file or a folder:
    found[direct_count:direct_count] = _in_other_letter_case(input_dir, stem, found)
    direct_found = [p for p in found if p.parent == input_dir]
    if len({p.suffix for p in direct_found}) > 1 or (direct_found and len(found) > 1):
        names = ", ".join(
            [p.name for p in direct_found]
            + ([f"{stem}/"] if len(found) > len(direct_found) else [])
        )
        raise InputError(
            f"Input folder {input_dir} holds the {stem} table twice ({names}); keep one of them."
        )
    return found


def _files_inside(folder: Path) -> list[Path]:
    """The files under a table's folder that are no bookkeeping, in name order."""
    entries = [p for p in folder.rglob("*") if not is_bookkeeping(p, folder)]
    _refuse_unreadable_entries(entries, inside=True)
    return sorted(p for p in entries if p.is_file())


def check_no_table_parts_added(table: IngestedTable) -> None:
    """`check_no_parts_added` for a table read from a folder of parts (else nothing to do)."""
    if table.parts_folder is not None:
        check_no_parts_added(
            table.parts_folder, table.files, table.part_suffixes, table.parts_listed
        )


def check_no_parts_added(
    folder: Path,
    records: list[dict[str, object]],
    suffixes: tuple[str, ...] = (),
    listed: tuple[str, ...] = (),
) -> None:
    """Raise when the table's `folder` of parts holds a part that was not read (its `records`):
    a part written after the folder was listed (an export job still writing its parts, one
    after another), whose rows the night would not hold. Checked before the night's outputs
    are written, beside the size check of the parts read (`check_read_files_unchanged`).
    `suffixes`: of the parts the folder's reader reads, in lower case (default: canonical);
    `listed`: files the reader listed there and chose not to read (no part added since). The
    folder is listed as the readers list it (ingest.listing): a link to a folder or to nothing
    is no part, nor are the outputs of a run whose --out lies inside it."""
    read = {str(record["path"]) for record in records} | set(listed)
    parts = suffixes or SUFFIXES
    added = [
        p for p in listed_files(folder) if p.name.lower().endswith(parts) and str(p) not in read
    ]
    if added:
        from hyposcreen.adapters.fhir_documents import shown_path  # the package imports this

        shown = shown_path(added[0])  # a FHIR JSON document's name may be its patient's
        raise InputError(
            f"{shown} appeared in {folder} after the folder was read ({len(added)} part(s) "
            "not read: a delivery still being written): the night would be screened without "
            "them. Run again once the delivery is complete; nothing was published.",
            file=shown,
        )


def _in_other_letter_case(input_dir: Path, stem: str, found: list[Path]) -> list[Path]:
    """Files beside the table's `found` files named as a table file in another letter case
    (`LABS.csv`, `labs.CSV`, `LABS.PARQUET` beside `labs.csv`: a re-delivery by another export
    tool beside the last night's file), as the table delivered twice: only the exact name
    would be read, the other skipped unseen. A name the folder's file system matches without
    case (a Windows share) is the found file itself, not another."""
    if not found:
        return []
    names = {f"{stem}{suffix}".lower() for suffix in SUFFIXES}
    exact = {f"{stem}{suffix}" for suffix in SUFFIXES}
    others = [
        p
        for p in sorted(input_dir.iterdir())
        if p.name.lower() in names and p.name not in exact and p.is_file()
    ]
    return [p for p in others if not any(p.samefile(f) for f in found)]


def table_folder(input_dir: Path, stem: str) -> Path:
    """The folder of a table's parts: `<stem>/`, else a folder named as the table's file
    (`labs.parquet/`, `labs.csv/`: Spark's `write.parquet("labs.parquet")` leaves its parts so).
    Two such folders hold the table twice: an InputError naming them."""
    plain = input_dir / stem
    folders = [plain] if plain.is_dir() else []
    folders += [input_dir / f"{stem}{s}" for s in SUFFIXES if (input_dir / f"{stem}{s}").is_dir()]
    if len(folders) > 1:
        names = ", ".join(f"{f.name}/" for f in folders)
        raise InputError(
            f"Input folder {input_dir} holds the {stem} table twice ({names}); keep one of them."
        )
    return folders[0] if folders else plain


def _refuse_unreadable_entries(paths: list[Path], inside: bool = False) -> None:
    """A table's file or part that is a symbolic link to nothing (its target gone, or links
    forming a loop), or (`inside` a table's folder) to a folder, never followed, or that is no
    file at all (a named pipe, a socket, a device): an InputError naming it, for its rows would
    otherwise be skipped unseen."""
    for path in paths:
        if path.exists() and not (path.is_file() or path.is_dir()):
            raise InputError(
                f"{path} is not a file (a named pipe, a socket or a device): its rows cannot be "
                "read as a delivery's. Deliver the table as a file; nothing was screened.",
                file=str(path),
            )
        if not path.is_symlink():
            continue
        if not path.exists():
            raise InputError(
                f"{path} is a symbolic link that leads to no file (its target is missing, or "
                "links form a loop): its rows cannot be read. Deliver the file itself; nothing "
                "was screened.",
                file=str(path),
            )
        if inside and path.is_dir():
            raise InputError(
                f"{path} is a symbolic link to a folder, which is not followed: the parts in "
                "it would not be read. Copy the folder into the extract; nothing was screened.",
                file=str(path),
            )


def refuse_lost_partition_columns(
    path: Path, folder: Path, header: list[str], read_as: dict[str, str], table: str
) -> None:
    """A part under hive folders (`status=final/part-0.parquet`) whose key names a column the
    table reads (canonical or as the site mapping names it) that the part itself does not hold
    (Spark, pandas and pyarrow leave a partition column out of the files): an InputError, for
    every value of that column would be lost (an entered-in-error status read as none, a
    urine specimen as blood). The message names the key, never a folder's value (an id)."""
    try:
        parts = path.relative_to(folder).parts[:-1]
    except ValueError:
        return
    keys = [part.split("=", 1)[0].strip() for part in parts if "=" in part]
    if not keys:
        return
    in_part = {name.strip().lower() for name in header}
    reads = {name.lower() for pair in read_as.items() for name in pair}
    lost = [key for key in keys if key.lower() in reads and key.lower() not in in_part]
    if lost:
        raise InputError(
            f"The {table} parts sit in folders named after the column {lost[0]} "
            f"({folder.name}/{lost[0]}=…/), which the parts themselves do not hold: "
            "hyposcreen reads a table's columns from inside its files, so every value of that "
            "column would be lost. Write the column into the files, or partition the folder "
            "by other keys (such as year= and month=); nothing was screened.",
            file=str(folder),
        )


def _refuse_unfinished(folder: Path, stem: str) -> None:
    """A folder with no part whose data files all lie under bookkeeping names (an unfinished
    Spark job's `_temporary/` attempt) did not finish: an InputError naming one of them."""
    hidden = sorted(p for p in folder.rglob("*") if p.is_file() and p.name.endswith(SUFFIXES))
    if hidden:
        raise InputError(
            f"The {stem} folder holds no part, only {len(hidden)} data file(s) under names "
            f"starting with '_' or '.', which are never read, e.g. {hidden[0]}: an unfinished "
            "Spark job (_temporary/) or a copy? Deliver the table's parts; nothing was screened.",
            file=str(hidden[0]),
        )


def is_bookkeeping(path: Path, folder: Path) -> bool:
    """Whether `path` lies under a bookkeeping name inside `folder` (itself or a folder between):
    no part of a table, for every source (canonical, OMOP, MIMIC, FHIR)."""
    return any(part.startswith(_BOOKKEEPING) for part in path.relative_to(folder).parts)


def file_record(
    path: Path, rows: int, sha256: str | None = None, size: int | None = None
) -> dict[str, object]:
    """The manifest's entry for one input file (sha256 computed here unless given). `size`:
    the file's bytes when its read began; the size now is taken only for a file not read
    (an empty part). Taken after the read, a file that grew while read would record its grown
    size, and the check before publishing (`check_read_files_unchanged`) would find it
    unchanged though its late rows were never read."""
    stat = path.stat()
    sha256 = sha256 or sha256_of(path)
    remember(path, sha256, (stat.st_ino, stat.st_mtime_ns))  # for the check before publishing
    return {
        "path": str(path),
        "sha256": sha256,
        "rows": rows,
        "bytes": stat.st_size if size is None else size,
    }


def unread_candidates(input_dir: Path, stem: str) -> list[str]:
    """Files beside the extract named like the table but not read as it (`labs.CSV`,
    `LABS.csv`, `labs.tsv`), for the error that says the table is missing."""
    prefix = f"{stem.lower()}."
    return sorted(
        p.name
        for p in input_dir.iterdir()
        if p.is_file() and p.name.lower().startswith(prefix) and not p.name.endswith(".count")
    )
