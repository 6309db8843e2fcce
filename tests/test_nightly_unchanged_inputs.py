"""A night screened on the files the night before was screened on warns (`unchanged_inputs`,
exit 4): the delivery did not arrive and the run read yesterday's extract, or only some of its
tables were refreshed. Nights one run screens together (a catch-up, a backfill) share one
delivery by design and do not warn.

Each night is a separate `hyposcreen run --no-flow` process, as cron or the scheduler starts
it, on a copy of the committed sample with a nightly state.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from hyposcreen.config import load_mapping
from hyposcreen.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "canonical"
HYPOSCREEN = Path(sys.executable).with_name("hyposcreen")


def _night(extract: Path, out: Path, state: Path, *when: str) -> list[dict[str, str]]:
    """One run's nights (`--window-start DAY` or `--backfill A B`); the last night's warnings."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    argv = [str(HYPOSCREEN), "run", "--no-flow", "--input", str(extract), "--out", str(out)]
    done = subprocess.run(
        [*argv, "--state-dir", str(state), *when],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode in (0, 4), done.stderr[-400:]
    manifest = json.loads((out / when[-1] / "run_manifest.json").read_text(encoding="utf-8"))
    return list(manifest["warnings"])


def _screened_on_time(state: Path, night: str, at: str) -> None:
    """Set when the state says `night` was screened: these tests run past nights by hand
    weeks later; a scheduled run screens a night a few hours after it ends."""
    with sqlite3.connect(state / "hyposcreen_state.sqlite3") as db:
        db.execute("UPDATE runs SET screened_at = ? WHERE window_start = ?", (at, night))
    db.close()


def _codes(warnings: list[dict[str, str]]) -> list[str]:
    return [w["code"] for w in warnings]


def test_a_night_on_yesterday_s_files_warns(tmp_path: Path) -> None:
    """11-20 and 11-21 both read the same four files (the delivery of 11-21 never came): the
    second night says every file is the one 11-20 was screened on, naming them."""
    extract, out, state = tmp_path / "in", tmp_path / "out", tmp_path / "state"
    shutil.copytree(SAMPLE, extract)
    assert "unchanged_inputs" not in _codes(
        _night(extract, out, state, "--window-start", "2026-11-20")
    )
    # screened the morning after, as the schedule does: before 11-21 ended (11-22 00:00 UTC)
    _screened_on_time(state, "2026-11-20T00:00:00", "2026-11-21T02:00:00+00:00")
    warnings = _night(extract, out, state, "--window-start", "2026-11-21")
    (found,) = [w for w in warnings if w["code"] == "unchanged_inputs"]
    assert found["message"].startswith(
        "every input file is the one night 2026-11-20 was screened on (diagnoses "
        "(diagnoses.csv), labs (labs.csv), medications (medications.csv), patients "
        "(patients.csv); same sha256): tonight's delivery did not arrive?"
    )


def test_a_delivery_with_only_its_labs_refreshed_warns_naming_the_tables_left(
    tmp_path: Path,
) -> None:
    """11-21's delivery brings new labs (one more row) but the medications, diagnoses and
    patients files of 11-20: those three are named, labs said to have changed."""
    extract, out, state = tmp_path / "in", tmp_path / "out", tmp_path / "state"
    shutil.copytree(SAMPLE, extract)
    _night(extract, out, state, "--window-start", "2026-11-20")
    _screened_on_time(state, "2026-11-20T00:00:00", "2026-11-21T02:00:00+00:00")
    labs = extract / "labs.csv"
    row = "P900,E9,S9,2026-11-21T08:00:00,,2951-2,Sodium,140,mmol/L,final,Serum\n"
    labs.write_text(labs.read_text(encoding="utf-8") + row, encoding="utf-8")
    warnings = _night(extract, out, state, "--window-start", "2026-11-21")
    (found,) = [w for w in warnings if w["code"] == "unchanged_inputs"]
    assert found["message"].startswith(
        "diagnoses (diagnoses.csv), medications (medications.csv), patients (patients.csv) "
        "are the same file(s) night 2026-11-20 was screened on (same sha256), while labs "
        "changed: only part of the delivery was refreshed?"
    )


def test_the_nights_of_one_catch_up_share_their_delivery_without_warning(tmp_path: Path) -> None:
    """A backfill of 11-20 and 11-21 in one run reads one delivery for both: no warning."""
    extract, out, state = tmp_path / "in", tmp_path / "out", tmp_path / "state"
    shutil.copytree(SAMPLE, extract)
    warnings = _night(extract, out, state, "--backfill", "2026-11-20", "2026-11-21")
    assert "unchanged_inputs" not in _codes(warnings)


def test_a_night_before_screened_after_tonight_ended_is_not_compared(tmp_path: Path) -> None:
    """Two runs, each its own process, on one extract: 11-20 then 11-21 (a backfill in two
    parts, nights re-run by hand, or the late runs of a scheduler restarted after an outage,
    one process per night). 11-20 was screened now (2026-12 or later), after 11-21 ended
    (11-22 00:00): its delivery was already the one 11-21 reads, so the same files are
    expected and 11-21 does not warn. Before, it warned that the delivery did not arrive."""
    extract, out, state = tmp_path / "in", tmp_path / "out", tmp_path / "state"
    shutil.copytree(SAMPLE, extract)
    _night(extract, out, state, "--backfill", "2026-11-19", "2026-11-20")
    warnings = _night(extract, out, state, "--backfill", "2026-11-21", "2026-11-22")
    assert "unchanged_inputs" not in _codes(warnings)
    manifest = json.loads((out / "2026-11-21" / "run_manifest.json").read_text("utf-8"))
    assert "unchanged_inputs" not in _codes(manifest["warnings"])


def test_a_table_with_no_rows_on_both_nights_is_not_a_stale_delivery(tmp_path: Path) -> None:
    """A site sending daily increments under fixed names: no diagnosis was coded on 11-20 or
    11-21, so diagnoses.csv is its header alone both nights (the same bytes, the same
    sha256), while labs, medications and patients bring new rows. Nothing can be missing
    from a table that holds no row: no unchanged_inputs (empty_table tells the empty table).
    Before, 11-21 also warned that diagnoses was left as it was (only part of the delivery
    refreshed?), sending the operator to ask for a table the sender had no rows for."""
    extract, out, state = tmp_path / "in", tmp_path / "out", tmp_path / "state"
    shutil.copytree(SAMPLE, extract)
    diagnoses = extract / "diagnoses.csv"
    diagnoses.write_text(diagnoses.read_text("utf-8").splitlines()[0] + "\n", "utf-8")
    _night(extract, out, state, "--window-start", "2026-11-20")
    _screened_on_time(state, "2026-11-20T00:00:00", "2026-11-21T02:00:00+00:00")
    new_rows = {
        "labs.csv": "P900,E9,S9,2026-11-21T08:00:00,,2951-2,Sodium,140,mmol/L,final,Serum\n",
        "medications.csv": "P900,E9,Sertraline 50mg tab,,,2026-11-21T09:00:00,,active,oral\n",
        "patients.csv": "P900,MRN0900,Test Patient 900,1950-01-01,F,5 North\n",
    }
    for name, row in new_rows.items():
        path = extract / name
        path.write_text(path.read_text("utf-8") + row, "utf-8")
    assert "unchanged_inputs" not in _codes(
        _night(extract, out, state, "--window-start", "2026-11-21")
    )


def test_tables_the_mapping_says_are_not_refreshed_nightly_are_not_compared(
    tmp_path: Path,
) -> None:
    """The same partial delivery as above (only labs new on 11-21), at a site whose mapping
    says medications, diagnoses and patients come weekly (`refreshed_nightly: false`): their
    files being 11-20's is expected, so no warning; labs, refreshed nightly, changed. The
    same mapping with labs unchanged as well still warns, naming labs alone."""
    extract, out, state = tmp_path / "in", tmp_path / "out", tmp_path / "state"
    shutil.copytree(SAMPLE, extract)
    mapping = tmp_path / "site.yaml"
    weekly = "\n".join(
        f"  {name}:\n    refreshed_nightly: false"
        for name in ("medications", "diagnoses", "patients")
    )
    mapping.write_text(f"site: weekly-extras\ntables:\n{weekly}\n", "utf-8")
    on_site = ("--mapping", str(mapping))
    _night(extract, out, state, *on_site, "--window-start", "2026-11-20")
    _screened_on_time(state, "2026-11-20T00:00:00", "2026-11-21T02:00:00+00:00")
    # the labs delivery of 11-21 never came: labs alone are named
    warnings = _night(extract, out, state, *on_site, "--window-start", "2026-11-21")
    (found,) = [w for w in warnings if w["code"] == "unchanged_inputs"]
    assert found["message"].startswith(
        "every input file is the one night 2026-11-20 was screened on (labs (labs.csv); same"
    ), found["message"]
    _screened_on_time(state, "2026-11-21T00:00:00", "2026-11-22T02:00:00+00:00")
    labs = extract / "labs.csv"
    row = "P900,E9,S9,2026-11-22T08:00:00,,2951-2,Sodium,140,mmol/L,final,Serum\n"
    labs.write_text(labs.read_text(encoding="utf-8") + row, encoding="utf-8")
    warnings = _night(extract, out, state, *on_site, "--window-start", "2026-11-22")
    assert "unchanged_inputs" not in _codes(warnings)


def test_refreshed_nightly_must_be_true_or_false(tmp_path: Path) -> None:
    """`refreshed_nightly: "no"` is a setting to correct (exit 2 names the table and key),
    not a text read as true."""
    mapping = tmp_path / "site.yaml"
    mapping.write_text('tables:\n  patients:\n    refreshed_nightly: "no"\n', "utf-8")
    with pytest.raises(ConfigError, match=r"tables\.patients: refreshed_nightly must be true or"):
        load_mapping(mapping)
    mapping.write_text("tables:\n  patients:\n    refreshed_nightly: false\n", "utf-8")
    assert load_mapping(mapping).table("patients").refreshed_nightly is False
    assert load_mapping(mapping).table("labs").refreshed_nightly is True
