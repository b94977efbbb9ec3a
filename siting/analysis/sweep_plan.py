"""A sweep's plan: its cases, its folder's ``sweep.json``, and which cases are still to solve.

A sweep is planned once (the parameters, their values and the cases) and written to
``sweep.json``; running the same command again reads the cases already solved from
``cases/<id>.json`` and solves only the others, so an interrupted sweep loses nothing but the
cases that were being solved. A folder that holds another sweep is refused.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from siting.analysis.patch import Patcher
from siting.analysis.sweep_specs import MAX_CASES, Axis, as_number, fmt
from siting.errors import InputError, Problem
from siting.instance.cache import TypingCache
from siting.instance.checked import Instance
from siting.instance.overrides import parse_assignment
from siting.instance.read import RawInstance
from siting.report.folder import atomic_write, remove_stale
from siting.run import load_case
from siting.solve import SolverOptions


def plan_cases(axes: list[Axis], method: str, samples: int | None = None, seed: int = 0) -> list[tuple[str, ...]]:
    """The cases of a sweep, each a tuple of ``PATH=VALUE`` assignments.

    Parameters
    ----------
    axes
        The swept parameters.
    method
        ``grid``: every combination; ``oat``: the base case (no assignment) and then each
        parameter alone at each of its values; ``lhs``: ``samples`` points of a Latin hypercube
        over each parameter's range (smallest to largest value given), seeded by ``seed``.
    samples, seed
        For ``lhs``.

    Returns
    -------
    list[tuple[str, ...]]
        The cases in plan order.

    Raises
    ------
    InputError
        For too many cases, an ``lhs`` without samples or over a parameter without a numeric
        range, or an unknown method.
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
            b = as_number(a.base)
            for v in a.values:
                same = v == a.base or (b is not None and as_number(v) == b)
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
    base_plan: Any = None  # the base case's solve under way in a worker (see start_base_plan)
    base: Instance | None = None  # the checked instance with the fixed overrides: see instance()

    @property
    def ids(self) -> list[str]:
        """The cases' ids in plan order: ``c0001``, ``c0002``, ... (wider for 10,000 cases or more)."""
        width = max(4, len(str(len(self.cases))))
        return [f"c{k:0{width}d}" for k in range(1, len(self.cases) + 1)]

    def instance(self) -> Instance:
        """The instance with the fixed overrides, checked (on first use, unless :func:`plan_sweep` did)."""
        if self.base is None:
            self.base = load_case(self.raw, list(self.fixed))
        return self.base

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
