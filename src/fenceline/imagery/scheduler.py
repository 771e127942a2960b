"""Where tiles run: inline, a local process pool, or a Dask distributed cluster.

:func:`map_unordered` yields results as tiles finish, keeping only a bounded number of tiles
in flight, so the driver's memory does not grow with the scene.

>>> list(sorted(map_unordered(abs, [-1, -2, 3], workers=1)))
[1, 2, 3]
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from fenceline.errors import MissingDependencyError, ParameterError

__all__ = ["default_workers", "map_runs", "map_unordered", "shutdown_pool"]

T = TypeVar("T")
R = TypeVar("R")


def default_workers() -> int:
    """Local pool size: ``FENCELINE_WORKERS`` or the number of CPUs."""
    value = os.environ.get("FENCELINE_WORKERS")
    if value:
        try:
            workers = int(value)
        except ValueError:
            workers = 0
        if workers < 1:
            raise ParameterError("FENCELINE_WORKERS", f"{value!r} is not a positive integer")
        return workers
    return max(1, os.cpu_count() or 1)


#: the local pool, kept between runs in this process: starting worker processes (and their
#: imports) costs about a second, more than detecting a few megapixels
_POOL: dict[int, Any] = {}
_POOL_AT_EXIT: list[bool] = []


def _pool(workers: int) -> Any:
    """The process pool of ``workers`` processes, started on first use ("spawn": workers
    import what they need and inherit no open files or locks from this process)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = _POOL.get(workers)
    if pool is None:
        shutdown_pool()
        pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn")
        )
        if not _POOL_AT_EXIT:
            import atexit

            atexit.register(shutdown_pool, wait=True)  # before the interpreter tears down
            _POOL_AT_EXIT.append(True)
        _POOL[workers] = pool
    return pool


def shutdown_pool(wait: bool = False) -> None:
    """Stop the local pool's worker processes (a later run starts new ones).

    >>> shutdown_pool()
    """
    pools = list(_POOL.values())
    _POOL.clear()
    for pool in pools:
        pool.shutdown(wait=wait, cancel_futures=True)


def _local_workers(workers: int | None) -> int:
    """The local pool's size: ``workers``, else :func:`default_workers`; at least 1."""
    workers = default_workers() if workers is None else workers
    if workers < 1:
        raise ParameterError("--workers", "must be at least 1")
    return workers


class _Listed:
    """``run`` over a run of consecutive jobs in one worker, as a list (picklable when ``run``
    is)."""

    def __init__(self, run: Callable[[list[T]], Iterable[R]]) -> None:
        self.run = run

    def __call__(self, jobs: list[T]) -> list[R]:
        return list(self.run(jobs))


def _runs(jobs: list[T], workers: int, longest: int) -> list[list[T]]:
    """Consecutive jobs in runs of up to ``longest``, short enough that each of ``workers``
    gets at least 4 runs (so the last ones still spread).

    >>> [len(r) for r in _runs(list(range(16)), 2, 8)], [len(r) for r in _runs([1, 2], 2, 8)]
    ([2, 2, 2, 2, 2, 2, 2, 2], [1, 1])
    """
    size = max(1, min(longest, -(-len(jobs) // (4 * workers))))
    return [jobs[i : i + size] for i in range(0, len(jobs), size)]


def _flat(results: Iterator[list[R]]) -> Iterator[R]:
    for run in results:
        yield from run


def _local_pool(fn: Callable[[T], R], jobs: list[T], workers: int) -> Iterator[R]:
    from concurrent.futures import FIRST_COMPLETED, wait

    pool = _pool(workers)
    pending: set[Any] = set()
    queue = iter(jobs)
    finished = False
    try:
        for job in queue:
            pending.add(pool.submit(fn, job))
            if len(pending) >= 2 * workers:
                break
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
                nxt = next(queue, None)
                if nxt is not None:
                    pending.add(pool.submit(fn, nxt))
        finished = True
    finally:
        for future in pending:
            future.cancel()
        if not finished:
            # interrupted or failed: tiles may still run; start clean next time
            shutdown_pool()


def _dask(
    fn: Callable[[Any], Any], jobs: list[T], scheduler: Any, timeout: float, longest: int = 0
) -> Iterator[Any]:
    """``fn`` over the jobs on a Dask cluster; with ``longest``, over runs of consecutive jobs
    (``fn`` takes a run and returns a list), the results flattened."""
    try:
        from distributed import Client, as_completed
    except ImportError:  # pragma: no cover - depends on the environment
        raise MissingDependencyError("dask[distributed]", "imagery") from None
    own = not isinstance(scheduler, Client)
    if own:
        try:
            client = Client(scheduler, timeout=timeout)
        except (OSError, TimeoutError) as exc:
            raise ParameterError(
                "--scheduler", f"cannot reach Dask scheduler {scheduler} ({exc})"
            ) from None
    else:
        client = scheduler
    try:
        n_workers = max(1, len(client.scheduler_info().get("workers", {})))
        if longest:
            jobs = _runs(jobs, n_workers, longest)  # type: ignore[assignment]
        window = 4 * n_workers
        queue = iter(jobs)
        first = [job for _, job in zip(range(window), queue, strict=False)]
        futures = as_completed(client.map(fn, first, pure=False))
        for future in futures:
            result = future.result()
            future.release()
            nxt = next(queue, None)
            if nxt is not None:
                futures.add(client.submit(fn, nxt, pure=False))
            if longest:
                yield from result
            else:
                yield result
    finally:
        if own:
            client.close()


def map_unordered(
    fn: Callable[[T], R],
    jobs: Iterable[T],
    *,
    scheduler: Any = None,
    workers: int | None = None,
    timeout: float = 30.0,
) -> Iterator[R]:
    """Apply ``fn`` to every job, yielding results in completion order.

    Parameters
    ----------
    scheduler : str or distributed.Client, optional
        Address of a Dask distributed scheduler (``tcp://host:8786``) or a client. The tiles'
        image paths must be readable from the workers.
    workers : int, optional
        Size of the local process pool when there is no scheduler (default
        :func:`default_workers`); 1 runs tiles in this process. The pool stays up for later
        runs in this process (:func:`shutdown_pool` stops it).
    """
    jobs = list(jobs)
    if scheduler is not None:
        yield from _dask(fn, jobs, scheduler, timeout)
        return
    workers = _local_workers(workers)
    if workers == 1 or len(jobs) <= 1:
        for job in jobs:
            yield fn(job)
        return
    yield from _local_pool(fn, jobs, workers)


def map_runs(
    run: Callable[[list[T]], Iterable[R]],
    jobs: Iterable[T],
    *,
    scheduler: Any = None,
    workers: int | None = None,
    timeout: float = 30.0,
    longest: int = 8,
) -> Iterator[R]:
    """Apply ``run`` to runs of consecutive jobs, yielding each job's result.

    ``run`` takes a list of jobs and yields (or returns) their results in order. In this
    process (``workers=1``) it gets all the jobs at once, and its results come as it yields
    them; in the local pool or on Dask each worker gets runs of up to ``longest`` consecutive
    jobs (fewer where a worker would get fewer than 4 runs), a run's results coming together
    when it finishes. Neighbouring tiles in one run share the blocks their worker decoded.
    Parameters otherwise as :func:`map_unordered`; ``run`` must be importable (picklable)
    for the pool and Dask.

    >>> def double(jobs):
    ...     return [2 * j for j in jobs]
    >>> list(map_runs(double, [1, 2, 3], workers=1))
    [2, 4, 6]
    """
    jobs = list(jobs)
    if scheduler is not None:
        yield from _dask(_Listed(run), jobs, scheduler, timeout, longest)
        return
    workers = _local_workers(workers)
    if workers == 1 or len(jobs) <= 1:
        yield from run(jobs)
        return
    yield from _flat(_local_pool(_Listed(run), _runs(jobs, workers, longest), workers))
