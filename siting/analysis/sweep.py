"""Sweeps: many variants of one instance, each a set of ``--set`` overrides, solved in parallel.

A sweep is planned once (:mod:`siting.analysis.sweep_plan`: the parameters, their values read by
:mod:`siting.analysis.sweep_specs`, and the cases), written to ``sweep.json``, and solved case by
case here through :func:`siting.run.run_case`, the pipeline every command uses. Each finished case
is written at once, atomically, to ``cases/<id>.json``; running the same command again solves only
the cases that have no file yet, so an interrupted sweep loses nothing but the cases that were
being solved. A case's model is not built from scratch where :mod:`siting.analysis.patch` can make
it from probes of the pipeline (the row's ``model`` column says which); every case is still checked
on its own values and its plan against the raw data. The rows (:mod:`siting.analysis.sweep_rows`),
tables, plots and ``manifest.json`` (written last, :mod:`siting.analysis.sweep_files`) are made
from the case files once every case has one.

``siting sweep`` is :func:`plan_sweep` then :func:`run_sweep`; the command only prints.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from siting.analysis.parallel import Workers, each_result
from siting.analysis.patch import Patcher
from siting.analysis.sweep_files import Finished, print_sweep, write_sweep
from siting.analysis.sweep_plan import Sweep, base_values, check_values, plan_cases, prepare
from siting.analysis.sweep_rows import SOLVED, Switch, case_row, switching_points, table
from siting.analysis.sweep_specs import Axis, fmt, parse_axis
from siting.errors import InputError, Problem, SitingError
from siting.instance.cache import TypingCache
from siting.instance.read import RawInstance
from siting.report.folder import atomic_write
from siting.report.write import json_safe
from siting.run import run_case
from siting.solve import SolverOptions

__all__ = ["Axis", "CaseSolver", "Finished", "Interrupted", "Started", "Sweep", "Switch", "atomic_write", "case_row",
           "check_scheduler_address", "check_values", "connect_scheduler", "default_workers", "local_workers",
           "parse_axis", "patch_notes", "plan_cases", "plan_sweep", "prepare", "prepare_solvers", "print_sweep",
           "refine", "run_sweep", "solve_cases", "start_base_plan", "table"]

log = logging.getLogger(__name__)


# --- one case ------------------------------------------------------------------------------------

class CaseSolver:
    """Solves cases of one instance; one per worker process, holding what cases share.

    With a :class:`~siting.analysis.patch.Patcher`, a case whose model it can make is solved from
    patched arrays; the others (and any patched case that does not solve or breaks a rule) go
    through :func:`siting.run.run_case`. The row's ``model`` says which ("patched" or "rebuilt").
    """

    def __init__(self, raw: RawInstance, options: SolverOptions, fixed: tuple[str, ...] = (),
                 start: np.ndarray | None = None, patcher: Patcher | None = None):
        self.raw = raw
        self.options = options
        self.fixed = tuple(fixed)
        self.cache = TypingCache()
        self.start = start
        self.patcher = patcher

    def __call__(self, case_id: str, sets: tuple[str, ...]) -> dict:
        """Solve one case and return its record; an error is recorded, not raised."""
        t0 = time.perf_counter()
        try:
            run, model = None, "rebuilt"
            if self.patcher is not None:
                run = self.patcher.run(self.raw, self.options, self.fixed, tuple(sets), self.cache, self.start)
                # a case whose model is a probe's, built for its very values, counts as rebuilt
                if run is not None and self.patcher.interpolated(tuple(sets)):
                    model = "patched"
            if run is None:
                run = run_case(self.raw, self.options, sets=self.fixed + tuple(sets), duals=False,
                               cache=self.cache, start=self.start)
            if run.outcome.termination.startswith("Interrupted"):
                # HiGHS ended this case on Ctrl-C or SIGTERM: it is not a finished case, and the
                # sweep stops here (the cases saved so far stand)
                raise KeyboardInterrupt
            row = case_row(run)
            row["model"] = model
        except SitingError as exc:
            row = {"status": "error", "note": str(exc)}
        except Exception as exc:  # noqa: BLE001 - a failed case is recorded and the sweep goes on
            row = {"status": "error", "note": f"internal error: {type(exc).__name__}: {exc}"}
        row["case_seconds"] = time.perf_counter() - t0
        return {"id": case_id, "sets": list(sets), "row": row}


_WORKER: CaseSolver | None = None


def _init_worker(raw: RawInstance, options: SolverOptions, fixed: tuple[str, ...], start: np.ndarray | None,
                 patcher: Patcher | None) -> None:
    global _WORKER
    _WORKER = CaseSolver(raw, options, fixed, start, patcher)


def _solve_in_worker(case: tuple[str, tuple[str, ...]]) -> dict:
    assert _WORKER is not None
    return _WORKER(*case)


def _solve_on_cluster(solver: CaseSolver, case_id: str, sets: tuple[str, ...]) -> dict:
    return solver(case_id, sets)


def _save(sweep: Sweep, record: dict) -> None:
    try:
        atomic_write(sweep.out / "cases" / f"{record['id']}.json", json.dumps(json_safe(record), indent=1) + "\n")
    except OSError as exc:
        raise InputError(Problem(f"--out {sweep.out}", f"cannot save case {record['id']} ({exc.strerror or exc}); "
                                                       f"the cases saved so far ({len(sweep.records)}) are kept",
                                 "free some disk space and run the same command again")) from None
    sweep.records[record["id"]] = record


def local_workers(workers: int, cases: int) -> Workers:
    """The local worker processes of a sweep of ``cases`` cases (none for one worker), started
    before the sweep has run a solver: on Linux they are forked and ready at once; elsewhere they
    import the package while the sweep checks its values."""
    return Workers(min(workers, cases), warm=(__name__,))


def solve_cases(sweep: Sweep, todo: list, workers: int = 1, scheduler: Any = None,
                progress: Callable[[dict], None] | None = None, pool: Workers | None = None) -> None:
    """Solve ``todo`` and write each case as it finishes. On Ctrl-C the workers are stopped and
    every case finished so far is kept.

    Parameters
    ----------
    sweep
        The sweep; each record is saved to ``cases/<id>.json`` and kept in ``sweep.records``.
    todo
        (id, overrides) of the cases to solve (:func:`siting.analysis.sweep_plan.prepare`).
    workers
        Local worker processes (1: in this process).
    scheduler
        A Dask client (:func:`connect_scheduler`): its workers solve instead.
    progress
        Called with each record once it is saved.
    pool
        Worker processes already started by :func:`local_workers`.
    """
    if not todo:
        return
    prepare_solvers(sweep, todo, pool)
    args = (sweep.raw, sweep.options, sweep.fixed, sweep.start, sweep.patcher)
    if scheduler is not None:
        _solve_with_dask(sweep, todo, scheduler, progress)
        return
    # results arrive as cases finish; each is written at once, so an interruption loses none
    for record in each_result(_solve_in_worker, todo, workers, setup=_init_worker, setup_args=args, ordered=False,
                              pool=pool):
        _save(sweep, record)
        if progress:
            progress(record)


def prepare_solvers(sweep: Sweep, todo: list, pool: Workers | None = None) -> None:
    """What a sweep does once before its cases: the base case's plan (the start every case is
    offered) and the probes that let cases be patched instead of built. With ``pool``'s workers
    the base case is solved in one of them while the others build probes."""
    plan = sweep.base_plan
    if sweep.warm_start and sweep.start is None and plan is None:
        # Every case starts HiGHS from the base case's plan: on the flagship this cuts HiGHS's
        # median time per case from 0.18 to 0.11 s (benchmarks/sweep.py), and, being the same start
        # in every worker, it keeps parallel sweeps identical to serial ones
        plan = (pool or Workers(1)).submit(_base_plan, (sweep.raw, sweep.options, sweep.fixed))
    if sweep.patch and sweep.patcher is None and todo:
        sweep.patcher = Patcher.learn(sweep.raw, sweep.fixed, base_values(sweep), [sets for _, sets in todo], pool)
        for path, note in sweep.patcher.notes().items():
            log.info("%s: %s", path, note)
    if plan is not None:
        sweep.start, sweep.base_plan = plan.get(), None


def start_base_plan(sweep: Sweep, pool: Workers) -> None:
    """Start solving the base case in one of ``pool``'s workers now (while this process checks the
    sweep's values), for :func:`prepare_solvers`; without workers it is solved there, when needed."""
    if sweep.warm_start and sweep.start is None and pool.parallel:
        sweep.base_plan = pool.submit(_base_plan, (sweep.raw, sweep.options, sweep.fixed))


def _base_plan(job: tuple) -> np.ndarray | None:
    """The column values of the base case's solution (None if it has none)."""
    raw, options, fixed = job
    try:
        return run_case(raw, options, sets=fixed, duals=False).outcome.values
    except SitingError:
        return None


def check_scheduler_address(address: str) -> str:
    """``address`` as Dask takes it (``tcp://HOST:PORT``), checked before anything is solved or
    written. Raises an :class:`InputError` for an address without a host or a port."""
    from urllib.parse import urlsplit

    where = f"--scheduler {address}"
    text = address.strip()
    if "://" not in text:
        text = "tcp://" + text
    fix = "write it as tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786 (the address `dask scheduler` prints)"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise InputError(Problem(where, "has a port that is not a number from 1 to 65535", fix)) from None
    if parts.scheme not in ("tcp", "tls", "ws", "wss", "ucx"):
        raise InputError(Problem(where, f"has an unknown protocol '{parts.scheme}'", fix))
    if not parts.hostname:
        raise InputError(Problem(where, "has no host", fix))
    if port is None:
        raise InputError(Problem(where, "has no port", fix))
    if not 1 <= port <= 65535 or parts.path not in ("", "/"):
        raise InputError(Problem(where, "is not HOST:PORT", fix))
    return text


def connect_scheduler(address: str) -> Any:
    """A Dask client of the scheduler at ``address`` (checked with :func:`check_scheduler_address`),
    connected before the sweep solves or writes anything, so that a scheduler that cannot be reached
    stops the command with nothing written."""
    where = f"--scheduler {address}"
    text = check_scheduler_address(address)
    try:
        from distributed import Client
    except ImportError:
        raise InputError(Problem(where, "needs the Dask distributed package",
                                 "install it with `pip install 'siting[cluster]'`")) from None
    try:
        return Client(text, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(Problem(where, f"cannot reach the scheduler ({exc})",
                                 "start one with `dask scheduler` and workers with `dask worker ADDRESS`")) from None


def _solve_with_dask(sweep: Sweep, todo: list, client: Any, progress: Callable[[dict], None] | None) -> None:
    from distributed import as_completed

    solver = client.scatter(CaseSolver(sweep.raw, sweep.options, sweep.fixed, sweep.start, sweep.patcher),
                            broadcast=True)
    futures = [client.submit(_solve_on_cluster, solver, case_id, sets, pure=False) for case_id, sets in todo]
    try:
        for fut in as_completed(futures):
            record = fut.result()
            _save(sweep, record)
            if progress:
                progress(record)
    except BaseException:
        client.cancel(futures)
        raise


def refine(sweep: Sweep, switch: Switch, tolerance: float) -> Switch:
    """Bisect a switching point down to ``tolerance``, each step one solve of the instance.

    Parameters
    ----------
    sweep
        The sweep the switching point was found in (its start and patcher are used).
    switch
        The switching point.
    tolerance
        Half the width of the interval to stop at.

    Returns
    -------
    Switch
        The refined point; where a third plan shows in between, the first of the two switches.
    """
    solver = CaseSolver(sweep.raw, sweep.options, sweep.fixed, sweep.start, sweep.patcher)
    lo, hi = switch.below, switch.above
    while hi - lo > 2 * tolerance:
        mid = (lo + hi) / 2
        row = solver("refine", (f"{switch.path}={fmt(mid)}",))["row"]
        if row.get("status") not in SOLVED:
            break
        if row["sites_open"] == switch.before:
            lo = mid
        elif row["sites_open"] == switch.after:
            hi = mid
        else:  # a third plan in between: two switches, keep the first
            hi, switch = mid, Switch(switch.path, switch.below, mid, switch.before, row["sites_open"])
    return Switch(switch.path, lo, hi, switch.before, switch.after, refined=True)


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


# --- the command's steps -------------------------------------------------------------------------

def plan_sweep(source: str | Path, params: list[str], options: SolverOptions, method: str = "grid",
               samples: int | None = None, seed: int = 0, fixed: tuple[str, ...] = (), out: Path | None = None,
               warm_start: bool = True, patch: bool = True) -> Sweep:
    """Read the instance, parse the parameters and plan the cases of a sweep, writing nothing.

    Parameters
    ----------
    source
        An instance folder, its ``instance.yaml`` or a workbook.
    params
        The ``--param PATH=SPEC`` texts (:func:`siting.analysis.sweep_specs.parse_axis`).
    options
        HiGHS's options for every case.
    method, samples, seed
        How the cases are drawn (:func:`siting.analysis.sweep_plan.plan_cases`).
    fixed
        ``--set`` overrides for every case.
    out
        The sweep's folder (default ``results/<instance name>-sweep/``), checked as every
        command checks its output folder.
    warm_start, patch
        Whether cases start HiGHS from the base case's plan, and may be patched from probes.

    Returns
    -------
    Sweep
        The planned sweep, its ``base`` the checked instance with the fixed overrides.

    Raises
    ------
    InputError
        For a parameter named twice or not at all, a bad value spec, a bad ``--set`` or folder.
    """
    from siting.instance.overrides import addressable_paths
    from siting.instance.read import read_instance
    from siting.report.write import check_out_dir, default_out_dir
    from siting.run import load_case

    raw = read_instance(source)
    base = load_case(raw, list(fixed))
    paths = addressable_paths(raw)
    axes = [parse_axis(text, paths) for text in params]
    seen = [a.path for a in axes]
    if len(set(seen)) != len(seen):
        raise InputError(Problem("--param", "names a parameter twice", "give each parameter once"))
    cases = plan_cases(axes, method, samples, seed)
    out = out if out is not None else default_out_dir(raw.name + "-sweep")
    check_out_dir(out, raw.inputs)
    return Sweep(raw=raw, axes=axes, method=method, cases=cases, options=options, out=out, fixed=tuple(fixed),
                 seed=seed, samples=samples, warm_start=warm_start, patch=patch, base=base)


@dataclass(frozen=True)
class Started:
    """What a sweep is about to solve, once its values are checked and its folder read.

    Attributes
    ----------
    total, solved, to_solve
        Its cases: all, those already solved (an earlier run's), those still to solve.
    failed
        Cases already solved that failed.
    workers
        Local worker processes used (1 on a Dask scheduler: its workers solve).
    scheduler
        The Dask scheduler's address, or None.
    """

    total: int
    solved: int
    to_solve: int
    failed: int
    workers: int
    scheduler: str | None


class Interrupted(KeyboardInterrupt):
    """The sweep was stopped (Ctrl-C, SIGTERM) while solving its cases; the cases saved stand.

    Attributes
    ----------
    saved, total
        Cases saved so far, and all the sweep's cases.
    signum
        The signal that stopped it, if known.
    """

    def __init__(self, saved: int, total: int, signum: int | None):
        super().__init__(f"{saved} of {total} cases saved")
        self.saved, self.total, self.signum = saved, total, signum


def run_sweep(sweep: Sweep, command: list[str], workers: int | None = None, scheduler: str | None = None,
              refine_tolerance: float | None = None, started: Callable[[Started], None] | None = None,
              progress: Callable[[dict], None] | None = None) -> Finished:
    """Solve a planned sweep's cases not yet solved, then write its tables, charts and manifest.

    The workers start first (on Linux forked at once), the base case's plan is solved in one of
    them while the values are checked, then ``sweep.json`` is written or checked and the cases
    already solved are read; each case is saved as it finishes.

    Parameters
    ----------
    sweep
        From :func:`plan_sweep`.
    command
        The command line, for the manifest.
    workers
        Local worker processes (default: the cores this process may use).
    scheduler
        A Dask scheduler's address: its workers solve the cases instead (reached before anything
        is solved or written).
    refine_tolerance
        Bisect each switching point to this tolerance (extra solves).
    started
        Called once before the cases are solved, with what is about to be done.
    progress
        Called with each case's record as it is saved.

    Returns
    -------
    Finished
        The case table, switching points, tornado and the files written.

    Raises
    ------
    Interrupted
        On Ctrl-C or SIGTERM while cases are solved (the cases saved so far stand).
    InputError
        For a value the instance's rules refuse, a folder holding another sweep, a full disk.
    """
    sweep.instance()  # checked before any worker starts
    workers = workers or default_workers()
    # the scheduler is reached before anything is solved or written: one that cannot be is refused
    client = connect_scheduler(scheduler) if scheduler else None
    try:
        with local_workers(1 if client is not None else workers, len(sweep.cases)) as pool:
            start_base_plan(sweep, pool)
            check_values(sweep)
            todo = prepare(sweep)
            if started is not None:
                failed = sum(1 for r in sweep.records.values() if r["row"].get("status") == "error")
                started(Started(total=len(sweep.cases), solved=len(sweep.cases) - len(todo), to_solve=len(todo),
                                failed=failed, workers=min(workers, max(len(todo), 1)), scheduler=scheduler))
            try:
                solve_cases(sweep, todo, workers=workers, scheduler=client, progress=progress, pool=pool)
            except KeyboardInterrupt as exc:
                raise Interrupted(len(sweep.records), len(sweep.cases), getattr(exc, "signum", None)) from exc
    finally:
        if client is not None:
            client.close()
    df = table(sweep)
    switches = switching_points(df, sweep)
    if refine_tolerance:
        switches = [refine(sweep, s, refine_tolerance) for s in switches]
    return write_sweep(sweep, df, switches, command)


def patch_notes(sweep: Sweep) -> list[str]:
    """How each parameter's cases were made, in words (none without patching)."""
    if sweep.patcher is None:
        return []
    said = {"patched": "patched in place",
            "probed": "each value built once (too few values, or none along which it acts affinely)"}
    return [f"{path}: " + (said.get(note) or f"rebuilt every case ({note.split(': ', 1)[1]})")
            for path, note in sweep.patcher.notes().items()]
