"""The readable summary a solve prints: plan, costs, supplier mix, shadow prices."""

from __future__ import annotations

import math
import os
import shutil
import sys
import textwrap

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from siting.report.extract import expected_mix

#: Above this many sites the console lists only the open ones.
MAX_SITE_ROWS = 25


def _num(x, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    text = f"{x:,.{digits}f}"
    # a value that rounds to zero shows no sign ("-0.000" reads as a saving that is not there)
    return text[1:] if text.startswith("-") and not text.strip("-0.,") else text


def _pct(x) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.1%}"


def headline(run) -> str:
    """One line: status, objective, gap and bound."""
    out = run.outcome
    money = run.instance.settings.money_label
    if out.objective is None:
        return f"{run.instance.name}: {out.status} ({out.termination})"
    gap = "-" if out.mip_gap is None else f"{out.mip_gap:.4%}"
    bound = "-" if out.best_bound is None else f"{out.best_bound:,.3f}"
    cost = (f"net present value of the firm's cost {out.objective:,.3f} {money}" if _phased(run)
            else f"firm cost {out.objective:,.3f} {money}/yr")
    return f"{run.instance.name}: {out.status}, {cost} (gap {gap}, best bound {bound})"


def _phased(run) -> bool:
    return not run.instance["periods"].empty


def _print_schedule(res, console: Console) -> None:
    """The build schedule (modules by then, and capacity producing, per period) and the local-share
    path against its targets, for a phased plan."""
    sched = res.tables["schedule"]
    periods = list(dict.fromkeys(res.tables["periods"]["period"]))
    built = sched.groupby(["site", "product"], sort=False)["modules"].max()
    table = Table(title="Schedule (modules ordered by then / wafers a year producing)", title_justify="left")
    for col in ("site", "product", "ordered", "producing", *periods):
        table.add_column(col, justify="left" if col in ("site", "product") else "right")
    for (s, p), grp in sched.groupby(["site", "product"], sort=False):
        if built[s, p] == 0:
            continue
        cells = dict(zip(grp["period"], zip(grp["modules"], grp["capacity_wafers_per_year"])))
        table.add_row(s, p, str(grp["first_ordered"].iloc[-1]), str(grp["first_producing"].iloc[-1]),
                      *[f"{cells[t][0]} / {cells[t][1]:,.0f}" if t in cells else "-" for t in periods])
    if table.row_count:
        console.print(table)
    else:
        console.print("schedule: nothing is built")
    share = res.tables["local_share"]
    for s, grp in share.groupby("site", sort=False):
        path = ", ".join(f"{t} {_pct(a)} (target {_pct(g)})"
                         for t, a, g in zip(grp["period"], grp["achieved"], grp["target"]))
        console.print(f"local-share path at {s}: {path}")


class _Console(Console):
    """A console that, when its reader goes away (``siting solve ... | head``), stops printing
    but lets the command finish, so the exit code still tells the solve's status."""

    def on_broken_pipe(self) -> None:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def make_console() -> Console:
    """A console at least 110 characters wide, also when the output goes to a file or a pipe."""
    width = shutil.get_terminal_size((110, 24)).columns
    return _Console(width=max(width, 110))


def _print_scenarios(run, console: Console) -> None:
    """Per-scenario cost and unmet demand, the risk figures, and VSS and EVPI when computed."""
    res = run.results
    scen = res.tables["scenarios"]
    risk = res.risk
    money = run.instance.settings.money_label
    if len(scen) > 1:
        table = Table(title=f"Scenarios (the plan's total annual cost in each, {money}/yr)", title_justify="left")
        for col in ("scenario", "probability", "cost", "unmet wafers/yr", "unmet share"):
            table.add_column(col, justify="left" if col == "scenario" else "right")
        for _, r in scen.iterrows():
            share = r["unmet_wafers_per_year"] / r["demand_wafers_per_year"] if r["demand_wafers_per_year"] else 0.0
            table.add_row(r["scenario"], f"{r['probability']:.3f}", _num(r["cost_per_year"], 3),
                          _num(r["unmet_wafers_per_year"], 0), _pct(share))
        console.print(table)
        console.print(f"risk: expected cost {_num(risk['expected_cost'], 3)}, CVaR {risk['cvar_level']:.0%} "
                      f"{_num(risk['cvar'], 3)}, worst {_num(risk['worst_case'], 3)} ({risk['worst_scenario']}); "
                      f"unmet expected {_num(risk['expected_unmet'], 0)}, worst {_num(risk['worst_unmet'], 0)} "
                      f"wafers/yr ({risk['worst_unmet_scenario']}); risk weight {risk['risk_weight']:g}")
    for key, label in (("vss", "value of the stochastic solution (VSS)"),
                       ("evpi", "expected value of perfect information (EVPI)")):
        item = run.risk_report.get(key)
        if item is None:
            continue
        per = " (present value)" if _phased(run) else "/yr"
        value = "-" if item.get("value") is None else f"{item['value']:,.3f} {money}{per}"
        console.print(f"{label}: {value} ({item['solves']} solves{'; ' + item['note'] if item.get('note') else ''})")
    ci = getattr(run, "confidence", None)
    if ci:
        if ci.get("gap_upper") is None:
            console.print(f"optimality gap of the sampled plan: no interval ({ci.get('note', '')})")
        else:
            console.print(f"optimality gap of the sampled plan: within [0, {ci['gap_upper']:,.3f}] {money}/yr "
                          f"({_pct(ci['relative_upper'])} of the objective) at {ci['level']:.0%} confidence; "
                          f"mean {ci['gap_mean']:,.3f} over {ci['replications']} samples of {ci['draws']} draws "
                          f"({ci['solves']} solves)")


def print_run(run, console: Console | None = None) -> None:
    """Print the plan of a solved run (only open sites get shadow-price lines)."""
    console = console or make_console()
    money = run.instance.settings.money_label
    if run.results is None and run.diagnosis:
        # the headline would repeat every finding in one line; they are listed below instead
        console.print(f"[bold]{run.instance.name}: {run.outcome.status}: no plan meets every rule[/bold]")
    else:
        console.print(f"[bold]{escape(headline(run))}[/bold]")
    if run.results is not None:
        from siting.report.headline import headline as decision

        text = textwrap.fill(decision(run)["text"], width=console.width - 1)
        console.print(escape(text), soft_wrap=True)
    t = run.times
    diagnose = f", diagnose {t['diagnose']:.2f}s" if "diagnose" in t else ""
    runner = f"; runner-up {t['runner_up']:.2f}s" if "runner_up" in t else ""
    console.print(f"times: load {t['load']:.2f}s, build {t['build']:.2f}s, solve {t['solve']:.2f}s, "
                  f"extract {t['extract']:.2f}s{diagnose}, total {t['total']:.2f}s{runner}")
    dec = getattr(run, "decomposition", None)
    if dec:
        xhat = dec.get("xhat_objective")
        console.print(f"progressive hedging (mpi-sppy: {', '.join(dec.get('cylinders', []))}; {dec['ranks']} ranks, "
                      f"{dec['iterations']} iterations, convergence {dec['convergence'] or 0:.3g}): bound "
                      f"{dec['bound']:,.3f} (trivial {dec['trivial_bound']:,.3f})"
                      + (f", x-hat {xhat:,.3f}" if xhat is not None else "")
                      + f"; plan from {dec['plan_from'].replace('_', ' ')} evaluated at {dec['plan_cost'] or 0:,.3f}, "
                      f"gap {(dec['gap'] or 0):.4%}, {dec['seconds']:.1f}s")
    # numerics warnings are logged once, before HiGHS starts (siting.solve), and kept in summary.json
    for f in run.screens:
        if f not in run.diagnosis:
            colour = "red" if f.kind == "infeasible" else "yellow"
            console.print(f"[{colour}]{f.kind}: {escape(f.message)}[/{colour}]")
    if run.diagnosis:
        console.print(f"[red]what must give (found by the {run.diagnosis[0].found_by}):[/red]")
        for f in run.diagnosis:
            lead = "  " if f.alternative else "- "
            text = textwrap.fill(f.message, width=console.width - 1, initial_indent=lead, subsequent_indent="  ")
            console.print(escape(text), soft_wrap=True)
    res = run.results
    if res is None:
        return
    sites = Table(title=f"Sites (wafers per year; subsidy in {money}, undiscounted)", title_justify="left")
    for col in ("site", "country", "open", "capacity", "production", "utilisation",
                "local share", "target", "subsidy"):
        sites.add_column(col, justify="right" if col not in ("site", "country", "open") else "left")
    rows = res.tables["sites"]
    hidden = 0
    if len(rows) > MAX_SITE_ROWS:  # a long list of closed sites hides the plan: show the open ones
        hidden = int((~rows["open"]).sum())
        rows = rows[rows["open"]]
    for _, r in rows.iterrows():
        sites.add_row(r["site"], r["country"], "yes" if r["open"] else "no",
                      _num(r["capacity_wafers_per_year"], 0), _num(r["production_wafers_per_year"], 0),
                      _pct(r["utilisation"]), _pct(r["local_share"]), _pct(r["local_target"]),
                      _num(r["subsidy_total"]))
    console.print(sites)
    if hidden:
        console.print(f"({hidden} closed site{'' if hidden == 1 else 's'} not shown; see sites.csv)")
    cap = res.tables["capacity"]
    built = cap[(cap["modules"] > 0) & (cap["period"] == cap["period"].iloc[-1] if len(cap) else True)]
    if 0 < len(built) <= MAX_SITE_ROWS:
        console.print("capacity built: " + "; ".join(
            f"{r['site']} {r['product']} {r['modules']} module{'' if r['modules'] == 1 else 's'} = "
            f"{r['capacity_wafers_per_year']:,.0f} wafers/yr"
            for _, r in built.iterrows()))
    _print_subsidies(console, res.tables["subsidies"], money)
    if "schedule" in res.tables:
        _print_schedule(res, console)
    costs = Table(title=(f"Net present value by category ({money})" if _phased(run)
                         else f"Annual cost ({money}/yr)"), title_justify="left")
    costs.add_column("category")
    costs.add_column("cost", justify="right")
    for cat, v in res.costs.items():
        costs.add_row(cat, _num(v, 3))
    costs.add_row("[bold]total[/bold]", f"[bold]{_num(sum(res.costs.values()), 3)}[/bold]")
    console.print(costs)
    _print_scenarios(run, console)
    several = res.tables["scenarios"]["scenario"].nunique() > 1
    last = res.tables["periods"]["period"].iloc[-1] if "schedule" in res.tables else None
    mix = expected_mix(res.tables)  # the last period's mix of a phased plan, expected over the scenarios
    if len(mix):
        title = ("Supplier mix (share of each input" + (f" in {last}" if last is not None else "")
                 + (", expected over the scenarios" if several else ""))
        table = Table(title=title + "; * = local)", title_justify="left")
        table.add_column("site")
        table.add_column("input")
        table.add_column("suppliers")
        for (s, i), grp in mix.groupby(["site", "input"], sort=False):
            parts = [f"{r['supplier']}{'*' if r['local'] else ''} {r['share']:.0%}"
                     for _, r in grp.sort_values("share", ascending=False).iterrows()]
            table.add_row(s, i, ", ".join(parts))
        console.print(table)
    shadow = run.shadow
    if shadow is not None and len(shadow):
        # with several scenarios a row's dual is its scenario's share of the objective's change
        def where(r) -> str:
            at = f" in {r['period']}" if "period" in r and isinstance(r["period"], str) else ""
            return at + (f" in scenario {r['scenario']}" if several else "")

        def amount(x: float, digits: int) -> str:
            return "no plan" if math.isnan(x) else _num(x, digits)

        local = shadow[shadow["constraint"] == "local_share"]
        for _, r in local.iterrows():
            per = " of net present value" if _phased(run) else "/yr"
            console.print(f"local-share target at {r['site']}{where(r)}: one more point costs "
                          f"{amount(r['more'], 3)}, one less saves {amount(-r['less'], 3)} {money}{per}")
        # a capacity binds if either one more unit saves or one less unit costs (at a kink of the
        # cost curve the two differ, and one of them may be zero)
        rest = shadow[shadow["constraint"] != "local_share"]
        binding = rest[(rest["more"].abs() >= 0.005) | ~(rest["less"].abs() < 0.005)]
        for _, r in binding.iterrows():
            who = (f"{r['site']} {r['product']}" if r["constraint"] == "capacity"
                   else f"{r['supplier']} ({r['input']})")
            console.print(f"binding {r['constraint'].replace('_', ' ')} {who}{where(r)}: one more unit per year "
                          f"saves {amount(-r['more'], 2)}, one less costs {amount(r['less'], 2)} "
                          f"{run.instance.settings.currency}/yr")
    if run.violations:
        console.print(f"[red]solution check failed ({len(run.violations)}):[/red]")
        for line in run.violations:
            console.print(f"[red]  {line}[/red]")
    else:
        console.print("solution checked against the instance tables: all rules hold")


def _print_subsidies(console: Console, subs, money: str) -> None:
    """Instruments that pay, and conditional offers with the firm's decision."""
    shown = subs[(subs["payout_total"] > 0) | subs["conditional"]]
    if shown.empty:
        return
    if len(shown) > MAX_SITE_ROWS:
        shown = shown[shown["payout_total"] > 0]
    t = Table(title=f"Subsidies ({money}; per year annualised like capex)", title_justify="left")
    for col in ("instrument", "kind", "site", "paid by", "offer", "total", "per year"):
        t.add_column(col, justify="right" if col in ("total", "per year") else "left")
    for _, r in shown.iterrows():
        offer = ("taken" if r["taken"] else "declined") if r["conditional"] else "-"
        t.add_row(r["instrument"], r["kind"].replace("_", " "), r["site"], r["provider_country"], offer,
                  _num(r["payout_total"], 1), _num(r["payout_per_year"], 3))
    console.print(t)
