"""The GX warm-up's default (validate/warm_up.py): HYPOSCREEN_GX_WARM_UP read as on / off /
auto, and "auto" importing beside the run only when a second core is actually free, judged
from the machine's idle time while the run starts (else its load average)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hyposcreen.validate import warm_up


@pytest.mark.parametrize(
    ("value", "mode"),
    [
        (None, "auto"),
        ("", "auto"),
        ("auto", "auto"),
        (" Auto ", "auto"),
        ("1", "on"),
        ("0", "off"),
        ("yes", "off"),
        ("true", "off"),
    ],
)
def test_the_setting_is_read_as_on_off_or_auto(value: str | None, mode: str) -> None:
    assert warm_up.setting(value) == mode


def test_idle_cpus_are_the_idle_share_of_the_ticks_times_the_cpus() -> None:
    # 2 CPUs, 40 ticks passed, 30 of them idle or waiting: 1.5 CPUs idle on average
    assert warm_up.idle_cpus((100, 1000, 2), (130, 1040, 2)) == pytest.approx(1.5)
    assert warm_up.idle_cpus((100, 1000, 2), (100, 1040, 2)) == 0.0
    assert warm_up.idle_cpus((100, 1000, 2), (100, 1000, 2)) is None  # no tick passed


@pytest.mark.parametrize(
    ("idle", "load", "cpus", "expected"),
    [
        (1.0, 9.0, 2, True),  # watched idle: the load average is not asked
        (0.5, None, 2, True),  # exactly half a CPU idle
        (0.45, 0.0, 2, False),
        (0.0, 0.0, 8, False),
        (3.0, 0.0, 1, False),  # one CPU: never
        (None, 0.99, 2, True),  # not watched: load below CPUs - 1
        (None, 1.0, 2, False),
        (None, 2.5, 4, True),
        (None, None, 4, False),  # nothing known: no
    ],
)
def test_a_second_core_is_free_when_half_a_cpu_stayed_idle(
    idle: float | None, load: float | None, cpus: int, expected: bool
) -> None:
    assert warm_up.second_core_free(idle, load, cpus) is expected


def test_the_cpu_times_are_read_from_proc_stat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stat = tmp_path / "stat"
    stat.write_text(
        "cpu  10 1 20 300 40 5 6 7 0 0\ncpu0 5 0 10 150 20 2 3 3 0 0\n"
        "cpu1 5 1 10 150 20 3 3 4 0 0\nintr 12345\n",
        encoding="ascii",
    )
    monkeypatch.setattr(warm_up, "_PROC_STAT", stat)
    assert warm_up.cpu_times() == (340, 389, 2)
    monkeypatch.setattr(warm_up, "_PROC_STAT", tmp_path / "missing")
    assert warm_up.cpu_times() is None


@pytest.mark.parametrize(
    ("quota", "period", "cpus"),
    [
        ("max 100000\n", None, None),  # cgroup v2 without a quota
        ("150000 100000\n", None, 1.5),  # cgroup v2: one and a half CPUs
        ("-1\n", "100000\n", None),  # cgroup v1 without a quota
        ("200000\n", "100000\n", 2.0),  # cgroup v1: two CPUs
        ("garbage", None, None),
    ],
)
def test_a_container_cpu_quota_is_read_in_cpus(
    quota: str, period: str | None, cpus: float | None
) -> None:
    assert warm_up.cpu_quota(quota, period) == cpus


def test_a_one_cpu_container_quota_caps_the_usable_cpus(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    quota = tmp_path / "cpu.max"
    quota.write_text("100000 100000\n", encoding="ascii")
    monkeypatch.setattr(warm_up, "_CGROUP_QUOTAS", ((quota, None),))
    assert warm_up.usable_cpus() == 1
    quota.write_text("max 100000\n", encoding="ascii")
    assert warm_up.usable_cpus() == len(os.sched_getaffinity(0))
