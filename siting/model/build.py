"""Build the Pyomo model from derived tables.

:func:`build_model` reads as the table of contents of the reference formulation (MODEL.md): one
``add_<family>`` call per family of decisions and constraints, then the cost terms, the risk
measure and the objective, in the document's order (every family is listed in
:mod:`siting.model.families`). Large index sets are
integer ranges over the rows of the derived tables (routes, arcs, modules...), so that a
variable exists only for a combination that exists in the data, and so that the column and row
order of the compiled model is fixed by the data's order and stays stable from run to run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyomo.core as pyo
from pyomo.common.gc_manager import PauseGC

from siting.instance.derive import Derived
from siting.model.investment import add_investment
from siting.model.objective import CostRegistry, add_objective, register_costs
from siting.model.operations import add_operations
from siting.model.procurement import add_procurement
from siting.model.risk import add_risk
from siting.model.subsidies import add_subsidies


@dataclass
class SitingModel:
    """A built model with the data it was built from.

    Attributes
    ----------
    model
        The Pyomo model.
    data
        The derived tables; row ``k`` of ``data.routes`` is ``model.produce[k]``, and likewise for
        arcs (``purchase``), modules (``modules``), qualifications (``qualify``), demand rows
        (``unmet``) and instruments (``payout``).
    costs
        The registry of cost terms that both the objective and the cost breakdown read.
    row_scale
        Constraint name -> index -> factor a row was divided by (its duals are divided by it).
    capacity_rows
        Module row -> [(ordering module row, wafers a year per module)]: ``data.capacity`` by row.
    """

    model: pyo.ConcreteModel
    data: Derived
    costs: CostRegistry = field(default_factory=CostRegistry)
    row_scale: dict = field(default_factory=dict)
    capacity_rows: dict = field(default_factory=dict)


def build_model(data: Derived) -> SitingModel:
    """Build the deterministic-equivalent siting and sourcing model.

    Parameters
    ----------
    data
        Output of :func:`siting.instance.derive.derive`.
    """
    m = pyo.ConcreteModel(name=data.instance.name)
    sm = SitingModel(model=m, data=data)
    # Building creates millions of small objects; Python's cyclic garbage collector would scan
    # them over and over (it took 4/5 of the build time on capa), and none of them is garbage.
    with PauseGC():
        add_investment(sm)     # first stage z, n (build, build_early, modules); concentration (8), firm budget (11)
        add_operations(sm)     # second stage x, r (produce, unmet); demand (1), capacity (2)
        add_procurement(sm)    # v (qualify), q (purchase); inputs (3), supplier capacity (4), qualification (5),
        #                        local share (6), diversification (7); exclusions (9) are applied in the data
        add_subsidies(sm)      # sub[g] (payout, wafer_payout), e[g] (take); instruments, conditions, budgets (10)
        register_costs(sm)     # every family's annualised cost terms, in the one registry
        measure = add_risk(sm)  # CVaR (eta, xi) or the worst case, and a risk limit
        add_objective(sm, measure)  # the risk-weighted firm cost, or the risk measure alone
    return sm
