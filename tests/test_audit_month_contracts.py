"""`hyposcreen audit` judges the share contracts month by month: one broken month of a longer
period is named (exit 4) though the whole period stays under the contract's limit.

Real CLI on real CSV extracts of three months (January to March 2026, one sodium result per
patient and day): a March whose sodium results are 40 % non-numeric (`HEMOLYZED`), or whose
lab rows are 40 % exact duplicates, is diluted below the 5 % and 20 % limits over the quarter;
the audit names March alone, in stderr, audit_manifest.json and audit.html, counts only.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

import pandas as pd
import pytest

from hyposcreen.audit import AuditSettings, run_audit
from hyposcreen.audit_warning_text import count_withheld
from hyposcreen.cli import main

MONTHS = ("2026-01", "2026-02", "2026-03")
PATIENTS = 40
HIDDEN = "HEMOLYZED"
START, END = pd.Timestamp("2026-01-01"), pd.Timestamp("2026-04-01")


def extract(
    folder: Path, sizes: dict[str, int], hidden: int = 0, repeated: int = 0
) -> Path:  # fmt: skip
    """Three months of sodium results (`sizes`: rows per month); March's first `hidden` written
    HIDDEN, its last `repeated` written twice (exact duplicates)."""
    folder.mkdir(parents=True)
    rows = []
    for month, size in sizes.items():
        start = pd.Timestamp(f"{month}-01")
        written = []
        for i in range(size):
            time = start + pd.Timedelta(days=1 + i // PATIENTS, hours=6, minutes=i % PATIENTS)
            patient = f"P{i % PATIENTS + 1:03d}"
            value = "131" if i % 13 == 0 else "140"
            if month == MONTHS[-1] and i < hidden:
                value = HIDDEN
            written.append(
                {
                    "patient_id": patient,
                    "encounter_id": f"E{patient[1:]}",
                    "specimen_id": f"S{month[-2:]}{i:04d}",
                    "specimen_time": time.isoformat(),
                    "result_time": (time + pd.Timedelta(hours=1)).isoformat(),
                    "loinc": "2951-2",
                    "lab_name": "Sodium",
                    "value_raw": value,
                    "unit": "mmol/L",
                    "status": "final",
                    "specimen_type": "Serum",
                }
            )
        if month == MONTHS[-1] and repeated:
            written += written[-repeated:]
        rows += written
    pd.DataFrame(rows).to_csv(folder / "labs.csv", index=False)
    patients = [f"P{k:03d}" for k in range(1, PATIENTS + 1)]
    pd.DataFrame({"patient_id": patients, "birth_date": "1950-01-01", "sex": "F"}).to_csv(
        folder / "patients.csv", index=False
    )
    medication = "P001,E001,Furosemide 40mg tab,,,2025-05-12T09:00:00,,active,oral\n"
    (folder / "medications.csv").write_text(
        "patient_id,encounter_id,drug_name,rxnorm,atc,start_time,end_time,status,route\n"
        + medication
    )
    (folder / "diagnoses.csv").write_text(
        "patient_id,encounter_id,code,code_system,recorded_time,status,description\n"
        "P002,E002,I50.9,ICD-10-CM,2024-02-01T10:00:00,active,Heart failure\n"
    )
    return folder


def audit(folder: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict, str, str]:
    """Exit status, audit_manifest.json, audit.html and stderr of auditing the quarter."""
    out = folder.parent / "audit"
    status = main(
        ["audit", "--input", str(folder), "--start", "2026-01-01", "--end", "2026-04-01",
         "--out", str(out)]
    )  # fmt: skip
    manifest = json.loads((out / "audit_manifest.json").read_text("utf-8"))
    return status, manifest, (out / "audit.html").read_text("utf-8"), capsys.readouterr().err


@pytest.mark.parametrize(
    ("sizes", "hidden", "repeated", "reason", "column", "told"),
    [
        # March: 12 of its 30 sodium results non-numeric (40 %); the quarter: 12 of 330 (3.6 %)
        (
            {"2026-01": 150, "2026-02": 150, "2026-03": 30}, 12, 0, "non_numeric_rate",
            "sodium_non_numeric", "share of non-numeric sodium values above 5%: 40.0% of 30 row(s)",
        ),
        # March: 40 of its 100 lab rows repeat a row exactly (40 %); the quarter: 40 of 300
        (
            {"2026-01": 100, "2026-02": 100, "2026-03": 60}, 0, 40, "duplicate_rate",
            "duplicate_flag", "share of exact duplicate rows above 20%: 40.0% of 100 row(s)",
        ),
    ],
    ids=["non_numeric_sodium", "duplicates"],
)  # fmt: skip
def test_one_broken_month_diluted_over_the_period_is_named(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    sizes: dict[str, int],
    hidden: int,
    repeated: int,
    reason: str,
    column: str,
    told: str,
) -> None:
    folder = extract(tmp_path / "delivery", sizes, hidden, repeated)
    status, manifest, html, err = audit(folder, capsys)
    assert status == 4, err
    # the whole period passes its contracts: no `[total]` warning, no failed share contract
    assert not [f for f in manifest["contracts"]["failed"] if f["reason"].endswith("_rate")]
    (found,) = manifest["warnings"]
    assert found["code"] == f"contract_{reason}" and found["period"] == "2026-03"
    assert found["message"] == (
        "[2026-03] data contract breached by the rows of this month, judged month by month: labs: "
        f"{told}; the rows are set aside, as a run quarantines them."
    )
    assert f"hyposcreen: warning: {found['message']}" in err
    assert "2026-01]" not in err and "2026-02]" not in err
    assert found["message"] in html and "audit-warnings" in html
    by_month = manifest["contracts"]["by_month"]
    rows = sizes["2026-03"] + repeated
    assert by_month["breached"] == [
        {
            "period": "2026-03",
            "table": "labs",
            "reason": reason,
            "column": column,
            "unexpected_count": hidden or repeated,
            "rows_judged": rows,
        }
    ]
    assert by_month["min_rows"] == 20 and by_month["months"] == 3
    assert by_month["not_judged"] == []
    # counts only: no value, patient or specimen id of the extract
    told_out = json.dumps(manifest) + err
    for text in (HIDDEN, "P001", "P040", "S030000", "E001"):
        assert text not in told_out


def test_a_clean_quarter_is_quiet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = extract(tmp_path / "delivery", dict.fromkeys(MONTHS, 100))
    status, manifest, html, err = audit(folder, capsys)
    assert status == 0, err
    assert manifest["warnings"] == [] and "warning" not in err
    assert "audit-warnings" not in html
    by_month = manifest["contracts"]["by_month"]
    assert (by_month["months"], by_month["breached"], by_month["not_judged"]) == (3, [], [])


def test_a_month_of_few_rows_over_a_limit_warns_as_a_run_of_it_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # March: 3 of its 10 sodium results non-numeric (30 %), on fewer than contracts:
    # min_rows_to_judge (20) rows; the quarter: 3 of 210. A run of March warns (its breach
    # demoted, never a broken delivery's), and so does the audit reading March for itself:
    # the audit sharing one read names March too, not calling it broken
    folder = extract(tmp_path / "delivery", {"2026-01": 100, "2026-02": 100, "2026-03": 10}, 3)
    status, manifest, _, err = audit(folder, capsys)
    assert status == 4, err
    (found,) = manifest["warnings"]
    assert found["period"] == "2026-03" and found["code"] == "contract_non_numeric_rate"
    assert "broken delivery" not in found["message"]
    alone = run_audit(AuditSettings(folder, tmp_path / "alone", START, END), share_read=False)
    assert [(w["period"], w["code"]) for w in alone.manifest["warnings"]] == [
        ("2026-03", "contract_non_numeric_rate")
    ]


def test_a_month_s_share_does_not_give_back_a_count_the_tables_suppress(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # March's 10 sodium results are its `sodium_results_in_window`, which the tables suppress
    # (`<11`), and its 3 non-numeric ones results its funnel loses: neither count, nor the
    # share that gives them back (30.0% of 10), is in the warning or the manifest
    folder = extract(tmp_path / "delivery", {"2026-01": 100, "2026-02": 100, "2026-03": 10}, 3)
    status, manifest, html, err = audit(folder, capsys)
    assert status == 4, err
    (cell,) = [
        row
        for row in manifest["tables"]
        if (row["period"], row["measure"]) == ("2026-03", "sodium_results_in_window")
    ]
    assert cell["suppressed"] == "primary" and cell["value"] is None
    (found,) = manifest["warnings"]
    assert found["message"] == (
        "[2026-03] data contract breached by the rows of this month, judged month by month: "
        "labs: share of non-numeric sodium values above 5%: over the limit on <11 row(s) "
        "(judged on <11 row(s), fewer than 20); the rows are set aside, as a run quarantines "
        "them."
    )
    assert escape(found["message"], quote=False) in html
    assert f"hyposcreen: warning: {found['message']}" in err
    for told in (html, err, json.dumps(manifest)):
        assert "30.0%" not in told and " 10 row(s)" not in told and " 3 row(s)" not in told
    assert manifest["contracts"]["by_month"]["breached"] == [
        {
            "period": "2026-03",
            "table": "labs",
            "reason": "non_numeric_rate",
            "column": "sodium_non_numeric",
            "unexpected_count": "<11",
            "rows_judged": "<11",
        }
    ]
    # 25 rows are shown; 3 of them breaking the contract are not, nor is their share
    folder = extract(tmp_path / "more", {"2026-01": 100, "2026-02": 100, "2026-03": 25}, 3)
    status, manifest, _, err = audit(folder, capsys)
    (found,) = manifest["warnings"]
    assert "above 5%: over the limit on 25 row(s); the rows" in found["message"]
    (breached,) = manifest["contracts"]["by_month"]["breached"]
    assert (breached["unexpected_count"], breached["rows_judged"]) == ("<11", 25)
    # the period's 3 of 50 (6.0 %) breach the contract over the whole read too: neither the
    # count nor its share of the read's rows is told
    folder = extract(tmp_path / "few", {"2026-01": 20, "2026-02": 20, "2026-03": 10}, 3)
    status, manifest, _, err = audit(folder, capsys)
    total = [w for w in manifest["warnings"] if w["period"] == "total"]
    assert [w["code"] for w in total] == ["contract_non_numeric_rate"]
    assert total[0]["message"] == "[total] " + count_withheld("contract_non_numeric_rate", 11)
    assert "6.0%" not in json.dumps(manifest) and "6.0%" not in err


def test_a_month_at_a_broken_delivery_s_share_warns_and_the_period_warns_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # March: 24 of 40 sodium results non-numeric (60 %, a broken delivery's share, at which a
    # run stops); the quarter: 24 of 240 (10 %), over the limit, below a broken share:
    # the audit is not stopped, it warns for the period and names March
    folder = extract(tmp_path / "delivery", {"2026-01": 100, "2026-02": 100, "2026-03": 40}, 24)
    status, manifest, _, err = audit(folder, capsys)
    assert status == 4, err
    total, march = manifest["warnings"]
    assert total["period"] == "total" and total["code"] == "contract_non_numeric_rate"
    assert march["period"] == "2026-03" and march["code"] == "contract_non_numeric_rate"
    broken = "at least the 50% that means a broken delivery, at which a run stops; "
    assert f"above 5%: 60.0% of 40 row(s); {broken}" in march["message"]


def test_a_month_s_counts_are_what_great_expectations_finds_in_the_month_read_alone(
    tmp_path: Path,
) -> None:
    # the months read one by one (share_read=False): March's contracts are GX's over March's
    # own read; the shared read's count for March gives the same rows and the same share
    folder = extract(tmp_path / "delivery", {"2026-01": 150, "2026-02": 150, "2026-03": 30}, 12)
    shared = run_audit(AuditSettings(folder, tmp_path / "shared", START, END))
    alone = run_audit(AuditSettings(folder, tmp_path / "alone", START, END), share_read=False)
    (counted,) = shared.manifest["contracts"]["by_month"]["breached"]
    (judged,) = [f for f in alone.manifest["contracts"]["failed"] if f["reason"].endswith("_rate")]
    assert alone.manifest["contracts"]["by_month"]["months"] == 0  # each read one month: GX's
    assert (judged["column"], judged["unexpected_count"]) == ("sodium_non_numeric", 12)
    assert judged["period"] == "2026-03"  # March's own read: the manifest says which
    assert (counted["column"], counted["unexpected_count"]) == (judged["column"], 12)
    (gx_warning,) = alone.manifest["warnings"]
    (count_warning,) = shared.manifest["warnings"]
    assert gx_warning["period"] == count_warning["period"] == "2026-03"
    assert "above 5%: 40.0% (" in gx_warning["message"]
    assert "above 5%: 40.0% of 30 row(s)" in count_warning["message"]


def test_the_months_warnings_come_in_the_months_order() -> None:
    # the shares come contract by contract (duplicates over every month, then non-numeric
    # sodium): February's duplicates and January's non-numeric sodium warn January first
    from hyposcreen.audit_month_contracts import MonthShare, month_warnings

    def share(period: str, reason: str) -> MonthShare:
        return MonthShare(period, reason, "c", "d", 40, 20, True, True, False)

    shares = [share("2026-02", "duplicate_rate"), share("2026-01", "non_numeric_rate")]
    found = month_warnings(shares, (20, 0.5), "set aside")
    assert [(label, w.code) for w, label in found] == [
        ("2026-01", "contract_non_numeric_rate"),
        ("2026-02", "contract_duplicate_rate"),
    ]


def test_a_month_s_rows_are_not_told_when_the_tables_hide_its_sodium_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # January's 5 sodium results are `<11`; the tables hide March's 120 (complementary) so
    # that the quarter's shown 255 does not give January back; March's 13 non-numeric results
    # break the contract: its warning and the manifest do not say its 120 rows
    folder = extract(tmp_path / "delivery", {"2026-01": 5, "2026-02": 130, "2026-03": 120}, 13)
    status, manifest, html, err = audit(folder, capsys)
    assert status == 4, err
    sodium = {
        row["period"]: row
        for row in manifest["tables"]
        if row["measure"] == "sodium_results_in_window"
    }
    assert sodium["total"]["value"] == 255 and sodium["2026-02"]["value"] == 130
    assert sodium["2026-03"]["suppressed"] == "complementary"
    (march,) = [w for w in manifest["warnings"] if w["period"] == "2026-03"]
    assert "above 5%: over the limit on hidden row(s); the rows" in march["message"]
    for told in (json.dumps(manifest["warnings"]), html, err):
        assert "120 row" not in told and "10.8%" not in told
    (breached,) = manifest["contracts"]["by_month"]["breached"]
    assert (breached["unexpected_count"], breached["rows_judged"]) == (13, "hidden")


def test_a_month_s_warning_does_not_tell_a_count_the_tables_hide(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # January's 5 sodium results are `<11`; the tables hide March's 120 (complementary), all in
    # a unit the rules do not know: a run of March says `120 sodium row(s) dated in it`,
    # which with the quarter's shown 255 and February's 130 gives January back
    folder = extract(tmp_path / "delivery", {"2026-01": 5, "2026-02": 130, "2026-03": 120})
    labs = pd.read_csv(folder / "labs.csv", dtype=str, keep_default_na=False)
    labs.loc[labs["specimen_time"].str.startswith("2026-03"), "unit"] = "mmol"
    labs.to_csv(folder / "labs.csv", index=False)
    status, manifest, html, err = audit(folder, capsys)
    assert status == 4, err
    sodium = {
        row["period"]: row
        for row in manifest["tables"]
        if row["measure"] == "sodium_results_in_window"
    }
    assert sodium["2026-03"]["suppressed"] == "complementary"
    assert sodium["total"]["value"] == 255 and sodium["2026-02"]["value"] == 130
    march = {w["code"]: w["message"] for w in manifest["warnings"] if w["period"] == "2026-03"}
    assert march["no_usable_sodium"] == "[2026-03] " + count_withheld("no_usable_sodium", 11)
    for told in (json.dumps(manifest["warnings"]), html, err):
        assert "120 sodium" not in told and "120 row" not in told


def test_a_month_s_warning_does_not_tell_the_few_rows_keeping_the_contract(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # March: 21 sodium results (shown), 20 written HEMOLYZED: 1 usable result, `<11` in the
    # tables. `95.2% of 21 row(s)` (and 20 breaking rows in the manifest) told 20 non-numeric
    # rows, so March's usable results are at most 21 - 20 = 1: exactly 1
    folder = extract(tmp_path / "delivery", {"2026-01": 150, "2026-02": 150, "2026-03": 21}, 20)
    status, manifest, html, err = audit(folder, capsys)
    assert status == 4, err
    steps = {
        row["measure"]: row
        for row in manifest["tables"]
        if row["period"] == "2026-03" and row["table"] == "attrition"
    }
    assert steps["sodium_results_in_window"]["value"] == 21
    assert steps["usable_results"]["suppressed"] == "primary"
    (march,) = [w for w in manifest["warnings"] if w["period"] == "2026-03"]
    assert "above 5%: over the limit on 21 row(s); at least the 50%" in march["message"]
    for told in (json.dumps(manifest["warnings"]), html, err):
        assert "95.2%" not in told and "20 row" not in told
    (breached,) = manifest["contracts"]["by_month"]["breached"]
    assert (breached["unexpected_count"], breached["rows_judged"]) == ("hidden", 21)
