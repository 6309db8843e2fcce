"""The window's check on medications and diagnoses (clean.events): the buckets decided once
from the window-free reasons, then only the rows after each window's end changed, are the
buckets the reasons give (clean.buckets.buckets_of), window after window."""

from __future__ import annotations

import pandas as pd

from hyposcreen.clean.buckets import buckets_of
from hyposcreen.clean.events import AFTER_WINDOW, EventFacts, diagnoses_in_window
from hyposcreen.config import parse_window


def _facts() -> EventFacts:
    index = pd.Index([4, 5, 6, 7, 8], dtype="int64")
    frame = pd.DataFrame(
        {
            "recorded_time": pd.to_datetime(
                [
                    "2026-11-19 08:00",
                    "2026-11-20 09:00",
                    "2026-11-21 00:00",
                    None,
                    "2026-11-22 00:00",
                ]
            ).astype("datetime64[us]"),
            "patient_id": pd.Series(["P1", "P2", "P3", "P4", "P5"], dtype="str"),
        },
        index=index,
    )
    reason = pd.Series(
        [None, "unlisted_code", None, "missing_key", None], index=index, dtype=object
    )
    return EventFacts(frame, reason, "recorded_time", ("unlisted_code", AFTER_WINDOW))


def test_each_window_gets_the_buckets_its_reasons_give() -> None:
    facts = _facts()
    expected = {
        # hand-computed: rows recorded at or after the window's end without an earlier reason
        # are after_window (not relevant); the others keep their reason's bucket
        "2026-11-20": ["used", "not_relevant", "not_relevant", "quarantined", "not_relevant"],
        "2026-11-21": ["used", "not_relevant", "not_relevant", "quarantined", "not_relevant"],
        "2026-11-22": ["used", "not_relevant", "used", "quarantined", "not_relevant"],
        "2026-11-23": ["used", "not_relevant", "used", "quarantined", "used"],
    }
    for end, buckets in expected.items():
        start = (pd.Timestamp(end) - pd.Timedelta(days=1)).isoformat()
        window = parse_window(start, pd.Timestamp(end).isoformat())
        out = diagnoses_in_window(facts, window)
        assert out["bucket"].tolist() == buckets, end
        pd.testing.assert_series_equal(
            out["bucket"], buckets_of(out["reason"], facts.not_relevant), check_names=False
        )
        assert out.index.equals(facts.frame.index)
        assert (out["reason"] == AFTER_WINDOW).sum() == buckets.count("not_relevant") - 1
    assert facts.reason.tolist()[0] is None  # the facts are not changed by any window
