"""Which lines of an NDJSON block are no FHIR resource, for the pre-filtered scan (fhir_scan).

The scan parses only the lines holding a relevant code; the others are counted not relevant
unparsed. A damaged line (two lines run together, a lost comma or quote) is no resource
whatever codes it holds, and must be quarantined `malformed_row`, not counted not relevant. So
each block is first checked whole by Arrow's JSON reader (C++, reading only `resourceType`):
when every line is a JSON object with a string `resourceType`, nothing more is done; else
every line of the block is parsed to find the damaged ones. A line ending without `}` (cut
off) is always looked at. A line that is not UTF-8 is read as Windows-1252 (parse_resource).
"""

from __future__ import annotations

from typing import Any

import orjson
import pyarrow as pa
import pyarrow.json as pa_json

from hyposcreen.legacy_text import LEGACY_ENCODING

Resource = dict[str, Any]
_RESOURCE_TYPE = pa_json.ParseOptions(
    explicit_schema=pa.schema([("resourceType", pa.string())]),
    unexpected_field_behavior="ignore",
)


def parse_resource(line: bytes | bytearray) -> Resource | None:
    """A resource object, or None when the line is not JSON or not a FHIR resource. A line that
    is not UTF-8 (a display or note holding `é` as one Windows-1252 byte, as an exporter writing
    the server's legacy text leaves it) is read as Windows-1252, as a CSV that is not UTF-8 is
    (legacy_text): the resource is whole, only its text was encoded otherwise."""
    try:
        parsed = orjson.loads(line)
    except orjson.JSONDecodeError:
        try:
            bytes(line).decode("utf-8")
        except UnicodeDecodeError:
            try:
                parsed = orjson.loads(bytes(line).decode(LEGACY_ENCODING))
            except orjson.JSONDecodeError:
                return None
        else:
            return None
    if isinstance(parsed, dict) and isinstance(parsed.get("resourceType"), str):
        return parsed
    return None


def all_resources(block: bytearray, end: int, lines: int) -> bool:
    """True when the `lines` non-blank lines of `block[:end]` are each one JSON object with a
    string `resourceType` (checked in Arrow, without building Python objects)."""
    if lines == 0:
        return True
    options = pa_json.ReadOptions(use_threads=False, block_size=max(end + 1, 1 << 20))
    try:
        table = pa_json.read_json(
            pa.BufferReader(bytes(block[:end])),
            read_options=options,
            parse_options=_RESOURCE_TYPE,
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return False
    return table.num_rows == lines and table.column(0).null_count == 0


def not_objects(block: bytearray, start: int, stop: int, every_line: bool = False) -> list[int]:
    """Where the non-blank lines of `block[start:stop]` (whole lines) begin that are no FHIR
    resource: a line that does not end with `}` (every line when `every_line`: the block is
    known to hold a damaged one), and the file's last line when it lacks its newline (a
    transfer cut off there may end with a nested object's `}`), unless it parses. At C speed
    when every line ends with `}` and a newline, as NDJSON lines do."""
    if start >= stop:
        return []
    if block[stop - 1] != 0x0A:  # the file's last line, without its newline
        last = block.rfind(b"\n", start, stop) + 1
        line = bytes(block[last:stop]).strip()
        unread = [last] if line and parse_resource(line) is None else []
        return not_objects(block, start, last, every_line) + unread
    closed = block.count(b"}\n", start, stop) + block.count(b"}\r\n", start, stop)
    if not every_line and closed == block.count(b"\n", start, stop):
        return []
    found = []
    at = start
    while at < stop:
        newline = block.find(b"\n", at, stop)
        end = stop if newline < 0 else newline
        line = bytes(block[at:end]).strip()
        if line and (every_line or not line.endswith(b"}")) and parse_resource(line) is None:
            found.append(at)
        at = end + 1
    return found


def line_at(block: bytearray, at: int, end: int) -> bytearray:
    """The line of `block[:end]` that begins at `at`, without its newline."""
    stop = block.find(b"\n", at, end)
    return block[at : end if stop < 0 else stop]
