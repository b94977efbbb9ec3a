# ruff: noqa: E501  (expected messages are kept whole, one per line, as the tool prints them)
"""Rules the tables make vacuous: warned once each, in the `location | problem; fix` form.

The instance is the reliability corpus's small valid one (sites a in JP and b in US, one product
chip made of one input wafer, suppliers sumco in JP and gw in TW, a capex grant at a and a 50%
local target at a); each test adds or changes the rows that make one rule do nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from siting.cli import main
from siting.instance.derive import derive
from siting.instance.screens import screen
from siting.run import load_case
from tests.reliability.base import write_base

ROOT = Path(__file__).resolve().parents[2]
RESIST = dict(inputs="id,unit\nwafer,wafer\nresist,litre",
              offers="supplier,input,capacity_units_per_year,price_per_unit\nsumco,wafer,1000,100\ngw,wafer,1000,90\n"
                     "sumco,resist,10,5\ngw,resist,10,5")


def warnings(folder: Path, sets=()) -> list[str]:
    findings = screen(derive(load_case(folder, list(sets))))
    assert all(f.kind == "warning" for f in findings if f.rule == "vacuous")
    return [f.message for f in findings if f.rule == "vacuous"]


def test_the_base_instance_has_no_vacuous_rule(tmp_path):
    assert warnings(write_base(tmp_path / "inst")) == []


def test_jasm_has_no_vacuous_rule():
    assert warnings(ROOT / "instances" / "jasm") == []


def test_network_2030s_critical_inputs_require_nothing():
    """network-2030 marks four inputs critical ("dual sourcing" in their sources) but sets no
    min_suppliers, in the table or the settings: the flag requires nothing, and says so."""
    fix = "give min_suppliers (e.g. 2) or set settings.min_suppliers"
    assert warnings(ROOT / "instances" / "network-2030") == [
        f"inputs.csv row {n} (id={i}) column critical | is true but neither min_suppliers nor settings.min_suppliers "
        f"is set, so it requires nothing; {fix}"
        for n, i in ((2, "si-wafer"), (3, "photoresist"), (4, "specialty-gas"), (5, "wet-chem"))]


def test_the_starter_instance_has_no_vacuous_rule(tmp_path):
    from siting.instance.template import write_template

    assert warnings(write_template(tmp_path / "starter")) == []


@pytest.mark.parametrize("tables,sets,expected", [
    # resist is offered twice, and chip's bill of materials uses wafer only
    (RESIST, (), ["offers.csv rows 4, 5 (input=resist) | no bill of materials uses resist, so these offers are never bought; add resist to the bom of a product or remove the offers"]),
    (dict(inputs=RESIST["inputs"], offers=RESIST["offers"].rsplit("\n", 1)[0]), (),
     ["offers.csv row 4 (supplier=sumco, input=resist) | no bill of materials uses resist, so this offer is never bought; add resist to the bom of a product or remove the offers"]),
    # a bill of materials with no rows (a missing bom table is refused: tests/reliability/test_hostile_files.py)
    (dict(bom="product,input,units_per_wafer"), (), [
        "bom.csv | has no rows, so nothing is bought: the 2 offers are never used; add the bill of materials (product, input, units_per_wafer)",
        "local_targets.csv row 2 (site=a) | a can buy nothing that counts (no product a can make has a bill of materials), so its 50% target never binds; fix the tables that make it idle or remove the target"]),
    # a is closed: its target and the grant offered there never act
    ({}, ("sites.a.status=closed",), [
        "local_targets.csv row 2 (site=a) | a can buy nothing that counts (a is closed by its status), so its 50% target never binds; fix the tables that make it idle or remove the target",
        "instruments.csv row 2 (id=grant) | is offered only where it can never pay: a is closed by its status; offer it at a site that can open and produce, or remove it"]),
    # a holds no module: no capex to grant a share of, nothing to buy
    ({}, ("modules.a/chip.max_modules=0",), [
        "local_targets.csv row 2 (site=a) | a can buy nothing that counts (a has no modules row with max_modules above 0), so its 50% target never binds; fix the tables that make it idle or remove the target",
        "instruments.csv row 2 (id=grant) | is offered only where it can never pay: a has no modules row with max_modules above 0; offer it at a site that can open and produce, or remove it"]),
    # wafer, the only input, does not count for local
    ({}, ("inputs.wafer.counts_for_local=false",), [
        "local_targets.csv row 2 (site=a) | a can buy nothing that counts (no product a can make uses an input with counts_for_local true), so its 50% target never binds; fix the tables that make it idle or remove the target"]),
    # both suppliers are excluded at a: nothing reaches it
    (dict(exclusions="id,supplier_country,site\nno-jp,JP,a\nno-tw,TW,a"), (), [
        "local_targets.csv row 2 (site=a) | a can buy nothing that counts (no supplier can deliver wafer to a (no offer, or every one excluded)), so its 50% target never binds; fix the tables that make it idle or remove the target"]),
    # a lump sum pays on opening alone, so a site without modules does not make it vacuous
    (dict(instruments="id,kind,site,amount\nlump,lump_sum,a,5"), ("modules.a/chip.max_modules=0",), [
        "local_targets.csv row 2 (site=a) | a can buy nothing that counts (a has no modules row with max_modules above 0), so its 50% target never binds; fix the tables that make it idle or remove the target"]),
    (dict(instruments="id,kind,site,per_wafer,product\nps,production_subsidy,a,5,chip2",
          products="id\nchip\nchip2"), (), [
        "instruments.csv row 2 (id=ps) | pays for chip2, which no site it is offered at can make; add modules for it there or change the product"]),
    (dict(programs="id,budget\nchips,100"), (), [
        "programs.csv row 2 (id=chips) | no instrument names program chips, so its budget limits nothing; set program=chips on its instruments or remove the row"]),
    (dict(concentration="group_type,group,max_share\ncountry,KR,0.5\nhazard_zone,quake,0.5"), (), [
        "concentration.csv row 2 (group_type=country, group=KR) | no candidate site is in country KR, so the limit never binds; name a country of the sites or remove the row",
        "concentration.csv row 3 (group_type=hazard_zone, group=quake) | no candidate site is in hazard zone quake, so the limit never binds; name a hazard zone of the sites or remove the row"]),
    (dict(exclusions="id,supplier_country,supplier_flag\nx,CN,\ny,,red\nz,CN,red"), (), [
        "exclusions.csv row 2 (id=x) | no supplier is in country CN, so the rule excludes nothing; fix the country or flag, or remove the row",
        "exclusions.csv row 3 (id=y) | no supplier carries the flag 'red', so the rule excludes nothing; fix the country or flag, or remove the row",
        "exclusions.csv row 4 (id=z) | no supplier is in country CN or carries the flag 'red', so the rule excludes nothing; fix the country or flag, or remove the row"]),
    # wafer goes from JP and TW to JP and US; chip from JP and US to JP
    (dict(tariffs="from_country,to_country,item,duty_per_unit\nCN,JP,wafer,1\nTW,US,*,1\nTW,JP,wafer,1\nUS,JP,chip,1\nJP,US,chip,1"), (), [
        "tariffs.csv row 2 (from_country=CN, to_country=JP, item=wafer) | nothing can ship wafer from CN to JP, so this duty never applies; check the countries and the item, or remove the row",
        "tariffs.csv row 6 (from_country=JP, to_country=US, item=chip) | nothing can ship chip from JP to US, so this duty never applies; check the countries and the item, or remove the row"]),
    (dict(freight_rates="mode,item,rate_per_unit_km\nair,*,1"), (), [
        "freight_rates.csv row 2 (mode=air, item=*) | no product or input travels by air, so this rate is never used; set the mode column of products or inputs, or remove the row"]),
    (dict(lanes="origin,destination,item,cost_per_unit\nsumco,m,*,1\na,b,chip,2\nsumco,a,wafer,3\na,m,chip,4"), (), [
        "lanes.csv row 2 (origin=sumco, destination=m, item=*) | goes from a supplier to a market, which nothing travels (inputs go from suppliers to sites, wafers from sites to markets); fix the origin or destination, or remove the row",
        "lanes.csv row 3 (origin=a, destination=b, item=chip) | goes from a site to a site, which nothing travels (inputs go from suppliers to sites, wafers from sites to markets); fix the origin or destination, or remove the row"]),
    ({}, ("inputs.wafer.critical=true",), [
        "inputs.csv row 2 (id=wafer) column critical | is true but neither min_suppliers nor settings.min_suppliers is set, so it requires nothing; give min_suppliers (e.g. 2) or set settings.min_suppliers"]),
    ({}, ("inputs.wafer.min_suppliers=2",), [
        "inputs.csv row 2 (id=wafer) column min_suppliers | is 2 but critical is false, so it applies nowhere; set critical to true or clear min_suppliers"]),
    (dict(lanes="origin,destination,item,cost_per_unit\nsumco,a,chip,1\nsumco,a,wafer,1\nb,m,wafer,1\nb,m,chip,1",
          inputs="id,unit\nwafer,wafer\nresist,litre", bom="product,input,units_per_wafer\nchip,wafer,1\nchip,resist,1",
          offers="supplier,input,capacity_units_per_year,price_per_unit\nsumco,wafer,1000,100\ngw,wafer,1000,90\ngw,resist,1000,1"), (), [
        "lanes.csv row 2 (origin=sumco, destination=a, item=chip) | sumco offers no chip, so the lane carries nothing; fix the item or add the offer, or remove the row",
        "lanes.csv row 4 (origin=b, destination=m, item=wafer) | b cannot make wafer (no modules row), so the lane carries nothing; fix the item or add modules, or remove the row"]),
    ({}, ("settings.policy_country=KR",), [
        "--set settings.policy_country=KR | no site is in KR and no instrument is paid by it, so the policy maker's outlay and domestic capacity count nothing; give the country of a site or of a paying government"]),
])
def test_each_vacuous_rule_is_warned_once(tmp_path, tables, sets, expected):
    assert warnings(write_base(tmp_path / "inst", **tables), sets) == expected


def test_a_workbook_without_its_bom_sheet_is_refused_and_an_empty_one_warned(tmp_path, capsys):
    """The case of the issue: a workbook whose bom sheet was missing was "valid" and bought nothing.
    A missing sheet is now refused when offers and inputs are given; a bom sheet with no rows is
    valid but warned, by sheet."""
    import pandas as pd

    from tests.reliability.base import BASE

    def book(path, bom_rows):
        with pd.ExcelWriter(path) as xl:
            pd.DataFrame({"key": ["name", "money_unit", "discount_rate", "lifetime_years"],
                          "value": ["book", "one", "0", "1"]}).to_excel(xl, sheet_name="settings", index=False)
            for name, text in BASE.items():
                rows = [line.split(",") for line in text.splitlines()]
                if name == "bom":
                    if bom_rows is None:
                        continue
                    rows = rows[:1]
                pd.DataFrame(rows[1:], columns=rows[0]).to_excel(xl, sheet_name=name, index=False)
        return path

    missing = book(tmp_path / "missing.xlsx", None)
    assert main(["validate", str(missing)]) == 2
    assert capsys.readouterr().err.rstrip("\n") == (
        "missing.xlsx | sheet 'bom' is missing, but offers and inputs are given: without it no input is ever "
        "bought; add a sheet named bom (Bill of materials a[p,i])")
    empty = book(tmp_path / "book.xlsx", [])
    assert warnings(empty) == [
        "book.xlsx[bom] | has no rows, so nothing is bought: the 2 offers are never used; add the bill of materials (product, input, units_per_wafer)",
        "book.xlsx[local_targets] row 2 (site=a) | a can buy nothing that counts (no product a can make has a bill of materials), so its 50% target never binds; fix the tables that make it idle or remove the target"]
    assert main(["validate", str(empty)]) == 0
    assert "warning: book.xlsx[bom] | has no rows" in capsys.readouterr().out


def test_a_policy_country_with_a_site_there_is_not_vacuous(tmp_path):
    assert warnings(write_base(tmp_path / "inst"), ["settings.policy_country=US"]) == []


def test_validate_prints_the_warnings_and_exits_0(tmp_path, capsys):
    folder = write_base(tmp_path / "inst", **RESIST)
    code = main(["validate", str(folder)])
    out, err = capsys.readouterr()
    assert code == 0 and err == ""
    assert out.splitlines() == [
        "t: valid (2 sites, 2 site-products, 1 demand rows, 4 offers, 2 routes, 4 supply arcs; model built: 17 columns (8 integer), 27 rows, 57 nonzeros)",
        "warning: offers.csv rows 4, 5 (input=resist) | no bill of materials uses resist, so these offers are never bought; add resist to the bom of a product or remove the offers"]


def test_a_solve_prints_the_warnings_and_lists_them_in_the_summary(tmp_path, capsys):
    """The plan is unchanged by the unused resist offers: the same objective as without them."""
    folder = write_base(tmp_path / "inst", **RESIST)
    line = ("offers.csv rows 4, 5 (input=resist) | no bill of materials uses resist, so these offers are never "
            "bought; add resist to the bom of a product or remove the offers")
    code = main(["solve", str(folder), "--out", str(tmp_path / "out"), "--json"])
    out, _ = capsys.readouterr()
    assert code == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    vacuous = [f for f in summary["screens"] if f["rule"] == "vacuous"]
    assert vacuous == [{"kind": "warning", "rule": "vacuous", "where": "offers.csv rows 4, 5 (input=resist)",
                        "required": None, "best": None, "unit": None, "found_by": "pre-solve screen",
                        "alternative": False, "message": line}]
    plain = write_base(tmp_path / "plain")
    assert main(["solve", str(plain), "--out", str(tmp_path / "out2"), "--json"]) == 0
    capsys.readouterr()
    other = json.loads((tmp_path / "out2" / "summary.json").read_text())
    assert summary["objective"] == pytest.approx(other["objective"], rel=1e-9)
    assert main(["solve", str(folder), "--out", str(tmp_path / "out3")]) == 0
    out, _ = capsys.readouterr()
    assert f"warning: {line}" in " ".join(out.split())
