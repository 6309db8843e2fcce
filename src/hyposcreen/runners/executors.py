"""Where partition work runs: this process one partition at a time, or a Dask cluster
(through `distributed.Client`; a `LocalCluster` when no scheduler address is given, reached
over TLS with credentials only this run holds). Dask sends the run's context and the
partitions' results between processes pickled in memory, over its own connections; no file
holds them (the spill files are `handoff`'s Arrow IPC and JSON).
A partition's error comes back as its result and is raised here: a Dask task that raises is
logged by its worker on the run's stderr with the error's text and traceback, which may quote
the extract.

Arrow's allocations come from jemalloc in a process that runs the recipe (`use_jemalloc`, on
import) unless $ARROW_DEFAULT_MEMORY_POOL names another pool."""

from __future__ import annotations

import ctypes
import gc
import os
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa

from hyposcreen.context import RunContext
from hyposcreen.errors import ConfigError, EnvironmentProblem
from hyposcreen.failures import without_its_text
from hyposcreen.scratch import HeldScratch

EXECUTORS = ("local", "dask")
MapPartitions = Callable[[Callable[..., Any], RunContext, Path, Sequence[int]], list[Any]]


@contextmanager
def executor_for(executor: str, dask_address: str | None) -> Iterator[MapPartitions]:
    """A function that runs `fn(ctx, folder, part)` for each partition given and returns the
    results in partition order."""
    if executor == "local":
        yield lambda fn, ctx, folder, parts: [fn(ctx, folder, p) for p in parts]
        return
    import dask
    from distributed import Client, LocalCluster

    cluster, scratch = None, None
    dask_settings = ExitStack()  # the scheduler's folder too (it makes one of its own)
    if dask_address:
        client = scheduler_client(dask_address)
    else:
        # the workers' own folder (what they spill of a partition: patient rows) is a held
        # scratch folder of this run, removed at its end, not $TMPDIR/dask-scratch-space
        scratch = HeldScratch("dask-")
        dask_settings.enter_context(dask.config.set({"temporary-directory": scratch.name}))
        cluster = LocalCluster(
            n_workers=min(2, os.cpu_count() or 1),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            # TLS with a key made for this cluster, held in memory: a plain local cluster
            # takes any local user's client, which could read the partitions or run code
            security=True,
            local_directory=scratch.name,
        )
        client = Client(cluster)
    try:

        def run_all(
            fn: Callable[..., Any], ctx: RunContext, folder: Path, parts: Sequence[int]
        ) -> list:
            shared = client.scatter(ctx, broadcast=True)
            n = len(parts)
            futures = client.map(
                _outcome, [fn] * n, [shared] * n, [folder] * n, list(parts), pure=False
            )
            outcomes = list(client.gather(futures))
            for done, value in outcomes:
                if not done:
                    raise value
            return [value for _, value in outcomes]

        yield run_all
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
        dask_settings.close()
        if scratch is not None:
            scratch.cleanup()


# the schemes a scheduler is reached by with distributed alone (`ucx://` needs ucx-py: without
# it distributed fails with a TypeError, which would be told as a bug)
SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss")


def scheduler_client(address: str) -> Any:
    """A client of the Dask scheduler at `address`: a settings error (exit 2) for an address
    that does not read as one (`scheduler_address_problem`), an environment problem (exit 75)
    for one that does not answer (distributed waits 30 s for it), never a bug's exit 70."""
    from distributed import Client

    check_scheduler_address(address)
    try:
        return Client(address)
    except ValueError as exc:  # distributed's own reading of it
        raise _not_an_address(address, str(exc)) from exc
    except OSError as exc:  # refused, no such host, timed out
        raise EnvironmentProblem(
            f"The Dask scheduler at {address} did not answer ({exc}). Start it (`dask "
            "scheduler`, and its workers) or correct --dask-address, then run again; nothing "
            "was published."
        ) from exc


def check_scheduler_address(address: str) -> None:
    """A ConfigError (exit 2) when `address` does not read as a Dask scheduler's address; the
    run checks it before reading any input, the executor again before it connects."""
    try:
        problem = scheduler_address_problem(address)
    except ValueError as exc:  # distributed's own reading of it
        problem = str(exc)
    if problem is not None:
        raise _not_an_address(address, problem)


def _not_an_address(address: str, problem: str) -> ConfigError:
    return ConfigError(
        f"--dask-address {address} is not a Dask scheduler's address ({problem}); write it as "
        "tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786."
    )


def scheduler_address_problem(address: str) -> str | None:
    """What makes `address` no scheduler's address (a scheme distributed alone does not
    connect by, no port, a port no socket has), or None; ValueError when distributed cannot
    read it."""
    from distributed.comm.addressing import parse_address, parse_host_port

    scheme, location = parse_address(address)  # `HOST:PORT` alone is tcp://
    if scheme not in SCHEDULER_SCHEMES:
        return f"the scheme {scheme}:// is none of {', '.join(SCHEDULER_SCHEMES)}"
    port = parse_host_port(location)[1]  # ValueError: no port
    return None if 0 < port < 65536 else f"port {port} is not between 1 and 65535"


def _outcome(fn: Callable[..., Any], ctx: RunContext, folder: Path, part: int) -> tuple[bool, Any]:
    """On a Dask worker: (True, `fn(ctx, folder, part)`), or (False, the error it raised, a
    bug told by its kind only as a task's is, failures.without_its_text); never raised there.
    With HYPOSCREEN_DEBUG the error itself, its worker's traceback added as a note."""
    try:
        return True, fn(ctx, folder, part)
    except Exception as error:
        if os.environ.get("HYPOSCREEN_DEBUG"):
            error.add_note("".join(traceback.format_exception(error)))
        return False, without_its_text(error, "partition")


POOL_VARIABLE = "ARROW_DEFAULT_MEMORY_POOL"


def use_jemalloc() -> None:
    """Arrow's memory pool: jemalloc, unless $ARROW_DEFAULT_MEMORY_POOL chooses one (or this
    pyarrow has no jemalloc). pyarrow's default, mimalloc, hands freed pages back to the OS at
    once and faults them in again for the next batch: a 2M-row Parquet run in process spent
    2.5-3.4 s of system time with it and 1.5 s with jemalloc (wall 9.1-10.5 s -> 8.1-8.3 s,
    peak RSS 0.93 GB -> 0.79 GB, the same outputs; 2-core machine, load ~2.7)."""
    if os.environ.get(POOL_VARIABLE) or "jemalloc" not in pa.supported_memory_backends():
        return
    if pa.default_memory_pool().backend_name != "jemalloc":
        pa.set_memory_pool(pa.jemalloc_memory_pool())


def release_free_memory(collect: bool = True) -> None:
    """Hand freed heap pages back to the OS (glibc keeps them otherwise), so the memory of
    one stage is not still counted in the next one's peak. A no-op off glibc. `collect`:
    run the garbage collector first (~0.3 s once GX is loaded; not needed where the frames
    let go are freed by their reference counts)."""
    if collect:
        gc.collect()
    pa.default_memory_pool().release_unused()  # Arrow's allocator (mimalloc) keeps pages too
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


@contextmanager
def heap_set_aside() -> Iterator[None]:
    """The objects alive before the windows (modules, rules, settings: ~80,000) left out of
    the cyclic garbage collector's full collections while they run (gc.freeze), given back
    to it after: each full collection of the windows' objects walked them all again."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


use_jemalloc()  # before the run allocates (a module of every runner)
