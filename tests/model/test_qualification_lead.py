"""Supplier qualification lead times on a phased instance, solved on paper, and the check that
finds a purchase made before the lead time has passed."""

from __future__ import annotations

import pytest

from siting.report.verify_periods import verify_phased
from tests.helpers import solve, write_instance

#: Three one-year periods 2025-2027 at r = 10%, lifetime 1 (CRF 1.1). One site (a free module of
#: 100 wafers) serves 100 wafers in 2027 only; each wafer takes one unit of gas. The Japanese plant
#: lg sells at 3 and costs 10 to qualify; the US plant fg sells at 1 with nothing to qualify. The
#: site must buy 50% of its gas spend locally in 2027: 3 q_l >= 0.5 (3 q_l + q_f) with
#: q_l + q_f = 100 gives q_l = 25, q_f = 75, 150 of purchases in 2027, worth 150 / 1.21 = 123.967.
LEAD = {
    "sites": "id,country,lat,lon\na,JP,33,131",
    "products": "id\nchip",
    "markets": "id,country,lat,lon\nm,JP,33,131",
    "periods": "id,start_year,years\ny25,2025,1\ny26,2026,1\ny27,2027,1",
    "modules": "site,product,wafers_per_module,capex_per_module,max_modules\na,chip,100,0,1",
    "demand": "market,product,period,wafers_per_year\nm,chip,y27,100",
    "inputs": "id,unit\ngas,m3",
    "bom": "product,input,units_per_wafer\nchip,gas,1",
    "suppliers": "id,country,lat,lon,qualification_cost,qualification_lead_years\n"
                 "lg,JP,33,131,10,{lead}\nfg,US,33,131,0,0",
    "offers": "supplier,input,capacity_units_per_year,price_per_unit{col}\nlg,gas,1000,3{val}\nfg,gas,1000,1{val}",
    "local_targets": "site,period,target\na,y27,0.5",
}
MONEY = {"discount_rate": 0.1, "lifetime_years": 1}


def _case(tmp_path, lead="0", offer_lead=None):
    col, val = ("", "") if offer_lead is None else (",qualification_lead_years", f",{offer_lead}")
    tables = dict(LEAD, suppliers=LEAD["suppliers"].format(lead=lead),
                  offers=LEAD["offers"].format(col=col, val=val))
    return solve(write_instance(tmp_path, tables, MONEY))


def _qualified(run) -> dict:
    q = run.results.tables["qualification"]
    return {t: bool(v) for u, t, v in zip(q["supplier"], q["period"], q["qualified"]) if u == "lg"}


def test_no_lead_time_qualifies_in_the_year_of_purchase(tmp_path):
    """Qualified in 2027: 1.1 x 10 / 1.21 = 9.091; total 123.967 + 9.091 = 133.058."""
    run = _case(tmp_path)
    assert run.outcome.objective == pytest.approx(150 / 1.21 + 11 / 1.21, rel=1e-9)
    assert _qualified(run)["y27"] and not _qualified(run).get("y26", False)


@pytest.mark.parametrize(("lead", "offer_lead"), [("2", None), ("0", "2"), ("0", "1.5")])
def test_a_lead_time_forces_an_earlier_qualification(tmp_path, lead, offer_lead):
    """A lead time of two years (the supplier's, or the offer's; 1.5 years needs the same, 2025
    being the latest period that starts 1.5 years or more before 2027): lg must be qualified in 2025,
    1.1 x 10 = 11 then, and the site open from 2025 (it costs nothing): 123.967 + 11 = 134.967."""
    run = _case(tmp_path, lead, offer_lead)
    assert run.outcome.objective == pytest.approx(150 / 1.21 + 11, rel=1e-9)
    qualified = _qualified(run)
    assert qualified["y25"] and all(qualified.values())
    assert run.violations == []


def test_a_lead_time_beyond_the_horizon_leaves_no_local_gas(tmp_path):
    """Three years before 2027 is before the horizon: lg can never deliver, the 50% target cannot be met."""
    run = _case(tmp_path, "3")
    assert run.outcome.status == "infeasible"


def test_the_check_finds_a_purchase_before_the_lead_time(tmp_path):
    """The solved plan of the two-year case, checked as if the supplier's lead time were three years."""
    run = _case(tmp_path, "2")
    inst = run.instance
    sup = inst.tables["suppliers"].copy()
    sup["qualification_lead_years"] = [3.0, 0.0]
    inst.tables["suppliers"] = sup
    found = verify_phased(inst, run.results, run.outcome.objective)
    assert "qualification lead (lg, a): buys gas in y27 but was not qualified before the horizon (3 years before)" \
        in found, found
