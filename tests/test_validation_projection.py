"""What the contracts are handed: the cleaned labs projected in one selection (value_num put
in from the canonical value) equal the frame dropped, projected and assigned as before, the
clean stage's reason as a categorical of the codes read whatever a missing reason is held as,
and the frames sent to the contracts worker are the Arrow stream pandas' own conversion
writes."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pyarrow as pa

from gx_tables import make_labs, make_medications, make_review
from hyposcreen.clean import clean_labs
from hyposcreen.rules.loader import load_rules
from hyposcreen.validate.derived import REASONS_READ
from hyposcreen.validate.remembered import frame_identity
from hyposcreen.validate.views import _reasons_read, project_for_validation, validation_columns
from hyposcreen.validate.worker_pipe import receive, send


def _cleaned_labs() -> pd.DataFrame:
    labs = make_labs(n_copies=3)
    cleaned = clean_labs(labs.drop(columns=["value_num", "unit_ok"]), load_rules())
    cleaned.loc[[0, 3, 4], "reason"] = ["duplicate", "non_numeric", "status"]  # some read
    return cleaned


def _reasons_compared(reason: pd.Series) -> pd.Series:
    """The reason as a categorical of REASONS_READ, every row compared."""
    values = reason.to_numpy(dtype=object)
    codes = np.full(len(values), -1, dtype=np.int8)
    for code, name in enumerate(REASONS_READ):
        codes[values == name] = code
    return pd.Series(pd.Categorical.from_codes(codes, categories=REASONS_READ), reason.index)


def test_labs_projected_with_their_canonical_value_equal_the_drop_project_assign_way() -> None:
    cleaned = _cleaned_labs()
    assert cleaned["reason"].isin(REASONS_READ).any()  # not vacuous: some reasons are read
    canonical = {"value_num": cleaned["value_canonical"]}
    once = project_for_validation("labs", cleaned, values=canonical)
    wanted = validation_columns("labs")
    narrowed = cleaned.drop(columns="value_num")
    before = narrowed[[c for c in narrowed.columns if c in wanted]]
    before = before.assign(reason=_reasons_compared(before["reason"]))
    before = before.assign(value_num=cleaned["value_canonical"])
    pd.testing.assert_frame_equal(once, before, check_exact=True)
    assert list(once.columns) == list(before.columns)
    assert once["value_num"].tolist() == cleaned["value_canonical"].tolist()


def test_the_reasons_read_are_the_same_whatever_a_missing_reason_is_held_as() -> None:
    given = ["duplicate", None, np.nan, "non_numeric", "status", "", "duplicate", np.nan]
    reason = pd.Series(given, index=pd.RangeIndex(10, 18), dtype=object)
    read = _reasons_read(reason)
    pd.testing.assert_series_equal(read, _reasons_compared(reason))
    assert read.cat.codes.tolist() == [0, -1, -1, 1, -1, -1, 0, -1]
    as_text = _reasons_read(reason.astype("str"))  # an Arrow-backed text column
    pd.testing.assert_series_equal(as_text, read)
    assert _reasons_read(pd.Series([], dtype=object)).empty


def _pandas_stream(frame: pd.DataFrame) -> bytes:
    table = pa.Table.from_pandas(frame, preserve_index=None)
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def test_the_frames_sent_to_the_worker_are_the_stream_of_pandas_own_conversion() -> None:
    cleaned = _cleaned_labs()
    labs = project_for_validation("labs", cleaned, values={"value_num": cleaned["value_canonical"]})
    named = labs.copy()
    named.index = named.index.rename("row")
    described = labs.copy()
    described.attrs["source"] = "labs"
    frames = {  # the same shapes again with other rows: a conversion's schema taken again
        "labs": labs,
        "fewer": labs.iloc[:7],
        "later": labs.iloc[3:20],
        "every other": labs.iloc[::2],
        "review": make_review(5),
        "longer review": make_review(9),
        "labelled rows": labs.iloc[[0, 2, 5]],  # not a range: pandas' way every time
        "named rows": named,
        "attributes": described,
        "none": labs.iloc[:0],
    }
    for _ in range(2):
        sink = io.BytesIO()
        send(sink, {"kind": "test"}, frames)
        written = sink.getvalue()
        streams = [_pandas_stream(frame) for frame in frames.values()]
        assert written.endswith(b"".join(streams))
        header, back = receive(io.BytesIO(written))
        assert header == {"kind": "test"}
        for name, frame in frames.items():
            if name == "none":  # Arrow keeps no categories of an empty column (the worker says so)
                continue
            pd.testing.assert_frame_equal(back[name], frame, check_exact=True)


def test_a_table_projected_again_holds_the_same_arrays() -> None:
    """The medications, diagnoses and patients of the windows of one read are projected from
    the same arrays each night: their projections are recognised as the frame sent before."""

    medications = make_medications()
    first = project_for_validation("medications", medications)
    again = project_for_validation("medications", medications.copy(deep=False))
    assert list(first.columns) == [c for c in medications.columns if c in first.columns]
    assert frame_identity(first, []) is not None
    assert frame_identity(first, []) == frame_identity(again, [])


def test_a_frame_of_a_known_shape_whose_values_convert_otherwise_is_sent_as_pandas_does() -> None:
    """An object column's Arrow type follows its values: text one night, nothing the next."""
    texts = pd.DataFrame({"note": pd.Series(["a", None, "b"], dtype=object), "n": [1, 2, 3]})
    blanks = pd.DataFrame({"note": pd.Series([None, None], dtype=object), "n": [4, 5]})
    for frames in ({"t": texts}, {"b": blanks}, {"t": texts}, {"b": blanks}):
        sink = io.BytesIO()
        send(sink, {}, frames)
        assert sink.getvalue().endswith(_pandas_stream(next(iter(frames.values()))))
