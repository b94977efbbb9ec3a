"""The analyses on a phased instance, each against a hand-solved value or a second method.

The case (``LATE``): two one-year periods, 2025 and 2026, at r = 10% with a lifetime of one year
(CRF 1.1: capital ordered in a period costs 1.1 x capex in that year's money, and a year later it
is worth 1.1^-1 of that). Demand is 100 wafers in 2026 only. Site a (no lead time) has a module of
100 wafers for 100: ordered in 2026 it costs 1.1 x 100 / 1.1 = 100. Site b has a free module but a
fixed cost of 120 and a lead time of one year: it must open in 2025 to produce in 2026, costing
1.1 x 120 = 132 (opening it in 2026 as well as ordering a costs more). The optimum opens a: 100.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from siting.analysis.alternatives import alternatives
from siting.analysis.breakeven import OFFER_ID, breakeven
from siting.analysis.frontier import compute_frontier
from siting.analysis.robustness import robustness
from siting.cli import main
from siting.instance.designs import Package, apply_package
from siting.instance.read import read_instance
from siting.solve import load_profile
from tests.helpers import solve, write_instance
from tests.model.test_risk import HAND as RISK_HAND

LATE = {
    "sites": "id,country,lat,lon,fixed_cost,lead_time_years\na,JP,33,131,0,0\nb,US,33,131,120,1",
    "products": "id\nchip",
    "markets": "id,country,lat,lon\nm,JP,33,131",
    "periods": "id,start_year,years\np1,2025,1\np2,2026,1",
    "modules": "site,product,wafers_per_module,capex_per_module,max_modules\na,chip,100,100,1\nb,chip,100,0,1",
    "demand": "market,product,period,wafers_per_year\nm,chip,p2,100",
}
MONEY = {"discount_rate": 0.1, "lifetime_years": 1}


@pytest.fixture
def late(tmp_path) -> Path:
    return write_instance(tmp_path / "late", LATE, MONEY)


def _opens(raw, amount: float, paid: str) -> bool:
    offer = {"id": OFFER_ID, "kind": "lump_sum", "site": "b", "amount": amount, "paid": paid, "source": "test"}
    run = solve(apply_package(raw, Package("t", add=(offer,), origin="test")))
    return bool(run.results.tables["sites"].set_index("site").at["b", "open"])


@pytest.mark.parametrize(("paid", "amount", "worth"), [("on_order", 32 / 1.1, 32.0), ("on_start", 32.0, 32.0)])
def test_breakeven_lump_sum_is_a_present_value(late, paid, amount, worth):
    """The gap is 132 - 100 = 32 in present value. A lump sum at b paid on opening (2025) is worth
    1.1 per unit (it offsets capital, annualised like it): 32 / 1.1 = 29.09. Paid on the start of
    production (2026) it is worth 1.1 / 1.1 = 1 per unit: 32. Opening b in 2026 instead earns no
    more (its capacity would produce after the horizon). The plan flips exactly there: a hair less
    keeps a, a hair more opens b."""
    raw = read_instance(late)
    answer = breakeven(raw, "b", load_profile("exact"), "lump", paid=paid)
    assert answer.exact and answer.level == pytest.approx(amount, rel=1e-9)
    assert answer.offer == pytest.approx(worth, rel=1e-5) and answer.offer_total == pytest.approx(amount, rel=1e-5)
    assert answer.plan.startswith("b")
    assert not _opens(raw, amount * (1 - 1e-5), paid) and _opens(raw, amount * (1 + 1e-5), paid)


@pytest.mark.slow
def test_breakeven_grant_rate_bisects_to_the_hand_solved_rate(late):
    """A capex grant at b on its fixed cost: rate x 1.1 x 120 must exceed 32: rate > 32 / 132 = 0.2424."""
    answer = breakeven(read_instance(late), "b", load_profile("exact"), "grant-rate", tolerance=1e-3)
    assert not answer.exact and answer.level == pytest.approx(32 / 132, abs=1e-3)
    assert answer.offer == pytest.approx(32.0, rel=1e-2)


def test_breakeven_on_a_phased_instance_from_the_cli(late, capsys):
    """The console states the nominal amount, when it is paid and its present value, without /yr."""
    assert main(["breakeven", str(late), "--site", "b", "--paid", "on_start"]) == 0
    out = capsys.readouterr().out
    assert "b opens with a lump sum of more than 32.000 USD paid when its capacity first produces" in out
    assert "worth 32.000 USD in present value" in out and "USD/yr" not in out


def test_breakeven_refuses_an_unknown_payment_schedule(late, capsys):
    assert main(["breakeven", str(late), "--site", "b", "--paid", "later"]) == 2
    assert "--paid later | is not a payment schedule of an offer; use on_order or on_start" in capsys.readouterr().err


def test_compare_reports_present_values(late, tmp_path, capsys):
    """A lump sum of 40 at b paid on opening: b opens in 2025 for 132 - 1.1 x 40 = 88, the outlay
    worth 44 in present value (40 undiscounted)."""
    designs = tmp_path / "designs.yaml"
    designs.write_text("packages:\n  lump40:\n    description: a lump sum at b\n    replace:\n"
                       "      - {id: lump, kind: lump_sum, site: b, amount: 40}\n", encoding="utf-8")
    out = tmp_path / "cmp"
    assert main(["compare", str(late), "--designs", str(designs), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "firm cost (net present value) and outlay (present value) in USD" in printed
    df = pd.read_csv(out / "compare.csv").set_index("package")
    assert df.at["none", "firm_cost"] == pytest.approx(100.0, rel=1e-9)
    assert df.at["lump40", "firm_cost"] == pytest.approx(88.0, rel=1e-9)
    assert df.at["lump40", "outlay_present_value"] == pytest.approx(44.0, rel=1e-9)
    assert df.at["lump40", "outlay_total"] == pytest.approx(40.0, rel=1e-9)
    assert df.at["lump40", "outlay_present_value_vs_none"] == pytest.approx(44.0, rel=1e-9)


def test_sweep_patched_cases_equal_rebuilt_ones(late, tmp_path):
    """b's fixed cost F from 60 to 140: the firm cost is min(1.1 F, 100) (b below F = 90.9, a
    above). Patched cases (the sweep's default) give the same table as rebuilding every case."""
    args = ["--param", "sites.b.fixed_cost=60:140:10", "--workers", "1"]
    assert main(["sweep", str(late), *args, "--out", str(tmp_path / "patched")]) == 0
    assert main(["sweep", str(late), *args, "--no-patch", "--out", str(tmp_path / "rebuilt")]) == 0
    patched, rebuilt = (pd.read_csv(tmp_path / f / "sweep.csv") for f in ("patched", "rebuilt"))
    assert (patched["model"] == "patched").any() and (rebuilt["model"] == "rebuilt").all()
    hand = [min(1.1 * f, 100.0) for f in patched["sites.b.fixed_cost"]]
    assert patched["objective"].tolist() == pytest.approx(hand, rel=1e-9)
    assert rebuilt["objective"].tolist() == pytest.approx(hand, rel=1e-9)
    assert patched["sites_open"].tolist() == rebuilt["sites_open"].tolist()
    assert patched["sites_open"].tolist() == ["b"] * 4 + ["a"] * 5
    assert patched["checks_passed"].all()


def test_explain_gives_the_levelised_cost_per_wafer(late, tmp_path):
    """Per wafer over the horizon: 100 wafers in 2026 are worth 100 / 1.1 = 90.909 discounted
    wafers. The optimum's capex of 100 (present value) is 1.1 a wafer; b forced open costs 132:
    1.452 a wafer; the difference in present value is 32, the break-even lump sum's worth."""
    out = tmp_path / "why"
    assert main(["explain", str(late), "--site", "b", "--out", str(out)]) == 0
    df = pd.read_csv(out / "explain.csv").set_index("category")
    assert df.at["capex annuity", "optimum_per_wafer"] == pytest.approx(1.1, rel=1e-9)
    assert df.at["capex annuity", "counterfactual_per_wafer"] == pytest.approx(1.452, rel=1e-9)
    assert df.at["total", "difference_per_year"] == pytest.approx(32.0, rel=1e-9)


#: tests/model/test_risk.py's two sites and two scenarios with a first period in which nothing is
#: demanded: at r = 0 and a lifetime of one year every plan costs what it costs in the snapshot
#: (capital counts once, in the year it is ordered; operations run in 2026 only), so the figures
#: derived there hold: a alone E 380 (CVaR at 0.8: 1100), b alone 400 (400), both 420 (500);
#: VSS 0 and EVPI 380 - 240 = 140 at risk weight 0.
RISKY = dict(RISK_HAND, periods="id,start_year,years\np1,2025,1\np2,2026,1",
             demand="market,product,period,wafers_per_year,penalty_per_wafer\nm,chip,p2,100,10")


@pytest.fixture
def risky(tmp_path) -> Path:
    return write_instance(tmp_path / "risky", RISKY, {"cvar_level": 0.8})


def test_frontier_on_a_phased_instance(risky):
    """Three points, as the snapshot's hand-solved frontier: limits 1100, 750 and 400 give a, b, b."""
    t = compute_frontier(risky, load_profile("exact"), measure="cvar", points=3).table
    assert t["sites_open"].tolist() == ["a", "b", "b"]
    assert t["expected_cost"].tolist() == pytest.approx([380.0, 400.0, 400.0])
    assert t["measure"].tolist() == pytest.approx([1100.0, 400.0, 400.0])


def test_risk_report_on_a_phased_instance(risky, tmp_path, capsys):
    """VSS 0 and EVPI 140 (wait-and-see: nominal 200, quake 400), in present value."""
    assert main(["solve", str(risky), "--risk-report", "--profile", "exact", "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "value of the stochastic solution (VSS): 0.000 USD (present value) (2 solves)" in out
    assert "expected value of perfect information (EVPI): 140.000 USD (present value) (2 solves)" in out


@pytest.mark.slow
def test_progressive_hedging_on_a_phased_instance(risky):
    """PH over two ranks reaches the extensive form's plan, a at 380 (its consensus, 0.8 on a,
    rounds to a in 2026 or earlier), with the wait-and-see bound 240 as PH's trivial bound and the
    hub's bound (the Lagrangian spoke's, if higher) between it and the optimum 380; the phased first
    stage holds the site open by each period (build_early) beside build, modules and qualifications."""
    pytest.importorskip("mpisppy")
    pytest.importorskip("mpi4py")
    from siting.decompose import solve_by_ph

    run = solve_by_ph(read_instance(risky), risky, load_profile("exact"), [], ranks=2, ph={"iterations": 10})
    assert run.violations == [] and run.outcome.status == "feasible"
    assert run.outcome.objective == pytest.approx(380.0, abs=1e-6)
    assert run.decomposition["trivial_bound"] == pytest.approx(240.0, abs=1e-6)
    assert 240.0 - 1e-6 <= run.outcome.best_bound <= 380.0 + 1e-6
    sites = run.results.tables["sites"]
    assert sites.loc[sites["open"], "site"].tolist() == ["a"]


def test_alternatives_on_a_phased_instance(risky):
    """The three plans by expected cost: a 380, b 400 (+5.26%), both 420 (+10.53%)."""
    result = alternatives(read_instance(risky), load_profile("exact"), within=0.2, count=5)
    t = result.table
    assert t["open_sites"].tolist() == ["a", "b", "a;b"]
    assert t["objective"].tolist() == pytest.approx([380.0, 400.0, 420.0])
    assert result.words()[0] == "optimum: a alone: 380.000 USD (optimal)"


def test_robustness_on_a_phased_instance(risky):
    """Each scenario's own best: nominal a (200), quake b (400). The optimum a costs 1100 in the
    quake: regret 700; b regrets 400 - 200 = 200 in the nominal scenario, and no plan does better
    (both sites: 200 and 100), so the minimax regret is 200."""
    result = robustness(read_instance(risky), load_profile("exact"))
    t = result.table.set_index("plan")
    assert result.best.to_dict() == pytest.approx({"nominal": 200.0, "quake": 400.0})
    assert t.at["optimum", "max_regret"] == pytest.approx(700.0)
    assert t.loc[result.minimax, "max_regret"] == pytest.approx(200.0)
    assert result.per == ""


def test_the_phased_flagship_designs_apply():
    """Every package of instances/jasm-phased/designs.yaml applies to the instance and passes its
    checks (compare checks them all before it solves any)."""
    from siting.instance.designs import read_designs
    from siting.run import load_case

    root = Path(__file__).resolve().parents[2] / "instances" / "jasm-phased"
    raw = read_instance(root)
    packages = read_designs(root / "designs.yaml")
    assert len(packages) >= 6
    for package in packages:
        load_case(apply_package(raw, package))
