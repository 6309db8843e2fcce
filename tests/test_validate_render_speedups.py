"""GX's renderer-parameter model classes made once per name (validate/gx_speedups.py): the
Data Docs pages are the pages GX renders without the memo."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from gx_tables import WINDOW_END, make_dirty_frames
from hyposcreen.validate import gx as v
from hyposcreen.validate.gx_import import import_gx
from hyposcreen.validate.gx_speedups import install

_VARYING = re.compile(  # GX's random element ids, and the run time in names and on the pages
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"|\d{8}T\d{6}\.\d{6}Z|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z"
)


def _renderer() -> Any:
    import_gx()
    assert install()
    from great_expectations.render.renderer_configuration import RendererConfiguration

    return RendererConfiguration


def _pages(docs_dir: Path) -> dict[str, str]:
    v.validate_tables(make_dirty_frames(), window_end=WINDOW_END, docs_dir=docs_dir)
    return {
        _VARYING.sub("T", str(page.relative_to(docs_dir))): _VARYING.sub("T", page.read_text())
        for page in sorted(docs_dir.rglob("*.html"))
    }


def test_one_model_class_per_parameter_name() -> None:
    model_type = _renderer()._get_renderer_value_base_model_type
    assert model_type("value_set") is model_type("value_set")
    assert model_type("column") is not model_type("value_set")
    assert model_type("column").__name__ == "column"
    assert model_type.__wrapped__("column") is not model_type.__wrapped__("column")  # GX's own


def test_pages_are_the_pages_gx_renders_without_the_memo(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    renderer = _renderer()
    memoised = _pages(tmp_path / "memoised")
    with monkeypatch.context() as patch:
        original = renderer._get_renderer_value_base_model_type.__wrapped__
        patch.setattr(renderer, "_get_renderer_value_base_model_type", staticmethod(original))
        plain = _pages(tmp_path / "plain")
    assert len(memoised) >= 9  # index, 4 suite pages, 4 validation pages
    assert memoised == plain
    assert any("unit not accepted" in page or "values must" in page for page in plain.values())
