"""The package's optimum against brute force on small random instances.

The truth (:mod:`tests.model.random_cases`) owes nothing to the package's model: every assignment
of the first-stage integer decisions is enumerated and the remaining LP solved with highspy
directly from the raw tables. The least total over all assignments must equal the objective
``run_case`` reports with the ``exact`` profile.
"""

from __future__ import annotations

import io

import pandas as pd
import pytest

from tests.helpers import solve
from tests.model.random_cases import (
    Case,
    _append,
    brute_force,
    package_plan,
    random_case,
)

# --------------------------------------------------------------------------------------------

SEEDS = list(range(1, 21))
#: Seeds drawn with an instrument forced on, each one's truth depending (checked below) on the
#: rule named: a conditional offer's local-share condition (25), its utilisation condition (29),
#: the product a production subsidy pays for where its site cannot make that product (56) and
#: where the site makes it and another (28).
FORCED = [(25, {"conditional": True}, "local"), (29, {"conditional": True}, "kappa"),
          (56, {"conditional": True}, "product"), (28, {"wafer": True}, "product")]
CASES = [(seed, {}) for seed in SEEDS] + [(seed, force) for seed, force, _ in FORCED]


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(abs(a), abs(b), 1e-3)


@pytest.mark.parametrize(("seed", "force"), CASES, ids=[f"{s}{''.join(f'-{k}' for k in f)}" for s, f in CASES])
def test_optimum_equals_brute_force(seed, force, tmp_path):
    """The package's optimum (exact profile) is the least total over every assignment; where no
    assignment has a feasible plan (seed 20), the package must say infeasible."""
    case = random_case(seed, **force)
    truth, lp = brute_force(case)
    run = solve(case.write(tmp_path), duals=False)
    if truth.best is None:
        assert run.outcome.status == "infeasible", (
            f"seed {seed}: no assignment has a feasible plan, package says {run.outcome.status} "
            f"with objective {run.outcome.objective}")
        return
    assert run.outcome.status == "optimal", f"seed {seed}: {run.outcome.termination}"
    got = run.outcome.objective
    if not _close(got, truth.best):
        plan = package_plan(run, lp.data)
        pytest.fail(
            f"seed {seed} {sorted(case.features)}: package {got:.10g}, brute force "
            f"{truth.best:.10g}\n  brute-force plan: {truth.plan.label()}\n"
            f"  package plan:     {plan.label()} (costs {lp.solve(plan)} in the LP here)")


@pytest.mark.parametrize("seed", [4, 9])
def test_demand_that_no_site_can_make(seed, tmp_path):
    """All demand is for a product no site has modules for, each row with a penalty: nothing can
    be made, so the penalties are paid in full (plus whatever opening a site still earns, e.g. a
    lump sum at seed 4). There is then no site-market route at all, and the package must still
    solve and report."""
    case = random_case(seed, orphan=False)
    t = case.tables
    t["products"] = _append(t["products"], [{"id": "px", "freight_per_wafer_km": 0.0}])
    n = len(t["markets"])
    t["demand"] = pd.DataFrame({"market": t["markets"]["id"], "product": "px",
                                "wafers_per_year": [100 * (k + 1) for k in range(n)],
                                "penalty_per_wafer": [50.0 + k for k in range(n)]})
    truth, _ = brute_force(case)
    run = solve(case.write(tmp_path), duals=False)
    assert run.outcome.status == "optimal"
    assert run.outcome.objective == pytest.approx(truth.best, rel=1e-6)
    unmet = run.results.tables["unmet"]["unmet_wafers_per_year"].sum()
    assert unmet == pytest.approx(t["demand"]["wafers_per_year"].sum())


def test_seeds_cover_every_feature():
    """The cases above exercise every feature the generator has (so none is silently lost)."""
    seen = set().union(*(random_case(s, **force).features for s, force in CASES))
    wanted = {"money=one", "money=million", "finance=unit", "finance=r08", "finance=per_site",
              "demand=hard", "demand=row", "demand=default", "grant", "grant_cap", "lump",
              "target", "lanes", "tariffs", "qual_override", "uncounted_input", "orphan",
              "zero_demand", "dead_module", "credit", "credit_cap", "scope=country", "wafer",
              "scope=region", "wafer_years", "wafer_product", "wafer_cap", "loan", "conditional",
              "cond=capex_grant", "cond=lump_sum", "cond=production_subsidy", "cond_local",
              "cond_utilisation", "program"}
    assert wanted <= seen, f"not covered: {sorted(wanted - seen)}"


@pytest.mark.parametrize(("seed", "force", "rule"), FORCED)
def test_forced_cases_depend_on_their_rule(seed, force, rule):
    """Leaving the named rule out of the truth changes its minimum, so the forced cases above do
    check the package's version of that rule (a condition that never binds would check nothing)."""
    case = random_case(seed, **force)
    truth, _ = brute_force(case)
    loose, _ = brute_force(case, loosen=(rule,))
    assert truth.best is not None and loose.best is not None
    assert loose.best < truth.best and not _close(loose.best, truth.best), (truth.best, loose.best)


@pytest.mark.parametrize("seed", [5, 21])
def test_pruning_does_not_change_the_minimum(seed):
    """Visiting every assignment gives the same minimum as the pruned visit used above (these
    seeds prune about half the assignments)."""
    case = random_case(seed, max_assignments=1500)
    pruned, _ = brute_force(case, prune=True)
    full, _ = brute_force(case, prune=False)
    assert full.solved == full.visited > pruned.solved
    assert (pruned.best is None) == (full.best is None)
    if full.best is not None:
        assert pruned.best == pytest.approx(full.best, rel=1e-9)


def _frame(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text.strip()), skipinitialspace=True)


def test_truth_reproduces_a_hand_solved_case():
    """The oracle itself on a case solved on paper: one site, one module of 100 wafers at capex
    100, fixed cost 50, demand 100 that must be met, one input per wafer from a local supplier at
    12 or a foreign one at 10 (qualification 5 each), a 60% local target, a 30% grant capped at
    40. Buying L local units: 12 L >= 0.6 (12 L + 10 (100 - L)) gives L = 600 / 10.8; both
    suppliers are qualified (10); the grant pays min(0.3 x 150, 40) = 40.
    Total 150 + 10 - 40 + 1000 + 2 L."""
    settings = {"discount_rate": 0.0, "lifetime_years": 1, "currency": "USD", "money_unit": "one"}
    case = Case(seed=0, settings=settings, tables={
        "sites": _frame("id, country, lat, lon, fixed_cost\na, JP, 33, 131, 50"),
        "modules": _frame("site, product, wafers_per_module, capex_per_module, max_modules, "
                          "operating_cost_per_wafer\na, chip, 100, 100, 1, 0"),
        "markets": _frame("id, country, lat, lon\nm, JP, 35, 137"),
        "demand": _frame("market, product, wafers_per_year, penalty_per_wafer\nm, chip, 100,"),
        "inputs": _frame("id, counts_for_local\nw, true"),
        "bom": _frame("product, input, units_per_wafer\nchip, w, 1"),
        "suppliers": _frame("id, country, lat, lon, qualification_cost\n"
                            "near, JP, 33.3, 129.9, 5\nfar, TW, 24.8, 121.0, 5"),
        "offers": _frame("supplier, input, capacity_units_per_year, price_per_unit\n"
                         "near, w, 1000, 12\nfar, w, 1000, 10"),
        "instruments": _frame("id, kind, site, rate, cap, amount\ng, capex_grant, a, 0.3, 40,"),
        "local_targets": _frame("site, target\na, 0.6"),
    })
    truth, _ = brute_force(case, prune=False)
    assert truth.best == pytest.approx(150 + 10 - 40 + 1000 + 2 * 600 / 10.8, rel=1e-12)
    assert truth.plan.build == {"a": 1}
