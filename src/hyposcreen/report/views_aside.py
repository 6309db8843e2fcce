"""The review page and workbook of a run written by its contracts worker, beside the run.

A loop of windows (a backfill, a catch-up, `audit`) publishes every night's page and workbook,
a few tens of ms each in the run's own process. Where the run has a contracts worker
(validate/worker_client.py), the night's review list goes to it for its contract anyway; the
frames those two files are made from go with it (`views_request`), and once the list passed,
the worker calls `write_views` here (validate/worker.py) while this process writes the CSVs.
The worker writes exactly what this process would: the same code over the same frames (their
dtypes checked on arrival) and the same `PageInfo`, sent only when it comes back from JSON
equal. When the worker fails, the run writes both files itself (recipe_publish).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pandas as pd

from hyposcreen.report.page_cases import plotted_results
from hyposcreen.report.review_page import PageInfo, write_review_views

_TIMES = ("window_start", "window_end", "context_start")
_TUPLES = ("warnings", "coverage")


def views_request(
    out_dir: Path,
    review: pd.DataFrame,
    sodium_results: pd.DataFrame,
    evidence: pd.DataFrame,
    info: PageInfo,
) -> tuple[dict[str, Any], dict[str, pd.DataFrame]] | None:
    """What the worker is told and sent to write the page and workbook into `out_dir` (the
    run's staging folder), or None when `info` does not come back from JSON as it is."""
    told = {"call": f"{__name__}:write_views", "out_dir": str(out_dir), "info": _info_message(info)}
    try:
        sent = json.loads(json.dumps(told))
        if _info_from(sent["info"]) != info:
            return None
    except (TypeError, ValueError):
        return None
    frames = {
        "review": review,
        "plotted": plotted_results(review, sodium_results, info),
        "evidence": evidence,
    }
    return told, frames


def write_views(told: dict[str, Any], frames: dict[str, pd.DataFrame]) -> None:
    """The page and workbook (in the worker), from `views_request`'s message and frames."""
    info = _info_from(told["info"])
    out_dir = Path(told["out_dir"])
    write_review_views(out_dir, frames["review"], frames["plotted"], frames["evidence"], info)


def _info_message(info: PageInfo) -> dict[str, Any]:
    message = dataclasses.asdict(info)
    for name in _TIMES:
        moment = getattr(info, name)
        message[name] = [moment.isoformat(), None if moment.tz is None else str(moment.tz)]
    message["atc_combinations"] = {k: list(v) for k, v in info.atc_combinations.items()}
    for name in _TUPLES:
        message[name] = list(message[name])
    return message


def _info_from(message: dict[str, Any]) -> PageInfo:
    values = dict(message)
    for name in _TIMES:
        text, zone = values[name]
        values[name] = pd.Timestamp(text) if zone is None else pd.Timestamp(text).tz_convert(zone)
    values["atc_combinations"] = {k: tuple(v) for k, v in values["atc_combinations"].items()}
    for name in _TUPLES:
        values[name] = tuple(values[name])
    return PageInfo(**values)
