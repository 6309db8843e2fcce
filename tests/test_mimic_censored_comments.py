"""`--source mimic`: censored results MIMIC-IV keeps only in `comments`, written as a sentence
ending with a period ('<20.', 'GREATER THAN 500.'), after a decimal as after a whole number."""

from __future__ import annotations

import shutil
from pathlib import Path

from hyposcreen.adapters import mimic
from hyposcreen.clean import clean_labs, lab_row_filter
from hyposcreen.config import SiteMapping, parse_window
from hyposcreen.rules.loader import load_rules

FIXTURE = Path(__file__).resolve().parent / "data" / "mimic"
RULES = load_rules()
WINDOW = parse_window("2150-03-10", "2150-03-11")


def test_a_censored_decimal_in_comments_ending_its_sentence_is_read_as_censored(
    tmp_path: Path,
) -> None:
    """'LESS THAN 0.5.' and '<=125.5.', '<.5.' are censored results (0.5 and 125.5), not non-numeric
    rows (a sodium of 125.5 or less left off the list); '<20.' still reads 20."""
    folder = tmp_path / "mimic"
    shutil.copytree(FIXTURE, folder)
    times = "2150-03-10 09:00:00,2150-03-10 09:30:00"
    extra = [
        f"904,10009,,79004,50971,,{times},,,mEq/L,,,,,LESS THAN 0.5.",
        f"905,10009,,79005,50983,,{times},,,mEq/L,,,,,<=125.5.",
        f"906,10009,,79006,51100,,{times},,,mEq/L,,,,,<20.",
        f"907,10009,,79007,50971,,{times},,,mEq/L,,,,,<.5.",
    ]
    with (folder / "hosp" / "labevents.csv").open("a", encoding="utf-8") as handle:
        handle.write("\n".join(extra) + "\n")
    labs = mimic.read_table(
        folder, "labs", SiteMapping(), RULES, WINDOW, lab_row_filter(RULES, WINDOW)
    ).frame
    labs = labs.loc[labs["patient_id"] == "10009"]
    cleaned = clean_labs(labs, RULES).set_index("specimen_id")
    read = {s: (cleaned.loc[s, "value_num"], cleaned.loc[s, "censored"]) for s in cleaned.index}
    assert read["79004"] == (0.5, "<")
    assert read["79005"] == (125.5, "<=")
    assert read["79006"] == (20.0, "<")
    assert read["79007"] == (0.5, "<")
