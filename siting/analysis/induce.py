"""The cheapest package that induces a plan: the government's side of the break-even.

Given target sites T and the sites the government may fund (the target sites in its country), find
lump sums L[t] >= 0, paid on opening, of least total outlay such that the firm's own optimum opens
every target site. Exact by cutting planes (a bilevel problem whose lower level is the siting MIP):

1. c_T: the firm's least cost over the plans that open every target site (one solve with them
   forced open). Every such plan receives every offer, so with offers its cost is
   c_T - sum_t a[t] L[t], a[t] the site's capital recovery factor (offers are annualised like
   capex).
2. Solve the firm's problem at the current offers. If its best response y opens every target site,
   stop. Otherwise y's cost without the package, c(y), is its objective plus the offers it is paid,
   and the target must be no dearer than y by the margin m:
   ``sum_{t in T, fundable, closed in y} a[t] L[t] >= c_T - c(y) + m``
   (offers at target sites that y also opens lower both plans alike and cancel).
3. Re-solve the offer problem (min sum_t L[t] subject to every cut, an LP in HiGHS) and go to 2.

There are finitely many plans and a cut is never violated again by the plan it came from, so the
loop ends. If a cut has no fundable site on its left and a positive right-hand side, no package
within the allowed instruments can make the target cheaper than y: the answer is "impossible",
with y and the difference named. The margin m (money unit a year) breaks the firm's ties in the
target's favour: the package makes the target strictly cheaper than every other plan by at least
m, which is more than the exact profile's gap, so the response is the target in the solve too.

Offers go only to target sites: the question is what it costs to bring those sites, and an offer at
another site would be paid for a plant the government did not ask for.

A grant rate is found on top of the lump sums (documented in the README): rate r[t] = k L[t] /
capex[t] at each funded site, capex[t] that of the induced plan, with the scale k bisected to a
relative tolerance (the smallest k whose response opens the target). It keeps the lump-sum answer's
proportions between sites, so it is the cheapest rate package of that shape, not over all shapes.

Every solve goes through :func:`siting.run.run_case`; the offers are a policy package
(:mod:`siting.instance.designs`) that adds one instrument per funded site.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from siting.analysis.breakeven import check_site
from siting.errors import InputError, NoPlan, Problem, suggest
from siting.instance.designs import Package, apply_package
from siting.instance.read import RawInstance
from siting.run import Run, run_case
from siting.solve import SolverOptions, solve_small

log = logging.getLogger(__name__)

INSTRUMENTS = ("lump", "grant-rate")
#: The firm's ties are broken in the target's favour by this much, relative to the target plan's
#: cost (at least this much in absolute terms): well above the exact profile's 1e-9 gap.
MARGIN = 1e-6
#: Most cutting-plane iterations before giving up (each is one solve of the firm's problem).
MAX_ITERATIONS = 200


def offer_id(site: str) -> str:
    """The instrument id of the induced offer at ``site``."""
    return f"induce-{site}"


@dataclass
class Induced:
    """The answer of :func:`induce`.

    Attributes
    ----------
    status
        ``induced`` or ``impossible``.
    offers
        One dict per funded site: ``site``, ``instrument`` (``lump`` or ``grant-rate``), ``amount``
        (money unit, paid on opening; for a rate, what it pays in the induced plan), ``amount_per_year``
        (annualised), and ``rate`` for a grant rate.
    iterations
        One dict per firm solve: the offers it faced, its response, and the cut it gave.
    firm_cost_without, firm_cost_with
        The firm's optimal cost without the package and with it (money unit a year).
    reason
        Why no package can induce the target (``impossible`` only).
    """

    target: list[str]
    instrument: str
    country: str
    money: str
    status: str = "induced"
    offers: list = field(default_factory=list)
    iterations: list = field(default_factory=list)
    firm_cost_without: float | None = None
    firm_cost_with: float | None = None
    target_cost: float | None = None
    margin: float = 0.0
    reason: str = ""
    fundable: list = field(default_factory=list)
    plan: str = ""
    tolerance: float | None = None
    final: Run | None = None  # the firm's solve with the package (induced only)

    @property
    def outlay(self) -> float:
        return float(sum(o["amount"] for o in self.offers))

    @property
    def outlay_per_year(self) -> float:
        return float(sum(o["amount_per_year"] for o in self.offers))

    def sets(self) -> list[str]:
        """The package as ``--set`` overrides of instruments named :func:`offer_id` (the instance
        must hold such rows, e.g. a lump sum of 0 at each site, for ``--set`` to reach them)."""
        key = "amount" if self.instrument == "lump" else "rate"
        return [f"instruments.{offer_id(o['site'])}.{key}={o['amount'] if key == 'amount' else o['rate']!r}"
                for o in self.offers]

    def package(self) -> Package:
        """The package as a policy package (rows added to the instance's instruments)."""
        return Package("induced", add=tuple(_row(o) for o in self.offers), origin="induce")

    def as_dict(self) -> dict:
        return {"target": self.target, "instrument": self.instrument, "country": self.country,
                "status": self.status, "offers": self.offers, "outlay": self.outlay,
                "outlay_per_year": self.outlay_per_year, "unit": self.money,
                "iterations": self.iterations, "firm_cost_without": self.firm_cost_without,
                "firm_cost_with": self.firm_cost_with, "target_cost": self.target_cost,
                "margin": self.margin, "fundable": self.fundable, "plan": self.plan,
                "tolerance": self.tolerance, "reason": self.reason}

    def words(self) -> list[str]:
        """The answer in a planner's words, one line each."""
        m, t = self.money, ", ".join(self.target)
        if self.status == "impossible":
            return [f"no {self.instrument} package at {', '.join(self.fundable) or 'no fundable site'} "
                    f"can make the firm open {t}: {self.reason}"]
        if not self.offers:
            return [f"the firm opens {t} with no offer at all: {self.plan}"]
        lines = [f"the cheapest {self.instrument} package that makes the firm open {t}: outlay {self.outlay:,.3f} {m} "
                 f"({self.outlay_per_year:,.3f} {m}/yr annualised), "
                 + (f"the lump sums exact by cutting planes, then the rates' common scale bisected to "
                    f"{self.tolerance:.2g} ({len(self.iterations)} firm solves in all)" if self.tolerance else
                    f"exact by cutting planes in {len(self.iterations)} firm solves")]
        for o in self.offers:
            rate = f" (a capex grant at {o['rate']:.4%})" if "rate" in o else ""
            lines.append(f"  {o['site']}: {o['amount']:,.3f} {m}{rate}, {o['amount_per_year']:,.3f} {m}/yr")
        lines.append(f"firm cost {self.firm_cost_without:,.3f} {m}/yr without the package, "
                     f"{self.firm_cost_with:,.3f} with it; the plan opens {self.plan} "
                     f"(ties broken by a margin of {self.margin:.3g} {m}/yr)")
        return lines


def _trial(site: str) -> str:
    # the offers being tried carry their own ids, so that an instance may hold rows named
    # offer_id(site) (to apply an answer with --set) without a clash
    return f"induce-trial-{site}"


def _row(o: dict) -> dict:
    src = "induce: the offer of the cheapest inducing package"
    if o["instrument"] == "lump":
        return {"id": offer_id(o["site"]), "kind": "lump_sum", "site": o["site"], "amount": o["amount"],
                "source": src}
    return {"id": offer_id(o["site"]), "kind": "capex_grant", "site": o["site"], "rate": o["rate"], "source": src}


def _opened(run: Run) -> list[str]:
    t = run.results.tables["sites"]
    return t.loc[t["open"], "site"].tolist()


def _paid(run: Run) -> dict[str, float]:
    """Annualised payout of each induced offer in the run, by site."""
    s = run.results.tables["subsidies"]
    mine = s[s["instrument"].str.startswith("induce-trial-")]
    return {site: float(v) for site, v in zip(mine["site"], mine["payout_per_year"])}


def _solve(raw: RawInstance, options: SolverOptions, rows: list[dict], sets=()) -> Run:
    source = apply_package(raw, Package("induce", add=tuple(rows), origin="induce")) if rows else raw
    run = run_case(source, options, sets=list(sets), duals=False)
    if not run.outcome.has_solution:
        raise NoPlan(Problem("induce", f"the firm's problem ended {run.outcome.status} ({run.outcome.termination}), "
                             "so there is nothing to induce against", "solve the instance with `siting solve` to see "
                             "why"))
    return run


def _check(raw: RawInstance, target: list[str], instrument: str) -> None:
    if instrument not in INSTRUMENTS:
        raise InputError(Problem(f"--instrument {instrument}", "is not an induce instrument",
                                 suggest(instrument, INSTRUMENTS, "use " + " or ".join(INSTRUMENTS))))
    if not target:
        raise InputError(Problem("--target", "names no site", "give one or more sites, e.g. --target kumamoto"))
    if len(set(target)) != len(target):
        raise InputError(Problem("--target", "names a site twice", "give each site once"))
    problems = []
    for site in target:
        try:
            check_site(raw, site)
        except InputError as exc:
            problems.extend(Problem(p.location.replace("--site", "--target"), p.problem, p.fix)
                            for p in exc.problems)
    if problems:
        raise InputError(problems)


def induce(raw: RawInstance, target: list[str], options: SolverOptions, instrument: str = "lump",
           country: str | None = None, tolerance: float = 1e-4, progress=None) -> Induced:
    """The least outlay over offers at the fundable target sites that makes the firm open them all.

    Parameters
    ----------
    raw
        The instance (with any ``--set`` already applied).
    target
        Sites the firm's optimum must open (others are free).
    country
        The courting country: only target sites there may be funded. None: the instance's
        ``policy_country``, or every target site if it has none.
    tolerance
        Relative tolerance of the rate scale's bisection (grant-rate only).
    progress
        Called with each iteration's record as it is made.

    Raises
    ------
    InputError
        For an unknown or fixed target site or instrument.
    NoPlan
        If a solve the method needs finds no plan.
    """
    _check(raw, target, instrument)
    base = run_case(raw, options, duals=False)
    if not base.outcome.has_solution:
        raise NoPlan(Problem("induce", f"the firm's problem ended {base.outcome.status} ({base.outcome.termination}), "
                             "so there is nothing to induce against", "solve the instance with `siting solve` to see "
                             "why"))
    inst = base.instance
    country = country if country is not None else (inst.settings.policy_country or "")
    sites = base.data.sites.set_index("site")
    fundable = [t for t in target if not country or sites.at[t, "country"] == country]
    crf = {t: float(sites.at[t, "crf"]) for t in target}
    out = Induced(target=list(target), instrument=instrument, country=country, money=inst.settings.money_label,
                  fundable=fundable, firm_cost_without=base.outcome.objective)
    forced = run_case(raw, options, sets=[f"sites.{t}.status=open" for t in target], duals=False)
    if not forced.outcome.has_solution:
        out.status = "impossible"
        out.reason = (f"no plan opens all of {', '.join(target)} ({forced.outcome.status}: "
                      f"{forced.outcome.termination}), whatever it is paid")
        return out
    c_target = float(forced.outcome.objective)
    out.target_cost = c_target
    out.margin = MARGIN * max(1.0, abs(c_target))
    index = {t: k for k, t in enumerate(fundable)}
    cuts: list[tuple[np.ndarray, float]] = []
    lump = np.zeros(len(fundable))  # undiscounted lump sums at the fundable sites
    run = base
    while True:
        opened = _opened(run)
        paid = _paid(run)
        record = {"iteration": len(out.iterations) + 1,
                  "offers": {t: float(lump[index[t]]) for t in fundable},
                  "response": opened, "firm_cost": float(run.outcome.objective)}
        out.iterations.append(record)
        if all(t in opened for t in target):
            record["cut"] = None
            if progress:
                progress(record)
            break
        cost_without = float(run.outcome.objective) + sum(paid.values())
        need = c_target - cost_without + out.margin
        left = [t for t in fundable if t not in opened]
        record["cut"] = {"sites": left, "at_least_per_year": need,
                         "text": " + ".join(f"{crf[t]:.6g} L[{t}]" for t in left) + f" >= {need:,.6g}"
                         if left else f"0 >= {need:,.6g}"}
        if progress:
            progress(record)
        if not left:
            missing = [t for t in target if t not in opened]
            out.status = "impossible"
            out.reason = (f"the firm still prefers the plan that opens {', '.join(opened) or 'nothing'} at "
                          f"{cost_without:,.3f} {out.money}/yr to the best plan opening every target site at "
                          f"{c_target:,.3f}, and it leaves closed only {', '.join(missing)}, where no offer is "
                          "allowed" + (f" (outside {country})" if country else ""))
            out.plan = ", ".join(opened)
            return out
        if len(out.iterations) >= MAX_ITERATIONS:
            raise NoPlan(Problem("induce", f"no answer after {MAX_ITERATIONS} firm solves", "report this instance"))
        row = np.zeros(len(fundable))
        for t in left:
            row[index[t]] = crf[t]
        cuts.append((row, need))
        weights = np.ones(len(fundable))
        status, x, _ = solve_small(weights, np.array([c[0] for c in cuts]), np.array([c[1] for c in cuts]),
                                   np.full(len(cuts), np.inf), np.zeros(len(fundable)),
                                   np.full(len(fundable), np.inf), None, options)
        if x is None:
            raise NoPlan(Problem("induce", f"the offer problem ended {status}", "report this instance"))
        lump = np.maximum(x, 0.0)
        rows = [{"id": _trial(t), "kind": "lump_sum", "site": t, "amount": repr(float(lump[index[t]])),
                 "source": "induce"} for t in fundable if lump[index[t]] > 0]
        run = _solve(raw, options, rows)
    out.offers = [{"site": t, "instrument": "lump", "amount": float(lump[index[t]]),
                   "amount_per_year": float(lump[index[t]]) * crf[t]} for t in fundable if lump[index[t]] > 0]
    if instrument == "grant-rate" and out.offers:
        run = _rates(raw, options, out, run, tolerance, progress)
    out.firm_cost_with = float(run.outcome.objective)
    out.plan = ", ".join(_opened(run))
    out.final = run
    return out


def _rates(raw: RawInstance, options: SolverOptions, out: Induced, run: Run, tolerance: float, progress) -> Run:
    """Bisect the scale k of grant rates r[t] = k L[t] / capex[t] (capex of the lump-sum plan)."""
    capex = run.results.tables["sites"].set_index("site")["capex_total"]
    base_rate = {o["site"]: o["amount"] / float(capex[o["site"]]) for o in out.offers}

    def attempt(k: float) -> Run | None:
        rows = [{"id": _trial(t), "kind": "capex_grant", "site": t, "rate": repr(min(k * r, 1.0)),
                 "source": "induce"} for t, r in base_rate.items()]
        got = _solve(raw, options, rows)
        record = {"iteration": len(out.iterations) + 1, "rate_scale": k, "response": _opened(got),
                  "firm_cost": float(got.outcome.objective), "cut": None}
        out.iterations.append(record)
        if progress:
            progress(record)
        return got if all(t in record["response"] for t in out.target) else None

    lo, hi = 0.0, 1.0
    best = attempt(hi)
    while best is None:
        lo, hi = hi, hi * 2
        if min(base_rate.values()) * lo >= 1.0:
            out.status, out.offers = "impossible", []
            out.reason = "even grants of all the capex at the funded sites do not bring the target"
            return run
        best = attempt(hi)
    # a rate pays what the lump sum did when the plan's capex stays put, so the answer is usually
    # just below hi: try one tolerance below it before bisecting the whole bracket
    if hi - lo > tolerance * hi:
        near = hi * (1 - tolerance)
        if attempt(near) is None:
            lo = near
    while hi - lo > tolerance * hi:
        mid = (lo + hi) / 2
        got = attempt(mid)
        if got is None:
            lo = mid
        else:
            hi, best = mid, got
    paid = best.results.tables["subsidies"].set_index("instrument")
    crf = {o["site"]: o["amount_per_year"] / o["amount"] for o in out.offers}
    out.offers = [{"site": t, "instrument": "grant-rate", "rate": min(hi * r, 1.0),
                   "amount": float(paid.at[_trial(t), "payout_total"]),
                   "amount_per_year": float(paid.at[_trial(t), "payout_total"]) * crf[t]}
                  for t, r in base_rate.items()]
    out.tolerance = tolerance
    return best
