"""LOINC codes written in a shape that is not LOINC's warn (`loinc_shapes`, exit 4).

An unknown LOINC is not relevant whatever its name says (spec §2), so a lab export writing
`LN:2951-2`, `LOINC:2951-2`, `2951 - 2` or `2951` (no check digit) loses those results. They
stay not relevant (the screening does not change); but a delivery where more than rules.yaml
`warnings: max_loinc_shape_share` (5 %) of the rows set aside as unknown_loinc hold a listed
LOINC written so, or no LOINC on a lab name the dictionary knows, warns with the counts by
shape and `file:row` examples, never a code. Each test screens a copy of the sample with the
real CLI (CSV, and Parquet read through the window pushdown).
"""

from __future__ import annotations

import itertools
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from hyposcreen.cli import main
from hyposcreen.ingest.loinc_shapes import LoincShapeCounter, LoincShapeCounts
from hyposcreen.loinc_shape_warnings import loinc_shape_warnings
from hyposcreen.rules.loader import load_rules, normalize_label
from sample_delivery import SAMPLE

DAY = "2026-11-20"
RULES = load_rules()
SHAPES: list[Callable[[str], str]] = [
    lambda code: code.split("-")[0],  # 2951
    lambda code: "LN:" + code,
    lambda code: code.replace("-", " - "),
    lambda code: "LOINC:" + code,
]


def misshapen(tmp_path: Path) -> Path:
    """A copy of the sample whose every other lab row (rows 2, 4, 6 … of labs.csv) with a
    listed LOINC has it written in one of SHAPES in turn."""
    folder = Path(shutil.copytree(SAMPLE, tmp_path / "delivery"))
    frame = pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False)
    shapes = itertools.cycle(SHAPES)
    frame["loinc"] = [
        next(shapes)(code) if code in RULES.loinc_to_analyte and row % 2 == 0 else code
        for row, code in enumerate(frame["loinc"])
    ]
    frame.to_csv(folder / "labs.csv", index=False)
    return folder


def night(folder: Path) -> tuple[int, dict]:
    out = folder.parent / f"{folder.name}_out"
    night_of = ["--out", str(out), "--window-start", DAY]
    status = main(["run", "--no-flow", "--input", str(folder), *night_of])
    return status, json.loads((out / DAY / "run_manifest.json").read_text("utf-8"))


def shape_warning(manifest: dict) -> str:
    (found,) = [w["message"] for w in manifest["warnings"] if w["code"] == "loinc_shapes"]
    return found


def test_the_rules_data_holds_the_share() -> None:
    assert RULES.warnings.max_loinc_shape_share == 0.05


def test_loinc_codes_written_another_way_warn_with_counts_and_rows_only(tmp_path: Path) -> None:
    status, manifest = night(misshapen(tmp_path))
    assert status == 4
    unknown = manifest["reconciliation"]["labs"]["reasons"]["not_relevant"]["unknown_loinc"]
    assert unknown == 85  # 84 rewritten + the sample's 99999-9: still not relevant (spec §2)
    message = shape_warning(manifest)
    # 84 rewritten codes, 21 of each shape (its prefixed ones: LN: and LOINC:); the 85th, the
    # sample's 99999-9, is a LOINC of another test and is not counted
    assert message.startswith(
        "84 of 85 lab row(s) set aside as an unknown LOINC (99%; limit 5%) hold a listed LOINC "
        "written another way or no LOINC on a known lab name: 42 with a LN: or LOINC: prefix, "
        "21 with spaces in the code, 21 without the check digit "
        "(e.g. labs.csv:2, labs.csv:4, labs.csv:6)."
    )
    assert "export LOINC codes as NNNN-N" in message and "mapped as lab_name" in message
    for code in ("2951", "2692", "LN:2", "LOINC:2"):
        assert code not in message


def test_the_sample_does_not_warn(tmp_path: Path) -> None:
    # its one unknown LOINC (99999-9 named Sodium) is a well-formed code of another test
    status, manifest = night(Path(shutil.copytree(SAMPLE, tmp_path / "sample")))
    assert status == 0
    assert manifest["reconciliation"]["labs"]["reasons"]["not_relevant"]["unknown_loinc"] == 1
    assert [w for w in manifest["warnings"] if w["code"] == "loinc_shapes"] == []


def test_local_codes_in_the_loinc_column_warn_when_their_names_are_known(tmp_path: Path) -> None:
    # the laboratory's own codes (NA, K, GLU …) exported in the LOINC column: no LOINC at all,
    # on names the lab dictionary knows (Sodium, Potassium …)
    folder = Path(shutil.copytree(SAMPLE, tmp_path / "delivery"))
    frame = pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False)
    listed = frame["loinc"].isin(set(RULES.loinc_to_analyte))
    frame.loc[listed, "loinc"] = "LAB" + frame.loc[listed, "loinc"].str.replace("-", "")
    frame.to_csv(folder / "labs.csv", index=False)
    status, manifest = night(folder)
    assert status == 4
    message = shape_warning(manifest)
    labels = frame["lab_name"].map(normalize_label)
    named = int((listed & labels.isin(set(RULES.lab_dictionary))).sum())
    assert named > 100
    assert f": {named} holding no LOINC but a lab name the lab dictionary knows (e.g." in message


def test_unknown_well_formed_loinc_codes_do_not_warn_whatever_their_name(tmp_path: Path) -> None:
    # another test's LOINC on rows named Sodium (a urine or point-of-care code the rules do not
    # list): not relevant, and no sign of an export writing codes otherwise
    folder = Path(shutil.copytree(SAMPLE, tmp_path / "delivery"))
    frame = pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False)
    frame.loc[frame.index % 2 == 0, "loinc"] = "12345-6"
    frame.to_csv(folder / "labs.csv", index=False)
    _, manifest = night(folder)
    assert manifest["reconciliation"]["labs"]["reasons"]["not_relevant"]["unknown_loinc"] > 80
    assert [w for w in manifest["warnings"] if w["code"] == "loinc_shapes"] == []


def test_parquet_row_groups_outside_the_window_are_counted_with_their_rows(
    tmp_path: Path,
) -> None:
    """A Parquet file with typed times is split by the window in Arrow (row groups wholly
    outside it are not numbered): the rows of those groups are counted and named by their
    own row numbers."""
    folder = Path(shutil.copytree(SAMPLE, tmp_path / "delivery"))
    frame = pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False)
    old = pd.DataFrame(frame.iloc[:20]).assign(specimen_time="2025-01-01T06:00:00")
    # rows 1-20 a year before the window; those of 11-20 with a code prefixed (the second
    # row group: its rows are numbered from 11)
    coded = (old["loinc"] != "") & (old.index >= 10)
    old.loc[coded, "loinc"] = "LN:" + old["loinc"]
    labs = pd.concat([old, frame], ignore_index=True)
    labs["specimen_time"] = pd.to_datetime(labs["specimen_time"], errors="coerce")
    (folder / "labs.csv").unlink()
    table = pa.Table.from_pandas(labs, preserve_index=False)
    pq.write_table(table, folder / "labs.parquet", row_group_size=10)
    status, manifest = night(folder)
    assert status == 4
    assert shape_warning(manifest).startswith(
        f"{coded.sum()} of {coded.sum() + 1} lab row(s) set aside as an unknown LOINC"
    )
    first = [n + 1 for n in range(20) if coded.iloc[n]][:3]
    assert f"(e.g. {', '.join(f'labs.parquet:{n}' for n in first)})." in shape_warning(manifest)


def test_each_shape_is_told_from_a_code_of_another_test() -> None:
    counter = LoincShapeCounter(RULES.loinc_to_analyte, RULES.lab_dictionary)
    assert [counter.shape_of(c) for c in ("LN:2951-2", "loinc: 2951-2", "LN 2951")] == [
        "prefixed"
    ] * 3
    assert [counter.shape_of(c) for c in ("2951 - 2", "2951 -2", "17861 - 6")] == ["spaced"] * 3
    assert [counter.shape_of(c) for c in ("2951", "17861")] == ["no_check_digit"] * 2
    # LOINCs of other tests, written well or not: never counted for their code
    assert [counter.shape_of(c) for c in ("12345-6", "LN:12345-6", "99999-9")] == [None] * 3
    # no LOINC at all: counted only on a known lab name
    assert [counter.shape_of(c) for c in ("NA", "12345", "２９５１")] == ["not_loinc"] * 3


def test_the_share_is_of_the_rows_set_aside_and_judged_on_enough_rows() -> None:
    limits = RULES.warnings  # 5 %, judged on at least 10 rows

    def counts(found: int, unknown: int) -> LoincShapeCounts:
        return LoincShapeCounts(unknown, (("prefixed", found),), ("labs.csv:2",))

    assert loinc_shape_warnings(counts(5, 100), limits) == []  # 5.0 %: at the limit
    assert [w.code for w in loinc_shape_warnings(counts(6, 100), limits)] == ["loinc_shapes"]
    assert loinc_shape_warnings(counts(9, 9), limits) == []  # too few rows set aside
    assert loinc_shape_warnings(None, limits) == []  # a reader that does not count
