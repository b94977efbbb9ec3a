"""Solve a built model with HiGHS, in memory, and report honestly what the solve is.

The Pyomo model is compiled to sparse matrices by Pyomo's ``LinearStandardFormCompiler`` with an
explicit column order (the order of the derived tables), and the matrices are handed to
``highspy.Highs.passModel``: no files, and a column and row order that is fixed on purpose.
(Column order alone can change HiGHS's MIP time by half on large siting models.)

HiGHS calls a MIP optimal once the relative gap tolerance is met; the outcome therefore always
carries the gap and the best bound next to the objective.

The objective reaches HiGHS multiplied by a power of two (:func:`objective_scale`), so that its
smallest cost coefficient sits well above HiGHS's dual feasibility tolerance; every number read
back (objective, bound, duals) is divided by the same factor, so results are in the instance's units.
"""

from __future__ import annotations

import ctypes
import logging
import math
import os
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import highspy
import numpy as np
import pyomo.core as pyo
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pyomo.common.errors import InfeasibleConstraintException
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from siting.errors import InputError, Problem, SolverError, suggest
from siting.model import sparse  # noqa: F401  (loaded here so its load time is not counted as build time)
from siting.model.families import COMPILED_ONLY, COST_SOURCES, ROW_SOURCES, column_order
from siting.outcome import Outcome, Status

if TYPE_CHECKING:
    from siting.model.build import SitingModel

log = logging.getLogger(__name__)

#: Where solver profiles live: the working folder's solvers/ first, then the project's.
PROFILE_DIRS = (Path("solvers"), Path(__file__).resolve().parent.parent / "solvers")

class SolverOptions(BaseModel):
    """Options of one solve; a profile in ``solvers/NAME.toml`` sets any of them.

    Attributes
    ----------
    time_limit
        Seconds HiGHS may run before returning its best solution (None: no limit).
    mip_rel_gap
        Relative gap |bound - objective| / |objective| at which HiGHS stops and calls it optimal.
    mip_abs_gap
        Absolute gap at which HiGHS stops.
    threads
        HiGHS threads (1 gives reproducible runs).
    random_seed
        HiGHS random seed.
    presolve
        "on", "off" or "choose".
    primal_feasibility_tolerance, dual_feasibility_tolerance
        HiGHS's absolute tolerances on row and bound violations and on reduced costs (the
        objective's reduced costs are in the scaled units of :func:`objective_scale`).
    mip_feasibility_tolerance
        HiGHS's tolerance on integrality and row violations of a MIP solution.
    highs
        Any further HiGHS option by its HiGHS name.
    """

    model_config = ConfigDict(extra="forbid")

    time_limit: float | None = Field(None, gt=0)
    mip_rel_gap: float = Field(1e-6, ge=0, le=1)
    mip_abs_gap: float = Field(1e-6, ge=0)
    threads: int = Field(1, ge=0)
    random_seed: int = Field(0, ge=0)
    presolve: str = Field("choose", pattern="^(on|off|choose)$")
    primal_feasibility_tolerance: float = Field(1e-7, gt=0, le=1e-3)
    dual_feasibility_tolerance: float = Field(1e-7, gt=0, le=1e-3)
    mip_feasibility_tolerance: float = Field(1e-6, gt=0, le=1e-3)
    highs: dict[str, bool | int | float | str] = Field(default_factory=dict)

    def highs_options(self) -> dict:
        """Options by their HiGHS names."""
        opts = {
            "mip_rel_gap": self.mip_rel_gap, "mip_abs_gap": self.mip_abs_gap,
            "threads": self.threads, "random_seed": self.random_seed, "presolve": self.presolve,
            "primal_feasibility_tolerance": self.primal_feasibility_tolerance,
            "dual_feasibility_tolerance": self.dual_feasibility_tolerance,
            "mip_feasibility_tolerance": self.mip_feasibility_tolerance,
        }
        if self.time_limit is not None:
            opts["time_limit"] = float(self.time_limit)
        opts.update(self.highs)
        return opts


def available_profiles() -> list[str]:
    """Names of the profiles found in the profile folders."""
    names: set[str] = set()
    for folder in PROFILE_DIRS:
        if folder.is_dir():
            names.update(p.stem for p in folder.glob("*.toml"))
    return sorted(names)


def load_profile(name: str | None = "default", **overrides: Any) -> SolverOptions:
    """Load a solver profile by name (``solvers/NAME.toml``) or path, then apply ``overrides``.

    ``overrides`` with value None are ignored, so CLI flags that were not given change nothing.
    """
    name = name or "default"
    data: dict = {}
    path = Path(name)
    if path.suffix != ".toml":
        path = next((d / f"{name}.toml" for d in PROFILE_DIRS if (d / f"{name}.toml").is_file()), path)
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(Problem(str(path), f"malformed TOML: {exc}", "fix the profile's syntax")) from None
    elif name != "default":
        raise InputError(Problem(f"--profile {name}", "no such solver profile",
                                 suggest(name, available_profiles(),
                                         "profiles are: " + ", ".join(available_profiles()))))
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return SolverOptions(**data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise InputError(Problem(f"solver option {where}", f"{err['msg'].lower()} (got {err.get('input')!r})",
                                 "see the fields of solvers/default.toml")) from None


@dataclass
class Compiled:
    """The model as matrices, with the map back to Pyomo.

    ``rows[n]`` is the (constraint, sense) of row n, or None for a row whose Pyomo object was
    freed after compiling; ``freed`` maps each freed family to the positions of its rows in the
    order of its index (row k of routes or arcs is at ``freed[name][k]``), so that a re-solve
    can still find them in the matrix.
    """

    columns: list
    rows: list
    lp: dict
    integer: np.ndarray
    offset: float
    freed: dict = field(default_factory=dict)


def compile_model(sm: SitingModel) -> Compiled:
    """Compile the Pyomo model to matrices in the column order of the derived tables.

    The variable families come in the order of :data:`siting.model.families.VARIABLES`.
    """
    m = sm.model
    info = LinearStandardFormCompiler().write(m, mixed_form=True, column_order=column_order(m))
    cols = info.columns
    n = len(cols)
    lower = np.array([-np.inf if v.lb is None else v.lb for v in cols], dtype=float)
    upper = np.array([np.inf if v.ub is None else v.ub for v in cols], dtype=float)
    integer = np.array([v.is_integer() or v.is_binary() for v in cols], dtype=bool)
    rhs = np.asarray(info.rhs, dtype=float)
    mult = np.array([r[1] for r in info.rows], dtype=int)
    row_lower = np.where(mult == 1, -np.inf, rhs)
    row_upper = np.where(mult == -1, np.inf, rhs)
    A = info.A.tocsc()
    cost = np.asarray(info.c.toarray()).ravel() if info.c.shape[0] else np.zeros(n)
    if cost.size != n:
        cost = np.zeros(n)
    offset = float(info.c_offset[0]) if len(info.c_offset) else 0.0
    lp = dict(cost=cost, lower=lower, upper=upper, row_lower=row_lower, row_upper=row_upper,
              start=A.indptr.astype(np.int32), index=A.indices.astype(np.int32),
              value=A.data.astype(float), num_row=A.shape[0])
    return Compiled(columns=cols, rows=info.rows, lp=lp, integer=integer, offset=offset)


def _family(item: Any) -> str:
    if item is None:
        return "a linking row"
    if isinstance(item, (str, tuple)):  # a compiled model patched by a sweep names by key, (name, index)
        return item if isinstance(item, str) else item[0]
    return item.parent_component().local_name


def numerics_report(compiled: Compiled) -> list[str]:
    """Coefficient ranges HiGHS may struggle with, naming the input columns to rescale.

    Reported before the solve when the nonzero coefficients of the matrix or the objective span
    more than nine orders of magnitude; each end names the row (or column) family and the input
    column its coefficient comes from. For the objective this is where scaling stops helping:
    :func:`objective_scale` fits a span of up to 1e7 into [1, 1e7]; beyond 1e9 the smallest
    costs stay below 1e-2 as HiGHS sees them. The solve logs each line once per process.
    """
    warnings = []
    lp = compiled.lp
    col_of = np.repeat(np.arange(len(lp["start"]) - 1), np.diff(lp["start"]))
    for label, arr in (("matrix", lp["value"]), ("objective", lp["cost"])):
        mags = np.abs(arr)
        usable = (mags > 0) & np.isfinite(mags)
        if not usable.any():
            continue
        where = np.flatnonzero(usable)
        lo, hi = where[np.argmin(mags[where])], where[np.argmax(mags[where])]
        if mags[hi] / mags[lo] <= 1e9:
            continue

        def name(pos: int, label: str = label) -> str:
            if label == "objective":
                fam = _family(compiled.columns[pos])
                return f"{fam} costs, from {COST_SOURCES.get(fam, 'the data')}"
            row = compiled.rows[lp["index"][pos]]
            fam = _family(row[0] if row is not None else None)
            col = _family(compiled.columns[col_of[pos]])
            return f"{fam} rows x {col}, from {ROW_SOURCES.get(fam, 'the data')}"

        warnings.append(f"{label} coefficients span {mags[lo]:.2g} ({name(lo)}) to {mags[hi]:.2g} ({name(hi)}); "
                        "HiGHS may misjudge feasibility across such a range: restate one of these columns in "
                        "larger or smaller units (money_unit for capital)")
    return warnings


#: The smallest and the largest magnitude :func:`objective_scale` aims for among the objective's
#: nonzero coefficients as HiGHS sees them. A floor of 1 puts every cost seven orders of magnitude
#: above HiGHS's default dual feasibility tolerance (1e-7), so two plans whose costs differ by a
#: thousandth of the smallest coefficient per unit are still told apart; the ceiling keeps reduced
#: costs computed from the largest coefficients exact to well under that tolerance.
COST_FLOOR, COST_CEILING = 1.0, 1e7


def objective_scale(cost: np.ndarray) -> float:
    """The power of two the objective is multiplied by before HiGHS sees it.

    HiGHS judges optimality with absolute tolerances: a column whose reduced cost is within the
    dual feasibility tolerance (1e-7) of zero counts as priced out. With capital in USD million,
    a per-unit cost lands near 1e-4 per wafer and a freight difference between two suppliers near
    2e-7, inside the tolerance, on columns of 1e5 units a year: plans a few thousand dollars apart
    looked equal, and which one HiGHS returned depended on its seed. The factor is the smallest
    power of two that lifts the smallest nonzero coefficient to :data:`COST_FLOOR`, lowered if
    the largest would pass :data:`COST_CEILING`, and never below 1. A power of two changes no
    digit of any coefficient, and dividing the objective, the bound and the duals by it restores
    the instance's units exactly.

    Parameters
    ----------
    cost
        The objective's coefficients, in the instance's money unit.

    Returns
    -------
    float
        The factor (1.0 for an objective with no nonzero coefficient).
    """
    mags = np.abs(np.asarray(cost, dtype=float))
    mags = mags[(mags > 0) & np.isfinite(mags)]
    if not mags.size:
        return 1.0
    up = math.ceil(math.log2(COST_FLOOR / mags.min()))
    most = math.floor(math.log2(COST_CEILING / mags.max()))
    return float(2.0 ** max(0, min(up, most)))


def make_highs(compiled: Compiled, options: SolverOptions, with_integrality: bool = True) -> highspy.Highs:
    """A HiGHS object holding ``compiled`` (as an LP if ``with_integrality`` is false), options set.

    The objective (with its constant) is passed multiplied by :func:`objective_scale`, and the
    absolute gap tolerance with it, so that ``mip_abs_gap`` keeps its meaning in the instance's
    money unit; whoever reads the objective, the bound or a dual back divides by the same factor.

    Raises
    ------
    InputError
        If an option is unknown to HiGHS or has a value HiGHS refuses.
    """
    h = new_highs()
    lp = compiled.lp
    scale = objective_scale(lp["cost"])
    apply_options(h, options, scale)
    n = len(lp["cost"])
    integrality = (compiled.integer.astype(np.int32) if with_integrality else np.zeros(n, dtype=np.int32))
    status = h.passModel(n, lp["num_row"], len(lp["value"]), int(highspy.MatrixFormat.kColwise),
                         int(highspy.ObjSense.kMinimize), compiled.offset * scale, lp["cost"] * scale, lp["lower"],
                         lp["upper"], lp["row_lower"], lp["row_upper"], lp["start"], lp["index"],
                         lp["value"], integrality)
    if status == highspy.HighsStatus.kError:
        raise SolverError(Problem("HiGHS", "rejected the model (passModel failed)",
                                  "report this instance with the output of --debug"))
    return h


def apply_options(h: highspy.Highs, options: SolverOptions, scale: float = 1.0) -> None:
    """Set ``options`` on ``h``, the absolute gap multiplied by the objective's ``scale``.

    Raises
    ------
    InputError
        If an option is unknown to HiGHS or has a value HiGHS refuses.
    """
    opts = options.highs_options()
    opts["mip_abs_gap"] = opts["mip_abs_gap"] * scale
    for k, v in opts.items():
        status = h.setOptionValue(k, v)
        if status == highspy.HighsStatus.kError:
            known = h.getOptionType(k)[0] == highspy.HighsStatus.kOk
            if not known:
                raise InputError(Problem(f"solver option {k}", "HiGHS has no such option",
                                         "check the name in the HiGHS documentation of options"))
            raise InputError(Problem(f"solver option {k}", f"HiGHS refused the value {v!r}",
                                     "check the option's type and range in the HiGHS documentation"))


_banner_done = False


def new_highs() -> highspy.Highs:
    """A HiGHS object that prints nothing (``output_flag`` off).

    highspy 1.16 prints its banner (version and copyright) on the process's standard output when the
    first HiGHS object of a process is made, before any option can be set, which would break
    ``--json``. So the first object of each process (the CLI's, a sweep worker's, an MPI rank's) is
    made with file descriptor 1 pointed at a temporary file; the banner goes to the debug log, and
    standard output is restored on every path. Later objects print nothing by themselves.
    """
    global _banner_done
    if _banner_done:
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        return h
    try:
        sys.stdout.flush()  # what Python has buffered belongs on the real standard output
        saved = os.dup(1)
    except (OSError, ValueError, AttributeError):  # no standard output at all: nothing to protect
        _banner_done = True
        return new_highs()
    try:
        with tempfile.TemporaryFile() as sink:
            try:
                os.dup2(sink.fileno(), 1)
                h = highspy.Highs()
                h.setOptionValue("output_flag", False)
                _flush_c_stdio()  # the banner may sit in C's buffer: out before fd 1 is restored
            finally:
                os.dup2(saved, 1)
            sink.seek(0)
            banner = sink.read().decode("utf-8", "replace").strip()
    finally:
        os.close(saved)
    if banner:
        log.debug("HiGHS: %s", banner)
    _banner_done = True
    return h


def _flush_c_stdio() -> None:
    try:
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):
        pass


def _drop_compiled_only(sm: SitingModel, compiled: Compiled) -> None:
    """Free the Pyomo objects of the rows only HiGHS needs (:data:`siting.model.families.COMPILED_ONLY`:
    one per route or supply arc, the bulk of the model); nothing after the solve reads them."""
    m = sm.model
    # row positions of each freed family, in the order of its index (the rows of routes or arcs),
    # which is the order the compiler writes them in; freed rows become None in ``rows``
    freed: dict[str, list[int]] = {name: [] for name in COMPILED_ONLY}
    rows: list = []
    for n, row in enumerate(compiled.rows):
        name = row[0].parent_component().local_name
        if name in freed:
            freed[name].append(n)
            rows.append(None)
        else:
            rows.append(row)
    compiled.rows = rows
    compiled.freed = {name: np.array(at, dtype=np.int64) for name, at in freed.items()}
    for name in COMPILED_ONLY:
        if hasattr(m, name):
            m.del_component(getattr(m, name))


def _release_memory() -> None:
    """Hand the compiler's freed temporaries back to the operating system before HiGHS allocates
    its own copy of the model, which lowers the peak memory of a solve (Linux only; on capa it
    returns 35 MB in 3 ms, where a full garbage collection would add 0.4 s and free nothing more)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def solve_model(sm: SitingModel, options: SolverOptions, start: np.ndarray | None = None,
                engine: str = "ef") -> tuple[Outcome, Compiled | None]:
    """Compile and solve; return the outcome and the compiled model (for duals and re-solves).

    ``start`` is a solution of a model with the same columns (a neighbouring sweep case), given to
    HiGHS as a starting incumbent; HiGHS checks it and ignores it if it is not feasible here.
    ``engine`` "benders" solves the same compiled matrices by Benders decomposition
    (:func:`siting.benders.solve_benders`) instead of handing them to HiGHS whole; the outcome
    is the same kind (status, objective, proven bound, gap, a value for every column).
    """
    t0 = time.perf_counter()
    try:
        compiled = compile_model(sm)
    except InfeasibleConstraintException as exc:
        return Outcome(status=Status.INFEASIBLE, termination=f"trivially infeasible: {exc}",
                       times={"compile": time.perf_counter() - t0, "solve": 0.0},
                       options=options.highs_options()), None
    _drop_compiled_only(sm, compiled)
    _release_memory()
    t1 = time.perf_counter()
    if engine == "benders":
        from siting.benders import solve_benders  # imports this module: loaded on first use

        outcome = solve_benders(sm, compiled, options)
    else:
        outcome = solve_compiled(compiled, options, start)
    return replace(outcome, times={**outcome.times, "compile": t1 - t0}), compiled


#: Numerics warnings already logged by this process.
_SAID: set[str] = set()


def solve_compiled(compiled: Compiled, options: SolverOptions, start: np.ndarray | None = None) -> Outcome:
    """Solve a compiled model with HiGHS (a fresh HiGHS object, so a solve never depends on the last).

    A sweep that patches the compiled arrays of its base case in place of building each case
    comes here too, so that every case is solved the same way.
    """
    t1 = time.perf_counter()
    h = make_highs(compiled, options)
    if start is not None and len(start) == len(compiled.columns):
        given = highspy.HighsSolution()
        given.col_value = list(map(float, start))
        given.value_valid = True
        h.setSolution(given)
    numerics = numerics_report(compiled)
    for line in numerics:
        # said before HiGHS starts, so a planner need not wait for a long solve; once per process,
        # not again for every case of a sweep or every re-solve of the same model
        if line not in _SAID:
            _SAID.add(line)
            log.warning("numerics: %s", line)
    # Ctrl-C cancels the solve and returns the incumbent (status "feasible", with its gap) instead
    # of losing the work done so far.
    h.HandleKeyboardInterrupt = True
    h.solve()
    t2 = time.perf_counter()
    outcome = _outcome(h, compiled, options, times={"compile": 0.0, "solve": t2 - t1}, numerics=numerics)
    if outcome.status == Status.FEASIBLE and h.getModelStatus() != highspy.HighsModelStatus.kInterrupt:
        outcome = settle_continuous(compiled, options, outcome)
    return outcome


def settle_continuous(compiled: Compiled, options: SolverOptions, outcome: Outcome) -> Outcome:
    """The incumbent of a MIP stopped early with its continuous decisions made optimal for its plan.

    HiGHS's incumbent at a time limit is optimal in its integer decisions only as far as the search
    went, and its continuous ones need not be optimal for those integers either: with CVaR in the
    objective its threshold eta can sit off the value-at-risk of the plan's own scenario costs, so
    the objective overstates the plan's risk-weighted cost (still an upper bound, but not the plan's
    cost, which the check against the raw tables recomputes). The LP with the integer decisions held
    at the incumbent's gives the plan's own cost; it replaces the incumbent where it is lower, and
    the gap is recomputed against the same proven bound.
    """
    if outcome.values is None or not compiled.integer.any():
        return outcome
    lp = compiled.lp
    relaxed = fixed_integers(compiled, outcome.values)
    rounded = relaxed.lp["lower"][compiled.integer]
    t0 = time.perf_counter()
    h = make_highs(relaxed, options, with_integrality=False)
    h.run()
    spent = time.perf_counter() - t0
    times = {**outcome.times, "solve": outcome.times.get("solve", 0.0) + spent}
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return replace(outcome, times=times)
    scale = objective_scale(lp["cost"])
    objective = float(h.getInfo().objective_function_value) / scale
    if outcome.objective is None or objective >= outcome.objective:
        return replace(outcome, times=times)
    values = np.asarray(h.getSolution().col_value, dtype=float)
    values[compiled.integer] = rounded
    gap = outcome.mip_gap
    if outcome.best_bound is not None:
        gap = abs(objective - outcome.best_bound) / max(1.0, abs(objective))
    return replace(outcome, objective=objective, values=values, mip_gap=gap, times=times)


def _outcome(h: highspy.Highs, compiled: Compiled, options: SolverOptions, times: dict, numerics: list) -> Outcome:
    ms = h.getModelStatus()
    text = h.modelStatusToString(ms)
    info = h.getInfo()
    has_int = bool(compiled.integer.any())
    feasible = info.primal_solution_status == 2
    S = highspy.HighsModelStatus
    scale = objective_scale(compiled.lp["cost"])
    values = np.asarray(h.getSolution().col_value, dtype=float) if feasible else None
    obj = float(info.objective_function_value) / scale if feasible else None
    if has_int:
        bound = float(info.mip_dual_bound) / scale if np.isfinite(info.mip_dual_bound) else None
        gap = float(info.mip_gap) if feasible and np.isfinite(info.mip_gap) else None
    else:
        bound, gap = (obj, 0.0) if ms == S.kOptimal else (None, None)
    if ms in (S.kOptimal, S.kModelEmpty):
        status = Status.OPTIMAL
        if ms == S.kModelEmpty:
            values, obj, bound, gap = np.zeros(len(compiled.columns)), compiled.offset, compiled.offset, 0.0
    elif ms == S.kInfeasible:
        status = Status.INFEASIBLE
    elif ms == S.kUnbounded:
        status = Status.UNBOUNDED
    elif ms == S.kUnboundedOrInfeasible:
        # every cost coefficient that can fall without limit is bounded (payouts by their grant
        # terms, flows by capacities), so the objective is bounded below: this is infeasibility
        status = Status.INFEASIBLE
    elif feasible:
        # stopped early for any reason (time, iteration, solution or memory limit, an interrupt):
        # the incumbent is a plan, reported with its gap and bound
        status = Status.FEASIBLE
    elif ms in (S.kTimeLimit, S.kIterationLimit, S.kSolutionLimit, S.kInterrupt, S.kMemoryLimit,
                S.kObjectiveBound, S.kObjectiveTarget) or ms == getattr(S, "kHighsInterrupt", None):
        status = Status.NO_SOLUTION
    else:
        status = Status.ERROR
    if not status.solved:
        values, obj, gap = None, None, None
    if ms == S.kInterrupt:
        text = "Interrupted by the user (Ctrl-C)"
    return Outcome(status=status, termination=text, objective=obj, best_bound=bound, mip_gap=gap,
                   values=values, options=options.highs_options(), times=times, numerics=numerics,
                   nodes=int(info.mip_node_count) if has_int else None)


@dataclass
class Probe:
    """One limit of the fixed-integer LP moved by one unit each way, for :func:`fixed_lp_rates`.

    Attributes
    ----------
    row
        Compiled row of the limit.
    step
        How far one unit loosens the row's finite bound (its upper bound rises, or its lower bound
        falls, by ``step``); 0 when the unit moves coefficients instead.
    coefs
        (column, change) pairs added to the row's coefficients for one unit more (subtracted for
        one unit less); empty when the unit moves the bound.
    """

    row: int
    step: float = 0.0
    coefs: tuple = ()


def fixed_integers(compiled: Compiled, values: np.ndarray) -> Compiled:
    """The compiled model as an LP with every integer decision held at its rounded value in ``values``."""
    lp = compiled.lp
    fixed = dict(lp, lower=lp["lower"].copy(), upper=lp["upper"].copy())
    rounded = np.round(values[compiled.integer])
    fixed["lower"][compiled.integer] = rounded
    fixed["upper"][compiled.integer] = rounded
    return Compiled(columns=compiled.columns, rows=compiled.rows, lp=fixed,
                    integer=np.zeros_like(compiled.integer), offset=compiled.offset)


def fixed_lp_rates(compiled: Compiled, values: np.ndarray, options: SolverOptions,
                   probes: list[Probe], implied: Any = ()) -> np.ndarray | None:
    """What one unit more and one unit less of each probed limit changes in the optimal cost.

    The LP is the model with every integer decision fixed at its value in ``values`` (sites,
    modules, qualifications and take-ups held as chosen). Each probe is solved twice more, with
    the limit one unit looser and one unit tighter, from the optimal basis of the unchanged LP.
    The differences of optimal values are properties of the LP, not of the basis HiGHS happens
    to return: a degenerate LP has many duals (any of them a valid "shadow price"), but only one
    optimal value for each right-hand side. Where the one-sided rates differ, the limit sits at
    a kink of the cost curve and a single dual cannot describe it.

    ``implied`` are rows that the other rows imply once the integer decisions are fixed (the
    bounds a supplier's capacity or a module's size lend to ``qualification_link`` and
    ``route_link``); they are dropped from this LP, since otherwise they would hold a flow at the
    old limit when the limit itself moves.

    Returns
    -------
    numpy.ndarray or None
        One row per probe: (cost with one unit more - cost, cost with one unit less - cost), in
        the money unit per year; NaN where that change leaves the LP without a solution. None if
        the fixed LP itself has no optimal solution.
    """
    lp = compiled.lp
    relaxed = fixed_integers(compiled, values)
    fixed = relaxed.lp
    implied = np.asarray(implied, dtype=np.int64)
    if implied.size:
        fixed["row_lower"], fixed["row_upper"] = lp["row_lower"].copy(), lp["row_upper"].copy()
        fixed["row_lower"][implied], fixed["row_upper"][implied] = -np.inf, np.inf
    h = make_highs(relaxed, options, with_integrality=False)
    scale = objective_scale(fixed["cost"])
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        log.warning("fixed LP for marginal values ended %s", h.modelStatusToString(h.getModelStatus()))
        return None
    base = h.getInfo().objective_function_value
    basis = h.getBasis()
    activity = np.asarray(h.getSolution().row_value, dtype=float)
    out = np.full((len(probes), 2), np.nan)
    lo_all, up_all = fixed["row_lower"], fixed["row_upper"]
    for n, probe in enumerate(probes):
        lo, up = float(lo_all[probe.row]), float(up_all[probe.row])
        if probe.step and not probe.coefs:
            slack = min(up - activity[probe.row], activity[probe.row] - lo)
            if slack > probe.step + options.primal_feasibility_tolerance:
                # a limit with more than a unit of room either way: the optimum stays feasible
                # when it tightens by a unit and stays optimal when it loosens (an LP optimum
                # is not moved by a constraint it does not touch), so both rates are 0
                out[n] = 0.0
                continue
        for side, sign in ((0, 1.0), (1, -1.0)):
            if probe.step:
                # loosen the finite side of the row by one unit (``sign`` 1), or tighten it
                new_lo = lo - sign * probe.step if np.isfinite(lo) and not np.isfinite(up) else lo
                new_up = up + sign * probe.step if np.isfinite(up) else up
                h.changeRowBounds(probe.row, new_lo, new_up)
            for col, change in probe.coefs:
                h.changeCoeff(probe.row, col, _coef(relaxed, probe.row, col) + sign * change)
            h.setBasis(basis)
            h.run()
            if h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
                out[n, side] = (h.getInfo().objective_function_value - base) / scale
            if probe.step:
                h.changeRowBounds(probe.row, lo, up)
            for col, _ in probe.coefs:
                h.changeCoeff(probe.row, col, _coef(relaxed, probe.row, col))
    return out


def _coef(compiled: Compiled, row: int, col: int) -> float:
    """The coefficient of ``col`` in ``row`` of the compiled matrix (0 if there is none)."""
    lp = compiled.lp
    span = slice(lp["start"][col], lp["start"][col + 1])
    hit = np.flatnonzero(lp["index"][span] == row)
    return float(lp["value"][span][hit[0]]) if hit.size else 0.0


def set_values(sm: SitingModel, compiled: Compiled, values: np.ndarray) -> None:
    """Write a solution into the Pyomo variables (columns HiGHS never saw are set to 0)."""
    m = sm.model
    for var in m.component_data_objects(pyo.Var, descend_into=True):
        var.set_value(0, skip_validation=True)
    for var, x in zip(compiled.columns, values):
        var.set_value(float(x), skip_validation=True)


def solve_small(cost: np.ndarray, rows: np.ndarray, row_lower: np.ndarray, row_upper: np.ndarray,
                lower: np.ndarray, upper: np.ndarray, integer: np.ndarray | None, options: SolverOptions,
                maximise: bool = False) -> tuple[str, np.ndarray | None, float | None]:
    """Solve a small dense LP or MIP given as arrays (the analyses' own side problems: the offer
    problem of ``induce``, the knapsack of ``programme``), with the profile's options.

    Parameters
    ----------
    cost, lower, upper
        Objective coefficients and column bounds (``np.inf`` for none).
    rows, row_lower, row_upper
        Dense constraint matrix (rows x columns) and row bounds.
    integer
        Boolean mask of integer columns (None: an LP).

    Returns
    -------
    tuple
        HiGHS's model status as text, the column values (None without a solution) and the objective.
    """
    h = new_highs()
    h.setOptionValue("output_flag", False)
    for k, v in options.highs_options().items():
        h.setOptionValue(k, v)
    n = len(cost)
    rows = np.asarray(rows, dtype=float).reshape(-1, n) if n else np.zeros((0, 0))
    import scipy.sparse  # only the small programme and offer problems need it

    csc = scipy.sparse.csc_matrix(rows)
    integrality = (np.asarray(integer, dtype=np.int32) if integer is not None else np.zeros(n, dtype=np.int32))
    sense = highspy.ObjSense.kMaximize if maximise else highspy.ObjSense.kMinimize
    status = h.passModel(n, rows.shape[0], int(csc.nnz), int(highspy.MatrixFormat.kColwise), int(sense), 0.0,
                         np.asarray(cost, float), np.asarray(lower, float), np.asarray(upper, float),
                         np.asarray(row_lower, float), np.asarray(row_upper, float),
                         csc.indptr.astype(np.int32), csc.indices.astype(np.int32), csc.data, integrality)
    if status == highspy.HighsStatus.kError:
        raise SolverError(Problem("HiGHS", "rejected a side problem (passModel failed)",
                                  "report this instance with the output of --debug"))
    h.run()
    model_status = h.getModelStatus()
    text = h.modelStatusToString(model_status)
    if model_status != highspy.HighsModelStatus.kOptimal:
        return text, None, None
    return text, np.array(h.getSolution().col_value), float(h.getInfo().objective_function_value)
