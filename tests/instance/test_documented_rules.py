"""Rules docs/format.md states where readers guessed wrong, checked against what derive builds."""

from __future__ import annotations

import pytest

from siting.instance.derive import derive
from siting.run import load_case
from tests.helpers import write_instance

BASE = {
    "sites": "id,country,lat,lon,lifetime_years\nfab,JP,33,131,10",
    "products": "id\nchip",
    "modules": "site,product,wafers_per_module,capex_per_module,max_modules\nfab,chip,100,1,1",
    "markets": "id,country,lat,lon\nm,JP,35,137",
    "demand": "market,product,wafers_per_year,penalty_per_wafer\nm,chip,100,500",
    "inputs": "id\nwafer",
    "bom": "product,input,units_per_wafer\nchip,wafer,1",
    "suppliers": "id,country,lat,lon,flags\ntw,TW,24,121,\nred,JP,34,132,red\nus,US,33,-112,",
    "offers": "supplier,input,capacity_units_per_year,price_per_unit\n"
              "tw,wafer,100,10\nred,wafer,100,10\nus,wafer,100,10",
}


def test_an_exclusion_row_with_a_country_and_a_flag_excludes_either(tmp_path):
    """supplier_country=TW, supplier_flag=red in one row: tw (in TW, no flag) and red (in JP,
    flagged) are both excluded, so only us can sell to the site (country OR flag, not AND)."""
    tables = dict(BASE, exclusions="id,supplier_country,supplier_flag,site\nnon-red,TW,red,*")
    data = derive(load_case(write_instance(tmp_path, tables)))
    assert set(data.arcs["supplier"]) == {"us"}


def test_production_subsidy_years_beyond_the_lifetime_are_clamped(tmp_path):
    """A 25-year subsidy at a site with a 10-year lifetime pays for 10 years: the same payout per
    wafer (2 x 10 years) and years as a 10-year subsidy."""
    def years(n):
        tables = dict(BASE, instruments=f"id,kind,site,per_wafer,years\nsub,production_subsidy,fab,2,{n}")
        data = derive(load_case(write_instance(tmp_path / str(n), tables)))
        row = data.instruments.iloc[0]
        return row["years"], row["per_wafer_total"]

    assert years(25) == (10.0, pytest.approx(20.0))
    assert years(25) == years(10)


def test_a_lane_for_the_item_wins_over_a_lane_for_every_item(tmp_path):
    """Lanes us -> fab: 7 for '*' and 3 for 'wafer': the wafer pays 3 (the row naming the item)."""
    tables = dict(BASE, lanes="origin,destination,item,cost_per_unit\nus,fab,*,7\nus,fab,wafer,3")
    data = derive(load_case(write_instance(tmp_path, tables)))
    freight = data.arcs.set_index("supplier").at["us", "freight"]
    assert freight == pytest.approx(3.0)
