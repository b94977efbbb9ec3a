"""Name the rule family most likely behind an infeasible model.

The model is re-solved with one family of business rules switched off at a time; a family whose
removal makes the model feasible is a likely cause. This is a first answer in the planner's terms;
it does not say by how much a rule must give.
"""

from __future__ import annotations

from siting.solve import SolverOptions, solve_model

#: Rule families that can be switched off, with the words a planner knows them by.
FAMILIES = (
    (("local_share",), "local-procurement targets"),
    (("supplier_capacity",), "supplier capacities"),
    (("supplier_share",), "the largest share per supplier (diversification)"),
    (("min_suppliers",), "the minimum number of qualified suppliers"),
    (("concentration",), "the concentration limits"),
    (("firm_budget",), "the firm's capex budget"),
    (("demand_balance", "demand_cover"), "demand that must be met in full (no unmet-demand penalty)"),
)


def likely_causes(run, options: SolverOptions, time_limit: float = 20.0) -> str:
    """Return a sentence naming the families whose removal makes the model feasible."""
    m = run.model.model
    quick = options.model_copy(update={"time_limit": time_limit})
    causes = []
    # Without its demand rows any plan is feasible (build nothing), so demand is named only when
    # no business rule alone explains the infeasibility.
    for names, words in FAMILIES:
        if names[0] == "demand_balance" and causes:
            break
        comps = [getattr(m, n) for n in names if hasattr(m, n)]
        comps = [c for c in comps if len(c) > 0 and c.active]
        if not comps:
            continue
        for c in comps:
            c.deactivate()
        try:
            outcome, _ = solve_model(run.model, quick)
        finally:
            for c in comps:
                c.activate()
        if outcome.status in ("optimal", "feasible"):
            causes.append(words)
    if not causes:
        return "no single rule family explains it: several rules conflict"
    return "likely cause: " + "; or ".join(causes) + " (the model is feasible without it)"
