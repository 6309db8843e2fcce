"""GX Data Docs for this run's validation results only, rendered by GX's own renderers.

GX's site builder (a checkpoint's UpdateDataDocsAction, `context.build_data_docs`) reads every
result back from the context's store, renders its pages, copies 4 MB of static assets (fonts and
images the pages never load) and rebuilds GX's index page, which docs.make_offline deletes for
our own. Here the results in hand are rendered directly: `ValidationResultsPageRenderer` and
`ExpectationSuitePageRenderer` with `DefaultJinjaPageView`, written where the site builder
writes them (``validations/<suite>/<run name>/<run time>/<batch>.html``,
``expectations/<suite>.html``), plus GX's style sheets. The view (its Jinja environment, whose
templates take ~0.3 s to compile) is built once per process and reused by every window; a
page equal to one already rendered in a loop of windows is not rendered again
(validate/page_memo.py).
"""

from __future__ import annotations

import logging
import shutil
import threading
from importlib import resources
from pathlib import Path
from typing import Any

from hyposcreen.errors import naming_the_file
from hyposcreen.validate import page_memo
from hyposcreen.validate.context import Validated

logger = logging.getLogger(__name__)

_STATIC_KEPT = ("styles", "images/favicon.ico")  # what the pages reference locally

_LOCK = threading.Lock()


class _Views:
    page: Any = None


def _page_view() -> Any:
    with _LOCK:
        if _Views.page is None:
            from great_expectations.render.view import DefaultJinjaPageView

            _Views.page = DefaultJinjaPageView()
        return _Views.page


def prepare() -> None:
    """Build the page view and compile its templates (what the first render would do)."""
    environment = _page_view().env
    for name in environment.list_templates(extensions=["j2"]):
        environment.get_template(name)


def write_pages(validated: list[Validated], docs_dir: Path) -> None:
    """One validation page and one suite page per result, and GX's style sheets."""
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )
    from great_expectations.render.renderer import (
        ExpectationSuitePageRenderer,
        ValidationResultsPageRenderer,
    )

    view = _page_view()
    docs_dir.mkdir(parents=True, exist_ok=True)
    _copy_static(docs_dir)
    for item in validated:
        suite_id = ExpectationSuiteIdentifier(name=item.result.suite_name)
        key = ValidationResultIdentifier(suite_id, item.result.meta["run_id"], item.batch_id)
        page = docs_dir.joinpath("validations", *key.to_tuple()).with_suffix(".html")
        html = page_memo.validation_page(item.result)
        if html is None:
            html = _render(page, view, ValidationResultsPageRenderer(), item.result)
            page_memo.keep_validation_page(item.result, html)
        _write(page, html)
        page = docs_dir.joinpath("expectations", *suite_id.to_tuple()).with_suffix(".html")
        html = page_memo.suite_page(item.suite)
        if html is None:
            html = _render(page, view, ExpectationSuitePageRenderer(), item.suite)
            page_memo.keep_suite_page(item.suite, html)
        _write(page, html)


def _render(page: Path, view: Any, renderer: Any, resource: Any) -> str | None:
    """Render like GX's site builder: a page that fails to render is left out, logged (the
    run's own outcomes and our index do not depend on it)."""
    try:
        return str(view.render(renderer.render(resource), show_how_to_buttons=True))
    except Exception as error:  # GX's site builder logs and skips as well
        logger.error("Data Docs: %s was not rendered (%s)", page.name, type(error).__name__)
        return None


def _write(page: Path, html: str | None) -> None:
    if html is None:
        return
    page.parent.mkdir(parents=True, exist_ok=True)
    with naming_the_file(page):  # a write the machine stops (a full disk) names the page
        page.write_text(html, encoding="utf-8")


def _copy_static(docs_dir: Path) -> None:
    """The style sheets and icon the pages use, copied as new files: their modes come from the
    run's umask like every other output, never from the installed package's files."""
    source = resources.files("great_expectations").joinpath("render", "view", "static")
    for item in _STATIC_KEPT:
        origin = Path(str(source.joinpath(*item.split("/"))))
        files = sorted(p for p in origin.rglob("*") if p.is_file()) if origin.is_dir() else [origin]
        for path in files:
            if not path.is_file():
                continue
            target = docs_dir.joinpath("static", *item.split("/"), *path.relative_to(origin).parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
