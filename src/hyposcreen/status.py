"""`hyposcreen status`: which nights were screened, failed or are still to do, from the state.

Reads the nightly state (SQLite), the last run's run_manifest.json (counts and warnings only)
and, when PREFECT_API_URL names a Prefect server, the next scheduled flow run over its REST
API (plain HTTP: nothing under src/hyposcreen imports Prefect). Prints no identifiers.
"""

from __future__ import annotations

import json
import os
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hyposcreen.config import load_mapping
from hyposcreen.state import StateStore, require_state
from hyposcreen.windows import plan_windows

FLOW_NAME = "nightly-screen"
_NO_SERVER = (
    "none known (no Prefect server set: set PREFECT_API_URL, e.g. http://127.0.0.1:4242/api, "
    "to ask it)"
)
SHOWN = 7  # nights listed per section


@dataclass
class Status:
    site: str
    screened: list[dict[str, Any]]
    failed: list[dict[str, Any]]
    pending: list[str]
    last: dict[str, Any] = field(default_factory=dict)
    next_run: str | None = None
    timezone: str = "UTC"  # the site's: the failures' times are told in it, as the next run's

    def lines(self) -> list[str]:
        out = [
            f"site {self.site}: {len(self.screened)} night(s) screened, {len(self.failed)} "
            f"failed, {len(self.pending)} pending"
        ]
        for run in self.screened[-SHOWN:]:
            out.append(
                f"  screened {run['window_start'][:10]}: {run['listed']} case(s), "
                f"{run['out_dir']}{_gone(run['out_dir'])}"
            )
        for fail in self.failed[-SHOWN:]:
            out.append(
                f"  FAILED   {fail['window_start'][:10]} at "
                f"{_site_time(fail['failed_at'], self.timezone)}: "
                f"{fail['error_type']}: {fail['message']}"
            )
        if self.pending:
            shown = ", ".join(day[:10] for day in self.pending[:SHOWN])
            more = f" (+{len(self.pending) - SHOWN} more)" if len(self.pending) > SHOWN else ""
            out.append(f"  pending  {shown}{more}")
        if self.last:
            out.append(f"last run: {self.last['summary']}")
            out += [f"  warning: {w}" for w in self.last.get("warnings", [])]
        out.append(f"next scheduled run: {self.next_run or _NO_SERVER}")
        return out


def read_status(state_dir: Path, mapping_path: Path | None = None) -> Status:
    require_state(state_dir)
    site = load_mapping(mapping_path)
    store = StateStore(state_dir, site.site, read_only=True)  # an older nightly keeps it
    store.require_this_site(state_dir)
    screened = store.runs().to_dict("records")
    failed = store.failures().to_dict("records")
    pending = [
        w.start.isoformat()
        for w in plan_windows(
            None, None, site.timezone, state_dir=state_dir, site=site.site, read_only=True
        )
    ]
    failed_days = {f["window_start"] for f in failed}
    pending = [day for day in pending if day not in failed_days]
    return Status(
        site.site,
        screened,
        failed,
        pending,
        _last(screened, failed),
        next_scheduled_run(site.timezone),
        site.timezone,
    )


def _last(screened: list[dict[str, Any]], failed: list[dict[str, Any]]) -> dict[str, Any]:
    """The most recent outcome: a failure recorded after the last success wins."""
    if failed and (not screened or max(f["failed_at"] for f in failed) >= _screened_at(screened)):
        fail = max(failed, key=lambda f: f["failed_at"])
        return {
            "summary": f"FAILED ({fail['error_type']}) for {fail['window_start'][:10]}",
            "warnings": [],
        }
    if not screened:
        return {}
    run = screened[-1]
    if _gone(run["out_dir"]):
        return {
            "summary": f"screened {run['window_start'][:10]}: {run['listed']} case(s) listed "
            f"in {run['out_dir']}{_gone(run['out_dir'])}",
            "warnings": [],
        }
    manifest = _manifest(Path(run["out_dir"]))
    warnings = [_warning_text(w) for w in manifest.get("warnings", []) or []]
    tiers = manifest.get("counts_per_tier") or {}
    outcome = "screened with warnings" if warnings else "screened"
    return {
        "summary": f"{outcome} {run['window_start'][:10]}: {run['listed']} case(s) listed "
        f"(urgent {tiers.get('1', '?')}, soon {tiers.get('2', '?')}, routine "
        f"{tiers.get('3', '?')}) in {run['out_dir']}",
        "warnings": warnings,
    }


def _gone(out_dir: str) -> str:
    """What to add to a screened night whose list is no longer in its folder (the folder
    deleted or moved by hand, the outputs' disk not mounted): the state alone remembers it."""
    if (Path(out_dir) / "review_list.csv").is_file():
        return ""
    return " (its review list is not there: folder moved or deleted?)"


def _warning_text(warning: Any) -> str:
    """A manifest warning ({"code", "message"}) as the run printed it: its message."""
    if isinstance(warning, dict) and "message" in warning:
        return str(warning["message"])
    return str(warning)


def _manifest(out_dir: Path) -> dict[str, Any]:
    try:
        loaded = json.loads((out_dir / "run_manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _screened_at(screened: list[dict[str, Any]]) -> str:
    """When the last night was recorded as screened, as the state says (copying the outputs
    elsewhere renews their files' times), else, for nights recorded before the state kept it,
    the time of the latest night's manifest."""
    recorded = [run["screened_at"] for run in screened if isinstance(run.get("screened_at"), str)]
    if recorded:
        return max(recorded)
    path = Path(screened[-1]["out_dir"]) / "run_manifest.json"
    try:
        from datetime import UTC, datetime

        return datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="seconds")
    except OSError:
        return ""


def next_scheduled_run(timezone: str = "UTC") -> str | None:
    """The next scheduled nightly-screen flow run on the configured Prefect server, if any, at
    its time in the site's `timezone` (the schedule's: 02:00 there), with the offset."""
    url = os.environ.get("PREFECT_API_URL")
    if not url:
        return None
    query = {
        "flows": {"name": {"any_": [FLOW_NAME]}},
        "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}},
        "sort": "EXPECTED_START_TIME_ASC",
        "limit": 1,
    }
    request = urllib.request.Request(  # noqa: S310 - the operator's own Prefect API
        f"{url.rstrip('/')}/flow_runs/filter",
        data=json.dumps(query).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            runs = json.loads(response.read())
    except (OSError, ValueError) as exc:
        return f"unknown (the Prefect API at {url} did not answer: {exc})"
    if not runs:
        return "none scheduled (is the serve process running?)"
    run = runs[0]
    when = run.get("expected_start_time") or run.get("next_scheduled_start_time")
    return f"{_site_time(when, timezone)} ({run['name']})"


def _site_time(when: object, timezone: str) -> str:
    """The server's UTC time (`2026-12-08T05:00:00Z`) at the site (`2026-12-08T02:00:00-03:00`);
    a time that does not read is shown as the server wrote it."""
    try:
        instant = datetime.fromisoformat(str(when).replace("Z", "+00:00"))
        return instant.astimezone(ZoneInfo(timezone)).isoformat(timespec="seconds")
    except (ValueError, TypeError, KeyError):
        return str(when)
