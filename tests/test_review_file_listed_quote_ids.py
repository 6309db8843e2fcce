"""`hyposcreen reviewed` refused every patient_id starting with `'` as a spreadsheet's mark of a
cell kept as text, also the id of a patient a night of the site listed as written (a source
whose ids start with `'`): that review could not be recorded at all. Such an id is now read
when the state lists it; one it does not list is still refused, naming its row."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.cli import main
from hyposcreen.config import Window
from hyposcreen.state import StateStore


def _state_listing(state: Path, *ids: str) -> None:
    """The state of one night of site `default` that listed `ids`."""
    window = Window(pd.Timestamp("2026-11-20"), pd.Timestamp("2026-11-21"))
    listed = pd.DataFrame(
        {"patient_id": list(ids), "tier": 1, "nadir": 118.0, "overcorrection_to": None}
    )
    StateStore(state, "default").record_run(window, "run1", state.parent / "out", listed, None)


def _reviews(path: Path, *ids: str) -> Path:
    rows = "".join(f"{i},2026-11-21T09:30,dr-a\n" for i in ids)
    path.write_text("patient_id,reviewed_at,reviewer\n" + rows, encoding="utf-8")
    return path


def test_a_listed_id_starting_with_a_quote_is_recorded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    _state_listing(state, "'P004", "P005")
    reviews = _reviews(tmp_path / "reviews.csv", "'P004", "P005")
    assert main(["reviewed", "--file", str(reviews), "--state-dir", str(state)]) == 0
    assert "recorded 2 new review(s) of 2 patient(s)" in capsys.readouterr().err
    reviewed = StateStore(state, "default").history(pd.Timestamp("2026-11-22")).reviewed
    assert sorted(reviewed["patient_id"]) == ["'P004", "P005"]


def test_an_unlisted_id_starting_with_a_quote_is_still_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    _state_listing(state, "P004", "P005")
    reviews = _reviews(tmp_path / "reviews.csv", "P005", "'P004")
    assert main(["reviewed", "--file", str(reviews), "--state-dir", str(state)]) == 3
    err = capsys.readouterr().err
    assert "1 row(s) hold a patient_id in a spreadsheet's form" in err and "(rows 3)" in err
    assert StateStore(state, "default").history(pd.Timestamp("2026-11-22")).reviewed.empty


def test_an_id_as_the_review_list_marks_it_is_recorded_as_listed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A night listed `-0012` and `+49P`: review_list.csv writes them `'-0012` and `'+49P` (the
    mark that keeps a spreadsheet from running them as formulas). Copied from the list into the
    review file as written, they were refused as a spreadsheet's form; now they are recorded
    as the ids listed. `'P005` (P005 listed, written plainly in the list) is still refused."""
    state = tmp_path / "state"
    _state_listing(state, "-0012", "+49P", "P005")
    reviews = _reviews(tmp_path / "reviews.csv", "'-0012", "'+49P")
    assert main(["reviewed", "--file", str(reviews), "--state-dir", str(state)]) == 0
    assert "recorded 2 new review(s) of 2 patient(s)" in capsys.readouterr().err
    reviewed = StateStore(state, "default").history(pd.Timestamp("2026-11-22")).reviewed
    assert sorted(reviewed["patient_id"]) == ["+49P", "-0012"]
    plain = _reviews(tmp_path / "plain.csv", "'P005")
    assert main(["reviewed", "--file", str(plain), "--state-dir", str(state)]) == 3
    assert "1 row(s) hold a patient_id in a spreadsheet's form" in capsys.readouterr().err
