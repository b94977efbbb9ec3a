""""Why not here?": the optimum beside the plan with one site forced the other way.

The answer is read at the site in question, S, on its own output. Of the two plans, W is the one
with S open and O the other (the optimum and the counterfactual, in the order the question puts
them). With Q the wafers S makes in W and C_c a plan's annual cost in category c:

- ``at_site_per_wafer``: what S itself costs in W per wafer it makes, C_c(W at S) / Q: its capex
  annuity, the qualifications and purchases for it, its operating cost, inbound and outbound
  freight and tariffs, less its subsidies (unmet demand and the risk premium belong to no site);
- ``instead_per_wafer``: what O spends instead, per wafer of S's output: C_c(O) minus what W
  spends away from S, divided by Q;
- ``difference_per_wafer`` = at site - instead = (C_c(W) - C_c(O)) / Q, and
  ``difference_per_year`` = C_c(W) - C_c(O).

So every row's per-wafer and per-year differences have the same sign (positive: the plan with S
costs more), and the total's per-year difference is the break-even lump sum of
:mod:`siting.analysis.breakeven` (annualised) when S is closed in the optimum, or minus what S
could lose when it is open. The network-wide landed costs of both plans (each category over all
the wafers the plan makes) are kept beside them (``optimum_*``, ``counterfactual_*``).

``--instead-of T`` asks "what if the fab were at S instead of T": the counterfactual is the plan
with S holding at least the capacity the optimum builds at T and T not built
(:func:`siting.analysis.breakeven.price_move`).

On a phased instance the site's own columns are left empty (its costs are spread over periods
and discounted) and the table compares the two plans' levelised costs: each category is its net
present value over the horizon (the columns named ``_per_year`` hold it) and the wafers are
discounted the same way: the per-wafer figure is the present value of the category over the
present value of the wafers made in every year of the horizon (each period's expected production
a year times its discount weight). With one
period of one year both are the snapshot's figures.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from siting.analysis.breakeven import Breakeven, breakeven
from siting.instance.read import RawInstance
from siting.model.objective import CATEGORIES
from siting.report.figures import plan_figures
from siting.report.write import json_safe
from siting.solve import SolverOptions

#: Waterfall labels of the cost categories.
LABELS = {"capex": "capex annuity", "qualification": "qualification", "operating": "operating cost",
          "purchases": "purchases", "freight": "freight", "tariffs": "tariffs", "unmet_penalty": "unmet demand",
          "subsidies": "subsidy", "risk": "risk premium (CVaR)"}


def site_costs(run, site: str) -> tuple[dict[str, float], float]:
    """What ``site`` costs in ``run``'s plan by category (money unit a year, expected over the
    scenarios, as the registry counts them), and the wafers it makes a year (expected).

    Capex is CRF x (fixed cost x build + capex per module x modules), qualification CRF x cost of
    each supplier qualified there, running costs the routes out of it and the arcs into it weighted
    by scenario probability, subsidies minus the annualised payouts of the instruments paid there.
    """
    d, sol = run.data, run.results.solution
    prob = dict(zip(d.scenarios["id"], d.scenarios["probability"]))
    j = d.sites.index[d.sites["site"] == site][0]
    crf = float(d.sites.at[j, "crf"])
    m = d.modules
    at = (m["site"] == site).to_numpy()
    out = {c: 0.0 for c in CATEGORIES}
    out["capex"] = crf * float(d.sites.at[j, "fixed_cost"]) * sol.build[j] + float(np.sum(
        (m["crf"].to_numpy() * m["capex_per_module"].to_numpy() * sol.modules)[at]))
    q = (d.qualifications["site"] == site).to_numpy()
    out["qualification"] = crf * float(np.sum((d.qualifications["cost"].to_numpy() * sol.qualify)[q]))
    r = d.routes
    here = (r["site"] == site).to_numpy()
    w = r["scenario"].map(prob).to_numpy(dtype=float) * sol.produce
    out["operating"] = float(np.sum((r["operating"].to_numpy() * w)[here]))
    out["freight"] = float(np.sum((r["freight"].to_numpy() * w)[here]))
    out["tariffs"] = float(np.sum((r["tariff"].to_numpy() * w)[here]))
    made = float(np.sum(w[here]))
    a = d.arcs
    into = (a["site"] == site).to_numpy()
    v = a["scenario"].map(prob).to_numpy(dtype=float) * sol.purchase
    out["purchases"] = float(np.sum((a["price"].to_numpy() * v)[into]))
    out["freight"] += float(np.sum((a["freight"].to_numpy() * v)[into]))
    out["tariffs"] += float(np.sum((a["tariff"].to_numpy() * v)[into]))
    subs = run.results.tables["subsidies"]
    out["subsidies"] = -float(subs.loc[subs["site"] == site, "payout_per_year"].sum())
    return out, made


def landed_costs(answer: Breakeven, other=None) -> pd.DataFrame:
    """One row per cost category: the site's own landed cost per wafer beside what the plan without
    it spends instead (see the module docstring), the annual costs of both plans, and the
    network-wide landed cost of each. ``other``: the counterfactual run (default ``answer.other``)."""
    other = answer.other if other is None else other
    runs = {"optimum": answer.base, "counterfactual": other}
    money = answer.base.instance.settings.money_multiplier
    site = answer.site
    with_site = other if _open(other, site) else answer.base
    without = answer.base if with_site is other else other
    # on a phased instance the site's own costs are spread over periods and discounted: only the
    # plans' levelised costs are compared
    mine, q = site_costs(with_site, site) if not answer.phased else ({c: 0.0 for c in CATEGORIES}, 0.0)
    rows = []
    made = {k: _wafers(r) for k, r in runs.items()}
    for c in CATEGORIES:
        if c == "risk" and all(abs(r.results.costs.get(c, 0.0)) < 1e-12 for r in runs.values()):
            continue  # no CVaR weight: no risk premium in either plan
        w_c, o_c = with_site.results.costs.get(c, 0.0), without.results.costs.get(c, 0.0)
        row: dict = {"category": LABELS[c],
               "at_site_per_wafer": mine[c] * money / q if q > 0 else float("nan"),
               "instead_per_wafer": (o_c - (w_c - mine[c])) * money / q if q > 0 else float("nan"),
               "with_site_per_year": w_c, "without_site_per_year": o_c}
        for k, r in runs.items():
            row[f"{k}_per_year"] = r.results.costs.get(c, 0.0)
            row[f"{k}_per_wafer"] = row[f"{k}_per_year"] * money / made[k] if made[k] > 0 else float("nan")
        rows.append(row)
    df = pd.DataFrame(rows)
    total = {"category": "total"}
    for col in df.columns[1:]:
        total[col] = df[col].sum()
    df = pd.concat([df, pd.DataFrame([total])], ignore_index=True)
    df["difference_per_year"] = df["with_site_per_year"] - df["without_site_per_year"]
    df["difference_per_wafer"] = df["at_site_per_wafer"] - df["instead_per_wafer"]
    df.attrs["site_wafers"] = q
    return df


def _open(run, site: str) -> bool:
    t = run.results.tables["sites"].set_index("site")
    return bool(t.at[site, "open"])



def _wafers(run) -> float:
    """Wafers the plan makes a year, or on a phased instance over the horizon, discounted."""
    res, cal = run.results, run.data.calendar
    if "schedule" not in res.tables:
        return float(res.tables["sites"]["production_wafers_per_year"].sum())
    s = res.tables["schedule"]
    weight = [cal.weight(cal.index(t)) for t in s["period"]]
    return float((s["production_wafers_per_year"].to_numpy(dtype=float) * weight).sum())



def explain(raw: RawInstance, site: str, options: SolverOptions,
            instead_of: str | None = None) -> tuple[Breakeven, pd.DataFrame]:
    """Solve the optimum and the plan with ``site`` forced the other way (with ``instead_of``: the
    plan with the fab moved from that site to ``site``); compare their landed costs."""
    answer = breakeven(raw, site, options, "lump", instead_of=instead_of)
    return answer, landed_costs(answer, answer.moved_run)


def counterfactual_label(answer: Breakeven) -> str:
    """The counterfactual plan's name, e.g. "phoenix forced open"."""
    if answer.moves:
        return f"{answer.site} instead of {answer.moves['instead_of']}"
    return f"{answer.site} forced {'closed' if answer.direction == 'stays-open' else 'open'}"


def write_explanation(answer: Breakeven, df: pd.DataFrame, out: Path, options: SolverOptions,
                      command: list[str]) -> list[str]:
    """explain.csv, explain.png, explain.json and, last, manifest.json."""
    from html import escape

    from siting.report import charts
    from siting.report.html import table_html
    from siting.report.write import manifest_base, write_analysis

    st = answer.base.instance.settings
    q, site = df.attrs.get("site_wafers", 0.0), answer.site
    files = {"explain.csv": df.to_csv(index=False, float_format="%.10g"),
             "explain.png": charts.landed_cost_waterfalls(
                 df, ("at_site", "instead"),
                 (f"at {site}: its own {q:,.0f} wafers/yr", "instead: what the plan without it spends"),
                 st.currency, heading=f"Landed cost per wafer of {site}'s output: {site} and what replaces it",
                 unit=f"per wafer {site} makes"),
             "explain.json": json.dumps(json_safe(answer.as_dict()), indent=2) + "\n"}
    manifest = manifest_base(answer.base.instance, options, command)
    words = "".join(f"<li>{escape(line)}</li>" for line in [*_reading(answer, df), *answer.words(),
                                                              *answer.more_words()])
    sections = [("Answer", f"<ul>{words}</ul>"), ("Landed cost per wafer", "{explain.png}"),
                (f"Per wafer of {answer.site}'s output ({st.currency}) and per year ({st.money_label}); "
                 f"network-wide per wafer in optimum_ and counterfactual_ columns", table_html(df)),
                ("Solves", table_html(pd.DataFrame(answer.solves)))]
    return write_analysis(out, files, f"{answer.base.instance.name}: why not {answer.site}?", sections, manifest)


def _short(run) -> str:
    return plan_figures(run.results).label(sep=" + ", none="nothing open")


def _per(x: float) -> str:
    """An amount per wafer: whole currency units from 100 up, four significant digits below."""
    if x != x:
        return "-"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.4g}"


def _reading(answer: Breakeven, df: pd.DataFrame) -> list[str]:
    """The table's bottom line in words, with the sign said."""
    st = answer.base.instance.settings
    total = df[df["category"] == "total"].iloc[0]
    q, site = df.attrs.get("site_wafers", 0.0), answer.site
    if not q > 0:
        return [f"{site} makes nothing in either plan: there is no landed cost per wafer to compare"]
    dearer = total["difference_per_year"] > 0
    return [f"at {site}, its {q:,.0f} wafers/yr cost {_per(total['at_site_per_wafer'])} {st.currency} per wafer "
            f"landed; the plan without {site} spends {_per(total['instead_per_wafer'])} {st.currency} per wafer of "
            f"that output instead: {site} is {_per(abs(total['difference_per_wafer']))} {st.currency} per wafer "
            f"({abs(total['difference_per_year']):,.3f} {st.money_label}/yr) "
            f"{'dearer' if dearer else 'cheaper'}"]


def print_explanation(console, answer: Breakeven, df: pd.DataFrame) -> None:
    """The explanation on the console: landed cost per wafer of both plans, then the answer in words.

    Parameters
    ----------
    console
        A rich console (:func:`siting.report.console.make_console`).
    answer
        The breakeven answer behind the explanation.
    df
        Its landed costs (:func:`landed_costs`).
    """
    from rich.table import Table

    st = answer.base.instance.settings
    if answer.phased:
        _print_phased(console, answer, df)
        return
    q, site = df.attrs.get("site_wafers", 0.0), answer.site
    t = Table(title=f"Landed cost per wafer of {site}'s output ({q:,.0f} wafers/yr, {st.currency}); "
                    f"annual cost in {st.money_label}/yr; + means dearer with {site}", title_justify="left")
    for h in ("", f"at {site}", "instead", "difference", "per year, difference"):
        t.add_column(h, justify="left" if not h else "right")
    for _, r in df.iterrows():
        bold = r["category"] == "total"
        cells = [_per(r["at_site_per_wafer"]), _per(r["instead_per_wafer"]),
                 ("+" if r["difference_per_wafer"] >= 0 else "-") + _per(abs(r["difference_per_wafer"])),
                 f"{r['difference_per_year']:+,.3f}"]
        t.add_row(r["category"], *cells, style="bold" if bold else None)
    console.print(t)
    console.print(f"plans: optimum {_short(answer.base)}; {counterfactual_label(answer)}: "
                  f"{_short(answer.moved_run or answer.other)}", soft_wrap=True)
    for line in [*_reading(answer, df), *answer.words(), *answer.more_words()]:
        console.print(line, soft_wrap=True)


def _print_phased(console, answer: Breakeven, df: pd.DataFrame) -> None:
    """The explanation of a phased plan: both plans' levelised cost per wafer over the horizon."""
    from rich.table import Table

    st = answer.base.instance.settings
    other = counterfactual_label(answer)
    t = Table(title=f"Levelised cost per wafer made over the horizon ({st.currency}); net present value in "
                    f"{st.money_label}", title_justify="left")
    for h in ("", f"optimum ({_short(answer.base)})", other, "difference", "present value, difference"):
        t.add_column(h, justify="left" if not h else "right")
    for _, r in df.iterrows():
        bold = r["category"] == "total"
        cells = [f"{r['optimum_per_wafer']:,.0f}", f"{r['counterfactual_per_wafer']:,.0f}",
                 f"{r['counterfactual_per_wafer'] - r['optimum_per_wafer']:+,.0f}",
                 f"{r['counterfactual_per_year'] - r['optimum_per_year']:+,.3f}"]
        t.add_row(r["category"], *cells, style="bold" if bold else None)
    console.print(t)
    for line in answer.words():
        console.print(line, soft_wrap=True)
