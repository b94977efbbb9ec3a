"""Check a phased solution against the raw instance tables, period by period.

The rules of a phased plan, recomputed here from the instance's own tables (the carry-forward of
per-period values, lead times, ramp profiles and discounting are written out again, not taken from
the derived tables): demand met or penalised in every period and scenario; production within the
capacity ordered early enough to produce (after its lead time, at its ramp share); builds, modules
and qualifications cumulative and non-decreasing, purchases only from suppliers qualified at least
their qualification lead time before, modules only at sites open by then; the local
share at or above each period's target at open sites; and the cash flows by period adding up, with
the risk premium, to the objective, their capital part recomputed from the schedule.
"""

from __future__ import annotations

import numpy as np

from siting.instance.finance import crf
from siting.report.verify import RTOL, Factors, _columns, _place, _sums


def _periods(raw) -> tuple[list[str], list[int], list[int]]:
    p = raw["periods"]
    order = sorted(range(len(p["id"])), key=lambda k: int(p["start_year"][k]))
    return [p["id"][k] for k in order], [int(p["start_year"][k]) for k in order], [int(p["years"][k]) for k in order]


def _held(table: dict, key: list[str], ids: list[str]) -> dict:
    """(key..., period) -> row number: the row whose values hold in each period (its own, or the
    latest earlier one of the same key; a row without a period holds from the first)."""
    start: dict = {}
    for n in range(len(table[key[0]]) if key else 0):
        label = table["period"][n] if "period" in table else None
        t = 0 if label in (None, "") or label != label else ids.index(label)
        start.setdefault(tuple(table[c][n] for c in key), []).append((t, n))
    out = {}
    for k, rows in start.items():
        rows.sort()
        for t in range(len(ids)):
            at = [n for s, n in rows if s <= t]
            if at:
                out[(*k, ids[t])] = at[-1]
    return out


def _ramp(text) -> list[float]:
    parts = text if isinstance(text, tuple) else [s for s in str(text or "").split(";") if s.strip()]
    return [float(x) for x in parts]


def _repaid(results) -> dict:
    """(instrument, site, row's period, period fallen short, scenario) -> the share repaid then."""
    rep = results.tables.get("repayments")
    if rep is None:
        return {}
    return _sums(zip(rep["instrument"], rep["site"], rep["period"], rep["period_short"], rep["scenario"]),
                 rep["repaid"])


def verify_phased(inst, results, objective: float | None) -> list[str]:
    """Return a readable line for every rule of a phased plan the solution breaks (empty: all hold)."""
    raw = {name: _columns(df) for name, df in inst.tables.items()}
    res = {name: _columns(df) for name, df in results.tables.items()}
    st = inst.settings
    ids, start, years = _periods(raw)
    out: list[str] = []
    scenarios = res["scenarios"]["scenario"]
    factor = Factors(inst)
    markets, sites_at = _place(raw["markets"]), _place(raw["sites"])

    # 1. demand met or penalised in every period and scenario
    prod, unmet = res["production"], res["unmet"]
    made = _sums(zip(prod["market"], prod["product"], prod["period"], prod["scenario"]), prod["wafers_per_year"])
    short = _sums(zip(unmet["market"], unmet["product"], unmet["period"], unmet["scenario"]),
                  unmet["unmet_wafers_per_year"])
    dem = raw["demand"]
    for (market, product, t), n in _held(dem, ["market", "product"], ids).items():
        penalised = dem["penalty_per_wafer"][n] == dem["penalty_per_wafer"][n] or st.unmet_penalty_per_wafer is not None
        for w in scenarios:
            due = float(dem["wafers_per_year"][n]) * factor("demand", w, markets[market], product)
            key = (market, product, t, w)
            got = made.get(key, 0.0) + short.get(key, 0.0)
            if abs(got - due) > RTOL * max(1.0, due):
                out.append(f"demand {key}: supplied + unmet = {got:.6g}, demand is {due:.6g}")
            if short.get(key, 0.0) > RTOL * max(1.0, due) and not penalised:
                out.append(f"demand {key}: {short[key]:.6g} wafers unmet where demand must be met")

    # 2. production within the capacity that has passed its lead time, at its ramp share;
    # 3. modules cumulative, non-decreasing, at sites open by then, within max_modules
    sched = res["schedule"]
    mods = raw["modules"]
    held = _held(mods, ["site", "product"], ids)
    site_lead = dict(zip(raw["sites"]["id"], raw["sites"]["lead_time_years"]))
    count = {(s, p, t): n for s, p, t, n in zip(sched["site"], sched["product"], sched["period"], sched["modules"])}
    is_open = {(s, t): o for s, t, o in zip(sched["site"], sched["period"], sched["site_open"])}
    made_at = _sums(zip(prod["site"], prod["product"], prod["period"], prod["scenario"]), prod["wafers_per_year"])
    for s, p, u, shown in zip(sched["site"], sched["product"], sched["period"], sched["capacity_wafers_per_year"]):
        ui = ids.index(u)
        if ui > 0 and count.get((s, p, ids[ui - 1]), 0) > count[s, p, u]:
            out.append(f"modules ({s}, {p}): {count[s, p, ids[ui - 1]]} by {ids[ui - 1]} but {count[s, p, u]} by {u}")
        if count[s, p, u] > 0 and not is_open.get((s, u), False):
            out.append(f"modules ({s}, {p}, {u}): {count[s, p, u]} at a site not open by then")
        n = held.get((s, p, u))
        if n is not None and count[s, p, u] > int(mods["max_modules"][n]):
            out.append(f"modules ({s}, {p}, {u}): {count[s, p, u]} above max_modules {int(mods['max_modules'][n])}")
        capacity = 0.0
        for ti in range(ui + 1):
            k = held.get((s, p, ids[ti]))
            if k is None:
                continue
            before = count.get((s, p, ids[ti - 1]), 0) if ti > 0 else 0
            ordered = count.get((s, p, ids[ti]), 0) - before
            lead = mods["lead_time_years"][k]
            lead = float(site_lead[s] if lead != lead or lead is None else lead)
            lead = 0.0 if lead != lead else lead
            first = next((v for v in range(ti, len(ids)) if start[v] >= start[ti] + lead), None)
            if first is None or ui < first:
                continue
            ramp = _ramp(mods["ramp"][k]) or _ramp(st.ramp)
            shares = [ramp[y - start[first]] if y - start[first] < len(ramp) else 1.0
                      for y in range(start[ui], start[ui] + years[ui])]
            capacity += float(mods["wafers_per_module"][k]) * ordered * sum(shares) / len(shares)
        if abs(capacity - float(shown)) > RTOL * max(1.0, capacity):
            out.append(f"capacity ({s}, {p}, {u}): the schedule shows {float(shown):.6g}, lead time and ramp "
                       f"give {capacity:.6g}")
        for w in scenarios:
            most = capacity * factor("site", w, sites_at[s], p)
            if made_at.get((s, p, u, w), 0.0) > most + RTOL * max(1.0, most):
                out.append(f"capacity ({s}, {p}, {u}, {w}): makes {made_at[s, p, u, w]:.6g} wafers, "
                           f"{most:.6g} are producing by then")
    for s in set(sched["site"]):
        opened = [bool(is_open.get((s, t), False)) for t in ids]
        if any(a and not b for a, b in zip(opened, opened[1:])):
            out.append(f"site {s}: open in one period and closed in a later one")
    q = res["qualification"]
    qual = {(u, s, t): v for u, s, t, v in zip(q["supplier"], q["site"], q["period"], q["qualified"])}
    for (u, s, t), v in qual.items():
        ti = ids.index(t)
        if ti > 0 and qual.get((u, s, ids[ti - 1]), False) and not v:
            out.append(f"qualification ({u}, {s}): qualified by {ids[ti - 1]} but not by {t}")
    # purchases only after the supplier's qualification lead time: qualified by the latest period
    # starting at least the lead (the offer's, else the supplier's) before the purchase's period
    offers, sups = raw["offers"], raw["suppliers"]
    held_offer = _held(offers, ["supplier", "input"], ids) if offers is not None else {}
    sup_lead = dict(zip(sups["id"], sups.get("qualification_lead_years", [0.0] * len(sups["id"]))))
    proc = res["procurement"]
    for u, i, s, t, units in zip(proc["supplier"], proc["input"], proc["site"], proc["period"], proc["units_per_year"]):
        if units <= RTOL:
            continue
        n = held_offer.get((u, i, t))
        lead = offers.get("qualification_lead_years", [None] * (n + 1))[n] if n is not None else None
        lead = float(sup_lead.get(u) or 0.0) if lead is None or lead != lead else float(lead)
        ti = ids.index(t)
        by = [k for k in range(ti + 1) if start[k] + lead <= start[ti]]
        if not by or not qual.get((u, s, ids[by[-1]]), False):
            when = f"by {ids[by[-1]]}" if by else "before the horizon"
            out.append(f"qualification lead ({u}, {s}): buys {i} in {t} but was not qualified {when} "
                       f"({lead:g} years before)")

    # continued production: a row taken with condition_years keeps its min_utilisation in every
    # period starting within that many years of the first period its capacity produces
    subs, ins = res["subsidies"], raw["instruments"]
    held_g = _held(ins, ["id"], ids) if ins is not None and "condition_years" in ins else {}
    cap_at = _sums(zip(sched["site"], sched["period"]), sched["capacity_wafers_per_year"])
    repaid = _repaid(results)
    paid_g = _sums(zip(subs["instrument"], subs["site"], subs.get("period", [])), subs["payout_total"])
    made_su = _sums(zip(prod["site"], prod["period"], prod["scenario"]), prod["wafers_per_year"])
    for gid, s, t, taken in zip(subs["instrument"], subs["site"], subs.get("period", []), subs["taken"]):
        n = held_g.get((gid, t))
        if n is None or not taken:
            continue
        span, kappa = ins["condition_years"][n], ins["min_utilisation"][n]
        if span is None or span != span or kappa is None or kappa != kappa:
            continue
        rho = ins["repay_share"][n] if "repay_share" in ins else None
        rho = None if rho is None or rho != rho else float(rho)
        ti = ids.index(t)
        lead = site_lead.get(s)
        lead = 0.0 if lead is None or lead != lead else float(lead)
        first = next((v for v in range(ti, len(ids)) if start[v] >= start[ti] + lead), None)
        for u in range(first if first is not None else len(ids), len(ids)):
            if start[u] >= start[first] + float(span) or u == ti:
                continue
            need = float(kappa) * cap_at.get((s, ids[u]), 0.0)
            for w in scenarios:
                if made_su.get((s, ids[u], w), 0.0) < need - RTOL * max(1.0, need):
                    if rho is not None and repaid.get((gid, s, t, ids[u], w), 0.0) >= rho * paid_g.get(
                            (gid, s, t), 0.0) * (1 - RTOL) - RTOL:
                        continue  # fallen short, and the share repaid
                    out.append(f"continued production ({gid}, {s}, {ids[u]}, {w}): makes "
                               f"{made_su.get((s, ids[u], w), 0.0):.6g} wafers, the condition taken in {t} needs "
                               f"{need:.6g}")

    # 6. local share at or above each period's target at sites open by then
    proc = res["procurement"]
    counts = dict(zip(raw["inputs"]["id"], raw["inputs"]["counts_for_local"]))
    klass = dict(zip(raw["inputs"]["id"], raw["inputs"]["class"]))
    binds = scenarios if st.local_share_scenarios == "all" else [w for w in scenarios
                                                                 if w == st.local_share_scenarios]
    lt = raw["local_targets"]
    for (s, t), n in _held(lt, ["site"], ids).items():
        if not is_open.get((s, t), False):
            continue
        target = float(lt["target"][n])
        classes = lt["classes"][n] or ()
        spend: dict = {}
        for s2, i, t2, w, value, local in zip(proc["site"], proc["input"], proc["period"], proc["scenario"],
                                              proc["purchases_per_year"], proc["local"]):
            if s2 == s and t2 == t and counts.get(i, True) and (not classes or klass.get(i) in classes):
                tot = spend.setdefault(w, [0.0, 0.0])
                tot[0] += value
                tot[1] += value * bool(local)
        for w in binds:
            total, local = spend.get(w, (0.0, 0.0))
            if local < target * total - RTOL * max(1.0, total):
                out.append(f"local share ({s}, {t}, {w}): {local / total:.4%} below the target {target:.0%}")

    # cash flows: the capital part recomputed from the schedule, and every period's discounted
    # flows plus the risk premium equal to the objective
    flows = res["periods"]
    rate = st.discount_rate
    site_rate = {s: (st.discount_rate if r != r or r is None else float(r))
                 for s, r in zip(raw["sites"]["id"], raw["sites"]["discount_rate"])}
    site_life = {s: (st.lifetime_years if v != v or v is None else float(v))
                 for s, v in zip(raw["sites"]["id"], raw["sites"]["lifetime_years"])}
    fixed = dict(zip(raw["sites"]["id"], raw["sites"]["fixed_cost"]))
    capex = [0.0] * len(ids)

    def annuity(amount: float, ti: int, life: float, build: float = 0.0) -> None:
        # with capex_over_build, one part a year of the build (a fractional last year its fraction)
        parts = [(start[ti], 1.0)] if build <= 0 else [
            (start[ti] + i, min(1.0, build - i) / build) for i in range(int(np.ceil(build)))]
        for first, part in parts:
            for ui in range(ti, len(ids)):
                for y in range(max(first, start[ui]), start[ui] + years[ui]):
                    share = min(1.0, max(0.0, first + life - y))
                    capex[ui] += amount * part * share * (1 + rate) ** -(y - start[0])

    def lead_of(value, s) -> float:
        value = site_lead[s] if value is None or value != value else value
        return 0.0 if not st.capex_over_build or value is None or value != value else float(value)

    for s in sorted(set(sched["site"])):
        opened = [bool(is_open.get((s, t), False)) for t in ids]
        ti = opened.index(True) if True in opened else None
        if ti is not None:
            annuity(crf(site_rate[s], site_life[s]) * float(fixed[s] or 0.0), ti, site_life[s], lead_of(None, s))
    for (s, p, t), n in held.items():
        ti = ids.index(t)
        ordered = count.get((s, p, t), 0) - (count.get((s, p, ids[ti - 1]), 0) if ti > 0 else 0)
        life = mods["lifetime_years"][n]
        life = site_life[s] if life != life or life is None else float(life)
        annuity(crf(site_rate[s], life) * float(mods["capex_per_module"][n]) * ordered, ti, life,
                lead_of(mods["lead_time_years"][n], s))
    for t, shown, mine in zip(flows["period"], flows["capex_discounted"], capex):
        if abs(float(shown) - mine) > RTOL * max(1.0, abs(mine)):
            out.append(f"cash flows ({t}): capex worth {float(shown):.10g} in the periods table, the schedule "
                       f"gives {mine:.10g}")
    risk = dict(zip(res["costs"]["category"], res["costs"]["cost_per_year"])).get("risk", 0.0)
    total = float(np.sum(np.asarray(flows["discounted"], dtype=float))) + float(risk)
    if objective is not None and st.objective == "cost" and abs(total - objective) > RTOL * max(1.0, abs(objective)):
        out.append(f"cash flows: the periods' discounted flows and the risk premium sum to {total:.10g}, "
                   f"the objective is {objective:.10g}")
    return out
