"""FHIR Observations whose effective time is a date alone. FHIR lets `effectiveDateTime` (and
`effectivePeriod.start`) be a date (`2026-11-20`) or a year and month (`2026-11`); the adapter
reads a date at midnight of its day and a year and month at midnight of the month's first day,
so every result of the day meets at 00:00: same-value results become duplicates, a glucose of
any hour corrects a sodium. On the sample converted to FHIR with most effective times cut to
their date the list changed (35 cases listed, 34) at exit 0, without a word. The night now
warns as the canonical layout's date-only times do (exit 4, `date_only_times`, counts only,
naming FHIR's fields), in one process, in partitions, in a backfill and in the audit; times
with a clock, a midnight stated with its offset among them, are no date alone."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import orjson
import pytest
from sample_data import to_fhir
from tests.helpers import assert_date_only_counts_only, date_only_messages

from hyposcreen.cli import main
from sample_delivery import DAY, SAMPLE

# of the converted sample's 171 Observations: 167 read in the night's read window with a time
# (less an unknown LOINC, one time "unknown", two days before the window); lab-1 to lab-10
# keep their clock time, 9 of them in that window (lab-10 is 2026-11-21T02:00)
TIMED_ROWS = 167
DATE_ALONE = TIMED_ROWS - 9
KEPT = {f"lab-{n}" for n in range(1, 11)}


def _cut(when: str, change: str) -> str:
    """`when` (an effective time with its clock) as `change` writes it."""
    if change == "date":
        return when[:10]
    if change == "month":
        return when[:7]
    return when[:10] + "T00:00:00Z"  # midnight, stated with its offset


def _fhir(tmp_path: Path, change: str) -> Path:
    """The sample as a FHIR export, the effective times of its Observations but lab-1 to
    lab-10 written as `change` says (`date`, `month`, `midnight`; `none`: as converted)."""
    folder = tmp_path / "fhir"
    to_fhir.convert(SAMPLE, folder)
    for path in folder.glob("Observation.*"):
        zipped = path.name.endswith(".gz")
        data = gzip.decompress(path.read_bytes()) if zipped else path.read_bytes()
        resources = [orjson.loads(line) for line in data.splitlines()]
        for resource in resources:
            if change == "none" or resource["id"] in KEPT:
                continue
            if "effectiveDateTime" in resource:
                resource["effectiveDateTime"] = _cut(resource["effectiveDateTime"], change)
            elif "effectivePeriod" in resource:
                start = resource["effectivePeriod"]["start"]
                resource["effectivePeriod"]["start"] = _cut(start, change)
        payload = b"".join(orjson.dumps(r) + b"\n" for r in resources)
        path.write_bytes(gzip.compress(payload, mtime=0) if zipped else payload)
    return folder


def _run(folder: Path, *options: str) -> tuple[int, Path]:
    out = folder.parent / "out"
    status = main(["run", "--no-flow", "--source", "fhir", "--input", str(folder),
                   "--out", str(out), *options])  # fmt: skip
    return status, out


@pytest.mark.parametrize("partitions", ["1", "3"])
def test_observations_dated_by_a_date_alone_warn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], partitions: str
) -> None:
    status, out = _run(_fhir(tmp_path, "date"), "--window-start", DAY, "--partitions", partitions)
    err = capsys.readouterr().err
    assert status == 4
    [message] = date_only_messages(out / DAY / "run_manifest.json")
    share = round(100 * DATE_ALONE / TIMED_ROWS)
    assert message.startswith(
        f"{DATE_ALONE} of {TIMED_ROWS} FHIR Observation row(s) ({share}%) have an effective "
        "time (effectiveDateTime or effectivePeriod; issued where neither is given) written as "
        "a date alone, or a year and month, without a clock time (limit 5%): each is read as "
        "midnight of its day"
    )
    assert "a glucose of any hour corrects a sodium" in message
    assert "effectiveDateTime with its time and offset, or effectiveInstant" in message
    assert f"warning: {message}" in err
    assert_date_only_counts_only(message, DATE_ALONE, TIMED_ROWS, share)


@pytest.mark.parametrize("change", ["none", "midnight"])
def test_effective_times_with_a_clock_do_not_warn(tmp_path: Path, change: str) -> None:
    """Times as converted, or at 00:00:00Z (a midnight stated with its offset: a draw at
    midnight cannot be told from an exporter's filled-in one)."""
    status, out = _run(_fhir(tmp_path, change), "--window-start", DAY)
    assert date_only_messages(out / DAY / "run_manifest.json") == []
    if change == "none":  # every result at midnight does change what is screened
        assert status == 0


def test_a_backfill_and_the_audit_warn_of_dates_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nights cut from one read judge each night's own rows (the nights before hold fewer than
    `min_rows_for_share`); the audit judges its month as a run would."""
    folder = _fhir(tmp_path, "date")
    status, out = _run(folder, "--backfill", "2026-11-19", DAY)
    assert status == 4
    assert date_only_messages(out / "2026-11-19" / "run_manifest.json") == []
    [message] = date_only_messages(out / DAY / "run_manifest.json")
    assert message.startswith(f"{DATE_ALONE} of {TIMED_ROWS} FHIR Observation row(s)")
    audit = tmp_path / "audit"
    period = ["--start", "2026-11-01", "--end", "2026-12-01", "--out", str(audit)]
    assert main(["audit", "--source", "fhir", "--input", str(folder), *period]) == 4
    [found] = date_only_messages(audit / "audit_manifest.json")
    assert re.match(r"\[2026-11\] \d+ of \d+ FHIR Observation row\(s\) \(\d+%\) have an", found)
    assert "written as a date alone" in capsys.readouterr().err


def test_the_audit_warns_of_effective_times_written_as_a_year_and_month(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`2026-11` reads as midnight of November's first day: the month's audit holds them all
    there, and says so (a night's read window does not reach back to the first)."""
    folder = _fhir(tmp_path, "month")
    audit = tmp_path / "audit"
    period = ["--start", "2026-11-01", "--end", "2026-12-01", "--out", str(audit)]
    assert main(["audit", "--source", "fhir", "--input", str(folder), *period]) == 4
    [found] = date_only_messages(audit / "audit_manifest.json")
    # the month holds 169 timed Observations (171 less the unknown LOINC and the time
    # "unknown"), lab-1 to lab-10 among them with their clock
    assert found.startswith("[2026-11] 159 of 169 FHIR Observation row(s) (94%) have an")
    assert "a year and month as midnight of the month's first day" in found
    assert "have an effective time (effectiveDateTime or effectivePeriod" in capsys.readouterr().err
