"""Lines a SQL client writes after the rows of a query it saved as a CSV: `(171 rows affected)`
(sqlcmd, SQL Server Management Studio), `Completion time: 2026-11-21T01:00:00.12+01:00`
(Management Studio 18 and later), `(171 rows)` (psql). They are no record and no sign of a
broken delivery: such a line, alone on its line where the parser finds too few fields, is
quarantined `footer_line` with its text, rather than `malformed_row` (which warns that the list
may lack patients), and one without a line end after it is not a row cut off."""

from __future__ import annotations

import re

REASON = "footer_line"
_FOOTER = re.compile(
    r"\(\d+ rows? affected\)|\(\d+ rows?\)|Completion time: [0-9T:.+\- ]+", re.IGNORECASE
)


def is_footer(text: str | None) -> bool:
    """Whether a record the parser set aside is a SQL client's footer line."""
    return text is not None and _FOOTER.fullmatch(text.strip()) is not None
