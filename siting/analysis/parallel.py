"""Cases of an analysis solved in this process or in local worker processes.

Sweeps and policy comparisons both go through :func:`each_result`: a module-level function
applied to picklable items, optionally after a ``setup`` that builds what the cases share
(run once per worker process, or once here when there is a single worker).

On Linux the workers are forked: they start at once with everything this process has imported.
Elsewhere they are spawned, and a spawned worker takes about a second and a half to start (a fresh
interpreter importing Pyomo, pandas, SciPy and HiGHS). A command that prepares before its cases
(a sweep checks its values, solves the base case and probes the model) therefore starts its
:class:`Workers` first, before it has run a solver, and hands them the pool: forked workers then
hold no solver's threads, and spawned ones import while it prepares. What the workers share
reaches them through a file that each reads once, before its first item.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import multiprocessing
import os
import pickle
import signal
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator

#: Setup files this worker process has already run (see :func:`_call`).
_DONE: set[str] = set()

#: How the files that hand the workers what they share are named: ``siting-setup-PID-XXXX.pickle``
#: in the temporary folder, PID being the process that made them.
SETUP_PREFIX = "siting-setup-"


def remove_stale_setup_files(folder: str | None = None) -> list[str]:
    """Remove setup files that a killed command left in the temporary folder: ours by name and
    owner, made by a process that no longer runs. Returns the paths removed."""
    folder = folder or tempfile.gettempdir()
    removed: list[str] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not (name.startswith(SETUP_PREFIX) and name.endswith(".pickle")):
            continue
        pid = name[len(SETUP_PREFIX):].split("-", 1)[0]
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not pid.isdigit() or st.st_uid != os.getuid() or not entry.is_file(follow_symlinks=False):
            continue
        try:
            os.kill(int(pid), 0)
            continue  # its process still runs (or the number was taken by another): not stale
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        try:
            os.unlink(entry.path)
            removed.append(entry.path)
        except OSError:
            pass
    return removed


def _start_worker(warm: tuple[str, ...]) -> None:
    # Ctrl-C is the parent's to handle: it stops the pool; a worker must not turn it into a
    # half-solved case that looks finished
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # SIGTERM ends a worker at once and quietly (the pool's terminate sends it, and so does a
    # process manager to the whole group): a forked worker would otherwise inherit the command's
    # handler and print a traceback from wherever it was. A worker writes no file, so nothing
    # is left half-written
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # A worker starts no processes of its own. With fork as its default, a lock that a library
    # makes on import (Pyomo has one) is unlinked at once, so a worker stopped mid-case leaves no
    # semaphore behind for the resource tracker to warn about
    if "fork" in multiprocessing.get_all_start_methods():
        multiprocessing.set_start_method("fork", force=True)
    for name in warm:
        importlib.import_module(name)


def _call(task: tuple) -> object:
    """Run ``fn(item)`` in a worker, after the setup in ``setup_file`` the first time it is named."""
    setup_file, fn, item = task
    if setup_file is not None and setup_file not in _DONE:
        with open(setup_file, "rb") as fh:
            setup, args = pickle.load(fh)
        setup(*args)
        _DONE.add(setup_file)
    return fn(item)


class Workers:
    """``n`` local worker processes, started at once (none for ``n`` of 1 or less). Start them
    before this process runs a solver: a forked worker must not inherit a solver's threads.

    ``warm`` names modules the workers need: forked workers find them imported here, once, before
    they start; a spawned worker imports them on starting, so that the import overlaps with
    whatever this process does before the first case. What the workers share (the instance, a
    learned model) is handed over by :meth:`share`, then used by :meth:`results`. Use as a
    context manager: on leaving it normally the workers finish and exit; on an exception
    (Ctrl-C included) they are stopped.
    """

    def __init__(self, n: int, warm: tuple[str, ...] = ()):
        self.n = max(1, int(n))
        self.pool = None
        self._files: list[str] = []
        if self.n > 1:
            remove_stale_setup_files()
            # fork only on Linux (macOS's system libraries are not safe to fork, Windows cannot)
            method = "fork" if sys.platform == "linux" else "spawn"
            if method == "fork":
                # a forked worker shares what this process has imported: import once here what
                # every worker needs instead of once per worker (the second worker's own imports
                # and first-call set-up were CPU time that one worker does not spend), and freeze
                # the collector's view of those objects so that the workers' collections do not
                # touch, and so copy, the pages they share
                for name in warm:
                    importlib.import_module(name)
                gc.freeze()
            try:
                self.pool = multiprocessing.get_context(method).Pool(self.n, initializer=_start_worker,
                                                                     initargs=(tuple(warm),))
            finally:
                gc.unfreeze()

    @property
    def parallel(self) -> bool:
        """Whether items run in worker processes (else in this process)."""
        return self.pool is not None

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, kind, value, trace) -> None:
        self.close(failed=kind is not None)

    def close(self, failed: bool = False) -> None:
        """Stop the workers: at once after a failure (or a signal), else once their tasks are done."""
        if self.pool is not None:
            if failed:
                _stop_now(self.pool)
            else:
                self.pool.close()
            self.pool.join()
            self.pool = None
        for name in self._files:  # no worker is left to read them
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name)
        self._files = []

    def share(self, setup: Callable, args: tuple = ()) -> str | None:
        """Have each worker run ``setup(*args)`` once, before the first item of any :meth:`results`
        call given the returned token (here, at once, without workers)."""
        if self.pool is None:
            setup(*args)
            return None
        fd, name = tempfile.mkstemp(prefix=f"{SETUP_PREFIX}{os.getpid()}-", suffix=".pickle")
        self._files.append(name)
        with os.fdopen(fd, "wb") as fh:
            pickle.dump((setup, args), fh, protocol=pickle.HIGHEST_PROTOCOL)
        return name

    def submit(self, fn: Callable, item, shared: str | None = None):
        """Start ``fn(item)`` in a worker and return what gives its result by ``get()`` (here: run now)."""
        if self.pool is None:
            return _Ready(fn(item))
        return self.pool.apply_async(_call, ((shared, fn, item),))

    def results(self, fn: Callable, items: list, shared: str | None = None, ordered: bool = True) -> Iterator:
        """Yield ``fn(item)`` for every item, after the setup that :meth:`share` returned ``shared`` for."""
        if self.pool is None:
            for item in items:
                yield fn(item)
            return
        mapper = self.pool.imap if ordered else self.pool.imap_unordered
        try:
            yield from mapper(_call, [(shared, fn, item) for item in items], chunksize=1)
        except BaseException:
            # interrupted, or the caller stopped early: the items still queued must not run
            self.close(failed=True)
            raise


def _stop_now(pool) -> None:
    """Stop a pool's workers at once, even when some were already killed (a SIGTERM sent to the
    whole process group reaches them too).

    A worker killed while it held one of the pool's queue locks (reading a task, or sending a
    result) would leave ``Pool.terminate`` waiting for that lock forever. So: no worker is started
    again, every worker is killed and reaped, a lock that a dead worker left taken is released, and
    only then is the pool terminated. The workers write no file, so killing them loses nothing.
    """
    from multiprocessing import pool as mp_pool

    handler = pool._worker_handler
    handler._state = mp_pool.TERMINATE  # the pool must not replace the workers killed below
    pool._change_notifier.put(None)
    handler.join(timeout=5)
    workers = list(pool._pool)
    for p in workers:
        if p.exitcode is None:
            with contextlib.suppress(OSError):
                os.kill(p.pid, signal.SIGKILL)
    for p in workers:
        p.join(timeout=5)
    for lock in (getattr(pool._inqueue, "_rlock", None), getattr(pool._outqueue, "_wlock", None)):
        if lock is None:
            continue
        # the pool's own task-handler thread takes the result queue's lock for a moment too: wait a
        # little before taking it as held by a dead worker, or releasing it would pull it from under
        # that thread ("semaphore or lock released too many times")
        if not lock.acquire(timeout=1.0):  # still taken: every process that could hold it is dead
            with contextlib.suppress(ValueError):
                lock.release()
        else:
            lock.release()
    pool.terminate()


class _Ready:
    """A result already computed, read like a pool's."""

    def __init__(self, value) -> None:
        self.value = value

    def get(self):
        return self.value


def each_result(fn: Callable, items: Iterable, workers: int = 1, setup: Callable | None = None,
                setup_args: tuple = (), ordered: bool = True, pool: Workers | None = None,
                warm: tuple[str, ...] = ()) -> Iterator:
    """Yield ``fn(item)`` for every item, in ``workers`` local processes when more than one.

    On Ctrl-C the workers are stopped and KeyboardInterrupt propagates; results yielded so far stand.

    Parameters
    ----------
    fn
        What each item is run through; a module-level function, so that workers can import it.
    items
        The items.
    workers
        Local worker processes (1: in this process).
    setup, setup_args
        Run once in each worker before its first item (e.g. to build what every case shares).
    ordered
        False yields results as they finish (a worker never waits for a slower one).
    pool
        Workers already started (:class:`Workers`), used instead of new ones.
    warm
        Modules the workers need (see :class:`Workers`), when they are started here.

    Yields
    ------
    object
        ``fn(item)``, in item order when ``ordered``.
    """
    items = list(items)
    if pool is not None:
        shared = pool.share(setup, setup_args) if setup is not None else None
        yield from pool.results(fn, items, shared, ordered)
        return
    with Workers(min(workers, len(items)), warm) as own:
        shared = own.share(setup, setup_args) if setup is not None else None
        yield from own.results(fn, items, shared, ordered)


def map_cases(fn: Callable, items: Iterable, workers: int = 1, progress: Callable | None = None) -> list:
    """``[fn(item) for item in items]`` in order, in ``workers`` local processes.

    Parameters
    ----------
    fn, items, workers
        As for :func:`each_result`.
    progress
        Called with each result as it arrives.

    Returns
    -------
    list
        The results in item order.
    """
    out = []
    for result in each_result(fn, items, workers):
        out.append(result)
        if progress:
            progress(result)
    return out
