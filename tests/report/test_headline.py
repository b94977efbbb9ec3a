"""The headline paragraph: every fact it states is checked against the solution's own tables, and
the runner-up's flip amount against a second method (the break-even analysis's forced solve)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from siting.analysis.alternatives import runner_up
from siting.analysis.breakeven import breakeven
from siting.cli import main
from siting.instance.read import read_instance
from siting.report.headline import headline
from siting.run import run_case
from siting.solve import load_profile
from tests.helpers import write_instance

ROOT = Path(__file__).resolve().parent.parent.parent
JASM = ROOT / "instances" / "jasm"

# Two sites of one module of 100 wafers each and 250 wafers of demand at a penalty far above any
# cost: both sites open (each module saves 100 x 1e6 of penalty for far less), and 50 wafers stay
# unmet because every site that can make the chip is at its module limit. With both open there is
# no runner-up that opens another site, and closing one leaves 100 more wafers unmet: the
# runner-up closes a site and costs 100 x 1e6 = 1e8 a year more, less that site's own cost (a
# module's capex and 100 wafers' inputs at 12 each: a few thousand).
SHORT = {
    "sites": "id,country,lat,lon\nkumamoto,JP,32.88,130.83\nphoenix,US,33.78,-112.16",
    "products": "id\nchip",
    "modules": "site,product,wafers_per_module,capex_per_module,max_modules\nkumamoto,chip,100,100,1\n"
               "phoenix,chip,100,500,1",
    "markets": "id,country,lat,lon\nm,JP,35.68,139.77",
    "demand": "market,product,wafers_per_year,penalty_per_wafer\nm,chip,250,1000000",
    "inputs": "id,unit\nwafer,wafer",
    "bom": "product,input,units_per_wafer\nchip,wafer,1",
    "suppliers": "id,country,lat,lon\nlocal,JP,33.27,129.88",
    "offers": "supplier,input,capacity_units_per_year,price_per_unit\nlocal,wafer,1000,12",
}


@pytest.fixture(scope="module")
def jasm(tmp_path_factory):
    out = tmp_path_factory.mktemp("jasm") / "out"
    assert main(["solve", str(JASM), "--out", str(out)]) == 0
    return out


def test_jasm_headline_states_the_plan_and_limits_of_its_own_tables(jasm):
    import pandas as pd

    summary = json.loads((jasm / "summary.json").read_text())
    head = summary["headline"]
    sites = pd.read_csv(jasm / "sites.csv")
    opened = sites[sites["open"]]
    assert [s["site"] for s in head["plan"]["open"]] == list(opened["site"])
    assert [s["capacity_wafers_per_year"] for s in head["plan"]["open"]] == list(opened["capacity_wafers_per_year"])
    assert head["plan"]["closed"] == list(sites.loc[~sites["open"], "site"])
    cap = pd.read_csv(jasm / "capacity.csv")
    built = cap[cap["modules"] > 0]
    assert head["plan"]["open"][0]["modules"] == dict(zip(built["product"], built["modules"]))
    text = head["text"]
    for _, r in opened.iterrows():
        assert f"{r['site']} ({r['capacity_wafers_per_year']:,.0f} wafers/yr" in text
    assert f"at a firm cost of {summary['objective']:,.1f} {summary['units']['money']}/yr" in text
    # every binding limit named is a row of shadow_prices.csv with the same marginal value
    shadow = pd.read_csv(jasm / "shadow_prices.csv")
    local = shadow[shadow["constraint"] == "local_share"].iloc[0]
    assert f"the 60% local-share target at kumamoto (one more point costs {local['more']:,.3f}" in text
    named = [b for b in head["binding"] if b["constraint"] == "supplier_capacity"]
    for b in named:
        row = shadow[(shadow["supplier"] == b["supplier"]) & (shadow["input"] == b["input"])].iloc[0]
        assert b["more"] == pytest.approx(row["more"]) and b["less"] == pytest.approx(row["less"])
    top = max(named, key=lambda b: -b["more"])
    assert f"{top['supplier']}'s {top['input']} capacity (one more unit/yr saves {-top['more']:,.2f} USD/yr)" in text
    assert head["unmet"]["expected_wafers_per_year"] == pytest.approx(summary["unmet_demand"], abs=1e-6)
    assert "All demand is met." in text
    assert f"Status: optimal (gap {summary['mip_gap']:.4%}" in text
    # and the console opens with the same paragraph (first words, wrapped at the console's width)
    assert head["text"].startswith("Open kumamoto (660,000 wafers/yr")


def test_jasm_runner_up_flip_equals_the_forced_open_break_even():
    """The runner-up's lump sum (one cut re-solve) is the break-even analysis's answer for the same
    site, which solves the forced-open case from scratch: two methods, one number."""
    options = load_profile("exact")
    base = run_case(JASM, options, keep_compiled=True)
    r = runner_up(base, options)
    assert r["found"] and r["lump_sum_site"]
    be = breakeven(read_instance(JASM), r["lump_sum_site"], options)
    assert be.direction == "opens"
    assert r["lump_sum_per_year"] == pytest.approx(be.offer, abs=r["within"] + be.within + 1e-6)
    assert r["lump_sum_total"] == pytest.approx(be.offer_total, rel=1e-6, abs=1e-3)
    assert r["difference"] == pytest.approx(r["objective"] - base.outcome.objective)
    base.runner_up = r
    text = headline(base)["text"]
    assert (f"a lump sum above {r['lump_sum_total']:,.3f} USD million paid on opening {r['lump_sum_site']}"
            in text)


def test_unmet_demand_at_the_module_limit_is_said_with_its_reason(tmp_path):
    options = load_profile("exact")
    base = run_case(write_instance(tmp_path / "short", SHORT), options, keep_compiled=True)
    base.runner_up = runner_up(base, options)
    head = headline(base)
    assert [s["site"] for s in head["plan"]["open"]] == ["kumamoto", "phoenix"]
    unmet = head["unmet"]
    assert unmet["expected_wafers_per_year"] == pytest.approx(50)
    assert unmet["share_of_demand"] == pytest.approx(0.2)
    assert unmet["by_product"][0]["at_module_limit"] is True
    assert "Unmet demand: 50 wafers/yr (20.0% of demand). chip 50 wafers/yr: every site that can make chip is " \
           "at its module limit." in head["text"]
    # the runner-up closes a site: 100 more wafers unmet at 1e6 each, less the closed site's own
    # cost; no offer on opening can flip to it
    r = head["runner_up"]
    assert r["found"] and not r["lump_sum_site"]
    assert 1e8 - 1e4 < r["difference"] < 1e8
    assert "an offer on opening cannot close a site" in head["text"]


def test_no_runner_up_flag_skips_the_extra_solve_and_says_so(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["solve", str(write_instance(tmp_path / "short", SHORT)), "--out", str(out), "--no-runner-up"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert "runner_up" not in summary["times"]
    assert summary["headline"]["runner_up"] == {}
    assert "The runner-up was not searched (--no-runner-up)" in summary["headline"]["text"]
    html = (out / "report.html").read_text()
    assert '<p class="headline">Open 2 sites: kumamoto (100 wafers/yr: 1 chip module)' in html


def test_no_output_of_the_flagship_holds_round_off_dust_or_a_negative_zero(jasm):
    """The objective's scaling leaves e.g. -2.1e-11 in the unmet penalty, which is zero: no CSV of
    the run, no figure of summary.json and no cell of the report may show it."""
    import re

    costs = dict(line.split(",") for line in (jasm / "costs.csv").read_text().splitlines()[1:])
    assert costs["unmet_penalty"] == "0" and costs["tariffs"] == "0"
    dust = re.compile(r"(?<![\w.])-?\d\.\d+e-(1[0-9]|[2-9][0-9])\b")
    negative_zero = re.compile(r"(?<![\w.])-0(\.0+)?(?![\d.])")
    for path in sorted(jasm.glob("*.csv")):
        text = path.read_text()
        assert not dust.search(text), (path.name, dust.search(text).group(0))
        assert not negative_zero.search(text), path.name
    summary = json.loads((jasm / "summary.json").read_text())
    assert summary["costs"]["unmet_penalty"] == 0.0 and str(summary["costs"]["unmet_penalty"]) == "0.0"
    assert not negative_zero.search(re.sub(r"<[^>]*>", " ", (jasm / "report.html").read_text()))


def test_tidy_costs_clears_dust_relative_to_the_breakdown_and_keeps_small_real_amounts():
    from siting.report.extract import tidy_costs

    tidy = tidy_costs({"capex": 1281.6, "unmet_penalty": -2.1e-11, "freight": 1e-4, "risk": -0.0})
    assert tidy == {"capex": 1281.6, "unmet_penalty": 0.0, "freight": 1e-4, "risk": 0.0}
    assert str(tidy["risk"]) == "0.0" and str(tidy["unmet_penalty"]) == "0.0"


def test_unmet_demand_cheaper_than_serving_is_said_with_its_penalty(tmp_path):
    """At a penalty of 1 a wafer no module (capex 100 for 100 wafers, inputs at 12 a wafer) pays
    for itself: nothing opens and all 250 wafers stay unmet, though both sites could build."""
    cheap = dict(SHORT, demand="market,product,wafers_per_year,penalty_per_wafer\nm,chip,250,1")
    run = run_case(write_instance(tmp_path / "cheap", cheap), load_profile("exact"))
    head = headline(run)
    assert head["plan"]["open"] == [] and head["text"].startswith("Open no site at a firm cost of 250.0 USD/yr")
    assert head["unmet"]["by_product"][0]["at_module_limit"] is False
    assert head["unmet"]["by_product"][0]["penalty_per_wafer"] == pytest.approx(1.0)
    assert ("Unmet demand: 250 wafers/yr (100.0% of demand). chip 250 wafers/yr cost more to serve than its "
            "penalty (1 USD per wafer), though more capacity could be built.") in head["text"]


def test_unmet_demand_held_back_by_a_site_resource_names_it(tmp_path):
    """SHORT with 200 wafers of demand and phoenix's water for 60 of its 100 wafers (one m3/day a
    wafer, none to buy). At the penalty of 1e6 both sites open and make every wafer they can:
    kumamoto 100, phoenix 60, so 40 stay unmet, held back by the water, not by the modules (phoenix's
    module is 40% idle) or the penalty. A drought (probability 0.5) halves the water to 30: 70 unmet.
    Expected: 0.5 x 40 + 0.5 x 70 = 55 of 200 (27.5%)."""
    tables = dict(SHORT, demand="market,product,wafers_per_year,penalty_per_wafer\nm,chip,200,1000000",
                  resources="id,site,kind,unit,limit\nphoenix-water,phoenix,water,m3/day,60",
                  resource_use="resource,product,per_wafer\nphoenix-water,chip,1",
                  scenarios="id,probability\nnominal,0.5\ndrought,0.5",
                  scenario_effects="scenario,target,by,match,multiplier\ndrought,resource,id,phoenix-water,0.5")
    head = headline(run_case(write_instance(tmp_path / "water", tables), load_profile("exact"), duals=False))
    unmet = head["unmet"]
    assert unmet["expected_wafers_per_year"] == pytest.approx(0.5 * 40 + 0.5 * 70)
    product = unmet["by_product"][0]
    assert product["resources_drawn_out"] == ["phoenix/phoenix-water"]
    assert product["scenarios"] == ["drought", "nominal"]
    assert ("Unmet demand: 55 wafers/yr expected (27.5% of demand). chip 55 wafers/yr: the site resource "
            "phoenix-water at phoenix is used to the full (the limit and any extra supply).") in head["text"]
