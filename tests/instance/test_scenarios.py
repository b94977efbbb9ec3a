"""Scenario tables: every validation message, and the multipliers each effect puts on the data."""

from __future__ import annotations

import numpy as np
import pytest

from siting.instance.derive import derive
from siting.run import load_case
from tests.instance.test_validation import BASE, problems, with_table

SCENARIOS = "id,probability\nnominal,0.7\nquake,0.3"


@pytest.mark.parametrize("tables,sets,expected", [
    ({"scenarios": "id,probability\nnominal,0.7\nquake,0.2"}, (),
     "scenarios.csv column probability | probabilities sum to 0.9, not 1; make them sum to 1"),
    ({"scenarios": "id,probability\nquake,0.2"}, (),
     "scenarios.csv column probability | probabilities sum to 0.2, not 1; make them sum to 1, e.g. add a "
     "scenario 'nominal' (no effects) with probability 0.8"),
    ({"scenarios": "id,probability\nquake,1.2"}, (),
     "scenarios.csv row 2 (id=quake) column probability | is 1.2; must be in [0, 1]"),
    ({"scenarios": SCENARIOS, "scenario_effects": "scenario,target,by,match,multiplier\nquake,site,id,a,1.5"}, (),
     "scenario_effects.csv row 2 (scenario=quake, target=site, by=id, match=a, item=*) column multiplier | is 1.5; "
     "an availability must be in [0, 1]; give the share of capacity left in the scenario, e.g. 0.5"),
    ({"scenarios": SCENARIOS, "scenario_effects": "scenario,target,by,match,multiplier\nquak,site,id,a,0"}, (),
     "scenario_effects.csv row 2 (scenario=quak, target=site, by=id, match=a, item=*) column scenario | 'quak' is "
     "not a known scenarios id; did you mean 'quake'?"),
    ({"scenarios": SCENARIOS, "scenario_effects": "scenario,target,by,match,multiplier\nquake,site,country,KR,0"}, (),
     "scenario_effects.csv row 2 (scenario=quake, target=site, by=country, match=KR, item=*) column match | 'KR' "
     "selects no row of sites (no country 'KR'); give a country of sites"),
    ({"scenarios": SCENARIOS, "scenario_effects": "scenario,target,by,match,multiplier\nquake,demand,hazard_zone,x,0"},
     (), "scenario_effects.csv row 2 (scenario=quake, target=demand, by=hazard_zone, match=x, item=*) column by | is "
         "hazard_zone, but markets have no hazard zones; select markets by id, country, region or all"),
    ({"scenarios": SCENARIOS, "scenario_effects": "scenario,target,by,match,multiplier\nquake,demand,all,m,0.5"}, (),
     "scenario_effects.csv row 2 (scenario=quake, target=demand, by=all, match=m, item=*) column match | is 'm' but "
     "by is all; leave match empty or write *"),
    ({"scenarios": SCENARIOS, "scenario_effects": "scenario,target,by,match,multiplier\nquake,supplier,id,,0"}, (),
     "scenario_effects.csv row 2 (scenario=quake, target=supplier, by=id, match=*, item=*) column match | is empty "
     "but by is id; give the id to select"),
    ({"scenarios": SCENARIOS, "scenario_effects": "scenario,target,by,match,item,multiplier\n"
                                                  "quake,supplier,id,sumco,chip,0"}, (),
     "scenario_effects.csv row 2 (scenario=quake, target=supplier, by=id, match=sumco, item=chip) column item | is "
     "'chip', a product; a supplier effect applies to an input; give an input id or *"),
    ({"scenarios": SCENARIOS, "scenario_effects": "scenario,target,by,match,item,multiplier\n"
                                                  "quake,demand,id,m,wafer,2"}, (),
     "scenario_effects.csv row 2 (scenario=quake, target=demand, by=id, match=m, item=wafer) column item | is "
     "'wafer', an input; a demand effect applies to a product; give a product id or *"),
    ({"scenarios": SCENARIOS, "scenario_effects": "scenario,target,by,match,multiplier\nquake,storm,id,a,0"}, (),
     "scenario_effects.csv row 2 (scenario=quake, target=storm, by=id, match=a, item=) column target | is 'storm'; "
     "use one of: site, supplier, demand, price, freight, resource"),
    ({"scenarios": SCENARIOS}, ("settings.local_share_scenarios=nominl",),
     "--set settings.local_share_scenarios=nominl | is 'nominl', which is not a scenario; did you mean 'nominal'?"),
    ({}, ("settings.risk_measure=unmet", "settings.risk_limit=-1"),
     "--set settings.risk_limit=-1 | is -1, but unmet demand cannot be negative; give a limit of 0 or more wafers "
     "per year"),
    ({}, ("settings.cvar_level=1",),
     "--set settings.cvar_level=1 | input should be less than 1 (got '1'); level beta of CVaR: the mean cost of "
     "the worst (1 - beta) of probability."),
])
def test_scenario_problems_are_named(tmp_path, tables, sets, expected):
    assert problems(with_table(tmp_path, **tables), sets) == [expected]


def test_effects_select_by_id_country_region_hazard_zone_and_item(tmp_path):
    """Each effect hits exactly the rows it selects, and effects on the same value multiply."""
    folder = with_table(
        tmp_path,
        sites="id,country,region,lat,lon,fixed_cost,hazard_zones\na,JP,Kyushu,33,131,10,nankai;kyushu\n"
              "b,US,Arizona,33.5,-112,10,",
        suppliers="id,country,region,lat,lon,hazard_zones\nsumco,JP,Kyushu,33.27,129.88,kyushu\n"
                  "gw,TW,,24.8,121,",
        offers="supplier,input,capacity_units_per_year,price_per_unit\nsumco,wafer,1000,100\ngw,wafer,500,90",
        markets="id,country,region,lat,lon\nm,JP,Kanto,35,137\nn,US,,37,-122",
        demand="market,product,wafers_per_year\nm,chip,100\nn,chip,50",
        scenarios=SCENARIOS,
        scenario_effects="scenario,target,by,match,item,multiplier\n"
                         "quake,site,hazard_zone,kyushu,,0.5\n"
                         "quake,site,country,JP,chip,0.5\n"
                         "quake,supplier,hazard_zone,kyushu,wafer,0\n"
                         "quake,price,country,TW,,1.2\n"
                         "quake,demand,region,Kanto,,0.8\n"
                         "quake,freight,id,gw,,3\n",
    )
    d = derive(load_case(folder))
    f = d.factors
    assert f.ids == ("nominal", "quake")
    np.testing.assert_allclose(f.probability, [0.7, 0.3])
    # modules rows: a, b (BASE order); site a is hit twice: 0.5 x 0.5
    np.testing.assert_allclose(f.site, [[1, 0.25], [1, 1]])
    np.testing.assert_allclose(f.capacity, [[1, 0], [1, 1]])
    np.testing.assert_allclose(f.price, [[1, 1], [1, 1.2]])
    np.testing.assert_allclose(f.demand, [[1, 0.8], [1, 1]])
    np.testing.assert_allclose(f.freight_in, [[1, 1], [1, 3]])
    np.testing.assert_allclose(f.freight_out, [[1, 1], [1, 1]])
    quake = d.demand[d.demand["scenario"] == "quake"].set_index("market")["wafers"]
    assert quake.to_dict() == {"m": 80.0, "n": 50.0}
    offers = d.offers.set_index(["supplier", "scenario"])
    assert offers.at[("sumco", "quake"), "capacity"] == 0.0
    assert offers.at[("gw", "quake"), "price"] == pytest.approx(offers.at[("gw", "nominal"), "price"] * 1.2)
    ev = f.expected()
    np.testing.assert_allclose(ev.site[:, 0], [0.7 + 0.3 * 0.25, 1.0])
    assert ev.ids == ("expected-value",) and ev.probability.tolist() == [1.0]


def test_no_scenarios_table_is_one_nominal_scenario(tmp_path):
    d = derive(load_case(with_table(tmp_path)))
    assert d.scenarios.to_dict("list") == {"id": ["nominal"], "probability": [1.0]}
    assert set(BASE) <= set(d.instance.tables)
