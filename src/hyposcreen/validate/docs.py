"""Make GX Data Docs readable where they are read: offline, on a hospital workstation.

GX's HTML pulls Bootstrap, jQuery, Font Awesome and its logo from public CDNs; offline the
pages render unstyled, the status icons are blank and the index (a JavaScript table) lists
nothing. `make_offline` strips every external asset, inlines a small stylesheet (status icons
as characters) and writes our own `index.html` that needs no JavaScript; GX's own index (a
JavaScript table, empty offline, with two dead "Clear Filters" buttons) is removed. The pages
lose the controls that need GX's scripts (the validation filter, "Show more info..."), the
newsletter footer and the "Data asset: None" line, long percentages are rounded
("≈79.9999999 %" reads "80 %") and a suite page's bound set per night reads "the run's
window_end" (GX shows ``{'$PARAMETER': 'window_end'}``; the validation page has its value).
Opening the docs then makes no network request at all.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from hyposcreen.errors import naming_the_file
from hyposcreen.validate import page_memo

_EXTERNAL_SCRIPT = re.compile(r"<script[^>]*\bsrc=[\"']https?://[^>]*>\s*</script>", re.I)
_EXTERNAL_LINK = re.compile(r"<link[^>]*\bhref=[\"']https?://[^>]*>", re.I)
_EXTERNAL_IMG = re.compile(r"<img[^>]*\bsrc=[\"']https?://[^>]*>", re.I)
_EXTERNAL_CSS_URL = re.compile(r"url\(\s*[\"']?https?://[^)]*\)", re.I)
_INLINE_SCRIPT = re.compile(r"<script>.*?</script>", re.I | re.S)
_HEAD_END = re.compile(r"</head>", re.I)
_FOOTER = re.compile(r"<footer>.*?</footer>", re.I | re.S)
# "Data asset: None<br>", any case (`_without_data_asset` drops the whitespace before it too:
# one pattern starting with `\s*` would be tried at every position of a page, ~5 ms a page)
_DATA_ASSET_NONE = re.compile(r"Data asset: None<br>", re.I)
_SHOW_MORE = re.compile(
    r"<p[^>]*>\s*<a data-toggle=\"collapse\"[^>]*>\s*Show more info\.\.\.\s*</a>\s*</p>"
)
_PERCENT = re.compile(r"(?=[≈\d])≈?(\d+\.\d+)\s*%")  # (tried only where one can start)
_LIMIT = re.compile(r"above (\d+(?:\.\d+)?)\s?%")  # a rate check's limit, as its detail states
_LONG_DECIMAL = re.compile(r">(\d+\.\d{5,})<")  # a long number alone in a badge
# how GX's suite page shows a bound GX fills in at validation (validate/run.NIGHT_PARAMETERS)
_SUITE_PARAMETER = re.compile(r"\{'\$PARAMETER': '([A-Za-z_]\w*)'\}")

_STYLE = (
    "<style>"
    "body{font:14px/1.45 system-ui,sans-serif;margin:1.5rem;color:#1d1d1d}"
    "table{border-collapse:collapse;margin:.5rem 0 1rem}"
    "td,th{border:1px solid #ccc;padding:.3rem .5rem;vertical-align:top;text-align:left}"
    "th{background:#f1f3f5}h1,h2,h3,h4,h5,h6{margin:1rem 0 .4rem}"
    '.fa-check-circle::before{content:"\\2714  passed";color:#1b6e2a;font-weight:600}'
    '.fa-times::before,.fa-times-circle::before{content:"\\2716  failed";color:#b00020;'
    "font-weight:600}.fas{font-style:normal}"
    ".invisible,.modal,.ge-walkthrough-modal,#ge-cta-footer{display:none}"
    ".hyposcreen-offline{background:#fff8e1;border:1px solid #e0c060;padding:.4rem .6rem}"
    "</style>"
)
_NOTICE = (
    '<p class="hyposcreen-offline">Offline copy: external styles and scripts were removed by '
    'hyposcreen. <a href="{index}">Back to the run\'s validation summary</a>.</p>'
)


def make_offline(docs_dir: Path, outcomes: Iterable[dict[str, Any]], title: str) -> Path:
    """Rewrite every Data Docs page in `docs_dir` for offline reading; return the new index."""
    gx_index = docs_dir / "index.html"
    if gx_index.is_file():
        gx_index.unlink()
    for page in sorted(docs_dir.rglob("*.html")):
        with naming_the_file(page):  # a write the machine stops (a full disk) names the file
            _strip_page(page, docs_dir)
    for sheet in sorted(docs_dir.rglob("*.css")):
        css = sheet.read_text(encoding="utf-8")
        with naming_the_file(sheet):
            sheet.write_text(_EXTERNAL_CSS_URL.sub("none", css), encoding="utf-8")
    index = docs_dir / "index.html"
    with naming_the_file(index):
        index.write_text(_render_index(docs_dir, list(outcomes), title), encoding="utf-8")
    return index


def _strip_page(page: Path, docs_dir: Path) -> None:
    depth = len(page.relative_to(docs_dir).parts) - 1
    html = page.read_text(encoding="utf-8")
    known = page_memo.restamped(html)
    if known is not None:  # the offline copy of the page it was restamped from, restamped
        rendered, old, new = known
        offline = _offline_html(rendered, depth)
        if offline.count(old[0]) == 1 and offline.count(old[1]) == 1:
            html = offline.replace(old[0], new[0]).replace(old[1], new[1])
            page.write_text(html, encoding="utf-8")
            return
    page.write_text(_offline_html(html, depth), encoding="utf-8")


@functools.lru_cache(maxsize=16)
def _offline_html(html: str, depth: int) -> str:
    """The page `html`, `depth` folders below the docs' index, for offline reading (a pure
    function of the two, kept for the pages a loop of windows writes every night: the same
    suites' pages, validation/page_memo.py)."""
    html = _EXTERNAL_SCRIPT.sub("", html)
    html = _EXTERNAL_LINK.sub("", html)
    html = _EXTERNAL_IMG.sub("", html)
    html = _EXTERNAL_CSS_URL.sub("none", html)
    html = _INLINE_SCRIPT.sub("", html)  # jQuery/Bootstrap glue: dead without its libraries
    html = _FOOTER.sub("", html)  # GX's newsletter invitation
    html = _without_data_asset(html)
    html = _SHOW_MORE.sub("", html)  # the details it would expand are shown anyway
    html = _remove_card(html, "<strong>Actions</strong>")  # the validation filter needs JS
    html = _PERCENT.sub(lambda m: f"{_round(m.group(1))} %", html)
    html = _LONG_DECIMAL.sub(lambda m: f">{_round(m.group(1))}<", html)
    html = _SUITE_PARAMETER.sub(lambda m: f"the run's {m.group(1)}", html)  # set per night
    back = Path(*[".."] * depth, "index.html")
    notice = _NOTICE.format(index=back.as_posix())
    html = _HEAD_END.sub(lambda _: _STYLE + "</head>", html, count=1)
    return re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + notice, html, count=1, flags=re.I)


def _without_data_asset(html: str) -> str:
    """`html` without each "Data asset: None<br>" (any case) and the whitespace before it, as
    ``re.sub(r"\\s*Data asset: None<br>", "", html, flags=re.I)`` leaves it: the whitespace
    run before an occurrence, back to the end of the one before (`str.isspace` is `\\s`)."""
    kept: list[str] = []
    end = 0
    for found in _DATA_ASSET_NONE.finditer(html):
        start = found.start()
        while start > end and html[start - 1].isspace():
            start -= 1
        kept.append(html[end:start])
        end = found.end()
    if not kept:
        return html
    kept.append(html[end:])
    return "".join(kept)


def _round(number: str) -> str:
    """'79.9999999' -> '80', '4.065' -> '4.07', '0.5952' -> '0.6', '0.004' -> '0.004': a
    small share keeps one significant digit so that it never reads 0 %."""
    value = float(number)
    if 0 < value < 0.01:  # one failing row in 25 000 is 0.004 %, not 0 %
        return f"{value:.1g}"
    digits = 2 if value < 10 else 1
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return text or "0"


def _remove_card(html: str, marker: str) -> str:
    """Drop the <div class="card ..."> holding `marker` (its nested divs counted)."""
    at = html.find(marker)
    if at < 0:
        return html
    start = html.rfind('<div class="card ', 0, at)
    if start < 0:
        return html
    depth, position = 0, start
    for tag in re.finditer(r"<div\b|</div>", html[start:]):
        depth += 1 if tag.group(0) == "<div" else -1
        if depth == 0:
            position = start + tag.end()
            return html[:start] + html[position:]
    return html


def _render_index(docs_dir: Path, outcomes: list[dict[str, Any]], title: str) -> str:
    tables: dict[str, dict[str, Any]] = {}
    for outcome in outcomes:
        limit = _LIMIT.search(str(outcome.get("detail", ""))) if outcome.get("detail") else None
        outcome = {**outcome, "limit": f"{limit.group(1)} %" if limit else ""}
        entry = tables.setdefault(
            outcome["table"], {"name": outcome["table"], "outcomes": [], "failed": 0}
        )
        entry["outcomes"].append(outcome)
        entry["failed"] += not outcome["success"]
        entry["critical"] = entry.get("critical", 0) + (
            not outcome["success"] and outcome["severity"] == "critical"
        )
    for name, entry in tables.items():
        pages = sorted((docs_dir / "validations" / name).rglob("*.html"))
        entry["page"] = pages[-1].relative_to(docs_dir).as_posix() if pages else None
        suite = docs_dir / "expectations" / f"{name}.html"
        entry["suite_page"] = suite.relative_to(docs_dir).as_posix() if suite.is_file() else None
    return _index_template().render(title=title, tables=list(tables.values()))


@functools.lru_cache(maxsize=1)
def _index_template() -> jinja2.Template:
    """Our index's template, compiled once per process (~20 ms)."""
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    source = resources.files("hyposcreen.validate").joinpath("templates/validation_index.html.j2")
    return environment.from_string(source.read_text(encoding="utf-8"))
