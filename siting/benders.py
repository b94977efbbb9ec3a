"""Benders decomposition of the compiled extensive form (``siting solve --engine benders``).

The extensive form's matrices (:func:`siting.solve.compile_model`) are split by stage. First-stage
columns are the integer decisions (sites, modules, qualifications, take-up of conditional offers)
and the continuous ones no scenario owns (first-stage payouts, the CVaR threshold eta); every other
column belongs to one scenario (:func:`column_scenarios`). A row that touches only first-stage
columns goes to the master; every other row touches one scenario's columns and goes to that
scenario's LP, where the first-stage columns it also touches are held at the master's values. A
row that would touch two scenarios' columns stops the decomposition with a message (none does in
the cost objective; a risk limit or ``objective=risk`` is refused before).

With the first stage x held, scenario w's LP gives Q_w(x), its part of the extensive form's
objective (probability-weighted cost2[w], and lambda pi[w] / (1 - beta) xi[w] for CVaR's tail
excess). Q_w is convex in x, and the reduced costs d of the held columns at an optimal basis give
Q_w(x) >= Q_w(x^) + d (x - x^) for every x (LP duality: the dual solution stays feasible when the
held values move). The master is the first-stage objective plus one theta_w per scenario
(multi-cut) with these cuts below it. CVaR stays exact: eta is a master column, the tail excess
xi[w] a column of scenario w, so the cut of scenario w carries eta's coefficient. Where a held x
leaves a scenario without a feasible plan (demand with no penalty, a local-share target), the
scenario's elastic LP (rows relaxed by slacks at cost 1) gives F_w(x^) > 0 and the feasibility cut
F_w(x^) + d (x - x^) <= 0, which every x with a feasible second stage satisfies.

The loop: cuts at the master's LP relaxation first (a few rounds of Kelley's method, cheap, and
they give the MIP a good start), then master MIP, scenario LPs at its plan, cuts, until the gap
between the best plan evaluated (the incumbent, an upper bound) and the master's proven bound
(a lower bound on the extensive form's optimum) is within the profile's ``mip_rel_gap`` or
``mip_abs_gap``, or the time limit passes. The plan's full solution (first stage and every
scenario's LP solution) is returned in the compiled column order, so extract and verify treat it
exactly as an extensive-form solution.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import highspy
import numpy as np
import scipy.sparse as sp

from siting.errors import InputError, Problem, SolverError
from siting.model.families import VARIABLES
from siting.outcome import Status
from siting.solve import Compiled, Outcome, SolverOptions, apply_options, new_highs, objective_scale

log = logging.getLogger(__name__)

#: Rounds of cuts at the master's LP relaxation before the first MIP, at most.
LP_ROUNDS = 40
#: Relative improvement of the LP relaxation's bound below which the LP rounds stop early.
LP_STALL = 1e-5
#: Probability from which the heaviest scenario stays whole in the master (partial decomposition).
KEEP_SHARE = 0.5
#: The master MIP's own gap, as a share of the decomposition's current gap.
MASTER_SHARE = 0.25
#: Cut coefficients smaller than this (in the scaled objective's units per unit of a column) are dropped.
TINY = 1e-11
#: Plans at most that one master MIP hands to the scenario LPs: its optimum and the best of the
#: other improving plans HiGHS found on the way (the scenario LPs are cheap beside the master MIP,
#: so each master solve brings the cuts and the incumbents of several plans).
POOL = 4
#: Times the master's bound may be found above a plan's cost before the loop gives up on a bound.
WRONG_BOUNDS = 3
#: Scenarios up to which every scenario has its own theta (multi-cut); above, the scenarios share
#: this many thetas, each the sum of a group of scenarios' costs (partly aggregated cuts).
GROUPS = 200
#: Expected-value blocks at most in the master (:func:`_means`): scenarios that differ only in their
#: right-hand sides and first-stage coefficients are averaged into one LP per class, kept whole.
MEANS = 4


def column_scenarios(sm, compiled: Compiled) -> np.ndarray:
    """Position of each compiled column's scenario (in ``data.scenarios``), -1 for a first-stage column.

    The stage of each family is the model's table of families
    (:data:`siting.model.families.VARIABLES`). A second-stage column's scenario is the last part
    of a tuple index (``output[k, w]``, ``wafer_payout[k, w]``), the ``scenario`` of its derived
    table's row (``produce`` on routes, ``purchase`` on arcs, ``unmet`` on demand), or the index
    itself (``tail_excess[w]``). A column of a family the table does not list stays in the
    master, which is always valid (only slower).
    """
    d = sm.data
    pos = {w: n for n, w in enumerate(d.scenarios["id"])}
    stage = {v.name: v for v in VARIABLES}
    out = np.full(len(compiled.columns), -1, dtype=np.int64)
    family: dict = {}
    for n, var in enumerate(compiled.columns):
        parent = var.parent_component()
        how = family.get(id(parent))
        if how is None:
            v = stage.get(parent.local_name)
            how = "" if v is None or v.stage == "first" else "table"
            table = getattr(d, v.table, None) if how and v.table else None
            if how and (table is None or "scenario" not in table):
                how = "index"
            family[id(parent)] = how = (how, None if how != "table" else table["scenario"].map(pos).to_numpy())
        kind, rows = how
        if not kind or var.is_integer() or var.is_binary():
            continue
        idx = var.index()
        if isinstance(idx, tuple):
            out[n] = pos[idx[-1]]
        elif kind == "table":
            out[n] = rows[idx]
        else:
            out[n] = pos[idx]
    return out


@dataclass
class Block:
    """One scenario's LP: its rows and columns in the compiled model, and its HiGHS object.

    ``linked`` are the first-stage columns its rows touch (held at the master's values), placed
    after ``columns`` in the LP.
    """

    scenario: int
    rows: np.ndarray
    columns: np.ndarray
    linked: np.ndarray
    lp: dict
    highs: highspy.Highs | None = None
    elastic: highspy.Highs | None = None
    values: np.ndarray | None = None
    master_cols: np.ndarray | None = None


@dataclass
class Split:
    """The compiled model split by stage.

    Attributes
    ----------
    first
        Compiled positions of the first-stage columns (the master's columns, in this order).
    master_rows
        Compiled rows that touch first-stage columns only.
    blocks
        One :class:`Block` per decomposed scenario.
    first_lower, first_upper
        The master's bounds on the first-stage columns (CVaR's threshold narrowed).
    kept
        The scenario kept whole in the master, as the LP it would have been.
    """

    first: np.ndarray
    master_rows: np.ndarray
    first_lower: np.ndarray
    first_upper: np.ndarray
    blocks: list[Block] = field(default_factory=list)
    kept: Block | None = None


def split(sm, compiled: Compiled, keep: int | None = None) -> Split:
    """Split the compiled extensive form into the master's part and one LP per scenario.

    Scenario ``keep`` (a position in ``data.scenarios``) stays whole in the master: its columns
    and rows are the master's, priced exactly, and it has no LP of its own (partial decomposition).

    Raises
    ------
    SolverError
        If a row touches the columns of two scenarios (the model couples them).
    """
    lp = compiled.lp
    n_col, n_row = len(lp["cost"]), lp["num_row"]
    A = sp.csc_matrix((lp["value"], lp["index"], lp["start"]), shape=(n_row, n_col)).tocsr()
    owner = column_scenarios(sm, compiled)
    nz_owner = owner[A.indices]
    nz_row = np.repeat(np.arange(n_row), np.diff(A.indptr))
    mine = nz_owner >= 0
    hi = np.full(n_row, -1, dtype=np.int64)
    lo = np.full(n_row, np.iinfo(np.int64).max, dtype=np.int64)
    np.maximum.at(hi, nz_row[mine], nz_owner[mine])
    np.minimum.at(lo, nz_row[mine], nz_owner[mine])
    coupled = np.flatnonzero((hi >= 0) & (lo != hi))
    if coupled.size:
        row = compiled.rows[coupled[0]]
        name = row[0].name if row is not None else f"row {coupled[0]}"
        raise SolverError(Problem("--engine benders", f"constraint {name} links the decisions of two scenarios",
                                  "solve this instance with the extensive form (--engine ef)"))
    in_master = (owner < 0) | (owner == (-1 if keep is None else keep))
    first = np.flatnonzero(in_master)
    out = Split(first=first, master_rows=np.flatnonzero((hi < 0) | (hi == (-1 if keep is None else keep))),
                first_lower=lp["lower"][first].copy(), first_upper=lp["upper"][first].copy())
    rows_of = _group(hi)
    cols_of = _group(owner)
    csc = A.tocsc()
    is_first = owner < 0
    for w in sorted(set(rows_of) | set(cols_of)):
        if w < 0:
            continue
        rows = rows_of.get(w, np.zeros(0, dtype=np.int64))
        columns = cols_of.get(w, np.zeros(0, dtype=np.int64))
        sub = A[rows]
        linked = np.unique(sub.indices[is_first[sub.indices]])
        every = np.concatenate([columns, linked])
        M = csc[:, every][rows].tocsc()
        m = len(rows)
        cost = np.concatenate([lp["cost"][columns], np.zeros(len(linked))])
        block = Block(scenario=int(w), rows=rows, columns=columns, linked=linked, lp=dict(
            cost=cost, lower=lp["lower"][every].copy(), upper=lp["upper"][every].copy(),
            row_lower=lp["row_lower"][rows], row_upper=lp["row_upper"][rows],
            start=M.indptr.astype(np.int32), index=M.indices.astype(np.int32),
            value=M.data.astype(float), num_row=m))
        if w == keep:
            out.kept = block  # its LP still bounds CVaR's threshold (:func:`_bound_threshold`)
        else:
            out.blocks.append(block)
    return out


def _group(labels: np.ndarray) -> dict[int, np.ndarray]:
    order = np.argsort(labels, kind="stable")
    keys, starts = np.unique(labels[order], return_index=True)
    ends = np.append(starts[1:], len(order))
    return {int(k): order[a:b] for k, a, b in zip(keys, starts, ends)}


def _highs(lp: dict, cost: np.ndarray, options: SolverOptions, scale: float,
           integer: np.ndarray | None = None, cost_scale: float | None = None) -> highspy.Highs:
    """A HiGHS object holding ``lp`` with objective ``cost`` times ``cost_scale`` (default ``scale``)."""
    h = new_highs()
    apply_options(h, options, scale)
    cost = cost * (scale if cost_scale is None else cost_scale)
    n = len(cost)
    integrality = np.zeros(n, dtype=np.int32) if integer is None else integer.astype(np.int32)
    status = h.passModel(n, lp["num_row"], len(lp["value"]), int(highspy.MatrixFormat.kColwise),
                         int(highspy.ObjSense.kMinimize), float(lp.get("offset", 0.0)), cost,
                         lp["lower"], lp["upper"], lp["row_lower"], lp["row_upper"], lp["start"], lp["index"],
                         lp["value"], integrality)
    if status == highspy.HighsStatus.kError:
        raise SolverError(Problem("--engine benders", "HiGHS rejected a scenario LP (passModel failed)",
                                  "report this instance with the output of --debug"))
    return h


def _run(h: highspy.Highs) -> highspy.HighsModelStatus:
    """Solve an LP from its last basis; from scratch if that ends "Unknown".

    HiGHS's dual simplex, warm-started after bounds moved or rows were added, sometimes stops
    with status "Unknown" on these LPs; solved again from scratch they are fine.
    """
    h.run()
    status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kUnknown:
        h.clearSolver()
        h.run()
        status = h.getModelStatus()
    return status


def _elastic(block: Block, options: SolverOptions) -> highspy.Highs:
    """Scenario LP with every row relaxed by slacks at cost 1 and no other cost (phase one)."""
    lp = block.lp
    m, n = lp["num_row"], len(lp["cost"])
    lower_ok = np.flatnonzero(np.isfinite(lp["row_lower"]))
    upper_ok = np.flatnonzero(np.isfinite(lp["row_upper"]))
    M = sp.csc_matrix((lp["value"], lp["index"], lp["start"]), shape=(m, n))
    plus = sp.csc_matrix((np.ones(len(lower_ok)), (lower_ok, np.arange(len(lower_ok)))), shape=(m, len(lower_ok)))
    minus = sp.csc_matrix((-np.ones(len(upper_ok)), (upper_ok, np.arange(len(upper_ok)))), shape=(m, len(upper_ok)))
    E = sp.hstack([M, plus, minus]).tocsc()
    k = len(lower_ok) + len(upper_ok)
    big = dict(lower=np.concatenate([lp["lower"], np.zeros(k)]),
               upper=np.concatenate([lp["upper"], np.full(k, np.inf)]),
               row_lower=lp["row_lower"], row_upper=lp["row_upper"], start=E.indptr.astype(np.int32),
               index=E.indices.astype(np.int32), value=E.data.astype(float), num_row=m)
    return _highs(big, np.concatenate([np.zeros(n), np.ones(k)]), options, 1.0)


@dataclass
class Cut:
    """theta_g >= value + slope (x - at) (optimality), or value + slope (x - at) <= 0 (feasibility).

    ``cols`` are the master's columns the slope is on; ``theta`` the group's theta (None for a
    feasibility cut).
    """

    theta: int | None
    value: float
    cols: np.ndarray
    slope: np.ndarray

    @property
    def feasibility(self) -> bool:
        """True for a feasibility cut (no theta)."""
        return self.theta is None


def _hold(h: highspy.Highs, block: Block, x: np.ndarray) -> None:
    k = len(block.linked)
    if k:
        at = np.arange(len(block.columns), len(block.columns) + k, dtype=np.int32)
        h.changeColsBounds(k, at, x, x)


def _evaluate(block: Block, b: int, x_linked: np.ndarray, options: SolverOptions,
              scale: float) -> tuple[float | None, Cut]:
    """Solve scenario ``block`` at the held values; its cost Q_w (None if infeasible) and a cut."""
    if block.highs is None:
        block.highs = _highs(block.lp, block.lp["cost"], options, scale)
    h = block.highs
    _hold(h, block, x_linked)
    status = _run(h)
    ncol = len(block.columns)

    def optimal() -> tuple[float, Cut]:
        value = float(h.getInfo().objective_function_value)
        sol = h.getSolution()
        block.values = np.asarray(sol.col_value, dtype=float)[:ncol]
        slope = np.asarray(sol.col_dual, dtype=float)[ncol:]
        return value, Cut(b, value, block.master_cols, slope)

    if status == highspy.HighsModelStatus.kOptimal:
        return optimal()
    if status not in (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible):
        raise SolverError(Problem("--engine benders", f"a scenario LP ended '{h.modelStatusToString(status)}'",
                                  "solve with the extensive form (--engine ef)"))
    if block.elastic is None:
        block.elastic = _elastic(block, options)
    e = block.elastic
    _hold(e, block, x_linked)
    _run(e)
    if e.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise SolverError(Problem("--engine benders", "a scenario is infeasible whatever the first stage (its "
                                  f"elastic LP ended '{e.modelStatusToString(e.getModelStatus())}')",
                                  "solve with the extensive form (--engine ef) for the diagnosis"))
    value = float(e.getInfo().objective_function_value)
    slope = np.asarray(e.getSolution().col_dual, dtype=float)[ncol:ncol + len(block.linked)]
    if value <= options.primal_feasibility_tolerance:
        # a warm start can end "infeasible" on an LP that is not (1000 synthetic scenarios): from scratch
        h.clearSolver()
        if _run(h) == highspy.HighsModelStatus.kOptimal:
            return optimal()
        if _run_plainly(h) == highspy.HighsModelStatus.kOptimal:
            return optimal()
        raise SolverError(Problem("--engine benders", "HiGHS calls a scenario LP infeasible that its elastic LP "
                                  "satisfies", "tighten primal_feasibility_tolerance or use --engine ef"))
    return None, Cut(None, value, block.master_cols, slope)


def _run_plainly(h: highspy.Highs) -> highspy.HighsModelStatus:
    """Solve an LP from scratch without presolve, by the primal simplex method, with a looser
    feasibility tolerance; the options restored after.

    A plan that leaves a scenario just feasible (its elastic LP's slacks within the feasibility
    tolerance) has been called infeasible by the dual simplex method after presolve, from a warm
    start and from scratch alike (1000 synthetic scenarios). The primal simplex method on the LP as
    it stands, with ten times the feasibility tolerance (the elastic LP's slacks sum to less than
    one), settles it; the plan's values still go through the check against the raw tables.
    """
    # the elastic LP's slacks sum to no more than the tolerance: ten times it admits that plan
    tolerance = 10 * float(h.getOptionValue("primal_feasibility_tolerance")[1])
    status = _solve_with(h, {"presolve": "off", "simplex_strategy": 4, "primal_feasibility_tolerance": tolerance})
    if status == highspy.HighsModelStatus.kOptimal:
        log.info("Benders: a scenario LP called infeasible solved by the primal simplex method without presolve")
    return status


def _solve_with(h: highspy.Highs, settings: dict) -> highspy.HighsModelStatus:
    """Solve ``h`` from scratch with the HiGHS options ``settings``; its own options restored after."""
    before = {k: h.getOptionValue(k)[1] for k in settings}
    for k, v in settings.items():
        h.setOptionValue(k, v)
    try:
        h.clearSolver()
        h.run()
        return h.getModelStatus()
    finally:
        for k, v in before.items():
            h.setOptionValue(k, v)


class Master:
    """The master problem: first-stage columns, one theta per group of scenario blocks, cuts as rows.

    ``group[b]`` is block b's group: theta_g bounds the sum of its blocks' costs from below. With
    one block a group this is the multi-cut master; fewer groups make each cut weaker but the
    master smaller, which pays from some hundreds of scenarios on (:data:`GROUPS`).
    """

    def __init__(self, compiled: Compiled, parts: Split, options: SolverOptions, scale: float,
                 floors: np.ndarray, group: np.ndarray, probability: np.ndarray) -> None:
        lp = compiled.lp
        self.parts, self.scale = parts, scale
        f = parts.first
        # position of each block's linked columns among the master's columns
        where = {int(c): k for k, c in enumerate(f)}
        for blk in parts.blocks:
            blk.master_cols = np.array([where[int(c)] for c in blk.linked], dtype=np.int64)
        A = sp.csc_matrix((lp["value"], lp["index"], lp["start"]), shape=(lp["num_row"], len(lp["cost"])))
        M = A[parts.master_rows][:, f].tocsc()
        nb = int(group.max()) + 1 if len(group) else 0
        self.group = group
        self.n_first, self.n_theta = len(f), nb
        theta_lower = np.bincount(group, weights=floors, minlength=nb)
        lower = [parts.first_lower, theta_lower]
        upper = [parts.first_upper, np.full(nb, np.inf)]
        row_lower = [lp["row_lower"][parts.master_rows]]
        row_upper = [lp["row_upper"][parts.master_rows]]
        M = sp.hstack([M, sp.csc_matrix((M.shape[0], nb))]).tocsc()
        mean = _means(parts, probability, floors, len(f), MEANS)
        self.means = 0
        if mean is not None:
            # sum of thetas >= the expected-value LPs' costs (Jensen), their rows and columns whole
            T, W, y_lower, y_upper, r_lower, r_upper, q, left_out, _ = mean
            ny = W.shape[1]
            M = sp.vstack([sp.hstack([M, sp.csc_matrix((M.shape[0], ny))]),
                           sp.hstack([T, sp.csc_matrix((W.shape[0], nb)), W]),
                           sp.hstack([sp.csc_matrix((1, len(f))), sp.csc_matrix(np.ones((1, nb))),
                                      sp.csc_matrix(-q * scale)])]).tocsc()
            lower.append(y_lower)
            upper.append(y_upper)
            row_lower += [r_lower, np.full(1, left_out)]
            row_upper += [r_upper, np.full(1, np.inf)]
            self.means = mean[-1]
        n_extra = M.shape[1] - len(f) - nb
        self.cost = np.concatenate([lp["cost"][f] * scale, np.ones(nb), np.zeros(n_extra)])
        self.integer = np.concatenate([compiled.integer[f], np.zeros(nb + n_extra, dtype=bool)])
        mlp = dict(lower=np.concatenate(lower), upper=np.concatenate(upper),
                   row_lower=np.concatenate(row_lower), row_upper=np.concatenate(row_upper),
                   start=M.indptr.astype(np.int32), index=M.indices.astype(np.int32), value=M.data.astype(float),
                   num_row=M.shape[0], offset=compiled.offset * scale)
        self.highs = _highs(mlp, self.cost, options, scale, cost_scale=1.0)
        self.options = options
        self.cuts = 0
        self.feasibility = 0
        self.base = M.shape[0]
        self.age = np.zeros(0, dtype=np.int64)  # per cut row: master solves in a row it was slack at
        self.seconds = 0.0  # in master solves
        self.scenario_seconds = 0.0  # in the scenario LPs

    def price(self, x: np.ndarray, options: SolverOptions) -> list[tuple[float | None, Cut]]:
        """Every scenario block's LP at first stage ``x``: (its cost or None if infeasible, its cut)."""
        t = time.perf_counter()
        try:
            return [_evaluate(block, b, x[block.master_cols], options, self.scale)
                    for b, block in enumerate(self.parts.blocks)]
        finally:
            self.scenario_seconds += time.perf_counter() - t

    @property
    def tally(self) -> tuple[int, int, float, float, int]:
        """(cuts, feasibility cuts, seconds in master solves, seconds in scenario LPs) so far, and
        the expected-value LPs the master holds."""
        return self.cuts, self.feasibility, self.seconds, self.scenario_seconds, self.means

    def add(self, cuts: list[Cut], x: np.ndarray) -> None:
        """Add cuts made at master point ``x`` (first-stage values)."""
        if not cuts:
            return
        lower: list[float] = []
        upper: list[float] = []
        starts: list[int] = []
        index: list[int] = []
        value: list[float] = []
        for cut in cuts:
            cols = cut.cols
            keep = np.abs(cut.slope) > TINY
            cols, slope = cols[keep], cut.slope[keep]
            rhs = cut.value - float(slope @ x[cols])
            starts.append(len(index))
            if cut.feasibility:  # slope x <= -rhs
                index.extend(cols.tolist())
                value.extend(slope.tolist())
                lower.append(-np.inf)
                upper.append(-rhs)
            else:  # theta - slope x >= rhs
                index.extend(cols.tolist() + [self.n_first + cut.theta])
                value.extend((-slope).tolist() + [1.0])
                lower.append(rhs)
                upper.append(np.inf)
        self.highs.addRows(len(cuts), np.array(lower), np.array(upper), len(index), np.array(starts, dtype=np.int32),
                           np.array(index, dtype=np.int32), np.array(value, dtype=float))
        self.cuts += len(cuts)
        self.feasibility += sum(cut.feasibility for cut in cuts)
        self.age = np.concatenate([self.age, np.zeros(len(cuts), dtype=np.int64)])

    def gather(self, made: list[tuple[float | None, Cut]], theta: np.ndarray) -> list[Cut]:
        """The cuts to add from every block's (value, cut) at one master point: the feasibility cuts
        of the blocks without a feasible plan, and one cut per group whose blocks' costs add up to
        more than its theta."""
        cuts = [cut for value, cut in made if value is None]
        nb = len(theta)
        if nb == len(made):  # one block a group: its own cut
            return cuts + [cut for b, (value, cut) in enumerate(made)
                           if value is not None and value > theta[b] + max(1e-9 * abs(value), 1e-9)]
        total = np.zeros(nb)
        broken = np.zeros(nb, dtype=bool)
        for b, (value, _cut) in enumerate(made):
            if value is None:
                broken[self.group[b]] = True
            else:
                total[self.group[b]] += value
        short = ~broken & (total > theta + np.maximum(1e-9 * np.abs(total), 1e-9))
        if not short.any():
            return cuts
        slope = np.zeros((nb, self.n_first))
        for b, (_value, cut) in enumerate(made):
            g = self.group[b]
            if short[g]:
                np.add.at(slope[g], cut.cols, cut.slope)
        for g in np.flatnonzero(short):
            cols = np.flatnonzero(slope[g])
            cuts.append(Cut(int(g), float(total[g]), cols, slope[g, cols]))
        return cuts

    def prune(self, oldest: int) -> None:
        """Drop the cuts slack at the last ``oldest`` master solutions in a row.

        Any subset of valid cuts leaves a valid master, so its bound stays a bound; a lean master
        is much faster for HiGHS (on 200 scenarios the first master MIP took 61 s with the 3,300
        cuts of the LP rounds and 1.4 s with the 300 binding ones). A dropped cut that is needed
        again is made again by its scenario LP.
        """
        h = self.highs
        lp = h.getLp()
        rows = np.arange(self.base, lp.num_row_)
        if not rows.size:
            return
        gone = rows[self.age >= oldest]
        if gone.size:
            h.deleteRows(len(gone), gone.astype(np.int32))
            self.age = self.age[self.age < oldest]

    def _age(self) -> None:
        h = self.highs
        lp = h.getLp()
        act = np.asarray(h.getSolution().row_value, dtype=float)[self.base:]
        lo = np.asarray(lp.row_lower_, dtype=float)[self.base:]
        up = np.asarray(lp.row_upper_, dtype=float)[self.base:]
        slack = np.minimum(act - lo, up - act)
        tight = slack <= 1e-7 * np.maximum(1.0, np.abs(act))
        self.age = np.where(tight, 0, self.age + 1)

    def solve(self, integer: bool, time_left: float | None, gap: float, start: np.ndarray | None = None):
        """Solve the master (its LP relaxation unless ``integer``); (status, x, theta, objective, bound)."""
        t0 = time.perf_counter()
        try:
            return self._solve(integer, time_left, gap, start)
        finally:
            self.seconds += time.perf_counter() - t0

    def _solve(self, integer: bool, time_left: float | None, gap: float, start: np.ndarray | None):
        h = self.highs
        n = len(self.cost)
        h.changeColsIntegrality(n, np.arange(n, dtype=np.int32),
                                (self.integer if integer else np.zeros(n, dtype=bool)).astype(np.uint8))
        h.setOptionValue("mip_rel_gap", float(gap))
        h.setOptionValue("time_limit", np.inf if time_left is None else max(float(time_left), 1e-3))
        if integer and start is not None:  # first stage and thetas; HiGHS completes the rest
            h.setSolution(len(start), np.arange(len(start), dtype=np.int32), start)
        h.setOptionValue("mip_improving_solution_save", bool(integer))
        status = _run(h) if not integer else (h.run(), h.getModelStatus())[1]
        S = highspy.HighsModelStatus
        if integer and status == S.kSolveError:
            # HiGHS's MIP, restarted on a master with new rows, sometimes ends "Solve error";
            # from scratch and without the offered start it solves
            h.clearSolver()
            h.run()
            status = h.getModelStatus()
        if integer and status == S.kSolveError:
            status = self._resolve_at_resolution()
        if status == S.kSolveError:
            raise SolverError(Problem("--engine benders", "HiGHS ended the master problem with 'Solve error'",
                                      "solve with the extensive form (--engine ef)"))
        info = h.getInfo()
        if status in (S.kInfeasible, S.kUnboundedOrInfeasible):
            return "infeasible", None, None, None, None
        if info.primal_solution_status != 2:
            return "no_solution", None, None, None, None
        col = np.asarray(h.getSolution().col_value, dtype=float)
        self._age()
        obj = float(info.objective_function_value)
        if integer and h.getOptionValue("presolve")[1] != "off" and \
                abs(float(self.cost @ col) + float(h.getLp().offset_) - obj) > 1e-9 * max(1.0, abs(obj)):
            # HiGHS's MIP presolve has reported an objective its own solution does not have (seen
            # on a master with expected-value blocks): its bound is no better; solve without it
            h.setOptionValue("presolve", "off")
            h.clearSolver()
            log.info("Benders: the master MIP's objective disagreed with its solution; presolve switched off")
            return self._solve(integer, time_left, gap, None)
        if integer:
            bound = float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else -np.inf
            done = "optimal" if status == S.kOptimal else "stopped"
        else:
            bound = obj if status == S.kOptimal else -np.inf
            done = "optimal" if status == S.kOptimal else "stopped"
        return done, col[:self.n_first], col[self.n_first:self.n_first + self.n_theta], obj, bound

    def pool(self, x: np.ndarray, most: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """The other integer plans of the last master MIP (improving solutions HiGHS saved on the
        way, cheapest first): up to ``most`` whose integer decisions differ from ``x``'s and each
        other's, each as (first stage, thetas)."""
        if most <= 0:
            return []
        ints = self.integer[:self.n_first]
        seen = {tuple(np.round(x[ints]))}
        out = []
        for sol in sorted(self.highs.getSavedMipSolutions(), key=lambda s: s.objective):
            col = np.asarray(sol.col_value, dtype=float)
            if len(col) != len(self.cost):
                continue
            key = tuple(np.round(col[:self.n_first][ints]))
            if key in seen:
                continue
            seen.add(key)
            out.append((_snap(col[:self.n_first], ints), col[self.n_first:self.n_first + self.n_theta]))
            if len(out) == most:
                break
        return out


    def _resolve_at_resolution(self) -> highspy.HighsModelStatus:
        """Solve the master MIP again with its feasibility tolerances no finer than its rows'
        floating-point resolution.

        The cut rows carry theta at the objective's scale (1e8 and more after the power-of-two
        scale on an instance in USD million), where one unit in the last place of a double is
        already above the ``exact`` profile's 1e-9: HiGHS then finds a plan, sees a violation of
        2^-24 on such a row and calls it a solve error. A tolerance of 1e-15 x the largest row
        bound (relative, at the doubles' own precision) accepts that plan; the plan's scenario LPs
        price it exactly afterwards, and the bound moves by no more than that tolerance.
        """
        h, S = self.highs, highspy.HighsModelStatus
        lp = h.getLp()
        bounds = np.abs(np.concatenate([np.asarray(lp.row_lower_, dtype=float),
                                        np.asarray(lp.row_upper_, dtype=float)]))
        biggest = float(np.max(bounds[np.isfinite(bounds)], initial=0.0))
        names = ("primal_feasibility_tolerance", "mip_feasibility_tolerance")
        before = {k: float(h.getOptionValue(k)[1]) for k in names}
        loose = 1e-15 * biggest
        if all(loose <= v for v in before.values()):
            return S.kSolveError
        return _solve_with(h, {k: max(v, loose) for k, v in before.items()})


def _slack(value: float) -> float:
    """A margin below a floor computed to the LP's tolerances, so that it never cuts off the optimum."""
    return 1e-9 * max(1.0, abs(float(value)))


def _gap(upper: float, lower: float) -> float:
    """HiGHS's relative gap: |upper - lower| / max(1, |upper|) (scaled objective)."""
    return abs(upper - lower) / max(1.0, abs(upper))


def solve_benders(sm, compiled: Compiled, options: SolverOptions) -> Outcome:
    """Solve the compiled extensive form by multi-cut Benders decomposition.

    Parameters
    ----------
    sm
        The built model (its derived tables say which scenario owns each column).
    compiled
        Its compiled matrices (:func:`siting.solve.compile_model`).
    options
        The profile: ``mip_rel_gap`` and ``mip_abs_gap`` end the loop, ``time_limit`` bounds it
        as a whole, the tolerances and the seed go to every HiGHS object.

    Returns
    -------
    Outcome
        Status "optimal" (gap met), "feasible" (stopped by the time limit or Ctrl-C with a plan),
        "no_solution" or "infeasible"; the objective of the best plan, the master's proven bound
        and the gap between them; the plan's values in the compiled column order.
    """
    st = sm.data.instance.settings
    if st.risk_limit is not None or st.objective != "cost":
        raise InputError(Problem("--engine benders", "decomposes the risk-weighted cost only, not a risk limit or "
                                 "objective=risk", "use the extensive form (--engine ef) for those"))
    t0 = time.perf_counter()
    deadline = None if options.time_limit is None else t0 + float(options.time_limit)
    scale = objective_scale(compiled.lp["cost"])
    # a scenario that carries half the weight or more stays whole in the master: without one
    # scenario's flows the master knows nothing of what a qualification or a module is for until
    # many cuts have told it (on network-2030 with qualification costs, nominal 0.62, the bound
    # stalled 14% below the optimum without it and reached 0.04% with it); a light scenario is not
    # worth its weight in the master MIP (200 synthetic scenarios: 0.03% gap in 120 s without,
    # 1% in 240 s with the heaviest, 3%, kept)
    probability = sm.data.scenarios["probability"].to_numpy(dtype=float)
    heaviest = int(np.argmax(probability))
    parts = split(sm, compiled, keep=heaviest if probability[heaviest] >= KEEP_SHARE else None)
    blocks = parts.blocks
    offset = compiled.offset * scale
    lp = compiled.lp
    c_first = lp["cost"][parts.first] * scale
    abs_gap = options.mip_abs_gap * scale
    rel_gap = options.mip_rel_gap

    def left() -> float | None:
        return None if deadline is None else deadline - time.perf_counter()

    # theta_w's floor: scenario w's LP with its first-stage columns free within their bounds
    phase = {"split": time.perf_counter() - t0}
    floors = np.empty(len(blocks))
    for b, block in enumerate(blocks):
        h = _highs(block.lp, block.lp["cost"], options, scale)
        h.run()
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible:
            return _finish(compiled, parts, options, scale, "infeasible", "Benders: a scenario has no feasible "
                           "plan for any first stage", None, -np.inf, t0, 0, (0, 0, 0.0, 0.0, 0))
        if status != highspy.HighsModelStatus.kOptimal:
            raise SolverError(Problem("--engine benders", "a scenario's cost is unbounded below when its first stage "
                                      f"is free (HiGHS: {h.modelStatusToString(status)})",
                                      "solve with the extensive form (--engine ef)"))
        floors[b] = float(h.getInfo().objective_function_value) - _slack(h.getInfo().objective_function_value)
        block.highs = h  # its basis is a warm start for the first evaluation

    phase["floors"] = time.perf_counter() - t0 - phase["split"]
    _bound_threshold(compiled, parts, options, scale)
    master = Master(compiled, parts, options, scale, floors, _groups(floors, GROUPS), probability)
    phase["setup"] = time.perf_counter() - t0
    best: dict[str, Any] = {"upper": np.inf, "x": None, "values": None}
    lower = -np.inf
    iterations = 0
    wrong = 0
    stop = "gap"

    def evaluate(x: np.ndarray, theta: np.ndarray) -> tuple[float | None, list[Cut]]:
        made = master.price(x, options)
        cuts = master.gather(made, theta)
        if any(value is None for value, _ in made):
            return None, cuts
        total = float(c_first @ x) + offset + sum(value for value, _ in made)
        if total < best["upper"]:
            values = [block.values for block in blocks]
            thetas = np.bincount(master.group, weights=_thetas(blocks, values, scale, lp), minlength=len(theta))
            best.update(upper=total, x=x.copy(), values=values, start=np.concatenate([x, thetas]))
        return total, cuts

    try:
        # Kelley rounds on the LP relaxation: valid cuts at fractional plans, a bound to start from
        previous = -np.inf
        for _ in range(LP_ROUNDS):
            status, x, theta, obj, bound = master.solve(False, left(), rel_gap)
            if status == "infeasible":
                return _finish(compiled, parts, options, scale, "infeasible", "Benders: no first stage meets the "
                               "master's rows and the feasibility cuts", None, lower, t0, iterations,
                               master.tally)
            if status != "optimal":
                break
            iterations += 1
            cuts = master.gather(master.price(x, options), theta)
            master.add(cuts, x)
            lower = max(lower, bound)
            if not cuts or bound - previous <= LP_STALL * max(1.0, abs(bound)):
                break
            previous = bound
            if left() is not None and left() <= 0:
                stop = "time"
                break
        master.prune(1)  # the LP rounds' cuts that do not hold the LP optimum up
        phase["lp_rounds"] = time.perf_counter() - t0 - phase["setup"]
        master_gap = rel_gap
        share = MASTER_SHARE
        while stop != "time":
            if left() is not None and left() <= 0:
                stop = "time"
                break
            # a loose master while the gap is wide (its plans only need to bring new cuts), tighter
            # as the gap closes: the master's proven bound is valid at any gap
            now = _gap(best["upper"], lower) if best["x"] is not None and np.isfinite(lower) else 1.0
            before = master.tally
            status, x, theta, obj, bound = master.solve(True, left(), min(max(master_gap, share * now), 0.05),
                                                        best.get("start"))
            if status == "infeasible":
                return _finish(compiled, parts, options, scale, "infeasible", "Benders: no first stage meets the "
                               "master's rows and the feasibility cuts", None, lower, t0, iterations,
                               master.tally)
            lower = max(lower, bound if bound is not None else -np.inf)
            if status == "no_solution":
                stop = "time"
                break
            iterations += 1
            x = _snap(x, master.integer[:master.n_first])
            _, cuts = evaluate(x, theta)
            master.add(cuts, x)
            for other, other_theta in master.pool(x, POOL - 1):
                _, more = evaluate(other, other_theta)
                master.add(more, other)
            if best["upper"] < lower - max(abs_gap, 1e-7 * abs(best["upper"])):
                # a plan priced below the master's proven bound: that bound was wrong (HiGHS's MIP
                # on a badly scaled master), and every plan's cost is still exact; forget it and
                # let a master solved from scratch prove a new one
                wrong += 1
                log.warning("Benders: the master's bound %.10g was above a plan's cost %.10g; solved again",
                            lower / scale, best["upper"] / scale)
                lower = -np.inf
                master.highs.clearSolver()
                if wrong > WRONG_BOUNDS:
                    stop = "numerics"
                    break
            log.info("benders iteration %d: plan %.10g, bound %.10g, %d cuts (master %.2f s, scenarios %.2f s)",
                     iterations, best["upper"] / scale, lower / scale, master.cuts,
                     *(now - then for now, then in zip(master.tally[2:4], before[2:4])))
            if best["x"] is not None and (best["upper"] - lower <= abs_gap or _gap(best["upper"], lower) <= rel_gap):
                break
            if not cuts:
                # the master's plan is priced exactly: only a tighter master can close the gap
                if master_gap == 0.0:
                    break
                if share > 0.0:
                    share = 0.0
                else:
                    master_gap = master_gap / 10 if master_gap > 1e-12 else 0.0
        if best["x"] is not None:
            _polish(master, best, evaluate)
    except KeyboardInterrupt:
        stop = "interrupt"
    log.info("benders phases (s): %s", {k: round(v, 2) for k, v in phase.items()})
    if best["x"] is None:
        return _finish(compiled, parts, options, scale, "no_solution", f"Benders: no plan evaluated ({stop})", None,
                       lower, t0, iterations, master.tally)
    proven = best["upper"] - lower <= abs_gap or _gap(best["upper"], lower) <= rel_gap
    verdict = "optimal" if proven else "feasible"
    why = {"gap": "gap reached", "time": "time limit reached", "interrupt": "interrupted by the user (Ctrl-C)",
           "numerics": "the master's bound failed to hold (badly scaled data); no bound proven"}[stop]
    if not proven and stop == "gap":
        why = "no further cut"
    return _finish(compiled, parts, options, scale, verdict, f"Benders decomposition: {why}", best, lower, t0,
                   iterations, master.tally)


#: LP rounds at most that settle the continuous first stage (eta, payouts) of the best plan.
POLISH_ROUNDS = 50


def _polish(master: Master, best: dict, evaluate) -> None:
    """Settle the best plan's continuous first-stage decisions (CVaR's eta, payouts) exactly.

    With the integer decisions held at the best plan's, the master is an LP and the cut loop is
    Kelley's method over eta and the payouts alone, which ends in a few rounds at the optimum of
    the extensive form's LP for that plan. Without it a plan found while eta was still off would
    report its CVaR premium at that eta (a valid upper bound, but not the premium the plan's own
    scenario costs give, which the solution check recomputes).
    """
    h = master.highs
    ints = np.flatnonzero(master.integer[:master.n_first]).astype(np.int32)
    lp = h.getLp()
    lower = np.asarray(lp.col_lower_, dtype=float)[ints]
    upper = np.asarray(lp.col_upper_, dtype=float)[ints]
    h.changeColsBounds(len(ints), ints, best["x"][ints], best["x"][ints])
    try:
        for _ in range(POLISH_ROUNDS):
            status, x, theta, _obj, _bound = master.solve(False, None, 0.0)
            if status != "optimal":
                break
            x = _snap(x, master.integer[:master.n_first])
            _, cuts = evaluate(x, theta)
            if not cuts:
                break
            master.add(cuts, x)
    finally:
        h.changeColsBounds(len(ints), ints, lower, upper)


def _bound_threshold(compiled: Compiled, parts: Split, options: SolverOptions, scale: float) -> None:
    """Give CVaR's threshold eta (free in the model) the bounds [least cost2, most cost2] in the master.

    Until the cuts describe the tail, nothing in the master holds eta from below, and its master LP
    would be unbounded. For any plan, some optimal eta is the value-at-risk of cost2, which is one
    of the scenarios' costs cost2[w]; so eta within [min_w min cost2[w], max_w max cost2[w]] (each
    an LP over scenario w's rows, first stage free) keeps the extensive form's optimum. cost2[w]'s
    coefficients are read off scenario w's ``cvar_tail`` row (xi[w] - cost2[w] + eta >= 0).
    """
    first = parts.first
    names = [compiled.columns[c].parent_component().local_name for c in first]
    if "var_at_risk" not in names:
        return
    eta = int(first[names.index("var_at_risk")])
    lp = compiled.lp
    least, most = np.inf, -np.inf
    for block in parts.blocks + ([parts.kept] if parts.kept is not None else []):
        where = np.flatnonzero(block.linked == eta)
        if not where.size:
            continue
        k = len(block.columns) + int(where[0])
        blp = block.lp
        span = slice(blp["start"][k], blp["start"][k + 1])
        row = int(blp["index"][span][0])  # the one cvar_tail row of this scenario
        n = len(blp["cost"])
        M = sp.csc_matrix((blp["value"], blp["index"], blp["start"]), shape=(blp["num_row"], n)).tocsr()
        coef = np.asarray(M[row].toarray()).ravel()
        coef[k] = 0.0
        tail = [j for j, c in enumerate(block.columns)
                if compiled.columns[c].parent_component().local_name == "tail_excess"]
        coef[tail] = 0.0
        # the scenario's own HiGHS object (first stage still free), its cost swapped for cost2[w]'s
        if block.highs is None:
            block.highs = _highs(blp, blp["cost"], options, scale)
        h = block.highs
        every = np.arange(n, dtype=np.int32)
        for sense in (1.0, -1.0):
            h.changeColsCost(n, every, -coef * sense)
            status = _run(h)
            if status != highspy.HighsModelStatus.kOptimal:
                h.changeColsCost(n, every, blp["cost"] * scale)
                return  # no finite range: leave eta free (the LP rounds then stop at once)
            value = sense * float(h.getInfo().objective_function_value)
            least, most = min(least, value), max(most, value)
        h.changeColsCost(n, every, blp["cost"] * scale)
    if np.isfinite(least) and np.isfinite(most):
        # the compiled model keeps its own bounds (the duals' fixed LP reads them); the master's
        # copy and the scenario LPs' copies take the range
        parts.first_lower[names.index("var_at_risk")] = max(lp["lower"][eta], least)
        parts.first_upper[names.index("var_at_risk")] = min(lp["upper"][eta], most)
        for block in parts.blocks:
            at = np.flatnonzero(block.linked == eta)
            if at.size:
                j = len(block.columns) + int(at[0])
                block.lp["lower"][j] = parts.first_lower[names.index("var_at_risk")]
                block.lp["upper"][j] = parts.first_upper[names.index("var_at_risk")]


class _Priced(NamedTuple):
    """One scenario block as :func:`_means` compares and averages it: probability, matrix on its
    own columns, costs per unit of probability, matrix on the first stage (master's columns), and
    [column lower, column upper, row lower, row upper] bounds."""

    p: float
    W: sp.csc_matrix
    q: np.ndarray
    T: sp.csr_matrix
    data: list


def _means(parts: Split, probability: np.ndarray, floors: np.ndarray, n_first: int, most: int):
    """Expected-value LPs whose cost bounds the decomposed scenarios' summed cost from below.

    With the first stage x held, scenario w's cost is Q_w(x) = p_w phi_w(x), phi_w the value of the
    LP min q_w y subject to W_w y + T_w x and y within their bounds. Where q_w and W_w are the same
    for every scenario of a class C (the scenarios differ in demand, capacities and limits only),
    phi is one LP whose value is convex in its right-hand sides and bounds, and these are affine
    in x and in the data; so sum_{w in C} p_w phi(data_w, x) >= P_C phi(mean data, x), with P_C the
    class's probability and the mean weighted by p_w / P_C (Jensen's inequality). The master keeps
    each class's expected-value LP whole (its columns y_C and rows W y_C + T_C x) and the row
    sum of thetas >= sum_C P_C q y_C + the floors of the scenarios in no class. It then prices
    sites and modules against an average year from its first solve, where without it only the
    cuts tell what they are for.

    Scenarios form classes by their (q, W); up to ``most`` classes, the heaviest first, are kept.
    (A class halved by floors would give a tighter bound, but at 1000 synthetic scenarios four
    such LPs in the master left a 9.2% gap at 600 s where one left 3.7%, on a shared machine: the
    master MIP is the time.)

    Returns
    -------
    tuple or None
        (T on the first-stage columns, W block-diagonal, column bounds, row bounds, cost row
        P_C q, the floors left out, number of LPs), or None without any.
    """
    blocks = parts.blocks
    if not blocks or most <= 0:
        return None
    one: list[_Priced] = []
    classes: list[list[int]] = []
    for b, blk in enumerate(blocks):
        p = float(probability[blk.scenario])
        lp = blk.lp
        n, m = len(blk.columns), int(lp["num_row"])
        B = sp.csc_matrix((lp["value"], lp["index"], lp["start"]), shape=(m, n + len(blk.linked)))
        W = B[:, :n]
        L = B[:, n:].tocoo()
        T = sp.csr_matrix((L.data, (L.row, blk.master_cols[L.col])), shape=(m, n_first))
        q = lp["cost"][:n] / p if p > 0 else np.full(n, np.nan)
        data = [lp["lower"][:n], lp["upper"][:n], lp["row_lower"], lp["row_upper"]]
        one.append(_Priced(p, W, q, T, data))
        if p <= 0 or not np.all(np.isfinite(q)):
            continue
        for members in classes:
            head = one[members[0]]
            if head.W.shape == W.shape and np.allclose(head.q, q, rtol=1e-12, atol=0.0) and \
                    all(np.array_equal(np.isinf(x), np.isinf(y)) for x, y in zip(head.data, data)) and \
                    np.max(np.abs((head.W - W).data), initial=0.0) <= 1e-12 * np.max(np.abs(W.data), initial=1.0):
                members.append(b)
                break
        else:
            classes.append([b])
    weight = [sum(one[b].p for b in members) for members in classes]
    classes = [classes[k] for k in np.argsort(weight, kind="stable")[::-1][:most]]
    if not classes:
        return None
    covered = {b for members in classes for b in members}
    left_out = float(sum(f for b, f in enumerate(floors) if b not in covered))
    Ts, Ws, qs, means = [], [], [], []
    for members in classes:
        P = sum(one[b].p for b in members)
        head = one[members[0]]
        mean = []
        for k, x in enumerate(head.data):  # an infinite bound is the same in the whole class
            total = sum(one[b].p * np.where(np.isinf(x), 0.0, one[b].data[k]) for b in members)
            mean.append(np.where(np.isinf(x), x, total / P))
        Ts.append(sum((one[b].p * one[b].T for b in members), sp.csr_matrix(head.T.shape)) / P)
        Ws.append(head.W)
        qs.append(P * head.q)
        means.append(mean)
    return (sp.vstack(Ts).tocsc(), sp.block_diag(Ws).tocsc(),
            *(np.concatenate([d[k] for d in means]) for k in range(4)),
            np.concatenate(qs)[None, :], left_out, len(classes))


def _groups(floors: np.ndarray, most: int) -> np.ndarray:
    """Each block's group: its own up to ``most`` blocks; else ``most`` groups of blocks of like
    floors (the least cost each scenario can have), so that a group's summed cut loses little of
    what its members' cuts say apart."""
    n = len(floors)
    if n <= most:
        return np.arange(n, dtype=np.int64)
    group = np.empty(n, dtype=np.int64)
    group[np.argsort(floors, kind="stable")] = np.arange(n) * most // n
    return group


def _thetas(blocks, values, scale, lp) -> np.ndarray:
    return np.array([float(lp["cost"][blk.columns] @ v) * scale for blk, v in zip(blocks, values)])


def _snap(x: np.ndarray, integer: np.ndarray) -> np.ndarray:
    """Integer decisions rounded (HiGHS returns them within its integrality tolerance)."""
    x = x.copy()
    x[integer] = np.round(x[integer])
    return x


def _finish(compiled: Compiled, parts: Split, options: SolverOptions, scale: float, status: str, text: str,
            best: dict | None, lower: float, t0: float, iterations: int,
            cuts: tuple[int, int, float, float, int]) -> Outcome:
    bound = None if not np.isfinite(lower) else lower / scale
    if best is None:
        return Outcome(status=Status(status), termination=text, best_bound=bound, options=options.highs_options(),
                       times={"solve": time.perf_counter() - t0},
                       nodes=None)
    values = np.zeros(len(compiled.columns))
    values[parts.first] = best["x"]
    for block, v in zip(parts.blocks, best["values"]):
        values[block.columns] = v
    objective = float(compiled.lp["cost"] @ values) + compiled.offset
    gap = _gap(best["upper"], lower) if np.isfinite(lower) else None
    return Outcome(status=Status(status), termination=f"{text} after {iterations} iterations, {cuts[0]} cuts "
                   f"({cuts[1]} feasibility cuts); {cuts[2]:.1f} s in the master, {cuts[3]:.1f} s in the "
                   "scenario LPs" + (f"; {cuts[4]} expected-value LP{'s' if cuts[4] > 1 else ''} in the master"
                                     if cuts[4] else ""),
                   objective=objective, best_bound=bound, mip_gap=gap, values=values,
                   options=options.highs_options(), times={"solve": time.perf_counter() - t0})
