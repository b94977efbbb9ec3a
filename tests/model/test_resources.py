"""Site resources: hand-solved cases, a brute-force truth on seeded random instances, the check
of every solution against the raw tables, and every message of the resource tables."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from siting.report.verify_resources import verify_resources
from siting.run import load_case
from tests.helpers import solve, write_instance
from tests.instance.test_validation import BASE, problems, with_table

USE = "resource,product,per_wafer\nb-water,chip,1"


def _water(tmp_path, name: str, row: str, **more):
    """BASE with one water resource at site b: ``row`` = limit,extra_cost,extra_max."""
    return write_instance(tmp_path / name, {**BASE, "resources": "id,site,kind,unit,limit,extra_cost,extra_max\n"
                                            f"b-water,b,water,m3/day,{row}", "resource_use": USE, **more})


@pytest.mark.parametrize("row,objective,opens", [
    # no resources: b (capex 80) serves the 100 wafers alone: 10 + 80 + 100 x 100 = 10090
    ("1000,,", 10090.0, "b"),
    # water for 50 wafers at b and none to buy: b cannot serve 100 alone; a alone costs 10 + 100 + 10000
    ("50,,", 10110.0, "a"),
    # extra water at 0.2 a unit: b buys 50 units for 10, 10100 < 10110
    ("50,0.2,", 10100.0, "b"),
    # at 0.6 the 50 units cost 30: a again
    ("50,0.6,", 10110.0, "a"),
    # at 0.2 but at most 30 extra: b reaches 80 wafers, not 100: a alone (a and b together cost 10200)
    ("50,0.2,30", 10110.0, "a"),
])
def test_a_resource_limits_an_open_site_by_hand(tmp_path, row, objective, opens):
    """BASE: one market of 100 wafers, site a (fixed 10, module capex 100) and b (fixed 10, capex
    80), each module makes 100 wafers, wafers bought at 100 each; CRF = 1 (PLAIN settings)."""
    run = solve(_water(tmp_path, "i", row), duals=False)
    assert run.outcome.status == "optimal"
    assert run.outcome.objective == pytest.approx(objective, rel=1e-9)
    sites = run.results.tables["sites"]
    assert sites.loc[sites["open"], "site"].tolist() == [opens]
    assert run.violations == []
    res = run.results.tables["resources"].iloc[0]
    if opens == "b":
        assert res["used"] == pytest.approx(100.0)
        assert res["extra"] == pytest.approx(max(0.0, 100.0 - float(row.split(",")[0])))
    else:
        assert res["used"] == 0.0 and res["limit"] == 0.0  # a closed site has no allowance


def test_a_scenario_scales_a_resource_by_id_or_by_kind(tmp_path):
    """b has water for 100 wafers, 0.2 a unit beyond; a drought (probability 0.5) halves it: b
    buys 50 units in the drought, 0.5 x 10 = 5 expected: 10090 + 5 = 10095 < a's 10110."""
    scenarios = "id,probability\nnominal,0.5\ndrought,0.5"
    for by, match in (("id", "b-water"), ("kind", "water"), ("country", "US")):
        run = solve(_water(tmp_path, by, "100,0.2,", scenarios=scenarios,
                           scenario_effects=f"scenario,target,by,match,multiplier\ndrought,resource,{by},{match},0.5"),
                    duals=False)
        assert run.outcome.objective == pytest.approx(10095.0, rel=1e-9), by
        res = run.results.tables["resources"].set_index("scenario")
        assert res.loc["drought", "limit"] == pytest.approx(50.0)
        assert res.loc["drought", "extra"] == pytest.approx(50.0)
        assert res.loc["nominal", "extra"] == 0.0
        assert run.violations == []


def test_the_check_names_a_row_that_draws_more_than_its_limit(tmp_path):
    """The solution of a generous limit, checked against a tighter one, breaks it."""
    run = solve(_water(tmp_path, "i", "1000,,"), duals=False)
    tight = load_case(_water(tmp_path, "j", "60,,"))
    assert verify_resources(tight, run.results) == ["resource (b-water): draws 100 m3/day, the limit is 60"]
    extra = load_case(_water(tmp_path, "k", "60,0.2,25"))
    assert verify_resources(extra, run.results) == [
        "resource (b-water): draws 100 m3/day, the limit is 60 plus at most 25 extra"]


def _segments_cost(demand, penalty, sites):
    """The least cost of one scenario by filling the demand from the cheapest wafers first: each
    open site offers its wafers within its resource limit at its operating cost, then (with extra
    supply) the rest of its capacity at the operating cost plus the extra cost per wafer; what is
    left is unmet at the penalty. Exact for one market and linear separable costs."""
    offers = []
    for cap, op, use, limit, extra in sites:
        inside = cap if use == 0 else min(cap, limit / use)
        offers.append((op, inside))
        if extra is not None:
            offers.append((op + extra * use, cap - inside))
    cost, left = 0.0, demand
    for price, amount in sorted(offers):
        if price >= penalty or left <= 0:
            break
        take = min(amount, left)
        cost, left = cost + price * take, left - take
    return cost + penalty * left


@pytest.mark.parametrize("seed", [0, 1, *(pytest.param(k, marks=pytest.mark.slow) for k in range(2, 8))])
def test_random_resources_match_a_brute_force_truth(tmp_path, seed):
    """Three sites with one module each, a water resource each (with or without extra supply),
    two or three scenarios scaling the limits; every open set is enumerated and each scenario's
    cost found by the greedy fill above (independent of the model). The least total equals the
    model's optimum, and every resource row holds (verify)."""
    rng = np.random.default_rng(seed)
    n_w = int(rng.integers(2, 4))
    demand, penalty = 100.0, float(rng.uniform(300, 600))
    site = [dict(cap=float(rng.integers(40, 120)), fixed=float(rng.integers(0, 3000)),
                 capex=float(rng.integers(500, 4000)), op=float(rng.integers(50, 250)),
                 use=float(rng.uniform(0.5, 2)), limit=float(rng.integers(20, 150)),
                 extra=float(rng.uniform(10, 200)) if rng.random() < 0.6 else None) for _ in range(3)]
    prob = rng.dirichlet(np.ones(n_w))
    rho = rng.uniform(0.3, 1.0, size=(3, n_w))
    rho[:, 0] = 1.0
    ids = ["nominal"] + [f"w{k}" for k in range(1, n_w)]
    tables = {
        "sites": "id,country,lat,lon,fixed_cost\n" + "\n".join(
            f"s{j},JP,{33 + j},131,{s['fixed']}" for j, s in enumerate(site)),
        "products": "id\nchip",
        "modules": "site,product,wafers_per_module,capex_per_module,max_modules,operating_cost_per_wafer\n" + "\n".join(
            f"s{j},chip,{s['cap']},{s['capex']},1,{s['op']}" for j, s in enumerate(site)),
        "markets": "id,country,lat,lon\nm,JP,35,137",
        "demand": f"market,product,wafers_per_year\nm,chip,{demand}",
        "resources": "id,site,kind,limit,extra_cost\n" + "\n".join(
            f"r{j},s{j},water,{s['limit']},{'' if s['extra'] is None else s['extra']}" for j, s in enumerate(site)),
        "resource_use": "resource,product,per_wafer\n" + "\n".join(
            f"r{j},chip,{s['use']}" for j, s in enumerate(site)),
        "scenarios": "id,probability\n" + "\n".join(f"{w},{float(p)!r}" for w, p in zip(ids, prob)),
        "scenario_effects": "scenario,target,by,match,multiplier\n" + "\n".join(
            f"{w},resource,id,r{j},{float(rho[j, k])!r}" for k, w in enumerate(ids) if k for j in range(3)),
    }
    folder = write_instance(tmp_path / "r", tables, {"unmet_penalty_per_wafer": penalty})
    best = np.inf
    for open_set in itertools.product((0, 1), repeat=3):
        first = sum(s["fixed"] + s["capex"] for s, o in zip(site, open_set) if o)
        second = sum(p * _segments_cost(demand, penalty, [
            (s["cap"], s["op"], s["use"], s["limit"] * rho[j, k], s["extra"])
            for j, (s, o) in enumerate(zip(site, open_set)) if o]) for k, p in enumerate(prob))
        best = min(best, first + second)
    run = solve(folder, duals=False)
    assert run.outcome.objective == pytest.approx(best, rel=1e-7)
    assert run.violations == []


@pytest.mark.parametrize("tables,expected", [
    ({"resources": "id,site,limit,extra_max\nw,b,50,10", "resource_use": USE.replace("b-water", "w")},
     "resources.csv row 2 (id=w) column extra_max | is 10 but extra_cost is empty; give the cost of the extra "
     "supply, or leave extra_max empty (no supply beyond the limit)"),
    ({"resources": "id,site,limit\nw,b,50"},
     "resources.csv | has resources but resource_use.csv gives no use of them; add resource_use.csv: what one wafer "
     "a year of each product draws of each resource"),
    ({"resources": "id,site,limit\nw,c,50", "resource_use": USE.replace("b-water", "w")},
     "resources.csv row 2 (id=w) column site | 'c' is not a known sites id; add it to sites or fix the spelling"),
    ({"resources": "id,site,limit\nw,b,50", "resource_use": USE},
     "resource_use.csv row 2 (resource=b-water, product=chip, market=*) column resource | 'b-water' is not a "
     "known resources id; add it to resources or fix the spelling"),
    ({"resources": "id,site,limit\nw,b,-5", "resource_use": USE.replace("b-water", "w")},
     "resources.csv row 2 (id=w) column limit | is -5; must be >= 0"),
    ({"resources": "id,site,kind,limit\nw,b,water,50", "resource_use": USE.replace("b-water", "w"),
      "scenarios": "id,probability\nnominal,0.5\ndry,0.5",
      "scenario_effects": "scenario,target,by,match,item,multiplier\ndry,resource,id,w,chip,0.5"},
     "scenario_effects.csv row 2 (scenario=dry, target=resource, by=id, match=w, item=chip) column item | is "
     "'chip'; a resource effect scales every resource it selects; leave item empty or write *, and select "
     "resources by id or by kind"),
    ({"resources": "id,site,kind,limit\nw,b,water,50", "resource_use": USE.replace("b-water", "w"),
      "scenarios": "id,probability\nnominal,0.5\ndry,0.5",
      "scenario_effects": "scenario,target,by,match,multiplier\ndry,site,kind,water,0.5"},
     "scenario_effects.csv row 2 (scenario=dry, target=site, by=kind, match=water, item=*) column by | is kind, but "
     "only resources have a kind (target is site); select by id, country, region, hazard_zone or all"),
    ({"resources": "id,site,kind,limit\nw,b,water,50", "resource_use": USE.replace("b-water", "w"),
      "scenarios": "id,probability\nnominal,0.5\ndry,0.5",
      "scenario_effects": "scenario,target,by,match,multiplier\ndry,resource,kind,watr,0.5"},
     "scenario_effects.csv row 2 (scenario=dry, target=resource, by=kind, match=watr, item=*) column match | 'watr' "
     "selects no row of resources (no kind 'watr'); did you mean 'water'?"),
])
def test_resource_problems_are_named(tmp_path, tables, expected):
    assert problems(with_table(tmp_path, **tables)) == [expected]


def test_a_hazard_scales_a_resource_as_its_scenario_would(tmp_path):
    """A drought hazard of probability 0.5 halving b's water is the two-scenario case above
    (nominal 0.5, drought 0.5): the same optimum, 10095."""
    run = solve(_water(tmp_path, "hz", "100,0.2,", hazards="id,probability\ndrought,0.5",
                       hazard_effects="hazard,target,by,match,multiplier\ndrought,resource,kind,water,0.5"),
                duals=False)
    assert run.outcome.objective == pytest.approx(10095.0, rel=1e-9)
    assert set(run.results.tables["resources"]["scenario"]) == {"nominal", "drought"}
    assert run.violations == []
