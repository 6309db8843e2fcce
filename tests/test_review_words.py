"""The evidence in clinical words a column at a time (report/words.py) says what display.py's
one-text functions say: hand-computed texts, then many generated ones (codes, lab values,
times next to digits, dates in codes, ' | ' and ': ' inside texts, accents, line breaks)."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest

from hyposcreen.report import clinical_times, display, words
from hyposcreen.rules.loader import load_rules

RULES = load_rules()
NAMES = display.drug_names(RULES)
COMBINATIONS = dict(RULES.atc_combinations)


def _column(*texts: str) -> np.ndarray:
    return np.array(texts, dtype=object)


def test_a_medication_lab_and_times_read_in_clinical_words() -> None:
    lines = words.evidence_lines(
        _column("medication", "lab", "diagnosis"),
        _column(
            "RxNorm 4603 (start 2026-05-12, end ongoing, day 3)",
            "magnesium 1.58015 mg/dL at 2026-11-20T05:07:09 (< 1.7 mg/dL)",
            "E871 (ICD-10-CM) recorded 2026-11-19T23:59:00",
        ),
        NAMES,
        COMBINATIONS,
        "Europe/Berlin",
    )
    assert list(lines) == [
        "medication: furosemide (RxNorm 4603, start 12 May 2026, end ongoing, day 3)",
        "lab: magnesium 1.58 mg/dL at 20 Nov 2026 05:07 CET (< 1.7 mg/dL)",
        "diagnosis: E871 (ICD-10-CM) recorded 19 Nov 2026 23:59 CET",
    ]


def test_the_review_lists_evidence_column_reads_in_clinical_words() -> None:
    cells = _column(
        "loop_diuretic: RxNorm 4603 (start 2026-05-12, end 2026-06-01, day 3) | "
        "hypokalemia: potassium ≤ 3.0 mmol/L at 2026-11-20T05:00:00 (< 3.5 mmol/L)",
        "",
        "over-rapid correction: 118.0 at 2026-11-20T01:00:00 -> 127.0 at 2026-11-20T13:00:00",
    )
    assert list(words.evidence_in_words(cells, NAMES, COMBINATIONS, "UTC")) == [
        "loop_diuretic: furosemide (RxNorm 4603, start 12 May 2026, end 01 Jun 2026, day 3)"
        " | hypokalemia: potassium ≤ 3.0 mmol/L at 20 Nov 2026 05:00 UTC (< 3.5 mmol/L)",
        "",
        "over-rapid correction: 118.0 at 20 Nov 2026 01:00 UTC -> 127.0 at 20 Nov 2026 13:00 UTC",
    ]


_PIECES = [
    "2026-11-20T05:00", "2026-11-20T05:00:07", "2026-03-29T02:30", "2026-10-25T02:30:00",
    "2026-11-20", "12026-11-20", "2026-11-20T", "2026-11-2026-11-20T05:00", "RxNorm 4603",
    "RxNorm 999999", "ATC C03CA01", "ATC c03ca01", "ATC C03EA99", "ATC ZZZ1",
    " (start 2026-05-12, end ongoing, day 3)", " (start ", ")", "magnesium", "potassium",
    "calcium_total", "sodium", " ", "1.58015", "-0.5", "3", "1e-3", "1.5e", "< ", "≤ ", "≥ ",
    "mg/dL", " at ", "albumin 3", "albumin x", "é", "µmol/L", "\n", "_", "x", " | ", ": ",
    "loop_diuretic", "correction_risk:cirrhosis", "T", "-", "0",
]  # fmt: skip


def _generated(count: int, seed: int) -> list[str]:
    pick = random.Random(seed)  # noqa: S311 - test texts, not a secret
    return ["".join(pick.choices(_PIECES, k=pick.randint(0, 7))) for _ in range(count)]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/Sao_Paulo"])
def test_times_in_words_equal_the_one_text_rewrite(zone: str) -> None:
    texts = _generated(3000, seed=1)
    shown = words.times_in_words(np.array(texts, dtype=object), zone)
    assert list(shown) == [clinical_times.clinical_times_in(t, zone) for t in texts]


def test_drug_and_lab_labels_equal_the_one_text_rewrites() -> None:
    texts = _generated(3000, seed=2)
    column = np.array(texts, dtype=object)
    assert list(words.drug_labels(column, NAMES, COMBINATIONS)) == [
        display.drug_label(t, NAMES, COMBINATIONS) for t in texts
    ]
    readable = []  # lab_label itself fails on a value such as "." (never written by the screen)
    for text in texts:
        try:
            readable.append((text, display.lab_label(text)))
        except ValueError:
            continue
    shown = words.lab_labels(np.array([t for t, _ in readable], dtype=object))
    assert list(shown) == [expected for _, expected in readable]


def test_evidence_cells_equal_the_one_text_rewrite() -> None:
    pick = random.Random(3)  # noqa: S311 - test texts, not a secret
    texts = _generated(4000, seed=4)
    cells = []
    for _ in range(1500):
        pieces = pick.sample(texts, pick.randint(0, 4))
        cell = " | ".join(pick.choice(["loop_diuretic: ", "x", "", "a: b: "]) + p for p in pieces)
        try:
            cells.append((cell, display.evidence_in_words(cell, NAMES, COMBINATIONS, "UTC")))
        except ValueError:
            continue
    shown = words.evidence_in_words(
        np.array([c for c, _ in cells], dtype=object), NAMES, COMBINATIONS, "UTC"
    )
    assert list(shown) == [expected for _, expected in cells]


def test_empty_columns_stay_empty() -> None:
    empty = np.array([], dtype=object)
    assert len(words.times_in_words(empty, "UTC")) == 0
    assert len(words.evidence_in_words(empty, NAMES, COMBINATIONS, "UTC")) == 0
    assert len(words.evidence_lines(empty, empty, NAMES, COMBINATIONS, "UTC")) == 0


def test_general_text_prints_each_number_as_python_g_does() -> None:
    import pandas as pd

    from hyposcreen.report.numbers import general_text

    values = pd.Series([0.0, -0.0, float("nan"), 3.25, 1e20, 3.0, 1.5800000001])
    assert list(general_text(values)) == ["0", "-0", "nan", "3.25", "1e+20", "3", "1.58"]


def test_one_decimal_rounds_each_distinct_number_half_away_from_zero() -> None:
    import pandas as pd

    from hyposcreen.report.numbers import one_decimal_text, round_one_decimal

    values = pd.Series([125.05, -3.25, 125.05, None, -0.04, 2.675, 130.0], dtype="float64")
    assert list(one_decimal_text(values)) == [
        "125.1", "-3.3", "125.1", "", "0.0", "2.7", "130.0",
    ]  # fmt: skip
    rounded = round_one_decimal(values.rename("na"))
    assert rounded.name == "na" and rounded.isna().tolist() == [False] * 3 + [True] + [False] * 3
    assert rounded.dropna().tolist() == [125.1, -3.3, 125.1, 0.0, 2.7, 130.0]


IMPOSSIBLE = [
    "Furosemide 2026-02-30 40mg (start 2026-05-12, end ongoing, day 3)",
    "Furosemide 2026-13-45T10:00 40mg (start 2026-05-12, end ongoing, day 3)",
    "potassium 1.2.3 furosemide (start 2026-05-12, end ongoing, day 3)",
    "sodium . mmol/L at 2026-11-20T05:07:09",
]


@pytest.mark.parametrize("columnwise", [False, True])
def test_free_text_holding_an_impossible_date_time_or_number_is_shown_as_written(
    columnwise: bool,
) -> None:
    """A drug name is free text: a date, time or lab value in it that is none (30 Feb, month
    13, '1.2.3') is left as written, not a crash of the page and workbook writers."""
    texts = _column(*(f"loop_diuretic: {text}" for text in IMPOSSIBLE))
    if columnwise:
        shown = list(words.evidence_in_words(texts, NAMES, COMBINATIONS, "UTC"))
    else:
        shown = [display.evidence_in_words(t, NAMES, COMBINATIONS, "UTC") for t in texts]
    assert shown == [
        "loop_diuretic: Furosemide 2026-02-30 40mg (start 12 May 2026, end ongoing, day 3)",
        "loop_diuretic: Furosemide 2026-13-45T10:00 40mg (start 12 May 2026, end ongoing, day 3)",
        "loop_diuretic: potassium 1.2.3 furosemide (start 12 May 2026, end ongoing, day 3)",
        "loop_diuretic: sodium . mmol/L at 20 Nov 2026 05:07 UTC",
    ]


def test_a_dates_boundary_checked_after_it_finds_what_the_plain_pattern_finds() -> None:
    plain = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b(?!T)")
    odd = ["٣2026-11-20", "é2026-11-20", "_2026-11-20", "\x002026-11-20", "2026-11-20T"]
    texts = [*_generated(3000, seed=5), *odd]
    for text in texts:
        assert clinical_times._DATE.findall(text) == plain.findall(text)
        assert [m.span() for m in clinical_times._DATE.finditer(text)] == [
            m.span() for m in plain.finditer(text)
        ]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin"])
def test_short_columns_read_as_each_text_alone(zone: str) -> None:
    """A night's few hundred texts are rewritten in one text joined by NULs (times) and by
    display.py per distinct text: the same as each text alone, a NUL in a text included."""
    texts = [*_generated(400, seed=6), "a\x002026-11-20T05:00", "\x01", "2026-11-20\x00T"]
    column = np.array(texts * 2, dtype=object)
    assert list(words.times_in_words(column, zone)) == [
        clinical_times.clinical_times_in(t, zone) for t in texts * 2
    ]
    cells = [" | ".join(texts[i : i + 3]) for i in range(0, len(texts), 3)]
    cells = [*cells, "loop_diuretic: RxNorm 4603 (start 2026-05-12) | x: 2026-11-20T05:00:00"]
    expected = []
    for cell in cells:
        try:
            expected.append((cell, display.evidence_in_words(cell, NAMES, COMBINATIONS, zone)))
        except ValueError:  # lab_label itself fails on a value such as "."
            continue
    shown = words.evidence_in_words(
        np.array([c for c, _ in expected], dtype=object), NAMES, COMBINATIONS, zone
    )
    assert list(shown) == [e for _, e in expected]
    sources = np.array(["medication", "lab", "diagnosis"] * 3, dtype=object)
    lines = np.array(texts[:9], dtype=object)
    readable = [display.lab_label(t) if s == "lab" else t for s, t in zip(sources, lines)]
    assert all(isinstance(r, str) for r in readable)
    assert list(words.evidence_lines(sources, lines, NAMES, COMBINATIONS, zone)) == [
        f"{s}: "
        + clinical_times.clinical_times_in(
            display.drug_label(t, NAMES, COMBINATIONS) if s == "medication" else r, zone
        )
        for s, t, r in zip(sources, lines, readable, strict=True)
    ]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin"])
def test_times_found_from_their_dash_are_those_the_whole_patterns_find(zone: str) -> None:
    """clinical_times_in finds each time and date from its first '-' (4 digits looked
    behind): the text `re.sub` of the whole patterns makes, a match that would start inside
    the one before it included (a time written straight after another, digits after a date)."""
    odd = [
        "2026-11-05T10:0012-12-12T10:00",
        "2026-11-05T10:00:002026-11-05T11:00",
        "2026-11-0512-12-12 and 2026-11-05-11-05",
        "2026-11-05T10:00:00-01:00-02-03 1234-56-78T99:99 2026-11-05T22:18:0012-12-12",
        "٣٣٣٣-١١-٠٥T10:00 x2026-11-05 _2026-11-05 --2026-11-05--",
    ]
    texts = [*_generated(3000, seed=7), *odd, "\x00".join(_generated(300, seed=8))]
    for text in texts:
        timed = clinical_times._ISO.sub(
            lambda m: clinical_times._time_in_words(m.group(0), zone), text
        )
        expected = clinical_times._DATE.sub(
            lambda m: clinical_times._date_in_words(m.group(1)), timed
        )
        assert clinical_times.clinical_times_in(text, zone) == expected


def test_a_value_just_below_its_stated_limit_is_not_rounded_up_to_it() -> None:
    """The page rounds a co-factor to clinical precision, but never so that it reads as its
    own threshold: potassium 3.45 with '(< 3.5 mmol/L)' showed '3.5 mmol/L (< 3.5 mmol/L)';
    with a site's limit 3.6, potassium 3.55 showed '3.6 (< 3.6)'. Hand-computed: 3.45 to one
    decimal is 3.5 (half away from zero), not below 3.5, so a second decimal is shown."""
    texts = [
        "potassium 3.45 mmol/L at 2026-11-20T09:00:00 (< 3.5 mmol/L)",
        "potassium 3.55 mmol/L at 2026-11-20T09:00:00 (< 3.6 mmol/L)",
        "magnesium 1.6999 mg/dL at 2026-11-20T09:00:00 (< 1.7 mg/dL)",  # 1.70 at 2 decimals
        "calcium_ionized 1.1195 mmol/L at 2026-11-20T09:00:00 (ionized < 1.12 mmol/L)",
        "potassium 3.2 mmol/L at 2026-11-20T09:00:00 (< 3.5 mmol/L)",  # one decimal is enough
        "magnesium 1.58015 mg/dL at 2026-11-20T09:00:00 (< 1.7 mg/dL)",
    ]
    expected = [
        "potassium 3.45 mmol/L at 2026-11-20T09:00:00 (< 3.5 mmol/L)",
        "potassium 3.55 mmol/L at 2026-11-20T09:00:00 (< 3.6 mmol/L)",
        "magnesium 1.6999 mg/dL at 2026-11-20T09:00:00 (< 1.7 mg/dL)",
        "calcium ionized 1.1195 mmol/L at 2026-11-20T09:00:00 (ionized < 1.12 mmol/L)",
        "potassium 3.2 mmol/L at 2026-11-20T09:00:00 (< 3.5 mmol/L)",
        "magnesium 1.58 mg/dL at 2026-11-20T09:00:00 (< 1.7 mg/dL)",
    ]
    assert [display.lab_label(t) for t in texts] == expected
    assert list(words.lab_labels(np.array(texts, dtype=object))) == expected
    # a long column takes the column-wise rewrite (column_rewrites.ONE_BY_ONE): the same texts
    many = np.array(texts * 500, dtype=object)
    assert list(words.lab_labels(many)) == expected * 500
