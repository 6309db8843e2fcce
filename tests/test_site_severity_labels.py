"""A site's rules copy whose profile names its severity bands in its own words (`label:` is
what the review list prints, rules.yaml) is published: the review list's contract takes the
labels of the run's profile, not the packaged profiles' four words."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from tests.helpers import run_cli

from gx_tables import VOCABULARY, make_review
from hyposcreen.rules.loader import RULES_DIR
from hyposcreen.validate import gx as v

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
RENAMED = [
    ("{label: severe, level: severe", "{label: schwer, level: severe"),
    ("{label: moderate, level: moderate", "{label: mittel, level: moderate"),
    ("{label: mild, level: mild", "{label: leicht, level: mild"),
]


def test_the_contract_takes_the_profile_labels() -> None:
    review = make_review(3)
    review["severity"] = ["schwer", "mittel", "leicht"]
    assert (
        v.validate_review_list(
            review, VOCABULARY, ["schwer", "mittel", "leicht"]
        ).critical_failures()
        == []
    )
    # the packaged labels still hold for a list without its profile's, and a label of neither
    # is a broken contract
    packaged = v.validate_review_list(review, VOCABULARY)
    assert [o.reason for o in packaged.critical_failures()] == ["severity"]
    review.loc[0, "severity"] = "profound"
    report = v.validate_review_list(review, VOCABULARY, ["schwer", "mittel", "leicht"])
    assert [o.reason for o in report.critical_failures()] == ["severity"]


def test_a_run_with_renamed_bands_publishes_its_list(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    text = (rules / "rules.yaml").read_text(encoding="utf-8")
    for old, new in RENAMED:
        assert old in text
        text = text.replace(old, new, 1)
    (rules / "rules.yaml").write_text(text, encoding="utf-8")
    done = run_cli(
        "run", "--no-flow", "--input", str(SAMPLE), "--window-start", "2026-11-20",
        "--rules", str(rules), "--out", str(tmp_path / "out"),
    )  # fmt: skip
    # before: exit 70, "The review list broke its own contract (severity not mild, ...)"
    assert done.returncode in (0, 4), done.stderr[-600:]
    with (tmp_path / "out" / "2026-11-20" / "review_list.csv").open(encoding="utf-8") as f:
        rows = {row["patient_id"]: row["severity"] for row in csv.DictReader(f)}
    # P006 119.9 severe, P003 125.0 moderate, P001 135.0 mild (sample_data/README.md)
    assert (rows["P006"], rows["P003"], rows["P001"]) == ("schwer", "mittel", "leicht")
