"""A confidence interval on the optimality gap of a plan solved on a sampled scenario set.

A plan found on one sample of the hazards (``--scenarios N --sample-seed K``) is optimal for that
sample, not for the hazards themselves. The multiple-replication procedure (Mak, Morton and Wood,
Operations Research Letters 24, 1999) bounds how far from optimal it may be: draw M independent
samples of the same size, each from its own seed; in each, solve the sample's own problem (its
best bound v_k, a lower bound on that sample's optimum) and evaluate the plan with its first stage
held (f_k). The gaps G_k = f_k - v_k are independent and, in expectation, at least the plan's true
optimality gap, so

    [0, mean(G) + t_{M-1, level} sd(G) / sqrt(M)]

is a one-sided confidence interval at ``level`` on the gap (in the objective's unit, money per
year). Every solve is a case through the one pipeline (:func:`siting.run.run_case`): 2 M solves.
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np
from scipy.stats import t as student_t

from siting.errors import InputError, Problem
from siting.run import Run, first_stage_of, run_case

log = logging.getLogger(__name__)


def replication_seeds(seed: int, replications: int) -> list[int]:
    """Seeds of the M replications: independent of the run's own sample (numpy's SeedSequence
    spawned from it), the same for the same seed."""
    children = np.random.SeedSequence(seed).spawn(replications)
    return [int(c.generate_state(1, dtype=np.uint32)[0]) for c in children]


def gap_interval(source, options, sets, run: Run, replications: int, level: float = 0.95) -> dict:
    """The confidence interval on the optimality gap of ``run``'s plan.

    Parameters
    ----------
    source
        The instance (folder or raw instance) ``run`` was solved from.
    options
        Solver options, the same as the run's.
    sets
        The run's ``--set`` overrides (with its scenario sample).
    run
        The solved run on a sampled scenario set.
    replications
        M, the number of independent samples (at least 2).
    level
        The confidence level of the one-sided interval.

    Returns
    -------
    dict
        ``replications``, ``level``, ``draws`` (N), ``seeds``, ``gaps`` (G_k), ``gap_mean``,
        ``gap_sd``, ``gap_upper`` (the interval is [0, gap_upper], money per year),
        ``relative_upper`` (gap_upper over the run's objective), ``solves``, ``seconds``; with a
        ``note`` and ``gap_upper`` None when a replication had no proven bound or the plan no
        feasible second stage.

    Raises
    ------
    InputError
        If the run's scenarios are not a sample of hazards.
    """
    st = run.instance.settings
    if run.instance["hazards"].empty or st.scenario_sample is None:
        raise InputError(Problem("--confidence", "needs a sampled scenario set",
                                 "give the instance a hazards table and sample it with --scenarios N"))
    t0 = time.perf_counter()
    plan = first_stage_of(run)
    seeds = replication_seeds(st.scenario_seed, replications)
    gaps: list[float] = []
    out: dict = {"replications": replications, "level": level, "draws": st.scenario_sample, "seeds": seeds,
                 "solves": 0}
    for k, seed in enumerate(seeds, start=1):
        case = [*sets, f"settings.scenario_seed={seed}"]
        own = run_case(source, options, case, duals=False)
        held = run_case(source, options, case, duals=False, first_stage=plan)
        out["solves"] += 2
        if own.outcome.best_bound is None or not held.outcome.has_solution:
            why = (f"replication {k} (seed {seed}): "
                   + (f"the sample's problem is {own.outcome.status}" if own.outcome.best_bound is None
                      else f"the plan is {held.outcome.status} on it"))
            out.update(gaps=gaps, gap_mean=None, gap_sd=None, gap_upper=None, relative_upper=None, note=why,
                       seconds=time.perf_counter() - t0)
            return out
        assert held.outcome.objective is not None  # a run with a solution has an objective
        gaps.append(max(held.outcome.objective - own.outcome.best_bound, 0.0))
        log.info("confidence interval: replication %d of %d, gap %.6g", k, replications, gaps[-1])
    g = np.array(gaps)
    sd = float(g.std(ddof=1)) if len(g) > 1 else 0.0
    upper = float(g.mean() + student_t.ppf(level, len(g) - 1) * sd / math.sqrt(len(g)))
    objective = run.outcome.objective
    out.update(gaps=gaps, gap_mean=float(g.mean()), gap_sd=sd, gap_upper=upper,
               relative_upper=upper / abs(objective) if objective else None, seconds=time.perf_counter() - t0)
    return out
