"""The elastic model: the compiled model with a slack column beside every row of a business rule.

The rules are not written a second time: a slack is one extra column beside a row the model
builder wrote, so the rules have one source of truth. The compiled matrix still holds the rows
freed from Pyomo after compiling (route and qualification links), and they stay valid with slack,
so the re-solve is the same model. :mod:`siting.diagnose` solves it and puts its slack in words.

How slack is measured
---------------------
Families have different units (shares, wafers, money, suppliers), so every slack is measured in
percent of its rule's own level, and one percent of any rule weighs the same:

=================  =========================================  ==========================================
family             rows                                       100% of slack is
=================  =========================================  ==========================================
demand             ``demand_balance`` rows without a penalty  the product's demand that must be met
local_share        ``local_share``                            the site's counted purchases at its
                                                              reference output, valued at the cheapest
                                                              offers (so one percent is about one point
                                                              of share)
supplier_share     ``supplier_share``                         the site's reference need of the input
min_suppliers      ``min_suppliers``                          the number of suppliers required (k)
concentration      ``concentration``                          the reference capacity (all demand)
firm_budget        ``firm_budget``                            the budget
supplier_capacity  ``supplier_capacity``                      the supplier's capacity
resource           ``resource_limit``                         the site resource's limit in the period
                                                              and scenario (the largest over the
                                                              scenarios where a scenario cuts it to 0)
=================  =========================================  ==========================================

A site's reference output of a product is the lesser of its most capacity and the product's
demand; a level of zero is replaced by the nearest sensible one (the input's need for a supplier
with no capacity, the cheapest site for a budget of zero).

The re-solve has two stages: the first minimises the total slack (a MIP: sites, modules and
qualifications stay integer); the second holds the total at its minimum and minimises the firm's
cost, so that the plan whose numbers are reported is the cheapest of the closest plans. For a
share, the shortfall is linear in money (local purchases against the target times all counted
purchases); with output fixed, the plan that minimises it also has the highest share.

Rows that are physics or definitions stay hard: capacity, balances, links, module limits and
subsidy terms (a grant's rate and cap, a lump sum: a plan can always take less). A conditional
instrument's conditions (the local share or utilisation it requires) stay hard too: a plan can
always decline the offer, so they never make a model infeasible. Which families give, and which
are freed, is the table :data:`siting.model.families.ROWS`. ``demand_cover`` is freed: it is a
valid inequality only while demand must be met in full. HiGHS's irreducible infeasible sets are
not used: HiGHS finds them for LPs only, and every siting model has binary site decisions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np

from siting.model.families import ELASTIC, FREED
from siting.solve import Compiled, SolverOptions, make_highs, objective_scale

#: Slack below this many percent of a rule's level is solver tolerance, not a rule that gives.
TOL_PERCENT = 1e-4


@dataclass(frozen=True)
class Slack:
    """One elastic row: its position in the matrix, family, Pyomo index and 100% level."""

    row: int
    family: str
    index: Any
    level: float  # in the row's own units: the slack column's coefficient is +-level/100


def _levels(d) -> dict:
    """Reference amounts the slacks are measured against (see the module docstring)."""
    demand = d.demand.groupby(["product", "period", "scenario"])["wafers"].sum()
    most_demand = demand.groupby(["product", "period"]).max()
    mods = d.modules
    ref_out = np.minimum(mods["wafers_per_module"].values * mods["max_modules"].values,
                         [float(most_demand.get((p, t), 0.0)) for p, t in zip(mods["product"], mods["period"])])
    use = mods[["site", "product", "period"]].assign(out=ref_out).merge(d.bom, on="product")
    use["need"] = use["out"] * use["units_per_wafer"]
    need = use.groupby(["site", "input", "period"])["need"].sum()
    arcs = d.arcs
    cheapest = arcs.groupby(["site", "input", "period"])["price"].min()
    counts = arcs.groupby(["site", "input", "period"])["counts"].first()
    value = (need * cheapest.reindex(need.index).fillna(0.0) * counts.reindex(need.index).fillna(False))
    capacity = mods.assign(cap=mods["wafers_per_module"] * mods["max_modules"]).groupby(
        ["product", "period"])["cap"].sum()
    reference_capacity = float(np.minimum(capacity.reindex(most_demand.index).fillna(0.0), most_demand).sum())
    hard = d.demand[np.isnan(d.demand["penalty"].values)]
    site_capex = [f + (mods.loc[mods["site"] == s, "capex_per_module"].min() if (mods["site"] == s).any() else 0.0)
                  for s, f in zip(d.sites["site"], d.sites["fixed_cost"])]
    return {
        "need": need,
        "need_of_input": need.groupby(level=["input", "period"]).sum(),
        "local_value": value.groupby(level=["site", "period"]).sum(),
        "capacity": reference_capacity,
        "hard": hard.groupby(["product", "period", "scenario"])["wafers"].sum(),
        "cheapest_site": float(min(site_capex)) if site_capex else 1.0,
    }


def _positive(x: float, fallback: float = 1.0) -> float:
    return float(x) if x > 0 and math.isfinite(x) else fallback


def rows_by_family(compiled: Compiled) -> dict[str, list[tuple[int, Any]]]:
    """Row positions and indices of the elastic and freed families, in one pass over the rows."""
    wanted = {*ELASTIC, *FREED}
    out: dict[str, list[tuple[int, object]]] = {name: [] for name in wanted}
    for n, row in enumerate(compiled.rows):
        if row is not None:
            name = row[0].parent_component().local_name
            if name in wanted:
                out[name].append((n, row[0].index()))
    return out


def elastic_rows(sm, rows: dict[str, list[tuple[int, Any]]]) -> list[Slack]:
    """Every row of an elastic family, with the level one hundred percent of its slack stands for."""
    m, d = sm.model, sm.data
    ref = _levels(d)
    scale = sm.row_scale.get("local_share", {})
    k_of = {(s, i): float(k) for s, i, k in d.min_suppliers[["site", "input", "k"]].itertuples(index=False)}
    demand_key = list(d.demand[["product", "period", "scenario"]].itertuples(index=False, name=None))
    arc_key = list(d.arcs[["site", "input", "period"]].itertuples(index=False, name=None))
    offer_cap = d.offers["capacity"].tolist()
    offer_key = list(d.offers[["input", "period"]].itertuples(index=False, name=None))
    unmet = set(m.UNMET)
    res = d.resources
    res_limit = res["limit"].to_numpy(dtype=float) if res is not None else np.zeros(0)
    # a limit a scenario cuts to nothing is measured against the same resource's largest limit
    res_most = (res.groupby(["resource", "period"])["limit"].transform("max").to_numpy(dtype=float)
                if res is not None and len(res) else np.zeros(0))
    out = []
    for name, family in ELASTIC.items():
        for n, idx in rows[name]:
            if family == "demand":
                if idx in unmet:  # a penalised row: its unmet variable is its slack already
                    continue
                level = ref["hard"].get(demand_key[idx], 0.0)
            elif family == "local_share":
                level = _positive(ref["local_value"].get(idx[:2], 0.0)) / scale.get(idx, 1.0)
            elif family == "supplier_share":
                level = ref["need"].get(arc_key[idx], 0.0)
            elif family == "min_suppliers":
                level = k_of[idx[:2]]
            elif family == "concentration":
                level = ref["capacity"]
            elif family == "firm_budget":
                level = _positive(d.firm_budget or 0.0, ref["cheapest_site"])
            elif family == "resource":
                level = _positive(res_limit[idx], res_most[idx])
            else:  # supplier_capacity
                o = idx[0]
                level = _positive(offer_cap[o], ref["need_of_input"].get(offer_key[o], 0.0))
            out.append(Slack(row=n, family=family, index=idx, level=_positive(level)))
    return out


def loosened_bounds(sm, compiled: Compiled, slacks: list[Slack]) -> list[tuple[int, int, float]]:
    """Coefficients to change where a bound derived from a rule stops being valid once it gives.

    ``qualification_link`` bounds a purchase by min(supplier capacity, the site's largest use);
    where the supplier's capacity is elastic, the site's largest use alone is the valid bound.
    Returns (row, column, new coefficient) triples.
    """
    offers = {s.index[0] for s in slacks if s.family == "supplier_capacity"}
    rows = compiled.freed.get("qualification_link")
    if not offers or rows is None:
        return []
    m, arcs = sm.model, sm.data.arcs
    most = arcs.merge(sm.data.needs, on=["site", "input", "period", "scenario"], how="left")["most"].values
    col_of = {id(v): j for j, v in enumerate(compiled.columns)}
    return [(int(rows[a]), col_of[id(m.qualify[int(arcs.at[a, "qualification"])])], -float(most[a]))
            for a in np.flatnonzero(arcs["offer"].isin(list(offers)).values)]


def elastic_model(compiled: Compiled, slacks: list[Slack], changes=(), freed=()) -> Compiled:
    """The compiled model with one slack column per elastic row and a last row that sums them.

    The slack columns come after the model's own, so the model's columns keep their positions.
    The objective is the total slack (in percent of each rule's level); the last row is free
    until :func:`cheapest_within` caps it. ``changes`` are (row, column, coefficient) triples
    from :func:`loosened_bounds`; ``freed`` are rows dropped (given infinite bounds).
    """
    lp = dict(compiled.lp)
    if changes:
        lp["value"] = lp["value"].copy()
        for row, col, coef in changes:
            span = np.arange(lp["start"][col], lp["start"][col + 1])
            lp["value"][span[lp["index"][span] == row]] = coef
    n, rows = len(lp["cost"]), lp["num_row"]
    k = len(slacks)
    lower_finite = np.isfinite(lp["row_lower"])
    upper_finite = np.isfinite(lp["row_upper"])
    coef = np.empty(k)
    for j, s in enumerate(slacks):
        if lower_finite[s.row] and upper_finite[s.row]:  # an equality: demand, short of its right-hand side
            sign = 1.0 if lp["row_upper"][s.row] >= 0 else -1.0
        else:
            sign = 1.0 if lower_finite[s.row] else -1.0  # >= rows gain the slack, <= rows lose it
        coef[j] = sign * s.level / 100.0
    at = np.array([s.row for s in slacks], dtype=np.int32)
    index = np.concatenate([lp["index"], np.column_stack([at, np.full(k, rows, dtype=np.int32)]).ravel()])
    value = np.concatenate([lp["value"], np.column_stack([coef, np.ones(k)]).ravel()])
    start = np.concatenate([lp["start"], lp["start"][-1] + 2 * np.arange(1, k + 1)])
    row_lower = np.append(lp["row_lower"], -np.inf)
    row_upper = np.append(lp["row_upper"], np.inf)
    for r in freed:
        row_lower[r], row_upper[r] = -np.inf, np.inf
    new = dict(cost=np.concatenate([np.zeros(n), np.ones(k)]), lower=np.append(lp["lower"], np.zeros(k)),
               upper=np.append(lp["upper"], np.full(k, np.inf)), row_lower=row_lower, row_upper=row_upper,
               start=start.astype(np.int32), index=index.astype(np.int32), value=value, num_row=rows + 1)
    return Compiled(columns=compiled.columns, rows=[*compiled.rows, None], lp=new,
                    integer=np.append(compiled.integer, np.zeros(k, dtype=bool)), offset=0.0)


def cheapest_within(elastic: Compiled, compiled: Compiled, total: float) -> Compiled:
    """Stage two: total slack held at (a hair above) ``total``, the firm's cost as the objective."""
    lp = dict(elastic.lp)
    k = len(lp["cost"]) - len(compiled.lp["cost"])
    lp["cost"] = np.concatenate([compiled.lp["cost"], np.zeros(k)])
    lp["row_upper"] = lp["row_upper"].copy()
    # a hair of room for HiGHS's tolerances, too little to buy cost with slack (it would show as a
    # rule giving by a few millionths of a percent)
    lp["row_upper"][-1] = total * (1 + 1e-9) + 1e-9
    return Compiled(columns=elastic.columns, rows=elastic.rows, lp=lp, integer=elastic.integer,
                    offset=compiled.offset)


def solve_elastic(c: Compiled, options: SolverOptions) -> tuple[np.ndarray, float, bool] | None:
    """Values, objective and whether HiGHS proved it optimal; None without a plan."""
    h = make_highs(c, options)
    h.run()
    info = h.getInfo()
    if info.primal_solution_status != 2:
        return None
    proven = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    objective = float(info.objective_function_value) / objective_scale(c.lp["cost"])
    return np.asarray(h.getSolution().col_value, dtype=float), objective, proven
