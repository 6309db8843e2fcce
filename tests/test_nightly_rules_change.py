"""A site that changes its rules between nights: a case already listed whose tier is more
urgent only because the rules now grade it otherwise is listed again as `rules_changed`,
never as a worsening (`tier_escalation`: the patient did not worsen), and the listing made
under the new rules holds it back on the nights after, as any listing does.

Real pipeline runs (real files, GX contracts, SQLite state), as in test_nightly_state.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pandas as pd
from tests.test_nightly_state import _extract, _na

from hyposcreen.config import RunSettings, Window
from hyposcreen.context import prepare
from hyposcreen.runners import run_screen
from hyposcreen.state import STATE_FILE, StateStore
from hyposcreen.windows import out_folder

RULES = Path(__file__).resolve().parents[1] / "src" / "hyposcreen" / "rules"


def _run(extract: Path, out: Path, state: Path, day: str, rules: Path | None) -> dict[str, str]:
    start = pd.Timestamp(day).as_unit("us")
    window = Window(start, start + pd.Timedelta(days=1))
    settings = RunSettings(
        input_dir=extract,
        out_dir=out_folder(str(out), window),
        window=window,
        state_dir=state,
        rules_dir=rules,
    )
    review = pd.read_csv(run_screen(prepare(settings), 1).review_csv, dtype=str)
    return dict(zip(review["patient_id"], review["tier"] + ":" + review["relisted_because"]))


def _site_rules(tmp_path: Path) -> Path:
    """The packaged rules with the seed profile's severe band at < 124 instead of < 120 (a
    site's copy, its version raised as the README asks)."""
    copy = tmp_path / "site-rules"
    shutil.copytree(RULES, copy, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    text = (copy / "rules.yaml").read_text(encoding="utf-8")
    severe = '{label: severe, level: severe, op: "<", threshold: 120}'
    assert severe in text
    text = text.replace(severe, severe.replace("120", "124"))
    text = text.replace('version: "', 'version: "site-', 1)
    (copy / "rules.yaml").write_text(text, encoding="utf-8")
    return copy


def test_a_case_graded_up_by_new_rules_is_listed_as_rules_changed(tmp_path: Path) -> None:
    """P1's sodium is 122 every night (loop diuretic, one risk category).
    11-20, packaged rules: 122 is moderate (<= 125, >= 120) -> tier 2, listed `new`.
    11-21, site rules: 122 is severe (< 124) -> tier 1, more urgent than the listing's 2.
      Before: `tier_escalation`, as if P1 had worsened. Now: `rules_changed`.
    11-22, site rules, 122 again: tier 1 as the 11-21 listing, graded alike: held back.
    11-23, site rules, 118: 4 lower than 122 (>= 3) -> `nadir_lower` (tier 1 as before)."""
    extract, out, state = tmp_path / "in", tmp_path / "out", tmp_path / "state"
    site = _site_rules(tmp_path)
    rows = [_na("P1", "2026-11-20T10:00:00", "122")]
    days = ["2026-11-20"]
    _extract(extract, rows, days)
    assert _run(extract, out, state, "2026-11-20", None) == {"P1": "2:new"}

    for day, value in (("2026-11-21", "122"), ("2026-11-22", "122"), ("2026-11-23", "118")):
        rows.append(_na("P1", f"{day}T10:00:00", value))
        days.append(day)
        _extract(extract, rows, days)
        listed = _run(extract, out, state, day, site)
        expected = {
            "2026-11-21": {"P1": "1:rules_changed"},
            "2026-11-22": {},
            "2026-11-23": {"P1": "1:nadir_lower"},
        }[day]
        assert listed == expected, day


def test_a_state_kept_before_gradings_were_kept_compares_tiers_as_before(tmp_path: Path) -> None:
    """A listing of a schema-1 state has no grading: a more urgent tier is a worsening, as it
    was (the state gains the column on opening)."""
    db_path = tmp_path / STATE_FILE
    with sqlite3.connect(db_path) as db:
        db.execute(
            "CREATE TABLE listings (site TEXT NOT NULL, patient_id TEXT NOT NULL, "
            "window_start TEXT NOT NULL, tier INTEGER NOT NULL, nadir REAL NOT NULL, "
            "overcorrection_to TEXT, PRIMARY KEY (site, patient_id, window_start))"
        )
        db.execute("INSERT INTO listings VALUES ('s', 'P1', '2026-11-20T00:00:00', 2, 122, NULL)")
        db.execute("PRAGMA user_version = 1")
    history = StateStore(tmp_path, "s").history(pd.Timestamp("2026-11-21"))
    assert history.last_listing["grading"].isna().all()
    assert list(history.last_listing["tier"]) == [2]


def test_a_case_that_worsened_on_the_night_the_rules_changed_is_told_as_worse(
    tmp_path: Path,
) -> None:
    """P1 (loop diuretic, one risk category) routine on 11-20 at 126 (mild under the packaged
    rules: tier 3); on 11-21, the night the site's rules (severe < 124) come in, 123.5: moderate
    under the old rules (tier 2, a worsening on its own), severe under the new (tier 1), 2.5
    lower (< 3: no `nadir_lower`). Before: `rules_changed` alone, the page saying "more urgent
    tier under changed rules", as if only the grading had moved it from routine to urgent.
    Now: lower than its listed nadir and more urgent, it is `tier_escalation`, with
    `rules_changed` beside it, and the page says both."""
    from hyposcreen.report.page_relisting import relisting_lines

    extract, out, state = tmp_path / "in", tmp_path / "out", tmp_path / "state"
    rows = [_na("P1", "2026-11-20T10:00:00", "126")]
    _extract(extract, rows, ["2026-11-20"])
    assert _run(extract, out, state, "2026-11-20", None) == {"P1": "3:new"}
    rows.append(_na("P1", "2026-11-21T10:00:00", "123.5"))
    _extract(extract, rows, ["2026-11-20", "2026-11-21"])
    listed = _run(extract, out, state, "2026-11-21", _site_rules(tmp_path))
    assert listed == {"P1": "1:tier_escalation;rules_changed"}
    review = pd.read_csv(out / "2026-11-21" / "review_list.csv", dtype=str, keep_default_na=False)
    line = relisting_lines(review, "UTC")[0]
    assert "Listed again: more urgent tier (the rules changed since its last listing)" in line
