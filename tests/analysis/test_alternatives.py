"""Near-optimal alternatives against hand-solved costs and brute-force enumeration.

CRF = 1 (discount rate 0, lifetime 1 year) and plain USD throughout, freight and operating costs
zero unless a random case draws them.
"""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from siting.analysis.alternatives import alternatives, parse_within
from siting.errors import InputError
from siting.instance.designs import Package, apply_package
from siting.instance.read import read_instance
from siting.solve import load_profile
from tests.helpers import write_instance
from tests.model.random_cases import brute_force, every_assignment, random_case

#: Four sites, one module of 100 wafers each, 100 wafers of demand that must be met, no fixed cost,
#: no freight: a plan opens one site (capex a 1000, b 1020, c 1040, d 1100) or several (at least
#: 1000 + 1020 = 2020, +102%). Within 5% of the optimum 1000 lie exactly {a} (0%), {b} (+2%) and
#: {c} (+4%); the next plan is {d} at +10%.
FOUR = {
    "sites": """
        id,country,lat,lon
        a,JP,33.0,131.0
        b,JP,33.1,131.1
        c,JP,33.2,131.2
        d,JP,33.3,131.3
    """,
    "products": "id\nchip",
    "modules": """
        site,product,wafers_per_module,capex_per_module,max_modules
        a,chip,100,1000,1
        b,chip,100,1020,1
        c,chip,100,1040,1
        d,chip,100,1100,1
    """,
    "markets": "id,country,lat,lon\nm,JP,33.0,131.0",
    "demand": "market,product,wafers_per_year\nm,chip,100",
}
EXACT = load_profile("exact")


def test_three_plans_within_five_percent_in_order(tmp_path):
    """The three plans of FOUR's docstring, in order of cost, none twice, then a stop at {d}."""
    raw = read_instance(write_instance(tmp_path, FOUR))
    result = alternatives(raw, EXACT, within=0.05, count=10)
    t = result.table
    assert t["open_sites"].tolist() == ["a", "b", "c"]
    assert t["objective"].tolist() == pytest.approx([1000.0, 1020.0, 1040.0], rel=1e-9)
    assert t["gap_to_optimum"].tolist() == pytest.approx([0.0, 0.02, 0.04], abs=1e-9)
    assert t["rank"].tolist() == [1, 2, 3]
    assert t["open_sites"].is_unique
    assert result.beyond["plan"] == "d instead of a"
    assert result.beyond["gap_to_optimum"] == pytest.approx(0.10, abs=1e-9)
    assert t["checks_passed"].all()
    assert "b instead of a: +2.00%" in "\n".join(result.words())


def test_within_is_honoured(tmp_path):
    """At 3% only {a} and {b} (+2%) qualify; {c} at +4% stops the search. At 0%: the optimum alone."""
    raw = read_instance(write_instance(tmp_path, FOUR))
    t = alternatives(raw, EXACT, within=0.03, count=10).table
    assert t["open_sites"].tolist() == ["a", "b"]
    assert alternatives(raw, EXACT, within=0.0, count=10).table["open_sites"].tolist() == ["a"]
    # --count bounds the plans too, the optimum included
    assert alternatives(raw, EXACT, within=0.5, count=2).table["open_sites"].tolist() == ["a", "b"]


def _with_lump(raw, site: str, amount: float):
    offer = {"id": "offer", "kind": "lump_sum", "site": site, "amount": amount, "source": "test"}
    return apply_package(raw, Package("offer", add=(offer,), origin="test"))


@pytest.mark.parametrize(("site", "lump"), [("b", 20.0), ("c", 40.0)])
def test_lump_sum_makes_the_alternative_optimal(tmp_path, site, lump):
    """The lump sum to b is 1020 - 1000 = 20, to c 1040 - 1000 = 40 (CRF 1: a year's sum is the
    total). With a hair more the plan opens that site alone; with one dollar less {a} stays."""
    raw = read_instance(write_instance(tmp_path, FOUR))
    t = alternatives(raw, EXACT, within=0.05, count=3).table.set_index("open_sites")
    assert t.at[site, "lump_sum_site"] == site
    assert t.at[site, "lump_sum_total"] == pytest.approx(lump, rel=1e-9)
    opened = solve_open(_with_lump(raw, site, lump * (1 + 1e-6)))
    assert opened == [site]
    assert solve_open(_with_lump(raw, site, lump - 1.0)) == ["a"]


def solve_open(raw) -> list[str]:
    from siting.run import run_case

    run = run_case(raw, EXACT, duals=False)
    sites = run.results.tables["sites"]
    return sites.loc[sites["open"], "site"].tolist()


def test_no_lump_sum_when_a_cheaper_plan_opens_the_site(tmp_path):
    """Within 200% of FOUR's optimum {a} lies the pair {a, b} (2020); {b} (1020, plan 2) is
    cheaper and opens b too, so a lump sum at b would open {b}, never {a, b}: none is reported."""
    raw = read_instance(write_instance(tmp_path, FOUR))
    t = alternatives(raw, EXACT, within=2.0, count=6).table.set_index("open_sites")
    assert "a;b" in t.index
    assert t.at["a;b", "lump_sum_site"] == ""
    assert "plan 2, cheaper, opens it too" in t.at["a;b", "lump_sum_note"]


def test_bad_within_and_count(tmp_path):
    with pytest.raises(InputError, match=r"--within x \| is not a gap of zero or more; give e.g. 2% or 0.02"):
        parse_within("x")
    assert parse_within("2%") == pytest.approx(0.02)
    raw = read_instance(write_instance(tmp_path, FOUR))
    with pytest.raises(InputError, match=r"--count \| must be at least 1 \(got 0\); give 1 or more"):
        alternatives(raw, EXACT, count=0)


def _truth_by(case, key) -> list[tuple[tuple, float]]:
    """Least total cost of every plan (grouped by ``key`` of an assignment), by enumeration."""
    _, lp = brute_force(case, prune=True)
    best: dict = defaultdict(lambda: None)
    for a in every_assignment(lp.data):
        k = key(a)
        value = lp.solve(a)
        if value is not None and (best[k] is None or value < best[k]):
            best[k] = value
    return sorted(((k, v) for k, v in best.items() if v is not None), key=lambda kv: kv[1])


@pytest.mark.parametrize("seed", [4, 7, 11, 12])
def test_random_alternatives_match_enumeration(seed, tmp_path):
    """On random instances the plans come in non-decreasing cost, each passes `verify`, and their
    costs are the least costs of the cheapest site sets found by enumerating every assignment
    (a tie between site sets may come in either order, so costs are compared in order and each
    plan's own cost against its site set's truth)."""
    case = random_case(seed, max_assignments=400, min_assignments=16)
    truth = _truth_by(case, lambda a: tuple(sorted(s for s, z in a.build.items() if z)))
    assert truth, "these seeds have feasible plans"
    raw = read_instance(case.write(tmp_path))
    k = min(6, len(truth))
    t = alternatives(raw, EXACT, within=1e9, count=k).table
    costs = t["objective"].tolist()
    assert all(b >= a - 1e-6 * max(1.0, abs(a)) for a, b in zip(costs, costs[1:]))
    assert costs == pytest.approx([v for _, v in truth[:len(costs)]], rel=1e-6, abs=1e-6)
    by_set = dict(truth)
    for sites, cost in zip(t["open_sites"], costs):
        assert cost == pytest.approx(by_set[tuple(sorted(s for s in sites.split(";") if s))], rel=1e-6, abs=1e-6)
    assert t["checks_passed"].all(), t["violations"].tolist()
    assert len(t) == k


@pytest.mark.parametrize("seed", [5])
def test_random_alternatives_by_modules_match_enumeration(seed, tmp_path):
    """By modules: the plans are the cheapest module-count vectors of the enumeration, in order."""
    case = random_case(seed, max_assignments=400, min_assignments=16)
    truth = _truth_by(case, lambda a: tuple(sorted((s, p, n) for (s, p), n in a.modules.items() if n)))
    raw = read_instance(case.write(tmp_path))
    k = min(5, len(truth))
    t = alternatives(raw, EXACT, within=1e9, count=k, by="modules").table
    assert t["objective"].tolist() == pytest.approx([v for _, v in truth[:k]], rel=1e-6, abs=1e-6)
    assert t["modules"].is_unique
    assert t["checks_passed"].all()


def test_cli_alternatives_json_and_folder(tmp_path, capsys):
    """`--json` prints one document (the plans), the folder holds the CSV, chart, page, manifest."""
    from siting.cli import main

    folder = write_instance(tmp_path / "inst", FOUR)
    out = tmp_path / "out"
    code = main(["alternatives", str(folder), "--within", "5%", "--count", "10", "--out", str(out), "--json"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert [p["open_sites"] for p in doc["plans"]] == ["a", "b", "c"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["files"] == ["alternatives.csv", "alternatives.png", "report.html"]
    assert (out / "alternatives.csv").read_text().startswith("rank,objective,gap_to_optimum")


def test_lump_sum_equals_breakeven(tmp_path):
    """The lump sum read from the ranked costs equals `breakeven`'s, which solves with the site
    forced open: for b and c of FOUR, 20 and 40."""
    from siting.analysis.breakeven import breakeven

    raw = read_instance(write_instance(tmp_path, FOUR))
    t = alternatives(raw, EXACT, within=0.05, count=3).table.set_index("lump_sum_site")
    for site in ("b", "c"):
        assert t.at[site, "lump_sum_total"] == pytest.approx(breakeven(raw, site, EXACT).offer_total, rel=1e-9)
