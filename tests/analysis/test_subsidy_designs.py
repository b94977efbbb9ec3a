"""Policy packages, break-even offers and counterfactuals, each against a hand-solved answer or
separate solves of the same data.

FLIP (test_sweep): a costs 125, b 95 (CRF 1, plain USD, 100 wafers); a 10% grant at a leaves a at
112.5, so b opens at 95. Hand-solved break-evens at a: a lump sum of 112.5 - 95 = 17.5; a second
capex grant of 17.5 / 125 = 14%; a production subsidy of 17.5 / 100 wafers = USD 0.175 per wafer.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from siting.analysis.breakeven import breakeven
from siting.analysis.compare import compare
from siting.cli import main
from siting.instance.designs import apply_package, read_designs
from siting.instance.read import read_instance
from siting.solve import load_profile
from tests.analysis.test_sweep import FLIP
from tests.helpers import solve, write_instance
from tests.report.test_network_report import assert_self_contained

ROOT = Path(__file__).resolve().parents[2]
EXACT = load_profile("exact")
LUMP = 112.5 - 95


@pytest.fixture
def flip(tmp_path) -> Path:
    return write_instance(tmp_path / "flip", FLIP)


def opened(run) -> list[str]:
    t = run.results.tables["sites"]
    return t.loc[t["open"], "site"].tolist()


def with_lump(folder: Path, amount: float):
    raw = read_instance(folder)
    return solve_raw(apply_package(raw, _add({"id": "x", "kind": "lump_sum", "site": "a", "amount": amount})))


def _add(row: dict):
    from siting.instance.designs import Package

    return Package("test", add=(row,), origin="test")


def solve_raw(raw):
    from siting.run import run_case

    return run_case(raw, EXACT, duals=False)


# --- break-even -------------------------------------------------------------------------------

def test_lump_sum_break_even_is_the_hand_solved_gap(flip):
    answer = breakeven(read_instance(flip), "a", EXACT)
    assert answer.direction == "opens"
    assert answer.offer == pytest.approx(LUMP, abs=1e-6)
    assert answer.offer_total == pytest.approx(LUMP, abs=1e-6)  # CRF = 1
    assert [s["what"] for s in answer.solves] == ["optimum", "a forced open", "with the offer"]
    assert answer.plan.startswith("a ")


@pytest.mark.parametrize("eps, opens", [(1e-3, True), (-1e-3, False)])
def test_the_break_even_lump_sum_plus_epsilon_opens_the_site_and_minus_epsilon_does_not(flip, eps, opens):
    offer = breakeven(read_instance(flip), "a", EXACT).offer_total
    assert ("a" in opened(with_lump(flip, offer + eps))) is opens


def test_break_even_on_the_flagship_opens_chitose_just_above_and_not_below():
    """Chitose is closed in JASM's optimum; the computed lump sum, 0.01% above and below."""
    jasm = ROOT / "instances" / "jasm"
    answer = breakeven(read_instance(jasm), "chitose", EXACT)
    assert answer.direction == "opens" and answer.offer > 0
    raw = read_instance(jasm)
    for factor, opens in ((1.0001, True), (0.9999, False)):
        row = {"id": "x", "kind": "lump_sum", "site": "chitose", "amount": answer.offer_total * factor}
        assert ("chitose" in opened(solve_raw(apply_package(raw, _add(row))))) is opens


def test_an_open_site_could_lose_the_hand_solved_margin(flip):
    """b is open at 95; closed, a opens at 112.5: b could lose 17.5 a year before it closes."""
    answer = breakeven(read_instance(flip), "b", EXACT)
    assert answer.direction == "stays-open"
    assert answer.could_lose == pytest.approx(LUMP, abs=1e-6)
    assert answer.offer is None


@pytest.mark.parametrize("instrument, truth, tolerance", [("grant-rate", LUMP / 125, 1e-4),
                                                          ("per-wafer", LUMP / 100, 1e-4)])
def test_bisection_finds_the_hand_solved_rate_within_its_tolerance(flip, instrument, truth, tolerance):
    answer = breakeven(read_instance(flip), "a", EXACT, instrument, tolerance)
    assert answer.tolerance == tolerance
    assert truth <= answer.level + 1e-9
    assert answer.level - truth <= tolerance
    kind, term = ("capex_grant", "rate") if instrument == "grant-rate" else ("production_subsidy", "per_wafer")
    raw = read_instance(flip)
    for level, opens in ((truth + tolerance, True), (truth - tolerance, False)):
        run = solve_raw(apply_package(raw, _add({"id": "x", "kind": kind, "site": "a", term: level})))
        assert ("a" in opened(run)) is opens


def test_breakeven_cli_json_gives_the_offer_field(flip, capsys):
    assert main(["breakeven", str(flip), "--site", "a", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["offer"] == pytest.approx(LUMP, abs=1e-6)
    assert out["offer_total"] == pytest.approx(LUMP, abs=1e-6)
    assert out["unit"] == "USD per year"


def test_unknown_site_is_one_line_with_a_suggestion(flip, capsys):
    assert main(["breakeven", str(flip), "--site", "aa"]) == 2
    assert capsys.readouterr().err.strip() == "--site aa | is not a site of the instance; did you mean 'a'?"


# --- explain ----------------------------------------------------------------------------------

def test_explain_shows_both_plans_and_their_difference(flip, tmp_path, capsys):
    out = tmp_path / "why"
    assert main(["explain", str(flip), "--site", "a", "--out", str(out)]) == 0
    df = pd.read_csv(out / "explain.csv").set_index("category")
    # optimum: b's 95 for 100 wafers; forced: a's 125 less the 12.5 grant
    assert df.at["capex annuity", "optimum_per_wafer"] == pytest.approx(0.95)
    assert df.at["capex annuity", "counterfactual_per_wafer"] == pytest.approx(1.25)
    assert df.at["subsidy", "counterfactual_per_year"] == pytest.approx(-12.5)
    assert df.at["total", "difference_per_year"] == pytest.approx(LUMP, abs=1e-6)
    assert (out / "explain.png").stat().st_size > 1000
    assert set(json.loads((out / "manifest.json").read_text())["files"]) == {"explain.csv", "explain.png",
                                                                            "explain.json", "report.html"}
    assert_self_contained((out / "report.html").read_text())
    assert "a forced open" in capsys.readouterr().out


# --- packages and compare ---------------------------------------------------------------------

DESIGNS = """
policy_country: JP
packages:
  richer:
    description: the grant at 50%
    set: [instruments.grant.rate=0.5]
  lump-only:
    replace:
      - {id: lump, kind: lump_sum, site: a, amount: 40}
"""


def test_compare_rows_equal_separate_solves(flip, tmp_path):
    designs = tmp_path / "designs.yaml"
    designs.write_text(DESIGNS)
    packages = read_designs(designs)
    assert [p.name for p in packages] == ["base", "none", "richer", "lump-only"]
    df = compare(read_instance(flip), packages, EXACT, workers=1).set_index("package")
    # base: b at 95; none: b at 95; richer: a at 125 - 62.5; lump-only: a at 125 - 40
    separate = {
        "base": solve(flip, profile="exact"),
        "none": solve(write_instance(tmp_path / "none", {k: v for k, v in FLIP.items() if k != "instruments"}),
                      profile="exact"),
        "richer": solve(flip, sets=["instruments.grant.rate=0.5"], profile="exact"),
        "lump-only": solve(write_instance(tmp_path / "lump",
                                          dict(FLIP, instruments="id,kind,site,amount\nlump,lump_sum,a,40")),
                           profile="exact"),
    }
    for name, run in separate.items():
        assert df.at[name, "firm_cost"] == pytest.approx(run.outcome.objective, rel=1e-12)
        assert df.at[name, "outlay_total"] == pytest.approx(run.results.tables["subsidies"]["payout_total"].sum())
        assert df.at[name, "sites_open"].split(" ")[0] == opened(run)[0]
    assert df.at["richer", "firm_cost"] == pytest.approx(62.5)
    assert df.at["lump-only", "firm_cost"] == pytest.approx(85.0)
    # a (JP) is the domestic site: 100 wafers when it opens; outlay 40 for 100 wafers = USD 0.4 per wafer
    assert df.at["lump-only", "domestic_capacity"] == 100
    assert df.at["lump-only", "outlay_per_domestic_wafer"] == pytest.approx(0.4)
    assert df.at["lump-only", "incremental_outlay_per_domestic_wafer"] == pytest.approx(0.4)
    assert df.at["none", "domestic_capacity"] == 0


def test_compare_in_two_workers_gives_the_same_table(flip, tmp_path):
    designs = tmp_path / "designs.yaml"
    designs.write_text(DESIGNS)
    packages = read_designs(designs)
    one = compare(read_instance(flip), packages, EXACT, workers=1)
    two = compare(read_instance(flip), packages, EXACT, workers=2)
    pd.testing.assert_frame_equal(one, two)


def test_compare_cli_writes_table_chart_and_manifest(flip, tmp_path):
    designs = tmp_path / "designs.yaml"
    designs.write_text(DESIGNS)
    out = tmp_path / "cmp"
    assert main(["compare", str(flip), "--designs", str(designs), "--out", str(out)]) == 0
    df = pd.read_csv(out / "compare.csv")
    assert df["package"].tolist() == ["base", "none", "richer", "lump-only"]
    assert (out / "compare.png").stat().st_size > 1000
    assert json.loads((out / "manifest.json").read_text())["files"] == ["compare.csv", "compare.png", "report.html"]
    html = (out / "report.html").read_text()
    assert_self_contained(html)
    assert html.count("data:image/png;base64,") == 1 and "lump-only" in html


@pytest.mark.parametrize("text, message", [
    ("packages:\n  base: {}\n", "designs.yaml packages.base | is built in and cannot be redefined; give the package another name"),
    ("packages:\n  p: {grants: []}\n", "designs.yaml packages.p.grants | extra inputs are not permitted; keys of a package are description, policy_country, replace, add, programs, set"),
    ("packages:\n  p:\n    add:\n      - {id: g, kind: grant, site: a, rate: 0.1}\n",
     "instruments.csv + designs.yaml[p] row 3 (id=g) column kind | is 'grant'; did you mean 'capex_grant'?"),
    ("packages: [\n", "designs.yaml line 2 | malformed YAML: expected the node content, but found '<stream end>'; check indentation and that every key is followed by ':'"),
])
def test_bad_designs_are_one_line_each(flip, tmp_path, capsys, text, message):
    designs = tmp_path / "designs.yaml"
    designs.write_text(text)
    assert main(["compare", str(flip), "--designs", str(designs), "--out", str(tmp_path / "o")]) == 2
    assert message in capsys.readouterr().err.splitlines()


def test_bundled_designs_compare_on_the_flagship(tmp_path):
    """Every package of instances/jasm/designs.yaml solves and passes the check against the data."""
    jasm = ROOT / "instances" / "jasm"
    df = compare(read_instance(jasm), read_designs(jasm / "designs.yaml"), load_profile("default"), workers=1)
    assert df["status"].eq("optimal").all(), df[["package", "status", "note"]]
    assert df["checks_passed"].all()
    row = df.set_index("package")
    # no subsidy: Tainan (the cheapest without help); the 2021 offers: Kumamoto
    assert row.at["none", "sites_open"].startswith("tainan")
    assert row.at["base", "sites_open"].startswith("kumamoto")
    assert row.at["conditional-50", "domestic_local_share"] == pytest.approx(0.5, abs=1e-6)


def test_every_bundled_design_row_cites_a_source():
    for designs in sorted((ROOT / "instances").glob("*/designs.yaml")):
        for package in read_designs(designs):
            for row in (*(package.replace or ()), *package.add, *(package.programs or ())):
                assert str(row.get("source", "")).strip(), f"{designs} {package.name}: {row.get('id')} has no source"


def test_breakeven_refuses_a_site_whose_status_is_fixed(flip, capsys):
    assert main(["breakeven", str(flip), "--site", "a", "--set", "sites.a.status=closed"]) == 2
    assert capsys.readouterr().err.strip() == (
        "--site a | is fixed closed by sites.status, so no offer can change it; "
        "clear it with --set sites.a.status= to ask what would change the plan")


def test_each_package_is_compared_with_none_for_its_own_policy_country(flip, tmp_path):
    """FLIP's none opens b (US). Measured for JP, none builds nothing at home; for US it builds
    100 wafers. A package that changes nothing but names the US must show no change against
    none, and a JP package with a lump sum that opens a gains 100 JP wafers."""
    designs = tmp_path / "designs.yaml"
    designs.write_text("policy_country: JP\npackages:\n  us-view:\n    policy_country: US\n    replace: []\n"
                       "  jp-lump:\n    replace:\n      - {id: lump, kind: lump_sum, site: a, amount: 40}\n")
    df = compare(read_instance(flip), read_designs(designs), EXACT).set_index("package")
    assert df.at["us-view", "policy_country"] == "US"
    assert df.at["us-view", "domestic_capacity"] == 100
    assert df.at["us-view", "domestic_capacity_vs_none"] == 0
    assert df.at["us-view", "outlay_per_year_vs_none"] == 0
    assert df.at["jp-lump", "domestic_capacity_vs_none"] == 100
    assert df.at["none", "domestic_capacity"] == 0  # the none row itself is measured for the file's country


@pytest.mark.parametrize("text, message", [
    ("packages:\n  p:\n    set: [instruments.nothere.rate=1]\n",
     "designs.yaml packages.p set: instruments.nothere.rate | no such parameter; did you mean 'instruments.grant.rate'"),
    ("packages:\n  p:\n    set: [instruments.grant.rate=lots]\n",
     "designs.yaml packages.p set: instruments.grant.rate=lots | is 'lots', not a number; give a number, or leave it empty"),
])
def test_a_bad_override_in_a_package_names_the_package(flip, tmp_path, capsys, text, message):
    designs = tmp_path / "designs.yaml"
    designs.write_text(text)
    assert main(["compare", str(flip), "--designs", str(designs), "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err.startswith(message)


def test_a_folder_as_designs_is_one_line(flip, tmp_path, capsys):
    assert main(["compare", str(flip), "--designs", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"{tmp_path} | is a folder, not a file; give the designs YAML file, e.g. instances/jasm/designs.yaml"
