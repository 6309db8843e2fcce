"""Many windows, one read, when the input does not stay in memory or takes another path: a
shared read that outgrows memory spills once, a partitioned backfill, an OMOP extract, a
two-month audit and the Prefect flow; each window equals its lone run (shared_read_runs)."""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from shared_read_runs import (
    BERLIN,
    DST_NIGHTS,
    OUTPUTS,
    SAMPLE,
    assert_same_windows,
    edge_extract,
    lone_nights,
    run_cli,
    site_mapping,
    timings_of,
)


def test_a_shared_read_that_outgrows_memory_is_spilled_once_into_partitions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the in-memory cap (lowered to 50 rows for the 171-row sample) the input is spilled
    once into partitions and every window is cut from that spill: a lone in-memory run's
    outputs, and no spill folder left behind."""
    from hyposcreen.runners import spill

    nights = ["2026-11-19", "2026-11-20"]
    lone, shared = tmp_path / "lone", tmp_path / "shared"
    lone_nights(lone, SAMPLE, nights)
    monkeypatch.setattr(spill, "MEMORY_ROW_CAP", 50)
    capsys.readouterr()
    assert run_cli(shared, SAMPLE, "--backfill", nights[0], nights[-1]) == 0
    said = capsys.readouterr().err
    assert re.search(r"read the input once into \d+ partitions for 2 windows", said)
    for night in nights:
        for name in OUTPUTS:
            expected = (lone / "out" / night / name).read_bytes()
            assert (shared / "out" / night / name).read_bytes() == expected
        manifest = json.loads((shared / "out" / night / "run_manifest.json").read_text())
        assert manifest["partitions"] >= 2 and "read_slice" in manifest["timings"]
    assert sorted(p.name for p in (shared / "out").iterdir()) == nights  # no spill debris
    assert not list(shared.glob(".hyposcreen-partitions-*"))


def test_a_partitioned_backfill_spills_once_and_equals_lone_partitioned_nights(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--partitions 3 over the edge extract with the Berlin night: one spill, each night's
    spill files cut from it (rows renumbered as a lone read numbers them)."""
    extract = edge_extract(tmp_path / "in", DST_NIGHTS, BERLIN)
    mapping = site_mapping(tmp_path, BERLIN)
    lone, shared = tmp_path / "lone", tmp_path / "shared"
    parts = ["--partitions", "3"]
    lone_nights(lone, extract, DST_NIGHTS, *parts, mapping=mapping)
    capsys.readouterr()
    backfill = ["--backfill", DST_NIGHTS[0], DST_NIGHTS[-1], *parts]
    assert run_cli(shared, extract, *backfill, mapping=mapping) in (0, 4)
    assert "read the input once into 3 partitions for 3 windows" in capsys.readouterr().err
    assert_same_windows(lone, shared, DST_NIGHTS)
    assert {"read_slice"} == {k for k in timings_of(shared, "2026-10-26") if k.startswith("read_")}
    assert not list((shared / "out").glob(".hyposcreen-partitions-*"))


@pytest.mark.slow
def test_a_backfill_of_an_omop_extract_reads_per_window_and_equals_lone_nights(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A source adapter drops rows far from the window before naming other reasons: its
    windows read for themselves, with a lone run's outputs."""
    from sample_data import to_omop

    extract = tmp_path / "omop"
    to_omop.convert(extract)
    nights = ["2026-11-19", "2026-11-20"]
    lone, shared = tmp_path / "lone", tmp_path / "shared"
    lone_nights(lone, extract, nights, "--source", "omop")
    capsys.readouterr()
    assert run_cli(shared, extract, "--backfill", nights[0], nights[-1], "--source", "omop") == 0
    assert "read the input once" not in capsys.readouterr().err
    assert_same_windows(lone, shared, nights)


def test_an_audit_of_two_months_reads_once_and_equals_the_per_month_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """October and November of the edge extract (rows on the turn of the month), with the
    patient export: every audit output byte for byte as with one read per month, but for the
    data contracts, which are judged once per read: once over the shared read (`[total]`,
    and October by its counts, audit_month_contracts), once a month over the months' own
    reads (`[2026-10]`: the extract's 3 non-numeric sodium results are October's)."""
    from hyposcreen.audit import AuditSettings, run_audit
    from hyposcreen.report.pseudonyms import KEY_ENV

    monkeypatch.setenv(KEY_ENV, "9f2c4e7a1b3d5f6081a2c3e4f5061728394a5b6c7d8e9f00112233445566778a")
    extract = edge_extract(tmp_path / "in", DST_NIGHTS, BERLIN)
    settings = AuditSettings(
        input_dir=extract,
        out_dir=tmp_path / "per-month",
        start=pd.Timestamp("2026-10-01"),
        end=pd.Timestamp("2026-12-01"),
        mapping_path=site_mapping(tmp_path, BERLIN),
    )
    run_audit(settings, share_read=False)
    assert "read the input once" not in capsys.readouterr().err
    run_audit(replace(settings, out_dir=tmp_path / "shared"))
    assert "read the input once for 2 windows" in capsys.readouterr().err
    for name in ["audit_tables.csv", "audit_patients.csv"]:
        expected = (tmp_path / "per-month" / name).read_bytes()
        assert (tmp_path / "shared" / name).read_bytes() == expected, name
    judged = {}
    for read in ("per-month", "shared"):
        manifest = json.loads((tmp_path / read / "audit_manifest.json").read_text("utf-8"))
        page = (tmp_path / read / "audit.html").read_text("utf-8")
        contracts = [w for w in manifest["warnings"] if w["code"].startswith("contract_")]
        for warning in contracts:  # the contracts' warnings, by read: the page without them
            page = page.replace(f"<li>{html.escape(warning['message'])}</li>", "")
            manifest["warnings"].remove(warning)
        reads = manifest.pop("contracts")["reads"]
        judged[read] = (reads, [w["period"] for w in contracts], manifest, page)
    assert judged["per-month"][:2] == (2, ["2026-10"])
    assert judged["shared"][:2] == (1, ["total", "2026-10"])
    assert judged["shared"][2:] == judged["per-month"][2:]
    patients = pd.read_csv(tmp_path / "shared" / "audit_patients.csv", dtype=str)
    assert set(patients["period"]) == {"2026-10", "2026-11"}


@pytest.mark.flow
@pytest.mark.usefixtures("prefect_harness")
def test_the_flow_reads_a_backfill_once_in_one_task_and_equals_lone_nights(tmp_path: Path) -> None:
    """The Prefect flow: one read-once task run for the backfill, one read task per night
    (cutting from it), and every night's outputs those of a lone run."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    from flows.nightly import nightly_screen

    nights = ["2026-11-19", "2026-11-20"]
    lone, shared = tmp_path / "lone", tmp_path / "shared"
    lone_nights(lone, SAMPLE, nights)
    state = nightly_screen(
        input=str(SAMPLE),
        out=str(shared / "out"),
        backfill_start=nights[0],
        backfill_end=nights[-1],
        notify=False,
        return_state=True,
    )
    assert state.is_completed(), state.message
    assert_same_windows(lone, shared, nights)
    run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id]))
        )
    keys = sorted(run.task_key.rsplit("-", 1)[0] for run in runs)
    assert keys.count("read_once") == 1 and keys.count("read") == 2, keys


@pytest.mark.flow
@pytest.mark.usefixtures("prefect_harness")
def test_the_flow_spills_a_partitioned_backfill_once(tmp_path: Path) -> None:
    """partitions=2: one spill-once task run, each night's partitioned task cut from it; the
    nights' outputs those of lone partitioned runs; no spill folder left."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    from flows.nightly import nightly_screen

    nights = ["2026-11-19", "2026-11-20"]
    lone, shared = tmp_path / "lone", tmp_path / "shared"
    lone_nights(lone, SAMPLE, nights, "--partitions", "2")
    state = nightly_screen(
        input=str(SAMPLE),
        out=str(shared / "out"),
        backfill_start=nights[0],
        backfill_end=nights[-1],
        partitions=2,
        notify=False,
        return_state=True,
    )
    assert state.is_completed(), state.message
    assert_same_windows(lone, shared, nights)
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(
                id=FlowRunFilterId(any_=[state.state_details.flow_run_id])
            )
        )
    keys = sorted(run.task_key.rsplit("-", 1)[0] for run in runs)
    assert keys.count("spill_once") == 1 and keys.count("screen_partitioned") == 2, keys
    assert sorted(p.name for p in (shared / "out").iterdir()) == nights
