"""Reading the run's quarantine rows (report.quarantine's columns) for the warnings and stops
judged from them: where a column holds a value, the text of a key in a row's original (its
JSON), whether a key is written at all, and the `file:row` references and files a message
names (never a value; never the name of a per-patient FHIR document, Synthea's
`Given_Family_<id>.json`, which carries the patient's name: quarantine.csv, 0600, names it),
and the non-numeric lab results' texts the judges of number shapes share."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hyposcreen.adapters.fhir_documents import message_name
from hyposcreen.arrow_columns import arrow_text, holds_arrow_text

EXAMPLES = 3
# a JSON text value of report.quarantine's original (escapes kept), after its key
_JSON_TEXT = r'"(?:[^"\\]|\\.)*"'
# a value that is not text in the original (a number: a Parquet code column of integers)
_OTHER = r'[^,}"\s][^,}]*'


class Matches:
    """Where a column of the quarantine holds a value (`==`, False where missing), each
    column's Arrow text taken once for all the values asked of it (its text compared by
    Arrow); a column that is not Arrow text is compared by pandas. One per run's quarantine,
    shared by the stop and the warnings judged from it, with what they read of it (`memo`)."""

    def __init__(self, quarantine: pd.DataFrame) -> None:
        self._quarantine = quarantine
        self._texts: dict[str, pa.Array | None] = {}
        # what the judges read of the quarantine once for all of them (unreadable_times)
        self.memo: dict[tuple[str, ...], object] = {}

    def __call__(self, column: str, value: str) -> np.ndarray:
        if column not in self._texts:
            values = self._quarantine[column]
            self._texts[column] = arrow_text(values) if holds_arrow_text(values) else None
        text = self._texts[column]
        if text is None:
            return np.asarray((self._quarantine[column] == value).to_numpy(), dtype=bool)
        return np.asarray(pc.fill_null(pc.equal(text, value), False), dtype=bool)


@dataclass(frozen=True)
class KeyValues:
    """What each original holds of one key, read once: its text value, escapes decoded
    (`texts`, None where the key holds no text), and the text of a value written otherwise
    (`others`: a JSON number such as `46346.25`, from a typed column), None where none."""

    texts: pd.Series
    others: pd.Series

    def written(self) -> np.ndarray:
        """Which hold a value that is not blank text (a number counts)."""
        text = self.texts.str.strip()
        return (text.notna() & text.ne("")).to_numpy(dtype=bool) | self.others.notna().to_numpy()

    def holds_time(self) -> np.ndarray:
        """Which hold a value that may be a time: text or a number with a digit other than 0
        (every time has one: its year). A word (`N/A`, `unknown`, `PRN`, `-`) or zeros
        (MySQL's zero date `0000-00-00 00:00:00`, epoch `0`), as an export writes a home
        medication's unknown start, is no time written another way but a word for none, as
        empty as a blank."""
        time = self.scalars.str.contains("[1-9]", regex=True, na=False)
        return np.asarray(time.to_numpy(dtype=bool), dtype=bool)

    @cached_property
    def scalars(self) -> pd.Series:
        """Each value as text: its text, else a JSON number in plain decimal digits without a
        fraction of zero (`1795155000.0` and `1.795155e+09` as `1795155000`, `46346.25` as it
        is), as the number would be written as text; None where it holds neither."""
        codes, distinct = pd.factorize(self.others, use_na_sentinel=True)
        plain = np.array([*(_plain_number(str(n)) for n in distinct), None], dtype=object)
        numbers = pd.Series(plain[codes], index=self.texts.index, dtype=object)
        return self.texts.where(self.texts.notna(), numbers)


def key_values(original: pd.Series, key: str) -> KeyValues:
    """The value of `key` in each original (report.quarantine's JSON, keys in a row once),
    found by one Arrow regex over the column; each distinct text decoded once."""
    text = arrow_text(original) if holds_arrow_text(original) else _as_arrow(original)
    found = pc.extract_regex(text, pattern=f'"{key}": (?P<value>{_JSON_TEXT}|{_OTHER})')
    value = found.flatten()[0] if len(found) else pa.array([], pa.large_string())
    quoted = pc.fill_null(pc.starts_with(value, '"'), False)
    codes, distinct = _codes(pc.if_else(quoted, value, None))
    decoded = [json.loads(v) if "\\" in v else v[1:-1] for v in distinct]
    texts = np.array([*decoded, None], dtype=object)[codes]
    codes, distinct = _codes(pc.if_else(quoted, None, value))
    others = np.array([*distinct, None], dtype=object)[codes]
    return KeyValues(
        pd.Series(texts, index=original.index, dtype=object),
        pd.Series(others, index=original.index, dtype=object),
    )


def _as_arrow(original: pd.Series) -> pa.Array:
    """A column that is not Arrow text as Arrow text (nulls kept)."""
    values = original.astype(object).where(original.notna(), None)
    return pa.array([None if v is None else str(v) for v in values], pa.large_string())


def _codes(values: pa.Array) -> tuple[np.ndarray, list[str]]:
    """Each value's code among the distinct values (-1 for a null) and the distinct values."""
    encoded = pc.dictionary_encode(values)
    codes = np.asarray(pc.fill_null(encoded.indices, -1), dtype=np.intp)
    return codes, encoded.dictionary.to_pylist()


def written(original: pd.Series, key: str) -> np.ndarray:
    """Which originals hold a value of `key` that is not blank text (a number counts)."""
    return key_values(original, key).written()


def json_texts(original: pd.Series, key: str) -> pd.Series:
    """The text value of `key` in each original (report.quarantine's JSON), its escapes
    decoded (None where the key holds no text); each distinct value decoded once."""
    return key_values(original, key).texts


def _plain_number(number: str) -> str:
    """A JSON number in plain decimal digits, a fraction of zero left out; any other value
    written otherwise (`true`, `NaN`) as it is."""
    try:
        value = Decimal(number)
    except ArithmeticError:
        return number
    if not value.is_finite():
        return number
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
        f"{message_name(source)}:{row}"
        for source, row in zip(
            quarantine["source_file"].iloc[first].astype("str"),
            quarantine["source_row"].iloc[first].astype("str"),
            strict=True,
        )
    ]


def first_file(quarantine: pd.DataFrame, rows: np.ndarray) -> str:
    """The first (by name) of the files of the rows at positions `rows`, as a message names
    it (fhir_documents.message_name): the file an error's `file` field reports."""
    return message_name(str(min(quarantine["source_file"].iloc[rows].astype("str"))))


def files_named(quarantine: pd.DataFrame, rows: np.ndarray) -> str:
    """The files of the rows at positions `rows` as a message names them: one file by its
    name (fhir_documents.message_name), several by their count (a table of hundreds of parts
    or documents)."""
    files = quarantine["source_file"].iloc[rows].astype("str").unique()
    return message_name(str(files[0])) if len(files) == 1 else f"{len(files)} files"


def non_numeric_results(quarantine: pd.DataFrame, where: Matches) -> tuple[np.ndarray, pd.Series]:
    """The lab rows quarantined non_numeric (positions) and their results' texts, read once
    for the judges of number shapes (Matches.memo)."""
    key = ("non_numeric_results",)
    found = where.memo.get(key)
    if isinstance(found, tuple):
        return found
    rows = np.flatnonzero(where("table", "labs") & where("reason", "non_numeric"))
    original = quarantine["original"].iloc[rows]
    texts = json_texts(original, "value_raw") if len(rows) else pd.Series([], dtype=object)
    where.memo[key] = read = (rows, texts)
    return read
