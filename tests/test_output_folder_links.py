"""A night's output folder swapped in whole (report.folders) when `<out>/<date>` is a symbolic
link or a hidden leftover's name holds no ASCII pid: the real CLI on the sample, real folders.

A link to a folder outside --out (outputs kept on another disk) was renamed to the hidden
`.<date>.previous-<pid>` and then handed to rmtree, which refuses links (the error ignored): the
link stayed there for good, and no later run removed it. A `.<date>.partial-¹` folder passed
`str.isdigit()` and `int()` refused it: exit 70. Links are now unlinked (their target left as it
is), and a pid is read only from ASCII digits.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hyposcreen.cli import main
from hyposcreen.report.folders import is_pid_text, remove_dead_debris
from sample_delivery import SAMPLE

DAY = "2026-11-20"


def night(out: Path) -> int:
    return main(
        ["run", "--no-flow", "--input", str(SAMPLE), "--out", str(out), "--window-start", DAY]
    )


def hidden(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.name.startswith("."))


def kept_elsewhere(tmp_path: Path) -> tuple[Path, bytes]:
    """A folder outside --out holding an earlier night's outputs, and its manifest's bytes."""
    elsewhere = tmp_path / "other-disk" / DAY
    elsewhere.mkdir(parents=True)
    (elsewhere / "run_manifest.json").write_text('{"kept": true}', encoding="utf-8")
    return elsewhere, (elsewhere / "run_manifest.json").read_bytes()


def test_a_night_folder_that_is_a_link_is_replaced_and_its_target_left_alone(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    elsewhere, manifest = kept_elsewhere(tmp_path)
    (out / DAY).symlink_to(elsewhere, target_is_directory=True)
    assert night(out) == 0
    assert hidden(out) == []  # no `.2026-11-20.previous-<pid>` link left behind
    assert not (out / DAY).is_symlink() and (out / DAY / "review_list.csv").is_file()
    assert (elsewhere / "run_manifest.json").read_bytes() == manifest  # never followed
    assert sorted(p.name for p in elsewhere.iterdir()) == ["run_manifest.json"]


def test_a_previous_link_a_run_left_is_removed_by_the_next_run(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    assert night(out) == 0
    elsewhere, manifest = kept_elsewhere(tmp_path)
    leftover = out / f".{DAY}.previous-4194303"  # as an earlier run's swap left it
    leftover.symlink_to(elsewhere, target_is_directory=True)
    dangling = out / f".{DAY}.partial-4194302"
    dangling.symlink_to(tmp_path / "gone", target_is_directory=True)
    assert night(out) == 0
    assert hidden(out) == []
    assert (elsewhere / "run_manifest.json").read_bytes() == manifest


def test_hidden_names_with_non_ascii_digits_are_no_pids(tmp_path: Path) -> None:
    out = tmp_path / "out"
    for name in (f".{DAY}.partial-¹", f".{DAY}.partial-٣", f".{DAY}.previous-²"):
        (out / name).mkdir(parents=True)
        (out / name / "review_list.csv").write_text("x\n", encoding="utf-8")
    assert night(out) == 0
    assert (out / DAY / "review_list.csv").is_file()
    assert hidden(out) == []  # dead debris: no process of that id runs


def test_scratch_debris_with_a_non_ascii_pid_is_judged_by_its_age(tmp_path: Path) -> None:
    debris = tmp_path / "hyposcreen-rows-¹-x1y2"
    debris.mkdir()
    assert remove_dead_debris(tmp_path, "hyposcreen-rows-") == []  # new: kept, no crash
    assert debris.is_dir()
    assert remove_dead_debris(tmp_path, "hyposcreen-rows-", max_age_without_pid=-1) == [debris]


def test_only_ascii_digits_are_a_pid() -> None:
    assert [is_pid_text(t) for t in ("123", "¹", "٣", "１２", "", "12a")] == [True] + [False] * 5


def test_a_dangling_night_link_is_replaced(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / DAY).symlink_to(tmp_path / "gone", target_is_directory=True)
    assert night(out) == 0
    assert (out / DAY / "review_list.csv").is_file() and hidden(out) == []


def test_a_server_pid_file_named_with_non_ascii_digits_is_no_owner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The orchestrator's temporary-server pid files are judged by the same test: a file whose
    owner is written `¹` is an orphan's (its server, no Prefect server, is left running)."""
    from flows import orchestrator

    monkeypatch.setattr(orchestrator, "prefect_home", lambda: tmp_path)
    (tmp_path / f"{orchestrator.PID_PREFIX}¹.pid").write_text("4194301", encoding="utf-8")
    assert orchestrator.stop_orphaned_servers() == []


def test_a_killed_run_s_partial_folder_of_another_night_is_removed(tmp_path: Path) -> None:
    """A backfill killed while building 2026-11-19 leaves `.2026-11-19.partial-<pid>` (the
    night's list, evidence and quarantine). The next run removes it although it screens
    another night; a live run's partial folder stays."""
    out = tmp_path / "out"
    dead = out / ".2026-11-19.partial-4194302"
    live = out / f".2026-11-19.partial-{os.getppid()}"
    for folder in (dead, live):
        folder.mkdir(parents=True)
        (folder / "review_list.csv").write_text("patient_id\nP001\n", encoding="utf-8")
    assert night(out) == 0
    assert hidden(out) == [live.name]
