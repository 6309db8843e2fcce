"""What a loop over several windows of one read remembers of the last window's contracts, so
that a table the same as the night before is not validated, nor even looked at, again.

While `remembering_results()` is open (runners/window_loop.py):

- per table, the last job's GX result, reused when the next job's table, suite, suite
  parameters and view are equal (`view_key`: a digest of the suite, of the parameters GX
  substitutes and of every value of the view), stamped with the new run's id
  (validate/context.py `run_jobs`);
- per table, the GX suite object last built, reused for a job whose suite is the same
  (`suite_once`: its JSON), so the suite's Data Docs page is rendered once per loop;
- per table, the outcomes last read from a GX result (`outcomes_once`), reused when the next
  job brings that very result back (a reused one) with a frame holding the same arrays (the
  rows its examples quote) and the same parameters (its details);
- per table, the view GX saw (validate/views.py `table_view`: derived columns, categoricals),
  reused when the next window's frame holds *the same arrays* (`frame_identity`: the address,
  length and layout of every buffer of every column and of the index, with the arrays held
  so that no other array can take their place meanwhile). Windows cut from one shared read
  hand the contracts the same medication, diagnosis and patient columns every night (the
  window-free cleaning, recipe_clean.window_free_events): their views are built and digested
  once per loop instead of every night. Pandas' copy-on-write never writes into an array
  another frame shares, and Arrow's buffers are immutable, so the same arrays hold the same
  values. A view is kept only once its table came with the same row count twice in a row
  (the labs, which change every night, are not kept), and its digest is taken once.

Leaving the loop forgets everything. A lone run digests and keeps nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import string
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.util import hash_pandas_object

from hyposcreen.validate.suites import Job

_LOCK = threading.RLock()

# per table, the last job validated: (its view's rows, view_key or None when not taken,
# result, suite, batch id); memory only, kept while `remembering_results()` is open
_LAST_RESULT: dict[str, tuple[int, str | None, Any, Any, str]] = {}
_REMEMBERING: list[bool] = []


@dataclass
class _KeptView:
    """A table's view and what it was built from (`inputs`: frame_identity and the other
    arguments; `holders`: the arrays whose addresses the identity names)."""

    rows: int
    inputs: tuple[Any, ...] | None = None
    holders: list[Any] = field(default_factory=list)
    built: tuple[Any, ...] | None = None
    digest: bytes | None = None


_VIEWS: dict[str, _KeptView] = {}
_GX_SUITES: dict[str, tuple[str, Any]] = {}  # table -> (suite_text, GX suite built from it)
# table -> (GX results read, frame_identity of the frame quoted, parameters' JSON, outcomes,
# the arrays the identity names)
_OUTCOMES: dict[str, tuple[Any, tuple[Any, ...], str, list[Any], list[Any]]] = {}
LOOP_MEMOS: list[dict[Any, Any]] = [_GX_SUITES, _OUTCOMES]  # (and validate/page_memo.py's)


def remembering() -> bool:
    return bool(_REMEMBERING)


@contextlib.contextmanager
def remembering_results() -> Iterator[None]:
    """While open, `run_jobs` reuses the result of a job equal to the last one of its table
    (several windows of one read validate the same medications, diagnoses and patients), and
    `table_view_once` the view of a frame holding the same arrays; on leaving, both are
    dropped. A lone run does not digest its views."""
    with _LOCK:
        _REMEMBERING.append(True)
    try:
        yield
    finally:
        with _LOCK:
            _REMEMBERING.pop()
            if not _REMEMBERING:
                _LAST_RESULT.clear()
                _VIEWS.clear()
                for memo in LOOP_MEMOS:
                    memo.clear()


def table_view_once(
    table: str, frame: pd.DataFrame, other_inputs: tuple[Any, ...], build: Callable[[], Any]
) -> Any:
    """`build()` (the table's view), or while remembering the view built for the last frame
    of `table` when `frame` holds the same arrays and `other_inputs` are equal."""
    if not _REMEMBERING:
        return build()
    with _LOCK:
        kept = _VIEWS.get(table)
        holders: list[Any] = []
        identity = frame_identity(frame, holders)
        inputs = None if identity is None else (identity, other_inputs)
        if kept is not None and kept.inputs is not None and kept.inputs == inputs:
            return kept.built
        built = build()
        if kept is not None and kept.rows == len(frame) and inputs is not None:
            _VIEWS[table] = _KeptView(len(frame), inputs, holders, built)
        else:  # a first frame, or one of another size: its count only
            _VIEWS[table] = _KeptView(len(frame))
        return built


def key_worth_taking(job: Job, known: tuple[int, str | None, Any, Any, str] | None) -> str | None:
    """The job's view_key while results are remembered and its table's last view had as many
    rows (or there was none): a view with another row count cannot be equal, and a table that
    changes every window (the labs) is digested once, not every window."""
    if not _REMEMBERING or (known is not None and known[0] != len(job.view)):
        return None
    return view_key(job)


def view_key(job: Job) -> str:
    """A digest of everything a job's GX result depends on: its table, its suite (parameters
    substituted), the suite parameters GX substitutes (the night's window_end) and its view's
    content: the column names, dtypes, index and every value (a categorical by its categories
    and codes). Digests only, never values. The values of a view kept by `table_view_once`
    are digested once."""
    digest = hashlib.sha256()
    suite = suite_text(job)
    passed = json.dumps(job.suite_parameters, sort_keys=True, default=repr)
    names = "\0".join(job.columns)
    digest.update(f"{job.table}\0{suite}\0{passed}\0{names}\0".encode())
    digest.update(f"{job.view.index.name}\0{len(job.view)}".encode())
    kept = _VIEWS.get(job.table)
    if kept is not None and kept.built is not None and kept.built[0] is job.view:
        if kept.digest is None:
            kept.digest = _view_digest(job.view)
        digest.update(kept.digest)
    else:
        digest.update(_view_digest(job.view))
    return digest.hexdigest()


def suite_text(job: Job) -> str:
    """The job's suite as JSON (keys sorted): what its GX suite object is built from."""
    return json.dumps(job.suite, sort_keys=True, default=repr)


def suite_once(job: Job, build: Callable[[], Any]) -> Any:
    """`build()` (the job's GX suite object), or while remembering the one built for the last
    job of its table when that job's suite was the same (`suite_text`): the labs suite is the
    same every night (its window_end is a suite parameter), so its Data Docs page, kept with
    the suite object (validate/page_memo.py), is rendered once per loop."""
    if not _REMEMBERING:
        return build()
    text = suite_text(job)
    kept = _GX_SUITES.get(job.table)
    if kept is not None and kept[0] == text:
        return kept[1]
    suite = build()
    _GX_SUITES[job.table] = (text, suite)
    return suite


def outcomes_once(job: Job, result: Any, read: Callable[[], list[Any]]) -> list[Any]:
    """`read()` (the outcomes of `result` for `job`), or while remembering those read for the
    last job of the table when `result` holds the very expectation results read then (a result
    reused from the night before), `job.frame` the same arrays (`frame_identity`) and the
    parameters its details name the same values: what the outcomes are made of."""
    if not _REMEMBERING:
        return read()
    with _LOCK:
        holders: list[Any] = []
        identity = frame_identity(job.frame, holders)
        params = _detail_parameters(job, result)
        kept = _OUTCOMES.get(job.table)
        if (
            identity is not None
            and kept is not None
            and kept[0] is result.results
            and kept[1] == identity
            and kept[2] == params
        ):
            return list(kept[3])
        outcomes = read()
        if identity is None:
            _OUTCOMES.pop(job.table, None)
        else:  # the results and arrays held: no other object takes their place meanwhile
            _OUTCOMES[job.table] = (result.results, identity, params, list(outcomes), holders)
        return outcomes


def _detail_parameters(job: Job, result: Any) -> str:
    """The values of `job.params` that the details of `result`'s expectations name (their
    ``{name}`` fields, validate/results.py), as JSON: medications' details name no window_end,
    so a night's other window_end does not make their outcomes another."""
    names: set[str] = set()
    for item in result.results:
        detail = str((item.expectation_config.meta or {}).get("detail", ""))
        try:
            fields = [field for _, field, _, _ in string.Formatter().parse(detail) if field]
        except ValueError:  # not a template (results.py then keeps it as it is)
            continue
        names.update(re.split(r"[.\[]", field, maxsplit=1)[0] for field in fields)
    named = {name: job.params.get(name) for name in sorted(names)}
    return json.dumps(named, sort_keys=True, default=repr)


def _view_digest(view: pd.DataFrame) -> bytes:
    digest = hashlib.sha256()
    for column, series in view.items():
        digest.update(f"\0{column}\0{series.dtype}\0".encode())
        digest.update(_values_digest(series))
    index = view.index
    if isinstance(index, pd.RangeIndex):
        digest.update(f"\0range {index.start} {index.stop} {index.step}".encode())
    else:
        digest.update(_values_digest(index.to_series()))
    return digest.digest()


def _values_digest(series: pd.Series) -> bytes:
    """The values of one column as bytes to digest: plain numbers and times as they are held,
    a categorical as its categories' row hashes and its codes, anything else as pandas' row
    hashes."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        categories = hash_pandas_object(pd.Series(series.cat.categories), index=False)
        codes = series.cat.codes.to_numpy()
        return categories.to_numpy().tobytes() + b"\0" + codes.tobytes()
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "biufmM":
        return np.ascontiguousarray(series.to_numpy()).tobytes()
    return hash_pandas_object(series, index=False).to_numpy().tobytes()


# --- the identity of a frame's arrays ---------------------------------------------------------


def frame_identity(frame: pd.DataFrame, holders: list[Any]) -> tuple[Any, ...] | None:
    """The frame's column names, dtypes and the identity of every column's and the index's
    arrays; the arrays named are appended to `holders` (hold them, or an address may be
    reused). None when a column is held in a way not read here (nothing is then reused)."""
    parts: list[Any] = [tuple(map(str, frame.columns))]
    for _, series in frame.items():
        part = _array_identity(series.array, holders)
        if part is None:
            return None
        parts.append((str(series.dtype), part))
    index = frame.index
    if isinstance(index, pd.RangeIndex):
        parts.append(("range", index.start, index.stop, index.step, index.name))
    else:
        part = _array_identity(index.array, holders)
        if part is None:
            return None
        parts.append((str(index.dtype), index.name, part))
    return tuple(parts)


def _array_identity(array: Any, holders: list[Any]) -> tuple[Any, ...] | None:
    if isinstance(array, pd.Categorical):
        codes = _array_identity(array.codes, holders)
        categories = _array_identity(array.categories.array, holders)
        if codes is None or categories is None:
            return None
        return ("categorical", array.ordered, codes, categories)
    if isinstance(array, np.ndarray):
        holders.append(array)
        interface = array.__array_interface__
        return ("numpy", str(array.dtype), interface["data"][0], array.shape, array.strides)
    arrow = getattr(array, "__arrow_array__", None)
    if arrow is not None and hasattr(array, "_pa_array"):  # Arrow-backed: its chunks
        chunked = arrow()
        if not isinstance(chunked, pa.ChunkedArray) or not _flat(chunked.type):
            return None
        holders.append(chunked)
        return ("arrow", str(chunked.type), tuple(_chunk_identity(c) for c in chunked.chunks))
    ndarray = getattr(array, "_ndarray", None)  # numpy-backed extension arrays (times, ...)
    if isinstance(ndarray, np.ndarray):
        return _array_identity(ndarray, holders)
    return None


def _chunk_identity(chunk: pa.Array) -> tuple[Any, ...]:
    buffers: Sequence[pa.Buffer | None] = chunk.buffers()
    places = tuple((b.address, b.size) if b is not None else None for b in buffers)
    return (chunk.offset, len(chunk), chunk.null_count, places)


def _flat(kind: pa.DataType) -> bool:
    """A type whose chunks' buffers hold every value (no dictionary or child arrays)."""
    return kind.num_fields == 0 and not pa.types.is_dictionary(kind)
