"""A LOINC written with another dash than the hyphen (`2951–2` with an en dash, `2951‑2` with a
non-breaking hyphen, as word processors and spreadsheets write it) is the same code: the lab
row is identified by it (rules.lab_identity) and the readers' early drop of unknown LOINC
(ingest.row_filter.prefilter_loinc) keeps it; the row keeps its text as read (rules.loinc_text)."""

from __future__ import annotations

import csv
import shutil
from collections import Counter
from pathlib import Path

import pandas as pd
import pyarrow as pa

from hyposcreen.cli import main
from hyposcreen.ingest.row_filter import prefilter_loinc
from hyposcreen.rules.lab_identity import identify_rows
from hyposcreen.rules.loader import load_rules
from hyposcreen.rules.loinc_text import loinc_key, with_plain_dashes

RULES = load_rules()
SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
DAY = "2026-11-20"
# en dash, non-breaking hyphen, minus sign, full-width hyphen-minus, em dash with spaces around
DASHED = ["2951\u20132", "2951\u20112", "2951\u22122", "2951\uff0d2", " 2951\u20142 "]


def test_a_loinc_with_any_dash_is_the_code_with_a_hyphen() -> None:
    assert [loinc_key(code) for code in DASHED] == ["2951-2"] * 5
    assert loinc_key("  ") is None
    assert loinc_key("2951_2") == "2951_2"  # an underscore is no dash


def test_lab_rows_with_dashed_loinc_codes_are_sodium() -> None:
    frame = pd.DataFrame(
        {
            "loinc": pd.Series([*DASHED, "2951-2", "2951_2"], dtype="str"),
            "lab_name": pd.Series(["Na"] * 7, dtype="str"),
            "specimen_type": pd.Series(["Serum"] * 7, dtype="str"),
        }
    )
    found = identify_rows(frame, RULES)
    assert list(found.analyte[found.combo]) == ["sodium"] * 6 + [None]
    assert list(found.reason[found.combo]) == [None] * 6 + ["unknown_loinc"]
    assert found.loinc[found.combo[0]] == "2951\u20132"  # the text as read


def test_the_early_drop_keeps_dashed_known_codes_and_counts_the_unknown_as_written() -> None:
    codes = ["2951\u20132", "718-7", None, "", "2951\u20112", "718\u20137"]
    batch = pa.record_batch({"code": pa.array(codes, pa.string()), "row": list(range(6))})
    unrecognised: Counter[tuple[str, str]] = Counter()
    kept, dropped = prefilter_loinc(batch, "code", frozenset(RULES.loinc_to_analyte), unrecognised)
    assert kept.column("row").to_pylist() == [0, 2, 3, 4]
    assert dropped == 2
    assert unrecognised == Counter({("loinc", "718-7"): 1, ("loinc", "718\u20137"): 1})


def test_a_loinc_read_as_a_dictionary_is_judged_and_counted_as_plain_text() -> None:
    """A Parquet LOINC column comes as a dictionary of its codes: the same rows are kept (its
    text as read, no longer a dictionary), the same dropped codes counted, in the same order."""
    codes = [" 718-7", "2951\u20132", "718-7 ", None, "", "1234-5", "2951-2", "718-7"]
    plain = pa.record_batch({"code": pa.array(codes, pa.string()), "row": list(range(8))})
    coded = pa.record_batch({"code": plain.column("code").dictionary_encode(), "row": plain[1]})
    keep = frozenset(RULES.loinc_to_analyte)
    counted: list[Counter[tuple[str, str]]] = [Counter(), Counter()]
    kept_plain, dropped_plain = prefilter_loinc(plain, "code", keep, counted[0])
    kept_coded, dropped_coded = prefilter_loinc(coded, "code", keep, counted[1])
    assert kept_coded.equals(kept_plain)  # rows 1, 3, 4, 6; the code column plain text
    assert kept_plain.column("row").to_pylist() == [1, 3, 4, 6]
    assert dropped_coded == dropped_plain == 4
    # " 718-7", "718-7 " and "718-7" are one trimmed code, counted 3 times, first seen first
    assert list(counted[1].items()) == list(counted[0].items())
    assert counted[1] == Counter({("loinc", "718-7"): 3, ("loinc", "1234-5"): 1})


def test_ascii_codes_are_returned_as_they_are() -> None:
    codes = pa.array(["2951-2", None, "718-7"], pa.string())
    assert with_plain_dashes(codes) is codes
    assert with_plain_dashes(pa.array(["2951\u20132", None], pa.string())).to_pylist() == [
        "2951-2",
        None,
    ]


def test_severe_sodium_written_with_dashed_codes_is_listed(tmp_path: Path) -> None:
    folder = tmp_path / "delivery"
    shutil.copytree(SAMPLE, folder)
    with (folder / "labs.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    dashes = {"P006": "2951\u20132", "P043": "2951\u20112"}  # their index sodium (§ sample)
    for row in rows[1:]:
        if row[0] in dashes and row[5] == "2951-2":
            row[5] = dashes[row[0]]
    with (folder / "labs.csv").open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    out = tmp_path / "out"
    status = main(
        ["run", "--no-flow", "--input", str(folder), "--out", str(out), "--window-start", DAY]
    )
    assert status == 0
    listed = pd.read_csv(out / DAY / "review_list.csv", dtype=str).set_index("patient_id")
    # the sample's hand-computed list: P043 severe at 104.0, P006 severe at 119.9
    assert listed.loc["P043", ["index_sodium", "severity"]].tolist() == ["104.0", "severe"]
    assert listed.loc["P006", ["index_sodium", "severity"]].tolist() == ["119.9", "severe"]
    assert len(listed) == 35
