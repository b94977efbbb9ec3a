"""Site-level explain and breakeven: the site's own landed cost per wafer, moving the fab, a minimum
size, each against a hand-solved case.

MOVE: three sites, modules of 50 wafers (at most two each), 100 wafers of demand that must be met,
CRF 1 and plain USD, no other cost. Capex per module: a 60, b 45, c 55. By hand:
- optimum: b x 2 = 90;
- a forced open (today's smallest change): a x 1 + b x 1 = 105, so the lump sum is 15;
- the fab moved from b to a (a holds b's 100 wafers, b closed): a x 2 = 120, so moving costs 30.
  Only forcing a open and b closed would give a x 1 + c x 1 = 115: a token module, not a move;
- paid without the condition, 30 at a makes a x 1 + b x 1 cost 105 - 30 = 75 < 90: a beside b;
- a with at least 100 wafers (b allowed): a x 2 = 120, 30 more; at least 50: a + b = 105, 15 more.

FLIP (test_sweep): a costs 125 with a 10% grant (112.5 net), b 95, 100 wafers, CRF 1: explain at a
reads a's own 1.25 capex and -0.125 subsidy per wafer against b's 0.95 instead, +0.175 a wafer,
+17.5 a year; at b (open) the same with the sign turned: -0.175 a wafer, -17.5 a year.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from siting.analysis.breakeven import breakeven
from siting.cli import main
from siting.instance.read import read_instance
from siting.solve import load_profile
from tests.analysis.test_sweep import FLIP
from tests.helpers import write_instance

EXACT = load_profile("exact")

MOVE = {
    "sites": """
        id,country,lat,lon
        a,JP,33.0,131.0
        b,US,33.5,-112.0
        c,TW,23.0,120.0
    """,
    "products": """
        id
        chip
    """,
    "modules": """
        site,product,wafers_per_module,capex_per_module,max_modules
        a,chip,50,60,2
        b,chip,50,45,2
        c,chip,50,55,2
    """,
    "markets": """
        id,country,lat,lon
        m,JP,35.0,137.0
    """,
    "demand": """
        market,product,wafers_per_year
        m,chip,100
    """,
}


@pytest.fixture
def move(tmp_path):
    return write_instance(tmp_path / "move", MOVE)


def test_moving_the_fab_is_priced_beside_the_smallest_change(move):
    answer = breakeven(read_instance(move), "a", EXACT, instead_of="b")
    assert answer.offer == pytest.approx(15.0, abs=1e-6)  # today's answer: a token module beside b
    mv = answer.moves
    assert mv["min_capacity"] == 100 and mv["offer"] == pytest.approx(30.0, abs=1e-6)
    assert mv["offer_total"] == pytest.approx(30.0, abs=1e-6)
    assert mv["plan"] == "a (100 wafers/yr)"
    assert mv["unconditional_plan"] == "a (50 wafers/yr), b (50 wafers/yr)"
    assert any(line.startswith("moving the fab from b to a (100 wafers/yr or more at a, b closed) costs 30.000")
               for line in answer.more_words())


def test_a_minimum_size_is_priced_by_hand(move):
    for size, price, plan in ((100, 30.0, "a (100 wafers/yr)"), (50, 15.0, "a (50 wafers/yr), b (50 wafers/yr)")):
        answer = breakeven(read_instance(move), "a", EXACT, min_capacity=size)
        assert answer.sized["offer"] == pytest.approx(price, abs=1e-6), size
        assert answer.sized["plan"] == plan


def test_breakeven_cli_json_carries_the_move_and_the_size(move, capsys):
    assert main(["breakeven", str(move), "--site", "a", "--instead-of", "b", "--min-capacity", "100", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["offer"] == pytest.approx(15.0, abs=1e-6)
    assert out["moves"]["offer"] == pytest.approx(30.0, abs=1e-6)
    assert out["min_size"]["offer"] == pytest.approx(30.0, abs=1e-6)


@pytest.mark.parametrize("args, message", [
    (["--instead-of", "bb"], "--instead-of bb | is not a site of the instance; did you mean 'b'?"),
    (["--instead-of", "a"], "--instead-of a | is the site given with --site; name the site the fab would move away "
                            "from"),
    (["--min-capacity", "250"], "--min-capacity 250 | is more than a can hold (100 wafers/yr: its modules' size x "
                                "max_modules); give at most 100"),
])
def test_bad_move_questions_are_one_line(move, capsys, args, message):
    assert main(["breakeven", str(move), "--site", "a", *args]) == 2
    assert capsys.readouterr().err.strip() == message


def _explained(folder, tmp_path, *args) -> pd.DataFrame:
    out = tmp_path / "why"
    assert main(["explain", str(folder), *args, "--out", str(out)]) == 0
    return pd.read_csv(out / "explain.csv").set_index("category")


def test_explain_reads_the_site_on_its_own_output(tmp_path, capsys):
    flip = write_instance(tmp_path / "flip", FLIP)
    df = _explained(flip, tmp_path, "--site", "a")
    assert df.at["capex annuity", "at_site_per_wafer"] == pytest.approx(1.25)
    assert df.at["subsidy", "at_site_per_wafer"] == pytest.approx(-0.125)
    assert df.at["capex annuity", "instead_per_wafer"] == pytest.approx(0.95)
    assert df.at["total", "difference_per_wafer"] == pytest.approx(0.175)
    assert df.at["total", "difference_per_year"] == pytest.approx(17.5)
    out = " ".join(capsys.readouterr().out.split())
    assert ("the plan without a spends 0.95 USD per wafer of that output instead: a is 0.175 USD per wafer "
            "(17.500 USD/yr) dearer") in out


def test_explain_signs_agree_row_by_row(tmp_path):
    """At b (open in the optimum) the plan with b is the cheaper one: every row's per-wafer and
    per-year differences have the same sign, and the total is minus what b could lose (17.5)."""
    flip = write_instance(tmp_path / "flip", FLIP)
    df = _explained(flip, tmp_path, "--site", "b")
    assert df.at["total", "difference_per_year"] == pytest.approx(-17.5)
    assert df.at["total", "difference_per_wafer"] == pytest.approx(-0.175)
    for _, r in df.iterrows():
        assert r["difference_per_wafer"] * 100 == pytest.approx(r["difference_per_year"], abs=1e-9)


def test_explain_instead_of_moves_the_fab(move, tmp_path):
    df = _explained(move, tmp_path, "--site", "a", "--instead-of", "b")
    assert df.at["capex annuity", "at_site_per_wafer"] == pytest.approx(1.20)
    assert df.at["capex annuity", "instead_per_wafer"] == pytest.approx(0.90)
    assert df.at["total", "difference_per_year"] == pytest.approx(30.0)
    assert df.at["total", "without_site_per_year"] == pytest.approx(90.0)


# --- sweeps name every plan they saw ------------------------------------------------------------

def test_an_lhs_sweep_names_every_plan_with_its_case_ranges(tmp_path, capsys):
    """FLIP's a, at capex C with a grant at rate r, costs C (1 - r) against b's 95: it opens once r
    passes 1 - 95 / C, between 0.2339 (C = 124) and 0.2460 (C = 126). So every case that chose a
    lies above 0.2339 and every case that chose b below 0.2460, and the plans' ranges in plans.csv
    are those of their cases in sweep.csv."""
    flip = write_instance(tmp_path / "flip", FLIP)
    out = tmp_path / "lhs"
    assert main(["sweep", str(flip), "--param", "instruments.grant.rate=0:0.6:0.05", "--param",
                 "modules.a/chip.capex_per_module=124:126:1", "--method", "lhs", "--samples", "12", "--seed", "3",
                 "--workers", "1", "--out", str(out)]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    plans = pd.read_csv(out / "plans.csv")
    assert set(plans["plan"]) == {"a", "b"} and plans["cases"].sum() == 12
    sweep_table = pd.read_csv(out / "sweep.csv")
    for _, p in plans.iterrows():
        rates = sweep_table.loc[sweep_table["sites_open"] == p["plan"], "instruments.grant.rate"]
        assert p["cases"] == len(rates)
        assert p["instruments.grant.rate min"] == rates.min() and p["instruments.grant.rate max"] == rates.max()
        if p["plan"] == "a":
            assert rates.min() > 1 - 95 / 124
        else:
            assert rates.max() < 1 - 95 / 126
    most, other = plans["plan"].tolist()  # the plan most cases chose comes first
    n = int(plans["cases"].iloc[1])
    said = f"{other} opens and {most} closes ({other}) in {n} of 12 cases"
    html = (out / "report.html").read_text()
    assert "Plans the cases chose" in html and said in html
    assert f"{most} in {12 - n} of 12 cases: the plan most cases chose" in html
    assert "no switching point: every case opens the same sites" not in html
    assert "plans the cases chose" in printed and said in printed
