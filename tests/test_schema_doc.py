"""docs/schema.md is generated from hyposcreen.schema.SCHEMAS and must not drift from it."""

from __future__ import annotations

from pathlib import Path

from hyposcreen.report.schema_doc import render
from hyposcreen.schema import SCHEMAS

ROOT = Path(__file__).resolve().parents[1]


def test_schema_doc_matches_the_code() -> None:
    written = (ROOT / "docs" / "schema.md").read_text(encoding="utf-8")
    assert written == render(), (
        "regenerate: python -m hyposcreen.report.schema_doc > docs/schema.md"
    )


def test_every_canonical_column_is_documented_with_its_need_and_type() -> None:
    text = render()
    for schema in SCHEMAS.values():
        assert f"## {schema.name}" in text
        for column in schema.required:
            assert f"| `{column}` | required |" in text
        for column in schema.optional:
            assert f"| `{column}` | optional |" in text
        for column in schema.time_columns:
            assert f"| `{column}` | " in text and "date-time" in text


def test_readme_links_the_schema_instead_of_the_spec() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/schema.md" in readme
    assert "screening spec (§1)" not in readme
