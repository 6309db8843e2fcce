"""The warning of a run that read a table's folder with empty parts (`ingest.empty_parts`):
a zero-byte month cannot be told from an export that stopped before writing, so the run
says so (exit 4), naming the files relative to the input folder."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from hyposcreen.run_warnings import RunWarning


def empty_part_warnings(
    files_by_table: Mapping[str, Sequence[Mapping[str, object]]], input_dir: Path
) -> list[RunWarning]:
    """One warning per table with an empty part among several files (the manifest records of
    its files: their `path` and `bytes`), naming the empty files relative to `input_dir`."""
    found: list[RunWarning] = []
    for table, files in files_by_table.items():
        empty = [str(f["path"]) for f in files if f.get("empty_part")]
        if not empty:
            continue
        names = ", ".join(_relative(Path(path), input_dir) for path in sorted(empty))
        found.append(
            RunWarning(
                "empty_file",
                f"table {table}: {len(empty)} of {len(files)} file(s) hold nothing (no header "
                f"line, no rows): {names}; read as no rows. A month with no rows, or an export "
                "that stopped before writing? If the rows are missing, the list may lack "
                "patients: ask the sender.",
            )
        )
    return found


def _relative(path: Path, input_dir: Path) -> str:
    try:
        return path.relative_to(input_dir).as_posix()
    except ValueError:
        return path.name
