"""A CSV's header line and the column names its parser is given: read once, before any data
(a wrong layout fails fast), with the parser's quoting rules and without the spaces around the
names (`patient_id, specimen_time` names `specimen_time`); the delimiter sniffed when the
mapping names none; UTF-16/32 files read as text (ingest.wide_text); a trailing delimiter on
every data line (or on the header line alone) absorbed by one name more (or less)."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import AnyStr

import pyarrow as pa
import pyarrow.parquet as pq

from hyposcreen.config import SiteMapping
from hyposcreen.errors import InputError
from hyposcreen.ingest.linescan import open_bytes
from hyposcreen.ingest.suffixes import parquet
from hyposcreen.ingest.wide_text import wide_encoding

DELIMITERS = (",", ";", "\t", "|")  # what a header line is sniffed for


def most_frequent_delimiter(text: str) -> str | None:
    """The delimiter of DELIMITERS that `text` holds most often (the first on a tie); None
    when it holds none."""
    counts = {d: text.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else None


def _sniff_delimiter(header: str) -> str:
    return most_frequent_delimiter(header) or ","


_HEADER_LINES = 64  # a quoted name over more lines than this is no header
_EXCEL_SEPARATOR = re.compile(r'^\ufeff?"?sep=.?"?\s*$', re.IGNORECASE)


def _refuse_separator_hint(path: Path, line: str) -> None:
    """Excel's first line `sep=;` (a hint for Excel, no header): an InputError saying so, not
    the header check's "is the header line missing?" (its fields may be patient data)."""
    if _EXCEL_SEPARATOR.match(line):
        raise InputError(
            f"{path} starts with Excel's delimiter line ({line.strip().lstrip(chr(0xFEFF))!r}) "
            "instead of its header line: remove that first line (or export the file without "
            "it) and, if the delimiter is not the one hyposcreen finds, set it in the mapping "
            "file under csv: {delimiter: ...}. Nothing was screened.",
            file=str(path),
        )


_UTF8_BOM = b"\xef\xbb\xbf"


def read_header(path: Path, encoding: str) -> str:
    """The header record's text: its first line, and the lines after it while a quoted name
    is still open (a name typed with a line break in it)."""
    wide = wide_encoding(path, encoding)
    if wide is not None:  # UTF-16/32: read as text (ingest.wide_text)
        try:
            with open_bytes(path) as raw, codecs.getreader(wide)(raw) as text:
                line = _record(text.readline(1 << 20), lambda: text.readline(1 << 20), str)
                more = not line.strip() and bool(text.read(1 << 20).strip())
        except UnicodeDecodeError as exc:
            raise InputError(f"{path} is not readable as {wide}: {exc}.", file=str(path)) from exc
        if not line.strip():
            _refuse_blank_start(path, more)
        _refuse_separator_hint(path, line)
        return line.lstrip("\ufeff").rstrip("\r\n")
    try:
        with open_bytes(path) as handle:
            first = handle.readline(1 << 20)
            blank = not first.removeprefix(_UTF8_BOM).strip()  # after Excel's mark too
            more = blank and bool(handle.read(1 << 20).strip())
    except (OSError, EOFError) as exc:
        raise InputError(f"{path} cannot be read: {exc}.", file=str(path)) from exc
    if blank:
        _refuse_blank_start(path, more)
    if b"\x00" in first:
        raise InputError(
            f"{path} is not a text CSV file (it holds binary bytes{_packed_as(first)}).",
            file=str(path),
        )
    _refuse_separator_hint(path, first.decode("latin-1").removeprefix("\xef\xbb\xbf"))
    if b"\r" in first.removesuffix(b"\n").removesuffix(b"\r"):
        # classic Mac OS line ends: read line by line, the header would run into the data
        raise InputError(
            f"{path} ends its lines with a carriage return alone (classic Mac OS, Excel's "
            '"CSV (Macintosh)"): export it again with LF or CR LF line ends (e.g. "CSV UTF-8"). '
            "Nothing was screened.",
            file=str(path),
        )
    if _quote_open(first.decode("latin-1")):  # a quoted name runs on over the next line(s)
        with open_bytes(path) as handle:
            first = _record(
                handle.readline(1 << 20),
                lambda: handle.readline(1 << 20),
                lambda data: data.decode("latin-1"),
            )
    return first.decode(encoding, errors="replace").lstrip("\ufeff").rstrip("\r\n")


# what a binary file named as a CSV is, told by its first bytes, and what to do
_PACKED_AS = (
    (b"\x1f\x8b", "gzip-compressed: name it .csv.gz, or deliver it uncompressed"),
    (b"PK\x03\x04", "a zip archive: unpack the table file from it"),
    (b"PAR1", "a Parquet file: name it .parquet"),
)


def _packed_as(first: bytes) -> str:
    """`: it is ...` for a CSV-named file whose first bytes are those of a known binary
    format, else nothing."""
    told = [what for magic, what in _PACKED_AS if first.startswith(magic)]
    return f": it is {told[0]}" if told else ""


def _refuse_blank_start(path: Path, more: bool) -> None:
    """A CSV whose first line is blank: empty, or (`more`: text follows) one whose header
    line comes after blank lines, which is no empty file: the message says which."""
    if not more:
        raise InputError(f"{path} is empty: it has no header line.", file=str(path))
    raise InputError(
        f"{path} starts with a blank line where its header line should be (line 1): remove "
        "the blank line(s) at its top, or export it without them. Nothing was screened.",
        file=str(path),
    )


def _record(first: AnyStr, readline: Callable[[], AnyStr], text: Callable[[AnyStr], str]) -> AnyStr:
    """The first line and the lines after it while a quoted value is open (up to a limit)."""
    for _ in range(_HEADER_LINES):
        if not _quote_open(text(first)) or not (more := readline()):
            break
        first += more
    return first


def _quote_open(text: str) -> bool:
    """Whether a quoted value opened at the start of a field is still open at the text's end
    (a quote inside a value is text, as the parser reads it; delimiter sniffed)."""
    if '"' not in text:
        return False
    first_line = text.split("\n", 1)[0]
    try:
        reader = csv.reader(
            io.StringIO(text, newline=""), delimiter=_sniff_delimiter(first_line), strict=True
        )
        for _ in reader:
            pass
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


def header_lines(source: Path, encoding: str) -> int:
    """The physical lines the header record takes (the parser skips lines, not records)."""
    return read_header(source, encoding).count("\n") + 1


def column_names(path: Path, header: str, delimiter: str) -> list[str]:
    """The header's names as the CSV parser splits them (a quoted name may hold the
    delimiter), without surrounding spaces."""
    try:
        names = next(csv.reader([header], delimiter=delimiter), [])
    except csv.Error as exc:  # e.g. one name longer than 128 kB: no header line
        raise InputError(f"{path} has no readable header line ({exc}).", file=str(path)) from exc
    return [name.strip() for name in names]


_FIRST_ROWS_BYTES = 1 << 20
TRAILING = "\x00after the trailing delimiter"  # the name of the field a line-ending delimiter opens


def parsed_names(source: Path, encoding: str, delimiter: str, path: Path) -> list[str]:
    """The column names the parser is given for `source` (`path`, or its copy): the header's,
    and one more when most of the first data rows have one field more whose text is empty (an
    export that ends every data line with the delimiter: without it every row was malformed),
    or without the header's empty last name when most have one field fewer (only the header
    line ends with the delimiter). Most rows, not the first: a note line or a shifted value
    there made every row malformed."""
    names = column_names(path, read_header(source, encoding), delimiter)
    rows = _first_data_rows(source, encoding, delimiter)
    if not rows:
        return names
    count, _ = Counter(len(row) for row in rows).most_common(1)[0]
    usual = [row for row in rows if len(row) == count]
    if count == len(names) + 1 and 2 * sum(not row[-1].strip() for row in usual) > len(usual):
        return [*names, TRAILING]
    if len(names) > 1 and not names[-1] and count == len(names) - 1:
        return names[:-1]
    return names


def _first_data_rows(source: Path, encoding: str, delimiter: str) -> list[list[str]]:
    """The fields of the first non-blank records after the header (up to 63, in the file's
    first MB)."""
    wide = wide_encoding(source, encoding)
    try:
        with open_bytes(source) as raw:
            data = raw.read(_FIRST_ROWS_BYTES)
        text = data.decode(wide or encoding, errors="replace").lstrip("\ufeff")
    except (OSError, EOFError, LookupError):
        return []
    if len(data) == _FIRST_ROWS_BYTES:  # whole lines only
        text = text[: text.rfind("\n") + 1]
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        records = [r for r in itertools.islice(reader, 64) if r]
    except csv.Error:
        return []
    return records[1:]


def header_of(path: Path, mapping: SiteMapping) -> tuple[list[str], str]:
    """Column names (and the CSV delimiter), read before any data so a wrong layout fails fast."""
    if parquet(path):
        try:
            return list(pq.read_schema(path).names), ""
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(
                f"{path} is not a readable Parquet file: {exc}.", file=str(path)
            ) from exc
    header = read_header(path, mapping.encoding)
    delimiter = mapping.delimiter or _sniff_delimiter(header)
    return column_names(path, header, delimiter), delimiter
