"""The screening core (src/hyposcreen/screen/) is pure: no orchestration, no validation
framework and no file I/O — only frames in, frames out."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import hyposcreen.screen

SCREEN_DIR = Path(hyposcreen.screen.__file__).resolve().parent
SOURCES = sorted(SCREEN_DIR.glob("*.py"))

FORBIDDEN_MODULES = {"prefect", "great_expectations", "pathlib", "io", "shutil", "tempfile"}
FORBIDDEN_CALLS = {
    "open",
    "read_csv",
    "read_parquet",
    "read_json",
    "read_excel",
    "read_table",
    "to_csv",
    "to_parquet",
    "to_json",
    "read_text",
    "write_text",
    "read_bytes",
    "write_bytes",
}


def offences(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            names = []
        found += [
            f"{path.name}:{node.lineno} imports {n}"
            for n in names
            if n.split(".")[0] in FORBIDDEN_MODULES
        ]
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name in FORBIDDEN_CALLS:
                found.append(f"{path.name}:{node.lineno} calls {name}()")
    return found


def test_screen_package_has_modules_to_check() -> None:
    assert {p.name for p in SOURCES} >= {"cases.py", "sodium.py", "serial.py"}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_screen_module_imports_no_orchestration_and_does_no_file_io(path: Path) -> None:
    assert offences(path) == []


def test_the_checker_catches_forbidden_imports_and_calls(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import prefect\nfrom great_expectations import core\nfrom pathlib import Path\n"
        "import pandas as pd\nx = pd.read_csv('a')\nwith open('b') as f:\n    pass\n",
        encoding="utf-8",
    )
    assert offences(bad) == [
        "bad.py:1 imports prefect",
        "bad.py:2 imports great_expectations",
        "bad.py:3 imports pathlib",
        "bad.py:5 calls read_csv()",
        "bad.py:6 calls open()",
    ]
