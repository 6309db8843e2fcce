"""Data Docs pages a loop of windows has already rendered, written again without rendering.

Windows cut from one read validate the same medications, diagnoses and patients every night:
the same suites, and results reused from the night before (validate/remembered.py). GX
renders each of their pages in ~5 ms (Jinja over GX's render components); the pages are the
same every night but for the run's time. While a loop remembers results:

- a suite page (``expectations/<suite>.html``) depends on the suite only: kept with the
  suite object it was rendered from, written again for that same object (the suite of a
  result reused from the night before; nothing here changes a suite once built);
- a validation page of a result whose expectation results, statistics and meta (but its run
  id and validation time) are those of a result already rendered is that page with the run
  time restamped. GX writes a `RunIdentifier`'s run time twice on the page: the title's
  ``%Y-%m-%dT%H:%M:%S.%fZ`` and the info table's ``%Y-%m-%dT%H:%M:%SZ``
  (`ValidationResultsPageRenderer._parse_run_values`, `_render_validation_info`); a page is
  kept only when each of the two stamps is found exactly once in it, so nothing else on it
  can be mistaken for them. Its offline copy (docs.make_offline) is likewise the offline
  copy of the page it came from, restamped. Anything else is rendered as before.

Leaving the loop forgets the pages (remembered.remembering_results).
"""

from __future__ import annotations

import json
from typing import Any

from hyposcreen.validate.remembered import LOOP_MEMOS, remembering

_LONG, _SHORT = "%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ"  # GX's two run-time formats
_SUITES: dict[str, tuple[Any, str]] = {}  # suite name -> (suite, page)
_VALIDATIONS: dict[str, tuple[Any, ...]] = {}  # suite name -> what the page was rendered from
_RESTAMPED: dict[str, tuple[str, str, tuple[str, str], tuple[str, str]]] = {}  # name -> ...
LOOP_MEMOS.extend([_SUITES, _VALIDATIONS, _RESTAMPED])


def suite_page(suite: Any) -> str | None:
    """The page rendered in this loop for this very suite object (a reused result's suite is
    the one validated before), or None."""
    kept = _SUITES.get(suite.name) if remembering() else None
    return kept[1] if kept is not None and kept[0] is suite else None


def keep_suite_page(suite: Any, html: str | None) -> None:
    if html is not None and remembering():
        _SUITES[suite.name] = (suite, html)


def validation_page(result: Any) -> str | None:
    """The page of `result` from the page of an equal result (its run time restamped), or
    None when there is none."""
    if not remembering():
        return None
    kept = _VALIDATIONS.get(result.suite_name)
    stamps = _stamps(result)
    if kept is None or stamps is None:
        return None
    results, content, old, html = kept
    if result.results is not results or _content(result) != content:
        return None
    page = str(html.replace(old[0], stamps[0]).replace(old[1], stamps[1]))
    _RESTAMPED[result.suite_name] = (page, html, old, stamps)
    return page


def restamped(page: str) -> tuple[str, tuple[str, str], tuple[str, str]] | None:
    """For a page `validation_page` wrote in this loop: the page it was restamped from, its
    stamps and the new ones (docs.make_offline makes that page offline once, then restamps)."""
    for written, rendered, old, new in _RESTAMPED.values():
        if written == page:
            return rendered, old, new
    return None


def keep_validation_page(result: Any, html: str | None) -> None:
    stamps = _stamps(result)
    if html is None or stamps is None or not remembering():
        return
    if html.count(stamps[0]) != 1 or html.count(stamps[1]) != 1:
        _VALIDATIONS.pop(result.suite_name, None)
        return
    _VALIDATIONS[result.suite_name] = (result.results, _content(result), stamps, html)


def _stamps(result: Any) -> tuple[str, str] | None:
    from great_expectations.core.run_identifier import RunIdentifier

    run_id = result.meta.get("run_id")
    if not isinstance(run_id, RunIdentifier) or run_id.run_time is None:
        return None
    return run_id.run_time.strftime(_LONG), run_id.run_time.strftime(_SHORT)


def _content(result: Any) -> str:
    """Everything of the result the page shows but its expectation results (compared as the
    same list) and its run time: meta, statistics, success, names, the run's name."""
    meta = {k: v for k, v in result.meta.items() if k not in ("run_id", "validation_time")}
    run_id = result.meta.get("run_id")
    return json.dumps(
        {
            "meta": meta,
            "run_name": getattr(run_id, "run_name", None),
            "statistics": result.statistics,
            "success": result.success,
            "suite_name": result.suite_name,
            "batch_id": result.batch_id,
        },
        sort_keys=True,
        default=repr,
    )
