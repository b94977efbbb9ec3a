"""Cases of an analysis solved in local worker processes, results in the order given."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterable


def _ignore_interrupt() -> None:
    # Ctrl-C is the parent's to handle: it stops the pool; a worker must not turn it into a
    # half-solved case that looks finished
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def map_cases(fn: Callable, items: Iterable, workers: int = 1, progress: Callable | None = None) -> list:
    """``[fn(item) for item in items]``, in ``workers`` spawned processes when more than one.

    ``fn`` must be a module-level function and the items picklable. ``progress(result)`` is called
    as each result arrives. On Ctrl-C the workers are stopped and KeyboardInterrupt propagates.
    """
    items = list(items)
    if workers <= 1 or len(items) <= 1:
        out = []
        for item in items:
            out.append(fn(item))
            if progress:
                progress(out[-1])
        return out
    import multiprocessing

    # spawn: a fresh interpreter per worker, safe whatever threads this process holds
    pool = multiprocessing.get_context("spawn").Pool(min(workers, len(items)), initializer=_ignore_interrupt)
    try:
        out = []
        for result in pool.imap(fn, items, chunksize=1):
            out.append(result)
            if progress:
                progress(result)
        pool.close()
        return out
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()
