"""The cheapest package that induces a plan: the government's side of the break-even.

Given target sites T and the sites the government may fund F (the target sites in its country), find
lump sums L[t] >= 0 (t in F), paid when the site opens, of least total nominal outlay such that the
firm's own optimum opens every target site. Exact by cutting planes (a bilevel problem whose lower
level is the siting MIP).

What an offer is worth to a plan. A lump sum lowers the firm's cost of a plan that opens t by
L[t] w[t, n], n the period the plan opens t in (or, with ``paid = on_start``, its capacity first
produces), w[t, n] = crf[t] x A(n, life[t]) the present value of one money unit paid then and counted
like the capital it pays for (docs/model.md, "Periods"). On a snapshot there is one period and
w[t] = crf[t] (offers are annualised like capex); on a phased instance the objective is a net present
value and an offer is worth more the earlier the plan opens the site. Plans that open the target
sites in the same periods (the same *schedule* n of the funded sites) receive the same offers, so
the best target plan with offers L is min over schedules n of c(n) - sum_t w[t, n_t] L[t], c(n) the
firm's least cost over the plans that open every target site with the funded ones opening as n says.

The loop:

1. c_T: the firm's least cost over the plans that open every target site (one re-solve of the
   optimum's compiled model with a row z[t] >= 1 per target site, z[t] open by the horizon's end),
   and its schedule n_T; c(n_T) = c_T, and c_T is a lower bound of c(n) for every other schedule.
2. Solve the firm's problem at the current offers. If its response y opens every target site, stop.
   Otherwise its cost without the package, c(y), is its objective plus the present value of the
   offers it is paid, and every target schedule n must beat y by the margin m:
   ``c(n) - sum_t w[t, n_t] L[t] + m <= c(y) - sum_{t open in y} w[t, n_y(t)] L[t]``.
   On a snapshot the offers at sites y also opens cancel, which leaves the cut
   ``sum_{t in F closed in y} crf[t] L[t] >= c_T - c(y) + m``.
3. The offer problem: for each schedule n the LP min sum_t L[t] subject to every cut (c(n) as far as
   known, else its lower bound c_T); the least of them wins (ties to a schedule whose cost is known).
   If its c(n) is only the bound, the schedule is priced (the compiled model re-solved with each
   funded target site opening in its period of n: z[t, n_t - 1] <= 0 <= z[t, n_t] - 1) and the offer
   problem solved again; otherwise go to 2 with its offers.

The offer problem is a relaxation of the true one (fewer responses, costs no higher than c(n)), so
its offers, once the firm's response opens the target, are the cheapest; there are finitely many
plans and schedules and none is visited twice, so the loop ends. On a snapshot there is one schedule
and the loop is the plain cutting-plane method. If no schedule's LP is feasible, no package within
the allowed instruments can make a target plan cheaper than the responses: the answer is
"impossible", with the response and the difference named. The margin m = 1e-6 x max(1, |c_T|) (in
the objective's unit: money a year on a snapshot, money in present value on a phased instance)
breaks the firm's ties in the target's favour: the package makes the target plan cheaper than every
response found by at least m, more than the exact profile's gap, so the response is the target in
the solve too. The schedules are enumerated (periods ^ funded target sites, at most
``MAX_SCHEDULES``), each an LP of a few rows.

Offers go only to target sites: the question is what it costs to bring those sites, and an offer at
another site would be paid for a plant the government did not ask for.

A grant rate is found on top of the lump sums (documented in the README): rate r[t] = k L[t] /
capex[t] at each funded site, capex[t] that of the induced plan, with the scale k bisected to a
relative tolerance (the smallest k whose response opens the target). It keeps the lump-sum answer's
proportions between sites, so it is the cheapest rate package of that shape, not over all shapes.

Every firm solve goes through :func:`siting.run.run_case`; the offers are a policy package
(:mod:`siting.instance.designs`) that adds one instrument per funded site. The target plans are
re-solves of the optimum's compiled model with rows added (:func:`siting.run.resolve`).
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field

import numpy as np

from siting.analysis import cuts
from siting.analysis.breakeven import PAID, check_site, lump_worths
from siting.errors import InputError, NoPlan, Problem, suggest
from siting.instance.designs import Package, apply_package
from siting.instance.read import RawInstance
from siting.model.investment import opened as open_by
from siting.run import Run, resolve, run_case
from siting.solve import SolverOptions, solve_small

log = logging.getLogger(__name__)

INSTRUMENTS = ("lump", "grant-rate")
#: The firm's ties are broken in the target's favour by this much, relative to the target plan's
#: cost (at least this much in absolute terms): well above the exact profile's 1e-9 gap.
MARGIN = 1e-6
#: Most solves of the firm's problem (responses and priced schedules) before giving up.
MAX_ITERATIONS = 200
#: Most opening schedules of the funded target sites the offer problem weighs (periods ^ sites).
MAX_SCHEDULES = 4096


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
        (money unit, nominal, paid on opening; for a rate, what it pays in the induced plan),
        ``amount_per_year`` (annualised), and ``rate`` for a grant rate. On a phased instance also
        ``amount_present_value`` (what it is worth in the induced plan, as the objective counts it)
        and ``paid_in`` (the period it is paid in there).
    iterations
        One dict per firm solve: the offers it faced, its response, and the cut it gave.
    schedules
        Phased: each opening schedule of the funded target sites whose cost was priced.
    firm_cost_without, firm_cost_with
        The firm's optimal cost without the package and with it (money unit a year; on a phased
        instance a net present value).
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
    schedules: list = field(default_factory=list)
    firm_cost_without: float | None = None
    firm_cost_with: float | None = None
    target_cost: float | None = None
    margin: float = 0.0
    reason: str = ""
    fundable: list = field(default_factory=list)
    plan: str = ""
    tolerance: float | None = None
    phased: bool = False
    paid: str = "on_order"
    final: Run | None = None  # the firm's solve with the package (induced only)

    @property
    def outlay(self) -> float:
        """The offers' total, nominal (money unit)."""
        return float(sum(o["amount"] for o in self.offers))

    @property
    def outlay_per_year(self) -> float:
        """The offers' total, annualised (money unit a year)."""
        return float(sum(o["amount_per_year"] for o in self.offers))

    @property
    def outlay_present_value(self) -> float | None:
        """Phased: the offers' present value in the induced plan (money unit); None on a snapshot."""
        return float(sum(o["amount_present_value"] for o in self.offers)) if self.phased else None

    @property
    def unit(self) -> str:
        """The unit of the firm's costs: money a year, or money in present value (phased)."""
        return f"{self.money} (present value)" if self.phased else f"{self.money}/yr"

    def sets(self) -> list[str]:
        """The package as ``--set`` overrides of instruments named :func:`offer_id` (the instance
        must hold such rows, e.g. a lump sum of 0 at each site, for ``--set`` to reach them)."""
        key = "amount" if self.instrument == "lump" else "rate"
        out = [f"instruments.{offer_id(o['site'])}.{key}={o['amount'] if key == 'amount' else o['rate']!r}"
               for o in self.offers]
        if self.paid != "on_order":
            out += [f"instruments.{offer_id(o['site'])}.paid={self.paid}" for o in self.offers]
        return out

    def package(self) -> Package:
        """The package as a policy package (rows added to the instance's instruments)."""
        return Package("induced", add=tuple(_row(o, self.paid) for o in self.offers), origin="induce")

    def as_dict(self) -> dict:
        """The answer as ``--json`` prints it, with every firm solve."""
        out = {"target": self.target, "instrument": self.instrument, "country": self.country,
               "status": self.status, "offers": self.offers, "outlay": self.outlay,
               "outlay_per_year": self.outlay_per_year, "unit": self.money,
               "iterations": self.iterations, "firm_cost_without": self.firm_cost_without,
               "firm_cost_with": self.firm_cost_with, "target_cost": self.target_cost,
               "margin": self.margin, "fundable": self.fundable, "plan": self.plan,
               "tolerance": self.tolerance, "reason": self.reason}
        if self.phased:
            out.update(outlay_present_value=self.outlay_present_value, paid=self.paid, schedules=self.schedules,
                       cost_unit=self.unit)
        return out

    def words(self) -> list[str]:
        """The answer in a planner's words, one line each."""
        m, t, u = self.money, ", ".join(self.target), self.unit
        if self.status == "impossible":
            return [f"no {self.instrument} package at {', '.join(self.fundable) or 'no fundable site'} "
                    f"can make the firm open {t}: {self.reason}"]
        if not self.offers:
            return [f"the firm opens {t} with no offer at all: {self.plan}"]
        how = (f"the lump sums exact by cutting planes, then the rates' common scale bisected to "
               f"{self.tolerance:.2g} ({len(self.iterations)} firm solves in all)" if self.tolerance else
               f"exact by cutting planes in {len(self.iterations)} firm solves")
        if self.phased:
            when = "when its capacity first produces" if self.paid == "on_start" else "in the period it opens"
            lines = [f"the cheapest {self.instrument} package that makes the firm open {t}: outlay "
                     f"{self.outlay:,.3f} {m} nominal, each offer paid {when}, worth {self.outlay_present_value:,.3f} "
                     f"{m} in present value in the induced plan; {how}"
                     + (f" and {len(self.schedules)} opening schedules priced" if self.schedules else "")]
            for o in self.offers:
                rate = f" (a capex grant at {o['rate']:.4%})" if "rate" in o else ""
                lines.append(f"  {o['site']}: {o['amount']:,.3f} {m}{rate} paid in {o['paid_in']}, worth "
                             f"{o['amount_present_value']:,.3f} {m} in present value")
        else:
            lines = [f"the cheapest {self.instrument} package that makes the firm open {t}: outlay "
                     f"{self.outlay:,.3f} {m} ({self.outlay_per_year:,.3f} {m}/yr annualised), {how}"]
            for o in self.offers:
                rate = f" (a capex grant at {o['rate']:.4%})" if "rate" in o else ""
                lines.append(f"  {o['site']}: {o['amount']:,.3f} {m}{rate}, {o['amount_per_year']:,.3f} {m}/yr")
        lines.append(f"firm cost {self.firm_cost_without:,.3f} {u} without the package, "
                     f"{self.firm_cost_with:,.3f} with it; the plan opens {self.plan} "
                     f"(ties broken by a margin of {self.margin:.3g} {u})")
        return lines


def _trial(site: str) -> str:
    # the offers being tried carry their own ids, so that an instance may hold rows named
    # offer_id(site) (to apply an answer with --set) without a clash
    return f"induce-trial-{site}"


def _row(o: dict, paid: str = "on_order") -> dict:
    src = "induce: the offer of the cheapest inducing package"
    extra = {"paid": paid} if paid != "on_order" else {}
    if o["instrument"] == "lump":
        return {"id": offer_id(o["site"]), "kind": "lump_sum", "site": o["site"], "amount": o["amount"],
                **extra, "source": src}
    return {"id": offer_id(o["site"]), "kind": "capex_grant", "site": o["site"], "rate": o["rate"], **extra,
            "source": src}


def _opened(run: Run) -> list[str]:
    t = run.results.tables["sites"]
    return t.loc[t["open"], "site"].tolist()


def _open_periods(run: Run) -> dict[str, int]:
    """The period (index) each open site of ``run``'s plan opens in (0 on a snapshot)."""
    by = run.results.solution.build_by_period
    sites = list(run.data.sites["site"])
    return {s: (int(np.argmax(by[sites.index(s)] > 0.5)) if by is not None else 0) for s in _opened(run)}


def _paid(run: Run) -> dict[str, float]:
    """What each induced offer in the run is worth to the firm, by site: annualised on a snapshot,
    its present value on a phased instance (as the objective counts it)."""
    s = run.results.tables["subsidies"]
    mine = s[s["instrument"].str.startswith("induce-trial-")]
    col = "payout_present_value" if run.data.calendar.phased else "payout_per_year"
    return {site: float(v) for site, v in zip(mine["site"], mine[col])}


def _worths(run: Run, fundable: list[str], paid: str) -> dict[str, np.ndarray]:
    """w[t, n]: what one money unit of lump sum at each funded site is worth to the firm, by the
    period n the site opens in (module docstring); on a snapshot crf[t]."""
    return {t: lump_worths(run.data, t, paid) for t in fundable}


@dataclass
class _Response:
    """A plan the firm chose that does not open every target site."""

    opens: list[str]
    cost: float  # without the offers
    worth: np.ndarray  # what one unit of offer at each funded site is worth to it (0: closed there)


def _solve(raw: RawInstance, options: SolverOptions, rows: list[dict], sets=()) -> Run:
    source = apply_package(raw, Package("induce", add=tuple(rows), origin="induce")) if rows else raw
    run = run_case(source, options, sets=list(sets), duals=False)
    if not run.outcome.has_solution:
        raise NoPlan(Problem("induce", f"the firm's problem ended {run.outcome.status} ({run.outcome.termination}), "
                             "so there is nothing to induce against", "solve the instance with `siting solve` to see "
                             "why"))
    return run


def _target_plan(base: Run, target: list[str], options: SolverOptions,
                 schedule: dict[str, int] | None = None) -> Run:
    """The firm's best plan that opens every target site (re-solving the optimum's compiled model):
    open by the horizon's end, and each site of ``schedule`` opening in its period exactly."""
    where = {id(v): k for k, v in enumerate(base.compiled.columns)}
    sm, periods = base.model, base.data.periods
    index = {s: j for j, s in enumerate(base.data.sites["site"])}

    def col(j: int, n: int) -> int:
        k = where.get(id(open_by(sm, j, periods[n])), -1)
        assert k >= 0, "a site's open-by variable is in the build_stays and module_site rows"
        return k

    rows = []
    for t in target:
        j, n = index[t], (schedule or {}).get(t)
        rows.append(({col(j, len(periods) - 1 if n is None else n): 1.0}, 1.0, np.inf))
        if n:
            rows.append(({col(j, n - 1): 1.0}, -np.inf, 0.0))
    return resolve(base, cuts.add_rows(base.compiled, rows), options)


def _offer_lp(worth: np.ndarray, cost: float, responses: list[_Response], margin: float,
              options: SolverOptions) -> tuple[np.ndarray, float] | None:
    """min sum L s.t. cost - worth.L + margin <= r.cost - r.worth.L for every response, L >= 0
    (None: infeasible)."""
    n = len(worth)
    A, b = [], []
    for r in responses:
        a, need = worth - r.worth, cost - r.cost + margin
        if need <= 0 and (a >= 0).all():
            continue  # holds at every L >= 0
        if need > 0 and not (a > 0).any():
            return None  # no L >= 0 meets it
        A.append(a)
        b.append(need)
    if not A:
        return np.zeros(n), 0.0
    status, x, value = solve_small(np.ones(n), np.array(A), np.array(b), np.full(len(A), np.inf), np.zeros(n),
                                   np.full(n, np.inf), None, options)
    if x is None:
        if "nfeasible" in status:
            return None
        raise NoPlan(Problem("induce", f"the offer problem ended {status}", "report this instance"))
    return np.maximum(x, 0.0), float(value)


def _check(raw: RawInstance, target: list[str], instrument: str, paid: str) -> None:
    if instrument not in INSTRUMENTS:
        raise InputError(Problem(f"--instrument {instrument}", "is not an induce instrument",
                                 suggest(instrument, INSTRUMENTS, "use " + " or ".join(INSTRUMENTS))))
    if paid not in PAID:
        raise InputError(Problem(f"--paid {paid}", "is not a payment schedule of an offer",
                                 suggest(paid, PAID, "use " + " or ".join(PAID))))
    if not target:
        raise InputError(Problem("--target", "names no site", "give one or more sites, e.g. --target kumamoto"))
    if len(set(target)) != len(target):
        raise InputError(Problem("--target", "names a site twice", "give each site once"))
    problems: list[Problem] = []
    for site in target:
        try:
            check_site(raw, site)
        except InputError as exc:
            problems.extend(Problem(p.location.replace("--site", "--target"), p.problem, p.fix)
                            for p in exc.problems)
    if problems:
        raise InputError(problems)


def induce(raw: RawInstance, target: list[str], options: SolverOptions, instrument: str = "lump",
           country: str | None = None, tolerance: float = 1e-4, progress=None, paid: str = "on_order") -> Induced:
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
    paid
        When an offer is paid on a phased instance: ``on_order`` (the period the site opens) or
        ``on_start`` (the first period its capacity ordered then produces); a snapshot ignores it.

    Raises
    ------
    InputError
        For an unknown or fixed target site or instrument, or too many opening schedules to weigh.
    NoPlan
        If a solve the method needs finds no plan.
    """
    _check(raw, target, instrument, paid)
    base = run_case(raw, options, duals=False, keep_compiled=True)
    if not base.outcome.has_solution:
        raise NoPlan(Problem("induce", f"the firm's problem ended {base.outcome.status} ({base.outcome.termination}), "
                             "so there is nothing to induce against", "solve the instance with `siting solve` to see "
                             "why"))
    inst, cal = base.instance, base.data.calendar
    country = country if country is not None else (inst.settings.policy_country or "")
    sites = base.data.sites.set_index("site")
    fundable = [t for t in target if not country or sites.at[t, "country"] == country]
    crf = {t: float(sites.at[t, "crf"]) for t in target}
    out = Induced(target=list(target), instrument=instrument, country=country, money=inst.settings.money_label,
                  fundable=fundable, firm_cost_without=base.outcome.objective, phased=cal.phased, paid=paid)
    n_schedules = len(cal.ids) ** len(fundable)
    if n_schedules > MAX_SCHEDULES:
        raise InputError(Problem("--target", f"has {len(fundable)} sites that may be funded over {len(cal.ids)} "
                                 f"periods: {n_schedules:,} opening schedules to weigh, more than {MAX_SCHEDULES:,}",
                                 "target fewer sites at once, or fund fewer with --country"))
    forced = _target_plan(base, target, options)
    if not forced.outcome.has_solution:
        out.status = "impossible"
        out.reason = (f"no plan opens all of {', '.join(target)} ({forced.outcome.status}: "
                      f"{forced.outcome.termination}), whatever it is paid")
        return out
    c_target = float(forced.outcome.objective)
    out.target_cost = c_target
    out.margin = MARGIN * max(1.0, abs(c_target))
    worth = _worths(base, fundable, paid)
    when = _open_periods(forced)
    first = tuple(when[t] for t in fundable)
    # each opening schedule of the funded sites: [its cost (c_T a lower bound until priced), priced?]
    schedules = {n: [c_target, n == first] for n in itertools.product(range(len(cal.ids)), repeat=len(fundable))}
    responses: list[_Response] = []
    lump = np.zeros(len(fundable))  # nominal lump sums at the fundable sites
    run, solves = base, 1
    while True:
        opened = _opened(run)
        got = _paid(run)
        record = {"iteration": len(out.iterations) + 1,
                  "offers": {t: float(lump[k]) for k, t in enumerate(fundable)},
                  "response": opened, "firm_cost": float(run.outcome.objective)}
        out.iterations.append(record)
        if all(t in opened for t in target):
            record["cut"] = None
            if progress:
                progress(record)
            break
        periods = _open_periods(run)
        response = _Response(opened, float(run.outcome.objective) + sum(got.values()),
                             np.array([worth[t][periods[t]] if t in periods else 0.0 for t in fundable]))
        if abs(response.worth @ lump - sum(got.values())) > 1e-6 * max(1.0, abs(response.cost)):
            log.warning("induce: the offers paid in the response (%s) differ from their worth by schedule (%s)",
                        sum(got.values()), response.worth @ lump)
        responses.append(response)
        while True:
            best = None  # (value, priced, schedule, offers)
            for n, (cost, priced) in schedules.items():
                if not np.isfinite(cost):
                    continue
                w = np.array([worth[t][k] for t, k in zip(fundable, n)])
                lp = _offer_lp(w, cost, responses, out.margin, options)
                if lp is None:
                    continue
                tie = 1e-9 * max(1.0, abs(lp[1]))
                if best is None or lp[1] < best[0] - tie or (lp[1] <= best[0] + tie and priced and not best[1]):
                    best = (lp[1], priced, n, lp[0])
            if best is None or best[1]:
                break
            if solves >= MAX_ITERATIONS:
                raise NoPlan(Problem("induce", f"no answer after {MAX_ITERATIONS} solves", "report this instance"))
            plan = _target_plan(base, target, options, dict(zip(fundable, best[2])))
            solves += 1
            schedules[best[2]] = [float(plan.outcome.objective) if plan.outcome.has_solution else np.inf, True]
            out.schedules.append({"opens": {t: cal.ids[k] for t, k in zip(fundable, best[2])},
                                  "cost": schedules[best[2]][0], "status": plan.outcome.status})
        if best is None:
            _impossible(out, response, target, c_target)
            return out
        n_best, cost_best = best[2], schedules[best[2]][0]
        a = np.array([worth[t][k] for t, k in zip(fundable, n_best)]) - response.worth
        need = cost_best - response.cost + out.margin
        left = [t for k, t in enumerate(fundable) if a[k] != 0]
        record["cut"] = {"sites": left, "at_least": need,
                         "target_opens": {t: cal.ids[k] for t, k in zip(fundable, n_best)},
                         "text": " + ".join(f"{a[fundable.index(t)]:.6g} L[{t}]" for t in left) + f" >= {need:,.6g}"
                         if left else f"0 >= {need:,.6g}"}
        if progress:
            progress(record)
        if solves >= MAX_ITERATIONS:
            raise NoPlan(Problem("induce", f"no answer after {MAX_ITERATIONS} solves", "report this instance"))
        lump = best[3]
        rows = [{"id": _trial(t), "kind": "lump_sum", "site": t, "amount": repr(float(lump[k])),
                 **({"paid": paid} if paid != "on_order" else {}), "source": "induce"}
                for k, t in enumerate(fundable) if lump[k] > 0]
        run = _solve(raw, options, rows)
        solves += 1
    out.offers = [{"site": t, "instrument": "lump", "amount": float(lump[k]),
                   "amount_per_year": float(lump[k]) * crf[t]} for k, t in enumerate(fundable) if lump[k] > 0]
    if out.phased:
        _present_values(out, run)
    if instrument == "grant-rate" and out.offers:
        run = _rates(raw, options, out, run, tolerance, progress)
    out.firm_cost_with = float(run.outcome.objective)
    out.plan = ", ".join(_opened(run))
    out.final = run
    return out


def _present_values(out: Induced, run: Run) -> None:
    """Phased: each offer's present value and period of payment in ``run``'s plan."""
    subs = run.results.tables["subsidies"]
    for o in out.offers:
        mine = subs[subs["instrument"] == _trial(o["site"])]
        o["amount_present_value"] = float(mine["payout_present_value"].sum())
        paying = mine[mine["payout_total"] > 0]
        o["paid_in"] = str(paying["period"].iloc[0]) if len(paying) else ""


def _impossible(out: Induced, response: _Response, target: list[str], c_target: float) -> None:
    u = "/yr" if not out.phased else " (present value)"
    out.status, out.plan = "impossible", ", ".join(response.opens)
    missing = [t for t in target if t not in response.opens]
    if not any(t in missing for t in out.fundable):
        out.reason = (f"the firm still prefers the plan that opens {', '.join(response.opens) or 'nothing'} at "
                      f"{response.cost:,.3f} {out.money}{u} to the best plan opening every target site at "
                      f"{c_target:,.3f}, and it leaves closed only {', '.join(missing)}, where no offer is "
                      "allowed" + (f" (outside {out.country})" if out.country else ""))
    else:
        out.reason = (f"an offer at {', '.join(out.fundable)} lowers the plans the firm prefers (the last opens "
                      f"{', '.join(response.opens) or 'nothing'} at {response.cost:,.3f} {out.money}{u}) as much as "
                      f"every plan opening {', '.join(target)} (the best at {c_target:,.3f})")


def _rates(raw: RawInstance, options: SolverOptions, out: Induced, run: Run, tolerance: float, progress) -> Run:
    """Bisect the scale k of grant rates r[t] = k L[t] / capex[t] (capex of the lump-sum plan)."""
    capex = run.results.tables["sites"].set_index("site")["capex_total"]
    base_rate = {o["site"]: o["amount"] / float(capex[o["site"]]) for o in out.offers}

    def attempt(k: float) -> Run | None:
        rows = [{"id": _trial(t), "kind": "capex_grant", "site": t, "rate": repr(min(k * r, 1.0)),
                 **({"paid": out.paid} if out.paid != "on_order" else {}), "source": "induce"}
                for t, r in base_rate.items()]
        got = _solve(raw, options, rows)
        record: dict = {"iteration": len(out.iterations) + 1, "rate_scale": k, "response": _opened(got),
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
    # a phased plan's subsidies table has a row per instrument and period: the totals over them
    paid = best.results.tables["subsidies"].groupby("instrument")["payout_total"].sum()
    crf = {o["site"]: o["amount_per_year"] / o["amount"] for o in out.offers}
    out.offers = [{"site": t, "instrument": "grant-rate", "rate": min(hi * r, 1.0),
                   "amount": float(paid[_trial(t)]), "amount_per_year": float(paid[_trial(t)]) * crf[t]}
                  for t, r in base_rate.items()]
    if out.phased:
        _present_values(out, best)
    out.tolerance = tolerance
    return best
