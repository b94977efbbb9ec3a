"""Sweeps: many variants of one instance, each a set of ``--set`` overrides, solved in parallel.

A sweep is planned once (the parameters, their values and the cases), written to
``sweep.json``, and solved case by case through :func:`siting.run.run_case`, the pipeline every
command uses. Each finished case is written at once, atomically, to ``cases/<id>.json``; running
the same command again solves only the cases that have no file yet, so an interrupted sweep loses
nothing but the cases that were being solved. A case's model is not built from scratch where
:mod:`siting.analysis.patch` can make it from probes of the pipeline (the row's ``model`` column
says which); every case is still checked on its own values and its plan against the raw data.
The tables, plots and ``manifest.json`` (written last) are made from the case files once every
case has one.

Parameter values (``SPEC``) come in three forms:

* a list: ``0.4,0.5,0.6`` (numbers or words);
* a range ``START:STOP:STEP``, both ends included: ``0:0.5:0.05`` is 11 values;
* a band around the instance's own value, ``-20%:+20%:10%``: five values, 0.8 to 1.2 times it.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from siting.analysis.parallel import Workers, each_result
from siting.analysis.patch import Patcher
from siting.errors import InputError, Problem, SitingError
from siting.instance.check import TypingCache
from siting.instance.overrides import canonical_path, parse_assignment, split_assignment
from siting.instance.read import RawInstance, suggest
from siting.report.extract import open_sites
from siting.report.folder import atomic_write, remove_stale
from siting.report.write import json_safe
from siting.run import Run, load_case, run_case
from siting.solve import SolverOptions

log = logging.getLogger(__name__)

METHODS = ("grid", "oat", "lhs")

#: More cases than this is almost certainly a typo in a step.
MAX_CASES = 100_000

#: Statuses of a case that solved (the others have no plan).
SOLVED = ("optimal", "feasible")


def fmt(x: float) -> str:
    """A number as ``--set`` text: 12 significant digits, so 0.1 * 3 is written 0.3."""
    text = f"{x:.12g}"
    return "0" if text == "-0" else text


def _number(text: str) -> float | None:
    try:
        x = float(text)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


@dataclass(frozen=True)
class Axis:
    """One swept parameter.

    Attributes
    ----------
    path
        The ``--set`` path, e.g. ``instruments.meti-chitose.rate``.
    spec
        The values as given on the command line.
    values
        The values as ``--set`` text, in the order given.
    base
        The instance's own value, as text ("" where the instance leaves it empty).
    """

    path: str
    spec: str
    values: tuple[str, ...]
    base: str

    @property
    def numeric(self) -> bool:
        return all(_number(v) is not None for v in self.values)

    @property
    def low(self) -> float:
        return min(float(v) for v in self.values)

    @property
    def high(self) -> float:
        return max(float(v) for v in self.values)


def _range(where: str, parts: list[str], percent: bool) -> list[float]:
    nums = []
    for part in parts:
        text = part.strip()
        if percent:
            if not text.endswith("%"):
                raise InputError(Problem(where, f"'{part}' is not a percentage",
                                         "write a band with % on every part, e.g. -20%:+20%:10%"))
            text = text[:-1]
        x = _number(text)
        if x is None:
            raise InputError(Problem(where, f"'{part}' is not a number",
                                     "write START:STOP:STEP, e.g. 0:0.5:0.05, or a band such as -20%:+20%:10%"))
        nums.append(x / 100 if percent else x)
    start, stop, step = nums
    if step <= 0:
        raise InputError(Problem(where, f"step {parts[2]} is not positive", "give a step above zero"))
    if stop < start:
        raise InputError(Problem(where, f"stops ({parts[1]}) below where it starts ({parts[0]})",
                                 "write the smaller value first"))
    count = math.floor((stop - start) / step + 1e-9) + 1
    if count > MAX_CASES:
        raise InputError(Problem(where, f"gives {count:,} values", "choose a larger step"))
    return [start + k * step for k in range(count)]


def parse_axis(text: str, paths: dict[str, str]) -> Axis:
    """Parse one ``--param PATH=SPEC`` against the instance's parameters (``paths``)."""
    split = split_assignment(text)
    if split is None:
        raise InputError(Problem(f"--param {text}", "has no '='",
                                 "write PATH=SPEC, e.g. instruments.meti-chitose.rate=0:0.6:0.05"))
    path, spec = canonical_path(split[0]), split[1]  # a key part with . / = is quoted, as `params` prints it
    where = f"--param {path}"
    if path not in paths:
        raise InputError(Problem(where, "no such parameter", suggest(path, paths, "list them with `siting params`")))
    if not spec:
        raise InputError(Problem(where, "has no values after '='",
                                 "give a list (0.4,0.5), a range (0:0.5:0.05) or a band (-20%:+20%:10%)"))
    base = paths[path] if paths[path] not in ("None", "nan") else ""
    if ":" in spec:
        parts = spec.split(":")
        if len(parts) != 3:
            raise InputError(Problem(where, f"'{spec}' is not START:STOP:STEP",
                                     "write e.g. 0:0.5:0.05, or a band such as -20%:+20%:10%"))
        percent = any(p.strip().endswith("%") for p in parts)
        steps = _range(where, parts, percent)
        if percent:
            b = _number(base)
            if b is None or b == 0:
                shown = f"'{base}'" if base else "empty"
                raise InputError(Problem(where, f"a band needs a non-zero number to scale, and the instance's "
                                                f"value is {shown}", "give a list or a range instead"))
            values = [fmt(b * (1 + f)) for f in steps]
        else:
            values = [fmt(x) for x in steps]
    else:
        values = [v.strip() for v in spec.split(",")]
        if any(v == "" for v in values):
            raise InputError(Problem(where, f"'{spec}' has an empty value", "separate values by single commas"))
    if len(set(values)) != len(values):
        raise InputError(Problem(where, f"'{spec}' repeats a value", "give each value once"))
    return Axis(path=path, spec=spec, values=tuple(values), base=base)


def plan_cases(axes: list[Axis], method: str, samples: int | None = None, seed: int = 0) -> list[tuple[str, ...]]:
    """The cases of a sweep, each a tuple of ``PATH=VALUE`` assignments.

    ``grid`` is every combination; ``oat`` is the base case (no assignment) and then each
    parameter alone at each of its values; ``lhs`` draws ``samples`` points of a Latin hypercube
    over each parameter's range (smallest to largest value given), seeded by ``seed``.
    """
    if method == "grid":
        combos = list(itertools.product(*[a.values for a in axes]))
        if len(combos) > MAX_CASES:
            raise InputError(Problem("--method grid", f"gives {len(combos):,} cases",
                                     "use fewer values, or --method lhs with --samples"))
        return [tuple(f"{a.path}={v}" for a, v in zip(axes, combo)) for combo in combos]
    if method == "oat":
        cases: list[tuple[str, ...]] = [()]
        for a in axes:
            b = _number(a.base)
            for v in a.values:
                same = v == a.base or (b is not None and _number(v) == b)
                if not same:
                    cases.append((f"{a.path}={v}",))
        return cases
    if method == "lhs":
        from scipy.stats import qmc

        if not samples or samples < 1:
            raise InputError(Problem("--method lhs", "needs the number of cases", "add --samples N, e.g. --samples 50"))
        for a in axes:
            if not a.numeric or a.low == a.high:
                raise InputError(Problem(f"--param {a.path}", "a Latin hypercube needs a numeric range",
                                         "give at least two numbers, e.g. 0.4,0.6 or 0.4:0.6:0.1"))
        try:
            sampler = qmc.LatinHypercube(d=len(axes), rng=np.random.default_rng(seed))
        except TypeError:  # scipy before 1.15 names it seed
            sampler = qmc.LatinHypercube(d=len(axes), seed=np.random.default_rng(seed))
        unit = sampler.random(samples)
        return [tuple(f"{a.path}={fmt(a.low + u * (a.high - a.low))}" for a, u in zip(axes, point))
                for point in unit]
    raise InputError(Problem(f"--method {method}", "unknown method", "use grid, oat or lhs"))


# --- one case ------------------------------------------------------------------------------------

def case_row(run: Run) -> dict:
    """The sweep row of one solved case: status, objective, gap, the plan by site, outlay, unmet."""
    out = run.outcome
    row: dict = {"status": out.status, "objective": out.objective, "best_bound": out.best_bound,
                 "mip_gap": out.mip_gap}
    sites = list(run.data.sites["site"])
    res = run.results
    if res is None:
        row["sites_open"] = ""
        row["note"] = out.termination
    else:
        t = res.tables["sites"]
        row["sites_open"] = "+".join(s for s, _ in open_sites(res)) or "none"
        names = t["site"].tolist()  # each column read once: a few sites, one case of many
        row.update({f"open_{s}": int(o) for s, o in zip(names, t["open"].tolist())})
        row.update({f"capacity_{s}": float(c) for s, c in zip(names, t["capacity_wafers_per_year"].tolist())})
        row.update({f"local_share_{s}": float(v) for s, v in zip(names, t["local_share"].tolist())})
        subs = res.tables["subsidies"]
        row["government_outlay"] = float(subs["payout_per_year"].to_numpy(dtype=float).sum())
        row["government_outlay_total"] = float(subs["payout_total"].to_numpy(dtype=float).sum())
        row["unmet_demand"] = res.risk["expected_unmet"]
        row["checks_passed"] = not run.violations
        row["note"] = "; ".join(run.violations)
    row["solve_seconds"] = run.times.get("solve", 0.0)
    row["_sites"] = sites
    return row


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
            run = None
            if self.patcher is not None:
                run = self.patcher.run(self.raw, self.options, self.fixed, tuple(sets), self.cache, self.start)
            # a case whose model is a probe's, built for its very values, counts as rebuilt
            model = "patched" if run is not None and self.patcher.interpolated(tuple(sets)) else "rebuilt"
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


def _init_worker(raw: RawInstance, options: SolverOptions, fixed: tuple[str, ...], start, patcher) -> None:
    global _WORKER
    _WORKER = CaseSolver(raw, options, fixed, start, patcher)


def _solve_in_worker(case: tuple[str, tuple[str, ...]]) -> dict:
    assert _WORKER is not None
    return _WORKER(*case)


def _solve_on_cluster(solver: CaseSolver, case_id: str, sets: tuple[str, ...]) -> dict:
    return solver(case_id, sets)


# --- the sweep -----------------------------------------------------------------------------------

@dataclass
class Sweep:
    """A planned sweep and where it is written."""

    raw: RawInstance
    axes: list[Axis]
    method: str
    cases: list[tuple[str, ...]]
    options: SolverOptions
    out: Path
    fixed: tuple[str, ...] = ()
    seed: int = 0
    samples: int | None = None
    warm_start: bool = True
    patch: bool = True
    records: dict[str, dict] = field(default_factory=dict)
    start: np.ndarray | None = None
    patcher: Patcher | None = None
    base_plan: object = None  # the base case's solve under way in a worker (see start_base_plan)

    @property
    def ids(self) -> list[str]:
        width = max(4, len(str(len(self.cases))))
        return [f"c{k:0{width}d}" for k in range(1, len(self.cases) + 1)]

    def plan(self) -> dict:
        """The content of ``sweep.json``: everything that decides the cases and their answers."""
        return {
            "instance": {"name": self.raw.name, "path": str(self.raw.path), "sha256": self.raw.sha256},
            "method": self.method, "seed": self.seed if self.method == "lhs" else None,
            "samples": self.samples if self.method == "lhs" else None,
            "fixed": list(self.fixed),
            "params": [{"path": a.path, "spec": a.spec, "base": a.base, "values": list(a.values)} for a in self.axes],
            "solver_options": self.options.highs_options(), "warm_start": self.warm_start,
            "cases": [{"id": i, "sets": list(c)} for i, c in zip(self.ids, self.cases)],
        }


def prepare(sweep: Sweep) -> list[tuple[str, tuple[str, ...]]]:
    """Write or check ``sweep.json``, read the cases already solved, and return those still to solve.

    Raises
    ------
    InputError
        If ``out`` holds a different sweep (other instance, parameters, values or options).
    """
    out = sweep.out
    plan = sweep.plan()
    plan_file = out / "sweep.json"
    if plan_file.is_file():
        try:
            old = json.loads(plan_file.read_text(encoding="utf-8"))
        except ValueError:
            old = None
        if old != json.loads(json.dumps(plan)):
            raise InputError(Problem(f"--out {out}", "holds a different sweep (instance, parameters, values or "
                                                     "solver options differ)",
                                     "choose another --out, or delete the folder to start over"))
    todo = []
    for case_id, sets in zip(sweep.ids, sweep.cases):
        record = _read_record(out / "cases" / f"{case_id}.json")
        if record is not None and record.get("sets") == list(sets):
            sweep.records[case_id] = record
        else:
            todo.append((case_id, sets))
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / "cases").mkdir(exist_ok=True)
        remove_stale(out / "cases")
        if todo:
            # the folder is about to change: without a manifest it is visibly incomplete until the end
            (out / "manifest.json").unlink(missing_ok=True)
        if not plan_file.is_file():
            atomic_write(plan_file, json.dumps(plan, indent=2) + "\n")
    except OSError as exc:
        raise InputError(Problem(f"--out {out}", f"cannot write there ({exc.strerror or exc})",
                                 "free some disk space or choose a folder you can write to")) from None
    return todo


def _read_record(path: Path) -> dict | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and isinstance(record.get("row"), dict) else None


def _save(sweep: Sweep, record: dict) -> None:
    record["row"].pop("_sites", None)
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


def solve_cases(sweep: Sweep, todo: list, workers: int = 1, scheduler=None, progress=None,
                pool: Workers | None = None) -> None:
    """Solve ``todo`` and write each case as it finishes; ``progress(record)`` is called after each.

    ``workers`` local processes (1: in this process; ``pool``: processes already started by
    :func:`local_workers`), or the workers of the Dask scheduler that ``scheduler`` (a client of
    :func:`connect_scheduler`) is connected to. On Ctrl-C the
    workers are stopped and every case finished so far is kept.
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


def connect_scheduler(address: str):
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


def _solve_with_dask(sweep: Sweep, todo: list, client, progress) -> None:
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


def table(sweep: Sweep) -> pd.DataFrame:
    """One row per case, in plan order: parameter values, then the case's answers."""
    sites = list(sweep_sites(sweep))
    rows = []
    for case_id, sets in zip(sweep.ids, sweep.cases):
        record = sweep.records[case_id]
        given = dict(s.split("=", 1) for s in sets)
        row: dict = {"case": case_id}
        for a in sweep.axes:
            text = given.get(a.path, a.base)
            row[a.path] = _number(text) if a.numeric and _number(text) is not None else text
        r = record["row"]
        row.update({k: r.get(k) for k in ("status", "objective", "best_bound", "mip_gap", "sites_open")})
        for prefix in ("open", "capacity", "local_share"):
            for s in sites:
                row[f"{prefix}_{s}"] = r.get(f"{prefix}_{s}")
        for k in ("government_outlay", "government_outlay_total", "unmet_demand", "checks_passed", "model",
                  "solve_seconds", "case_seconds", "note"):
            row[k] = r.get(k)
        rows.append(row)
    df = pd.DataFrame(rows)
    for s in sites:
        df[f"open_{s}"] = df[f"open_{s}"].astype("Int64")
    return df


def sweep_sites(sweep: Sweep) -> list[str]:
    """Site ids of the instance, in its order."""
    df = sweep.raw.tables["sites"]
    return [str(s) for s in df["id"]] if "id" in df.columns else []


# --- switching points ----------------------------------------------------------------------------

@dataclass
class Switch:
    """Where the set of open sites changes along one parameter."""

    path: str
    below: float
    above: float
    before: str
    after: str
    refined: bool = False

    @property
    def point(self) -> float:
        return (self.below + self.above) / 2

    def words(self) -> str:
        """E.g. "chitose opens when instruments.meti-chitose.rate passes 0.42"."""
        was, now = set(self.before.split("+")) - {"none", ""}, set(self.after.split("+")) - {"none", ""}
        parts = [f"{s} opens" for s in sorted(now - was, key=self.after.find)]
        parts += [f"{s} closes" for s in sorted(was - now, key=self.before.find)]
        change = " and ".join(parts) or f"the plan changes from {self.before} to {self.after}"
        if self.refined:
            half = (self.above - self.below) / 2
            digits = max(0, math.ceil(-math.log10(half))) if half > 0 else 12
            where = f"passes {fmt(round(self.point, digits))} (within {fmt(half)})"
        else:
            where = f"passes a value between {fmt(self.below)} and {fmt(self.above)}"
        return f"{change} when {self.path} {where}"


def switching_points(df: pd.DataFrame, sweep: Sweep) -> list[Switch]:
    """Consecutive cases along each parameter whose open sites differ (others at their base or only one axis)."""
    switches = []
    for a in sweep.axes:
        if not a.numeric:
            continue
        if sweep.method == "oat":
            others = [b.path for b in sweep.axes if b is not a]
            mask = pd.Series(True, index=df.index)
            for p in others:
                base = next(b for b in sweep.axes if b.path == p).base
                mask &= df[p].astype(str).map(lambda v, base=base: v == base or _number(v) == _number(base))
            line = df[mask]
        elif sweep.method == "grid" and len(sweep.axes) == 1:
            line = df
        else:
            continue
        line = line[line["status"].isin(SOLVED)].copy()
        line["_x"] = line[a.path].astype(float)
        line = line.sort_values("_x")
        xs, pats = list(line["_x"]), list(line["sites_open"])
        for k in range(1, len(xs)):
            if pats[k] != pats[k - 1]:
                switches.append(Switch(a.path, xs[k - 1], xs[k], pats[k - 1], pats[k]))
    return switches


@dataclass
class PlanSeen:
    """A set of open sites that some cases of a sweep chose, with where they lie in the swept ranges.

    ``reference`` is the plan most cases chose; ``ranges`` maps each swept path to the least and
    greatest value (numbers) or the values (text) of the cases that chose ``plan``, ``spans`` the
    same over every solved case."""

    plan: str
    reference: str
    cases: list[str]
    total: int
    ranges: dict
    spans: dict

    def words(self) -> str:
        """E.g. "chitose opens (kumamoto+chitose) in 4 of 30 cases (c0003, ...), where ... is 0.41 to 0.58"."""
        n = len(self.cases)
        count = f"in {n} of {self.total} case{'s' if self.total > 1 else ''}"
        if self.plan == self.reference:
            return f"{self.plan or 'none'} {count}: the plan most cases chose"
        was, now = set(self.reference.split("+")) - {"none", ""}, set(self.plan.split("+")) - {"none", ""}
        parts = [f"{x} opens" for x in sorted(now - was, key=self.plan.find)]
        parts += [f"{x} closes" for x in sorted(was - now, key=self.reference.find)]
        change = " and ".join(parts) or "the modules change"
        shown = ", ".join(self.cases[:8]) + (", ..." if n > 8 else "")
        where = "; ".join(f"{p} is {self._range(v)} (swept: {self._range(self.spans[p])})"
                          for p, v in self.ranges.items())
        return f"{change} ({self.plan or 'none'}) {count} ({shown}), where {where}"

    @staticmethod
    def _range(v) -> str:
        if isinstance(v, tuple):  # four significant digits: a Latin hypercube's values have many more
            return f"{v[0]:,.4g}" if v[0] == v[1] else f"{v[0]:,.4g} to {v[1]:,.4g}"
        return " or ".join(v)


def plans_seen(df: pd.DataFrame, sweep: Sweep) -> list[PlanSeen]:
    """Every plan (set of open sites) the solved cases chose, the most common first, each with the
    cases that chose it and the range of every swept parameter over them: what a Latin hypercube
    or a grid of several parameters reports, where switching points along one line do not apply."""
    solved = df[df["status"].isin(SOLVED)]
    if solved.empty:
        return []
    counts = solved.groupby("sites_open", sort=False).size()
    reference = str(counts.idxmax())

    def span(rows: pd.DataFrame) -> dict:
        out = {}
        for a in sweep.axes:
            if a.numeric:
                v = rows[a.path].astype(float)
                out[a.path] = (float(v.min()), float(v.max()))
            else:
                out[a.path] = list(dict.fromkeys(rows[a.path].astype(str)))
        return out

    spans = span(solved)
    order = [reference, *(str(p) for p in counts.index if str(p) != reference)]
    return [PlanSeen(p, reference, solved.loc[solved["sites_open"] == p, "case"].astype(str).tolist(), len(solved),
                     span(solved[solved["sites_open"] == p]), spans) for p in order]


def refine(sweep: Sweep, switch: Switch, tolerance: float) -> Switch:
    """Bisect a switching point down to ``tolerance`` (each step one solve of the instance)."""
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


def base_values(sweep: Sweep) -> dict[str, str]:
    """Each swept path's value in the base case (the instance's, or a fixed ``--set``)."""
    fixed = dict(parse_assignment(s) for s in sweep.fixed)
    return {a.path: fixed.get(a.path, a.base) for a in sweep.axes}


def check_values(sweep: Sweep) -> None:
    """Check every value of every parameter against the instance's rules before solving.

    Each distinct value is checked once with the others at their base (for ``lhs``, the two
    ends of each range), so a value that cannot be right stops the sweep at once, with exit 2.
    """
    problems: list[Problem] = []
    cache = TypingCache()
    for a in sweep.axes:
        values = [fmt(a.low), fmt(a.high)] if sweep.method == "lhs" else list(a.values)
        for v in values:
            try:
                load_case(sweep.raw, sweep.fixed + (f"{a.path}={v}",), cache)
            except InputError as exc:
                for p in exc.problems:
                    said = p.problem if p.location.startswith("--set") else f"{p.location}: {p.problem}"
                    problems.append(Problem(f"--param {a.path} value {v}", said, p.fix))
    if problems:
        raise InputError(problems)


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


# --- outputs -------------------------------------------------------------------------------------

def tornado_table(df: pd.DataFrame, sweep: Sweep) -> pd.DataFrame:
    """For an ``oat`` sweep: the objective at each parameter's lowest and highest value."""
    rows = []
    for a in sweep.axes:
        if not a.numeric:
            continue
        # the base case counts: the instance's own value may be the lowest or highest
        mine = df[df["case"].isin([sweep.ids[0]] + [i for i, c in zip(sweep.ids, sweep.cases)
                                                    if c and c[0].startswith(a.path + "=")])]
        mine = mine[mine["status"].isin(SOLVED) & mine[a.path].map(lambda v: _number(str(v)) is not None)]
        if mine.empty:
            continue
        lo, hi = mine.loc[mine[a.path].astype(float).idxmin()], mine.loc[mine[a.path].astype(float).idxmax()]
        rows.append({"parameter": a.path, "base_value": _number(a.base), "low_value": float(lo[a.path]),
                     "high_value": float(hi[a.path]), "at_low": lo["objective"], "at_high": hi["objective"]})
    out = pd.DataFrame(rows, columns=["parameter", "base_value", "low_value", "high_value", "at_low", "at_high"])
    out["swing"] = (out["at_high"] - out["at_low"]).abs()
    return out.sort_values("swing", ascending=False).reset_index(drop=True)


@dataclass
class Finished:
    """What :func:`finish` wrote and found."""

    table: pd.DataFrame
    switches: list[Switch]
    tornado: pd.DataFrame | None
    files: list[str]
    plans: list[PlanSeen] = field(default_factory=list)


def finish(sweep: Sweep, base, command: list[str], refine_tolerance: float | None = None) -> Finished:
    """Write the tables, plots and, last, ``manifest.json`` from the case files (``base``: the checked
    instance with the fixed overrides)."""
    money = base.settings.money_label
    from siting.report import charts
    from siting.report.write import files_of_earlier_run, manifest_base, write_folder

    out = sweep.out
    df = table(sweep)
    texts: dict[str, str | bytes] = {}
    pictures: dict[str, bytes] = {}

    def put(name: str, content: str | bytes) -> None:
        texts[name] = content
        if name.endswith(".png"):
            pictures[name] = content

    put("sweep.csv", df.to_csv(index=False, float_format="%.10g"))
    buf = _parquet(df)
    put("sweep.parquet", buf)
    switches = switching_points(df, sweep)
    if refine_tolerance:
        switches = [refine(sweep, s, refine_tolerance) for s in switches]
    if switches:
        put("switching.csv", pd.DataFrame([{
            "parameter": s.path, "below": s.below, "above": s.above, "point": s.point,
            "refined": s.refined, "before": s.before, "after": s.after, "words": s.words()} for s in switches
        ]).to_csv(index=False, float_format="%.10g"))
    plans = plans_seen(df, sweep)
    if len(plans) > 1:
        put("plans.csv", pd.DataFrame([{
            "plan": p.plan, "cases": len(p.cases), "of": p.total, "case_ids": ";".join(p.cases),
            **{f"{k} {'min' if j == 0 else 'max'}": v[j] for k, v in p.ranges.items() if isinstance(v, tuple)
               for j in (0, 1)}, "words": p.words()} for p in plans]).to_csv(index=False, float_format="%.10g"))
    sites = sweep_sites(sweep)
    tor = None
    numeric = [a for a in sweep.axes if a.numeric]
    if sweep.method == "oat":
        tor = tornado_table(df, sweep)
        base_row = df[df["case"] == sweep.ids[0]]
        if len(tor) and base_row["status"].iloc[0] in SOLVED:
            put("tornado.csv", tor.to_csv(index=False, float_format="%.10g"))
            put("tornado.png", charts.tornado(tor, float(base_row["objective"].iloc[0]), money))
        for a in numeric:
            line = df[df["case"].isin([sweep.ids[0]] + [i for i, c in zip(sweep.ids, sweep.cases)
                                                         if c and c[0].startswith(a.path + "=")])]
            if line["status"].isin(SOLVED).sum() > 1:
                put(f"sweep-{_safe(a.path)}.png",
                    charts.sweep_line(line, a.path, sites, [s for s in switches if s.path == a.path], money))
    elif sweep.method == "grid" and len(sweep.axes) == 1 and numeric:
        if df["status"].isin(SOLVED).sum() > 1:
            put("sweep.png", charts.sweep_line(df, sweep.axes[0].path, sites, switches, money))
    elif sweep.method == "grid" and len(sweep.axes) == 2 and len(numeric) == 2:
        put("sweep-heatmap.png", charts.sweep_heatmap(df, sweep.axes[0].path, sweep.axes[1].path))
    files = list(texts)
    manifest = manifest_base(base, sweep.options, command)
    manifest["files"] = ["sweep.json", "cases/", *files, "report.html"]
    manifest["cases"] = {"total": len(sweep.cases), "by_status": df["status"].value_counts().to_dict()}
    put("report.html", sweep_page(base.name, sweep, df, switches, tor, pictures, json_safe(manifest), plans))
    files.append("report.html")
    texts["manifest.json"] = json.dumps(json_safe(manifest), indent=2) + "\n"
    # every file made first, then the folder replaced as one step with its cases and plan carried
    # over: a full disk or a kill here leaves the folder as it was
    earlier = files_of_earlier_run(out)
    write_folder(out, texts, replaces=lambda name: name in earlier or _SWEEP_OUTPUT.match(name) is not None)
    return Finished(table=df, switches=switches, tornado=tor, files=files, plans=plans)


#: What a sweep writes at its end (its manifest is removed while cases are solved, so the names of
#: an earlier end are known by their form rather than from a manifest).
_SWEEP_OUTPUT = re.compile(r"^(sweep\.csv|sweep\.parquet|switching\.csv|plans\.csv|tornado\.(csv|png)|sweep(-.+)?\.png|"
                           r"report\.html|manifest\.json)$")


def sweep_page(name: str, sweep: Sweep, df: pd.DataFrame, switches: list, tor, pictures: dict[str, bytes],
               manifest: dict, plans: list[PlanSeen] | None = None) -> str:
    """The sweep's ``report.html``: cases by status, switching points and every plan the cases chose,
    the plots and the case table."""
    from html import escape

    from siting.report.html import analysis_page, table_html

    counts = ", ".join(f"{n} {s}" for s, n in df["status"].value_counts().items())
    plans = plans or []
    # switching points exist along one line (oat, a grid of one parameter); elsewhere the plans say it
    along = sweep.method == "oat" or (sweep.method == "grid" and len(sweep.axes) == 1)
    none = "every case opens the same sites" if len(plans) <= 1 else (
        "none between neighbouring cases along a parameter" if along else
        "not measured along one parameter here (see the plans the cases chose)")
    words = "".join(f"<li>{escape(s.words())}</li>" for s in switches) or f"<li>no switching point: {none}</li>"
    params = [a.path for a in sweep.axes]
    sections = [("Cases", f"<p>{len(df)} cases ({escape(sweep.method)}): {escape(counts)}.</p>"),
                ("Switching points", f"<ul>{words}</ul>")]
    if len(plans) > 1:
        sections.append(("Plans the cases chose",
                         "<ul>" + "".join(f"<li>{escape(p.words())}</li>" for p in plans) + "</ul>"))
    headings = {"sweep.png": "Firm cost and open sites", "sweep-heatmap.png": "Chosen sites over the grid",
                "tornado.png": "Swing of the firm cost per parameter"}
    sections += [(headings.get(n, n.removesuffix(".png").replace("sweep-", "along ")), f"{{{n}}}") for n in pictures]
    if tor is not None and len(tor):
        sections.append(("Tornado", table_html(tor)))
    cols = ["case", *params, "status", "objective", "best_bound", "mip_gap", "sites_open", "government_outlay",
            "unmet_demand", "note"]
    sections.append(("Every case", table_html(df, cols)))
    return analysis_page(f"{name}: sweep of {', '.join(params)}", sections, pictures, manifest)


def _parquet(df: pd.DataFrame) -> bytes:
    import io

    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


def _safe(path: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in path)
