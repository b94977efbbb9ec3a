"""What the stochastic model is worth: the value of the stochastic solution and of perfect information.

Both are a few more cases through the one pipeline (:func:`siting.run.run_case`), with the
scenario multipliers replaced (:class:`~siting.instance.scenarios.ScenarioFactors`) or the first
stage held fixed:

- VSS = EEV - RP: RP is the stochastic optimum; EEV is the plan of the expected-value problem
  (one scenario holding the probability-weighted mean of every multiplier) evaluated across the
  scenarios with the same objective (its sites, modules, qualifications held, the second stage
  re-optimised in every scenario). Two solves.
- EVPI = RP - WS: WS is the probability-weighted mean of the wait-and-see optima, each scenario
  solved alone as if it were certain. One solve per scenario.

Both are >= 0 up to the solver's gap tolerance: the EV plan is one feasible first stage of the
stochastic problem, and knowing the scenario can only lower the cost (CVaR >= E keeps this true
for a risk weight above zero).
"""

from __future__ import annotations

import time

import numpy as np

from siting.report.extract import open_sites
from siting.run import Run, first_stage_of, run_case


def risk_report(source, options, sets, run: Run) -> dict:
    """VSS and EVPI of a solved stochastic run, each with the solves it took.

    Parameters
    ----------
    source
        The instance (folder or raw instance) ``run`` was solved from.
    options
        Solver options, the same as the run's.
    sets
        The run's ``--set`` overrides.
    run
        The solved stochastic run (RP).

    Returns
    -------
    dict
        ``{"vss": {...}, "evpi": {...}}`` with ``value`` (money per year, None where undefined),
        the objectives that make it up, ``solves`` and ``seconds``; a ``note`` says why a value is
        missing.
    """
    rp = run.outcome.objective
    factors = run.data.factors
    t0 = time.perf_counter()
    vss: dict = {"stochastic": rp, "solves": 1}
    ev = run_case(source, options, sets, duals=False, factors=factors.expected())
    if not ev.outcome.has_solution:
        vss.update(value=None, note=f"the expected-value problem is {ev.outcome.status}")
    else:
        vss.update(expected_value_problem=ev.outcome.objective,
                   expected_value_plan=[s for s, _ in open_sites(ev.results)])
        eev = run_case(source, options, sets, duals=False, first_stage=first_stage_of(ev))
        vss["solves"] = 2
        if eev.outcome.has_solution:
            vss.update(value=eev.outcome.objective - rp, expected_value_plan_cost=eev.outcome.objective,
                       gap=max(eev.outcome.mip_gap or 0.0, run.outcome.mip_gap or 0.0))
        else:
            vss.update(value=None, note=f"the expected-value plan cannot operate in every scenario "
                                        f"({eev.outcome.status}): the value of the stochastic solution is unbounded")
    vss["seconds"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    by_scenario: dict = {}
    missing = []
    for w in factors.ids:
        ws = run_case(source, options, sets, duals=False, factors=factors.only(w))
        if ws.outcome.has_solution:
            by_scenario[w] = ws.outcome.objective
        else:
            missing.append(f"{w} ({ws.outcome.status})")
    evpi: dict = {"stochastic": rp, "wait_and_see_by_scenario": by_scenario, "solves": len(factors.ids)}
    if missing:
        evpi.update(value=None, note="no plan when scenario " + ", ".join(missing) + " is certain")
    else:
        ws_mean = float(np.dot(factors.probability, [by_scenario[w] for w in factors.ids]))
        evpi.update(value=rp - ws_mean, wait_and_see=ws_mean)
    evpi["seconds"] = time.perf_counter() - t1
    return {"vss": vss, "evpi": evpi}
