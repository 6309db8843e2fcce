"""What a run carries between the recipe's stages: its context and the typed stage outputs.

`prepare` loads rules and mapping and checks the settings before any data is read; the
dataclasses are the inputs and outputs of the stages declared in `hyposcreen.recipe`
(RunContext -> ReadTables -> CleanedInputs -> ContractReport -> ScreenResult -> RunSummary).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hyposcreen.adapters import load_adapter
from hyposcreen.clean import count_buckets, lab_row_filter
from hyposcreen.clean.buckets import HeldSizes
from hyposcreen.config import SOURCES, RunSettings, SiteMapping, load_mapping
from hyposcreen.errors import ConfigError
from hyposcreen.ingest.canonical import IngestedTable
from hyposcreen.ingest.loinc_shapes import LoincShapeCounter
from hyposcreen.ingest.tabular import DEFAULT_MAX_ROW_BYTES, RowFilter, find_table_files
from hyposcreen.report.folders import discard_staging, staging_folder
from hyposcreen.rules.loader import Profile, RuleSet, load_rules
from hyposcreen.site_words import SiteWords, apply_site_words
from hyposcreen.state import StateStore


@dataclass
class RunContext:
    settings: RunSettings
    rules: RuleSet
    profile: Profile
    mapping: SiteMapping
    timings: dict[str, float] = field(default_factory=dict)
    state: StateStore | None = None  # nightly state; None for a stateless run
    words: SiteWords | None = None  # the site's status words, decimal separator (site_words)
    # an in-memory run chosen from an estimate reads at most this many rows of a table
    memory_row_cap: int | None = None
    staging: Path | None = None  # hidden folder the outputs are built in (report.folders)
    # the input read once for several windows (recipe_read.read_once); None: read per window
    shared_read: SharedRead | None = None
    # outputs of stages already run for this window (a loop's next window read ahead,
    # runners/window_loop.ReadAhead); the runner takes them instead of running those stages
    done: dict[str, Any] = field(default_factory=dict)
    # seconds spent inside a step on another window's work (the next window read ahead during
    # this one's write), left out of the step's own time when the step ends
    set_aside: dict[str, float] = field(default_factory=dict)

    def staging_dir(self) -> Path:
        """Created on first use (Data Docs are the first output written)."""
        if self.staging is None:
            self.staging = staging_folder(self.settings.out_dir)
        return self.staging

    peak_rss_mb: dict[str, float] = field(default_factory=dict)  # process high-water mark after
    partitions: int = 1  # patient-hash partitions of the run (hyposcreen.runners.partitioned)
    executor: str = "local"
    # where the run's progress lines go (hyposcreen.run_progress; counts only); None: nowhere
    tell: Callable[[str], None] | None = field(default=None, compare=False, repr=False)

    def say(self, line: str) -> None:
        """One progress line (counts and seconds only), when the runner listens."""
        if self.tell is not None:
            self.tell(line)

    def __getstate__(self) -> dict[str, Any]:
        """A context sent to another process (a Dask worker's partition) tells nothing there:
        the run tells its progress from its own process."""
        return {**self.__dict__, "tell": None}

    @contextmanager
    def timed(self, step: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            own = time.perf_counter() - started - self.set_aside.pop(step, 0.0)
            self.timings[step] = round(self.timings.get(step, 0.0) + own, 3)
            self.peak_rss_mb[step] = _peak_rss_mb()

    def add_timings(self, timings: dict[str, float]) -> None:
        """Add the seconds of steps timed elsewhere (a partition's worker)."""
        for step, seconds in timings.items():
            self.timings[step] = round(self.timings.get(step, 0.0) + seconds, 3)


def _peak_rss_mb() -> float:
    """This process's peak resident memory so far (Linux reports KiB), 0 where unknown."""
    try:
        import resource
    except ImportError:  # not on Windows
        return 0.0
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


@dataclass
class SharedRead:
    """The input read once for several windows (`recipe_read.read_once`): every table as
    read, labs over `lab_range` (time column, start, end), the union of the windows' read
    ranges; `windows` says how many share it, `timings` what the read cost."""

    tables: dict[str, IngestedTable]
    lab_range: tuple[str, pd.Timestamp, pd.Timestamp]
    windows: int
    timings: dict[str, float] = field(default_factory=dict)
    # what the windows' stages decide alike from these tables, decided on the first window
    # (recipe.clean: the medications' and diagnoses' window-free cleaning); memory only
    decided: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass
class ReadTables:
    """The read stage's output: each canonical table as read (patients only when present)."""

    tables: dict[str, IngestedTable]


@dataclass
class CleanedInputs:
    labs: pd.DataFrame
    medications: pd.DataFrame
    drug_matches: pd.DataFrame
    diagnoses: pd.DataFrame
    patients: pd.DataFrame | None
    read_not_relevant: dict[str, dict[str, int]]  # rows the reader dropped, by reason
    rows_in: dict[str, int]
    seen_results: pd.DataFrame | None = None  # nightly: result_key, specimen_time to remember
    coverage: pd.DataFrame | None = None  # seen but not recognised (report.coverage)
    # (names matching no drug at all, names, those of the first written as digits alone)
    drug_names: tuple[int, int, int] | None = None
    # counts the run's warnings judge (hyposcreen.delivery_counts)
    delivery_counts: dict[str, dict[str, tuple[int, int]]] | None = None
    # windows cut from one read: where the labs' rows lie among the read's cleaned labs, the
    # labs as cleaning made them (recipe_clean.window_labs_cut); the contracts stage sends
    # them as those rows of the read's (recipe_contracts.sent_frames)
    lab_cut: np.ndarray | None = None

    @property
    def reconciliation(self) -> dict[str, dict[str, Any]]:
        """rows_in = used + not_relevant + duplicate + quarantined, per table, as of now."""
        return self.reconciled()

    def reconciled(self, held: Mapping[str, HeldSizes] | None = None) -> dict[str, dict[str, Any]]:
        """`reconciliation`; a table whose bucket and reason columns are still those of its
        `held` sizes (found as cleaning made them: `clean.buckets.HeldSizes`) by those."""
        return {
            name: count_buckets(
                getattr(self, name),
                self.read_not_relevant[name],
                self.rows_in[name],
                (held or {}).get(name),
            )
            for name in ("labs", "medications", "diagnoses")
        }


@dataclass
class ContractReport:
    """The contracts stage's output: the validation summary the manifest carries (rows a
    warning expectation flagged are already quarantined in the cleaned tables). `pending`:
    contracts sent to the run's worker, their report taken by the screen stage (recipe.py),
    which fills in the summary."""

    summary: dict[str, Any]
    pending: Any = None


@dataclass
class RunSummary:
    run_id: str
    out_dir: Path
    review_csv: Path
    manifest: dict[str, Any]


def prepare(settings: RunSettings) -> RunContext:
    """Load rules and mapping and check the settings before any data is read."""
    if settings.source not in SOURCES:
        raise ConfigError(f"Unknown --source '{settings.source}'. Available: {', '.join(SOURCES)}.")
    if not settings.input_dir.is_dir():
        raise ConfigError(f"Input folder {settings.input_dir} does not exist or is not a folder.")
    if settings.source != "canonical":
        load_adapter(settings.source).check_layout(settings.input_dir)
    mapping = load_mapping(settings.mapping_path)
    rules = load_rules(settings.rules_dir)
    if mapping.lab_dictionary:
        unknown = sorted(set(mapping.lab_dictionary.values()) - set(rules.analytes))
        if unknown:
            raise ConfigError(
                f"Lab dictionary maps to unknown analyte(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(rules.analytes))}."
            )
        rules = rules.with_lab_dictionary(mapping.lab_dictionary)
    rules, words = apply_site_words(rules, settings.rules_dir, mapping)
    profile = rules.profile(settings.profile)
    factor = settings.glucose_factor
    if factor is not None and factor not in [float(f) for f in rules.glucose["allowed_factors"]]:
        raise ConfigError(
            f"Glucose correction factor {factor:g} is not allowed; use one of "
            f"{', '.join(str(f) for f in rules.glucose['allowed_factors'])}."
        )
    state = StateStore(settings.state_dir, mapping.site) if settings.state_dir else None
    return RunContext(
        settings=settings, rules=rules, profile=profile, mapping=mapping, state=state, words=words
    )


def table_files(ctx: RunContext, name: str) -> list[Path]:
    """The files one canonical table is read from (for cache keys)."""
    settings = ctx.settings
    if settings.source == "canonical":
        return find_table_files(settings.input_dir, ctx.mapping.table(name).file or name)
    return load_adapter(settings.source).input_files(settings.input_dir, name)


def lab_filter(ctx: RunContext, name: str) -> RowFilter | None:
    """The reader's row filter of a table: labs of known analytes in the read window (nightly
    runs with state also read the late-result lookback and its context), counting the rows
    set aside as an unknown LOINC that are listed codes written another way (loinc_shapes)."""
    if name != "labs":
        return None
    rules = ctx.rules
    found = lab_row_filter(rules, ctx.settings.window, ctx.state is not None, ctx.mapping.timezone)
    shapes = LoincShapeCounter(rules.loinc_to_analyte, rules.lab_dictionary)
    return dataclasses.replace(found, loinc_shapes=shapes)


def max_row_bytes(ctx: RunContext) -> int:
    """The longest CSV row the readers accept before quarantining it (`oversized_row`)."""
    return int(ctx.rules.contracts.get("max_row_bytes", DEFAULT_MAX_ROW_BYTES))


def discard_outputs(ctx: RunContext) -> None:
    """After a failure: drop the half-built folder; the previous outputs stay as they were."""
    discard_staging(ctx.staging)
    ctx.staging = None
