"""Risk over the scenarios: CVaR in the objective, and the risk measures a solve can cap or minimise.

CVaR is written the Rockafellar-Uryasev way (MODEL.md, objective):

    CVaR_beta(cost2) = min_eta  eta + 1/(1 - beta) sum_w pi[w] xi[w],
    xi[w] >= cost2[w] - eta,  xi[w] >= 0.

With weight lambda = ``settings.risk_weight`` the objective is (1 - lambda) E[cost2] + lambda
CVaR_beta(cost2) plus the first stage. The registry keeps every category at its expected value,
so the CVaR enters as one more category, ``risk`` = lambda (CVaR - E[cost2]), and the objective
is still the sum of the registry.

Variables
---------
var_at_risk
    eta, free: at the optimum, the value-at-risk of the second-stage cost at level beta.
tail_excess[w]
    xi[w] >= 0: how far scenario w's second-stage cost lies above eta.
worst_cost
    The largest total cost over the scenarios (only with ``risk_measure = worst``).
"""

from __future__ import annotations

import pyomo.core as pyo

from siting.model.linear import lin


def add_risk(sm):
    """Add the CVaR rows and the risk measure; return the measure as a Pyomo expression.

    - cvar_tail: xi[w] - cost2[w] + eta >= 0 for every scenario w (when CVaR is used).
    - risk premium: registers lambda (eta + 1/(1 - beta) sum_w pi xi - sum_w pi cost2[w]) as ``risk``.
    - worst_tail: worst >= first stage + cost2[w] (with ``risk_measure = worst``).
    - risk_limit (epsilon-constraint): measure <= ``settings.risk_limit``, where the measure is the
      CVaR of the total cost (first stage + CVaR of cost2), the expected unmet wafers, or the worst
      scenario's total cost.
    """
    m, d, reg = sm.model, sm.data, sm.costs
    st = d.instance.settings
    lam, beta = float(st.risk_weight), float(st.cvar_level)
    prob = reg.probability  # set by register_costs, which runs first
    ids = list(prob)
    uses_measure = st.risk_limit is not None or st.objective == "risk"
    second = {w: reg.second_stage(w) for w in ids}
    measure = None
    if lam > 0 or (uses_measure and st.risk_measure == "cvar"):
        m.SCENARIOS = pyo.Set(initialize=ids, ordered=True)
        m.var_at_risk = pyo.Var(domain=pyo.Reals)
        m.tail_excess = pyo.Var(m.SCENARIOS, domain=pyo.NonNegativeReals)
        m.cvar_tail = pyo.Constraint(
            m.SCENARIOS, rule=lambda _, w: m.tail_excess[w] - second[w] + m.var_at_risk >= 0)
        cvar2 = m.var_at_risk + lin([prob[w] / (1.0 - beta) for w in ids], [m.tail_excess[w] for w in ids])
        if lam > 0:
            expected2 = sum(prob[w] * second[w] for w in ids)
            reg.register("risk", lam * (cvar2 - expected2))
        measure = reg.first_stage() + cvar2
    if not uses_measure:
        return measure
    if st.risk_measure == "worst":
        m.SCENARIOS_WORST = pyo.Set(initialize=ids, ordered=True)
        m.worst_cost = pyo.Var(domain=pyo.Reals)
        first = reg.first_stage()
        m.worst_tail = pyo.Constraint(m.SCENARIOS_WORST, rule=lambda _, w: m.worst_cost - first - second[w] >= 0)
        measure = m.worst_cost
    elif st.risk_measure == "unmet":
        rows = list(m.UNMET)
        if not rows:  # all demand must be met: nothing is ever unmet
            return 0.0
        measure = lin([prob[d.demand.at[q, "scenario"]] for q in rows], [m.unmet[q] for q in rows])
    if st.risk_limit is not None:
        m.risk_limit = pyo.Constraint(expr=measure <= float(st.risk_limit))
    return measure
