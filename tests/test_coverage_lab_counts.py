"""Coverage of a window's labs (report.coverage.lab_counts): the status words no rule knows and
the units of bad-unit rows, counted per distinct value (hand-computed expectations)."""

from __future__ import annotations

import pandas as pd

from hyposcreen.report.coverage import combine, lab_counts
from hyposcreen.site_words import SiteWords

WORDS = SiteWords(frozenset({"final", "preliminary", "entered-in-error"}), ())


def _labs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "analyte": pd.Series(
                ["sodium", "sodium", "glucose", "sodium", "glucose", "sodium", None], dtype="str"
            ),
            "unit": pd.Series(
                ["furlongs", None, "mg/dL", "furlongs", "mmol/L", "mmol/L", "mmol/L"], dtype="str"
            ),
            # known (folded: 'Final', 'Entered_in error'), unknown twice, blank, missing
            "status": pd.Series(
                ["Final", "Zwischenbefund", "Zwischenbefund", "Entered_in error", "  ", None, "X"],
                dtype="str",
            ),
            "reason": pd.Series(
                ["bad_unit", "bad_unit", None, "bad_unit", "status", None, None], dtype=object
            ),
        }
    )


def test_lab_counts_count_unknown_statuses_and_bad_units_per_distinct_value() -> None:
    found = combine(lab_counts(_labs(), WORDS))
    assert found.values.tolist() == [
        ["labs", "status", "Zwischenbefund", 2],
        ["labs", "unit", "sodium: furlongs", 2],
        ["labs", "status", "X", 1],
        ["labs", "unit", "sodium: (none)", 1],
    ]
    assert found["count"].dtype == "int64"


def test_lab_counts_of_labs_without_unknown_words_are_empty() -> None:
    labs = _labs().iloc[[0, 3, 5]].assign(reason=None)
    found = combine(lab_counts(labs.reset_index(drop=True), WORDS))
    assert found.empty and list(found.columns) == ["table", "kind", "value", "count"]


def test_specimen_texts_read_as_blood_without_a_blood_word_are_counted() -> None:
    """Rows read as an analyte whose specimen text names no specimen word of the rules were
    read as blood: each such text is named with its rows (a site's own word for urine would
    hide there). Known words (Serum, Li-Hep-Plasma, Vollblut, Urine), blanks, missing texts and
    rows of no analyte are not."""
    from hyposcreen.config import load_mapping
    from hyposcreen.rules.loader import load_rules
    from hyposcreen.site_words import apply_site_words

    _, words = apply_site_words(load_rules(), None, load_mapping(None))
    labs = pd.DataFrame(
        {
            "analyte": pd.Series(
                [
                    "sodium",
                    "sodium",
                    "sodium",
                    "glucose",
                    "urine_sodium",
                    "sodium",
                    "sodium",
                    "sodium",
                    None,
                ],
                dtype="str",
            ),
            "unit": pd.Series(["mmol/L"] * 9, dtype="str"),
            "status": pd.Series([None] * 9, dtype="str"),
            "specimen_type": pd.Series(
                [
                    "Serum",
                    "Spontanprobe",
                    "Spontanprobe",
                    "Li-Hep-Plasma",
                    "Urine",
                    "  ",
                    None,
                    "Vollblut",
                    "Kaffee",
                ],
                dtype="str",
            ),
            "reason": pd.Series([None] * 9, dtype=object),
        }
    )
    assert combine(lab_counts(labs, words)).values.tolist() == [
        ["labs", "specimen_type", "Spontanprobe", 2]
    ]
    assert combine(lab_counts(labs, WORDS)).empty  # rules without blood words: not checked
