"""`siting programme`: price every project's options, then allocate budgets to them.

For each project of a programme file (:mod:`siting.instance.programme`):

- ``as it stands``: the project with no offer (one solve): what the country gets for nothing;
- each domestic candidate site (in the courting country, not fixed by ``sites.status``): its
  break-even offer by :func:`siting.analysis.breakeven.breakeven` (exact lump sum from two solves,
  or bisection for a rate), and the plan it brings (the plan with the site forced open: for a lump
  sum exactly the plan the offer buys; for a rate, the same sites with the capex of the forced plan);
- each pair of domestic sites, where a project has two to four (lump and grant-rate only): the
  cheapest package that brings both, by :func:`siting.analysis.induce.induce`. Funding two sites of
  one firm is not the sum of two break-evens (they compete for the same market), so they are priced
  jointly; larger sets are not priced.

The options of one group (a firm's decision; see the programme file) are alternatives: the
allocation (:mod:`siting.analysis.allocate`) takes exactly one per group. Options are priced in
parallel workers (:class:`siting.analysis.parallel.Workers`); each goes through the one pipeline.
"""

from __future__ import annotations

import itertools
import logging
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from siting.errors import SitingError
from siting.instance.programme import Programme, Project
from siting.solve import SolverOptions

log = logging.getLogger(__name__)

COLUMNS = ["option", "project", "group", "sites", "kind", "status", "offer", "offer_per_year", "level", "fabs",
           "capacity_wafers_per_year", "investment", "local_capacity_wafers_per_year", "domestic_sites",
           "firm_cost", "solves", "seconds", "note"]


@dataclass(frozen=True)
class Item:
    """One option to price, as sent to a worker."""

    project: Project
    sites: tuple[str, ...]
    country: str
    instrument: str
    options: SolverOptions


def project_raw(project: Project):
    """The project's raw instance: read, its designs package applied, its overrides applied."""
    from siting.errors import InputError, Problem
    from siting.instance.designs import apply_package, read_designs
    from siting.instance.overrides import apply_overrides
    from siting.instance.read import read_instance

    raw = read_instance(project.instance)
    if project.designs is not None:
        packages = {p.name: p for p in read_designs(project.designs)}
        if project.package not in packages:
            raise InputError(Problem(f"project {project.name} package {project.package}",
                                     f"is not a package of {project.designs.name}",
                                     "give one of " + ", ".join(packages)))
        raw = apply_package(raw, packages[project.package])
    try:
        return apply_overrides(raw, list(project.sets))
    except InputError as exc:
        raise InputError([Problem(f"project {project.name} set: {p.location}", p.problem, p.fix)
                          for p in exc.problems]) from None


def domestic_sites(raw, country: str) -> list[str]:
    """Candidate sites in ``country`` that the model is free to open or close."""
    t = raw.tables["sites"]
    status = t["status"] if "status" in t.columns else pd.Series("", index=t.index)
    return [s for s, c, st in zip(t["id"], t["country"], status) if c == country and not str(st).strip()]


def plan_items(programme: Programme, solver: SolverOptions, instrument: str | None = None) -> list[Item]:
    """Every option of every project, in file order (reads each instance to find its sites).

    Parameters
    ----------
    programme
        The programme file, read (:func:`siting.instance.programme.read_programme`).
    solver
        HiGHS's options for every pricing solve.
    instrument
        The instrument an option is bought with (default: the programme's).

    Returns
    -------
    list[Item]
        One item per option, each a project with the sites it would open.

    Raises
    ------
    InputError
        For projects whose instances differ in currency or money unit, or name no policy country.
    """
    from siting.errors import InputError, Problem
    from siting.instance.settings import Settings

    instrument = instrument or programme.instrument
    items, money, problems = [], None, []
    for p in programme.projects:
        raw = project_raw(p)
        unit = tuple(str(raw.settings.get(k, Settings.model_fields[k].default)) for k in ("currency", "money_unit"))
        money = money or (p.name, unit)
        if unit != money[1]:
            problems.append(Problem(f"project {p.name}", f"counts money in {' '.join(unit)}, project {money[0]} in "
                                    f"{' '.join(money[1])}", "budgets and offers need one money unit: give every "
                                    "project the same settings.currency and settings.money_unit (e.g. by its set:)"))
        sites = domestic_sites(raw, programme.country)
        items.append(Item(p, (), programme.country, instrument, solver))
        items += [Item(p, (s,), programme.country, instrument, solver) for s in sites]
        if instrument != "per-wafer" and 2 <= len(sites) <= 4:
            items += [Item(p, pair, programme.country, instrument, solver) for pair in itertools.combinations(sites, 2)]
    if problems:
        raise InputError(problems)
    return items


def _totals(run, country: str) -> dict:
    t = run.results.tables["sites"]
    home = t[(t["country"] == country) & t["open"]]
    share = home["local_share"].fillna(0.0).to_numpy(float)
    return {"fabs": len(home), "capacity_wafers_per_year": float(home["capacity_wafers_per_year"].sum()),
            "investment": float(home["capex_total"].sum()),
            "local_capacity_wafers_per_year": float((home["capacity_wafers_per_year"].to_numpy(float) * share).sum()),
            "domestic_sites": ", ".join(home["site"]), "firm_cost": float(run.outcome.objective)}


def price(item: Item) -> dict:
    """Price one option (runs in a worker): its offer and what the resulting plan brings home."""
    from siting.analysis.breakeven import breakeven
    from siting.analysis.induce import induce
    from siting.run import run_case

    p = item.project
    start = time.perf_counter()
    row: dict = {"option": f"{p.name}: " + (" + ".join(item.sites) or "as it stands"), "project": p.name,
           "group": p.group, "sites": " + ".join(item.sites), "status": "priced", "note": ""}
    try:
        raw = project_raw(p)
        if not item.sites:
            run = run_case(raw, item.options, duals=False)
            if not run.outcome.has_solution:
                raise SitingError(f"no plan ({run.outcome.status})")
            row.update(kind="none", offer=0.0, offer_per_year=0.0, solves=1, **_totals(run, item.country))
        elif len(item.sites) == 1:
            b = breakeven(raw, item.sites[0], item.options, item.instrument)
            plan = b.base if b.direction == "stays-open" else b.other
            free = b.direction == "stays-open"
            row.update(kind="break-even", offer=0.0 if free else b.offer_total,
                       offer_per_year=0.0 if free else b.offer, level=None if free else b.level,
                       solves=len(b.solves), **_totals(plan, item.country))
            if not free and b.offer is None:
                row.update(status="cannot", note=b.plan)
            elif free:
                row["note"] = "open without an offer"
        else:
            a = induce(raw, list(item.sites), item.options, "lump" if item.instrument == "lump" else "grant-rate",
                       item.country)
            row.update(kind="induce", solves=len(a.iterations) + 2)
            if a.status != "induced":
                row.update(status="cannot", offer=None, note=a.reason)
            else:
                row.update(offer=a.outlay, offer_per_year=a.outlay_per_year, **_totals(a.final, item.country))
    except SitingError as exc:  # one project's failure is reported in its row; the others go on
        row.update(status="error", offer=None, note=str(exc).splitlines()[0])
    row["seconds"] = time.perf_counter() - start
    return row


#: What pricing an option imports: imported once before the workers are forked (see ``Workers``).
WARM = ("pyomo.environ", "siting.run", "siting.analysis.breakeven", "siting.analysis.induce")


def _price_at(task: tuple[int, Item]) -> tuple[int, dict]:
    """:func:`price` of an item, with its place in the table (results arrive as they finish)."""
    k, item = task
    return k, price(item)


def price_all(items: list[Item], workers: int = 1, progress=None) -> pd.DataFrame:
    """Price every item and return the options table in item order.

    Parameters
    ----------
    items
        From :func:`plan_items`.
    workers
        Local worker processes.
    progress
        Called with each option's row as it is priced.

    Returns
    -------
    pandas.DataFrame
        One row per option (``COLUMNS``); an option that cannot be bought has no offer.
    """
    from siting.analysis.parallel import each_result

    # the dearest options first (a pair's package takes several solves, a break-even two or more,
    # the project as it stands one), so that no worker is left with a long one at the end while
    # the other idles; the table keeps the items' order
    order = sorted(range(len(items)), key=lambda k: -len(items[k].sites))
    rows: list = [None] * len(items)
    for k, row in each_result(_price_at, [(k, items[k]) for k in order], workers, ordered=False, warm=WARM):
        rows[k] = row
        if progress is not None:
            progress(row)
    df = pd.DataFrame(rows)
    for c in COLUMNS:
        if c not in df.columns:
            df[c] = np.nan
    df = df[COLUMNS]
    # an option that cannot be bought is never allocated
    df.loc[df["status"] != "priced", "offer"] = np.nan
    return df


def budget_table(options: pd.DataFrame, budgets: list[float], objective: str, solver: SolverOptions
                 ) -> tuple[pd.DataFrame, dict[float, pd.Series]]:
    """The allocation at each budget.

    Parameters
    ----------
    options
        The priced options (:func:`price_all`).
    budgets
        The budgets, in the money unit.
    objective
        What the allocation maximises (a key of :data:`siting.analysis.allocate.VALUE`).
    solver
        HiGHS's options for the allocation.

    Returns
    -------
    tuple[pandas.DataFrame, dict[float, pandas.Series]]
        One row per budget (objective, fabs, capacity, investment, outlay, the options funded),
        and each budget's choice as a mask over the options.
    """
    from siting.analysis.allocate import VALUE, allocate

    rows, chosen = [], {}
    for b in budgets:
        pick = allocate(options, b, objective, solver)
        chosen[b] = pick
        got = options[pick]
        rows.append({"budget": b, "objective": objective, "value": float(got[VALUE[objective]].fillna(0).sum()),
                     "fabs": int(got["fabs"].sum()),
                     "capacity_wafers_per_year": float(got["capacity_wafers_per_year"].sum()),
                     "investment": float(got["investment"].sum()),
                     "local_capacity_wafers_per_year": float(got["local_capacity_wafers_per_year"].fillna(0).sum()),
                     "outlay": float(got["offer"].sum()),
                     "funded": "; ".join(got.loc[got["offer"] > 0, "option"])})
    return pd.DataFrame(rows), chosen


def write_programme(out, programme: Programme, options: pd.DataFrame, budgets: pd.DataFrame,
                    chosen: dict, curve: pd.DataFrame, base, solver: SolverOptions, command: list[str],
                    money: str) -> list[str]:
    """programme.csv (one row per option, a ``funded_at_B`` column per budget), budgets.csv,
    curve.csv, programme.png, report.html and, last, manifest.json."""
    from html import escape

    from siting.report import charts
    from siting.report.html import table_html
    from siting.report.write import manifest_base, write_analysis

    table = options.copy()
    for b, pick in chosen.items():
        table[f"funded_at_{b:g}"] = pick.to_numpy()
    files = {"programme.csv": table.to_csv(index=False, float_format="%.10g"),
             "budgets.csv": budgets.to_csv(index=False, float_format="%.10g"),
             "curve.csv": curve.to_csv(index=False, float_format="%.10g"),
             "programme.png": charts.programme_curve(curve, budgets, money)}
    manifest = manifest_base(base, solver, command)
    manifest["programme"] = {"path": str(programme.path), "country": programme.country,
                             "instrument": programme.instrument, "projects": [p.name for p in programme.projects]}
    sections = [
        ("Programme", f"<p>{len(programme.projects)} projects courted by {escape(programme.country)} with "
                      f"{escape(programme.instrument)} offers; every option's break-even offer ({escape(money)}, "
                      "undiscounted) and what it brings; one option per group; allocation by a knapsack MIP.</p>"),
        ("Allocation at each budget", table_html(budgets)),
        ("Fabs against the budget", "{programme.png}"),
        ("Least outlay for each number of fabs", table_html(curve)),
        ("Every option", table_html(table)),
    ]
    return write_analysis(out, files, f"programme {programme.path.stem}", sections, manifest, list_manifest=True)
