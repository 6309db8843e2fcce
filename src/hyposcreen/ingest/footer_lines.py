"""Lines a SQL client or export tool writes after the rows of a query it saved as a CSV:
`(171 rows affected)` (sqlcmd, Management Studio), `(171 row(s) affected)` (osql, Query
Analyzer), `Completion time: 2026-11-21T01:00:00.12+01:00` (Management Studio 18 and later),
`(171 rows)` (psql), `171 rows selected.` (Oracle SQL*Plus), `Total: 171` (report tools), and
a line of spaces alone (SQL*Plus pads a blank line to its line size unless TRIMSPOOL is on). They
are no record and no sign of a broken delivery: such a line, alone on its line where the parser
finds too few fields, is quarantined `footer_line` with its text, rather than `malformed_row`
(which warns that the list may lack patients), and one without a line end after it is not a row
cut off.

The forms are data (rules/footer_lines.csv): each a pattern the whole line matches (case
aside) and where it is a footer. `anywhere`: a form no row takes (a client writes it after each
statement, so inside a file too); `trailing`: a plainer form (`Total: 171`) that is a footer
only where a query's output ends (the file's end, or a header line repeated after it), so such
a line between rows stays a malformed row."""

from __future__ import annotations

import re
from functools import cache

from hyposcreen.ingest.header_rows import REASON as REPEATED_HEADER
from hyposcreen.ingest.recordscan import RecordLines
from hyposcreen.rules.loader import load_source_map

REASON = "footer_line"
TRAILING_ONLY = "trailing"  # the position of a form that is a footer only at the file's end
_CANDIDATE = "footer_position"  # a set-aside row's key while its position is not yet known


@cache
def _forms() -> dict[str, re.Pattern[str]]:
    """Per position (`anywhere`, `trailing`), one pattern matching any of its footer forms."""
    rows = load_source_map("footer_lines.csv")
    positions = sorted({row["position"] for row in rows})
    return {
        position: re.compile(
            "|".join(f"(?:{row['pattern']})" for row in rows if row["position"] == position),
            re.IGNORECASE,
        )
        for position in positions
    }


def footer_position(text: str | None) -> str | None:
    """Where a record the parser set aside is a footer line (`anywhere`, `trailing`), or None
    when it is none."""
    if text is None:
        return None
    line = text.strip()
    for position, form in _forms().items():
        if form.fullmatch(line) is not None:
            return position
    return None


def footer_row(line: str, text: str | None) -> dict[str, str] | None:
    """The set-aside row of a footer line (None: `text` is no footer form); one that is a
    footer only at the file's end is marked, for `settle_trailing` to decide."""
    position = footer_position(text)
    if position is None:
        return None
    row = {"line": line, "text": (text or "").strip(), "reason": REASON}
    if position == TRAILING_ONLY:
        row[_CANDIDATE] = position
    return row


def settle_trailing(set_aside: list[dict[str, str]], scan: RecordLines | None) -> None:
    """Once a file is read (its set-aside rows given their lines by the record `scan`): a line
    of a trailing-only footer form stays `footer_line` when it ends a query's output, no row
    nor other record following it before the end of the file or a header line repeated there
    (extracts concatenated), only blank lines and footer lines; else it is quarantined
    `malformed_row` (a line between rows is no footer)."""
    restarts = sorted(_line(r) for r in set_aside if r["reason"] == REPEATED_HEADER)
    records = [_line(r) for r in set_aside if r["reason"] not in (REASON, REPEATED_HEADER)]
    for row in set_aside:
        if row.pop(_CANDIDATE, None) is None:
            continue
        at = _line(row)
        end = next((line for line in restarts if line > at), None)
        rows = scan.rows_between(at, end) if scan is not None and at else 1
        others = sum(at < line and (end is None or line < end) for line in records)
        if rows + others:
            row["reason"] = "malformed_row"


def _line(row: dict[str, str]) -> int:
    return int(row["line"]) if row["line"].isdigit() else 0
