"""Imports run one way through the stages: no stage of src/hyposcreen imports a later one.

Stage order (the order data flows in a run):

    ingest (ingest/, adapters/) -> clean -> validate -> screen -> nightly (state, windows,
    screen/incremental) -> report

The shared foundation (config, errors, rules/ with the vocabulary matching, a site's own words,
the notification settings, the package itself) may be imported by any stage and imports no
stage. The recipe (context, recipe, recipe_clean, recipe_contracts, recipe_publish) and its runners
(runners/, cli, audit) compose the stages and are imported by none of them. On top of the
order, the contracts stage takes what cleaning decided as data: validate imports no code of
clean (the data contracts must not re-derive it).

Every import is read with `ast` (function-level imports included); there are no exceptions.
The canonical tables' columns (`hyposcreen.schema`) are foundation: the site mapping checks its
column names against them before any stage runs.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "hyposcreen"
STAGES = ("ingest", "clean", "validate", "screen", "nightly", "report")
STAGE_OF_PREFIX = {  # longest prefix wins
    "hyposcreen.ingest": "ingest",
    "hyposcreen.adapters": "ingest",
    "hyposcreen.adapters.time_columns": "ingest",  # the source's names of the time columns
    "hyposcreen.clean": "clean",
    "hyposcreen.validate": "validate",
    "hyposcreen.screen": "screen",
    "hyposcreen.screen.incremental": "nightly",
    "hyposcreen.state": "nightly",
    "hyposcreen.state_lock": "nightly",  # one run at a time per state dir
    "hyposcreen.state_schema": "nightly",  # the state database's tables and layout number
    "hyposcreen.windows": "nightly",
    "hyposcreen.nightly": "nightly",
    "hyposcreen.report": "report",
    "hyposcreen.night_counts": "nightly",  # per-night counts in the state DB
    "hyposcreen.review_file": "nightly",  # clinicians' reviews, recorded in the state
    "hyposcreen.run_warnings": "report",  # judges the completed run (exit 4)
    "hyposcreen.quarantine_warnings": "report",  # judges the quarantined rows (exit 4)
    "hyposcreen.quarantined_low_sodiums": "report",  # low sodiums set aside (exit 4)
    "hyposcreen.deleted_reference_warnings": "report",  # records of deleted ones (exit 4)
    "hyposcreen.quarantine_text": "report",  # the quarantined rows' texts those judges read
    "hyposcreen.number_characters": "report",  # numbers written in other characters (exit 4)
    "hyposcreen.unreadable_times": "report",  # judges key times that did not read (exit 3, 4)
    "hyposcreen.quarantined_times": "report",  # the quarantined times those judges read, once
    "hyposcreen.time_shapes": "report",  # what unread times look like (rules/time_shapes.csv)
    "hyposcreen.patient_overlap": "report",  # judges whether the tables name the same patients
    "hyposcreen.patient_id_forms": "report",  # judges ids alike only without leading zeros, .0
    "hyposcreen.empty_file_warnings": "report",  # judges a table folder's empty parts
    "hyposcreen.date_only_times": "report",  # judges lab times written as a date alone
    "hyposcreen.delivery_counts": "report",  # the counts those judge, clean stage to publish
    "hyposcreen.loinc_shape_warnings": "report",  # judges unknown LOINCs written otherwise
    "hyposcreen.unidentified_events": "report",  # judges event rows naming no readable code
    "hyposcreen.dangling_lab_items": "report",  # judges MIMIC item ids no d_labitems holds
    "hyposcreen.mimic_dictionary_rows": "report",  # judges MIMIC dictionary rows not read
    "hyposcreen.omop_vocabulary_gaps": "report",  # judges OMOP concept ids no concept holds
    "hyposcreen.excel_form_warnings": "report",  # judges cells written ="..." for a spreadsheet
    "hyposcreen.dropped_column_warnings": "report",  # judges columns the last night had
    "hyposcreen.decimal_commas": "clean",  # numbers written with a decimal comma at a "." site
}
FOUNDATION = (
    "hyposcreen.config",
    "hyposcreen.mapping_values",  # typed values of the site mapping file
    "hyposcreen.errors",
    "hyposcreen.schema",  # the canonical tables' columns (spec §1), checked by the mapping
    "hyposcreen.arrow_columns",  # Arrow-backed text columns: lookups and texts without copies
    "hyposcreen.rules",
    "hyposcreen.scratch",  # scratch folders of patient rows, held while in use
    "hyposcreen.site_words",  # a site's own words, read with its settings
    "hyposcreen.notify.settings",  # the notifications section of the site settings
    "hyposcreen.legacy_text",  # Windows-1252 read for latin-1, by the data and the settings
    "hyposcreen.site_zone",  # the site mapping's time zone name, as the tz database spells it
)
RUNNERS = (
    "hyposcreen.context",
    "hyposcreen.recipe",
    "hyposcreen.recipe_clean",
    "hyposcreen.lab_coverage_codes",  # the coverage report's lab counts as codes per row
    "hyposcreen.recipe_lab_counts",  # a window's lab counts from codes found once per read
    "hyposcreen.recipe_contracts",
    "hyposcreen.recipe_publish",
    "hyposcreen.recipe_quarantine",
    "hyposcreen.recipe_warnings",  # a screened window's judges, composed (exit 3, exit 4)
    "hyposcreen.recipe_read",
    "hyposcreen.recipe_screen",
    "hyposcreen.recipe_screen_windows",
    "hyposcreen.run_progress",  # the progress lines of a run, whichever runner
    "hyposcreen.runners",
    "hyposcreen.cli",
    "hyposcreen.cli_audit",  # `hyposcreen audit` on the command line
    "hyposcreen.cli_run",
    "hyposcreen.cli_signals",
    "hyposcreen.cli_stdout",
    "hyposcreen.cli_warnings",
    "hyposcreen.audit",
    "hyposcreen.audit_contracts",  # the audit's data contracts, once per read
    "hyposcreen.audit_reads",  # the audit's reads judged as a run judges its delivery
    "hyposcreen.audit_month_contracts",  # the audit's share contracts judged month by month
    "hyposcreen.audit_warning_text",  # the audit's warnings without a suppressed count
    "hyposcreen.audit_inputs",  # the input files as the audit's shared outputs name them
    # the operator's side of a run: process set-up, failures, status, notifications
    "hyposcreen.cli_ops",
    "hyposcreen.runtime_env",
    "hyposcreen.failures",
    "hyposcreen.status",
    "hyposcreen.notify",  # sending is the operator's side (its settings are foundation)
)
# (importer stage, imported stage) pairs forbidden beyond the order itself
EXTRA_FORBIDDEN = {("validate", "clean")}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    base = SRC.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _targets(node: ast.AST, importer: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    module = node.module or ""
    if node.level:  # relative: resolve against the importer's package
        package = importer.split(".")
        package = package if is_package else package[:-1]
        package = package[: len(package) - (node.level - 1)]
        module = ".".join([*package, module] if module else package)
    # `from hyposcreen.screen import matching` imports the submodule
    return [
        f"{module}.{alias.name}" if _is_module(f"{module}.{alias.name}") else module
        for alias in node.names
    ]


def import_edges() -> set[tuple[str, str]]:
    """(importing module, imported module) for every first-party import under src/hyposcreen."""
    edges = set()
    for path in sorted((SRC / PACKAGE).rglob("*.py")):
        importer = _module_name(path)
        tree = ast.parse(path.read_text("utf-8"), filename=str(path))
        for node in ast.walk(tree):
            for target in _targets(node, importer, path.name == "__init__.py"):
                if target == PACKAGE or target.startswith(PACKAGE + "."):
                    edges.add((importer, target))
    return edges


def stage_of(module: str) -> str | None:
    prefixes = [p for p in STAGE_OF_PREFIX if module == p or module.startswith(p + ".")]
    return STAGE_OF_PREFIX[max(prefixes, key=len)] if prefixes else None


def _within(module: str, roots: tuple[str, ...]) -> bool:
    return any(module == r or module.startswith(r + ".") for r in roots)


def _is_runner(module: str) -> bool:
    """A runner module; a foundation module inside a runner package (notify.settings) is not."""
    return _within(module, RUNNERS) and not _within(module, FOUNDATION)


def violations(edges: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Every import that breaks the layering, with the rule it breaks."""
    found = {}
    for importer, target in edges:
        source_stage, target_stage = stage_of(importer), stage_of(target)
        if source_stage and target_stage:
            if STAGES.index(target_stage) > STAGES.index(source_stage):
                found[(importer, target)] = f"{source_stage} imports the later {target_stage}"
            elif (source_stage, target_stage) in EXTRA_FORBIDDEN:
                found[(importer, target)] = f"{source_stage} imports {target_stage}"
        if (source_stage or _within(importer, FOUNDATION)) and _is_runner(target):
            found[(importer, target)] = "a stage imports a runner"
        if _within(importer, FOUNDATION) and target_stage:
            found[(importer, target)] = f"the foundation imports the {target_stage} stage"
    return found


def test_every_module_of_the_package_has_a_place_in_the_layering() -> None:
    """A new top-level module must be put in a stage, the foundation or the runners."""
    modules = {_module_name(p) for p in (SRC / PACKAGE).rglob("*.py")}
    unplaced = sorted(
        m
        for m in modules - {PACKAGE}
        if stage_of(m) is None and not _within(m, FOUNDATION) and not _within(m, RUNNERS)
    )
    assert unplaced == []


def test_the_scan_sees_the_imports_it_judges() -> None:
    """Not vacuous: known imports (a function-level one included) are found."""
    edges = import_edges()
    assert ("hyposcreen.screen.cases", "hyposcreen.screen.sodium") in edges
    assert ("hyposcreen.cli_audit", "hyposcreen.audit") in edges  # inside a function
    assert ("hyposcreen.clean.events", "hyposcreen.rules.matching") in edges  # vocabulary
    assert ("hyposcreen.validate.derived", "hyposcreen.ingest.values") in edges
    assert stage_of("hyposcreen.screen.incremental") == "nightly"
    assert stage_of("hyposcreen.screen.serial") == "screen"
    backwards = violations({("hyposcreen.clean", "hyposcreen.report.writers")})
    assert backwards == {("hyposcreen.clean", "hyposcreen.report.writers"): (
        "clean imports the later report"
    )}  # fmt: skip


def test_no_stage_imports_a_later_one() -> None:
    found = violations(import_edges())
    assert found == {}, "imports against the stage order (importer, imported) -> rule"


def test_the_mapping_reads_the_schema_from_the_foundation() -> None:
    """The one import that used to point back (config -> ingest.canonical) is gone."""
    edges = import_edges()
    assert ("hyposcreen.config", "hyposcreen.schema") in edges
    assert not any(a == "hyposcreen.config" and stage_of(b) for a, b in edges)
