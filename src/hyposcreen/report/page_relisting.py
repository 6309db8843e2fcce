"""The page's line on a case the nightly state knows: why it is listed again, when it was last
listed and last reviewed ("Listed again: lower sodium, more urgent tier · last listed for the
window from 20 Nov 2026 00:00 CET · reviewed 20 Nov 2026 15:00 CET"), from `relisted_because`,
`previously_listed` and `last_reviewed` (README "Nightly state"). Without it a case reviewed
yesterday reads on tonight's page as a new one."""

from __future__ import annotations

from html import escape

import numpy as np
import pandas as pd

from hyposcreen.report.clinical_times import clinical_time

# relisted_because's reasons (screen/incremental.RELIST_REASONS) in a reader's words
REASON_WORDS = {
    "nadir_lower": "lower sodium",
    "tier_escalation": "more urgent tier",
    "rules_changed": "more urgent tier under changed rules",
    "new_overcorrection": "new over-rapid correction",
}
STATE_COLUMNS = ("relisted_because", "previously_listed", "last_reviewed")


def relisting_lines(review: pd.DataFrame, timezone: str) -> np.ndarray:
    """Each case's `<div>` of its listing history ('' for a case without one: a run without
    state, a case listed for the first time)."""
    shown = np.full(len(review), "", dtype=object)
    if not all(c in review.columns for c in STATE_COLUMNS):
        return shown
    columns = [review[c].fillna("").astype("str").to_numpy(dtype=object) for c in STATE_COLUMNS]
    for row, (because, listed, reviewed) in enumerate(zip(*columns, strict=True)):
        text = _history(because, listed, reviewed, timezone)
        if text:
            shown[row] = f'<div class="small relisted">{escape(text)}</div>'
    return shown


def _history(because: str, listed: str, reviewed: str, timezone: str) -> str:
    codes = [r for r in because.split(";") if r and r != "new"]  # "new": a first listing
    graded_otherwise = "tier_escalation" in codes and "rules_changed" in codes
    if graded_otherwise:  # worse, and graded under rules other than its last listing's
        codes.remove("rules_changed")
    reasons = [REASON_WORDS.get(r, r.replace("_", " ")) for r in codes]
    after = " (the rules changed since its last listing)" if graded_otherwise else ""
    parts = ["Listed again: " + ", ".join(reasons) + after] if reasons else []
    if listed:
        parts.append(f"last listed for the window from {clinical_time(listed, timezone)}")
    if reviewed:
        parts.append(f"reviewed {clinical_time(reviewed, timezone)}")
    text = " · ".join(parts)
    return text[:1].upper() + text[1:]
