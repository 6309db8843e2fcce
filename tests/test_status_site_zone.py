"""`hyposcreen status` tells its times in the site's time zone (the mapping's `timezone`), the
zone of the schedule's 02:00, with their offsets."""

from __future__ import annotations

from pathlib import Path

import pytest

from hyposcreen.cli import main


def test_status_tells_a_failure_s_time_in_the_site_time_zone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A São Paulo site's failed night was told `at 2026-12-07T15:04:48+00:00` beside a next
    run told in the site's zone: both are the site's time now, with its offset (-03:00)."""
    mapping = tmp_path / "site.yaml"
    mapping.write_text("site: sp\ntimezone: America/Sao_Paulo\n", encoding="utf-8")
    empty = tmp_path / "empty"
    empty.mkdir()
    night = ["--window-start", "2026-11-21T00:00:00", "--window-end", "2026-11-22T00:00:00"]
    state = ["--state-dir", str(tmp_path / "state"), "--mapping", str(mapping)]
    failing = ["run", "--no-flow", "--input", str(empty), *night, *state]
    assert main([*failing, "--out", str(tmp_path / "out")]) == 3
    capsys.readouterr()
    assert main(["status", *state]) == 0
    failed = next(line for line in capsys.readouterr().out.splitlines() if "FAILED   " in line)
    told = failed.split(" at ", 1)[1].split(": ", 1)[0]
    assert told.endswith("-03:00"), failed
