"""Infeasibility in the planner's words: which rules must give, and by how much.

When HiGHS finds no plan and the pre-solve screens (:mod:`siting.instance.screens`) did not
already explain why, the compiled model is solved again with the rows of every family of
business rules made *elastic*: each row gets a non-negative slack column that lets it give, and
the re-solve minimises the total slack. The rules are not written a second time: a slack is one
extra column beside a row the model builder wrote, so the rules have one source of truth. The
compiled matrix still holds the rows freed from Pyomo after compiling (route and qualification
links), and they stay valid with slack, so the re-solve is the same model.

The elastic model itself (which rows give, how slack is measured, the two stages) is
:mod:`siting.elastic`; this module runs it and says in the planner's words what its slack means.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from siting.elastic import (
    TOL_PERCENT,
    Slack,
    cheapest_within,
    elastic_model,
    elastic_rows,
    loosened_bounds,
    rows_by_family,
    solve_elastic,
)
from siting.findings import Finding
from siting.instance.derive import target_rows
from siting.model.families import ELASTIC, FREED
from siting.outcome import Outcome
from siting.report.extract import read_solution
from siting.report.resources import resource_table
from siting.solve import Compiled, SolverOptions, set_values

log = logging.getLogger(__name__)

FOUND_BY = "elastic re-solve"


@dataclass(frozen=True)
class Diagnosis:
    """What the diagnosis of an infeasible run found.

    Attributes
    ----------
    findings
        The rules that must give, and by how much (empty when the re-solve found no plan in its
        time limit, or for a run without a model).
    outcome
        The run's outcome with what the diagnosis found added to its termination.
    seconds
        How long the diagnosis took.
    """

    findings: tuple[Finding, ...]
    outcome: Outcome
    seconds: float


def diagnosis(run, options: SolverOptions, time_limit: float = 30.0) -> Diagnosis:
    """Find which rules must give, and by how much, for an infeasible run; the run is left as it is.

    Parameters
    ----------
    run
        A :class:`siting.run.Run` whose MIP HiGHS found infeasible (with its ``compiled`` model).
    options
        The run's solver options (one thread and the seed are kept).
    time_limit
        Seconds each solve of the re-solve may take (two stages, and two more when an alternative
        that keeps demand is sought), at most the run's own limit.

    Returns
    -------
    Diagnosis
        The findings, and a new outcome whose termination says them.
    """
    t0 = time.perf_counter()
    findings = risk_limit_findings(run, options, time_limit) or elastic_findings(run, options, time_limit)
    termination = run.outcome.termination
    if findings:
        termination += "; elastic re-solve: " + "; ".join(f.message for f in findings)
    elif run.compiled is not None:
        limit = min(time_limit, options.time_limit or time_limit)
        termination += f"; the elastic re-solve found no plan in {limit:g} s to say which rule must give"
    return Diagnosis(tuple(findings), replace(run.outcome, termination=termination), time.perf_counter() - t0)


def diagnose(run, options: SolverOptions, time_limit: float = 30.0) -> list[Finding]:
    """Diagnose an infeasible run (:func:`diagnosis`) and record what was found on it.

    The run gets the findings (``run.diagnosis``), the diagnosis's new outcome and its time
    (``run.times["diagnose"]``, added to the total). Returns the findings.
    """
    found = diagnosis(run, options, time_limit)
    run.diagnosis = list(found.findings)
    run.outcome = found.outcome
    run.times = {**run.times, "diagnose": found.seconds, "total": run.times.get("total", 0.0) + found.seconds}
    return run.diagnosis


def risk_limit_findings(run, options: SolverOptions, time_limit: float = 30.0) -> list[Finding]:
    """With a risk limit set, solve for the least risk any plan reaches; if that is above the limit,
    the limit is what must give (the elastic re-solve keeps risk rows hard)."""
    from siting.run import run_case

    st = run.instance.settings
    if st.risk_limit is None:
        return []
    limit = min(time_limit, options.time_limit) if options.time_limit else time_limit
    least = run_case(run.instance.path, options.model_copy(update={"time_limit": limit}),
                     [*run.instance.overrides, "settings.objective=risk", "settings.risk_limit="], duals=False)
    if not least.outcome.has_solution or least.outcome.objective <= st.risk_limit:
        return []
    best = float(least.outcome.objective)
    unit = "wafers/yr" if st.risk_measure == "unmet" else f"{st.money_label}/yr"
    words = {"cvar": f"the CVaR ({st.cvar_level:.0%}) of the total cost", "unmet": "the expected unmet demand",
             "worst": "the worst scenario's cost"}[st.risk_measure]
    return [Finding("infeasible", "risk_limit", (
        f"settings.risk_limit: {words} cannot be brought to {_num(st.risk_limit)} {unit}; the least any plan "
        f"reaches is {_num(best)} {unit}: raise the limit to at least that"),
        where=st.risk_measure, required=float(st.risk_limit), best=best, unit=unit, found_by="risk re-solve")]


def elastic_findings(run, options: SolverOptions, time_limit: float = 30.0) -> list[Finding]:
    """The rules with positive slack in the closest plan, in the planner's words.

    Where the closest plan gives on demand that must be met, planners usually hold demand fixed,
    so the rules that would have to give to meet it all follow as alternatives (re-solved with
    demand hard), when some relaxation of the rules can meet it.
    """
    sm, compiled = run.model, run.compiled
    if sm is None or compiled is None:
        return []
    limit = min(time_limit, options.time_limit) if options.time_limit else time_limit
    quick = options.model_copy(update={"time_limit": limit})
    rows = rows_by_family(compiled)
    freed = [n for name in FREED for n, _ in rows[name]]
    slacks = elastic_rows(sm, rows)
    if not slacks:  # no business rule at all: the screens cover what physics alone rules out
        return [Finding("infeasible", "numerics", (
            "the model has no business rule that could give, so HiGHS's verdict comes from numerical trouble; see "
            "the numerics warnings and rescale units (money_unit, input units)"), found_by=FOUND_BY)]
    findings = closest_plan(sm, compiled, slacks, quick, freed)
    if any(f.rule == "demand" for f in findings):
        held = [s for s in slacks if s.family != "demand"]
        findings += [replace(f, message="or, to meet all demand: " + f.message, alternative=True)
                     for f in closest_plan(sm, compiled, held, quick, freed) if f.rule != "numerics"]
    return findings


def closest_plan(sm, compiled: Compiled, slacks: list[Slack], options: SolverOptions, freed=()) -> list[Finding]:
    """Solve the elastic model over ``slacks`` (both stages) and explain the slack it needs."""
    if not slacks:
        return []
    elastic = elastic_model(compiled, slacks, loosened_bounds(sm, compiled, slacks), freed)
    first = solve_elastic(elastic, options)
    if first is None:
        log.info("the elastic re-solve found no plan within %s s", options.time_limit)
        return []
    values, total, proven = first
    if total <= TOL_PERCENT:
        return [Finding("infeasible", "numerics", (
            "with every rule elastic the re-solve finds a plan that breaks none, so HiGHS's verdict comes from "
            "numerical trouble; see the numerics warnings and rescale units (money_unit, input units)"),
            found_by=FOUND_BY)]
    second = solve_elastic(cheapest_within(elastic, compiled, total), options)
    if second is not None:
        values = second[0]
    n = len(compiled.lp["cost"])
    set_values(sm, compiled, values[:n])
    return _explain(sm, slacks, values[n:], proven)


# ---- the findings, in words -------------------------------------------------------------------


def _num(x: float) -> str:
    """A readable amount: 1,234 / 56.7 / 8.91 / 0.0123."""
    ax = abs(x)
    if ax >= 100 or abs(x - round(x)) <= 1e-6 * max(1.0, ax):
        return f"{x:,.0f}"
    if ax >= 10:
        return f"{x:,.1f}"
    return f"{x:,.3g}"


def _pct(x: float) -> str:
    """A share as a percentage with at most one decimal: 60%, 47.3%."""
    text = f"{x * 100:.1f}"
    return (text[:-2] if text.endswith(".0") else text) + "%"


def _down(x: float) -> float:
    """A share rounded down to a tenth of a point (a target the plan meets)."""
    return math.floor(x * 1000 + 1e-6) / 1000


def _up(x: float) -> float:
    """A share rounded up to a tenth of a point (a limit the plan keeps)."""
    return math.ceil(x * 1000 - 1e-6) / 1000


def _and(items: list[str], word: str = "and") -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" {word} " + items[-1]


def _or(items: list[str]) -> str:
    return _and(items, "or")


def _explain(sm, slacks: list[Slack], sigma: np.ndarray, proven: bool) -> list[Finding]:
    out: list[Finding] = []
    by_family: dict[str, list] = {}
    for s, v in zip(slacks, sigma):
        if v > TOL_PERCENT:
            by_family.setdefault(s.family, []).append((s, float(v)))
    words = _Words(sm, read_solution(sm))
    for family in ELASTIC.values():
        rows = by_family.get(family)
        if rows:
            out.extend(getattr(words, family)(rows))
    if not proven:
        out = [replace(f, message=f.message + " (the re-solve stopped at its time limit: a smaller change may exist)")
               for f in out]
    return out


class _Words:
    """One method per family: its rows with slack -> findings, with numbers from the closest plan."""

    def __init__(self, sm, sol):
        self.sm, self.d, self.sol = sm, sm.data, sol
        st = self.d.instance.settings
        self.money = st.money_label
        inputs = self.d.instance["inputs"]
        self.unit = dict(zip(inputs["id"], inputs["unit"]))

    def demand(self, rows) -> list[Finding]:
        d, sol = self.d, self.sol
        made = pd.Series(sol.produce).groupby(d.routes["demand_row"].values).sum()
        hard = d.demand[np.isnan(d.demand["penalty"].values)]
        out = []
        products = {(d.demand.at[s.index, "product"], d.demand.at[s.index, "period"],
                     d.demand.at[s.index, "scenario"]) for s, _ in rows}
        for p, t, w in sorted(products):
            group = hard[(hard["product"] == p) & (hard["period"] == t) & (hard["scenario"] == w)]
            need = float(group["wafers"].sum())
            got = made.reindex(group.index).fillna(0.0)
            short = group["wafers"] - got
            short = short[short > 1e-6 * max(1.0, need)].sort_values(ascending=False, kind="stable")
            where = [f"{mk} short by {_num(x)}" for mk, x in zip(group.loc[short.index[:3], "market"], short)]
            if len(short) > 3:
                where.append(f"{len(short) - 3} more markets short by {_num(float(short.iloc[3:].sum()))}")
            best = float(got.sum())
            out.append(Finding("infeasible", "demand", (
                f"demand for {p} that must be met ({_num(need)} wafers/yr) cannot all be met under the other rules: "
                f"the best plan makes {_num(best)} wafers/yr ({_and(where)}); allow unmet demand at a cost "
                "(penalty_per_wafer) or add capacity the other rules allow"),
                where=str(p), required=need, best=best, unit="wafers/yr", found_by=FOUND_BY))
        return out

    def local_share(self, rows) -> list[Finding]:
        d, sol = self.d, self.sol
        arcs = d.arcs
        targets = dict(zip(zip(d.local_targets["site"], d.local_targets["period"]), d.local_targets["target"]))
        out = []
        for s_, _ in rows:
            site, t, w = s_.index
            at = target_rows(d, site, t, w)
            value = arcs["price"].values * sol.purchase * at
            local = float(np.sum(value * arcs["local"].values))
            total = float(np.sum(value))
            best = local / total if total > 0 else 0.0
            tau = float(targets[site, t])
            foreign = pd.Series(value * ~arcs["local"].values).groupby(arcs["input"].values).sum()
            foreign = foreign[foreign > 1e-9 * max(total, 1e-12)].sort_values(ascending=False)
            shown = [f"{i} {_num(v)}" for i, v in foreign.head(4).items()]
            if len(foreign) > 4:
                shown.append(f"{len(foreign) - 4} more")
            bought = f"; bought from non-local suppliers: {', '.join(shown)}" if shown else ""
            here = (arcs["site"].values == site) & arcs["local"].values
            no_local = [i for i in foreign.index if not (here & (arcs["input"].values == i)).any()]
            extra = list(foreign.index[:3])
            fix = f"add local supply of {_and(extra)}" if extra else "add local suppliers"
            if no_local:
                fix += f" ({_and(no_local)} {'has' if len(no_local) == 1 else 'have'} no local supplier)"
            reach = _pct(_down(best))  # rounded down: a target the best plan meets
            # a phased target names its period
            when = f" in {t}" if len(d.periods) > 1 else ""
            out.append(Finding("infeasible", "local_share", (
                f"{site}'s {_pct(tau)} local share{when} cannot be met: the best plan reaches {reach} (local purchases "
                f"{_num(local)} of {_num(total)} {self.money}/yr{bought}); lower the target to {reach} or {fix}"),
                where=str(site), required=tau, best=best, unit="share of purchases by value", found_by=FOUND_BY))
        return out

    def supplier_share(self, rows) -> list[Finding]:
        d, sol = self.d, self.sol
        arcs = d.arcs
        limit = {(s, i): v for s, i, v in d.diversification[["site", "input", "max_share"]].itertuples(index=False)}
        out = []
        for s_, _ in rows:
            a = s_.index
            site, i, u = arcs.at[a, "site"], arcs.at[a, "input"], arcs.at[a, "supplier"]
            peers = ((arcs["site"].values == site) & (arcs["input"].values == i)
                     & (arcs["period"].values == arcs.at[a, "period"])
                     & (arcs["scenario"].values == arcs.at[a, "scenario"]))
            total = float(np.sum(sol.purchase[peers]))
            mine = float(sol.purchase[a])
            share = mine / total if total > 0 else 0.0
            others = sorted(set(arcs.loc[peers, "supplier"]) - {u})
            more = (f"only {_and(others)} can also deliver {i} there" if others
                    else f"no other supplier can deliver {i} there")
            unit = self.unit.get(i, "unit")
            out.append(Finding("infeasible", "supplier_share", (
                f"at {site}, no supplier may sell more than {_pct(limit[site, i])} of its {i}, but the best plan buys "
                f"{_pct(share)} from {u} ({_num(mine)} of {_num(total)} {unit}/yr; {more}); raise max_supplier_share "
                f"for {i} to {_pct(_up(share))} or add suppliers of {i} for {site}"),
                where=f"{site}/{i}/{u}", required=float(limit[site, i]), best=share, unit=f"share of {i} bought",
                found_by=FOUND_BY))
        return out

    def min_suppliers(self, rows) -> list[Finding]:
        d, sol = self.d, self.sol
        arcs, quals = d.arcs, d.qualifications
        k_of = {(s, i): k for s, i, k in d.min_suppliers[["site", "input", "k"]].itertuples(index=False)}
        out = []
        for s_, _ in rows:
            site, i, t = s_.index
            can = sorted(set(arcs.loc[(arcs["site"].values == site) & (arcs["input"].values == i)
                                      & (arcs["period"].values == t), "supplier"]))
            qualified = set(quals.loc[(sol.qualify > 0.5) & (quals["site"].values == site), "supplier"])
            have = [u for u in can if u in qualified]
            k = int(k_of[site, i])
            names = f" ({_and(can)})" if can else ""
            out.append(Finding("infeasible", "min_suppliers", (
                f"{site} needs {k} qualified suppliers of {i}, but only {len(can)} can deliver it there{names}; "
                f"lower min_suppliers for {i} to {len(can)} or add offers of {i} from other suppliers"),
                where=f"{site}/{i}", required=float(k), best=float(len(have)), unit="qualified suppliers",
                found_by=FOUND_BY))
        return out

    def concentration(self, rows) -> list[Finding]:
        d, sol = self.d, self.sol
        size = d.modules["wafers_per_module"].values * sol.modules
        total = float(size.sum())
        out = []
        for s_, _ in rows:
            label, gamma, members = next(c for c in d.concentration if c[0] == s_.index)
            inside = float(size[np.isin(d.modules["site"].values, list(members))].sum())
            share = inside / total if total > 0 else 0.0
            kind, group = label.split("=", 1)
            place = f"{kind.replace('_', ' ')} {group}"
            out.append(Finding("infeasible", "concentration", (
                f"at most {_pct(gamma)} of capacity may be in {place}, but the best plan puts {_pct(share)} there "
                f"({_num(inside)} of {_num(total)} wafers/yr); raise the limit to {_pct(_up(share))} or add "
                f"capacity outside {place}"),
                where=label, required=float(gamma), best=share, unit="share of capacity", found_by=FOUND_BY))
        return out

    def firm_budget(self, rows) -> list[Finding]:
        d, sol = self.d, self.sol
        capex = float(np.sum(d.sites["fixed_cost"].values * sol.build)
                      + np.sum(d.modules["capex_per_module"].values * sol.modules))
        budget = float(d.firm_budget)
        return [Finding("infeasible", "firm_budget", (
            f"the firm's capex budget of {_num(budget)} {self.money} cannot be kept: the best plan needs "
            f"{_num(capex)} {self.money} of capex; raise settings.firm_budget to {_num(capex)}"),
            where="firm", required=budget, best=capex, unit=self.money, found_by=FOUND_BY)]

    def supplier_capacity(self, rows) -> list[Finding]:
        d, sol = self.d, self.sol
        out = []
        for s_, _ in rows:
            o, w = s_.index
            u, i, cap = d.offers.at[o, "supplier"], d.offers.at[o, "input"], float(d.offers.at[o, "capacity"])
            on = (d.arcs["offer"].values == o) & (d.arcs["scenario"].values == w)
            need = float(np.sum(sol.purchase[on]))
            unit = self.unit.get(i, "unit")
            out.append(Finding("infeasible", "supplier_capacity", (
                f"{u} can sell {_num(cap)} {unit}/yr of {i}, but the best plan needs {_num(need)} ({_num(need - cap)} "
                f"more); add capacity (offers {u}/{i}) or other suppliers of {i}"),
                where=f"{u}/{i}", required=cap, best=need, unit=f"{unit}/yr", found_by=FOUND_BY))
        return out

    def resource(self, rows) -> list[Finding]:
        d, sol = self.d, self.sol
        used_at = resource_table(d, sol)["used"].to_numpy(dtype=float)
        inst = d.instance["resources"]
        kind = dict(zip(inst["id"], inst["kind"].fillna("")))
        unit = dict(zip(inst["id"], inst["unit"].fillna("")))
        base = dict(zip(inst["id"], inst["limit"].astype(float)))
        out = []
        for s_, _ in rows:
            k = s_.index
            r, site, t, w = (d.resources.at[k, c] for c in ("resource", "site", "period", "scenario"))
            limit, most, used = float(d.resources.at[k, "limit"]), float(d.resources.at[k, "extra_max"]), used_at[k]
            u = unit[r] or "units"
            # a phased limit names its period, a scenario's its scenario
            when = (f" in {t}" if len(d.periods) > 1 else "") + (f" in scenario {w}" if len(d.scenarios) > 1 else "")
            allowed = limit + most
            bound = f"{_num(limit)} {u}" + (f" plus at most {_num(most)} {u} of extra supply" if most > 0 else "")
            # the fix is on the table's limit, which a scenario may have scaled
            factor = limit / base[r] if base[r] > 0 else 1.0
            fixes = [f"raise resources.{r}.limit to {_num((used - most) / factor)}"] if factor > 0 else []
            fixes.append(f"raise its extra_max to {_num(used - limit)}" if most > 0
                         else "allow extra supply (extra_cost)")
            out.append(Finding("infeasible", "resource", (
                f"{site}'s {kind[r] or 'resource'} limit {r}{when} cannot be kept: it allows {bound}, but the best "
                f"plan draws {_num(used)} {u} ({_num(used - allowed)} more); {_or(fixes)}"),
                where=f"{site}/{r}", required=allowed, best=float(used), unit=u, found_by=FOUND_BY))
        return out
