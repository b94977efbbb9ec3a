"""Break-even offers and counterfactuals: how large must an offer be before a site wins, and why not here.

For a site that the optimum leaves closed, the smallest lump sum that opens it is exact from two
solves (MODEL.md, Analyses): cost with the site forced open (``sites.S.status=open``) minus the
optimal cost, because a lump sum lowers every plan that opens the site by the same amount and no
other plan at all. For a grant rate or a per-wafer subsidy the response is monotone (more offer
never makes the site less attractive), so the smallest offer is found by bisection to a stated
tolerance, starting from a bracket the lump sum gives. For a site that is open, the reverse: how
much a year it could lose before closing is the cost with the site forced closed minus the optimum.

Two more questions price a whole move rather than the smallest change (``siting breakeven --site S
--instead-of T``, ``--min-capacity N``), beside the answer above:

- **moving the fab** from T to S: cost with S holding at least the capacity the optimum builds at
  T (or ``--min-capacity``) and T not built, minus the optimum. A lump sum paid at S on condition
  of the move (a relocation payment) makes it worth it when it exceeds this, exactly (it lowers
  every moved plan by the same amount, and no other plan). Paid without the condition, the same
  sum may buy a token module at S beside T instead: the plan the unconditional offer gives is
  solved and shown. Forcing S open and T closed alone would not move the fab: the plan could open
  a token module at S and a third site;
- **a minimum size** at S: cost with S holding at least N wafers a year of capacity, minus the
  optimum: the least a lump sum conditional on that size must pay. The size is one row,
  sum_p K[S,p] n[S,p] >= N, added to the optimum's compiled model and re-solved
  (:func:`siting.run.resolve`); it forces S open, as modules need an open site. The move adds
  the same row and build[T] <= 0.

On a phased instance (a periods table) every cost is a present value, and so is the offer: the
gap between the two solves is the present value the offer must be worth. A lump sum is paid in
the period the site opens (or, with ``paid = on_start``, when its capacity first produces), so a
nominal amount is worth more the earlier the site opens. ``sites.status=open`` opens the site
from the first period, and a plan that opens it later may be cheaper to bring (it gains less from
the offer but may cost much less), so the smallest amount lies between the least NPV gap of any plan
with the site open by the horizon's end (a re-solve of the optimum's compiled model with the row
z[s] >= 1) over the present value of one unit paid as early as the site can open, and the forced
plan's gap over the worth of one unit paid when it opens the site. From the upper end, Newton
steps: the firm's response to an offer just above the level opens the site on some schedule, whose
own break-even level (its NPV without the offer minus the optimum, over the worth of one unit to
it) is tried next; the least NPV of the plans opening the site, less the offer, is concave in the
level, so the steps never pass the answer, and when a response's own level is where the step
started the answer is exact (on the bundled phased flagship the first response already is). If a
step fails to open the site, the rest is bisected. The answer states the nominal amount and its
present value in the resulting plan.

Every solve goes through :func:`siting.run.run_case`; a new offer is a policy package
(:mod:`siting.instance.designs`) that adds one instrument.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from siting.errors import InputError, NoPlan, Problem, suggest
from siting.instance.designs import Package, apply_package
from siting.instance.read import RawInstance
from siting.report.figures import plan_figures
from siting.run import Run, run_case
from siting.solve import SolverOptions

INSTRUMENTS = ("lump", "grant-rate", "per-wafer")
#: When an offer's payout is paid (instruments.paid): on a snapshot both are the same.
PAID = ("on_order", "on_start")
OFFER_ID = "breakeven-offer"


@dataclass
class Breakeven:
    """The answer of :func:`breakeven`.

    Attributes
    ----------
    direction
        ``opens``: the site is closed in the optimum and ``offer`` is what opens it;
        ``stays-open``: the site is open and ``could_lose`` is how much a year it could lose.
    offer, offer_total
        The offer annualised (money unit a year, like every cost) and undiscounted (for a lump
        sum, paid on opening; for a rate or per-wafer offer, what it pays in the resulting plan).
        On a phased instance ``offer`` is the offer's present value in the resulting plan (the
        objective is a net present value) and ``could_lose`` a present value too.
    level
        The offer in its own terms: the amount (lump), the rate, or currency per wafer.
    solves
        Every solve used: what it was, status, objective, gap, sites opened.
    """

    site: str
    instrument: str
    direction: str
    money: str
    currency: str
    offer: float | None = None
    offer_total: float | None = None
    level: float | None = None
    tolerance: float | None = None
    could_lose: float | None = None
    subsidy_now: float | None = None
    exact: bool = True
    within: float = 0.0
    phased: bool = False
    paid: str = "on_order"
    plan: str = ""
    base: Run | None = None
    other: Run | None = None
    solves: list = field(default_factory=list)
    moves: dict | None = None
    sized: dict | None = None
    moved_run: Run | None = None
    sized_run: Run | None = None

    def words(self) -> list[str]:
        """The answer in a planner's words, one line each."""
        m, s = self.money, self.site
        yr = "" if self.phased else "/yr"
        lines = []
        if self.phased and self.direction == "opens" and self.offer is not None:
            return self._phased_words()
        if self.direction == "stays-open":
            lines.append(f"{s} is open in the optimum; it stays open until its costs rise (or its subsidies fall) "
                         f"by {self.could_lose:,.3f} {m}{yr}{' in present value' if self.phased else ''}: "
                         f"cost with {s} closed minus the optimal cost, "
                         f"exact from two solves{self._within()}")
            lines.append(f"it receives {self.subsidy_now:,.3f} {m}{yr} of subsidy now: "
                         + ("it would stay open with none of it" if self.could_lose > self.subsidy_now
                            else f"it could lose at least {self.could_lose / max(self.subsidy_now, 1e-300):.1%} of "
                                 "it (more if the plan around it adapts as the subsidy shrinks)"))
            return lines
        if self.offer is None:
            lines.append(f"no {self.instrument} offer opens {s}: {self.plan}")
            return lines
        if self.instrument == "lump":
            lines.append(f"{s} opens with a lump sum of more than {self.offer_total:,.3f} {m} paid on opening "
                         f"({self.offer:,.3f} {m}/yr annualised): cost with {s} forced open minus the optimal cost, "
                         f"exact from two solves{self._within()}")
        elif self.instrument == "grant-rate":
            lines.append(f"{s} opens with a capex grant at a rate of {self.level:.4%} or more (bisection to "
                         f"{self.tolerance:.2g}); it then pays {self.offer_total:,.3f} {m} ({self.offer:,.3f} {m}/yr)")
        else:
            lines.append(f"{s} opens with a production subsidy of {self.level:,.2f} {self.currency} per wafer or more "
                         f"over the site's lifetime (bisection to {self.tolerance:.2g} {self.currency}); it then pays "
                         f"{self.offer:,.3f} {m}/yr ({self.offer_total:,.3f} {m} in all)")
        lines.append(f"with that offer the plan opens {self.plan}")
        return lines

    def more_words(self) -> list[str]:
        """The answers of ``--instead-of`` and ``--min-capacity``, one line each."""
        m, s, lines = self.money, self.site, []
        if self.moves:
            mv = self.moves
            t = mv["instead_of"]
            lines.append(f"moving the fab from {t} to {s} ({mv['min_capacity']:,.0f} wafers/yr or more at {s}, {t} "
                         f"closed) costs {mv['offer']:,.3f} {m}/yr: a lump sum of more than "
                         f"{mv['offer_total']:,.3f} {m} paid at {s} on condition of the move makes it worth it "
                         f"(cost of the moved plan minus the optimal cost, exact from two solves); the moved plan "
                         f"opens {mv['plan']}")
            lines.append(f"paid without the condition, the same sum gives the plan {mv['unconditional_plan']}")
        if self.sized:
            sz = self.sized
            lines.append(f"{s} with at least {sz['min_capacity']:,.0f} wafers/yr of capacity costs {sz['offer']:,.3f} "
                         f"{m}/yr more than the optimum: a lump sum of more than {sz['offer_total']:,.3f} {m} paid on "
                         f"condition of that size makes it worth building (exact from two solves); that plan opens "
                         f"{sz['plan']}")
        return lines

    def _phased_words(self) -> list[str]:
        m, s = self.money, self.site
        when = "when its capacity first produces" if self.paid == "on_start" else "in the period it opens"
        how = (f"exact from {len(self.solves)} solves" + self._within() if self.exact else
               f"bisection to {self.tolerance:.2g}")
        if self.instrument == "lump":
            head = f"{s} opens with a lump sum of more than {self.level:,.3f} {m} paid {when}"
        elif self.instrument == "grant-rate":
            head = f"{s} opens with a capex grant at a rate of {self.level:.4%} or more, paid {when}"
        else:
            head = f"{s} opens with a production subsidy of {self.level:,.2f} {self.currency} per wafer or more"
        return [f"{head} ({how}); in the resulting plan it pays {self.offer_total:,.3f} {m}, worth "
                f"{self.offer:,.3f} {m} in present value (the objective is a net present value)",
                f"with that offer the plan opens {self.plan}"]

    def _within(self) -> str:
        yr = "" if self.phased else "/yr"
        return f" (to within {self.within:.2g} {self.money}{yr}, the solves' gaps)" if self.within > 0 else ""

    def as_dict(self) -> dict:
        """The answer as ``--json`` prints it, with every solve used and the message."""
        return {
            "site": self.site, "instrument": self.instrument, "direction": self.direction,
            "offer": self.offer, "offer_total": self.offer_total,
            "unit": f"{self.money} (present value)" if self.phased else f"{self.money} per year", "paid": self.paid,
            "unit_total": self.money, "level": self.level, "tolerance": self.tolerance, "exact": self.exact,
            "within": self.within,
            "could_lose": self.could_lose, "subsidy_now": self.subsidy_now, "plan": self.plan,
            "moves": self.moves, "min_size": self.sized,
            "solves": self.solves, "message": [*self.words(), *self.more_words()],
        }


def _solve(raw: RawInstance, options: SolverOptions, what: str, solves: list, sets=(),
           offer: dict | None = None, keep: bool = False) -> Run:
    source = apply_package(raw, Package("breakeven", add=(offer,), origin="breakeven")) if offer else raw
    run = run_case(source, options, sets=list(sets), duals=False, keep_compiled=keep)
    o = run.outcome
    solves.append({"what": what, "status": o.status, "objective": o.objective, "best_bound": o.best_bound,
                   "mip_gap": o.mip_gap, "sites_open": _opened(run)})
    if not o.has_solution:
        raise NoPlan(Problem(what, f"{o.status} ({o.termination}), so there is nothing to compare with",
                             "solve that case with `siting solve` and the same --set to see why, or raise "
                             "--time-limit if it stopped early"))
    return run


def _opened(run: Run) -> str:
    if run.results is None:
        return ""
    return plan_figures(run.results).label(sep=", ", unit="wafers/yr")


def _bisect(raw: RawInstance, options: SolverOptions, solves: list, site: str, offer, lo: float, hi: float,
            tol: float, best: Run) -> tuple[float, Run]:
    """Halve [lo, hi] until it is at most ``tol`` wide: ``offer(level)`` opens ``site`` at ``hi``
    (``best`` is that solve) and not at ``lo``. Returns the least level found to open it, and its run."""
    while hi - lo > tol:
        mid = (lo + hi) / 2
        run = _solve(raw, options, f"offer {mid:.6g}", solves, offer=offer(mid))
        if _is_open(run, site):
            hi, best = mid, run
        else:
            lo = mid
    return hi, best


def _is_open(run: Run, site: str) -> bool:
    t = run.results.tables["sites"].set_index("site")
    return bool(t.at[site, "open"])


def check_site(raw: RawInstance, site: str) -> None:
    """The site exists and the model is free to open or close it."""
    table = raw.tables.get("sites")
    sites = list(table["id"]) if table is not None else []
    if site not in sites:
        raise InputError(Problem(f"--site {site}", "is not a site of the instance",
                                 suggest(site, sites, "give one of the ids in sites.csv")))
    status = table.loc[table["id"] == site, "status"].iloc[0] if "status" in table.columns else ""
    if str(status).strip():
        raise InputError(Problem(f"--site {site}", f"is fixed {status} by sites.status, so no offer can change it",
                                 f"clear it with --set sites.{site}.status= to ask what would change the plan"))


def check_instead_of(raw: RawInstance, site: str, instead_of: str) -> None:
    """``instead_of`` is another site of the instance that the model may close."""
    table = raw.tables.get("sites")
    sites = list(table["id"]) if table is not None else []
    if instead_of not in sites:
        raise InputError(Problem(f"--instead-of {instead_of}", "is not a site of the instance",
                                 suggest(instead_of, sites, "give one of the ids in sites.csv")))
    if instead_of == site:
        raise InputError(Problem(f"--instead-of {instead_of}", "is the site given with --site",
                                 "name the site the fab would move away from"))
    status = table.loc[table["id"] == instead_of, "status"].iloc[0] if "status" in table.columns else ""
    if str(status).strip() == "open":
        raise InputError(Problem(f"--instead-of {instead_of}", "is fixed open by sites.status, so the fab cannot "
                                 "move away from it", f"clear it with --set sites.{instead_of}.status="))


def _capacity_limit(d, site: str) -> float:
    """The most capacity ``site`` can hold: its modules' size x max_modules, wafers a year."""
    return float(sum(k * n for s, k, n in zip(d.modules["site"], d.modules["wafers_per_module"],
                                              d.modules["max_modules"]) if s == site))


def constrained(base: Run, site: str, options: SolverOptions, solves: list, what: str, capacity: float = 0.0,
                closed: str | None = None) -> Run:
    """The optimum's compiled model re-solved with ``site`` open and holding at least ``capacity``
    wafers a year (one row: sum_p K[s,p] n[s,p] >= capacity, or build[s] >= 1 for no size), and
    ``closed`` (a site) not built (build <= 0)."""
    from siting.analysis import cuts
    from siting.run import resolve

    d, m = base.data, base.model.model
    mods = cuts.positions(base.compiled, m.modules)
    build = cuts.positions(base.compiled, m.build)
    index = {s: j for j, s in enumerate(d.sites["site"])}
    rows = []
    if capacity > 0:
        coef = {int(mods[k]): float(d.modules.at[k, "wafers_per_module"])
                for k, s in enumerate(d.modules["site"]) if s == site and mods[k] >= 0}
        rows.append((coef, capacity, float("inf")))
    else:
        rows.append(({int(build[index[site]]): 1.0}, 1.0, float("inf")))
    if closed is not None:
        rows.append(({int(build[index[closed]]): 1.0}, -float("inf"), 0.0))
    run = resolve(base, cuts.add_rows(base.compiled, rows), options)
    o = run.outcome
    solves.append({"what": what, "status": o.status, "objective": o.objective, "best_bound": o.best_bound,
                   "mip_gap": o.mip_gap, "sites_open": _opened(run)})
    if not o.has_solution:
        raise NoPlan(Problem(what, f"{o.status}: {o.termination}",
                             "no plan has it; ask for a smaller capacity or another site"))
    return run


def _check_capacity(d, site: str, capacity: float) -> None:
    most = _capacity_limit(d, site)
    if not capacity > 0:
        raise InputError(Problem(f"--min-capacity {capacity:g}", "must be above zero",
                                 "give wafers per year, e.g. 300000"))
    if capacity > most:
        raise InputError(Problem(f"--min-capacity {capacity:,.0f}", f"is more than {site} can hold ({most:,.0f} "
                                 "wafers/yr: its modules' size x max_modules)", f"give at most {most:,.0f}"))


def price_move(raw: RawInstance, out: Breakeven, instead_of: str, options: SolverOptions,
               capacity: float | None = None) -> None:
    """Fill ``out.moves``: what moving the fab from ``instead_of`` to the site costs (see the module
    docstring), and the plan the same sum buys when paid without the condition."""
    site, base = out.site, out.base
    d = base.data
    if capacity is None:  # the fab moves whole: what the optimum builds at instead_of, up to what the site holds
        here = base.results.tables["sites"].set_index("site")
        capacity = min(float(here.at[instead_of, "capacity_wafers_per_year"]), _capacity_limit(d, site))
    run = constrained(base, site, options, out.solves,
                      f"{site} open with at least {capacity:,.0f} wafers/yr, {instead_of} closed", capacity, instead_of)
    gap = max(run.outcome.objective - base.outcome.objective, 0.0)
    crf = float(d.sites.set_index("site").at[site, "crf"])
    free = _solve(raw, options, "with the moving sum, unconditional", out.solves,
                  offer=_offer(site, "lump_sum", amount=gap / crf * (1 + 1e-6) + 1e-9))
    out.moved_run = run
    out.moves = {"instead_of": instead_of, "min_capacity": capacity, "offer": gap, "offer_total": gap / crf,
                 "plan": _opened(run), "unconditional_plan": _opened(free),
                 "within": sum(r.outcome.objective - r.outcome.best_bound for r in (base, run))}


def price_size(out: Breakeven, capacity: float, options: SolverOptions) -> None:
    """Fill ``out.sized``: what a minimum size at the site costs beside the optimum."""
    site, base = out.site, out.base
    run = constrained(base, site, options, out.solves, f"{site} with at least {capacity:,.0f} wafers/yr", capacity)
    gap = max(run.outcome.objective - base.outcome.objective, 0.0)
    crf = float(base.data.sites.set_index("site").at[site, "crf"])
    out.sized_run = run
    out.sized = {"min_capacity": capacity, "offer": gap, "offer_total": gap / crf, "plan": _opened(run),
                 "within": sum(r.outcome.objective - r.outcome.best_bound for r in (base, run))}


def forced(raw: RawInstance, site: str, options: SolverOptions, solves: list,
           keep: bool = False) -> tuple[Run, Run]:
    """The optimum, then the plan with ``site`` forced to the other state (``keep``: the optimum
    keeps its compiled model, for a re-solve with a row added)."""
    check_site(raw, site)
    base = _solve(raw, options, "optimum", solves, keep=keep)
    state = "closed" if _is_open(base, site) else "open"
    other = _solve(raw, options, f"{site} forced {state}", solves, sets=[f"sites.{site}.status={state}"])
    return base, other


def breakeven(raw: RawInstance, site: str, options: SolverOptions, instrument: str = "lump",
              tolerance: float | None = None, instead_of: str | None = None,
              min_capacity: float | None = None, paid: str = "on_order") -> Breakeven:
    """The smallest offer of ``instrument`` at ``site`` that opens it, or its margin if it is open;
    with ``instead_of`` also the price of moving the fab from that site, with ``min_capacity`` the
    price of a minimum size at ``site`` (``out.moves``, ``out.sized``).

    ``paid`` is when the offer pays (``on_order`` or ``on_start``; it matters on a phased
    instance only, where the offer is a present value: see the module's docstring). Moving the
    fab and a minimum size are priced on a snapshot only (their lump sums are annualised).
    """
    if instrument not in INSTRUMENTS:
        raise InputError(Problem(f"--instrument {instrument}", "is not a break-even instrument",
                                 suggest(instrument, INSTRUMENTS, "use " + ", ".join(INSTRUMENTS))))
    if paid not in PAID:
        raise InputError(Problem(f"--paid {paid}", "is not a payment schedule of an offer",
                                 suggest(paid, PAID, "use " + " or ".join(PAID))))
    periods = raw.tables.get("periods")
    if (instead_of is not None or min_capacity is not None) and periods is not None and len(periods):
        flag = "--instead-of" if instead_of is not None else "--min-capacity"
        raise InputError(Problem(flag, "is priced on a snapshot only, and this instance has a periods table",
                                 "ask without it for the present value that opens the site, or drop the periods "
                                 "table to price the move on the snapshot"))
    if instead_of is not None:
        check_site(raw, site)
        check_instead_of(raw, site, instead_of)
    keep = instead_of is not None or min_capacity is not None
    if min_capacity is not None:  # before any solve: a size the site cannot hold is bad input
        from siting.instance.derive import derive
        from siting.run import load_case

        check_site(raw, site)
        _check_capacity(derive(load_case(raw)), site, min_capacity)
    phased = periods is not None and len(periods) > 0
    out = _breakeven(raw, site, options, instrument, tolerance, keep=keep or (phased and instrument == "lump"),
                     paid=paid)
    if instead_of is not None:
        price_move(raw, out, instead_of, options, min_capacity)
    if min_capacity is not None:
        price_size(out, min_capacity, options)
    return out


def _breakeven(raw: RawInstance, site: str, options: SolverOptions, instrument: str, tolerance: float | None,
               keep: bool = False, paid: str = "on_order") -> Breakeven:
    solves: list = []
    base, other = forced(raw, site, options, solves, keep)
    st = base.instance.settings
    out = Breakeven(site=site, instrument=instrument, direction="opens", money=st.money_label, currency=st.currency,
                    base=base, other=other, solves=solves, phased=base.data.calendar.phased, paid=paid)
    gap = other.outcome.objective - base.outcome.objective
    # the true difference lies between the bounds of the two solves: say how far off it can be
    out.within = sum(r.outcome.objective - r.outcome.best_bound for r in (base, other))
    if _is_open(base, site):
        subs = base.results.tables["sites"].set_index("site")
        out.direction, out.could_lose = "stays-open", gap
        out.subsidy_now = float(subs.at[site, "subsidy_per_year"])
        if out.phased:  # its subsidies' present value, as the margin
            payouts = base.results.tables["subsidies"]
            out.subsidy_now = float(payouts.loc[payouts["site"] == site, "payout_present_value"].sum())
        out.plan = _opened(base)
        return out
    gap = max(gap, 0.0)  # within the solves' gaps of zero: the site is as good as open already
    if out.phased:
        return _phased(raw, options, out, gap, tolerance)
    crf = float(base.data.sites.set_index("site").at[site, "crf"])
    if instrument == "lump":
        out.offer, out.offer_total, out.level = gap, gap / crf, gap / crf
        # the plan that results: the offer and a hair more (at exactly the offer the two plans tie)
        run = _solve(raw, options, "with the offer", solves,
                     offer=_offer(site, "lump_sum", amount=out.offer_total * (1 + 1e-6) + 1e-9))
        out.plan = _opened(run)
        return out
    out.exact = False
    site_row = other.results.tables["sites"].set_index("site").loc[site]
    if instrument == "grant-rate":
        hi = gap / (crf * site_row["capex_total"]) if site_row["capex_total"] > 0 else math.inf
        tol = tolerance or 1e-4
        if hi > 1:
            out.offer, out.plan = None, (f"even a grant of all its capex ({site_row['capex_total']:,.3f} "
                                         f"{st.money_label}) "
                                         f"is worth less than the {gap:,.3f} {st.money_label}/yr it lacks")
            return out

        def offer(level: float) -> dict:
            return _offer(site, "capex_grant", rate=level)
    else:
        made = site_row["production_wafers_per_year"]
        hi = gap * st.money_multiplier / made if made > 0 else math.inf
        tol = tolerance or max(hi * 1e-4, 1e-6)
        if not math.isfinite(hi):
            out.offer, out.plan = None, f"{site} makes nothing even when forced open"
            return out

        def offer(level: float) -> dict:
            return _offer(site, "production_subsidy", per_wafer=level)
    # at the bracket the forced plan ties with the optimum: a hair above it opens the site
    lo, hi = 0.0, hi * (1 + 1e-6) + tol / 10
    if instrument == "grant-rate":
        hi = min(hi, 1.0)
    best = _solve(raw, options, f"offer {hi:.6g}", solves, offer=offer(hi))
    if not _is_open(best, site):
        raise NoPlan(Problem(f"--site {site}", f"the bracket {hi:.6g} from the lump sum did not open it: the response "
                             "is not monotone here, so no break-even rate is reported",
                             "ask for the lump sum instead (--instrument lump)"))
    hi, best = _bisect(raw, options, solves, site, offer, lo, hi, tol, best)
    subs = best.results.tables["subsidies"]
    mine = subs[subs["instrument"] == OFFER_ID]
    out.level, out.tolerance = hi, tol
    out.offer, out.offer_total = float(mine["payout_per_year"].sum()), float(mine["payout_total"].sum())
    out.plan = _opened(best)
    return out


def _offer(site: str, kind: str, paid: str = "on_order", **terms) -> dict:
    extra = {"paid": paid} if paid != "on_order" else {}
    return {"id": OFFER_ID, "kind": kind, "site": site, **terms, **extra,
            "source": "break-even analysis: the offer being tested"}


def offer_value(run: Run) -> tuple[float, float]:
    """What the offer pays in ``run``'s plan, undiscounted, and its present value (as the
    objective counts it: docs/model.md, "Periods")."""
    subs = run.results.tables["subsidies"]
    mine = subs[subs["instrument"] == OFFER_ID]
    return float(mine["payout_total"].sum()), float(mine["payout_present_value"].sum())


def lump_worths(data, site: str, paid: str) -> np.ndarray:
    """What one money unit of lump sum at ``site`` is worth to the firm, by the period a plan opens
    the site in: paid then (``on_order``) or in its first producing period (``on_start``, phased
    only), as the annuity of capital it pays for from that period (docs/model.md, "Periods"); 0
    where that payment falls beyond the horizon. On a snapshot: the site's capital recovery factor."""
    cal = data.calendar
    row = data.sites.iloc[list(data.sites["site"]).index(site)]
    crf, life, lead = float(row["crf"]), float(row["lifetime_years"]), float(row["lead_time_years"])
    out = []
    for n in range(len(cal.ids)):
        pay = cal.first_producing(n, lead) if paid == "on_start" and cal.phased else n
        out.append(0.0 if pay is None else crf * cal.annuity_weight(pay, life))
    return np.array(out)


def _unit_value(run: Run, site: str, paid: str) -> tuple[float, float]:
    """Present value of one money unit of lump sum at ``site`` paid when ``run``'s plan opens it,
    and paid as early as the site could open (the most it can be worth in any plan)."""
    worth = lump_worths(run.data, site, paid)
    opened = run.results.solution.build_by_period
    n_open = int(np.argmax(opened[list(run.data.sites["site"]).index(site)] > 0.5)) if opened is not None else 0
    return float(worth[n_open]), float(worth.max())


def _phased(raw: RawInstance, options: SolverOptions, out: Breakeven, gap: float,
            tolerance: float | None) -> Breakeven:
    """The break-even offer on a phased instance: a bisection on the offer's level between a
    bracket that cannot open the site and one that must (module docstring)."""
    site, solves, other = out.site, out.solves, out.other
    if out.instrument == "lump":
        at_open, most = _unit_value(other, site, out.paid)
        if at_open <= 0:
            out.offer, out.plan = None, "even when forced open it opens too late for a payment within the horizon"
            return out
        # sites.status=open opens the site from the first period; a plan opening it later may be
        # cheaper to bring (it gains less from the offer but may cost much less): the least cost of
        # any plan with the site open by the horizon's end bounds every such plan from below
        anyway = constrained(out.base, site, options, solves, f"{site} open by the horizon's end")
        lo, hi = max(anyway.outcome.objective - out.base.outcome.objective, 0.0) / most, gap / at_open
        tol = tolerance or max(hi * 1e-6, 1e-9)

        def offer(level: float) -> dict:
            return _offer(site, "lump_sum", out.paid, amount=level)
    elif out.instrument == "grant-rate":
        lo, hi, tol = 0.0, 1.0, tolerance or 1e-4

        def offer(level: float) -> dict:
            return _offer(site, "capex_grant", out.paid, rate=level)
    else:
        lo, hi = 0.0, max(gap, 1.0) * out.base.instance.settings.money_multiplier
        tol = tolerance or 1e-2

        def offer(level: float) -> dict:
            return _offer(site, "production_subsidy", out.paid, per_wafer=level)
    out.exact = hi - lo <= tol
    # a hair above the bracket: at exactly it the forced plan ties with the optimum
    top = hi * (1 + 1e-6) + tol / 10
    if out.instrument == "grant-rate":
        top = min(top, 1.0)
    best = _solve(raw, options, f"offer {top:.6g}", solves, offer=offer(top))
    if not _is_open(best, site):
        what = {"lump": "the bracket from the forced plan", "grant-rate": "a grant of all its capex",
                "per-wafer": f"{top:,.2f} {out.currency} per wafer"}[out.instrument]
        out.offer, out.plan = None, f"{what} does not open it: {_opened(best)}"
        return out
    if out.instrument == "lump":
        lo, hi, best, out.exact = _newton(raw, options, solves, site, offer, lo, hi, tol, best,
                                          out.base.outcome.objective)
    if not out.exact:
        hi, best = _bisect(raw, options, solves, site, offer, lo, hi, tol, best)
    out.level, out.tolerance = hi, tol
    out.offer_total, out.offer = offer_value(best)
    out.plan = _opened(best)
    return out


#: Newton steps of a phased lump sum at most, before the bisection takes over.
NEWTON_STEPS = 20


def _newton(raw: RawInstance, options: SolverOptions, solves: list, site: str, offer, lo: float, hi: float,
            tol: float, best: Run, optimum: float) -> tuple[float, float, Run, bool]:
    """Newton steps from above for a lump sum on a phased instance. ``best``, the firm's response to
    an offer a hair above ``hi``, opens the site; its own break-even level is (its cost without the
    offer - the optimum) / what one unit of offer is worth to it, at most ``hi``. The least cost of
    the plans opening the site, less the offer, is concave in the level, so stepping to that level
    never passes the answer; when a response's own level is where the step started, it is the answer
    (exact). Returns (lo, hi, best, exact); not exact: bisect [lo, hi] from there."""
    for _ in range(NEWTON_STEPS):
        total, present = offer_value(best)
        if total <= 0 or present <= 0:
            return lo, hi, best, False
        level = (best.outcome.objective + present - optimum) / (present / total)
        if level >= hi * (1 - 1e-9) - 1e-12:
            return lo, hi, best, True
        step = max(level, lo)
        top = step * (1 + 1e-6) + tol / 10
        run = _solve(raw, options, f"offer {top:.6g}", solves, offer=offer(top))
        if not _is_open(run, site):
            return step, hi, best, False
        hi, best = step, run
    return lo, hi, best, False
