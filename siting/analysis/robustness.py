"""Robustness and regret: candidate plans held fixed in every scenario.

Candidates: the stochastic optimum, each scenario's own optimum (the scenario solved alone as if
certain), the near-optimal alternatives (:mod:`siting.analysis.alternatives`) and plans the
planner names by their open sites. Each candidate's first stage (every integer decision: sites,
modules, qualifications, take-ups) is held at its value in the compiled model of the stochastic
optimum and the second stage solved (:func:`siting.analysis.cuts.fixed`, :func:`siting.run.resolve`):
one re-solve per candidate, no model built again. The scenarios decouple once the first stage is
fixed, so that solve gives the plan's cost in every scenario at once.

Definitions (money a year; p[w] the scenario probabilities):

* ``cost[plan, w]``: the plan's annual cost in scenario w (first-stage and the scenario's own
  terms, as in ``scenarios.csv``);
* ``best[w]``: the cost of scenario w's own optimum (the least any plan costs in w);
* ``regret[plan, w] = cost[plan, w] - best[w]`` (>= 0 up to the solves' gaps);
* expected cost sum_w p[w] cost; worst case max_w cost; CVaR at the instance's level beta
  (the mean of the worst 1 - beta of the distribution, :func:`siting.report.extract.cvar_of`);
  expected regret sum_w p[w] regret; maximum regret max_w regret;
* the minimax-regret plan: the candidate whose maximum regret is least (first on ties).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from siting.analysis import cuts
from siting.analysis.alternatives import alternatives
from siting.analysis.parallel import Workers, each_result
from siting.errors import InputError, NoPlan, Problem, suggest
from siting.instance.read import RawInstance
from siting.report.extract import cvar_of
from siting.report.figures import plan_figures, sites_in_label
from siting.run import Run, first_stage_of, resolve, run_case
from siting.solve import SolverOptions

log = logging.getLogger(__name__)


@dataclass
class Candidate:
    """A plan to evaluate: its name, where it comes from, and its first stage as compiled values."""

    name: str
    origin: str
    values: np.ndarray
    sites: str = ""


@dataclass
class Robustness:
    """What :func:`robustness` found: the candidates, the cost and regret matrices, one summary
    row per plan (``robustness.csv``) and how often each site opens."""

    candidates: list[Candidate]
    cost: pd.DataFrame
    regret: pd.DataFrame
    best: pd.Series
    table: pd.DataFrame
    frequency: pd.DataFrame
    minimax: str
    money: str
    beta: float
    solves: list[dict] = field(default_factory=list)
    per: str = "/yr"  # "" on a phased instance: costs and regrets are present values

    def words(self) -> list[str]:
        """The minimax-regret plan and each other plan against it, one line each."""
        m = self.money
        t = self.table.set_index("plan")
        r = t.loc[self.minimax]
        lines = [f"minimax regret: {self.minimax} ({r['open_sites'].replace(';', ' + ') or 'nothing open'}): "
                 f"at most {r['max_regret']:,.3f} {m}{self.per} above the best plan of any scenario "
                 f"(worst in {r['max_regret_scenario']})"]
        for name, row in t.iterrows():
            if name == self.minimax:
                continue
            lines.append(f"{name} ({row['open_sites'].replace(';', ' + ') or 'nothing open'}): expected "
                         f"{row['expected_cost']:,.3f}, worst {row['worst_case']:,.3f}, max regret "
                         f"{row['max_regret']:,.3f} {m}{self.per} (in {row['max_regret_scenario']})")
        return lines

    def as_dict(self) -> dict:
        """The answer as ``--json`` prints it: plans, costs and regrets by scenario."""
        return {"unit": f"{self.money} per year", "cvar_level": self.beta, "minimax_regret_plan": self.minimax,
                "plans": self.table.to_dict("records"), "cost": self.cost.to_dict("index"),
                "regret": self.regret.to_dict("index"), "best_by_scenario": self.best.to_dict(),
                "site_frequency": self.frequency.to_dict("records"), "message": self.words()}


def vector(plan: dict, compiled) -> np.ndarray:
    """A plan's first stage (variable name -> {index: value}, :func:`siting.run.first_stage_of`) as
    values of the compiled columns (the integer ones; the others 0)."""
    out = np.zeros(len(compiled.columns))
    for j in np.flatnonzero(compiled.integer):
        col = compiled.columns[j]
        out[j] = plan.get(col.parent_component().local_name, {}).get(col.index(), 0.0)
    return out


def _sites(run: Run) -> str:
    return plan_figures(run.results).label(sep=";", none="")


def parse_plan(text: str, site_ids: list[str]) -> list[str]:
    """``kumamoto+chitose`` -> the site ids (``none`` for a plan that opens nothing)."""
    names = sites_in_label(text)
    for s in names:
        if s not in site_ids:
            raise InputError(Problem(f"--plans {text}", f"{s} is not a site of the instance",
                                     suggest(s, site_ids, "name sites by their ids joined by +, e.g. a+b")))
    return names


def sweep_frequency(folder: Path, site_ids: list[str]) -> pd.Series:
    """Share of a sweep's solved cases in which each site opens (from its ``sweep.csv``)."""
    path = Path(folder) / "sweep.csv"
    if not path.is_file():
        raise InputError(Problem(f"--sweep {folder}", "has no sweep.csv", "give a folder that `siting sweep` wrote"))
    df = pd.read_csv(path, keep_default_na=False)
    if not {"status", "sites_open"} <= set(df.columns):
        raise InputError(Problem(f"{path}", "has no status and sites_open columns",
                                 "give a folder that `siting sweep` wrote"))
    solved = df[df["status"].isin(("optimal", "feasible"))]
    if not len(solved):
        raise InputError(Problem(f"{path}", "has no solved case", "run the sweep to the end first"))
    sets = [set(sites_in_label(str(s))) for s in solved["sites_open"]]
    return pd.Series({s: sum(s in o for o in sets) / len(sets) for s in site_ids})


def robustness(raw: RawInstance, options: SolverOptions, named: Sequence[str] = (), alternatives_count: int = 0,
               within: float = 0.05, sweep: Path | None = None, sets=(), workers: int = 1,
               progress: Callable[[object, str], None] | None = None) -> Robustness:
    """Evaluate every candidate plan in every scenario; the cost and regret matrices and their summaries.

    Parameters
    ----------
    raw
        The instance as read (with scenarios; one scenario gives a one-column matrix).
    options
        Solver options of every solve.
    named
        Plans by their open sites, ``a+b`` (the other sites closed; the rest of the first stage
        chosen by the stochastic objective with those sites).
    alternatives_count
        How many near-optimal alternatives to add (besides the optimum), within ``within``.
    sweep
        A sweep's results folder: how often each site opens across its solved cases.
    sets
        ``--set`` overrides.
    workers
        Local worker processes for the independent solves (each scenario alone, each named plan).
    progress
        Called with each step's result and a line of words.
    """
    # the workers start before this process runs a solver: a forked worker must not inherit its threads
    with Workers(min(workers, len(raw.tables.get("scenarios", [])) + len(named) or 1)) as pool:
        return _robustness(raw, options, list(named), alternatives_count, within, sweep, sets, pool, progress)


def _robustness(raw, options, named, alternatives_count, within, sweep, sets, pool, progress) -> Robustness:
    say = progress or (lambda _x, _line: None)
    alt = alternatives(raw, options, within=within, count=1 + max(alternatives_count, 0), sets=sets)
    base = alt.plans[0].run
    inst, d, compiled = base.instance, base.data, base.compiled
    ids = list(d.sites["site"])
    named_sites = [parse_plan(p, ids) for p in named]
    frequency_sweep = sweep_frequency(sweep, ids) if sweep is not None else None
    solves = [{"what": s["what"], "status": s["status"], "objective": s["objective"]} for s in alt.solves]
    say(base, f"stochastic optimum: {_sites(base) or 'nothing open'}")
    candidates = [Candidate("optimum", "stochastic optimum", base.outcome.values.copy(), _sites(base))]
    for plan in alt.plans[1:]:
        candidates.append(Candidate(f"alternative {plan.rank}", f"alternative {plan.rank}",
                                    plan.run.outcome.values.copy(), _sites(plan.run)))
    factors = d.factors
    # each scenario's own optimum and each named plan: independent solves, on workers if given
    items = [(raw, options, tuple(sets), factors.only(w), f"{w} alone") for w in factors.ids]
    for text, chosen in zip(named, named_sites):
        forced = tuple(f"sites.{s}.status={'open' if s in chosen else 'closed'}" for s in ids)
        items.append((raw, options, (*sets, *forced), None, f"plan {text}"))
    solved = {}
    for res in each_result(_own, items, ordered=False, pool=pool):
        solved[res["label"]] = res
        solves.append({k: res[k] for k in ("what", "status", "objective")})
        say(res, f"{res['label']}: {res['sites'].replace(';', ' + ') or 'nothing open'} ({res['status']})")
    best: dict[str, float] = {}
    opens: dict[str, set] = {}
    for w in factors.ids:
        own = solved[f"{w} alone"]
        if own["objective"] is None:
            raise NoPlan(Problem(f"scenario {w}", f"{own['status']} when solved alone, so no regret can be measured",
                                 "give it a plan (see what `siting solve` says with the scenario's factors) or "
                                 "leave it out"))
        best[w] = float(own["objective"])
        opens[w] = set(own["sites"].split(";")) - {""}
        candidates.append(Candidate(f"best for {w}", f"{w}'s own optimum", vector(own["plan"], compiled),
                                    own["sites"]))
    for text in named:
        run = solved[f"plan {text}"]
        if run["objective"] is None:
            raise NoPlan(Problem(f"--plans {text}", f"{run['status']}: no plan opens exactly these sites",
                                 "name sites that can open together"))
        candidates.append(Candidate(text, "named", vector(run["plan"], compiled), run["sites"]))
    candidates = _distinct(candidates, compiled.integer)
    cost_rows: dict = {}
    table: list[dict] = []
    for c in candidates:
        run = resolve(base, cuts.fixed(compiled, c.values), options)
        solves.append({"what": f"{c.name} in every scenario", "status": run.outcome.status,
                       "objective": run.outcome.objective})
        if not run.outcome.has_solution:
            # some scenario leaves this plan no way to operate: find which, one scenario at a time,
            # and count its cost there as unbounded
            row, failed = _each_scenario(raw, options, sets, factors, plan_of(c.values, compiled))
            solves.append({"what": f"{c.name} in each scenario alone", "status": f"no plan in {', '.join(failed)}",
                           "objective": None})
            cost_rows[c.name] = row
            table.append({"plan": c.name, "origin": c.origin, "open_sites": c.sites,
                          "status": f"no plan in {', '.join(failed)}", "objective": None, "expected_unmet": None})
            say(run, f"{c.name}: no plan in {', '.join(failed)}")
            continue
        sc = run.results.tables["scenarios"].set_index("scenario")
        cost_rows[c.name] = sc["cost_per_year"].astype(float)
        table.append({"plan": c.name, "origin": c.origin, "open_sites": c.sites, "status": run.outcome.status,
                      "objective": run.outcome.objective, "expected_unmet": run.results.risk["expected_unmet"]})
        say(run, f"{c.name} evaluated")
    cost = pd.DataFrame(cost_rows).T[list(factors.ids)]
    best_s = pd.Series(best)[list(factors.ids)]
    regret = cost - best_s
    p = np.asarray(factors.probability, dtype=float)
    beta = inst.settings.cvar_level
    out = pd.DataFrame(table)
    out["expected_cost"] = cost.to_numpy() @ p
    out["worst_case"] = cost.max(axis=1).to_numpy()
    out["worst_scenario"] = cost.idxmax(axis=1).to_numpy()
    out["cvar"] = [cvar_of(row, p, beta) if np.isfinite(row).all() else np.inf for row in cost.to_numpy()]
    out["expected_regret"] = regret.to_numpy() @ p
    out["max_regret"] = regret.max(axis=1).to_numpy()
    out["max_regret_scenario"] = regret.idxmax(axis=1).to_numpy()
    minimax = str(out.loc[out["max_regret"].idxmin(), "plan"])
    out["minimax_regret"] = out["plan"] == minimax
    for w in factors.ids:
        out[f"cost_{w}"] = cost[w].to_numpy()
    for w in factors.ids:
        out[f"regret_{w}"] = regret[w].to_numpy()
    freq = pd.DataFrame({"site": ids,
                         "scenario_optima": [sum(s in opens[w] for w in factors.ids) for s in ids],
                         "scenario_optima_probability": [float(sum(pw for w, pw in zip(factors.ids, p)
                                                                   if s in opens[w])) for s in ids],
                         "in_stochastic_optimum": [s in _sites(base).split(";") for s in ids]})
    if frequency_sweep is not None:
        freq["sweep_cases_share"] = frequency_sweep.reindex(ids).to_numpy()
    return Robustness(candidates=candidates, cost=cost, regret=regret, best=best_s, table=out, frequency=freq,
                      minimax=minimax, money=inst.settings.money_label, beta=beta, solves=solves,
                      per="/yr" if inst["periods"].empty else "")


def plan_of(values: np.ndarray, compiled) -> dict:
    """The inverse of :func:`vector`: compiled values -> variable name -> {index: value}."""
    plan: dict = {}
    for j in np.flatnonzero(compiled.integer):
        col = compiled.columns[j]
        plan.setdefault(col.parent_component().local_name, {})[col.index()] = round(float(values[j]))
    return plan


def _each_scenario(raw, options, sets, factors, plan: dict) -> tuple[pd.Series, list[str]]:
    """A plan's cost in each scenario solved alone (inf where it has no plan), and those scenarios."""
    costs, failed = {}, []
    for w in factors.ids:
        run = run_case(raw, options, list(sets), duals=False, factors=factors.only(w), first_stage=plan)
        costs[w] = run.outcome.objective if run.outcome.has_solution else np.inf
        if not run.outcome.has_solution:
            failed.append(w)
    return pd.Series(costs, dtype=float), failed


def _own(item: tuple) -> dict:
    """One independent solve (a scenario alone, or a named plan): its cost, sites and first stage
    (module level, so that workers can run it)."""
    raw, options, sets, factors, label = item
    run = run_case(raw, options, list(sets), duals=False, factors=factors)
    o = run.outcome
    return {"label": label, "what": label, "status": o.status, "objective": o.objective,
            "sites": _sites(run) if run.results is not None else "",
            "plan": first_stage_of(run) if o.has_solution else {}}


def _distinct(candidates: list[Candidate], integer: np.ndarray) -> list[Candidate]:
    """One candidate per first stage (the ``integer`` columns): a later one with the same
    decisions is dropped, its origin added to the first's."""
    kept: list[Candidate] = []
    for c in candidates:
        same = next((k for k in kept if np.array_equal(np.round(k.values[integer]), np.round(c.values[integer]))),
                    None)
        if same is None:
            kept.append(c)
        else:
            same.origin += f"; {c.origin}"
    return kept


def write_robustness(result: Robustness, inst, out: Path, options: SolverOptions, command: list[str]) -> list[str]:
    """``robustness.csv``, ``regret.csv``, ``site_frequency.csv``, ``regret.png``, ``report.html``, manifest."""
    from html import escape

    from siting.report import charts
    from siting.report.html import table_html
    from siting.report.write import manifest_base, write_analysis

    m = result.money
    regret = result.regret.copy()
    regret.index = [f"{n} ({s.replace(';', '+') or 'none'})" for n, s in
                    zip(result.table["plan"], result.table["open_sites"])]
    files = {"robustness.csv": result.table.to_csv(index=False, float_format="%.10g"),
             "site_frequency.csv": result.frequency.to_csv(index=False, float_format="%.10g"),
             "regret.png": charts.regret_heatmap(regret, "Regret: cost minus the scenario's best plan",
                                                 f"regret ({m}{result.per})")}
    manifest = manifest_base(inst, options, command)
    words = "".join(f"<li>{escape(line)}</li>" for line in result.words())
    cols = ["plan", "origin", "open_sites", "expected_cost", "worst_case", "worst_scenario", "cvar",
            "expected_regret", "max_regret", "max_regret_scenario", "minimax_regret"]
    best = result.best.rename("best cost").reset_index().rename(columns={"index": "scenario"})
    sections = [("Plans", f"<p>Money in {m} a year; CVaR at {result.beta:.0%}.</p><ul>{words}</ul>"),
                ("Regret", "{regret.png}"),
                ("Summary", table_html(result.table, cols)),
                ("Cost by scenario", table_html(result.cost.reset_index().rename(columns={"index": "plan"}))),
                ("Each scenario's best", table_html(best)),
                ("How often each site opens", table_html(result.frequency)),
                ("Solves", table_html(pd.DataFrame(result.solves)))]
    return write_analysis(out, files, f"{inst.name}: robustness and regret", sections, manifest)
