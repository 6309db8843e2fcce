"""`hyposcreen audit`: monthly QI tables and plots, small-cell suppression, keyed pseudonyms,
and no identifiers in any audit output without the key."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from tests.helpers import run_cli

from hyposcreen.audit import AuditSettings, month_windows, run_audit
from hyposcreen.cli import main
from hyposcreen.errors import ConfigError
from hyposcreen.report.audit_counts import PeriodCounts
from hyposcreen.report.audit_measures import audit_rows
from hyposcreen.report.pseudonyms import KEY_ENV, load_key, pseudonym

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "canonical"
KEY = "9f2c4e7a1b3d5f6081a2c3e4f5061728394a5b6c7d8e9f00112233445566778a"  # 32 bytes
START, END = pd.Timestamp("2026-10-01"), pd.Timestamp("2026-12-01")


@pytest.fixture(scope="module")
def audit_input(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample plus two hyponatremia codes: P043 (a case) and P045 (normal sodium)."""
    folder = tmp_path_factory.mktemp("audit_in")
    for name in ("labs", "medications", "diagnoses", "patients"):
        shutil.copy(SAMPLE / f"{name}.csv", folder / f"{name}.csv")
    with (folder / "diagnoses.csv").open("a", encoding="utf-8") as handle:
        handle.write("P043,E043,E87.1,ICD-10-CM,2026-11-20T06:00:00,active,Hyponatremia\n")
        handle.write("P045,E045,276.1,ICD-9-CM,2026-11-20T10:00:00,active,Hyposmolality\n")
    return folder


def _audit(inputs: Path, out: Path, **overrides: object) -> Path:
    run_audit(AuditSettings(input_dir=inputs, out_dir=out, start=START, end=END, **overrides))  # type: ignore[arg-type]
    return out


@pytest.fixture(scope="module")
def no_key_out(audit_input: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(KEY_ENV, raising=False)
        return _audit(audit_input, tmp_path_factory.mktemp("audit"))


def _tables(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "audit_tables.csv", dtype=str, keep_default_na=False)


def _cell(tables: pd.DataFrame, table: str, period: str, measure: str) -> pd.Series:
    found = tables.loc[
        (tables["table"] == table) & (tables["period"] == period) & (tables["measure"] == measure)
    ]
    assert len(found) == 1, (table, period, measure)
    return found.iloc[0]


def test_periods_are_calendar_months() -> None:
    windows = month_windows(pd.Timestamp("2026-10-15"), pd.Timestamp("2026-12-02"))
    assert [(w.start.isoformat(), w.end.isoformat()) for w in windows] == [
        ("2026-10-15T00:00:00", "2026-11-01T00:00:00"),
        ("2026-11-01T00:00:00", "2026-12-01T00:00:00"),
        ("2026-12-01T00:00:00", "2026-12-02T00:00:00"),
    ]


def test_a_period_of_more_than_ten_years_is_refused_as_a_likely_typo() -> None:
    # 2016-01-01 .. 2026-01-01: 120 calendar months, the most one audit screens
    assert len(month_windows(pd.Timestamp("2016-01-01"), pd.Timestamp("2026-01-01"))) == 120
    # a day or an hour more touches a 121st month; --end 2126-12-01 (for 2026) touches 1,211
    with pytest.raises(ConfigError, match="touches 121 calendar months"):
        month_windows(pd.Timestamp("2016-01-01"), pd.Timestamp("2026-01-01 05:00"))
    with pytest.raises(ConfigError, match="touches 121 calendar months"):
        month_windows(pd.Timestamp("2016-01-01"), pd.Timestamp("2026-01-02"))
    with pytest.raises(ConfigError, match=r"touches 1211 calendar months.*is --end mistyped"):
        month_windows(pd.Timestamp("2026-01-01"), pd.Timestamp("2126-12-01"))


def test_audit_writes_report_tables_and_manifest_with_plots(no_key_out: Path) -> None:
    html = (no_key_out / "audit.html").read_text(encoding="utf-8")
    assert html.count("<svg") >= 4  # tiers, risk factors, monthly rates, attrition
    for title in ("Cases by tier", "Over-rapid correction", "Workup completeness",
                  "Time to the next sodium", "Coding gap", "Attrition"):  # fmt: skip
        assert title in html
    assert not re.search(r'href="http|src=|url\((?!#)|@import', html)  # nothing is fetched
    manifest = json.loads((no_key_out / "audit_manifest.json").read_text())
    assert manifest["periods"] == ["2026-10", "2026-11"] and manifest["min_cell_size"] == 11
    tables = _tables(no_key_out)
    assert len(manifest["tables"]) == len(tables)
    for row, (_, csv_row) in zip(manifest["tables"], tables.iterrows(), strict=True):
        assert str(row["measure"]) == csv_row["measure"]
        assert ("" if row["value"] is None else str(row["value"])) == csv_row["value"]


def test_small_cells_are_suppressed_in_tables_page_and_manifest(no_key_out: Path) -> None:
    tables = _tables(no_key_out)
    tier_1 = _cell(tables, "cases_by_tier", "2026-11", "tier_1")  # 6 urgent cases
    assert tier_1["suppressed"] == "primary" and tier_1["value"] == "" and tier_1["numerator"] == ""
    assert _cell(tables, "cases_by_tier", "2026-11", "cases")["value"] == "39"
    assert set(tables["suppressed"]) <= {"", "primary", "complementary"}
    shown = tables.loc[(tables["suppressed"] == "") & (tables["unit"] == "count")]
    small = shown["value"].map(lambda v: v != "" and 0 < int(v) < 11)
    assert not small.any(), shown.loc[small]
    assert "&lt;11" in (no_key_out / "audit.html").read_text(encoding="utf-8")
    manifest = json.loads((no_key_out / "audit_manifest.json").read_text())
    assert all(r["value"] is None for r in manifest["tables"] if r["suppressed"])


def test_complementary_suppression_hides_a_cell_recoverable_by_subtraction() -> None:
    counts = {"cases": 40, "listed": 30, "not_listed": 10, "tier_1": 3, "tier_2": 12,
              "tier_3": 15}  # fmt: skip
    measures = ("overcorrection", "workup_complete", "cases_coded", "coded_patients",
                "coded_without_low_sodium", "severe_with_next_sodium")  # fmt: skip
    counts |= dict.fromkeys(measures, 0)
    funnel = [("cases", 40), ("listed", 30)]
    rows = audit_rows([PeriodCounts("2026-11", counts, [], funnel)], (), 11)
    kinds = {(r["period"], r["table"], r["measure"]): r["suppressed"] for r in rows}
    for period in ("2026-11", "total"):  # one month: the total repeats it, hidden alike
        assert kinds[(period, "cases_by_tier", "tier_1")] == "primary"
        assert kinds[(period, "cases_by_tier", "not_listed")] == "primary"
        # not_listed = cases - listed: one of the two must go; hiding listed also covers
        # tier_1 = listed - tier_2 - tier_3, so the tiers 2 and 3 stay shown
        assert kinds[(period, "attrition", "listed")] == "complementary"
        assert kinds[(period, "cases_by_tier", "cases")] == ""
        assert kinds[(period, "cases_by_tier", "tier_2")] == ""
        assert kinds[(period, "cases_by_tier", "tier_3")] == ""


def test_a_min_cell_size_below_2_is_refused(audit_input: Path, tmp_path: Path) -> None:
    for size in (1, 0):
        with pytest.raises(ConfigError, match="at least 2"):
            _audit(audit_input, tmp_path / str(size), min_cell_size=size)


@pytest.mark.parametrize(
    ("start", "end", "told"),
    [
        ("2026-13-01", "2027-01-01", "--start '2026-13-01' is not a valid date"),
        ("2026-11-01", "2026-11-31", "--end '2026-11-31' is not a valid date"),
        ("2026-12-01", "2026-10-01", "The audit end 2026-10-01T00:00:00 must be after its start"),
    ],
)
def test_a_bad_period_is_refused_naming_the_audit_s_options(
    audit_input: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], start: str, end: str,
    told: str,
) -> None:  # fmt: skip
    out = tmp_path / "audit"
    args = ["audit", "--input", str(audit_input), "--out", str(out)]
    assert main([*args, "--start", start, "--end", end]) == 2
    err = capsys.readouterr().err
    assert f"hyposcreen: error: {told}" in err and "window" not in err
    assert "Traceback" not in err and not out.exists()


def test_min_cell_size_is_configurable(audit_input: Path, tmp_path: Path) -> None:
    """With a threshold of 2 only the ones are hidden and the rest are the screen's own."""
    tables = _tables(_audit(audit_input, tmp_path, min_cell_size=2))
    assert not (tables["value"] == "1").any() and not (tables["numerator"] == "1").any()
    assert _cell(tables, "cases_by_tier", "2026-11", "tier_1")["value"] == "6"
    assert _cell(tables, "attrition", "total", "cases")["value"] == "39"
    coded = _cell(tables, "coding_gap", "2026-11", "cases_coded_share")  # 1 of 39
    assert (coded["suppressed"], coded["numerator"], coded["denominator"]) == ("primary", "", "39")
    follow_up = _cell(tables, "severe_follow_up", "2026-11", "median_hours_to_next_sodium")
    assert (follow_up["suppressed"], follow_up["value"]) == ("primary", "")  # n = 1
    over = _cell(tables, "over_rapid_correction", "2026-11", "overcorrection_rate")
    assert (over["numerator"], over["suppressed"]) == ("3", "")
    assert set(tables["min_cell_size"]) == {"2"}


def test_the_tables_csv_read_alone_says_what_a_suppressed_cell_may_be(no_key_out: Path) -> None:
    """audit_tables.csv goes to a QI database without the page or the manifest: beside
    `suppressed` it names the minimum cell size, so a `primary` row (November's 6 urgent
    cases) reads as 1 to 10 and a `complementary` one as 11 or more."""
    tables = _tables(no_key_out)
    columns = list(tables.columns)
    assert columns[columns.index("suppressed") + 1] == "min_cell_size"
    assert set(tables["min_cell_size"]) == {"11"}


def test_no_identifier_in_any_audit_output_without_a_key(no_key_out: Path) -> None:
    assert not (no_key_out / "audit_patients.csv").exists()
    manifest = json.loads((no_key_out / "audit_manifest.json").read_text())
    assert manifest["patient_export"]["written"] is False
    assert KEY_ENV in manifest["patient_export"]["note"]
    patients = pd.read_csv(SAMPLE / "patients.csv", dtype=str)
    identifiers = [*patients["patient_id"], *patients["mrn"], *patients["name"]]
    for path in no_key_out.iterdir():
        text = path.read_text(encoding="utf-8")
        found = [value for value in identifiers if value in text]
        assert found == [], (path.name, found[:3])


def test_audit_page_is_byte_identical_for_the_same_inputs(
    audit_input: Path, no_key_out: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    again = _audit(audit_input, tmp_path)
    for name in ("audit.html", "audit_tables.csv"):
        assert (again / name).read_bytes() == (no_key_out / name).read_bytes(), name


def test_patient_export_uses_stable_keyed_pseudonyms(
    audit_input: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    first = _audit(audit_input, tmp_path / "one") / "audit_patients.csv"
    second = _audit(audit_input, tmp_path / "two") / "audit_patients.csv"
    assert first.stat().st_mode & 0o077 == 0
    exported = pd.read_csv(first, dtype=str, keep_default_na=False)
    assert len(exported) == 39 and exported["pseudonym"].str.startswith("ps-").all()
    assert first.read_bytes() == second.read_bytes()  # same key: same pseudonyms
    assert pseudonym("P043", KEY.encode()) in set(exported["pseudonym"])
    text = first.read_text(encoding="utf-8")
    assert "P043" not in text and "2026-11-20" not in text  # no ids, no dates
    monkeypatch.setenv(KEY_ENV, KEY + "-other")
    other = pd.read_csv(_audit(audit_input, tmp_path / "three") / "audit_patients.csv", dtype=str)
    assert set(other["pseudonym"]).isdisjoint(exported["pseudonym"])


def test_key_file_is_read_and_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    assert load_key(None) is None
    secret = tmp_path / "pseudonym.key"
    secret.write_text(KEY + "\n")
    secret.chmod(0o600)
    assert load_key(secret) == KEY.encode()
    secret.write_text("short\n")
    with pytest.raises(ConfigError, match="too short"):
        load_key(secret)
    with pytest.raises(ConfigError, match="inside the source checkout"):
        load_key(ROOT / "README.md")


def test_cli_audit_exits_zero_and_says_there_is_no_patient_export(
    audit_input: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    done = run_cli(
        "audit", "--input", str(audit_input), "--start", "2026-11-01", "--end", "2026-12-01",
        "--out", str(tmp_path / "a"), "--min-cell-size", "5",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "No patient-level export" in done.stderr
    assert f"Audit report: {tmp_path / 'a' / 'audit.html'}" in done.stdout
    assert "P0" not in done.stderr + done.stdout
    manifest = json.loads((tmp_path / "a" / "audit_manifest.json").read_text())
    assert manifest["min_cell_size"] == 5


@pytest.mark.parametrize(
    "empty", [("diagnoses",), ("labs", "medications", "diagnoses", "patients")]
)
def test_header_only_inputs_give_an_empty_valid_audit(
    tmp_path: Path, empty: tuple[str, ...]
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("labs", "medications", "diagnoses", "patients"):
        text = (SAMPLE / f"{name}.csv").read_text(encoding="utf-8")
        (folder / f"{name}.csv").write_text(
            text.splitlines()[0] + "\n" if name in empty else text, encoding="utf-8"
        )
    tables = _tables(_audit(folder, tmp_path / "out"))
    coded = _cell(tables, "coding_gap", "total", "coded_without_low_sodium_share")
    assert coded["denominator"] == "0" and coded["value"] == ""
    if len(empty) == 4:
        counts = tables.loc[tables["unit"] == "count"]
        assert (counts["value"] == "0").all() and (counts["suppressed"] == "").all()
    assert "Hyponatremia screening audit" in (tmp_path / "out" / "audit.html").read_text()
