"""The decision first: one paragraph in plain words that opens every solve's output.

It says the plan, the runner-up and what would flip the choice to it, the limits that bind with
their marginal values, the unmet demand and why, and the status with its gap. The facts come from
the run's own tables (the same numbers as the CSV files), so the words cannot disagree with them;
:func:`headline` returns them as fields beside the text (``summary.json``'s ``headline``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: A capacity or supplier limit binds when one unit more or less moves the cost by at least this
#: much (plain currency a year; below it the change is round-off of the LP re-solves).
BINDS = 0.005
#: Limits of one kind named in the paragraph, the most valuable first; the rest are counted (every
#: one is in the fields).
NAMED = 2


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def _series(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _money(x: float, digits: int = 1) -> str:
    return f"{x + 0.0:,.{digits}f}"


def _plan(res, d_unit: str) -> dict:
    sites = res.tables["sites"]
    cap = res.tables["capacity"]
    if "period" in cap.columns and len(cap):
        cap = cap[cap["period"] == cap["period"].iloc[-1]]
    opened = []
    for _, r in sites[sites["open"].astype(bool)].iterrows():
        mine = cap[(cap["site"] == r["site"]) & (cap["modules"] > 0)]
        opened.append({"site": r["site"], "capacity_wafers_per_year": float(r["capacity_wafers_per_year"]),
                       "modules": {p: int(n) for p, n in zip(mine["product"], mine["modules"])}})
    closed = [s for s, o in zip(sites["site"], sites["open"].astype(bool)) if not o]
    return {"open": opened, "closed": closed}


def _plan_words(plan: dict, cost: str) -> str:
    parts = []
    for s in plan["open"]:
        mods = _series([_plural(n, f"{p} module") for p, n in s["modules"].items()])
        parts.append(f"{s['site']} ({s['capacity_wafers_per_year']:,.0f} wafers/yr" + (f": {mods})" if mods else ")"))
    if not parts:
        text = "Open no site"
    elif len(parts) == 1:
        text = f"Open {parts[0]}"
    else:
        text = f"Open {_plural(len(parts), 'site')}: " + _series(parts)
    text += f" at {cost}"
    closed = plan["closed"]
    if closed:
        text += "; leave " + (_series(closed) if len(closed) <= 6 else _plural(len(closed), "other site")) + " closed"
    return text + "."


def _runner_words(r: dict, money: str, phased: bool) -> str:
    if not r:
        return ("The runner-up was not searched (--no-runner-up); `siting alternatives` lists the next plans.")
    if r.get("searched") is False:
        return f"The runner-up was not searched: {r.get('reason', '')}; `siting alternatives` lists the next plans."
    if not r.get("found"):
        return f"There is no runner-up: {r.get('reason', 'no other set of open sites')}."
    unit = f"{money} of net present value" if phased else f"{money}/yr"
    text = (f"The runner-up, {r['plan']}, costs {_money(r['difference'], 3)} {unit} more "
            f"({r['relative']:+.2%})")
    site = r.get("lump_sum_site")
    if site and phased:
        text += (f"; an offer to {site} worth more than {_money(r['difference'], 3)} {money} in present value "
                 "would flip the choice to it")
    elif site:
        text += (f"; a lump sum above {_money(r['lump_sum_total'], 3)} {money} paid on opening {site} "
                 f"({_money(r['lump_sum_per_year'], 3)} {money}/yr annualised) would flip the choice to it")
    else:
        text += "; " + str(r.get("lump_sum_note", ""))
    within = r.get("within") or 0.0
    if within > 1e-9:
        text += f" (exact to within {within:,.3g} {unit}, the two solves' gaps)"
    return text + "."


def _limits(shadow: pd.DataFrame | None, scenarios: int, targets: dict) -> list[dict]:
    """Each limit that binds, once: its largest probability-weighted value over the scenarios."""
    if shadow is None or len(shadow) == 0:
        return []
    keys = [c for c in ("constraint", "site", "product", "supplier", "input", "period") if c in shadow.columns]
    # plain records: a few hundred rows at most, where a pandas group-by costs more than the arithmetic
    groups: dict[tuple, list[dict]] = {}
    for r in shadow.to_dict("records"):
        groups.setdefault(tuple(None if pd.isna(r[k]) else r[k] for k in keys), []).append(r)
    out = []
    for key, rows in groups.items():
        local = key[0] == "local_share"
        sizes = [max((abs(float(r[c])) for c in ("more", "less") if not pd.isna(r[c])), default=0.0) for r in rows]
        bound = [x > (1e-9 if local else BINDS) for x in sizes]
        if not any(bound):
            continue
        top = max(range(len(rows)), key=lambda k: sizes[k] if bound[k] else -1.0)
        r = rows[top]
        item = dict(zip(keys, key))
        item.update(more=_none(r["more"]), less=_none(r["less"]), unit=r["unit"], meaning=r["meaning"],
                    size=sizes[top])
        if local:
            item["target"] = targets.get(item["site"])
        if scenarios > 1:
            item.update(scenario=r["scenario"], scenarios_binding=sum(bound), scenarios=scenarios)
        out.append(item)
    return out


def _none(x) -> float | None:
    return None if pd.isna(x) else float(x) + 0.0


def _limit_words(item: dict, currency: str) -> str:
    kind = item["constraint"]
    more, less = item["more"] or 0.0, item["less"] or 0.0
    if kind == "local_share":
        target = item.get("target")
        what = f"the {'' if target is None else f'{target:.0%} '}local-share target at {item['site']}"
        unit = str(item["unit"]).replace(" per point", "").replace(" per year", "/yr")
        effect = (f"one more point costs {_money(more, 3)} {unit}" if abs(more) > 1e-9
                  else f"one point less saves {_money(-less, 3)} {unit}")
    else:
        what = (f"capacity of {item['site']} {item['product']}" if kind == "capacity"
                else f"{item['supplier']}'s {item['input']} capacity")
        unit = "wafer" if kind == "capacity" else "unit"
        effect = (f"one more {unit}/yr saves {_money(-more, 2)} {currency}/yr" if -more >= BINDS
                  else f"one {unit}/yr less costs {_money(less, 2)} {currency}/yr")
    if item.get("period"):
        what += f" in {item['period']}"
    if item.get("scenarios", 1) > 1:
        effect += (f" in {item['scenario']}, probability-weighted; binds in {item['scenarios_binding']} of "
                   f"{item['scenarios']} scenarios")
    return f"{what} ({effect})"


def _binding_words(limits: list[dict], currency: str) -> str:
    if not limits:
        return "No local-share target, capacity or supplier limit binds."
    parts = []
    for kind, one, many in (("local_share", "local-share target", "local-share targets"),
                            ("capacity", "capacity", "capacities"),
                            ("supplier_capacity", "supplier capacity", "supplier capacities")):
        mine = sorted((x for x in limits if x["constraint"] == kind), key=lambda x: -x["size"])
        if not mine:
            continue
        named = [_limit_words(x, currency) for x in mine[:NAMED]]
        rest = len(mine) - len(named)
        parts.append(_series(named + ([_plural(rest, f"other {one}", f"other {many}")] if rest else [])))
    return "What binds: " + "; ".join(parts) + "."


def _drawn_out(res, inst) -> dict:
    """(site, scenario) -> the products that draw a resource of that site the plan uses to the
    most it may draw (its limit plus all the extra supply there is), with the resources' ids."""
    table = res.tables.get("resources")
    if table is None or not len(table):
        return {}
    raw = inst["resources"]
    cost, most = raw["extra_cost"].astype(float), raw["extra_max"].astype(float)
    extra = dict(zip(raw["id"], np.where(cost.isna(), 0.0, most.fillna(np.inf))))
    use = inst["resource_use"]
    drawn_by: dict = {}
    for r, p, u in zip(use["resource"], use["product"], use["per_wafer"].astype(float)):
        if u > 0:
            drawn_by.setdefault(r, set()).add(p)
    out: dict = {}
    for r, site, w, limit, used in zip(table["resource"], table["site"], table["scenario"], table["limit"],
                                       table["used"]):
        if limit > 0 and used >= (limit + extra[r]) * (1 - 1e-6):
            for p in drawn_by.get(r, ()):
                out.setdefault((site, w, p), []).append(str(r))
    return out


def _unmet(res, money_multiplier: float, currency: str, drawn_out: dict | None = None) -> dict:
    """Expected unmet demand by product, with the reason the plan leaves it unmet: every site at
    its module limit, a site resource drawn to the most it may (``drawn_out``, from
    :func:`_drawn_out`), or a penalty cheaper than serving."""
    unmet = res.tables["unmet"]
    scen = res.tables["scenarios"]
    p = dict(zip(scen["scenario"], scen["probability"]))
    u = unmet.assign(prob=unmet["scenario"].map(p))
    if "period" in u.columns and u["period"].nunique() > 1:
        u = u[u["period"] == u["period"].iloc[-1]]
    cap = res.tables["capacity"]
    if "period" in cap.columns and len(cap):
        cap = cap[cap["period"] == cap["period"].iloc[-1]]
    demand = float((u["demand_wafers_per_year"] * u["prob"]).sum())
    expected = float((u["unmet_wafers_per_year"] * u["prob"]).sum())
    products = []
    for prod, g in u.groupby("product", sort=False):
        short = float((g["unmet_wafers_per_year"] * g["prob"]).sum())
        if short < 0.5:
            continue
        where = sorted({s for s, x in zip(g["scenario"], g["unmet_wafers_per_year"]) if x >= 0.5})
        rows = cap[cap["product"] == prod]
        at_limit = bool(len(rows)) and bool((rows["modules"] >= rows["max_modules"]).all())
        per_wafer = float(g["penalty_per_year"].sum() / max(g["unmet_wafers_per_year"].sum(), 1e-12)) * money_multiplier
        # a site that could make more of the product but has drawn a resource it uses to the most it may
        held = sorted({f"{site}/{r}" for site in set(rows["site"]) for w in where
                       for r in (drawn_out or {}).get((site, w, prod), ())})
        if held:
            one = len(held) == 1
            named = _series([f"{h.split('/', 1)[1]} at {h.split('/', 1)[0]}" for h in held])
            reason = (f"the site resource{'' if one else 's'} {named} {'is' if one else 'are'} used to the full "
                      "(the limit and any extra supply)")
        elif at_limit:
            reason = f"every site that can make {prod} is at its module limit"
        else:
            reason = (f"serving it would cost more than its penalty of {per_wafer:,.0f} {currency} per wafer, "
                      "though more capacity could be built")
        products.append({"product": prod, "expected_wafers_per_year": short, "reason": reason,
                         "at_module_limit": at_limit, "resources_drawn_out": held, "penalty_per_wafer": per_wafer,
                         "scenarios": where if len(p) > 1 else []})
    return {"expected_wafers_per_year": expected, "share_of_demand": expected / demand if demand else 0.0,
            "by_product": products, "scenarios": len(p), "currency": currency}


def _unmet_words(u: dict) -> str:
    if u["expected_wafers_per_year"] < 0.5:
        return "All demand is met" + (" in every scenario." if u["scenarios"] > 1 else ".")
    lead = "expected " if u["scenarios"] > 1 else ""
    limited: list[tuple] = []
    dearer: list[tuple] = []
    held: list[tuple] = []
    for x in u["by_product"]:
        only = ""
        if 0 < len(x["scenarios"]) < u["scenarios"]:
            only = f" (only in {_series(x['scenarios'])})" if len(x["scenarios"]) <= 3 else \
                f" (in {len(x['scenarios'])} of {u['scenarios']} scenarios)"
        kind = held if x.get("resources_drawn_out") else limited if x["at_module_limit"] else dearer
        kind.append((x, f"{x['product']} {x['expected_wafers_per_year']:,.0f}{only}"))
    parts = []
    if dearer:
        penalties = _series([f"{x['penalty_per_wafer']:,.0f}" for x, _ in dearer])
        one = len(dearer) == 1
        parts.append(f"{_series([t for _, t in dearer])} wafers/yr cost more to serve than {'its' if one else 'their'} "
                     f"{'penalty' if one else 'penalties'} ({penalties} {u['currency']} per wafer), though more "
                     "capacity could be built.")
    for x, text in limited:
        parts.append(f"{text} wafers/yr: every site that can make {x['product']} is at its module limit.")
    for x, text in held:
        parts.append(f"{text} wafers/yr: {x['reason']}.")
    return (f"Unmet demand: {u['expected_wafers_per_year']:,.0f} wafers/yr {lead}"
            f"({u['share_of_demand']:.1%} of demand). " + " ".join(parts))


def _status_words(out, phased: bool, money: str) -> str:
    if out.mip_gap is None or out.best_bound is None:
        return f"Status: {out.status}."
    what = "net present value of the firm's cost" if phased else "firm cost"
    if out.status == "optimal":
        return (f"Status: optimal (gap {out.mip_gap:.4%}: no plan costs less than "
                f"{_money(out.best_bound, 3)} {money}).")
    return (f"Status: {out.status}, not proven optimal: gap {out.mip_gap:.4%}, so the best plan may have a "
            f"{what} as low as {_money(out.best_bound, 3)} {money}.")


def headline(run) -> dict:
    """The headline of a run: its facts as fields, and ``text``, the paragraph that says them.

    Parameters
    ----------
    run
        A :class:`siting.run.Run`; its ``runner_up`` is read when ``siting solve`` searched for one.

    Returns
    -------
    dict
        ``text``; ``status``, ``mip_gap``, ``objective``, ``best_bound``; with a solution also
        ``plan`` (``open``: site, capacity, modules by product; ``closed``), ``runner_up`` (see
        :func:`siting.analysis.alternatives.runner_up`; empty when not searched), ``binding`` (each
        limit that binds with its one-sided marginal values, the largest over the scenarios and
        where it binds) and ``unmet`` (expected unmet wafers a year, share of demand, and per
        product the reason).
    """
    out, inst = run.outcome, run.instance
    st = inst.settings
    phased = not inst["periods"].empty
    facts: dict = {"status": out.status, "mip_gap": out.mip_gap, "objective": out.objective,
                   "best_bound": out.best_bound}
    res = run.results
    if res is None:
        first = run.diagnosis[0].message if run.diagnosis else (out.termination or "")
        facts["text"] = (f"No plan: the solve ended {out.status}" + (f"; {first}" if first else "") + ".")
        return facts
    cost = (f"a net present value of the firm's cost of {_money(out.objective, 1)} {st.money_label}" if phased
            else f"a firm cost of {_money(out.objective, 1)} {st.money_label}/yr")
    facts["plan"] = _plan(res, st.money_label)
    facts["runner_up"] = dict(run.runner_up)
    sites = res.tables["sites"]
    targets = {s: (None if pd.isna(t) else float(t)) for s, t in zip(sites["site"], sites["local_target"])}
    facts["binding"] = _limits(run.shadow, len(res.tables["scenarios"]), targets)
    facts["unmet"] = _unmet(res, st.money_multiplier, st.currency, _drawn_out(res, inst))
    sentences = [_plan_words(facts["plan"], cost), _runner_words(facts["runner_up"], st.money_label, phased),
                 _binding_words(facts["binding"], st.currency), _unmet_words(facts["unmet"]),
                 _status_words(out, phased, st.money_label)]
    facts["text"] = " ".join(sentences)
    for item in facts["binding"]:
        item.pop("size", None)
    return facts

