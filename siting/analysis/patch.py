"""Sweep cases without rebuilding the model: the compiled arrays of built cases, patched per case.

Most parameters enter the compiled model (costs, bounds, right-hand sides, matrix values) and the
derived tables affinely: a price, a grant rate, a capacity. For such a parameter a sweep builds a
few cases through the normal pipeline (check, derive, screens, build, compile: a *probe*), checks
that every probe has the same structure (columns, rows, integrality, the derived tables' keys) and
that every number responds affinely between them, and then makes each case's arrays by
interpolation instead of building it: about a millisecond in place of derive, build and compile.
The cost registry is learned the same way, as coefficient rows by column: each category's expected
value and each scenario's cost by category, so a patched case reports the same breakdown, scenario
table and risk figures as a built one.

The probes are chosen by bisection over the sorted values the sweep uses: the whole range is one
segment if its two ends and its middle are collinear in every number; otherwise it is split in two
and each half is tried again. A response with a kink (a grant cap that starts to bind, a bound that
is a minimum of two terms) is thereby learned piecewise, with only the cases beside the kink
built exactly. If more than one segment fails at one level, the response is taken as not affine
(the discount rate, through the capital recovery factor, is such a case) and every case of that
parameter is rebuilt. Several parameters at once are combined by adding their effects, once a
probe at the low and at the high corner shows that they do not interact.

A patched case is still checked against the instance's rules (``check``, on its own values) and
its solution against the raw data (:func:`siting.report.verify.verify`); a case that does not
solve, or whose solution breaks a rule, is solved again by rebuilding, so that what a sweep
reports never rests on an interpolation alone.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pyomo.common.errors import InfeasibleConstraintException
from pyomo.repn import generate_standard_repn

from siting.analysis.parallel import Workers
from siting.errors import InputError
from siting.instance.cache import TypingCache
from siting.instance.derive import Derived, derive
from siting.instance.read import RawInstance
from siting.instance.screens import screen
from siting.model import sparse as sp
from siting.model.build import build_model
from siting.model.families import by_row
from siting.model.objective import CATEGORIES, SCENARIO_CATEGORIES
from siting.report.extract import clean_solution, tabulate
from siting.report.verify import verify
from siting.run import Run, load_case
from siting.solve import Compiled, SolverOptions, compile_model, solve_compiled

log = logging.getLogger(__name__)

#: Relative tolerance of the test that three probes are collinear in a number.
AFFINE_RTOL = 1e-9

#: Column families with one index, the derived table whose rows they follow, and the value of a
#: row without a column (:func:`siting.model.families.by_row`). ``payout`` has columns for
#: first-stage instruments only, ``take`` for conditional ones (an unconditional row is taken);
#: production subsidies are ``wafer_payout[k, w]``, read apart.
FAMILIES = {v.name: (v.table, v.default) for v in by_row()}


@dataclass
class Probe:
    """One case built through the pipeline and compiled, not solved."""

    signature: tuple
    integer: np.ndarray
    bounds: np.ndarray          # cost, lower, upper, row_lower, row_upper, one after the other
    matrix: sp.csc_matrix
    offset: float
    categories: np.ndarray      # one row per cost category: coefficients by column, then the constant
    scenario_costs: np.ndarray  # the same per scenario and category of a scenario's cost
    derived: Derived | None     # the derived tables (None in a probe other than the base's, from a worker)
    numeric: dict               # (table, column) or (field, None) -> float array

    def vector(self, pattern: sp.csc_matrix) -> np.ndarray:
        """Every number of the probe as one vector, the matrix read on ``pattern``'s entries."""
        rows, cols = pattern.nonzero()
        order = np.lexsort((rows, cols))  # column-major, the order of a CSC matrix's data
        values = np.asarray(self.matrix[rows[order], cols[order]]).ravel()
        parts = [self.bounds, values, [self.offset], self.categories.ravel(), self.scenario_costs.ravel()]
        parts += [self.numeric[k] for k in sorted(self.numeric, key=str)]
        return np.concatenate([np.asarray(p, dtype=float) for p in parts])


def _numbers_of(d: Derived) -> tuple[dict, list]:
    """Numeric columns of the derived tables (the numbers a parameter may move), and the rest
    (the structure, which must not move)."""
    numeric: dict = {}
    structure: list = []
    for f in dataclasses.fields(d):
        if f.name == "instance":
            continue
        value = getattr(d, f.name)
        if isinstance(value, pd.DataFrame):
            structure.append((f.name, tuple(value.columns), tuple(map(str, value.dtypes)), len(value)))
            for col in value.columns:
                series = value[col]
                if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
                    numeric[(f.name, col)] = series.to_numpy(dtype=float)
                else:
                    structure.append((f.name, col, tuple(pd.util.hash_pandas_object(series, index=False))))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            numeric[(f.name, None)] = np.array([value], dtype=float)
        else:
            structure.append((f.name, repr(value)))
    return numeric, structure


def build_probe(raw: RawInstance, sets: tuple[str, ...], cache: TypingCache) -> Probe | None:
    """Check, derive, screen, build and compile one case; None if any step refuses it."""
    try:
        inst = load_case(raw, sets, cache)
    except InputError:
        return None
    d = derive(inst)
    if any(f.kind == "infeasible" for f in screen(d)):
        return None
    sm = build_model(d)
    try:
        c = compile_model(sm)
    except InfeasibleConstraintException:
        return None
    n = len(c.columns)
    columns = tuple((v.parent_component().local_name, v.index()) for v in c.columns)
    rows = tuple((r[0].parent_component().local_name, r[0].index(), r[1]) for r in c.rows)
    at = {id(v): k for k, v in enumerate(c.columns)}

    def coefficients(expr, row: np.ndarray) -> None:
        repn = generate_standard_repn(expr, compute_values=True, quadratic=False)
        for v, a in zip(repn.linear_vars, repn.linear_coefs):
            if id(v) in at:
                row[at[id(v)]] += float(a)
        row[n] += float(repn.constant)

    # the registry that the objective and the cost breakdown read, as coefficients by column
    reg = sm.costs
    categories = np.zeros((len(CATEGORIES), n + 1))
    for i, cat in enumerate(CATEGORIES):
        coefficients(reg.expected(cat), categories[i])
    # each scenario's cost by category, the expressions CostRegistry.scenario_values evaluates
    ids = list(reg.probability)
    scenario_costs = np.zeros((len(ids), len(SCENARIO_CATEGORIES), n + 1))
    for i, w in enumerate(ids):
        for j, cat in enumerate(SCENARIO_CATEGORIES):
            coefficients(reg.scenario_cost(w, cat), scenario_costs[i, j])
    lp = c.lp
    matrix = sp.csc_matrix((lp["value"], lp["index"], lp["start"]), shape=(lp["num_row"], n))
    numeric, structure = _numbers_of(d)
    signature = (columns, rows, tuple(c.integer), tuple(structure), tuple(sorted(numeric, key=str)))
    bounds = np.concatenate([lp[k] for k in ("cost", "lower", "upper", "row_lower", "row_upper")])
    return Probe(signature=signature, integer=c.integer, bounds=bounds, matrix=matrix, offset=c.offset,
                 categories=categories, scenario_costs=scenario_costs, derived=d, numeric=numeric)


#: This worker's instance and typing cache for building probes (see :func:`probe_builder`).
_PROBING: tuple | None = None


def _init_probing(raw: RawInstance, fixed: tuple[str, ...]) -> None:
    global _PROBING
    _PROBING = (raw, tuple(fixed), TypingCache())


def _probe_in_worker(sets: tuple[str, ...]) -> Probe | None:
    assert _PROBING is not None
    raw, fixed, cache = _PROBING
    p = build_probe(raw, sets, cache)
    if p is not None and tuple(sets) != fixed:
        p.derived = None  # only the base case's derived tables are read: the others need not travel
    return p


def probe_builder(raw: RawInstance, fixed: tuple[str, ...],
                  pool: Workers | None = None) -> Callable[[list[tuple]], list[Probe | None]]:
    """A function that builds a batch of probes of ``raw`` (one per tuple of ``--set``
    assignments, ``fixed`` those of the base case): in the worker processes of ``pool`` where it
    has any, else here."""
    if pool is not None and pool.parallel:
        shared = pool.share(_init_probing, (raw, tuple(fixed)))
        return lambda batch: list(pool.results(_probe_in_worker, batch, shared))
    cache = TypingCache()
    return lambda batch: [build_probe(raw, sets, cache) for sets in batch]


def _close(predicted: np.ndarray, actual: np.ndarray) -> bool:
    """Equal within :data:`AFFINE_RTOL` where finite, and exactly equal (infinities, NaN) elsewhere."""
    finite = np.isfinite(predicted) & np.isfinite(actual)
    if not np.array_equal(predicted[~finite], actual[~finite], equal_nan=True):
        return False
    p, a = predicted[finite], actual[finite]
    return bool(np.all(np.abs(p - a) <= AFFINE_RTOL * np.maximum(np.abs(p), np.abs(a))))


def _line(x0: float, y0: np.ndarray, x1: float, y1: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """The affine map through two probes: (x0, y0, slope), slope 0 where a number is not finite."""
    with np.errstate(invalid="ignore"):
        slope = (y1 - y0) / (x1 - x0)
    slope[~(np.isfinite(y0) & np.isfinite(y1))] = 0.0
    return x0, y0, slope


def _at(line: tuple[float, np.ndarray, np.ndarray], x: float) -> np.ndarray:
    x0, y0, slope = line
    return y0 + (x - x0) * slope


@dataclass
class Response:
    """What the probes showed of one swept path's effect on the model."""

    path: str
    xs: list[float] = field(default_factory=list)             # sorted values probed or covered
    texts: dict[float, str] = field(default_factory=dict)      # value -> its ``--set`` text
    exact: dict[float, int] = field(default_factory=dict)      # value -> probe number
    segments: list[tuple[float, float, int, int]] = field(default_factory=list)  # lo, hi, probe lo, probe hi
    lines: list = field(default_factory=list)                  # per segment: (x0, y0, slope)
    reason: str = ""                                           # why the path is rebuilt ("" if patched)


class Patcher:
    """Makes the compiled model and derived tables of sweep cases from probes of the pipeline."""

    def __init__(self) -> None:
        self.probes: list[Probe] = []
        self.vectors: list[np.ndarray] = []
        self.axes: dict[str, Response] = {}
        self.base: float | None = None
        self.base_texts: dict[str, str] = {}
        self.joint = False
        self.seconds = 0.0
        self.pattern: sp.csc_matrix | None = None

    # --- learning --------------------------------------------------------------------------------

    @classmethod
    def learn(cls, raw: RawInstance, fixed: tuple[str, ...], bases: dict[str, str],
              cases: list[tuple[str, ...]], pool: Workers | None = None) -> Patcher:
        """Probe the pipeline for every swept path of ``cases`` (``bases``: path -> its base value).

        The probes of each step of the bisection are built together, in the workers of ``pool``
        where it has any.
        """
        t0 = time.perf_counter()
        self = cls()
        build = probe_builder(raw, fixed, pool)
        self.base_texts = dict(bases)
        used: dict[str, dict[float, str]] = {p: {} for p in bases}
        numeric = {p: True for p in bases}
        multi = False
        for sets in cases:
            moved = 0
            for text in sets:
                path, value = text.split("=", 1)
                if self._at_base(path, value):
                    continue
                moved += 1
                try:
                    used[path][float(value)] = value
                except ValueError:
                    numeric[path] = False
            multi |= moved > 1
        # the base case and the first step of every path's bisection, built together
        first = {p: _step(0, len(used[p]) - 1) for p in bases if numeric[p] and used[p]}
        xs = {p: sorted(used[p]) for p in first}
        built = build([tuple(fixed)] + [tuple(fixed) + (f"{p}={used[p][xs[p][k]]}",) for p, ks in first.items()
                                         for k in ks])
        base, rest = built[0], iter(built[1:])
        if base is None:
            for path in bases:
                self.axes[path] = Response(path, reason="the base case cannot be built")
            return self
        self.probes.append(base)
        ready = {p: {k: next(rest) for k in ks} for p, ks in first.items()}
        for path in bases:
            if not numeric[path]:
                self.axes[path] = Response(path, reason="its values are not numbers")
            elif not used[path]:
                self.axes[path] = Response(path)
            else:
                self.axes[path] = self._learn_axis(build, fixed, path, used[path], ready[path])
        self._finish()
        if multi:
            self.joint = self._check_joint(build, fixed)
        self.probes = []  # the vectors are all a worker needs
        self.seconds = time.perf_counter() - t0
        return self

    def _at_base(self, path: str, value: str) -> bool:
        base = self.base_texts.get(path, "")
        if value == base:
            return True
        try:
            return float(value) == float(base)
        except ValueError:
            return False

    def _keep(self, p: Probe | None) -> int | None:
        """Keep a probe that has the base's structure; its number, or None."""
        if p is None or p.signature != self.probes[0].signature:
            return None
        self.probes.append(p)
        return len(self.probes) - 1

    def _learn_axis(self, build, fixed, path: str, values: dict[float, str], ready: dict) -> Response:
        """Bisect ``path``'s sorted values (``ready``: probes already built, by position)."""
        axis = Response(path, xs=sorted(values), texts=values)
        xs = axis.xs
        at: dict[int, int | None] = {k: self._keep(p) for k, p in ready.items()}

        work = [(0, len(xs) - 1)]
        while work:
            # the ends and middles this step needs, built together
            need = sorted({k for i, j in work for k in _step(i, j)} - set(at))
            for k, p in zip(need, build([tuple(fixed) + (f"{path}={values[xs[k]]}",) for k in need])):
                at[k] = self._keep(p)
            failed, nxt = 0, []
            for i, j in work:
                if j - i <= 1:
                    continue
                mid = (i + j) // 2
                ends = at[i], at[mid], at[j]
                if None not in ends and self._collinear(xs[i], xs[mid], xs[j], *ends):
                    axis.segments.append((xs[i], xs[j], ends[0], ends[2]))
                else:
                    failed += 1
                    nxt += [(i, mid), (mid, j)]
            if failed > 1:
                return Response(path, reason="its effect on the model is not affine")
            work = nxt
        axis.exact = {xs[k]: n for k, n in at.items() if n is not None}
        return axis

    def _collinear(self, x0, x1, x2, a: int, b: int, c: int) -> bool:
        pa, pb, pc = self.probes[a], self.probes[b], self.probes[c]
        pattern = _pattern([pa, pb, pc])
        ya, yb, yc = pa.vector(pattern), pb.vector(pattern), pc.vector(pattern)
        return _close(_at(_line(x0, ya, x2, yc), x1), yb)

    def _finish(self) -> None:
        """Read every probe on one matrix pattern (the union of theirs) and fit the segments."""
        self.pattern = _pattern(self.probes)
        self.vectors = [p.vector(self.pattern) for p in self.probes]
        for axis in self.axes.values():
            axis.lines = [_line(lo, self.vectors[a], hi, self.vectors[b]) for lo, hi, a, b in axis.segments]
        base = self.probes[0]
        self.integer = base.integer
        self.columns, self.rows = base.signature[0], base.signature[1]
        self.derived = base.derived
        self.keys = sorted(base.numeric, key=str)
        self.sizes = [len(base.numeric[k]) for k in self.keys]
        varying = np.zeros(len(self.vectors[0]), dtype=bool)
        for v in self.vectors[1:]:
            varying |= ~((v == self.vectors[0]) | (np.isnan(v) & np.isnan(self.vectors[0])))
        self.varying = varying
        self.positions = {}
        n = len(self.columns)
        for fam, (table, _) in FAMILIES.items():
            pos = np.full(len(getattr(base.derived, table)), -1, dtype=np.int64)
            for k, (name, index) in enumerate(self.columns):
                if name == fam:
                    pos[index] = k
            self.positions[fam] = pos
        # phased: build_early[j, t], the site open by period t before the last (build[j] is the last's)
        early = base.derived.periods[:-1]
        self.early = np.full((len(base.derived.sites), len(early)), -1, dtype=np.int64)
        at = {t: k for k, t in enumerate(early)}
        for k, (name, index) in enumerate(self.columns):
            if name == "build_early":
                self.early[index[0], at[index[1]]] = k
        # production subsidies: column, instrument row and scenario of each wafer_payout[k, w]
        wafer = [(k, index[0], index[1]) for k, (name, index) in enumerate(self.columns) if name == "wafer_payout"]
        self.wafer_columns = np.array([c for c, _, _ in wafer], dtype=np.int64)
        self.wafer_rows = np.array([r for _, r, _ in wafer], dtype=np.int64)
        self.wafer_scenarios = [w for _, _, w in wafer]
        self.scenario_ids = list(base.derived.scenarios["id"])
        self.n = n

    def _check_joint(self, build, fixed) -> bool:
        """Whether the paths' effects add up: probes with every path at its lowest, then highest value."""
        live = [a for a in self.axes.values() if not a.reason and a.xs]
        corners = build([tuple(fixed) + tuple(f"{a.path}={a.texts[pick(a.xs)]}" for a in live) for pick in (min, max)])
        for pick, p in zip((min, max), corners):
            if p is None or p.signature != self.probes[0].signature:
                return False
            if _pattern([p]).multiply(self.pattern).nnz != p.matrix.nnz:
                return False  # a coefficient where no probe of one path has one
            predicted = self._vector({a.path: pick(a.xs) for a in live})
            if predicted is None or not _close(predicted, p.vector(self.pattern)):
                return False
        return True

    # --- cases -----------------------------------------------------------------------------------

    def notes(self) -> dict[str, str]:
        """Path -> how its cases are made: "patched", "probed" (each value built once, as a probe,
        where there are too few values, none along which the model responds affinely, or kinks
        that made bisection probe every value), or
        "rebuilt: <why>"."""
        notes = {}
        for path, a in self.axes.items():
            if a.reason:
                notes[path] = f"rebuilt: {a.reason}"
            elif a.xs and (not a.segments or all(x in a.exact for x in a.xs)):
                notes[path] = "probed"
            else:
                notes[path] = "patched"
        return notes

    def _axis_vector(self, axis: Response, x: float) -> np.ndarray | None:
        if x in axis.exact:
            return self.vectors[axis.exact[x]]
        for (lo, hi, _, _), line in zip(axis.segments, axis.lines):
            if lo <= x <= hi:
                return _at(line, x)
        return None

    def _vector(self, moved: dict[str, float]) -> np.ndarray | None:
        parts = []
        for path, x in moved.items():
            axis = self.axes.get(path)
            if axis is None or axis.reason:
                return None
            y = self._axis_vector(axis, x)
            if y is None:
                return None
            parts.append(y)
        if not parts:
            return self.vectors[0] if self.vectors else None
        if len(parts) == 1:
            return parts[0]
        base = self.vectors[0]
        out = base.copy()
        finite = np.isfinite(base)
        for y in parts:
            out[finite] += y[finite] - base[finite]
        return out

    def _moved(self, sets: tuple[str, ...]) -> dict[str, float] | None:
        """The paths a case moves away from the base, with their values (None: a value is not a number)."""
        moved = {}
        for text in sets:
            path, value = text.split("=", 1)
            if self._at_base(path, value):
                continue
            try:
                moved[path] = float(value)
            except ValueError:
                return None
        return moved

    def case(self, sets: tuple[str, ...]) -> np.ndarray | None:
        """The numbers of a case (None: it must be rebuilt)."""
        moved = self._moved(sets)
        if moved is None or (len(moved) > 1 and not self.joint):
            return None
        return self._vector(moved)

    def interpolated(self, sets: tuple[str, ...]) -> bool:
        """Whether a case's numbers are interpolated, not those of a probe built for its very values."""
        moved = self._moved(sets) or {}
        if not moved:
            return False
        if len(moved) > 1:
            return True
        (path, x), = moved.items()
        return x not in self.axes[path].exact if path in self.axes else True

    def unpack(self, y: np.ndarray, inst) -> tuple[Compiled, Derived, np.ndarray, np.ndarray]:
        """The compiled model, derived tables, cost-category rows and per-scenario cost rows held in ``y``."""
        n, m = self.n, len(self.rows)
        per_scenario = len(self.scenario_ids) * len(SCENARIO_CATEGORIES) * (n + 1)
        cut = np.cumsum([n, n, n, m, m, self.pattern.nnz, 1, len(CATEGORIES) * (n + 1), per_scenario])
        cost, lower, upper, row_lower, row_upper, values, offset, cats, scen, rest = np.split(y, cut)
        matrix = sp.csc_matrix((values, self.pattern.indices, self.pattern.indptr), shape=(m, n), copy=True)
        matrix.eliminate_zeros()  # as the compiler leaves out a coefficient that is zero
        lp = dict(cost=cost, lower=lower, upper=upper, row_lower=row_lower, row_upper=row_upper,
                  start=matrix.indptr.astype(np.int32), index=matrix.indices.astype(np.int32),
                  value=matrix.data.astype(float), num_row=m)
        compiled = Compiled(columns=list(self.columns), rows=list(self.rows), lp=lp, integer=self.integer,
                            offset=float(offset[0]))
        changes: dict[str, dict] = {}
        scalars: dict[str, Any] = {}
        start = cut[-1]
        for key, size in zip(self.keys, self.sizes):
            if self.varying[start:start + size].any():
                table, col = key
                values = y[start:start + size]
                if col is None:
                    scalars[table] = float(values[0])
                else:
                    frame = getattr(self.derived, table)
                    if pd.api.types.is_integer_dtype(frame[col]):
                        values = np.round(values).astype(frame[col].dtype)
                    changes.setdefault(table, {})[col] = values
            start += size
        tables = {t: getattr(self.derived, t).assign(**cols) for t, cols in changes.items()}
        d = dataclasses.replace(self.derived, instance=inst, **tables, **scalars)
        return compiled, d, cats.reshape(len(CATEGORIES), n + 1), scen.reshape(-1, len(SCENARIO_CATEGORIES), n + 1)

    def families(self, x: np.ndarray, d: Derived) -> dict[str, np.ndarray]:
        """Column values by family, aligned with the derived tables' rows as
        :func:`siting.report.extract.read_solution` reads them from a model; ``payout`` adds the
        production subsidies weighted by the probabilities of ``d``'s scenarios."""
        out = {}
        for fam, pos in self.positions.items():
            default: Any = FAMILIES[fam][1]
            if fam == "take":  # a conditional row's take-up is 0 unless its column says otherwise
                default = np.where(d.instruments["conditional"].to_numpy(dtype=bool), 0.0, 1.0)
            out[fam] = np.where(pos >= 0, x[np.maximum(pos, 0)], default) if len(pos) else np.zeros(0)
        if len(d.periods) > 1:  # as read_solution: the site open by each period, the last one's is build
            early = np.where(self.early >= 0, x[np.maximum(self.early, 0)], 0.0)
            out["build_by_period"] = np.column_stack([early, out["build"]])
        if len(self.wafer_columns):
            prob = dict(zip(d.scenarios["id"], d.scenarios["probability"].astype(float)))
            weights = np.array([prob[w] for w in self.wafer_scenarios])
            out["payout"] = out["payout"] + np.bincount(self.wafer_rows, weights=weights * x[self.wafer_columns],
                                                        minlength=len(out["payout"]))
        return out

    def run(self, raw: RawInstance, options: SolverOptions, fixed: tuple[str, ...], sets: tuple[str, ...],
            cache: TypingCache, start: np.ndarray | None = None) -> Run | None:
        """Solve one case (``sets`` on top of ``fixed``) from patched arrays; None if it must be rebuilt.

        Raises
        ------
        InputError
            If the case's values break the instance's rules (``check`` runs on every case).
        """
        y = self.case(sets)
        if y is None:
            return None  # checked once, by the rebuild
        t0 = time.perf_counter()
        inst = load_case(raw, tuple(fixed) + tuple(sets), cache)
        t1 = time.perf_counter()
        compiled, d, cats, scen = self.unpack(y, inst)
        t2 = time.perf_counter()
        outcome = solve_compiled(compiled, options, start)
        t3 = time.perf_counter()
        if not outcome.status.solved:
            return None  # rebuilt, so that the screens and the diagnosis speak for it
        x = outcome.values
        sol = clean_solution(**self.families(x, d))
        costs = dict(zip(CATEGORIES, (cats[:, :-1] @ x + cats[:, -1]).tolist()))
        by_scenario = {w: dict(zip(SCENARIO_CATEGORIES, (rows[:, :-1] @ x + rows[:, -1]).tolist()))
                       for w, rows in zip(self.scenario_ids, scen)}
        results = tabulate(d, sol, costs, by_scenario)
        violations = verify(inst, results, outcome.objective)
        if violations:
            log.warning("a patched case breaks a rule (%s); it is rebuilt", violations[0])
            return None
        t4 = time.perf_counter()
        run = Run(instance=inst, data=d, model=None, outcome=outcome, options=options, results=results)
        run.times = {"load": t1 - t0, "build": t2 - t1, "solve": outcome.times["solve"],
                     "extract": t4 - t3, "total": t4 - t0}
        return run


def _step(i: int, j: int) -> tuple[int, ...]:
    """The positions one step of bisection probes on the values from position i to j."""
    return (i, j) if j - i <= 1 else (i, (i + j) // 2, j)


def _pattern(probes: list[Probe]) -> sp.csc_matrix:
    """The union of the probes' matrix patterns."""
    total = None
    for p in probes:
        mark = p.matrix.copy()
        mark.data = np.ones_like(mark.data)
        total = mark if total is None else total + mark
    total.sort_indices()
    return total
