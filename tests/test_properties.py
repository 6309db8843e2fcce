"""Property tests (Hypothesis) of value parsing, row accounting and the case definition."""

from __future__ import annotations

import dataclasses
import math

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import RULES, T0, WINDOW, glucose, hours, labs_frame, sodium, used_labs
from hyposcreen.clean import BUCKETS, USED, clean_labs
from hyposcreen.ingest.values import parse_values
from hyposcreen.screen.cases import find_cases
from hyposcreen.screen.sodium import classify, correct_for_glucose

# Each example builds and cleans pandas frames (~10-50 ms): few examples keep the suite fast.
FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse(texts: list[str | None], values: list[float] | None = None) -> tuple[pd.Series, ...]:
    raw = pd.Series(texts, dtype="str")
    value = pd.Series(values if values is not None else [math.nan] * len(texts), dtype="float64")
    return parse_values(raw, value)


# ------------------------------------------------------------------ parse_values


@FAST
@given(
    st.lists(st.one_of(st.none(), st.text(max_size=20)), max_size=15).flatmap(
        lambda texts: st.tuples(
            st.just(texts),
            st.lists(st.floats(), min_size=len(texts), max_size=len(texts)),
        )
    )
)
def test_parse_values_never_raises(data: tuple[list[str | None], list[float]]) -> None:
    texts, values = data
    numbers, censor = parse(texts, values)
    assert len(numbers) == len(censor) == len(texts)
    assert all(math.isnan(v) or math.isfinite(v) for v in numbers)
    assert set(censor) <= {"", "<", ">", "<=", ">="}


@settings(max_examples=150, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(["", " ", "  "]))
def test_finite_float_formatted_as_text_round_trips(number: float, pad: str) -> None:
    numbers, censor = parse([pad + repr(number) + pad])
    assert numbers.iloc[0] == number
    assert censor.iloc[0] == ""


OPERATORS = {"<": "<", ">": ">", "<=": "<=", ">=": ">=", "less than": "<", "greater than": ">"}


@settings(max_examples=80, deadline=None)
@given(
    op=st.sampled_from(sorted(OPERATORS)),
    case=st.sampled_from([str.lower, str.upper, str.title]),
    gap=st.sampled_from(["", " ", "  "]),
    inner=st.sampled_from([" ", "  "]),
    number=st.decimals(min_value=0, max_value=100000, places=3, allow_nan=False),
)
def test_censored_forms_parse_to_their_number_with_the_right_operator(
    op: str,
    case,
    gap: str,
    inner: str,
    number,  # type: ignore[no-untyped-def]
) -> None:
    text = case(op.replace(" ", inner)) + gap + str(number)
    numbers, censor = parse([text])
    assert numbers.iloc[0] == float(number)
    assert censor.iloc[0] == OPERATORS[op]


# ------------------------------------------------------------------ clean_labs accounting

lab_rows = st.fixed_dictionaries(
    {
        "patient_id": st.sampled_from(["P1", "P2", "", None]),
        "specimen_time": st.sampled_from([T0, T0 + hours(1), None, "garbage"]),
        "value_raw": st.one_of(
            st.sampled_from(["130", "130.0", "<100", "HEMOLYZED", "", "1350", "4", None]),
            st.text(max_size=8),
        ),
        "unit": st.sampled_from(["mmol/L", "mEq/L", "mg/dL", "g/L", None, "xx"]),
        "status": st.sampled_from(["final", None, "entered-in-error", "cancelled"]),
        "analyte": st.sampled_from(
            ["sodium", "glucose", "potassium", "urine_sodium", "calcium_ionized", "tsh"]
        ),
    }
)


@FAST
@given(st.lists(lab_rows, max_size=25), st.randoms(use_true_random=False))
def test_clean_labs_never_drops_or_duplicates_a_row(rows: list[dict], rnd) -> None:  # type: ignore[no-untyped-def]
    frame = labs_frame(rows)
    frame["analyte"] = pd.Series([r["analyte"] for r in rows], dtype="str")
    labels = list(range(1000, 1000 + 7 * len(rows), 7))
    rnd.shuffle(labels)
    frame.index = pd.Index(labels, dtype="int64")  # any index labels survive
    out = clean_labs(frame, RULES)
    assert out.index.equals(frame.index)
    assert out["bucket"].isin(BUCKETS).all()
    not_used = out["bucket"] != USED
    assert out.loc[not_used, "reason"].notna().all()
    assert out.loc[~not_used, "value_num"].map(math.isfinite).all()


# ------------------------------------------------------------------ monotonic case definition

sodium_rows = st.lists(
    st.tuples(
        st.sampled_from(["P1", "P2", "P3", "P4"]),
        st.integers(min_value=1000, max_value=1500).map(lambda v: v / 10),  # 100.0 .. 150.0
        st.integers(min_value=-80, max_value=100),  # hours from T0 (some in the context)
        st.one_of(st.none(), st.integers(min_value=60, max_value=600)),  # glucose mg/dL
    ),
    min_size=1,
    max_size=8,
)


def cases_at(corrected: pd.DataFrame, threshold: float) -> set[str]:
    seed = RULES.profile("seed")
    results = classify(corrected, dataclasses.replace(seed, hyponatremia_threshold=threshold))
    results["in_window"] = (results["specimen_time"] >= WINDOW.start) & (
        results["specimen_time"] < WINDOW.end
    )
    return set(find_cases(results)["patient_id"])


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sodium_rows,
    st.integers(min_value=1200, max_value=1400).map(lambda v: v / 10),
    st.integers(min_value=0, max_value=100).map(lambda v: v / 10),
)
def test_raising_the_seed_threshold_never_removes_a_case(
    rows: list[tuple], threshold: float, raise_by: float
) -> None:
    window_start = WINDOW.start
    lab_list = []
    for patient, value, offset, glucose_mg in rows:
        time = window_start + hours(offset)
        lab_list.append(sodium(str(value), time, patient_id=patient))
        if glucose_mg is not None:
            lab_list.append(glucose(str(glucose_mg), time, patient_id=patient))
    labs = used_labs(lab_list)
    corrected = correct_for_glucose(
        labs.loc[labs["analyte"] == "sodium"], labs.loc[labs["analyte"] == "glucose"], RULES
    )
    assert cases_at(corrected, threshold) <= cases_at(corrected, threshold + raise_by)
