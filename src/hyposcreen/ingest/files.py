"""The files of one canonical table in an input folder, and their manifest records."""

from __future__ import annotations

import hashlib
from pathlib import Path

from hyposcreen.errors import InputError

SUFFIXES = (".parquet", ".csv", ".csv.gz")


def find_table_files(input_dir: Path, stem: str) -> list[Path]:
    """The files holding one table: `<stem>.<suffix>` or every such file under `<stem>/`."""
    direct = [input_dir / f"{stem}{suffix}" for suffix in SUFFIXES]
    found = [p for p in direct if p.is_file()]
    folder = input_dir / stem
    if folder.is_dir():
        found += sorted(p for p in folder.rglob("*") if p.is_file() and p.name.endswith(SUFFIXES))
    if len({p.suffix for p in found if p.parent == input_dir}) > 1:
        names = ", ".join(p.name for p in found)
        raise InputError(
            f"Input folder {input_dir} holds the {stem} table twice ({names}); keep one of them."
        )
    return found


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_record(path: Path, rows: int, sha256: str | None = None) -> dict[str, object]:
    """The manifest's entry for one input file (sha256 computed here unless given)."""
    return {
        "path": str(path),
        "sha256": sha256 or sha256_of(path),
        "rows": rows,
        "bytes": path.stat().st_size,
    }
