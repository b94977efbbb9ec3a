"""`siting programme`: break-even offers per project, the knapsack allocation and the fab curve,
against a pool solved on paper.

Three projects, each one firm choosing between a US site and a Taiwanese one for 100 wafers
(one module each, CRF 1, plain USD):

    project  US capex  TW capex  break-even offer at the US site  investment it brings
    A        10        6         10 - 6 = 4                        10
    B        10        5         10 - 5 = 5                        10
    C        30        24        30 - 24 = 6                       30

Budget 10, maximising investment: funding the cheapest first buys A (4) and B (5), 9 spent, 20
invested, and C (6) no longer fits; the optimum is A and C, 10 spent, 40 invested (B and C cost
11). Budget 15 buys all three (50). The fab curve: 1 fab for 4, 2 for 4 + 5 = 9, 3 for 15, so the
marginal fabs cost 4, 5 and 6.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from siting.analysis import programme as pg
from siting.analysis.allocate import fab_curve
from siting.cli import main
from siting.errors import InputError
from siting.instance.programme import read_programme
from siting.solve import load_profile
from tests.helpers import write_instance

EXACT = load_profile("exact")
TEMPLATE = {"sites": "id,country,lat,lon\nus,US,33.5,-112.0\ntw,TW,23.1,120.3\n", "products": "id\nchip\n",
            "modules": "site,product,wafers_per_module,capex_per_module,max_modules\n"
                       "us,chip,100,10,1\ntw,chip,100,6,1\n",
            "markets": "id,country,lat,lon\nm,US,35.0,-100.0\n",
            "demand": "market,product,wafers_per_year\nm,chip,100\n"}
POOL = {"A": (10, 6), "B": (10, 5), "C": (30, 24)}


def write_pool(folder: Path, budgets="[0, 10, 15]", extra: str = "") -> Path:
    write_instance(folder / "template", TEMPLATE)
    lines = [f"  - {{name: {n}, instance: template, set: [modules.us/chip.capex_per_module={us}, "
             f"modules.tw/chip.capex_per_module={tw}]}}" for n, (us, tw) in POOL.items()]
    text = f"country: US\ninstrument: lump\nbudgets: {budgets}\nobjective: investment\n{extra}projects:\n" + \
        "\n".join(lines) + "\n"
    (folder / "programme.yaml").write_text(text, encoding="utf-8")
    return folder / "programme.yaml"


@pytest.fixture(scope="module")
def priced(tmp_path_factory):
    path = write_pool(tmp_path_factory.mktemp("pool"))
    programme = read_programme(path)
    return programme, pg.price_all(pg.plan_items(programme, EXACT))


def test_break_even_offers_are_the_hand_solved_gaps(priced):
    _, options = priced
    us = options[options["sites"] == "us"].set_index("project")
    assert us["offer"].to_dict() == pytest.approx({"A": 4, "B": 5, "C": 6}, abs=1e-6)
    assert us["investment"].to_dict() == pytest.approx({"A": 10, "B": 10, "C": 30})
    assert (options[options["sites"] == ""]["fabs"] == 0).all()


def test_the_knapsack_beats_cheapest_first_as_derived_on_paper(priced):
    _, options = priced
    table, chosen = pg.budget_table(options, [0, 10, 15], "investment", EXACT)
    funded = {b: sorted(options.loc[pick & (options["offer"] > 0), "project"]) for b, pick in chosen.items()}
    assert funded == {0: [], 10: ["A", "C"], 15: ["A", "B", "C"]}
    assert table["investment"].tolist() == pytest.approx([0, 40, 50])
    # funding the cheapest first (the rule the allocation must beat here)
    us = options[options["sites"] == "us"].sort_values("offer")
    spent, greedy = 0.0, 0.0
    for _, r in us.iterrows():
        if spent + r["offer"] <= 10 + 1e-9:
            spent, greedy = spent + r["offer"], greedy + r["investment"]
    assert greedy == pytest.approx(20) and table.loc[1, "investment"] > greedy


def test_fab_curve_gives_each_marginal_fab_its_cost(priced):
    _, options = priced
    curve = fab_curve(options, EXACT)
    assert curve["fabs"].tolist() == [0, 1, 2, 3]
    assert curve["least_outlay"].tolist() == pytest.approx([0, 4, 9, 15], abs=1e-6)
    assert curve["marginal_cost"].tolist()[1:] == pytest.approx([4, 5, 6], abs=1e-6)


def test_two_workers_price_the_same_options(priced):
    programme, options = priced
    again = pg.price_all(pg.plan_items(programme, EXACT), workers=2)
    drop = ["seconds"]
    pd.testing.assert_frame_equal(options.drop(columns=drop), again.drop(columns=drop))


def test_projects_of_one_instance_are_one_group_with_a_joint_option(tmp_path):
    """One firm with two US sites (capex 10 and 12) and Taiwan (6), demand for two modules' worth
    at 100 each: the firm opens tw (6) and the cheaper US site (10) for 16. Bringing both US sites is
    priced jointly by induce (a pair option), and only one option of the group is ever funded."""
    tables = dict(TEMPLATE)
    tables["sites"] = "id,country,lat,lon\nus,US,33.5,-112.0\nus2,US,40.0,-83.0\ntw,TW,23.1,120.3\n"
    tables["modules"] = ("site,product,wafers_per_module,capex_per_module,max_modules\nus,chip,100,10,1\n"
                         "us2,chip,100,12,1\ntw,chip,100,6,1\n")
    tables["demand"] = "market,product,wafers_per_year\nm,chip,200\n"
    write_instance(tmp_path / "two", tables)
    (tmp_path / "p.yaml").write_text("country: US\nprojects:\n  - {name: X, instance: two}\n", encoding="utf-8")
    programme = read_programme(tmp_path / "p.yaml")
    options = pg.price_all(pg.plan_items(programme, EXACT))
    assert options["sites"].tolist() == ["", "us", "us2", "us + us2"]
    by = options.set_index("sites")
    # us is open already (offer 0); the cheapest plan with us2 is {us2, tw} at 18: 18 - 16 = 2
    assert by.at["us", "offer"] == 0 and by.at["us2", "offer"] == pytest.approx(18 - 16, abs=1e-6)
    # both US sites, {us, us2} at 22: the cut from {us, tw} (16) asks L[us2] >= 6; with it {us2, tw}
    # costs 12 < 16, and its cut asks L[us] >= 22 - 18 = 4: 10 in all, not the 0 + 2 of the singles
    assert by.at["us + us2", "offer"] == pytest.approx(10, abs=1e-3)
    assert by.at["us + us2", "fabs"] == 2
    table, _ = pg.budget_table(options, [100], "fabs", EXACT)
    assert table.loc[0, "fabs"] == 2 and table.loc[0, "outlay"] == pytest.approx(10, abs=1e-3)


def test_cli_writes_the_folder_with_the_manifest_last(tmp_path, capsys):
    path = write_pool(tmp_path)
    out = tmp_path / "out"
    assert main(["programme", str(path), "--budget", "0", "10", "--objective", "investment", "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["files"] == ["programme.csv", "budgets.csv", "curve.csv", "programme.png", "report.html",
                                 "manifest.json"]
    table = pd.read_csv(out / "programme.csv")
    assert sorted(table.loc[table["funded_at_10"] & (table["offer"] > 0), "project"]) == ["A", "C"]
    assert not (table["funded_at_0"] & (table["offer"] > 0)).any()
    assert "A: us; C: us" in capsys.readouterr().out


@pytest.mark.parametrize("extra, budgets, message", [
    ("instrument: cash\n", "[0]", "programme.yaml instrument | 'cash' is not a programme instrument; use lump, "
                                  "grant-rate, per-wafer"),
    ("", "[-5]", "programme.yaml budgets.0 | is -5.0; a budget must be >= 0; give 0 or more"),
    ("colour: red\n", "[0]", "programme.yaml colour | extra inputs are not permitted"),
])
def test_bad_programme_files_are_one_line_each(tmp_path, extra, budgets, message):
    path = write_pool(tmp_path, budgets, extra)
    with pytest.raises(InputError) as err:
        read_programme(path)
    assert message in str(err.value)


def test_missing_instance_and_repeated_names_are_listed_together(tmp_path):
    (tmp_path / "p.yaml").write_text("country: US\nprojects:\n  - {name: X, instance: nowhere}\n"
                                     "  - {name: X, instance: nowhere}\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_programme(tmp_path / "p.yaml")
    text = str(err.value)
    assert "p.yaml projects.0 (X) | instance nowhere does not exist; give a path relative to the file" in text
    assert "p.yaml projects.1 (X) | repeats a project name; give each project its own name" in text


def test_projects_must_share_one_money_unit(tmp_path):
    path = write_pool(tmp_path)
    text = path.read_text().replace("modules.tw/chip.capex_per_module=5]", "modules.tw/chip.capex_per_module=5, "
                                    "settings.currency=EUR]")
    path.write_text(text)
    with pytest.raises(InputError) as err:
        pg.plan_items(read_programme(path), EXACT)
    assert ("project B | counts money in EUR one, project A in USD one; budgets and offers need one money unit"
            in str(err.value))


def test_cli_refuses_a_negative_budget(tmp_path, capsys):
    assert main(["programme", str(write_pool(tmp_path)), "--budget", "-1"]) == 2
    assert "--budget | is -1.0; a budget must be >= 0; give 0 or more" in capsys.readouterr().err
