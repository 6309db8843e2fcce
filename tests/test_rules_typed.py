"""rules.yaml's windows and limits are typed and strict: a typo is a ConfigError naming the key
and the file when the rules load (exit 2 through the CLI), never a KeyError while screening."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
from tests.helpers import run_cli

from hyposcreen.errors import ConfigError
from hyposcreen.rules.loader import RULES_DIR, load_rules
from hyposcreen.rules.sections import TOP_LEVEL_SECTIONS, Limits, Windows

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "canonical"


def _rules_copy(tmp_path: Path, old: str, new: str) -> Path:
    """The packaged rules with one text replacement in rules.yaml (which must apply)."""
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    text = (rules / "rules.yaml").read_text(encoding="utf-8")
    assert old in text
    (rules / "rules.yaml").write_text(text.replace(old, new, 1), encoding="utf-8")
    return rules


def test_windows_and_limits_are_frozen_dataclasses_with_numbers() -> None:
    rules = load_rules()
    assert isinstance(rules.windows, Windows) and isinstance(rules.limits, Limits)
    assert rules.windows.cofactor_window_hours == 24.0
    assert rules.limits.overcorrection_mmol_per_24h == 8.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        rules.limits.overcorrection_mmol_per_24h = 10.0  # type: ignore[misc]


BROKEN = [
    # (what, old text, new text, words the message must hold)
    (
        "unknown window key",
        "  cramp_window_days: 30",
        "  cramp_window_days: 30\n  cramp_windw_days: 30",
        ["windows.cramp_windw_days", "unknown"],
    ),
    (
        "missing limit key",
        "  potassium_low_mmol_l: 3.5\n",
        "",
        ["limits.potassium_low_mmol_l", "missing"],
    ),
    (
        "text for a number",
        "  overcorrection_mmol_per_24h: 8",
        '  overcorrection_mmol_per_24h: "8"',
        ["limits.overcorrection_mmol_per_24h", "must be a number"],
    ),
    (
        "bool for a number",
        "  delta_window_hours: 48",
        "  delta_window_hours: yes",
        ["windows.delta_window_hours", "must be a number"],
    ),
    (
        "text for a contract limit",
        "max_duplicate_rate: 0.20",
        "max_duplicate_rate: twenty percent",
        ["contracts.max_duplicate_rate", "must be a number"],
    ),
    (
        "unknown top-level section",
        "workup_analytes:",
        "workup_analytez: []\nworkup_analytes:",
        ["workup_analytez", "unknown section"],
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "words"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN]
)
def test_a_broken_rules_file_is_a_config_error_naming_key_and_file(
    tmp_path: Path, old: str, new: str, words: list[str]
) -> None:
    rules = _rules_copy(tmp_path, old, new)
    with pytest.raises(ConfigError) as caught:
        load_rules(rules)
    message = str(caught.value)
    assert str(rules / "rules.yaml") in message
    for word in words:
        assert word in message, message


def test_optional_sections_may_be_left_out(tmp_path: Path) -> None:
    assert TOP_LEVEL_SECTIONS["audit"] is False
    rules = _rules_copy(tmp_path, "audit:", "unused_audit:")
    with pytest.raises(ConfigError, match="unused_audit"):
        load_rules(rules)


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("  albumin_window_hours: 24", "  albumin_window_hour: 24", "windows.albumin_window_hour"),
        ("  trend_change_mmol_l: 2", "  trend_change_mmol_l: two", "limits.trend_change_mmol_l"),
    ],
)
def test_the_cli_exits_2_and_names_the_key(tmp_path: Path, old: str, new: str, key: str) -> None:
    rules = _rules_copy(tmp_path, old, new)
    done = run_cli(
        "run", "--no-flow", "--input", str(SAMPLE),
        "--window-start", "2026-11-20T00:00:00", "--window-end", "2026-11-21T00:00:00",
        "--rules", str(rules), "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert key in done.stderr and "rules.yaml" in done.stderr
    assert "Traceback" not in done.stderr
