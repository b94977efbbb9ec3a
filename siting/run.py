"""One case through the pipeline: read -> override -> check -> derive -> build -> solve -> extract.

Every command (solve, and the analyses built on it) runs cases through :func:`run_case`; there is
no second pipeline.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyomo.core as pyo
from pyomo.common.errors import InfeasibleConstraintException

from siting.instance.cache import TypingCache
from siting.instance.check import check_instance
from siting.instance.checked import Instance
from siting.instance.derive import Derived, derive
from siting.instance.overrides import apply_overrides
from siting.instance.read import RawInstance, read_instance
from siting.instance.scenarios import ScenarioFactors
from siting.instance.screens import screen
from siting.model.build import SitingModel, build_model
from siting.outcome import Outcome, Status
from siting.report.extract import Results, extract
from siting.report.marginal import marginal_values
from siting.report.verify import verify
from siting.solve import (
    Compiled,
    SolverOptions,
    compile_model,
    numerics_report,
    set_values,
    solve_compiled,
    solve_model,
)

log = logging.getLogger(__name__)


@dataclass
class Run:
    """Everything one case produced.

    Attributes
    ----------
    instance
        The checked instance (after overrides).
    outcome
        The solver's outcome: status, objective, bound, gap.
    results
        Tables of the solution (None without a solution).
    shadow
        Marginal values of local-share, capacity and supplier-capacity limits: one unit more and
        one unit less, from re-solves of the fixed-integer LP (:mod:`siting.report.marginal`).
    screens
        Findings of the pre-solve screens (:mod:`siting.instance.screens`); with an
        "infeasible" finding no model is built (``model`` is None).
    violations
        Rules the solution breaks when checked against the raw data (should be empty).
    times
        Seconds for load, build, solve, extract, total.
    diagnosis
        For an infeasible run, the rules that must give and by how much: the blocking screen
        findings, or those of the elastic re-solve (:func:`siting.diagnose.diagnose`).
    compiled
        The compiled model of a run without a solution, kept for the elastic re-solve.
    risk_report
        The value of the stochastic solution and of perfect information with the solves they
        took (``--risk-report``, :func:`siting.analysis.risk.risk_report`).
    decomposition
        Progressive hedging's figures when the plan came from ``--engine mpisppy``.
    confidence
        The confidence interval on the plan's optimality gap for a sampled scenario set
        (``--confidence M``, :func:`siting.analysis.confidence.gap_interval`).
    runner_up
        The cheapest plan with other open sites and what would flip to it, when ``siting solve``
        looked for it (:func:`siting.analysis.alternatives.runner_up`); read by the headline.
    """

    instance: Instance
    data: Derived
    model: SitingModel | None
    outcome: Outcome
    options: SolverOptions
    screens: list = field(default_factory=list)
    results: Results | None = None
    shadow: pd.DataFrame | None = None
    violations: list[str] = field(default_factory=list)
    times: dict = field(default_factory=dict)
    diagnosis: list = field(default_factory=list)
    compiled: Compiled | None = None
    risk_report: dict = field(default_factory=dict)
    decomposition: dict = field(default_factory=dict)
    confidence: dict = field(default_factory=dict)
    runner_up: dict = field(default_factory=dict)


def load_case(source: str | Path | RawInstance, sets: list[str] | tuple[str, ...] = (),
              cache: TypingCache | None = None) -> Instance:
    """Read (unless given a raw instance), apply ``--set`` overrides and check."""
    raw = source if isinstance(source, RawInstance) else read_instance(source)
    return check_instance(apply_overrides(raw, list(sets)), cache)


def run_case(source: str | Path | RawInstance, options: SolverOptions, sets: Any = (), duals: bool = True,
             cache: TypingCache | None = None, start: np.ndarray | None = None, factors: ScenarioFactors | None = None,
             first_stage: dict | None = None, keep_compiled: bool = False, engine: str = "ef") -> Run:
    """Solve one case and extract its results.

    Parameters
    ----------
    source
        Instance folder, YAML, workbook, or an already-read raw instance.
    options
        Solver options (from a profile and flags).
    sets
        ``PATH=VALUE`` overrides.
    duals
        Whether to re-solve the fixed-integer LP for marginal values (shadow prices).
    cache
        Typed tables to reuse across many cases of one instance (sweeps).
    start
        Column values of a solved neighbouring case, offered to HiGHS as a first incumbent.
    factors
        Scenario multipliers replacing the instance's own (the expected-value and wait-and-see
        problems of the risk report).
    first_stage
        Integer decisions to hold fixed, as returned by :func:`first_stage_of` (a plan evaluated
        across the scenarios).
    keep_compiled
        Keep the compiled model in ``run.compiled`` after a solve with a solution too, so that an
        analysis can re-solve it with changed bounds or added rows (:func:`resolve`).
    engine
        "ef" hands the extensive form to HiGHS whole; "benders" solves it by Benders
        decomposition (:mod:`siting.benders`); extract, verify and duals are the same.

    Raises
    ------
    InputError
        If the instance or an override is invalid (nothing is built then).
    """
    t0 = time.perf_counter()
    inst = load_case(source, sets, cache)
    t1 = time.perf_counter()
    data = derive(inst, factors)
    inst = data.instance  # in one currency, as the model sees it: what the solution is checked against
    findings = screen(data)
    blocking = [f for f in findings if f.kind == "infeasible"]
    if blocking:
        # arithmetic on the data already shows that no plan exists: say so without a MIP
        t2 = time.perf_counter()
        outcome = Outcome(status=Status.INFEASIBLE, termination="pre-solve screen: " + "; ".join(
            f.message for f in blocking), options=options.highs_options(), times={"compile": 0.0, "solve": 0.0})
        run = Run(instance=inst, data=data, model=None, outcome=outcome, options=options, screens=findings,
                  diagnosis=blocking)
        run.times = {"load": t1 - t0, "build": t2 - t1, "solve": 0.0, "extract": 0.0, "total": t2 - t0}
        return run
    sm = build_model(data)
    if first_stage is not None:
        fix_first_stage(sm, first_stage)
    t2 = time.perf_counter()
    outcome, compiled = solve_model(sm, options, start, engine=engine)
    t3 = time.perf_counter()
    run = Run(instance=inst, data=data, model=sm, outcome=outcome, options=options, screens=findings)
    if outcome.values is not None and compiled is not None:  # a solution
        set_values(sm, compiled, outcome.values)
        run.results = extract(sm, sm.costs.values())
        run.violations = verify(inst, run.results, outcome.objective)
        if duals:
            attach_duals(run, compiled)
    if outcome.status is Status.INFEASIBLE or keep_compiled:
        run.compiled = compiled
    t4 = time.perf_counter()
    run.times = {
        "load": t1 - t0,
        "build": (t2 - t1) + outcome.times.get("compile", 0.0),
        "solve": outcome.times.get("solve", 0.0),
        "extract": t4 - t3,
        "total": t4 - t0,
    }
    for line in run.violations:
        log.warning("solution check: %s", line)
    return run


def attach_duals(run: Run, compiled: Compiled) -> None:
    """Give a solved run its marginal values (the fixed-integer LP of its plan), from its compiled model."""
    assert run.results is not None and run.outcome.values is not None, "a run with a solution"
    run.shadow = marginal_values(run.model, compiled, run.outcome.values, run.options, run.results.solution)


@dataclass(frozen=True)
class Built:
    """A case's model built and compiled to matrices, not solved (``siting validate``).

    Attributes
    ----------
    model
        The Pyomo model.
    compiled
        Its matrices; None when compiling already proved that no plan exists.
    infeasible
        Why no plan exists, when compiling proved it (a row with no variable left that cannot hold).
    numerics
        The coefficient ranges HiGHS may struggle with (:func:`siting.solve.numerics_report`).
    seconds
        Build and compile time.
    """

    model: SitingModel
    compiled: Compiled | None
    infeasible: str | None
    numerics: tuple[str, ...]
    seconds: float

    def sizes(self) -> dict:
        """Columns, integer columns, rows and nonzeros of the compiled model (empty without one)."""
        c = self.compiled
        if c is None:
            return {}
        return {"columns": len(c.lp["cost"]), "integer_columns": int(c.integer.sum()), "rows": int(c.lp["num_row"]),
                "nonzeros": len(c.lp["value"])}


def build_case(data: Derived) -> Built:
    """Build the model of derived data and compile it as a solve would, without solving.

    The same steps as :func:`run_case` between the screens and HiGHS, so a case that builds here
    reaches HiGHS in a solve.
    """
    t0 = time.perf_counter()
    sm = build_model(data)
    try:
        compiled = compile_model(sm)
    except InfeasibleConstraintException as exc:
        return Built(sm, None, f"trivially infeasible: {exc}", (), time.perf_counter() - t0)
    return Built(sm, compiled, None, tuple(numerics_report(compiled)), time.perf_counter() - t0)


def first_stage_of(run: Run) -> dict:
    """The integer decisions of a solved run (sites, modules, qualifications, and any other
    first-stage choice): variable name -> {index: value}. Second-stage decisions are continuous,
    so the integer ones are exactly the plan made before a scenario is known."""
    out: dict = {}
    assert run.model is not None, "a run through the pipeline keeps its model"
    for var in run.model.model.component_objects(pyo.Var, descend_into=True):
        for idx, v in var.items():
            if v.is_integer() or v.is_binary():
                out.setdefault(var.local_name, {})[idx] = round(v.value or 0.0)
    return out


def fix_first_stage(sm: SitingModel, plan: dict) -> None:
    """Hold every decision of ``plan`` at its value (as equal bounds, so the column stays in the matrix)."""
    m = sm.model
    for name, values in plan.items():
        var = getattr(m, name)
        for idx, value in values.items():
            var[idx].setlb(value)
            var[idx].setub(value)


def resolve(base: Run, compiled: Compiled, options: SolverOptions, start: np.ndarray | None = None) -> Run:
    """Solve a variant of ``base``'s compiled model and extract its results like :func:`run_case`.

    The variant (``compiled``) has ``base.compiled``'s columns first, in the same order, and may
    have changed bounds (a plan held fixed) or rows and columns added after them (cuts that exclude
    plans already found); the extra columns are not read back. No Pyomo model is built again:
    this is the re-solve of one case, the instance, data and model being ``base``'s. Duals are
    not computed.
    """
    t0 = time.perf_counter()
    assert base.compiled is not None and base.model is not None, "resolve needs run_case(keep_compiled=True)"
    outcome = solve_compiled(compiled, options, start)
    if outcome.values is not None:  # the columns of ``base``'s model, without any added after them
        outcome = replace(outcome, values=outcome.values[:len(base.compiled.columns)])
    t1 = time.perf_counter()
    sm = base.model
    run = Run(instance=base.instance, data=base.data, model=sm, outcome=outcome, options=options,
              screens=base.screens)
    if outcome.values is not None:
        set_values(sm, base.compiled, outcome.values)
        run.results = extract(sm, sm.costs.values())
        run.violations = verify(base.instance, run.results, outcome.objective)
    t2 = time.perf_counter()
    run.times = {"load": 0.0, "build": 0.0, "solve": t1 - t0, "extract": t2 - t1, "total": t2 - t0}
    for line in run.violations:
        log.warning("solution check: %s", line)
    return run
