"""Every validation message, matched exactly: file, row, key, column, problem and fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from siting.errors import InputError
from siting.instance.overrides import apply_overrides
from siting.instance.read import read_instance
from siting.run import load_case
from tests.helpers import write_instance

BASE = {
    "sites": "id,country,lat,lon,fixed_cost\na,JP,33,131,10\nb,US,33.5,-112,10",
    "products": "id\nchip",
    "modules": "site,product,wafers_per_module,capex_per_module,max_modules\na,chip,100,100,1\nb,chip,100,80,1",
    "markets": "id,country,lat,lon\nm,JP,35,137",
    "demand": "market,product,wafers_per_year\nm,chip,100",
    "inputs": "id,unit\nwafer,wafer",
    "bom": "product,input,units_per_wafer\nchip,wafer,1",
    "suppliers": "id,country,lat,lon\nsumco,JP,33.27,129.88",
    "offers": "supplier,input,capacity_units_per_year,price_per_unit\nsumco,wafer,1000,100",
}


def problems(folder: Path, sets=()) -> list[str]:
    with pytest.raises(InputError) as err:
        load_case(folder, sets)
    return [str(p) for p in err.value.problems]


def with_table(tmp_path: Path, **tables) -> Path:
    return write_instance(tmp_path / "inst", {**BASE, **tables})


def test_valid_instance_passes(tmp_path):
    inst = load_case(with_table(tmp_path))
    assert sorted(inst["sites"]["id"]) == ["a", "b"]


@pytest.mark.parametrize("table,text,expected", [
    ("sites", "id,country,lat,lon\na,JP,95,131\nb,US,33.5,-112",
     "sites.csv row 2 (id=a) column lat | is 95; must be in [-90, 90]"),
    ("sites", "id,country,lat,lon\na,JP,33,181\nb,US,33.5,-112",
     "sites.csv row 2 (id=a) column lon | is 181; must be in [-180, 180]"),
    ("sites", "id,country,lat,lon,fixed_cost\na,JP,33,131,-3\nb,US,33.5,-112,1",
     "sites.csv row 2 (id=a) column fixed_cost | is -3; must be >= 0"),
    ("sites", "id,country,lat,lon\na,JP,33,131\nb,US,,-112",
     "sites.csv row 3 (id=b) column lat | is empty; give a value (Latitude)"),
    ("sites", "id,country,lat,lon\na,JP,33,131\na,US,33.5,-112",
     "sites.csv row 3 (id=a) | repeats the key of row 2; merge the two rows or give them different ids"),
    ("sites", "id,country,lat,lon\na b,JP,33,131\nb,US,33.5,-112",
     "sites.csv row 2 (id=a b) column id | is 'a b', not a valid id; use letters, digits, '-' and '_' "
     "only (no spaces, dots or slashes)"),
    # a misspelt column the table lacks is refused (a column that is no near miss is kept and
    # ignored with a warning: tests/instance/test_cells.py)
    ("sites", "id,country,lat,lon,fixed_cots\na,JP,33,131,9\nb,US,33.5,-112,9",
     "sites.csv column fixed_cots | unknown column; did you mean 'fixed_cost'?"),
    ("sites", "id,country,lat\na,JP,33\nb,US,33.5",
     "sites.csv | column 'lon' is missing; add it (Longitude)"),
    ("modules", "site,product,wafers_per_module,capex_per_module,max_modules\na,chip,0,100,1\nb,chip,100,80,1",
     "modules.csv row 2 (site=a, product=chip) column wafers_per_module | is 0; must be > 0"),
    ("modules", "site,product,wafers_per_module,capex_per_module,max_modules\na,chip,100,100,1.5\nb,chip,100,80,1",
     "modules.csv row 2 (site=a, product=chip) column max_modules | is 1.5, not a whole number; give a whole number"),
    ("modules", "site,product,wafers_per_module,capex_per_module,max_modules\nc,chip,100,100,1\nb,chip,100,80,1",
     "modules.csv row 2 (site=c, product=chip) column site | 'c' is not a known sites id; add it to sites or fix the spelling"),
    ("demand", "market,product,wafers_per_year\nm,chips,100",
     "demand.csv row 2 (market=m, product=chips) column product | 'chips' is not a known products id; did you mean 'chip'?"),
    ("demand", "market,product,wafers_per_year\nm,chip,lots",
     "demand.csv row 2 (market=m, product=chip) column wafers_per_year | is 'lots', not a number; give a number in wafers per year"),
    ("demand", "market,product,wafers_per_year\nm,chip,NaN",
     "demand.csv row 2 (market=m, product=chip) column wafers_per_year | is NaN, not a finite number; give a number in wafers per year"),
    ("demand", "market,product,wafers_per_year\nm,chip,inf",
     "demand.csv row 2 (market=m, product=chip) column wafers_per_year | is inf, not a finite number; give a number in wafers per year"),
    ("offers", "supplier,input,capacity_units_per_year,price_per_unit\nsumco,wafer,1000,-1",
     "offers.csv row 2 (supplier=sumco, input=wafer) column price_per_unit | is -1; must be >= 0"),
    ("inputs", "id,unit,critical\nwafer,wafer,maybe",
     "inputs.csv row 2 (id=wafer) column critical | is 'maybe', not true or false; write true or false"),
    ("inputs", "id,unit,max_supplier_share\nwafer,wafer,1.2",
     "inputs.csv row 2 (id=wafer) column max_supplier_share | is 1.2; must be in (0, 1]"),
    ("bom", "product,input,units_per_wafer\nchip,gas,1",
     "bom.csv row 2 (product=chip, input=gas) column input | 'gas' is not a known inputs id; add it to inputs or fix the spelling"),
])
def test_table_problems(tmp_path, table, text, expected):
    found = problems(with_table(tmp_path, **{table: text}))
    assert expected in found, "\n".join(found)


def test_units_that_cannot_be_right(tmp_path):
    """A capex of 1e12 in USD million is 1e18 USD: a unit mistake, not a fab."""
    tables = {**BASE, "modules": "site,product,wafers_per_module,capex_per_module,max_modules\n"
                                 "a,chip,100,1e12,1\nb,chip,100,80,1"}
    found = problems(write_instance(tmp_path / "inst", tables, settings={"money_unit": "million"}))
    assert found == ["modules.csv row 2 (site=a, product=chip) column capex_per_module | is 1e12 USD million, "
                     "1e+18 in currency units; this cannot be right: check settings.money_unit or the column's unit"]


def test_every_problem_is_reported_at_once(tmp_path):
    found = problems(with_table(
        tmp_path,
        sites="id,country,lat,lon\na,JP,95,131\nb,US,33.5,-200",
        demand="market,product,wafers_per_year\nm,chip,-5",
    ))
    assert len(found) == 3


def test_cross_table_rules(tmp_path):
    found = problems(with_table(
        tmp_path,
        instruments="id,kind,site,rate,amount\ng1,capex_grant,a,,\ng2,lump_sum,b,,\ng3,bonus,a,,",
        local_targets="site,target,rule\na,0.6,radius",
        exclusions="id,supplier_country,supplier_flag\nx,,",
        markets="id,country,lat,lon\nm,JP,35,137\nb,US,1,1",
    ))
    assert "instruments.csv row 2 (id=g1) column rate | is empty for a capex_grant; give the share of capex granted, e.g. 0.4" in found
    assert "instruments.csv row 3 (id=g2) column amount | is empty for a lump_sum; give the amount in USD" in found
    assert "instruments.csv row 4 (id=g3) column kind | is 'bonus'; use one of: capex_grant, tax_credit, lump_sum, production_subsidy, concessional_loan" in found
    assert ("local_targets.csv row 2 (site=a) column radius_km | is empty for rule radius; give the radius in km "
            "or set settings.local_radius_km") in found
    assert "exclusions.csv row 2 (id=x) | names neither supplier_country nor supplier_flag; give one of them" in found
    assert ("markets.csv id b | is also an id in sites; give every site, market and supplier (and every "
            "product and input) its own id") in found


def test_demand_no_site_can_make(tmp_path):
    found = problems(with_table(
        tmp_path, products="id\nchip\nsensor",
        demand="market,product,wafers_per_year\nm,chip,100\nm,sensor,50",
    ))
    assert ("demand.csv row 3 (market=m, product=sensor) | no site can make sensor and unmet demand has no "
            "penalty; add modules for it in modules.csv or set penalty_per_wafer") in found


def test_input_nobody_offers(tmp_path):
    found = problems(with_table(tmp_path, inputs="id,unit\nwafer,wafer\ngas,kg",
                                bom="product,input,units_per_wafer\nchip,wafer,1\nchip,gas,0.2"))
    assert ("bom.csv row 3 (product=chip, input=gas) column input | no supplier offers gas; add an offer "
            "for it in offers.csv") in found


def test_settings_problems(tmp_path):
    folder = write_instance(tmp_path / "inst", BASE, settings={"discount_rate": 1.5, "colour": "red"})
    found = problems(folder)
    assert "instance.yaml settings.discount_rate | input should be less than 1 (got 1.5); discount rate r per year." in found
    assert any(p.startswith("instance.yaml settings.colour | unknown setting; settings are: currency") for p in found)


def test_file_level_problems(tmp_path):
    assert problems(tmp_path / "nowhere") == [
        f"{tmp_path / 'nowhere'} | no such file or folder; give an instance folder, its instance.yaml or an .xlsx workbook"]
    folder = with_table(tmp_path)
    (folder / "demand.csv").write_text("market;product;wafers_per_year\nm;chip;100\n")
    assert problems(folder) == ["demand.csv | columns are separated by ';', not commas; save it as 'CSV UTF-8 (comma delimited)'"]
    (folder / "demand.csv").write_bytes("market,product,wafers_per_year\nm\xe9,chip,100\n".encode("latin-1"))
    assert problems(folder) == ["demand.csv row 2 | is not UTF-8 text: byte 0xE9 at offset 32 is not valid UTF-8; "
                                "save it as 'CSV UTF-8 (comma delimited)'"]
    (folder / "demand.csv").write_text("market,product,wafers_per_year\nm,chip,100,7\n")
    assert problems(folder) == ["demand.csv row 2 | has 4 fields, the header has 3; check for a stray comma or "
                                "an unquoted comma inside a value"]
    (folder / "demand.csv").unlink()
    assert problems(folder) == ["instance.yaml tables.demand | file 'demand.csv' not found; create it or fix the file name"]


def test_yaml_problems(tmp_path):
    folder = with_table(tmp_path)
    (folder / "instance.yaml").write_text("name: x\nsettings: {discount_rate: 0.1\n")
    assert problems(folder)[0].startswith("instance.yaml line 3 | malformed YAML")
    (folder / "instance.yaml").write_text("name: !!python/object/apply:os.system ['echo hi']\n")
    assert problems(folder)[0].startswith("instance.yaml line 1 | YAML tag not allowed")
    (folder / "instance.yaml").write_text("name: x\ntables:\n  sites: ../../etc/passwd\n")
    assert ("instance.yaml tables.sites | '../../etc/passwd' points outside the instance folder; keep every "
            "table file inside the instance folder") in problems(folder)


def test_overrides_are_checked_like_the_files(tmp_path):
    folder = with_table(tmp_path)
    assert problems(folder, ["sites.a.lat=91"]) == ["--set sites.a.lat=91 | is 91; must be in [-90, 90]"]
    assert problems(folder, ["settings.discount_rate=abc"]) == [
        "--set settings.discount_rate=abc | input should be a valid number, unable to parse string as a number "
        "(got 'abc'); discount rate r per year."]
    # an empty value unsets an optional setting
    assert load_case(folder, ["settings.firm_budget=5", "settings.firm_budget="]).settings.firm_budget is None
    assert problems(folder, ["sites.z.lat=1"])[0].startswith("--set sites.z.lat | no such parameter; did you mean")
    assert problems(folder, ["sites.a.lat"]) == ["--set sites.a.lat | has no '='; write PATH=VALUE, e.g. settings.discount_rate=0.06"]
    raw = apply_overrides(read_instance(folder), ["settings.discount_rate=0.05", "offers.sumco/wafer.price_per_unit=90"])
    inst = load_case(raw)
    assert inst.settings.discount_rate == 0.05
    assert inst["offers"]["price_per_unit"].tolist() == [90.0]


def test_a_missing_column_does_not_cause_false_reference_errors(tmp_path):
    found = problems(with_table(tmp_path, sites="id,lat,lon\na,33,131\nb,33.5,-112"))
    assert found == ["sites.csv | column 'country' is missing; add it (ISO 3166 alpha-2 code, e.g. JP, TW, US)"]


def test_header_without_a_name(tmp_path):
    folder = with_table(tmp_path)
    (folder / "markets.csv").write_text("id,country,lat,lon,\nm,JP,35,137,\n")
    assert problems(folder) == ["markets.csv column 5 | has no name in the header (a trailing comma?); name every "
                                "column in row 1 or remove the empty one"]


def test_rules_no_plan_can_meet(tmp_path):
    found = problems(with_table(tmp_path, inputs="id,unit,critical,min_suppliers,max_supplier_share\nwafer,wafer,true,2,0.5"))
    assert found == [
        "inputs.csv row 2 (id=wafer) column min_suppliers | 2 qualified suppliers are required but only 1 offer "
        "wafer; lower min_suppliers or add offers",
        "inputs.csv row 2 (id=wafer) column max_supplier_share | no supplier may exceed 50% but only 1 offer wafer, "
        "so their shares cannot add up to 100%; allow at least 100% or add offers",
    ]
