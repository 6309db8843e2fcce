"""The text of the rules data as the rules compare it: units, diagnosis codes and labels
normalised, and a rules CSV read as rows of trimmed UTF-8 text (rules.loader re-exports them)."""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

from hyposcreen.errors import ConfigError


def normalize_unit(unit: str) -> str:
    """Unit text compared without case and spaces: 'mEq/L' == 'meq/l', 'mOsm/kg H2O' too."""
    return re.sub(r"\s+", "", unit).replace("µ", "u").replace("μ", "u").lower()


def normalize_code(code: str) -> str:
    """Diagnosis codes compared without dots, spaces or case: 'K74.60' == 'k7460'."""
    return re.sub(r"[\s.]", "", code).upper()


def normalize_label(text: str) -> str:
    """Lab names / statuses / code-system names: lower case, single spaces."""
    return re.sub(r"\s+", " ", text.strip().lower())


class RulesRow(dict[str, str]):
    """One row of a rules CSV (column -> trimmed text), knowing its file and line."""

    def __init__(self, values: dict[str, str], path: Path, line: int) -> None:
        super().__init__(values)
        self.path, self.line = path, line


def read_rules_csv(path: Path, columns: Sequence[str] = ()) -> list[RulesRow]:
    """A rules CSV as rows of trimmed text (a ConfigError when it is not UTF-8, its header
    lacks one of the `columns` the rules read from it, a row has more fields than its header,
    or a value runs past the csv module's field limit; a byte-order mark, as Excel's "CSV
    UTF-8" writes, is no part of its first column's name, nor are spaces around a column's
    name; a row of empty fields, as a spreadsheet leaves below the last, is none)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        try:
            reader = csv.reader(handle)
            header = [name.strip() for name in next(reader, [])]
            rows, first_lines, previous = [], {}, reader.line_num
            for row in reader:
                first_lines[reader.line_num] = previous + 1  # where a row's record starts
                previous = reader.line_num
                if any(f.strip() for f in row):
                    rows.append((reader.line_num, row))
        except UnicodeDecodeError as exc:
            raise not_utf8(path) from exc
        except csv.Error as exc:  # a quote left open swallows the rest past the field limit
            raise _quote_left_open(path, reader.line_num, f" ({exc})") from exc
    for line, row in rows:  # the field limit is the process's: one raised lets the rest in
        if any("\n" in field for field in row):  # no rules value spans lines
            raise _quote_left_open(path, first_lines[line], "")
    if lacking := [c for c in columns if c not in header]:
        raise header_error(path, header, lacking, columns)
    for number, row in rows:
        if len(row) > len(header):  # a column dropped from the header
            raise ConfigError(
                f"Rules file {path}, line {number}: more fields than its header names columns "
                "(a column dropped from the header, or a comma in an unquoted value)."
            )
    return [
        RulesRow(dict(zip(header, [f.strip() for f in row] + [""] * len(header))), path, line)
        for line, row in rows
    ]


def _quote_left_open(path: Path, line: int, error: str) -> ConfigError:
    return ConfigError(
        f'Rules file {path}, line {line}: not a CSV that reads{error}: a quote (") opened in '
        "a value and never closed?"
    )


def rules_number(row: RulesRow, column: str) -> float:
    """The number a rules CSV's cell holds: `18.016`, or a division written as data
    (`1/4.008`); a ConfigError naming the file, line and column when it reads as none (or as
    none finite)."""
    text = row[column]
    try:
        if "/" in text:
            numerator, denominator = text.split("/", 1)
            value = float(Fraction(numerator) / Fraction(denominator))
        else:
            value = float(text)
    except (ValueError, ZeroDivisionError):
        value = math.nan
    if not math.isfinite(value):
        raise ConfigError(
            f"Rules file {row.path}, line {row.line}, column {column}: {text!r} does not read "
            "as a number (a decimal such as 18.016, or a division such as 1/4.008). Correct "
            "it as in the packaged rules' copy."
        )
    return value


def header_error(
    path: Path, header: Sequence[str], lacking: Sequence[str], columns: Sequence[str]
) -> ConfigError:
    """The one message of a rules CSV whose header lacks columns the rules read: the file, the
    columns lacking, the header found and the columns expected (exit 2)."""
    found = ",".join(header) if header else "nothing (an empty file)"
    return ConfigError(
        f"Rules file {path} has no column {', '.join(repr(c) for c in lacking)} (its header "
        f"row was edited?): its header reads {found}; the rules read the columns "
        f"{','.join(columns)}. Keep the columns of the packaged rules' copy."
    )


def not_utf8(path: Path) -> ConfigError:
    """A rules file that is not UTF-8 (a code list saved by a spreadsheet as ANSI): rules are
    versioned data, read as written or not at all."""
    return ConfigError(
        f"Rules file {path} is not UTF-8 text (saved as ANSI or Windows-1252 by a spreadsheet "
        "or editor?). Save it again as UTF-8."
    )
