"""`hyposcreen audit` warns as a run does (exit 4): a month whose extract writes its units, its
results or its LOINC codes so that rows are lost gives a low QI count, and must say so.

Each month is judged for the warnings a run of it would give (recipe_warnings.run_warnings):
they are listed with their month under `warnings` in audit_manifest.json and at the top of
audit.html, printed on stderr, and the command exits 4; counts and `file:row` only. The
sample's November, screened whole, warns of nothing. Real CLI, copies of the sample.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.audit_warning_text import count_withheld, shared_message, small_count
from hyposcreen.cli import main
from sample_delivery import SAMPLE, screen


def audit(folder: Path) -> tuple[int, dict, str]:
    """Exit status, audit_manifest.json and audit.html of auditing November 2026."""
    out = folder.parent / f"{folder.name}_audit"
    period = ["--start", "2026-11-01", "--end", "2026-12-01", "--out", str(out)]
    status = main(["audit", "--input", str(folder), *period])
    manifest = json.loads((out / "audit_manifest.json").read_text("utf-8"))
    return status, manifest, (out / "audit.html").read_text("utf-8")


def rewritten(
    tmp_path: Path, column: str, value: str | None = None, first: int | None = None
) -> tuple[Path, set[str]]:
    """A copy of the sample whose 2951-2 sodium rows (the `first` of them only, when given)
    have `column` rewritten: `value`, or (value_raw) the number with the laboratory's low flag
    after it; and the texts written."""
    folder = Path(shutil.copytree(SAMPLE, tmp_path / "delivery"))
    frame = pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False)
    sodium = frame["loinc"] == "2951-2"
    if first is not None:
        sodium &= sodium.cumsum() <= first
    frame.loc[sodium, column] = value if value is not None else frame.loc[sodium, column] + " L"
    frame.to_csv(folder / "labs.csv", index=False)
    return folder, set(frame.loc[sodium, column])


def test_the_sample_s_month_warns_of_nothing(tmp_path: Path) -> None:
    status, manifest, html = audit(Path(shutil.copytree(SAMPLE, tmp_path / "sample")))
    assert status == 0
    assert manifest["warnings"] == []
    assert "audit-warnings" not in html
    # the read's few rows breaking a warning contract (1 implausible sodium, 7 non-numeric
    # values …) are counted as the tables count: below 11, `<11`
    failed = manifest["contracts"]["failed"]
    assert len(failed) == 5 and {f["unexpected_count"] for f in failed} == {"<11"}


@pytest.mark.parametrize(
    ("column", "value", "first", "code"),
    [("unit", "mval/l", None, "unknown_units"), ("value_raw", None, 3, "result_flags")],
    ids=["unknown_units", "result_flags"],
)
def test_a_month_losing_its_sodium_results_warns(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    column: str,
    value: str | None,
    first: int | None,
    code: str,
) -> None:
    # every sodium result in a unit the rules do not know; three flagged `135 L` (a few: all
    # of them flagged are non-numeric sodium a run's data contract stops on, below)
    folder, written = rewritten(tmp_path, column, value, first)
    status, manifest, html = audit(folder)
    assert status == 4
    (found,) = [w for w in manifest["warnings"] if w["code"] == code]
    assert found["period"] == "2026-11"
    assert found["message"].startswith("[2026-11] ")
    if first is None:  # counts of at least 11 and `file:row`, never a value
        assert "labs.csv:2" in found["message"]
    else:  # three flagged results: a count the tables would suppress, so not told
        assert found["message"] == f"[2026-11] {shared_message(code, '3 rows', 11)}"
        assert "labs.csv:" not in found["message"] and "`hyposcreen run`" in found["message"]
    told = json.dumps(manifest["warnings"])
    assert written and not [text for text in written if text in told]
    assert "audit-warnings" in html
    # the run's message may point to quarantine.csv, which only a run writes: the page says so
    assert "<code>hyposcreen run</code> over that month writes it" in html
    assert f"hyposcreen: warning: {found['message']}" in capsys.readouterr().err


def test_a_delivery_whose_sodium_results_are_all_flagged_stops_the_audit_as_a_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # every sodium result written `135 L`: no sodium reads as a number, the run's critical data
    # contract (non-numeric sodium above the broken share) stops the night, and the audit alike
    folder, written = rewritten(tmp_path, "value_raw")
    out = tmp_path / "audit"
    period = ["--start", "2026-11-01", "--end", "2026-12-01", "--out", str(out)]
    status = main(["audit", "--input", str(folder), *period])
    err = capsys.readouterr().err
    assert status == 3, err
    stop = "hyposcreen: error: The input failed 1 critical data check(s): labs: share of "
    assert f"{stop}non-numeric sodium values above 5%: 95.2%. Examples: labs.csv:2;" in err, err
    assert not (out / "audit_manifest.json").exists()
    assert not [text for text in written if text in err]
    run_status, _ = screen(folder)
    assert run_status == 3
    assert stop in capsys.readouterr().err


def test_the_contracts_outcome_is_in_the_manifest_and_a_demoted_breach_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 8 sodium results flagged: with the sample's own 5 non-numeric ones 13 of the read's 124
    # (10.5 %), above the 5 % non-numeric contract, far below a broken delivery: a run warns
    # contract_non_numeric_rate, so does the audit,
    # judged once over the read October and November share (the period, `total`), and for
    # November, which holds them all (123 sodium rows: 10.6 %; October has none, not judged)
    folder, _ = rewritten(tmp_path, "value_raw", first=8)
    out = tmp_path / "audit"
    period = ["--start", "2026-10-01", "--end", "2026-12-01", "--out", str(out)]
    status = main(["audit", "--input", str(folder), *period])
    manifest = json.loads((out / "audit_manifest.json").read_text("utf-8"))
    assert status == 4
    found, november = [w for w in manifest["warnings"] if w["code"] == "contract_non_numeric_rate"]
    assert found["period"] == "total"
    assert november["period"] == "2026-11"
    assert november["message"].startswith(
        "[2026-11] data contract breached by the rows of this month, judged month by month: labs: "
        "share of non-numeric sodium values above 5%: 10.6% of 123 row(s); "
    )
    assert found["message"].startswith(
        "[total] data contract breached but not stopping the audit: labs: share of non-numeric "
        "sodium values above 5%: 10.5% (below the 50% that means a broken delivery)"
    )
    # the audit writes no quarantine.csv: its warning does not send the reader to one
    assert found["message"].endswith("the rows are set aside, as a run quarantines them.")
    contracts = manifest["contracts"]
    assert contracts["passed"] is True and contracts["reads"] == 1
    assert {
        "period": "total",  # the months of one shared read
        "table": "labs",
        "expectation": "expect_column_values_to_be_in_set",
        "column": "sodium_non_numeric",
        "severity": "warning",
        "reason": "non_numeric_rate",
        "unexpected_count": 13,
    } in contracts["failed"]
    run_status, night = screen(folder)
    assert run_status == 4
    run = json.loads((night / "run_manifest.json").read_text("utf-8"))
    assert "contract_non_numeric_rate" in [w["code"] for w in run["warnings"]]


def test_a_month_s_warnings_do_not_give_back_a_count_the_tables_suppress(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the sample plus an October of three low sodium results in a unit the rules do not know
    # (`mmol`): a run of October says `3 sodium row(s) dated in it` (its
    # sodium_results_in_window, which the tables suppress) and `3 sodium result(s) at or below
    # 135 were set aside (…; e.g. labs.csv:173, …)`; the audit's shared outputs say neither
    folder = Path(shutil.copytree(SAMPLE, tmp_path / "delivery"))
    frame = pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False)
    october = frame.loc[frame["loinc"] == "2951-2"].head(3).copy()
    october["specimen_time"] = ["2026-10-10T06:00:00", "2026-10-11T06:00:00", "2026-10-12T06:00"]
    october["result_time"] = october["specimen_time"]
    october["value_raw"], october["unit"] = ["125", "128", "129"], "mmol"
    october["specimen_id"] = ["SX1", "SX2", "SX3"]
    pd.concat([frame, october]).to_csv(folder / "labs.csv", index=False)
    out = tmp_path / "audit"
    period = ["--start", "2026-10-01", "--end", "2026-12-01", "--out", str(out)]
    assert main(["audit", "--input", str(folder), *period]) == 4
    err = capsys.readouterr().err
    manifest = json.loads((out / "audit_manifest.json").read_text("utf-8"))
    (cell,) = [
        row
        for row in manifest["tables"]
        if (row["period"], row["measure"]) == ("2026-10", "sodium_results_in_window")
    ]
    assert cell["suppressed"] == "primary"
    found = {w["code"]: w["message"] for w in manifest["warnings"] if w["period"] == "2026-10"}
    assert set(found) == {"no_usable_sodium", "quarantined_low_sodiums"}
    for code, message in found.items():
        assert message == f"[2026-10] {shared_message(code, '3 rows', 11)}"
        assert f"hyposcreen: warning: {message}" in err
    html = (out / "audit.html").read_text("utf-8")
    for told in (json.dumps(manifest), html):
        assert "3 sodium" not in told and "labs.csv:" not in told


@pytest.mark.parametrize(
    ("message", "small"),
    [
        ("no usable sodium (3 sodium row(s) dated in it)", True),
        ("set aside (bad_unit 2; e.g. labs.csv:40)", True),
        ("3 of 40 rows", True),
        ("20 of 21 lab row(s) (95%) carry a unit …: they are quarantined bad_unit", True),
        ("159 of 169 FHIR Observation row(s) (94%) have an effective time", False),  # read
        ("LOINC 2951-2, E87.1, ICD-10, 2026-10-05 05:00, 5%, 1.6, labs.csv:4", False),
        ("0 sodium row(s), 123 of 140 row(s), fewer than 20", False),
    ],
)
def test_a_small_count_is_a_number_standing_alone(message: str, small: bool) -> None:
    assert small_count(message, 11) is small


def test_an_input_part_of_a_few_rows_is_listed_without_its_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # labs delivered as parts, the last one October's 3 sodium rows: audit_manifest.json lists
    # every part with its sha256, a part of fewer than 11 rows without its rows, bytes or
    # sha256 (the digest of 3 rows confirms whoever guesses them)
    folder = Path(shutil.copytree(SAMPLE, tmp_path / "delivery"))
    frame = pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False)
    (folder / "labs.csv").unlink()
    (folder / "labs").mkdir()
    frame.to_csv(folder / "labs" / "part-1.csv", index=False)
    frame.head(3).assign(specimen_time="2026-10-10T06:00:00").to_csv(
        folder / "labs" / "part-2.csv", index=False
    )
    out = tmp_path / "audit"
    period = ["--start", "2026-10-01", "--end", "2026-12-01", "--out", str(out)]
    assert main(["audit", "--input", str(folder), *period]) in (0, 4)
    capsys.readouterr()
    manifest = json.loads((out / "audit_manifest.json").read_text("utf-8"))
    whole, part = manifest["inputs"]["labs"]
    assert whole["rows"] == len(frame) and whole["bytes"] > 0
    assert part["file"] == "labs file 2" and part["rows"] == "<11"
    assert "bytes" not in part and "sha256" not in part and len(whole["sha256"]) == 64


def test_a_month_s_warning_does_not_tell_the_few_rows_its_share_leaves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the sample plus a December of 21 sodium results, 20 of them in a unit the rules do not
    # know (`mmol`): 1 usable result, `<11` in the tables. A run of December says `20 of 21 lab
    # row(s) (95%) carry a unit the rules do not accept`: usable results at most 21 - 20 = 1
    folder = Path(shutil.copytree(SAMPLE, tmp_path / "delivery"))
    frame = pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False)
    december = pd.concat([frame.loc[frame["loinc"] == "2951-2"].head(1)] * 21, ignore_index=True)
    december["specimen_time"] = [f"2026-12-{1 + i:02d}T06:00:00" for i in range(21)]
    december["result_time"] = december["specimen_time"]
    december["specimen_id"] = [f"SD{i}" for i in range(21)]
    december["value_raw"] = "140"
    december.loc[:19, "unit"] = "mmol"
    pd.concat([frame, december]).to_csv(folder / "labs.csv", index=False)
    out = tmp_path / "audit"
    period = ["--start", "2026-11-01", "--end", "2027-01-01", "--out", str(out)]
    assert main(["audit", "--input", str(folder), *period]) == 4
    err = capsys.readouterr().err
    manifest = json.loads((out / "audit_manifest.json").read_text("utf-8"))
    steps = {
        row["measure"]: row
        for row in manifest["tables"]
        if row["period"] == "2026-12" and row["table"] == "attrition"
    }
    assert steps["sodium_results_in_window"]["value"] == 21
    assert steps["usable_results"]["suppressed"] == "primary"
    found = {w["code"]: w["message"] for w in manifest["warnings"] if w["period"] == "2026-12"}
    assert found["unknown_units"] == f"[2026-12] {count_withheld('unknown_units', 11)}"
    for told in (json.dumps(manifest), (out / "audit.html").read_text("utf-8"), err):
        assert "20 of 21" not in told
