"""Cases of an analysis solved in this process or in local worker processes.

Sweeps and policy comparisons both go through :func:`each_result`: a module-level function
applied to picklable items, optionally after a ``setup`` that builds what the cases share
(run once per worker process, or once here when there is a single worker).
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterable, Iterator


def _start_worker(setup: Callable | None, setup_args: tuple) -> None:
    # Ctrl-C is the parent's to handle: it stops the pool; a worker must not turn it into a
    # half-solved case that looks finished
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if setup is not None:
        setup(*setup_args)


def each_result(fn: Callable, items: Iterable, workers: int = 1, setup: Callable | None = None,
                setup_args: tuple = (), ordered: bool = True) -> Iterator:
    """Yield ``fn(item)`` for every item, in ``workers`` spawned processes when more than one.

    ``ordered`` False yields results as they finish (a worker never waits for a slower one). On
    Ctrl-C the workers are stopped and KeyboardInterrupt propagates; results yielded so far stand.
    """
    items = list(items)
    if workers <= 1 or len(items) <= 1:
        if setup is not None:
            setup(*setup_args)
        for item in items:
            yield fn(item)
        return
    import multiprocessing

    # spawn: a fresh interpreter per worker, safe whatever threads this process holds
    pool = multiprocessing.get_context("spawn").Pool(min(workers, len(items)), initializer=_start_worker,
                                                     initargs=(setup, setup_args))
    try:
        mapper = pool.imap if ordered else pool.imap_unordered
        yield from mapper(fn, items, chunksize=1)
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()


def map_cases(fn: Callable, items: Iterable, workers: int = 1, progress: Callable | None = None) -> list:
    """``[fn(item) for item in items]`` in order; ``progress(result)`` is called as each arrives."""
    out = []
    for result in each_result(fn, items, workers):
        out.append(result)
        if progress:
            progress(result)
    return out
