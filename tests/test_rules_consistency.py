"""A site's rules copy whose numbers each read but do not hold together (severity bands that
leave a hyponatremic result without a band, a severe band above the definition, a zero or
disallowed glucose factor, a negative span, a correction-risk limit faster than the usual one)
stops the run with exit 2 naming the key, never an odd list or an internal error (exit 70)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tests.helpers import run_cli

from hyposcreen.errors import ConfigError
from hyposcreen.rules.loader import RULES_DIR, load_rules

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"
SEED_DEFINITION = 'hyponatremia: {op: "<=", threshold: 135}'


def _rules_copy(tmp_path: Path, *changes: tuple[str, str]) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    text = (rules / "rules.yaml").read_text(encoding="utf-8")
    for old, new in changes:
        assert old in text
        text = text.replace(old, new, 1)
    (rules / "rules.yaml").write_text(text, encoding="utf-8")
    return rules


BROKEN = [
    # (what, changes, words the message must hold)
    (
        # hyponatremia < 136 with the mild band left at <= 135: 135.5 is hyponatremic and in
        # no band (before: the screen failed with a TypeError, exit 70)
        "definition moved, mild band not",
        [(SEED_DEFINITION, 'hyponatremia: {op: "<", threshold: 136}')],
        ["profiles.seed", "no severity band", "136"],
    ),
    (
        # severe < 140 above the definition <= 135: every low result severe, moderate and
        # mild never reached (before: 38 cases of the sample all listed urgent, exit 4)
        "severe above the definition",
        [("threshold: 120}", "threshold: 140}")],
        ["profiles.seed", "severe"],
    ),
    (
        # moderate <= 118 below severe < 120: moderate holds no value no band above takes
        "band never reached",
        [("threshold: 125}", "threshold: 118}")],
        ["profiles.seed", "moderate", "hold no"],
    ),
    (
        "definition with >",
        [(SEED_DEFINITION, 'hyponatremia: {op: ">", threshold: 135}')],
        ["profiles.seed.hyponatremia.op"],
    ),
    (
        "band threshold as text",
        [("threshold: 125}", 'threshold: "125"}')],
        ["profiles.seed.severity band 2", "number"],
    ),
    (
        # before: pairing quietly lost every glucose of another specimen
        "negative pairing window",
        [("pairing_window_minutes: 60", "pairing_window_minutes: -60")],
        ["glucose_correction.pairing_window_minutes", ">= 0"],
    ),
    (
        # before: accepted, every sodium uncorrected
        "zero glucose factor",
        [
            ("factor: 1.6 ", "factor: 0 "),
            ("allowed_factors: [1.6, 2.4]", "allowed_factors: [0, 1.6]"),
        ],
        ["glucose_correction.factor", "above 0"],
    ),
    (
        # before: an internal error (ValueError, exit 70) once the input was read
        "factor not allowed",
        [("factor: 1.6 ", "factor: 2.0 ")],
        ["glucose_correction.factor", "allowed_factors"],
    ),
    (
        "glucose key misspelt",
        [("pairing_window_minutes: 60", "pairing_window_minute: 60")],
        ["glucose_correction.pairing_window_minute"],
    ),
    (
        "negative cramp window",
        [("cramp_window_days: 30", "cramp_window_days: -30")],
        ["windows.cramp_window_days", ">= 0"],
    ),
    (
        "zero over-correction window",
        [("overcorrection_window_hours: 24", "overcorrection_window_hours: 0")],
        ["windows.overcorrection_window_hours", "above 0"],
    ),
    (
        "risk limit faster than the usual one",
        [("overcorrection_with_risk_mmol_per_24h: 6", "overcorrection_with_risk_mmol_per_24h: 10")],
        ["limits.overcorrection_with_risk_mmol_per_24h", "limits.overcorrection_mmol_per_24h"],
    ),
    (
        "zero potassium threshold",
        [("potassium_low_mmol_l: 3.5", "potassium_low_mmol_l: 0")],
        ["limits.potassium_low_mmol_l", "above 0"],
    ),
    (
        "soon change that is a rise",
        [("soon_delta_48h_max: -5", "soon_delta_48h_max: 5")],
        ["limits.soon_delta_48h_max", "<= 0"],
    ),
    (
        # before: the sample's night stopped on an unread-time share of 0 >= 0 with no row to
        # name, an internal error (ValueError, exit 70)
        "broken share of 0",
        [("broken_share: 0.50", "broken_share: 0")],
        ["contracts.broken_share", "above 0"],
    ),
    (
        "duplicate rate above 1",
        [("max_duplicate_rate: 0.20", "max_duplicate_rate: 1.5")],
        ["contracts.max_duplicate_rate", "between 0 and 1"],
    ),
    (
        "fractional rows to judge",
        [("min_rows_to_judge: 20", "min_rows_to_judge: 2.5")],
        ["contracts.min_rows_to_judge", "whole number"],
    ),
    (
        "fractional risk-factor count",
        [("soon_mild_min_risk_categories: 2", "soon_mild_min_risk_categories: 1.5")],
        ["limits.soon_mild_min_risk_categories", "whole number"],
    ),
]


@pytest.mark.parametrize(("changes", "words"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_rules_that_do_not_hold_together_are_a_config_error(
    tmp_path: Path, changes: list[tuple[str, str]], words: list[str]
) -> None:
    rules = _rules_copy(tmp_path, *changes)
    with pytest.raises(ConfigError) as caught:
        load_rules(rules)
    message = str(caught.value)
    assert str(rules / "rules.yaml") in message
    for word in words:
        assert word in message, message


def test_a_consistent_site_change_of_definition_and_bands_loads(tmp_path: Path) -> None:
    # hyponatremia < 136, severe < 121, mild < 136: the bands cover the definition
    rules = _rules_copy(
        tmp_path,
        (SEED_DEFINITION, 'hyponatremia: {op: "<", threshold: 136}'),
        ("threshold: 120}", "threshold: 121}"),
        ('level: mild, op: "<=", threshold: 135}', 'level: mild, op: "<", threshold: 136}'),
    )
    seed = load_rules(rules).profiles["seed"]
    assert (seed.hyponatremia_op, seed.hyponatremia_threshold) == ("<", 136.0)
    assert [b.threshold for b in seed.bands] == [121, 125, 136]
    for name in ("seed", "eu2014"):  # the packaged profiles pass the same checks
        assert load_rules().profiles[name].bands


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ([(SEED_DEFINITION, 'hyponatremia: {op: "<", threshold: 136}')], "profiles.seed"),
        ([("factor: 1.6 ", "factor: 2.0 ")], "glucose_correction.factor"),
        ([("broken_share: 0.50", "broken_share: 0")], "contracts.broken_share"),
    ],
)
def test_the_cli_exits_2_naming_the_key(
    tmp_path: Path, changes: list[tuple[str, str]], key: str
) -> None:
    rules = _rules_copy(tmp_path, *changes)
    done = run_cli(
        "run", "--no-flow", "--input", str(SAMPLE), "--window-start", "2026-11-20",
        "--rules", str(rules), "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert done.returncode == 2, done.stderr[-400:]
    assert key in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out" / "2026-11-20" / "review_list.csv").exists()


def test_a_plausible_range_from_high_to_low_is_a_config_error(tmp_path: Path) -> None:
    """analytes.csv sodium 200..80 (swapped): before, the labs contract could not evaluate it
    and the night stopped as a broken delivery (exit 3, 'required column(s) missing')."""
    rules = _rules_copy(tmp_path)
    analytes = rules / "analytes.csv"
    text = analytes.read_text(encoding="utf-8")
    old = "sodium,blood,mmol/L,urine_sodium,80,200,"
    assert old in text
    analytes.write_text(text.replace(old, "sodium,blood,mmol/L,urine_sodium,200,80,"), "utf-8")
    with pytest.raises(ConfigError, match=r"analytes\.csv: sodium: plausible_low \(200\)"):
        load_rules(rules)
    done = run_cli(
        "run", "--no-flow", "--input", str(SAMPLE), "--window-start", "2026-11-20",
        "--rules", str(rules), "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert done.returncode == 2 and "plausible_low" in done.stderr, done.stderr[-400:]
