"""Infeasibility in the planner's words: the elastic re-solve names the rule that must give, and by how much.

One small instance per rule family that reaches the MIP (the pre-solve screens see nothing), each with
the answer worked out by hand in its docstring; then the flagship with targets and outages a planner
might try, one that reaches the MIP and one the screens catch. Every case goes through the real CLI and
checks the exit code, the console, and the ``diagnosis`` field of summary.json.

Unless a case says otherwise, amounts are plain USD, CRF = 1 and demand must be met (no penalty).
Slack is measured in percent of each rule's own level (see :mod:`siting.diagnose`), and the numbers
below show why each answer is the smallest change.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from siting.cli import main
from siting.diagnose import diagnose
from siting.errors import InputError
from siting.run import run_case
from siting.solve import load_profile
from tests.helpers import write_instance
from tests.model.test_hand_solved import LOCAL, TWO_SITES

ROOT = Path(__file__).resolve().parent.parent.parent
JASM = ROOT / "instances" / "jasm"

# the two-site and one-site instances of the hand-solved model tests
ONE_SITE = LOCAL


def _solve(tmp_path: Path, capsys, folder, *extra: str) -> tuple[int, list[dict], str, str]:
    out = tmp_path / "out"
    capsys.readouterr()
    code = main(["solve", str(folder), "--out", str(out), *extra])
    console = capsys.readouterr()
    summary = json.loads((out / "summary.json").read_text())
    return code, summary["diagnosis"], console.out, console.err


def _only(diagnosis: list[dict], rule: str, alternative: bool = False) -> dict:
    found = [d for d in diagnosis if d["rule"] == rule and d["alternative"] == alternative]
    assert len(found) == 1, diagnosis
    return found[0]


def test_local_share_below_target(tmp_path, capsys):
    """100 wafers must be made; the local supplier (12 USD) can sell only 40, the foreign one (10 USD) the
    rest. The best share is 40 x 12 / (40 x 12 + 60 x 10) = 480 / 1080 = 44.4% < 60%. The screen, which
    assumes no capacity binds, sees 100% as possible, so the MIP is reached. Giving on the share costs
    0.6 x 1080 - 480 = 168 USD of 1000 (100 wafers at the cheapest price): 16.8%; the alternatives cost more
    (the local supplier +15.6 units of 40, 39%; making 72 wafers instead of 100, 28%)."""
    offers = "supplier,input,capacity_units_per_year,price_per_unit\nlocal,wafer,40,12\nabroad,wafer,1000,10"
    folder = write_instance(tmp_path / "inst", dict(ONE_SITE, offers=offers, local_targets="site,target\nkumamoto,0.6"))
    code, diagnosis, out, err = _solve(tmp_path, capsys, folder)
    assert code == 3
    assert [d["rule"] for d in diagnosis] == ["local_share"]
    d = diagnosis[0]
    assert d["where"] == "kumamoto" and d["required"] == pytest.approx(0.6)
    assert d["best"] == pytest.approx(480 / 1080, rel=1e-6)
    assert d["found_by"] == "elastic re-solve"
    assert d["message"] == (
        "kumamoto's 60% local share cannot be met: the best plan reaches 44.4% (local purchases 480 of 1,080 "
        "USD/yr; bought from non-local suppliers: wafer 600); lower the target to 44.4% or add local supply of wafer")
    assert "what must give (found by the elastic re-solve):" in out
    assert err.startswith("t: infeasible (Infeasible; elastic re-solve: kumamoto's 60% local share cannot be met")
    assert "Traceback" not in out + err


def test_largest_supplier_share(tmp_path, capsys):
    """No supplier may sell more than 70% of a site's wafers, and the second supplier sells only 20: at
    most 70 + 20 = 90 of the 100 wafers needed. The best plan buys 80 from the local supplier (80%):
    10 wafers over its limit of 70, 10% of the 100 needed; the others cost more (the foreign supplier
    +10 of its 20, 50%; making 66.7 wafers, 33%)."""
    offers = "supplier,input,capacity_units_per_year,price_per_unit\nlocal,wafer,1000,12\nabroad,wafer,20,10"
    folder = write_instance(tmp_path / "inst", dict(ONE_SITE, offers=offers), settings={"max_supplier_share": 0.7})
    code, diagnosis, out, _ = _solve(tmp_path, capsys, folder)
    assert code == 3
    d = _only(diagnosis, "supplier_share")
    assert len(diagnosis) == 1
    assert d["where"] == "kumamoto/wafer/local"
    assert (d["required"], d["best"]) == (pytest.approx(0.7), pytest.approx(0.8))
    assert d["message"] == (
        "at kumamoto, no supplier may sell more than 70% of its wafer, but the best plan buys 80% from local "
        "(80 of 100 wafer/yr; only abroad can also deliver wafer there); raise max_supplier_share for wafer to "
        "80% or add suppliers of wafer for kumamoto")


def test_too_few_suppliers_to_qualify(tmp_path, capsys):
    """Wafers are critical and need two qualified suppliers at an open site; two offer them, but the
    foreign one is excluded at kumamoto, so the site cannot open. One missing supplier is half of
    k = 2 (50%), against 100% of demand."""
    tables = dict(ONE_SITE, inputs="id,unit,critical,min_suppliers\nwafer,wafer,true,2",
                  exclusions="id,supplier_country,site\nno-tw,TW,kumamoto")
    code, diagnosis, _, _ = _solve(tmp_path, capsys, write_instance(tmp_path / "inst", tables))
    assert code == 3
    d = _only(diagnosis, "min_suppliers")
    assert len(diagnosis) == 1
    assert (d["where"], d["required"], d["best"]) == ("kumamoto/wafer", 2.0, 1.0)
    assert d["message"] == ("kumamoto needs 2 qualified suppliers of wafer, but only 1 can deliver it there (local); "
                            "lower min_suppliers for wafer to 1 or add offers of wafer from other suppliers")


def test_concentration_limit(tmp_path, capsys):
    """200 wafers must be made; a (JP) holds one module of 100, b (US) two. At most 40% of capacity may be
    in the US, so Japan needs 60% of at least 200 = 120 > 100. The best plan builds one module at each
    site: 50% in the US, 20 wafers over the limit's 80, 10% of the 200 reference wafers (against 50% of
    demand if b built nothing)."""
    tables = dict(TWO_SITES, concentration="group_type,group,max_share\ncountry,US,0.4",
                  demand="market,product,wafers_per_year\nm,chip,200",
                  modules=("site,product,wafers_per_module,capex_per_module,max_modules\n"
                           "a,chip,100,100,1\nb,chip,100,80,2"))
    code, diagnosis, _, _ = _solve(tmp_path, capsys, write_instance(tmp_path / "inst", tables))
    assert code == 3
    d = _only(diagnosis, "concentration")
    assert len(diagnosis) == 1
    assert d["where"] == "country=US"
    assert (d["required"], d["best"]) == (pytest.approx(0.4), pytest.approx(0.5))
    assert d["message"] == ("at most 40% of capacity may be in country US, but the best plan puts 50% there "
                            "(100 of 200 wafers/yr); raise the limit to 50% or add capacity outside country US")


def test_firm_budget(tmp_path, capsys):
    """The cheapest site's module costs 80 and the firm may spend 50: the budget must rise by 30 (60% of
    it), against 100% of demand left unmet."""
    folder = write_instance(tmp_path / "inst", TWO_SITES, settings={"firm_budget": 50})
    code, diagnosis, _, err = _solve(tmp_path, capsys, folder)
    assert code == 3
    d = _only(diagnosis, "firm_budget")
    assert len(diagnosis) == 1
    assert (d["required"], d["best"], d["unit"]) == (50.0, pytest.approx(80.0), "USD")
    assert d["message"] == ("the firm's capex budget of 50 USD cannot be kept: the best plan needs 80 USD of capex; "
                            "raise settings.firm_budget to 80")
    assert err.count("\n") == 1  # one line on stderr


def test_demand_gives_where_that_is_the_smallest_change(tmp_path, capsys):
    """150 wafers must be made; each site holds one module of 100 (a costs 100, b 80) and the budget is
    100, so one module at most. Making 100 of 150 leaves 33% of demand unmet; the budget would have to
    rise by 80 (to b + a = 180, 80%). The closest plan gives on demand, and the alternative that keeps
    all demand names the budget."""
    tables = dict(TWO_SITES, demand="market,product,wafers_per_year\nm,chip,150")
    folder = write_instance(tmp_path / "inst", tables, settings={"firm_budget": 100})
    code, diagnosis, out, _ = _solve(tmp_path, capsys, folder)
    assert code == 3
    d = _only(diagnosis, "demand")
    assert (d["where"], d["required"], d["best"]) == ("chip", 150.0, pytest.approx(100.0))
    assert d["message"] == (
        "demand for chip that must be met (150 wafers/yr) cannot all be met under the other rules: the best plan "
        "makes 100 wafers/yr (m short by 50); allow unmet demand at a cost (penalty_per_wafer) or add capacity "
        "the other rules allow")
    alt = _only(diagnosis, "firm_budget", alternative=True)
    assert (alt["required"], alt["best"]) == (100.0, pytest.approx(180.0))
    assert alt["message"].startswith("or, to meet all demand: the firm's capex budget of 100 USD cannot be kept")
    assert [d["alternative"] for d in diagnosis] == [False, True]
    assert "\n  or, to meet all demand: " in out


def test_supplier_capacity_where_an_exclusion_leaves_one_supplier(tmp_path, capsys):
    """Only a has modules. SUMCO (1000 wafers) is excluded at a, so a can buy only from GW, which sells 80;
    together they offer 1080, so the supply screen passes. 100 wafers must be made: making 80 leaves 20%
    of demand unmet, while GW would need 20 more (25% of its 80), so the closest plan gives on demand, and
    keeping all demand needs GW's capacity raised to 100."""
    tables = dict(TWO_SITES, modules="site,product,wafers_per_module,capex_per_module,max_modules\na,chip,100,100,1",
                  inputs="id,unit\nwafer,wafer", bom="product,input,units_per_wafer\nchip,wafer,1",
                  suppliers="id,country,lat,lon\nsumco,JP,33.3,129.9\ngw,TW,24.8,121",
                  offers="supplier,input,capacity_units_per_year,price_per_unit\nsumco,wafer,1000,10\ngw,wafer,80,9",
                  exclusions="id,supplier_country,site\nno-jp-at-a,JP,a")
    code, diagnosis, _, _ = _solve(tmp_path, capsys, write_instance(tmp_path / "inst", tables))
    assert code == 3
    assert (_only(diagnosis, "demand")["best"]) == pytest.approx(80.0)
    d = _only(diagnosis, "supplier_capacity", alternative=True)
    assert (d["where"], d["required"], d["best"]) == ("gw/wafer", 80.0, pytest.approx(100.0))
    assert d["message"] == ("or, to meet all demand: gw can sell 80 wafer/yr of wafer, but the best plan needs 100 "
                            "(20 more); add capacity (offers gw/wafer) or other suppliers of wafer")


#: b's water: one m3/day per wafer a year of chip.
WATER_USE = "resource,product,per_wafer\nb-water,chip,1"


def _water(limit: str, **more) -> dict:
    """TWO_SITES with 150 wafers that must be made and a water resource at b: ``limit`` is
    ``limit,extra_cost,extra_max``."""
    return {**TWO_SITES, "demand": "market,product,wafers_per_year\nm,chip,150",
            "resources": f"id,site,kind,unit,limit,extra_cost,extra_max\nb-water,b,water,m3/day,{limit}",
            "resource_use": WATER_USE, **more}


def test_a_site_resource_that_cannot_supply_the_demand(tmp_path, capsys):
    """150 wafers must be made; a makes at most 100, b at most 100 but has water for 40 (one m3/day a
    wafer, none to buy). Both open make 140. Making 140 of 150 leaves 6.7% of demand unmet, while b's
    water would have to give 10 of its 40 m3/day (25%): the closest plan gives on demand, and keeping
    all demand needs b to draw 50 m3/day, 10 over its limit."""
    code, diagnosis, out, _ = _solve(tmp_path, capsys, write_instance(tmp_path / "inst", _water("40,,")))
    assert code == 3
    assert _only(diagnosis, "demand")["best"] == pytest.approx(140.0)
    d = _only(diagnosis, "resource", alternative=True)
    assert (d["where"], d["required"], d["best"], d["unit"]) == ("b/b-water", 40.0, pytest.approx(50.0), "m3/day")
    assert d["message"] == (
        "or, to meet all demand: b's water limit b-water cannot be kept: it allows 40 m3/day, but the best plan "
        "draws 50 m3/day (10 more); raise resources.b-water.limit to 50 or allow extra supply (extra_cost)")
    assert [d["rule"] for d in diagnosis] == ["demand", "resource"]


def test_a_resource_with_too_little_extra_supply(tmp_path, capsys):
    """As above with 30 m3/day and at most 10 more to buy: b can make 40 wafers; meeting demand needs
    50 m3/day, so the limit must rise to 40 (with the 10 extra) or the extra to 20."""
    code, diagnosis, _, _ = _solve(tmp_path, capsys, write_instance(tmp_path / "inst", _water("30,0.1,10")))
    assert code == 3
    d = _only(diagnosis, "resource", alternative=True)
    assert (d["required"], d["best"]) == (40.0, pytest.approx(50.0))
    assert d["message"].endswith(
        "b's water limit b-water cannot be kept: it allows 30 m3/day plus at most 10 m3/day of extra supply, but "
        "the best plan draws 50 m3/day (10 more); raise resources.b-water.limit to 40 or raise its extra_max to 20")


def test_a_resource_a_scenario_cuts_names_the_scenario(tmp_path, capsys):
    """b has water for 80 wafers, halved to 40 in a drought (probability 0.5): in the nominal scenario
    a and b make 150, in the drought only 140. Keeping demand needs 50 m3/day in the drought, so the
    table's limit must rise to 50 / 0.5 = 100; the nominal scenario is not named."""
    tables = _water("80,,", scenarios="id,probability\nnominal,0.5\ndrought,0.5",
                    scenario_effects="scenario,target,by,match,multiplier\ndrought,resource,id,b-water,0.5")
    code, diagnosis, _, _ = _solve(tmp_path, capsys, write_instance(tmp_path / "inst", tables))
    assert code == 3
    d = _only(diagnosis, "resource", alternative=True)
    assert (d["required"], d["best"]) == (40.0, pytest.approx(50.0))
    assert d["message"] == (
        "or, to meet all demand: b's water limit b-water in scenario drought cannot be kept: it allows 40 m3/day, "
        "but the best plan draws 50 m3/day (10 more); raise resources.b-water.limit to 100 or allow extra supply "
        "(extra_cost)")


def test_a_phased_resource_limit_names_its_period(tmp_path, capsys):
    """Two one-year periods; the 150 wafers are due in p2 only, so only p2's water row must give (by 10
    of b's 40 m3/day, as in the snapshot above) and the finding names p2."""
    tables = _water("40,,", periods="id,start_year,years\np1,2025,1\np2,2026,1",
                    demand="market,product,period,wafers_per_year\nm,chip,p2,150")
    code, diagnosis, _, _ = _solve(tmp_path, capsys, write_instance(tmp_path / "inst", tables))
    assert code == 3
    d = _only(diagnosis, "resource", alternative=True)
    assert (d["required"], d["best"]) == (40.0, pytest.approx(50.0))
    assert d["message"].startswith("or, to meet all demand: b's water limit b-water in p2 cannot be kept: it "
                                   "allows 40 m3/day, but the best plan draws 50 m3/day (10 more)")


def test_giving_what_a_resource_finding_names_finds_a_plan(tmp_path):
    """Each fix the resource findings above name, applied alone, makes its instance feasible."""
    options = load_profile("default")
    for limit, fix in (("40,,", "resources.b-water.limit=50"), ("30,0.1,10", "resources.b-water.limit=40"),
                       ("30,0.1,10", "resources.b-water.extra_max=20")):
        folder = write_instance(tmp_path / fix.replace("=", "-"), _water(limit))
        assert run_case(folder, options, duals=False).outcome.status == "infeasible"
        assert run_case(folder, options, sets=[fix], duals=False).outcome.status == "optimal", fix


def test_screened_demand_has_numbers_too(tmp_path, capsys):
    """Two modules of 100 and 250 wafers that must be met: the screen stops the run before the MIP, and its
    finding carries the same fields as an elastic one."""
    tables = dict(TWO_SITES, demand="market,product,wafers_per_year\nm,chip,250")
    code, diagnosis, out, _ = _solve(tmp_path, capsys, write_instance(tmp_path / "inst", tables))
    assert code == 3
    d = _only(diagnosis, "demand")
    assert (d["where"], d["required"], d["best"], d["found_by"]) == ("chip", 250.0, 200.0, "pre-solve screen")
    assert "what must give (found by the pre-solve screen):" in out


# ---- the flagship --------------------------------------------------------------------------------------

def _jasm_table(name: str) -> pd.DataFrame:
    return pd.read_csv(JASM / f"{name}.csv")


#: JASM is feasible under any local target as shipped: demand carries a penalty, and Tainan and Phoenix
#: have no target. These overrides make every customer's demand firm and Kumamoto the only site.
FIRM_AT_KUMAMOTO = [
    *[f"demand.{m}/{p}.penalty_per_wafer=" for m, p in _jasm_table("demand")[["market", "product"]].values],
    *[f"modules.{s}/{p}.max_modules=0" for s, p in _jasm_table("modules")[["site", "product"]].values
      if s != "kumamoto"],
]


def _flags(*sets: str) -> list[str]:
    return [a for s in sets for a in ("--set", s)]


def _best_local_share(outage: str) -> float:
    """Kumamoto's best local share with all demand made there, from the tables alone: each counted input is
    bought from Japanese plants up to their capacity (Japanese plants of one input ask one price) and the
    rest from the cheapest foreign plant. The 70% largest-share and two-supplier rules do not bind here
    (the largest Japanese plant of each input sells under 70% of the need)."""
    inputs = _jasm_table("inputs").set_index("id")
    counted = inputs.index[inputs["counts_for_local"]]
    demand = _jasm_table("demand").groupby("product")["wafers_per_year"].sum()
    bom = _jasm_table("bom")
    need = (bom["units_per_wafer"] * bom["product"].map(demand)).groupby(bom["input"]).sum()
    offers = _jasm_table("offers").merge(_jasm_table("suppliers")[["id", "country"]], left_on="supplier", right_on="id")
    offers.loc[offers["supplier"] == outage, "capacity_units_per_year"] = 0
    local = total = 0.0
    for i in counted:
        mine = offers[offers["input"] == i]
        jp = mine[mine["country"] == "JP"]
        bought = min(need[i], jp["capacity_units_per_year"].sum())
        value_jp = bought * jp["price_per_unit"].max()
        value_rest = (need[i] - bought) * mine.loc[mine["country"] != "JP", "price_per_unit"].min()
        local += value_jp
        total += value_jp + value_rest
    return local / total


def test_jasm_at_90_percent_is_feasible_as_shipped(tmp_path, capsys):
    """With the instance's own data Kumamoto reaches 90% at full output (about 97% is possible), so the
    what-if alone finds a plan."""
    code, diagnosis, _, _ = _solve(tmp_path, capsys, JASM, *_flags("local_targets.kumamoto.target=0.9"))
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert code == 0 and diagnosis == []
    kumamoto = next(s for s in summary["sites"] if s["id"] == "kumamoto")
    assert kumamoto["open"] and kumamoto["local_share"] >= 0.9 - 1e-9


def test_jasm_at_90_percent_without_kanto_denka_gas(tmp_path, capsys):
    """All demand firm and made at Kumamoto, and Kanto Denka's gas plant (350 t) out: the Japanese gas left
    (500 t) covers 61% of the 821 t needed, and Kumamoto's best share falls below 90%. The screens see
    nothing (at a small output the share could be 100%), so the MIP is reached, and the elastic re-solve
    names the 90% target with the best share the tables allow."""
    outage = "kanto-denka-shibukawa"
    sets = _flags("local_targets.kumamoto.target=0.9", *FIRM_AT_KUMAMOTO,
                  f"offers.{outage}/specialty-gas.capacity_units_per_year=0")
    code, diagnosis, out, err = _solve(tmp_path, capsys, JASM, *sets)
    assert code == 3
    d = _only(diagnosis, "local_share")
    assert len(diagnosis) == 1
    best = _best_local_share(outage)
    assert best < 0.9
    assert d["where"] == "kumamoto" and d["required"] == pytest.approx(0.9)
    assert d["best"] == pytest.approx(best, rel=1e-6)
    assert d["message"].startswith(f"kumamoto's 90% local share cannot be met: the best plan reaches "
                                   f"{int(best * 1000) / 10}% (local purchases ")
    assert "bought from non-local suppliers: specialty-gas " in d["message"]
    assert out.splitlines()[0] == "jasm: infeasible: no plan meets every rule"
    assert len(err.strip().splitlines()) == 1


def test_jasm_target_no_local_mix_can_meet_is_screened(tmp_path, capsys):
    """Counting only suppliers in Kyushu, Kumamoto has none for gases and masks, so no mix reaches 90%:
    the screen sees that Kumamoto can never open, and the firm demand of every product has nowhere to go."""
    sets = _flags("local_targets.kumamoto.target=0.9", "local_targets.kumamoto.rule=region", *FIRM_AT_KUMAMOTO)
    code, diagnosis, out, _ = _solve(tmp_path, capsys, JASM, *sets)
    assert code == 3
    demand = _jasm_table("demand").groupby("product")["wafers_per_year"].sum()
    assert {d["where"]: d["required"] for d in diagnosis} == demand.astype(float).to_dict()
    assert all(d["rule"] == "demand" and d["best"] == 0 and d["found_by"] == "pre-solve screen" for d in diagnosis)
    assert "kumamoto's 90% local share cannot be met: local suppliers can cover at most" in out


# ---- the named change is enough: random instances ------------------------------------------------------

def _random_tables(seed: int) -> tuple[dict, dict]:
    """A small instance whose rules are drawn from ``seed``: 1-3 sites, 1-4 suppliers of two inputs, firm
    demand, and any of local targets, a largest supplier share, two suppliers per critical input, a firm
    budget, a concentration limit and an exclusion."""
    rng = np.random.default_rng(seed)
    ns, nu = int(rng.integers(1, 4)), int(rng.integers(1, 5))
    countries = ("JP", "US", "TW")
    tables = {
        "sites": "id,country,lat,lon\n" + "\n".join(f"s{j},{countries[j % 3]},{30 + j},{130 + j}" for j in range(ns)),
        "products": "id\nchip",
        "modules": "site,product,wafers_per_module,capex_per_module,max_modules\n" + "\n".join(
            f"s{j},chip,100,{rng.integers(50, 150)},{rng.integers(1, 3)}" for j in range(ns)),
        "markets": "id,country,lat,lon\nm,JP,35,137",
        "demand": f"market,product,wafers_per_year\nm,chip,{rng.integers(50, 100 * ns + 50)}",
        "inputs": "id,unit,critical\nwafer,wafer,true\ngas,kg,false",
        "bom": "product,input,units_per_wafer\nchip,wafer,1\nchip,gas,0.5",
        "suppliers": "id,country,lat,lon\n" + "\n".join(
            f"u{k},{countries[rng.integers(0, 3)]},{30 + k},{131 + k}" for k in range(nu)),
        "offers": "supplier,input,capacity_units_per_year,price_per_unit\n" + "\n".join(
            f"u{k},{i},{rng.integers(20, 300)},{rng.integers(5, 15)}" for k in range(nu) for i in ("wafer", "gas")
            if rng.random() < 0.7),
    }
    settings: dict = {}
    if rng.random() < 0.5:
        tables["local_targets"] = "site,target\n" + "\n".join(f"s{j},{rng.uniform(0.2, 0.9):.2f}" for j in range(ns))
    if rng.random() < 0.4:
        settings["max_supplier_share"] = round(float(rng.uniform(0.5, 0.9)), 2)
    if rng.random() < 0.3:
        settings["min_suppliers"] = 2
    if rng.random() < 0.3:
        settings["firm_budget"] = int(rng.integers(50, 300))
    if rng.random() < 0.3:
        tables["concentration"] = f"group_type,group,max_share\ncountry,JP,{rng.uniform(0.2, 0.8):.2f}"
    if rng.random() < 0.3:
        tables["exclusions"] = f"id,supplier_country,site\nx,{countries[rng.integers(0, 3)]},s0"
    return tables, settings


def _change(finding) -> str:
    """The --set that gives a rule exactly what the closest plan needs (shares to the tenth of a point
    the message names, amounts a hair above the plan's)."""
    rule, where, best = finding.rule, finding.where, finding.best
    if rule == "local_share":
        return f"local_targets.{where}.target={math.floor(best * 1000 + 1e-6) / 1000}"
    if rule == "supplier_share":
        return f"inputs.{where.split('/')[1]}.max_supplier_share={math.ceil(best * 1000 - 1e-6) / 1000}"
    if rule == "min_suppliers":
        return f"inputs.{where.split('/')[1]}.min_suppliers={int(round(best))}"
    if rule == "concentration":
        kind, group = where.split("=")
        return f"concentration.{kind}/{group}.max_share={math.ceil(best * 1000 - 1e-6) / 1000}"
    if rule == "firm_budget":
        return f"settings.firm_budget={best * (1 + 1e-9)}"
    if rule == "supplier_capacity":
        return f"offers.{where}.capacity_units_per_year={best * (1 + 1e-9)}"
    assert rule == "demand", finding
    return f"demand.m/{where}.wafers_per_year={best}"


def test_giving_what_the_diagnosis_names_finds_a_plan(tmp_path):
    """On random instances that reach the MIP infeasible, changing every rule the closest plan breaks to
    what that plan needs makes the instance feasible, and so does each alternative that keeps demand.
    Seeds 0-79; at least 10 of them must reach the elastic re-solve for the test to mean something."""
    options = load_profile("default")
    diagnosed = 0
    for seed in range(80):
        tables, settings = _random_tables(seed)
        folder = write_instance(tmp_path / f"s{seed}", tables, settings=settings)
        try:
            run = run_case(folder, options, duals=False)
        except InputError:
            continue  # a rule the checks refuse, e.g. a largest share no set of offers can respect
        if run.outcome.status != "infeasible" or run.model is None:
            continue
        diagnosed += 1
        findings = diagnose(run, options)
        assert findings, seed
        for alternative in (False, True):
            picked = [f for f in findings if f.alternative == alternative]
            if not picked:
                continue
            fixed = run_case(folder, options, sets=[_change(f) for f in picked], duals=False)
            assert fixed.outcome.status == "optimal", (seed, [f.message for f in picked])
    assert diagnosed >= 10
