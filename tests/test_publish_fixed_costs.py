"""The publish step's per-night shortcuts give what the general code gives, on hostile values
(formula-like texts, markup, unicode, missing values, empty lists): a list's texts rewritten
once per distinct text (html_text.per_distinct), values looked up once per distinct value
(html_text.looked_up), and the page's rows of a list that fits one slice made without
cutting the points and evidence per slice."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hyposcreen.report import page_cases
from hyposcreen.report.html_text import joined_list, looked_up, per_distinct
from hyposcreen.report.page_cases import TIER_SYMBOLS, PageCases, _mapped
from hyposcreen.report.review_list import TIER_NAMES
from hyposcreen.report.review_page import PageInfo

HOSTILE = [
    '=HYPERLINK("http://x";"y")',
    "+diuretic;;-thiazide;",
    ";;",
    "",
    "@sum(a1)",
    "ssri;nsaid_é;Ωmega;;",
    "<b>&amp;</b>;'quoted'",
    "tab\there;\r\nline",
    "ünïcödé;😀;",
    ";a;",
]


def _general_joined(values: pd.Series, separator: str, underscores: str = "_") -> list[object]:
    """The Arrow text ops the shortcut replaces."""
    text = pd.Series(values.to_numpy(), dtype=object).astype("str")
    text = text.str.strip(";").str.replace(r";+", separator, regex=True)
    if underscores != "_":
        text = text.str.replace("_", underscores, regex=False)
    return list(text.astype(object))


def test_lists_joined_once_per_distinct_text_as_the_arrow_text_ops_join_them() -> None:
    for values in (
        pd.Series(HOSTILE * 3, dtype="str"),
        pd.Series(HOSTILE, dtype=object),
        pd.Series([], dtype="str"),
        pd.Series(["", "", ""], dtype="str"),
    ):
        for separator, underscores in ((" ", "_"), (", ", " ")):
            shown = joined_list(values, separator, underscores)
            expected = _general_joined(values, separator, underscores)
            assert list(shown) == expected
            assert all(type(v) is str for v in shown)


def test_a_missing_or_non_text_value_goes_the_general_way() -> None:
    assert per_distinct(np.array(["a", None], dtype=object), str.upper) is None
    assert per_distinct(np.array(["a", np.nan], dtype=object), str.upper) is None
    assert per_distinct(np.array(["a", 5], dtype=object), str.upper) is None
    with_missing = pd.Series(["a;;b", None, "=c;"], dtype="str")
    shown = joined_list(with_missing, " ")
    assert shown[0] == "a b" and pd.isna(shown[1]) and shown[2] == "=c"
    assert list(per_distinct(np.array([], dtype=object), str.upper)) == []  # type: ignore[arg-type]


def test_values_looked_up_once_per_distinct_value_as_series_map_gives_them() -> None:
    tiers = pd.Series([3, 1, 2, 2, 1, 3, 3], dtype="int64")
    for table in (TIER_NAMES, TIER_SYMBOLS):
        assert list(_mapped(tiers, table)) == list(tiers.map(table).astype(object))
    texts = pd.Series(HOSTILE * 2, dtype=object)
    advice = {t: f"<li>{t[::-1]}</li>" for t in HOSTILE}
    assert list(_mapped(texts, advice)) == list(texts.map(advice).astype(object))
    # a value the table lacks (map: NaN) or a missing value: Series.map itself
    odd = pd.Series([1, 4, 2], dtype="int64")
    assert looked_up(odd.to_numpy(), TIER_NAMES) is None
    assert pd.isna(_mapped(odd, TIER_NAMES)).tolist() == [False, True, False]
    assert looked_up(np.array(["a", None], dtype=object), {"a": "x"}) is None
    assert list(_mapped(pd.Series([], dtype="int64"), TIER_NAMES)) == []


def _hostile_list() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, PageInfo]:
    """Four cases with hostile texts, their sodium results (one of a patient not listed, one
    outside the plot's days) and evidence (one row of a patient not listed)."""
    patients = ["=P1", "+Ω2", "<P3>", "P'4"]
    review = pd.DataFrame(
        {
            "rank": [1, 2, 3, 4],
            "tier": [1, 2, 2, 3],
            "patient_id": pd.Series(patients, dtype="str"),
            "index_time": pd.to_datetime(["2026-11-20T03:00", "2026-11-20T05:30"] * 2),
            "index_sodium": [118.0, 126.04, 129.96, 131.0],
            "corrected_sodium": [119.5, 126.04, 129.96, 131.0],
            "severity": ["severe", "moderate", "mild", "mild"],
            "latest_sodium": [120.0, 127.0, 130.0, 131.0],
            "delta_48h": [-6.0, np.nan, 2.0, np.nan],
            "trend": ["falling", "", "rising", ""],
            "n_low_results": [3, 1, 2, 1],
            "risk_factors": pd.Series(HOSTILE[:4], dtype="str"),
            "missing_workup": pd.Series(["urine_sodium;", "", "=tsh;;x_y", ""], dtype="str"),
            "considerations": pd.Series(["A | B", "", "A | B", "=C"], dtype="str"),
            "overcorrection": [False, True, False, False],
            "overcorrection_pair": ["", "2026-11-19T01:00:00 -> 2026-11-20T02:00:00", "", ""],
            "correction_risk": [True, False, False, False],
            "index_glucose": [350.0, np.nan, np.nan, 120.0],
            "possibly_spurious": ["", "", "yes", ""],
        }
    )
    results = pd.DataFrame(
        {
            "patient_id": pd.Series(["=P1", "=P1", "+Ω2", "other", "<P3>", "P'4"], dtype="str"),
            "specimen_time": pd.to_datetime(
                [
                    "2026-11-18T01:00",
                    "2026-11-20T03:00",
                    "2026-11-20T05:30",
                    "2026-11-19T00:00",
                    "2026-10-01T00:00",
                    "2026-11-20T05:30",
                ]
            ),
            "corrected_sodium": [125.0, 119.5, 126.04, 120.0, 128.0, 131.0],
        }
    )
    evidence = pd.DataFrame(
        {
            "patient_id": pd.Series(["=P1", "other", "<P3>", "=P1"], dtype="str"),
            "risk_factor": ["=thiazide", "x", "ssri_é", "correction_risk:alcohol"],
            "source": ["medication", "lab", "medication", "diagnosis"],
            "text": ["@drug <b> (start 2026-11-01)", "=1+1", "Ωmega 'x'", "F10 at 2026-11-19"],
        }
    )
    info = PageInfo(
        rules_version="t",
        profile="seed",
        profile_description="",
        hyponatremia_threshold=135.0,
        window_start=pd.Timestamp("2026-11-20"),
        window_end=pd.Timestamp("2026-11-21"),
        context_start=pd.Timestamp("2026-11-13"),
        run_id="r",
        site="s",
    )
    return review, results, evidence, info


def test_a_list_in_one_slice_gives_the_rows_of_a_case_per_slice() -> None:
    review, results, evidence, info = _hostile_list()
    summary = page_cases.page_cases(review)
    whole = list(page_cases.page_rows(review, results, evidence, info, summary))
    assert len(whole) == 1  # the one-slice path
    one_by_one = list(page_cases.page_rows(review, results, evidence, info, summary, 1))
    assert len(one_by_one) == len(review)
    assert whole[0] == "".join(one_by_one)
    assert "&lt;P3&gt;" in whole[0] and "other" not in whole[0]
    empty = review.iloc[:0]
    assert list(page_cases.page_rows(empty, results, evidence, info, PageCases())) == []


def test_overcorrection_texts_made_for_the_corrected_cases_only_are_the_whole_columns() -> None:
    from hyposcreen.report.review_list import _correction_texts, _overcorrection_text

    times = pd.to_datetime(
        ["2026-11-19T01:00:00", None, "2026-11-20T02:30:59", "2026-11-18T00:00:00"]
    )
    cases = pd.DataFrame(
        {
            "overcorrection": [True, False, True, True],
            "oc_from_sodium": [125.05, np.nan, -0.0, np.nan],
            "oc_from_time": times,
            "oc_to_sodium": [133.55, 120.0, 130.0, 131.0],
            "oc_to_time": times[::-1],
            "oc_rise": [8.5, np.nan, 130.0, 0.05],
            "limit": [8.0, 10.0, -0.0, np.nan],
        },
        index=[5, 3, 9, 0],
    )
    # the text made for every row at once, then blanked where there is no over-correction
    general = _correction_texts(cases).where(cases["overcorrection"], "")
    shown = _overcorrection_text(cases)
    pd.testing.assert_series_equal(shown, general)
    none = _overcorrection_text(cases.assign(overcorrection=False))
    assert none.tolist() == [""] * 4 and none.index.equals(cases.index)


def test_evidence_rows_in_the_order_pandas_sorts_them() -> None:
    from hyposcreen.report.evidence import _ORDER, _sorted_order

    texts = ["b", "B", "=a", "é", "z", "Ω", "😀", "", "a b", "a"]
    rng = np.random.default_rng(7)
    count = 200
    table = pd.DataFrame(
        {
            "patient_id": pd.Series(rng.choice(texts[:5], count), dtype="str"),
            "risk_factor": pd.Series(rng.choice(texts, count), dtype="str"),
            "source": "lab",
            "text": pd.Series(rng.choice(texts[3:], count), dtype="str"),
            "time": pd.to_datetime("2026-11-20")
            + pd.to_timedelta(rng.integers(-3, 3, count), unit="h"),
        }
    )
    expected = table.sort_values(_ORDER, kind="stable").index.to_numpy()
    assert _sorted_order(table) is not None
    assert list(_sorted_order(table)) == list(expected)  # type: ignore[arg-type]
    with_missing = table.assign(time=table["time"].where(table.index != 3))
    assert _sorted_order(with_missing) is None
    no_text = table.astype({"risk_factor": "category"})
    assert _sorted_order(no_text) is None


def test_short_columns_escaped_one_distinct_text_at_a_time_as_arrow_escapes_them() -> None:
    from hyposcreen.report.html_text import _escaped_in_arrow, escape_html

    texts = [*HOSTILE, "a & b", "\"'<>&", "&amp;", "x" * 50, "é<ü>"]
    for values in (np.array(texts * 3, dtype=object), np.array([], dtype=object)):
        shown = escape_html(values)
        assert list(shown) == list(_escaped_in_arrow(values))
        assert all(type(v) is str for v in shown)
    with_missing = np.array(["<a>", None, np.nan], dtype=object)  # as pandas escapes them
    assert list(escape_html(with_missing)) == list(_escaped_in_arrow(with_missing))
    long = np.array(["<x>"] * 5000, dtype=object)  # a long column: through Arrow
    assert set(escape_html(long)) == {"&lt;x&gt;"}


def test_factor_labels_once_per_distinct_factor_as_pandas_replaces_them() -> None:
    from hyposcreen.report.page_evidence import _factor_labels

    factors = np.array(
        [*HOSTILE, "correction_risk:liver_disease", "correction_risk:", "a_b_c", "_"] * 2,
        dtype=object,
    )
    general = (
        pd.Series(factors, dtype=object)
        .str.replace("correction_risk:", "correction risk: ")
        .str.replace("_", " ")
    )
    assert list(_factor_labels(factors)) == list(general)
    assert _factor_labels(factors)[len(HOSTILE)] == "correction risk: liver disease"
    with_missing = np.array(["a_b", None], dtype=object)
    assert _factor_labels(with_missing)[0] == "a b" and pd.isna(_factor_labels(with_missing)[1])
    assert list(_factor_labels(np.array([], dtype=object))) == []


def test_formula_starts_read_from_first_bytes_as_the_pattern_finds_them() -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    from hyposcreen.report.safe_cells import _RISKY, risky_starts

    texts = [*HOSTILE, "-", "\r", "é=", "＝full-width", " =", "😀", None, "\n=", "a@"]
    whole = pa.array(texts * 2, pa.large_string())
    cases = [whole, whole.slice(7, 15), whole.slice(0, 0), pa.array(["", None], pa.large_string())]
    for text in [*cases, pa.array(texts, pa.string())]:  # plain string: the pattern itself
        expected = np.array(pc.fill_null(pc.match_substring_regex(text, _RISKY), False), bool)
        assert risky_starts(text).tolist() == expected.tolist()


def test_considerations_read_each_distinct_list_once_as_the_patterns_read_them() -> None:
    from hyposcreen.report.considerations import (
        DIURETICS,
        _has_any,
        _has_any_by_pattern,
        _workup_words,
    )

    lists = [*HOSTILE, "loop_diuretic", "x;loop_diuretic;", "loop_diuretic\n", "loop_diuretics"]
    lists += [";;thiazide_diuretic", "thiazide_diuretic_x", "ssri;loop_diuretic", "é;Ω"]
    factors = pd.Series(lists * 2, dtype="str")
    for names in (DIURETICS, ("ssri",), ("é",), ("",)):
        assert _has_any(factors, names).tolist() == _has_any_by_pattern(factors, names).tolist()
    missing = pd.Series(["urine_sodium;tsh", "", "=a_b;;c", "ü_x"] * 2, dtype="str")
    general = missing.str.replace(";", ", ").str.replace("_", " ")
    assert list(_workup_words(missing)) == list(general.astype(object))
