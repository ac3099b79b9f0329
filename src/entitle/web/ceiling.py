"""A memory ceiling for the web's background jobs (issue #14 item 2).

An upload's import — reading the estate and computing its position — runs in a worker process
whose address space may grow by at most the ceiling (``RLIMIT_AS``, set once the worker has
loaded the engine, so the ceiling is what one job may build, not what the program is). A job
that reaches it gets ``MemoryError`` in the worker, and ends *failed* with a message naming the
ceiling; the server and the other jobs carry on. A worker that dies anyway (killed from
outside) is replaced, and its job ends failed too. The default ceiling is 2 GiB a job
(``entitle serve --job-memory MIB``); the workers are as many as the job threads.

Workers run the ``preload`` the server gives (``entitle.web.decisions.load_jobs``: the job
functions and all they import) before the ceiling is set; the web's job runners call
:meth:`Ceiling.run`. This module imports nothing of the web (the jobs import it).
"""

from __future__ import annotations

import multiprocessing
import resource
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, TypeVar

DEFAULT_BYTES = 2 * 1024**3
T = TypeVar("T")


class CeilingReached(Exception):
    """The job needed more memory than its ceiling allows."""


def mib(size: int) -> str:
    return f"{size // 1024**2:,} MiB"


def address_space() -> int:
    """This process's current virtual memory size in bytes (Linux ``/proc``)."""
    with open("/proc/self/statm", encoding="ascii") as fh:
        pages = int(fh.read().split()[0])
    return pages * resource.getpagesize()


def _start_worker(ceiling: int, preload: Callable[[], object] | None) -> None:
    """Load what jobs use (unpickling ``preload`` imports its module), then cap the worker's
    address space at what it is plus ``ceiling``."""
    if preload is not None:
        preload()

    limit = address_space() + ceiling
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _call(fn: Callable[..., T], args: tuple[Any, ...]) -> tuple[bool, T | None]:
    try:
        return True, fn(*args)
    except MemoryError:
        return False, None


@dataclass
class Ceiling:
    """Worker processes that run jobs under a memory ceiling of ``size`` bytes each."""

    size: int = DEFAULT_BYTES
    workers: int = 2
    preload: Callable[[], object] | None = None  # module-level, so that it pickles

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=multiprocessing.get_context("forkserver"),
                    initializer=_start_worker,
                    initargs=(self.size, self.preload),
                )
            return self._pool

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a worker (both must pickle); :class:`CeilingReached` when the work
        needs more memory than the ceiling, or its worker died."""
        pool = self._executor()
        try:
            done, value = pool.submit(_call, fn, args).result()
        except BrokenProcessPool:
            with self._lock:
                if self._pool is pool:
                    self._pool = None
            pool.shutdown(wait=False, cancel_futures=True)
            raise CeilingReached(
                f"the job's worker process ended (the memory ceiling is {mib(self.size)} a job)"
            ) from None
        if not done:
            raise CeilingReached(f"the job reached the memory ceiling of {mib(self.size)}")
        return value  # type: ignore[return-value]

    def shutdown(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
