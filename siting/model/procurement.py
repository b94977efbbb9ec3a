"""Second-stage procurement and first-stage supplier qualification.

Variables
---------
qualify[q]
    1 if supplier u is qualified at site s (row q of ``data.qualifications``), v[u,s].
purchase[a]
    Units per year bought on arc a (row a of ``data.arcs``: supplier, input, site, period,
    scenario), q[u,s,i,w] in MODEL.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyomo.core as pyo

from siting.model.investment import opened, site_positions
from siting.model.linear import groups, lin

if TYPE_CHECKING:
    from siting.model.build import SitingModel


def add_procurement(sm: SitingModel) -> None:
    """Add purchases, qualification and the procurement rules.

    - output_balance: output[s,p,w] = sum_m x[s,m,p,w] (wafers made, for products with inputs).
    - input_balance (3): sum_u q[u,s,i,w] = sum_p a[p,i] output[s,p,w].
    - supplier_capacity (4): sum_s q[u,s,i,w] <= cap[u,i].
    - qualification_link (5): q[u,s,i,w] <= B[u,s,i] v[u,s], B = min(cap[u,i], most the site
      could use of i); qualify_site: v[u,s] <= z[s].
    - local_share (6): sum_{u local} c q >= tau sum_u c q over inputs that count, written as
      sum_u (local[u] - tau) c[u,i,w] q[u,s,i,w] >= 0, in the scenarios the targets bind in.
    - supplier_share and min_suppliers (7).
    """
    m, d = sm.model, sm.data
    arcs, quals = d.arcs, d.qualifications
    m.ARCS = pyo.RangeSet(0, len(arcs) - 1) if len(arcs) else pyo.Set(initialize=[])
    m.QUALIFICATIONS = pyo.RangeSet(0, len(quals) - 1) if len(quals) else pyo.Set(initialize=[])
    m.qualify = pyo.Var(m.QUALIFICATIONS, domain=pyo.Binary)
    m.purchase = pyo.Var(m.ARCS, domain=pyo.NonNegativeReals)

    # output[k,w]: wafers made of module row k's (site, product) in scenario w. Summing each
    # site's routes once here, instead of inside every input balance, keeps the matrix small:
    # on 100 sites x 1000 markets x 20 inputs it removes four million nonzeros.
    by_need = groups(arcs[["site", "input", "period", "scenario"]])
    uses: dict = {}
    for p, i, a in d.bom[["product", "input", "units_per_wafer"]].itertuples(index=False):
        uses.setdefault(p, []).append((i, a))
    routes = d.routes
    has_inputs = routes["product"].isin(list(uses)).values
    by_output = groups(routes.loc[has_inputs, ["module", "scenario"]].reset_index(drop=True))
    positions = np.flatnonzero(has_inputs)
    m.OUTPUTS = pyo.Set(initialize=list(by_output), dimen=2, ordered=True)
    m.output = pyo.Var(m.OUTPUTS, domain=pyo.NonNegativeReals)
    m.output_balance = pyo.Constraint(
        m.OUTPUTS, rule=lambda _, k, w: lin([1.0] + [-1.0] * len(by_output[k, w]),
                                            [m.output[k, w]] + [m.produce[r] for r in positions[by_output[k, w]]]) == 0)
    made: dict = {}
    for (k, w) in by_output:
        s, p, t = d.modules.at[k, "site"], d.modules.at[k, "product"], d.modules.at[k, "period"]
        for i, a in uses[p]:
            made.setdefault((s, i, t, w), []).append((a, (k, w)))
    keys = list(d.needs[["site", "input", "period", "scenario"]].itertuples(index=False, name=None))
    m.NEEDS = pyo.Set(initialize=keys, dimen=4, ordered=True)

    def input_balance(_: Any, s: str, i: str, t: str, w: str) -> Any:
        buy = by_need.get((s, i, t, w), [])
        use = made.get((s, i, t, w), [])
        if not buy and not use:
            return pyo.Constraint.Skip
        return lin([1.0] * len(buy) + [-a for a, _ in use],
                   [m.purchase[a] for a in buy] + [m.output[kw] for _, kw in use]) == 0

    m.input_balance = pyo.Constraint(m.NEEDS, rule=input_balance)

    by_offer = groups(arcs[["offer", "scenario"]])
    cap = d.offers["capacity"].tolist()
    m.SUPPLY = pyo.Set(initialize=list(by_offer), dimen=2, ordered=True)
    m.supplier_capacity = pyo.Constraint(
        m.SUPPLY, rule=lambda _, o, w: lin([1.0] * len(by_offer[o, w]),
                                           [m.purchase[a] for a in by_offer[o, w]]) <= cap[o])

    bound, qual = arcs["bound"].tolist(), arcs["qualification"].tolist()
    m.qualification_link = pyo.Constraint(
        m.ARCS, rule=lambda _, a: lin([1.0, -bound[a]], [m.purchase[a], m.qualify[qual[a]]]) <= 0)
    pos = site_positions(sm)
    qsite = [pos[s] for s in quals["site"]]
    qperiod = quals["period"].tolist()
    m.qualify_site = pyo.Constraint(
        m.QUALIFICATIONS, rule=lambda _, q: m.qualify[q] - opened(sm, qsite[q], qperiod[q]) <= 0)
    # a supplier once qualified stays qualified: v[u,s,t-1] <= v[u,s,t]
    earlier: dict = {}
    stays = []
    for q, key in enumerate(zip(quals["supplier"], quals["site"])):
        if key in earlier:
            stays.append((earlier[key], q))
        earlier[key] = q
    m.QUALIFIED_STAYS = pyo.Set(initialize=stays, dimen=2, ordered=True)
    m.qualify_stays = pyo.Constraint(m.QUALIFIED_STAYS, rule=lambda _, a, b: m.qualify[a] - m.qualify[b] <= 0)

    _add_local_share(sm)
    _add_diversification(sm, by_need)


def _add_local_share(sm: SitingModel) -> None:
    m, d = sm.model, sm.data
    arcs = d.arcs
    targets = dict(zip(zip(d.local_targets["site"], d.local_targets["period"]), d.local_targets["target"]))
    # targets bind in every scenario, or in the one scenario settings.local_share_scenarios names
    binds = arcs["scenario"].isin(list(d.factors.binds)).values
    # purchases that count in their site's target of their period (its classes, where it names some)
    classes = dict(zip(zip(d.local_targets["site"], d.local_targets["period"]), d.local_targets["classes"]))
    has_target = np.array([(s, t) in targets and (not classes[s, t] or c in classes[s, t])
                           for s, t, c in zip(arcs["site"], arcs["period"], arcs["class"])], dtype=bool)
    rows = arcs[arcs["counts"].values & has_target & binds]
    by_site = groups(rows[["site", "period", "scenario"]])
    index = rows.index.values
    m.LOCAL = pyo.Set(initialize=list(by_site), dimen=3, ordered=True)
    price, local = arcs["price"].values, arcs["local"].values.astype(float)

    scale = {}

    def local_share(_: Any, s: str, t: str, w: str) -> Any:
        a = index[by_site[s, t, w]]
        coefs = (local[a] - targets[s, t]) * price[a]
        # Prices in the money unit are tiny (a USD 100 wafer is 1e-4 USD million); dividing the
        # row by its largest coefficient keeps the matrix range narrow. Duals are rescaled back.
        scale[s, t, w] = float(np.max(np.abs(coefs))) or 1.0
        return lin(coefs / scale[s, t, w], [m.purchase[k] for k in a]) >= 0

    m.local_share = pyo.Constraint(m.LOCAL, rule=local_share)
    sm.row_scale["local_share"] = scale


def _add_diversification(sm: SitingModel, by_need: dict) -> None:
    m, d = sm.model, sm.data
    arcs = d.arcs
    share = {(s, i): v for s, i, v in d.diversification[["site", "input", "max_share"]].itertuples(index=False)}
    rows = [a for a, (s, i) in enumerate(zip(arcs["site"], arcs["input"])) if (s, i) in share]
    m.SHARED = pyo.Set(initialize=rows, ordered=True)
    need_of = list(zip(arcs["site"], arcs["input"], arcs["period"], arcs["scenario"]))

    def supplier_share(_: Any, a: int) -> Any:
        peers = by_need[need_of[a]]
        sigma = share[need_of[a][:2]]
        return lin([1.0 - sigma if p == a else -sigma for p in peers],
                   [m.purchase[p] for p in peers]) <= 0

    m.supplier_share = pyo.Constraint(m.SHARED, rule=supplier_share)

    pos = site_positions(sm)
    quals = {(u, s, t): q for q, (u, s, t) in enumerate(
        d.qualifications[["supplier", "site", "period"]].itertuples(index=False, name=None))}
    offered: dict = {}
    for u, i, s, t in arcs[["supplier", "input", "site", "period"]].drop_duplicates().itertuples(
            index=False, name=None):
        offered.setdefault((s, i, t), []).append(quals[u, s, t])
    keys = [(s, i, t, k) for s, i, k in d.min_suppliers[["site", "input", "k"]].itertuples(index=False)
            for t in d.periods]
    m.MIN_SUPPLIERS = pyo.Set(initialize=[k[:3] for k in keys], dimen=3, ordered=True)
    need_k = {k[:3]: k[3] for k in keys}

    def min_suppliers(_: Any, s: str, i: str, t: str) -> Any:
        qs = offered.get((s, i, t), [])
        return lin([1.0] * len(qs) + [-float(need_k[s, i, t])],
                   [m.qualify[q] for q in qs] + [opened(sm, pos[s], t)]) >= 0

    m.min_suppliers = pyo.Constraint(m.MIN_SUPPLIERS, rule=min_suppliers)
