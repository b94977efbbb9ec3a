"""Pre-solve screens: infeasibilities and dead ends that simple arithmetic on the data can show.

They run on the derived tables before any model is built, and speak the planner's language:

- demand that must be met against the most capacity that could be built for it;
- each input's need, if that demand is met, against what all its suppliers together can sell;
- each local-share target against the best share the site's suppliers could give it.

A finding is ``infeasible`` when no plan can exist (the solve stops there, exit 3) or ``warning``
when a plan exists but something in the instance can never be used (a site whose target no
supplier mix can meet can never buy, and so never open), or a rule the tables make vacuous
(:mod:`siting.instance.vacuous`: offers no bill of materials uses, a target at a site that can buy
nothing, ...).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from siting.findings import Finding
from siting.instance.derive import Derived, target_rows
from siting.instance.vacuous import vacuous_rules


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.4g}"


def screen(d: Derived) -> list[Finding]:
    """Run every screen on derived data; findings in the order above, then the rules the tables
    make vacuous (:mod:`siting.instance.vacuous`, warnings whose message is one
    ``location | problem; fix`` line)."""
    local, dead = _local_share(d)
    vacuous = [Finding("warning", "vacuous", str(p), where=p.location) for p in vacuous_rules(d)]
    return [*_capacity(d, dead), *_supply(d), *local, *vacuous]


def _phased(d: Derived) -> bool:
    return len(d.periods) > 1


def _hard_demand(d: Derived) -> pd.Series:
    """Demand that must be met, by (product, scenario), or (product, period, scenario) when phased."""
    hard = d.demand[np.isnan(d.demand["penalty"].values)]
    return hard.groupby(["product", "period", "scenario"] if _phased(d) else ["product", "scenario"])["wafers"].sum()


def _in(d: Derived, w: str, t: str | None = None) -> str:
    """' in scenario w' where there are several scenarios (' in period t' first, when phased)."""
    at = f" in {t}" if t is not None and _phased(d) else ""
    return at + (f" in scenario {w}" if len(d.scenarios) > 1 else "")


def _split(d: Derived, key: tuple) -> tuple:
    """(item, period, scenario) from a key of :func:`_hard_demand` (period None on a snapshot)."""
    return key if _phased(d) else (key[0], None, key[1])


def _capacity(d: Derived, dead: dict[str, str]) -> list[Finding]:
    """Most capacity per product at sites that can make it: a site cannot make a product if some
    input of it has no supplier that can deliver there (no offer, or excluded), or if the site's
    local target can never be met (it can then buy nothing)."""
    delivered = set(zip(d.arcs["site"], d.arcs["input"]))
    inputs_of = d.bom.groupby("product")["input"].apply(list).to_dict()
    reasons: dict[str, list[str]] = {}
    can: dict = {}
    share = d.availability.groupby(["module", "scenario"])["share"].first().to_dict()
    # phased: the largest module producing by the period (none before a lead time has passed)
    cols = ["site", "product", "link_size" if _phased(d) else "wafers_per_module", "max_modules", "period"]
    for row, (s, p, k, n, t) in enumerate(d.modules[cols].itertuples(index=False)):
        lacking = [i for i in inputs_of.get(p, []) if (s, i) not in delivered]
        t = t if _phased(d) else None
        if (s, t) in dead:
            reasons.setdefault((p, t), []).append(f"{s}: {dead[s, t]}")
        elif lacking:
            reasons.setdefault((p, t), []).append(f"{s}: no supplier of {', '.join(lacking)} can deliver there")
        else:
            for w in d.scenarios["id"]:
                can[p, t, w] = can.get((p, t, w), 0.0) + share[row, w] * k * n
    out = []
    for key, need in _hard_demand(d).items():
        p, t, w = _split(d, key)
        most = float(can.get((p, t, w), 0.0))
        if need > most * (1 + 1e-9):
            why = f" ({'; '.join(reasons[p, t])})" if (p, t) in reasons else ""
            out.append(Finding("infeasible", "demand", (
                f"demand for {p} that must be met{_in(d, w, t)} ({_fmt(need)} wafers/yr, rows without a penalty) "
                "exceeds the "
                f"most capacity that could be built for it ({_fmt(most)} wafers/yr){why}: add modules, sites or "
                "suppliers, or set penalty_per_wafer so that unmet demand is allowed at a cost"),
                where=str(p), required=float(need), best=most, unit="wafers/yr"))
    return out


def _supply(d: Derived) -> list[Finding]:
    hard = _hard_demand(d).rename("wafers").reset_index()
    need = d.bom.merge(hard, on="product")
    by = ["input", "period", "scenario"] if _phased(d) else ["input", "scenario"]
    need = (need["units_per_wafer"] * need["wafers"]).groupby([need[c] for c in by]).sum()
    offered = d.offers.groupby(by)["capacity"].sum()
    unit_of = dict(zip(d.instance["inputs"]["id"], d.instance["inputs"]["unit"]))
    out = []
    for key, units in need.items():
        can = float(offered.get(key, 0.0))
        i, t, w = _split(d, key)
        if units > can * (1 + 1e-9):
            out.append(Finding("infeasible", "supplier_capacity", (
                f"meeting the demand that must be met{_in(d, w, t)} needs {_fmt(units)} units of {i} a year, but all "
                f"its suppliers together offer {_fmt(can)}: add offers or capacity, or allow unmet demand"),
                where=str(i), required=float(units), best=can, unit=f"{unit_of.get(i, 'unit')}/yr"))
    return out


def _local_share(d: Derived) -> tuple[list[Finding], dict[str, str]]:
    """The best local share a site can reach at a small output, where no capacity binds: for each
    counting input, buy it from its dearest local supplier if one exists, else from its cheapest
    non-local one. The share only falls as output grows and capacities bind, so a target above
    this bound can never be met."""
    out = []
    dead: dict[str, str] = {}
    for s, t, tau in zip(d.local_targets["site"], d.local_targets["period"], d.local_targets["target"]):
        at = d.arcs[target_rows(d, s, t)]
        if at.empty or tau <= 0:
            continue
        dearest_local = at[at["local"].values].groupby("input")["price"].max()
        cheapest = at.groupby("input")["price"].min()
        best, missing = 0.0, set()
        # a site making only one product: mixing products gives a share between theirs
        for p in d.modules.loc[(d.modules["site"].values == s) & (d.modules["period"].values == t),
                               "product"].unique():
            bom = d.bom[d.bom["product"].values == p]
            bom = bom[bom["input"].isin(cheapest.index)]
            if bom.empty:
                continue
            has_local = bom["input"].isin(dearest_local.index).values
            a = bom["units_per_wafer"].values
            local_value = float(np.sum(a[has_local] * dearest_local.reindex(bom["input"][has_local]).values))
            other_value = float(np.sum(a[~has_local] * cheapest.reindex(bom["input"][~has_local]).values))
            share = local_value / (local_value + other_value) if local_value + other_value > 0 else 1.0
            if share >= best:
                best, missing = share, set(bom["input"][~has_local])
        if best < tau - 1e-9:
            gap = (f" ({', '.join(sorted(missing))} {'has' if len(missing) == 1 else 'have'} no local supplier)"
                   if missing else "")
            when = f" in {t}" if _phased(d) else ""
            never = f"{s} can make nothing in {t}" if _phased(d) else f"{s} can never open"
            out.append(Finding("warning", "local_share", (
                f"{s}'s {tau:.0%} local share{when} cannot be met: local suppliers can cover at most {best:.0%} of "
                f"its purchases{gap}, so {never}; lower the target or add local offers"),
                where=str(s), required=float(tau), best=best, unit="share of purchases by value"))
            dead[s, t if _phased(d) else None] = f"its {tau:.0%} local share cannot be met (at most {best:.0%})"
    return out, dead
