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

__all__ = ["default_workers", "map_unordered"]

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


def _local_pool(fn: Callable[[T], R], jobs: list[T], workers: int) -> Iterator[R]:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    context = multiprocessing.get_context("spawn")
    pending: set[Any] = set()
    queue = iter(jobs)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
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
        finally:
            for future in pending:
                future.cancel()


def _dask(fn: Callable[[T], R], jobs: list[T], scheduler: Any, timeout: float) -> Iterator[R]:
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
        :func:`default_workers`); 1 runs tiles in this process.
    """
    jobs = list(jobs)
    if scheduler is not None:
        yield from _dask(fn, jobs, scheduler, timeout)
        return
    workers = default_workers() if workers is None else workers
    if workers < 1:
        raise ParameterError("--workers", "must be at least 1")
    if workers == 1 or len(jobs) <= 1:
        for job in jobs:
            yield fn(job)
        return
    yield from _local_pool(fn, jobs, min(workers, len(jobs)))
