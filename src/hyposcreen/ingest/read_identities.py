"""The check before publishing that the files read for the night still hold what was read
(`check_read_files_unchanged`), and each input file's identity (inode, modification time) when
its record was made (`remember`, by ingest.files.file_record), so that the check hashes again
only a file found otherwise since: touched, or replaced by one of the same size
(`same_as_read`).

An identity is kept per record, by path and recorded sha256: a night may record one file twice
(a FHIR file of several resource types, read for each table) from two versions of it, each
checked against the identity it was made with. At most `KEPT` are kept, the oldest let go (a
long-lived process screens night after night, each delivery's new bytes adding records): a
record whose identity was let go is hashed again, never taken as unchanged.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path

from hyposcreen.errors import InputError

KEPT = 1 << 17  # ~65 MB at most: a night's files, a FHIR export of 131k documents with them
_identities: dict[tuple[str, str], tuple[int, int]] = {}
_lock = threading.Lock()  # a flow's tasks read tables on threads of one process


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def remember(path: Path, sha256: str, identity: tuple[int, int]) -> None:
    """Keep `identity` (inode, modification time in ns) as that of the record of `path` made
    from bytes of this `sha256`."""
    key = (str(path), sha256)
    with _lock:
        _identities.pop(key, None)  # the newest last, the oldest let go first
        _identities[key] = identity
        while len(_identities) > KEPT:
            del _identities[next(iter(_identities))]


def same_as_read(path: Path, record: Mapping[str, object]) -> bool:
    """Whether the file at `path` still holds the bytes its `record` was made from: its inode
    and modification time as then, else (touched, replaced by a file of the same size, or its
    identity let go) the same sha256."""
    stat = path.stat()
    now = (stat.st_ino, stat.st_mtime_ns)
    sha256 = str(record["sha256"])
    with _lock:
        made = _identities.get((str(path), sha256))
    if made == now:
        return True
    if sha256_of(path) != sha256:
        return False
    remember(path, sha256, now)  # the same bytes: a later night of the loop need not hash them
    return True


def check_read_files_unchanged(records: Iterable[Mapping[str, object]]) -> None:
    """Raise when a file read for the night (its manifest record) now has another size, other
    bytes (`same_as_read`) or is gone: a delivery still being written (its read ended between
    two rows) or rewritten. Before outputs are written; the manifest's one entry for a FHIR
    export's JSON documents names no file (each document's own record is checked), and a
    document is not named (its name may be its patient's)."""
    from hyposcreen.adapters.fhir_documents import shown_path  # the package imports this

    for record in records:
        if "documents" in record:
            continue
        path = Path(str(record["path"]))
        try:
            size: int | None = path.stat().st_size
        except FileNotFoundError:
            size = None
        if size == record["bytes"] and same_as_read(path, record):
            continue
        what, shown = ("was removed" if size is None else "changed"), shown_path(path)
        raise InputError(
            f"{shown} {what} after it was read (a delivery still being written or replaced): "
            "the night would be screened from part of it. Run again once the delivery is "
            "complete; nothing was published.",
            file=shown,
        )
