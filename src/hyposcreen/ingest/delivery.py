"""Is the delivery whole? A CSV cut off mid-row or inside a quoted field, or a table whose row
count differs from the count the sender declared, stops the run (InputError, exit 3).

Control totals are optional; two forms are read (docs: README "Damaged deliveries"):

* `<stem>.count` beside the extract (e.g. `labs.count` for `labs.csv`, `labs.csv.gz`, or the
  folder `labs/`; for a table the mapping names with its suffix, `file: LAB_RESULTS.csv`,
  `LAB_RESULTS.csv.count` or `LAB_RESULTS.count`): one whole number, the table's data rows
  without header lines;
* `delivery_manifest.json` in the input folder: `{"files": {"labs.csv": {"rows": 171}, ...}}`,
  one entry per delivered file (its name relative to the input folder, `/` or a Windows `\\`
  between folders, in any letter case when the folder holds no exact name), rows without
  header: a whole number (`171`, `171.0`, `"171"`). A file it names that the input folder does
  not hold (lost in transfer), or a name outside the folder, stops the run: the delivery is not
  the one declared.

Data rows are the rows read less the lines set aside as no record (`data_rows`): a header line
repeated inside the file and a SQL client's footer line (`(171 rows affected)`).
"""

from __future__ import annotations

import json
import mmap
from pathlib import Path

from hyposcreen.errors import InputError
from hyposcreen.ingest.files import SUFFIXES
from hyposcreen.ingest.footer_lines import REASON as FOOTER_LINE
from hyposcreen.ingest.header_rows import REASON as REPEATED_HEADER
from hyposcreen.ingest.suffixes import gzipped
from hyposcreen.ingest.wide_text import marked_encoding

DELIVERY_MANIFEST = "delivery_manifest.json"
_TAIL_SLACK = 4  # bytes of line ends / padding after the last row


def check_not_cut_off(
    path: Path, last_malformed: str | None, encoding: str, tail: bytes | None = None
) -> None:
    """Raise when the file's last record is a malformed row that runs to the end of the file
    and either spans lines (an unterminated quoted field swallowed the rest) or has no line end
    (the file stops in the middle of a row). `tail`: the file's last bytes as text, which a
    `.gz` gives from its streaming scan (ingest.linescan); a plain CSV's are read here."""
    if not last_malformed:
        return
    tail_text = last_malformed.encode(encoding, errors="replace")
    if tail is None:
        if gzipped(path):
            return
        size = path.stat().st_size
        with path.open("rb") as handle:
            handle.seek(max(0, size - len(tail_text) - _TAIL_SLACK))
            tail = handle.read()
    stripped = tail.rstrip(b"\r\n")
    if not stripped.endswith(tail_text[-max(1, len(stripped)) :]):
        return
    ends_without_newline = not tail.endswith(b"\n")
    if "\n" in last_malformed or ends_without_newline:
        where = "inside a quoted field" if "\n" in last_malformed else "in the middle of a row"
        raise InputError(
            f"{path} ends {where}: the delivery was cut off (its last record is incomplete). "
            "Ask the sender for the whole file; nothing was screened.",
            file=str(path),
        )


def check_no_swallowed_rows(
    path: Path, first_spanning: str | None, encoding: str, line: int | None = None
) -> None:
    """Raise when a malformed record spans lines: a quoted field ran on over the lines after
    it (a stray double quote), so the rows it swallowed cannot be counted. The message names
    the line where the record starts (`line`, from the record scan; else, in a plain CSV,
    found by its bytes), never its text."""
    if first_spanning is None:
        return
    if line is None:
        first_line = first_spanning.split("\n", 1)[0].encode(encoding, errors="replace")
        line = _line_of(path, first_line)
    where = f"{path}:{line}" if line else str(path)
    raise InputError(
        f"{where}: a quoted field runs on over {first_spanning.count(chr(10))} line end(s) and "
        'leaves its row malformed: a stray double quote (") swallowed the rows after it, which '
        "cannot be counted. Fix the quote in the export and deliver again; nothing was screened.",
        file=str(path),
    )


def check_quotes_closed(path: Path, open_quote_line: int) -> None:
    """Raise when a quoted value opens on `open_quote_line` and is never closed: it runs on to
    the end of the file, and the parser read every line after it into that value (in the last
    column its record keeps the header's field count: no malformed row tells of it)."""
    if open_quote_line:
        raise InputError(
            f"{path}:{open_quote_line}: a quoted field starts in the record on this line and is "
            'never closed: a stray double quote (") swallowed every row after it to the end of '
            "the file, which cannot be counted. Fix the quote in the export and deliver again; "
            "nothing was screened.",
            file=str(path),
        )


def _line_of(path: Path, first_line: bytes) -> int | None:
    """The 1-based line of a plain file where `first_line` starts a line (None: not found or
    a compressed file)."""
    if gzipped(path) or not first_line:
        return None
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        if data[: len(first_line)] == first_line:
            return 1
        at = data.find(b"\n" + first_line)  # the line end before it
        return None if at < 0 else data[: at + 1].count(b"\n") + 1


def file_identity(path: Path) -> tuple[int, int, int]:
    """The file's inode, size and modification time, to tell whether it changed while read
    (`check_unchanged`)."""
    stat = path.stat()
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def identity_to_read(path: Path) -> tuple[int, int, int]:
    """`file_identity` of a file about to be read; one removed since it was listed stops the
    run naming it."""
    try:
        return file_identity(path)
    except FileNotFoundError as exc:
        raise InputError(f"{path} was removed before it was read.", file=str(path)) from exc


def check_unchanged(path: Path, before: tuple[int, int, int]) -> None:
    """Raise when the file was replaced, changed or removed since `before` was taken: its
    parser, the record scan beside it and its checksum each open it on their own, so its rows
    would be counted and numbered from different versions."""
    try:
        now = file_identity(path)
    except FileNotFoundError:
        now = None
    if now == before:
        return
    what = "was removed" if now is None else "changed"
    raise InputError(
        f"{path} {what} while it was read (a delivery still being written or replaced): its "
        "rows cannot be counted. Run again once the delivery is complete; nothing was screened.",
        file=str(path),
    )


def data_rows(rows_read: int, set_aside: list[dict[str, str]]) -> int:
    """A file's rows as a sender counts them: `rows_read` less the `set_aside` lines that are
    no record (a repeated header line, a footer line), which the reconciliation still counts."""
    return rows_read - sum(row["reason"] in (REPEATED_HEADER, FOOTER_LINE) for row in set_aside)


def check_control_totals(input_dir: Path, stem: str, rows_by_file: dict[Path, int]) -> None:
    """Raise when a declared row count differs from the rows read."""
    files = list(rows_by_file)
    count_file = _count_file(input_dir, stem)
    if count_file is not None:
        declared = _whole_number(_declared_text(count_file).strip(), count_file)
        _compare(str(count_file), declared, sum(rows_by_file.values()), stem)
    manifest = input_dir / DELIVERY_MANIFEST
    if manifest.is_file():
        entries = _delivered_files(input_dir, manifest, _manifest_files(manifest))
        for path in files:
            name = path.relative_to(input_dir).as_posix()
            if name in entries:
                _compare(f"{manifest} ({name})", entries[name], rows_by_file[path], name)


def _count_file(input_dir: Path, stem: str) -> Path | None:
    """`<stem>.count`, or for a table the mapping names with its suffix (`file:
    LAB_RESULTS.csv.gz`, in any letter case) also the name without it (`LAB_RESULTS.count`),
    as a sender names a table's count; None when there is neither."""
    names = [f"{stem}.count"]
    suffix = next(
        (s for s in sorted(SUFFIXES, key=len, reverse=True) if stem.lower().endswith(s)), ""
    )
    if suffix and len(stem) > len(suffix):
        names.append(f"{stem[: -len(suffix)]}.count")
    return next((input_dir / n for n in names if (input_dir / n).is_file()), None)


def _delivered_files(input_dir: Path, manifest: Path, entries: dict[str, int]) -> dict[str, int]:
    """The manifest's entries keyed by the name of the file each names in the input folder;
    an entry naming no file there, or a place outside it, stops the run."""
    found: dict[str, int] = {}
    for written, rows in entries.items():
        parts = written.replace("\\", "/").split("/")
        if written.startswith(("/", "\\")) or ":" in parts[0] or ".." in parts:
            raise InputError(
                f"{manifest} names {written!r}, outside the input folder: its names are "
                "relative to the folder it lies in. Ask the sender for a "
                "corrected delivery manifest; nothing was screened.",
                file=str(manifest),
            )
        path = _case_insensitive(input_dir, [part for part in parts if part not in ("", ".")])
        if path is None:
            raise InputError(
                f"{manifest} declares {written!r}, which the input folder does not hold: the "
                "delivery is incomplete. Ask the sender for the whole delivery; nothing was "
                "screened.",
                file=str(manifest),
            )
        found[path.relative_to(input_dir).as_posix()] = rows
    return found


def _case_insensitive(folder: Path, parts: list[str]) -> Path | None:
    """The file `parts` name under `folder`: each part as written, else the one name there
    equal to it in another letter case; None when there is none."""
    for part in parts:
        if (folder / part).exists():
            folder = folder / part
            continue
        try:
            alike = [p for p in folder.iterdir() if p.name.casefold() == part.casefold()]
        except OSError:
            return None
        if len(alike) != 1:
            return None
        folder = alike[0]
    return folder if parts and folder.is_file() else None


def _compare(source: str, declared: int, counted: int, what: str) -> None:
    if declared != counted:
        raise InputError(
            f"{what}: the delivery declares {declared} data row(s) ({source}) but {counted} "
            "were read: the delivery is incomplete or was changed. Ask the sender for the "
            "whole delivery; nothing was screened.",
            file=source,
        )


def _declared_text(path: Path) -> str:
    """A count file's text: UTF-8 (with or without a byte-order mark) or UTF-16/32 with one;
    bytes that are none of these give a text that is no number (its InputError)."""
    data = path.read_bytes()  # PowerShell's `Out-File`: UTF-16 LE; `-Encoding UTF8`: a mark
    return data.decode(marked_encoding(data) or "utf-8-sig", errors="replace")


def _whole_number(text: str, source: Path) -> int:
    if not text.isdecimal():  # isdigit() also holds for superscripts, which int() refuses
        raise InputError(
            f"{source} must hold one whole number (the data rows without header).",
            file=str(source),
        )
    return int(text)


def _manifest_files(path: Path) -> dict[str, int]:
    try:
        raw = json.loads(path.read_bytes())  # UTF-8 (a byte-order mark too), UTF-16, UTF-32
        files = raw["files"]
        return {str(name): _row_count(entry["rows"]) for name, entry in files.items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(
            f'{path} is not a delivery manifest: expected {{"files": {{"labs.csv": {{"rows": '
            f"171}}, ...}}}} ({type(exc).__name__}).",
            file=str(path),
        ) from exc


def _row_count(declared: object) -> int:
    """A declared row count: a whole number >= 0, written as a JSON number (`171`, `171.0`) or
    as digits in a string (`"171"`); ValueError for anything else (`171.5`, `true`, `1e400`,
    `-1`), which int() would truncate, take for 1, overflow on or take as a count."""
    if isinstance(declared, bool):
        raise ValueError("a row count is a number")
    if isinstance(declared, str) and declared.strip().isdecimal():
        return int(declared.strip())
    if isinstance(declared, int) and declared >= 0:
        return declared
    if isinstance(declared, float) and declared.is_integer() and declared >= 0:
        return int(declared)
    raise ValueError("a row count is a whole number >= 0")
