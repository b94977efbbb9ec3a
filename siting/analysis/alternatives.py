"""Near-optimal alternatives: the K cheapest distinct plans within a stated gap of the optimum.

The optimum is solved through the one pipeline (:func:`siting.run.run_case`); each next plan is
the optimum of the same compiled model with no-good cuts (:mod:`siting.analysis.cuts`) that
exclude every plan found so far, re-solved by :func:`siting.run.resolve` without building the
model again. Plans are distinct in their set of open sites (``by="sites"``) or in their modules
by site and product (``by="modules"``). Because each solve is the cheapest plan not yet found,
the plans come in order of cost (up to the solver's gap tolerance: each row carries its solve's
status and gap). With scenarios the cost is the model's own objective, the stochastic one.

The search stops at ``count`` plans, at the first plan whose cost is more than ``within``
(relative) above the optimum, or when no other plan exists.

The lump sum that makes a plan optimal is exact and needs no further solve. A lump sum L a year
on opening site s lowers the cost of every plan that opens s by L and of no other. If s is open
in plan A but in no cheaper plan (all cheaper plans are among those found, as they come in
order), then A is the cheapest plan that opens s, and with L above cost(A) - cost(optimum) it
is cheaper than every plan: the same difference of two optima as ``siting breakeven``. If a
cheaper plan also opens s, no lump sum at s alone makes A optimal (that plan takes it first).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from siting.analysis import cuts
from siting.analysis.compare import package_row
from siting.errors import InputError, NoPlan, Problem
from siting.instance.designs import Package
from siting.instance.read import RawInstance
from siting.outcome import Status
from siting.run import Run, resolve, run_case
from siting.solve import SolverOptions

log = logging.getLogger(__name__)

BY = ("sites", "modules")


@dataclass
class Plan:
    """One plan found: its rank (1: the optimum), its run, open sites and module counts."""

    rank: int
    run: Run
    opened: np.ndarray
    modules: np.ndarray

    @property
    def objective(self) -> float:
        """The plan's cost (money unit a year), as its solve found it."""
        return float(self.run.outcome.objective)


@dataclass
class Alternatives:
    """What :func:`alternatives` found.

    Attributes
    ----------
    plans
        The plans, cheapest first (the optimum is ``plans[0]``).
    table
        One row per plan (the columns of ``alternatives.csv``, see docs/analyses.md).
    stopped
        Why the search stopped, in words.
    beyond
        The first plan found beyond the gap (its words and relative gap), if the search stopped there.
    """

    plans: list[Plan]
    table: pd.DataFrame
    within: float
    count: int
    by: str
    money: str
    stopped: str
    beyond: dict | None = None
    per: str = "/yr"  # "" on a phased instance: every figure is a present value
    solves: list[dict] = field(default_factory=list)

    def words(self) -> list[str]:
        """Each alternative in a planner's words, then why the search stopped."""
        lines = []
        for _, r in self.table.iterrows():
            if r["rank"] == 1:
                lines.append(f"optimum: {r['plan']}: {r['objective']:,.3f} {self.money}{self.per} ({r['status']}"
                             + (f", gap {r['mip_gap']:.4%}" if r["mip_gap"] and r["mip_gap"] > 0 else "") + ")")
                continue
            lines.append(f"{r['rank']}. {r['plan']}: {r['gap_to_optimum']:+.2%} "
                         f"({r['difference_per_year']:+,.3f} {self.money}{self.per}); {r['lump_sum_note']}")
        lines.append(self.stopped)
        return lines

    def as_dict(self) -> dict:
        """The answer as ``--json`` prints it: the search's settings and every plan."""
        return {"within": self.within, "count": self.count, "by": self.by, "unit": f"{self.money} per year",
                "stopped": self.stopped, "beyond": self.beyond, "message": self.words(),
                "plans": self.table.to_dict("records")}


def _parse_within(text: str) -> float:
    """``2%`` or ``0.02`` -> 0.02."""
    s = str(text).strip()
    try:
        value = float(s[:-1]) / 100 if s.endswith("%") else float(s)
    except ValueError:
        value = math.nan
    if not value >= 0 or not math.isfinite(value):
        raise InputError(Problem(f"--within {text}", "is not a gap of zero or more", "give e.g. 2% or 0.02"))
    return value


def parse_within(text: str) -> float:
    """The relative gap of ``--within`` (``2%`` or ``0.02``); an :class:`InputError` otherwise."""
    return _parse_within(text)


def _names(d, mask) -> list[str]:
    return [s for s, o in zip(d.sites["site"], mask) if o]


def _site_words(sites: list[str]) -> str:
    return " + ".join(sites) if sites else "nothing open"


def describe(d, plan: Plan, best: Plan, by: str) -> tuple[str, str]:
    """(the plan in words against the optimum, what distinguishes it)."""
    mine, theirs = _names(d, plan.opened), _names(d, best.opened)
    if plan.rank == 1:
        return _site_words(mine) + (" alone" if len(mine) == 1 else ""), ""
    added = [s for s in mine if s not in theirs]
    removed = [s for s in theirs if s not in mine]
    parts = [f"opens {', '.join(added)}"] if added else []
    parts += [f"closes {', '.join(removed)}"] if removed else []
    diff = []
    # a phased plan's module counts are by period (cumulative): name the period
    when = [f" by {t}" for t in d.modules["period"]] if len(d.periods) > 1 else [""] * len(d.modules)
    for (s, p), t, a, b in zip(d.modules[["site", "product"]].itertuples(index=False), when, plan.modules,
                               best.modules):
        if round(a) != round(b):
            diff.append(f"{s} {p} {round(a)} modules{t} instead of {round(b)}")
    if by == "modules" and diff:
        parts.append("; ".join(diff))
    what = "; ".join(parts)
    common = [s for s in mine if s in theirs]
    if mine != theirs and len(common) <= 1:
        alone = len(theirs) == 1 and set(theirs) < set(mine)  # "kumamoto + chitose instead of kumamoto alone"
        words = f"{_site_words(mine)} instead of {_site_words(theirs)}" + (" alone" if alone else "")
    elif mine != theirs:
        # with several sites in common the difference is what a planner reads: say only that
        if added and removed:
            words = f"{' + '.join(added)} instead of {' + '.join(removed)}"
        elif added:
            words = f"the optimum + {' + '.join(added)}"
        else:
            words = f"the optimum without {' + '.join(removed)}"
    else:
        words = f"{_site_words(mine)} with " + ", ".join(diff)
    return words, what


def lump_sum(d, plan: Plan, earlier: list[Plan], money: str) -> dict:
    """The exact lump sum on opening that makes ``plan`` optimal (see the module docstring)."""
    best = earlier[0]
    mine, theirs = set(_names(d, plan.opened)), set(_names(d, best.opened))
    order = list(d.sites["site"])
    added = [s for s in order if s in mine and s not in theirs]
    removed = [s for s in order if s in theirs and s not in mine]
    seen = set().union(*(set(_names(d, p.opened)) for p in earlier))
    per_year = plan.objective - best.objective
    out = {"lump_sum_site": "", "lump_sum_per_year": math.nan, "lump_sum_total": math.nan}
    free = [s for s in added if s not in seen]
    if free and d.calendar.phased:
        # a nominal lump sum is worth more the earlier the site opens: state its present value
        out.update(lump_sum_site=free[0], lump_sum_per_year=per_year)
        out["lump_sum_note"] = (f"a lump sum paid on opening {free[0]} worth more than {per_year:,.3f} {money} in "
                                "present value makes it optimal (`siting breakeven` gives the amount)")
        return out
    if free:
        s = free[0]
        crf = float(d.sites.set_index("site").at[s, "crf"])
        out.update(lump_sum_site=s, lump_sum_per_year=per_year, lump_sum_total=per_year / crf)
        out["lump_sum_note"] = (f"a lump sum above {per_year / crf:,.3f} {money} paid on opening {s} "
                                f"({per_year:,.3f} {money}/yr) makes it optimal")
        return out
    if added:
        first = next(p.rank for p in earlier if set(added) & set(_names(d, p.opened)))
        out["lump_sum_note"] = (f"no lump sum at {', '.join(added)} alone makes it optimal: plan {first}, "
                                "cheaper, opens it too and would take the offer first")
        return out
    kept = [s for s in removed if all(s in _names(d, p.opened) for p in earlier)]
    if kept:
        per = "" if d.calendar.phased else "/yr"
        out["lump_sum_note"] = (f"it wins if {kept[0]} costs {per_year:,.3f} {money}{per} more (or loses that much "
                                "subsidy): an offer on opening cannot close a site")
    elif removed:
        out["lump_sum_note"] = f"it closes {', '.join(removed)}, which a cheaper plan closes too"
    else:
        out["lump_sum_note"] = "the same sites as the optimum: no offer on opening separates them"
    return out


def _row(plan: Plan, best: Plan, by: str, earlier: list[Plan]) -> dict:
    run = plan.run
    d, o = run.data, run.outcome
    st = run.instance.settings
    base = package_row(Package(name=f"plan {plan.rank}"), run)
    words, what = describe(d, plan, best, by)
    gap = (plan.objective - best.objective) / max(abs(best.objective), 1e-12)
    modules = "; ".join(f"{s}/{p}:{round(n)}" for (s, p), n in
                        zip(d.modules[["site", "product"]].itertuples(index=False), plan.modules) if round(n))
    row = {"rank": plan.rank, "objective": o.objective, "gap_to_optimum": gap,
           "difference_per_year": plan.objective - best.objective,
           "open_sites": ";".join(_names(d, plan.opened)), "status": o.status, "mip_gap": o.mip_gap,
           "best_bound": o.best_bound, "plan": words, "distinguishes": what,
           "capacity_wafers_per_year": float(run.results.tables["sites"]["capacity_wafers_per_year"].sum()),
           "sites_capacity": base["sites_open"], "modules": modules,
           "outlay_per_year": base["outlay_per_year"], "outlay_total": base["outlay_total"],
           "expected_unmet": base["expected_unmet"]}
    if len(d.scenarios) > 1:
        risk = run.results.risk
        row.update(expected_cost=risk["expected_cost"], worst_case=risk["worst_case"], cvar=risk["cvar"])
    row.update({k: v for k, v in base.items() if k.startswith("local_share_")})
    if plan.rank == 1:
        row.update(lump_sum_site="", lump_sum_per_year=math.nan, lump_sum_total=math.nan, lump_sum_note="")
    else:
        row.update(lump_sum(d, plan, earlier, st.money_label))
    row["checks_passed"] = not run.violations
    row["violations"] = "; ".join(run.violations)
    return row


def _plan(rank: int, run: Run) -> Plan:
    sol = run.results.solution
    return Plan(rank=rank, run=run, opened=np.round(sol.build).astype(bool), modules=np.round(sol.modules))


def _solve_record(what: str, run: Run) -> dict:
    o = run.outcome
    return {"what": what, "status": o.status, "objective": o.objective, "mip_gap": o.mip_gap,
            "seconds": run.times.get("total")}


def alternatives(raw: RawInstance, options: SolverOptions, within: float = 0.02, count: int = 5,
                 by: str = "sites", sets=(), progress: Callable[[Plan | None, str], None] | None = None
                 ) -> Alternatives:
    """The ``count`` cheapest distinct plans within ``within`` (relative) of the optimum.

    Parameters
    ----------
    raw
        The instance as read.
    options
        Solver options (every solve uses them).
    within
        Largest relative gap to the optimum, (cost - optimum) / |optimum|.
    count
        Most plans, the optimum included.
    by
        ``sites``: plans differ in their open sites; ``modules``: in their modules by site and product.
    sets
        ``--set`` overrides.
    progress
        Called with each plan found (None when a solve ends the search) and a line of words.

    Raises
    ------
    InputError
        For an unknown ``by`` or a ``count`` below 1.
    NoPlan
        If the instance itself has no plan (exit 3).
    """
    if by not in BY:
        raise InputError(Problem(f"--by {by}", "is not a way to tell plans apart", "use sites or modules"))
    if count < 1:
        raise InputError(Problem("--count", f"must be at least 1 (got {count})", "give 1 or more"))
    base = run_case(raw, options, sets=list(sets), duals=False, keep_compiled=True)
    solves = [_solve_record("optimum", base)]
    if not base.outcome.has_solution:
        raise NoPlan(Problem(base.instance.name, f"{base.outcome.status} ({base.outcome.termination}), so there is "
                             "no optimum to find alternatives to", "solve it with `siting solve` to see why, or "
                             "raise --time-limit if it stopped early"))
    m = base.model.model
    plans = [_plan(1, base)]
    rows = [_row(plans[0], plans[0], by, plans)]
    if progress:
        progress(plans[0], f"optimum: {rows[0]['plan']}")
    build = cuts.positions(base.compiled, m.build)
    mods = cuts.positions(base.compiled, m.modules)
    current = base.compiled
    stopped, beyond = f"stopped at --count {count}", None
    while len(plans) < count:
        last = plans[-1]
        if by == "sites":
            current = cuts.add_rows(current, [cuts.site_cut(build, last.opened)])
        else:
            new, k = cuts.module_cuts(current, mods, last.modules, len(current.lp["cost"]))
            current = cuts.add_rows(current, new, k)
        run = resolve(base, current, options)
        solves.append(_solve_record(f"plan {len(plans) + 1}", run))
        if not run.outcome.has_solution:
            stopped = ("no other plan exists" if run.outcome.status is Status.INFEASIBLE else
                       f"the search for plan {len(plans) + 1} ended {run.outcome.status} "
                       f"({run.outcome.termination})")
            if progress:
                progress(None, stopped)
            break
        plan = _plan(len(plans) + 1, run)
        row = _row(plan, plans[0], by, plans)
        if row["gap_to_optimum"] > within:
            beyond = {"plan": row["plan"], "gap_to_optimum": row["gap_to_optimum"], "objective": row["objective"]}
            stopped = (f"the next plan, {row['plan']}, costs {row['gap_to_optimum']:+.2%}: beyond "
                       f"--within {within:.2%}")
            if progress:
                progress(None, stopped)
            break
        plans.append(plan)
        rows.append(row)
        if progress:
            progress(plan, f"plan {plan.rank}: {row['plan']}: {row['gap_to_optimum']:+.2%}")
    table = pd.DataFrame(rows)
    return Alternatives(plans=plans, table=table, within=within, count=count, by=by,
                        money=base.instance.settings.money_label, stopped=stopped, beyond=beyond, solves=solves,
                        per="" if base.data.calendar.phased else "/yr")


def write_alternatives(result: Alternatives, out, options: SolverOptions, command: list[str]) -> list[str]:
    """``alternatives.csv``, ``alternatives.png``, ``report.html`` and, last, ``manifest.json``."""
    from html import escape

    from siting.report import charts
    from siting.report.html import table_html
    from siting.report.write import manifest_base, write_analysis

    base = result.plans[0].run.instance
    df = result.table
    files = {"alternatives.csv": df.to_csv(index=False, float_format="%.10g"),
             "alternatives.png": charts.alternatives_bars(df, result.money)}
    manifest = manifest_base(base, options, command)
    manifest["alternatives"] = {"within": result.within, "count": result.count, "by": result.by,
                                "stopped": result.stopped}
    words = "".join(f"<li>{escape(line)}</li>" for line in result.words())
    cols = ["rank", "plan", "objective", "gap_to_optimum", "difference_per_year", "status", "mip_gap",
            "sites_capacity", "modules", "outlay_per_year", "expected_unmet", "expected_cost", "worst_case",
            "lump_sum_site", "lump_sum_total", "lump_sum_note", "checks_passed"]
    sections = [("Plans", f"<p>The {len(df)} cheapest plans distinct in their {result.by} within "
                          f"{result.within:.2%} of the optimum; money in {result.money} a year.</p><ul>{words}</ul>"),
                ("Cost above the optimum", "{alternatives.png}"),
                ("Every plan", table_html(df, cols)),
                ("Local shares", table_html(df, ["rank", *[c for c in df.columns if c.startswith("local_share_")]])),
                ("Solves", table_html(pd.DataFrame(result.solves)))]
    return write_analysis(out, files, f"{base.name}: near-optimal alternatives", sections, manifest)


def runner_up(base: Run, options: SolverOptions) -> dict:
    """The cheapest plan with another set of open sites than ``base``'s, and what would flip to it.

    One more solve: ``base``'s compiled model (``run_case(..., keep_compiled=True)``) with the
    no-good cut that excludes its open sites, re-solved without building the model again. The
    runner-up is then the cheapest plan that opens (or closes) any site differently, so the lump
    sum that makes it optimal is exact (see :func:`lump_sum`): its cost minus the optimum's.

    Returns
    -------
    dict
        ``found`` (False when no other set of open sites is feasible, or the search ended
        without a plan; ``reason`` says which), the runner-up's ``plan`` in words, ``open_sites``,
        ``objective``, ``status``, ``mip_gap``, ``difference`` (its cost above the optimum, in the
        objective's unit), ``relative`` (that over the optimum), ``within`` (how far the exact
        difference can lie from ``difference``: the two solves' gaps), the ``lump_sum_*`` fields of
        :func:`lump_sum` (the extra solve's seconds are the caller's to time: they differ from run to run).
    """
    if base.compiled is None or base.results is None:
        raise ValueError("runner_up needs a solved run with its compiled model (keep_compiled=True)")
    build = cuts.positions(base.compiled, base.model.model.build)
    best = _plan(1, base)
    run = resolve(base, cuts.add_rows(base.compiled, [cuts.site_cut(build, best.opened)]), options)
    out: dict = {"status": run.outcome.status}
    if not run.outcome.has_solution:
        out.update(found=False, reason=("no other set of open sites meets every rule"
                                        if run.outcome.status == "infeasible" else
                                        f"the search ended {run.outcome.status} ({run.outcome.termination})"))
        return out
    plan = _plan(2, run)
    d = base.data
    words, _ = describe(d, plan, best, "sites")
    diff = plan.objective - best.objective
    o, b = run.outcome, base.outcome
    within = sum(max(r.objective - r.best_bound, 0.0) for r in (o, b) if r.best_bound is not None)
    out.update(found=True, plan=words, open_sites=_names(d, plan.opened), objective=o.objective,
               mip_gap=o.mip_gap, best_bound=o.best_bound, difference=diff,
               relative=diff / max(abs(best.objective), 1e-12), within=within,
               **lump_sum(d, plan, [best], base.instance.settings.money_label))
    return out
