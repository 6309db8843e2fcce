"""A site's rules copy with other windows and limits is what the list's texts say: the
over-correction evidence and the correction-limit considerations name the rules' window and
limits, the page's tier legend its `soon` change and delta window, the possibly-spurious flag
its drop and neighbour hours, the workbook's delta column header its delta window."""

from __future__ import annotations

import csv
import shutil
import zipfile
from pathlib import Path

import pytest
from tests.helpers import run_cli

from hyposcreen.rules.loader import RULES_DIR

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
CHANGES = [
    ("overcorrection_window_hours: 24", "overcorrection_window_hours: 20"),
    ("overcorrection_with_risk_mmol_per_24h: 6", "overcorrection_with_risk_mmol_per_24h: 4"),
    ("delta_window_hours: 48", "delta_window_hours: 36"),
    ("soon_delta_48h_max: -5", "soon_delta_48h_max: -4"),
    ("spurious_drop_mmol_l: 10", "spurious_drop_mmol_l: 12"),
    ("spurious_neighbour_hours: 24", "spurious_neighbour_hours: 18"),
]
# a possibly spurious sodium: 115 lies 21 mmol/L (>= 12) below 136 two hours before and after
SPURIOUS_ROWS = [
    "P090,E090,S090-1,2026-11-20T06:00:00,,2951-2,Sodium,136,mmol/L,final,Serum",
    "P090,E090,S090-2,2026-11-20T08:00:00,,2951-2,Sodium,115,mmol/L,final,Serum",
    "P090,E090,S090-3,2026-11-20T10:00:00,,2951-2,Sodium,136,mmol/L,final,Serum",
]


@pytest.fixture(scope="module")
def site_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("site_rules")
    rules = base / "rules"
    shutil.copytree(RULES_DIR, rules, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    text = (rules / "rules.yaml").read_text(encoding="utf-8")
    for old, new in CHANGES:
        assert old in text
        text = text.replace(old, new, 1)
    (rules / "rules.yaml").write_text(text, encoding="utf-8")
    data = base / "input"
    shutil.copytree(SAMPLE, data)
    with (data / "labs.csv").open("a", encoding="utf-8") as labs:
        labs.write("\n".join(SPURIOUS_ROWS) + "\n")
    done = run_cli(
        "run", "--no-flow", "--input", str(data), "--window-start", "2026-11-20",
        "--rules", str(rules), "--out", str(base / "out"),
    )  # fmt: skip
    assert done.returncode in (0, 4), done.stderr[-600:]
    return base / "out" / "2026-11-20"


def _rows(folder: Path) -> dict[str, dict[str, str]]:
    with (folder / "review_list.csv").open(encoding="utf-8") as f:
        return {row["patient_id"]: row for row in csv.DictReader(f)}


def test_overcorrection_evidence_names_the_rules_window(site_run: Path) -> None:
    rows = _rows(site_run)
    # P038: 118.0 at 01:00 -> 127.0 at 19:00, +9 in 18 h (<= 20 h), above the limit 8
    assert "(+9.0 mmol/L; limit 8 per 20 h)" in rows["P038"]["evidence"]
    assert "(+9.0 mmol/L; limit 8 per 20 h)" in rows["P038"]["overcorrection_pair"]
    # P027 (cirrhosis): 123.0 -> 130.0, +7 in 18 h, above the correction-risk limit 4
    assert "(+7.0 mmol/L; limit 4 per 20 h)" in rows["P027"]["evidence"]
    text = (site_run / "review_list.csv").read_text(encoding="utf-8")
    assert "per 24 h" not in text and "in 24 h" not in text


def test_correction_limit_considerations_follow_the_rules(site_run: Path) -> None:
    rows = _rows(site_run)
    assert "Raise sodium by no more than 8 mmol/L in 20 h." in rows["P038"]["considerations"]
    # the correction-risk limit 4 is at the seeds' lower aim: no range '4-4'
    risk = rows["P027"]["considerations"]
    assert "aim for no more than 4 mmol/L per 20 h." in risk and "4-4" not in risk


def test_page_and_workbook_name_the_rules_numbers(site_run: Path) -> None:
    page = (site_run / "review_list.html").read_text(encoding="utf-8")
    assert "mild with ≥ 2 risk factors, documented cramp or a fall of ≥ 4 mmol/L in 36 h" in page
    assert "in 48 h" not in page
    # P039's change (+9.0 from the result 20 h before: 122 -> 131) is shown as one from the
    # previous result within the rules' 36 h, not as a change across 36 h
    assert "Δ from previous (≤ 36 h) 9.0" in page and "48 h)" not in page
    assert (
        "A drop of 12 mmol/L or more below the results before and after it, each within 18 h"
        in page
    )
    with zipfile.ZipFile(site_run / "review_list.xlsx") as book:
        texts = "".join(book.read(n).decode("utf-8") for n in book.namelist() if n.endswith(".xml"))
    assert "Na change from the previous result within 36 h (mmol/L)" in texts
    assert "within 48 h" not in texts


def test_page_and_workbook_name_a_site_copy_by_its_files_hash(site_run: Path) -> None:
    """The copy keeps the packaged version number, so the version alone would read as the
    packaged rules: the page and workbook add the start of the files' hash the manifest holds."""
    import json

    manifest = json.loads((site_run / "run_manifest.json").read_text(encoding="utf-8"))
    named = f"{manifest['rules_version']} (site copy, files {manifest['rules_hash'][:12]})"
    page = (site_run / "review_list.html").read_text(encoding="utf-8")
    assert f"<dt>Rules</dt><dd>{named}</dd>" in page
    with zipfile.ZipFile(site_run / "review_list.xlsx") as book:
        texts = "".join(book.read(n).decode("utf-8") for n in book.namelist() if n.endswith(".xml"))
    assert named in texts


def test_the_manifest_records_the_numbers_the_night_was_screened_with(site_run: Path) -> None:
    """A rules change between nights is seen in each night's manifest: the windows, limits and
    glucose correction in force and the bands as applied (the profile's description is the
    copy's free text and may be stale)."""
    import json

    manifest = json.loads((site_run / "run_manifest.json").read_text(encoding="utf-8"))
    in_force = manifest["rules_in_force"]
    assert in_force["windows"]["delta_window_hours"] == 36
    assert in_force["windows"]["overcorrection_window_hours"] == 20
    assert in_force["limits"]["soon_delta_48h_max"] == -4
    assert in_force["limits"]["overcorrection_with_risk_mmol_per_24h"] == 4
    assert in_force["glucose_correction"]["pairing_window_minutes"] == 60
    assert manifest["profile_bands"] == (
        "hyponatremia Na ≤ 135; mild 125 < Na ≤ 135; moderate 120 ≤ Na ≤ 125; severe Na < 120"
    )
