"""Every third-party package the code imports is declared, pinned, and pinned alike in constraints.

A package that arrives only as a dependency of another (orjson through Prefect, MarkupSafe through
Jinja2) disappears the day that other package drops it; so each top-level module imported under
src/ and flows/ (lazy imports inside functions included) must map to a distribution named in
pyproject `[project].dependencies`, with `==`, and constraints.txt must pin the same version.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CODE_DIRS = (ROOT / "src", ROOT / "flows")
FIRST_PARTY = {"hyposcreen", "flows"}
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*([^\s;#]+)")


def normalise(distribution: str) -> str:
    """PEP 503 name: case, '-', '_' and '.' do not matter."""
    return re.sub(r"[-_.]+", "-", distribution).lower()


def imported_top_level_modules(paths: tuple[Path, ...] = CODE_DIRS) -> dict[str, set[str]]:
    """Absolute imports' top-level module -> the files importing it (stdlib and ours left out)."""
    found: dict[str, set[str]] = {}
    for base in paths:
        for path in sorted(base.rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text("utf-8"), filename=str(path))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top in sys.stdlib_module_names or top in FIRST_PARTY:
                        continue
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def declared_dependencies() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    return list(project["dependencies"])


def constraint_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text("utf-8").splitlines():
        match = _PIN.match(line)
        if match:
            pins[normalise(match[1])] = match[2]
    return pins


def test_the_import_scan_sees_direct_and_lazy_imports() -> None:
    """The scan is not vacuous: it finds module-level and function-level imports."""
    modules = imported_top_level_modules()
    assert {"pandas", "pyarrow", "yaml", "great_expectations", "prefect"} <= set(modules)
    assert "src/hyposcreen/adapters/fhir_lines.py" in modules["orjson"]
    assert not {"os", "json", "hyposcreen", "flows"} & set(modules)


def test_every_imported_third_party_module_is_a_declared_dependency() -> None:
    """Import names map to distributions through the installed metadata (yaml -> PyYAML)."""
    owners = importlib.metadata.packages_distributions()
    declared = {normalise(m[1]) for d in declared_dependencies() if (m := _NAME.match(d))}
    not_installed = sorted(m for m in imported_top_level_modules() if m not in owners)
    assert not_installed == [], f"imported but not installed: {not_installed}"
    undeclared = {
        module: (sorted(owners[module]), sorted(files)[:3])
        for module, files in imported_top_level_modules().items()
        if not {normalise(d) for d in owners[module]} & declared
    }
    assert undeclared == {}, f"import -> (distribution, importing files) not declared: {undeclared}"


def test_every_dependency_is_pinned_as_in_constraints() -> None:
    """`==` in pyproject, and constraints.txt pins the same version (no drift between them)."""
    pins = constraint_pins()
    problems = []
    for requirement in declared_dependencies():
        match = _PIN.match(requirement)
        if not match:
            problems.append(f"{requirement}: not pinned with ==")
        elif pins.get(normalise(match[1])) != match[2]:
            problems.append(f"{requirement}: constraints.txt has {pins.get(normalise(match[1]))}")
    assert problems == []


def test_the_installed_versions_are_the_pinned_ones() -> None:
    """The environment the tests run in is the one pyproject declares."""
    wrong = {}
    for requirement in declared_dependencies():
        match = _PIN.match(requirement)
        if match:
            installed = importlib.metadata.version(match[1])
            if installed != match[2]:
                wrong[match[1]] = (match[2], installed)
    assert wrong == {}, f"distribution -> (pinned, installed) {wrong}"
