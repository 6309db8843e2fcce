"""Reading the run's quarantine rows (report.quarantine's columns) for the warnings and stops
judged from them: where a column holds a value, the text of a key in a row's original (its
JSON), whether a key is written at all, and the `file:row` references and files a message
names (never a value; never the name of a per-patient FHIR document, Synthea's
`Given_Family_<id>.json`, which carries the patient's name: quarantine.csv, 0600, names it)."""

from __future__ import annotations

import json
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hyposcreen.adapters.fhir_documents import is_document_name
from hyposcreen.arrow_columns import arrow_text, holds_arrow_text

EXAMPLES = 3
# what a message writes for a per-patient FHIR JSON document's name
DOCUMENT = "(a JSON document)"
# a value that is not text in the original (a number: a Parquet code column of integers)
_NOT_TEXT = r'"{key}": [^"\s]'
# a JSON text value of report.quarantine's original (escapes kept), after its key
_JSON_TEXT = r'("(?:[^"\\]|\\.)*")'
# a JSON number value of the original (a typed column: Parquet float64 Excel serial days)
_JSON_NUMBER = r"(-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)"


class Matches:
    """Where a column of the quarantine holds a value (`==`, False where missing), each
    column's Arrow text taken once for all the values asked of it (its text compared by
    Arrow); a column that is not Arrow text is compared by pandas."""

    def __init__(self, quarantine: pd.DataFrame) -> None:
        self._quarantine = quarantine
        self._texts: dict[str, pa.Array | None] = {}

    def __call__(self, column: str, value: str) -> np.ndarray:
        if column not in self._texts:
            values = self._quarantine[column]
            self._texts[column] = arrow_text(values) if holds_arrow_text(values) else None
        text = self._texts[column]
        if text is None:
            return np.asarray((self._quarantine[column] == value).to_numpy(), dtype=bool)
        return np.asarray(pc.fill_null(pc.equal(text, value), False), dtype=bool)


def written(original: pd.Series, key: str) -> np.ndarray:
    """Which originals hold a value of `key` that is not blank text (a number counts)."""
    text = json_texts(original, key).str.strip()
    other = original.astype("str").str.contains(_NOT_TEXT.format(key=key), regex=True, na=False)
    return (text.notna() & text.ne("")).to_numpy() | other.to_numpy()


def holds_time(original: pd.Series, key: str) -> np.ndarray:
    """Which originals hold a `key` that may be a time: a number, or text holding a digit. A
    word without one (`N/A`, `unknown`, `PRN`, `-`), as an export writes a home medication's
    unknown start, is no time written another way but a word for none: as empty as a blank."""
    text = json_texts(original, key)
    other = original.astype("str").str.contains(_NOT_TEXT.format(key=key), regex=True, na=False)
    digit = text.str.contains("[0-9]", regex=True, na=False)
    return np.asarray(digit.to_numpy(dtype=bool) | other.to_numpy(dtype=bool), dtype=bool)


def json_texts(original: pd.Series, key: str) -> pd.Series:
    """The text value of `key` in each original (report.quarantine's JSON), its escapes
    decoded (None where the key holds no text); each distinct value decoded once."""
    quoted = original.astype("str").str.extract(f'"{key}": {_JSON_TEXT}', expand=False)
    codes, distinct = pd.factorize(quoted, use_na_sentinel=True)
    decoded = np.array([*(json.loads(value) for value in distinct), None], dtype=object)
    return pd.Series(decoded[codes], index=original.index, dtype=object)


def scalar_texts(original: pd.Series, key: str) -> pd.Series:
    """The value of `key` in each original as text: its text (json_texts), else a number the
    original holds as a JSON number (a typed column) in plain decimal digits, without a
    fraction of zero (`1795155000.0` and `1.795155e+09` as `1795155000`, `46346.25` as it
    is), as the number would be written as text; None where it holds neither."""
    texts = json_texts(original, key)
    numbers = original.astype("str").str.extract(f'"{key}": {_JSON_NUMBER}[,}}]', expand=False)
    codes, distinct = pd.factorize(numbers, use_na_sentinel=True)
    plain = np.array([*(_plain_number(n) for n in distinct), None], dtype=object)
    return texts.where(texts.notna(), pd.Series(plain[codes], index=original.index, dtype=object))


def _plain_number(number: str) -> str:
    """A JSON number in plain decimal digits, a fraction of zero left out."""
    value = Decimal(number)
    return format(value.normalize() if value == value.to_integral_value() else value, "f")


def references(quarantine: pd.DataFrame, rows: np.ndarray, count: int = EXAMPLES) -> str:
    """The `file:row` of the first rows at positions `rows` (the quarantine is in file
    order)."""
    return ", ".join(reference_list(quarantine, rows, count))


def reference_list(quarantine: pd.DataFrame, rows: np.ndarray, count: int) -> list[str]:
    """The `file:row` of the first `count` rows at positions `rows` (a FHIR document's row
    by its place alone: `(a JSON document):entry[3]`)."""
    first = rows[:count]
    return [
        f"{file_name(source)}:{row}"
        for source, row in zip(
            quarantine["source_file"].iloc[first].astype("str"),
            quarantine["source_row"].iloc[first].astype("str"),
            strict=True,
        )
    ]


def file_name(source: str) -> str:
    """A source file as a message names it: its name, unless it is a FHIR JSON document."""
    return DOCUMENT if is_document_name(source) else source


def files_named(quarantine: pd.DataFrame, rows: np.ndarray) -> str:
    """The files of the rows at positions `rows` as a message names them: one file by its
    name (file_name), several by their count (a table of hundreds of parts or documents)."""
    files = quarantine["source_file"].iloc[rows].astype("str").unique()
    return file_name(str(files[0])) if len(files) == 1 else f"{len(files)} files"
