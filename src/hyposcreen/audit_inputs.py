"""The input files as the audit's shared outputs name them: by table and place, not by name.

audit.html and audit_manifest.json may go to a QI committee, outside the team that reads the
extract. A part's file name is the sender's choice and may be a patient's (`labs/Smith_John_
MRN0042.csv`, a folder per patient, a FHIR document named for its patient), and the input
folder's path is the site's. So the manifest lists each input file under a label, its table
and place (`labs file 2`, in the order the table's files are read), with its sha256, rows and
bytes, which let the data steward find it; a file named as its table is (`labs.csv`,
`labs.parquet`) keeps that name, which tells nothing. A warning's `file:row` example and a
path in a warning name the file by the same label (`labs file 2:222`).

A part's rows are a count like the tables': fewer than min_cell are written `<k`, without its
bytes (a few rows' bytes count them) and without its sha256: the digest of a few rows lets
whoever can guess them (a one-row patients part: id, MRN, name, birth date) confirm the
guess. A part holding one month's sodium rows has them as its row count, so a part whose rows
are the true count of a cell the tables hide is written `hidden`, without its bytes: `120`
would give a `<11` month back from the total.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from hyposcreen.audit_warning_text import shown_count
from hyposcreen.ingest.files import SUFFIXES

HIDDEN = "hidden"
AMBIGUOUS = "an input file"


def _label(table: str, path: Path, place: int) -> str:
    if path.name.lower() in {f"{table}{suffix}" for suffix in SUFFIXES}:
        return path.name  # the table's own name: nothing of the sender's
    return f"{table} file {place}"


def file_labels(files: dict[str, list[dict[str, Any]]], input_dir: Path) -> dict[str, str]:
    """Every text a message may name an input file by (its path as read, its path inside the
    input folder, its name) -> its label; a name two files share (`labs/part-0.csv`,
    `medications/part-0.csv`) -> AMBIGUOUS, since a `file:row` gives the name alone."""
    forms: dict[str, list[str]] = {}
    for table, described in files.items():
        for place, record in enumerate(described, start=1):
            path = Path(str(record.get("path", "")))
            label = _label(table, path, place)
            texts = {str(path), path.as_posix(), path.name}
            if path.is_relative_to(input_dir):
                texts.add(path.relative_to(input_dir).as_posix())
            for text in texts - {"", "."}:
                if label not in forms.setdefault(text, []):
                    forms[text].append(label)
    return {text: labels[0] if len(labels) == 1 else AMBIGUOUS for text, labels in forms.items()}


def without_file_names(message: str, labels: dict[str, str]) -> str:
    """`message` with every input file's name or path replaced by its label (the longest
    form first: a folder's path before the name of a file in it)."""
    if not labels:
        return message
    forms = sorted(labels, key=len, reverse=True)
    pattern = re.compile(
        r"(?<![\w.-])(" + "|".join(re.escape(f) for f in forms) + r")(?![\w-]|\.\w)"
    )
    return pattern.sub(lambda found: labels[found.group(1)], message)


def shown_inputs(
    files: dict[str, list[dict[str, Any]]], min_cell: int, hidden: set[int]
) -> dict[str, list[dict[str, Any]]]:
    """The manifest's `inputs`: per table, each file under its label (`file`), with its
    sha256, rows and bytes, less what would tell a count the tables do not show or confirm a
    guess of a few rows."""
    shown: dict[str, list[dict[str, Any]]] = {}
    for table, described in files.items():
        shown[table] = []
        for place, record in enumerate(described, start=1):
            entry = {k: v for k, v in record.items() if k != "path"}
            entry = {"file": _label(table, Path(str(record.get("path", ""))), place), **entry}
            rows = shown_count(int(record.get("rows", 0)), min_cell)
            if isinstance(rows, str):  # a few rows: their digest confirms a guess of them
                entry = {k: v for k, v in entry.items() if k not in ("bytes", "sha256")}
                entry["rows"] = rows
            elif rows in hidden:
                entry = {k: v for k, v in entry.items() if k != "bytes"}
                entry["rows"] = HIDDEN
            shown[table].append(entry)
    return shown
