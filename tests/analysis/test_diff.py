"""`siting diff`: inputs and outputs that changed, attribution of the change, refusals.

CRF = 1 and plain USD. Sites a and b, one module of 100 wafers each, 100 wafers of demand that
must be met, no freight: the plan opens the site with the cheaper module.
"""

from __future__ import annotations

import json
import shutil

import pytest

from siting.analysis.diff import diff
from siting.cli import main
from siting.errors import InputError
from siting.solve import load_profile
from tests.helpers import write_instance

TWO = {
    "sites": """
        id,country,lat,lon
        a,JP,33.0,131.0
        b,JP,33.1,131.1
    """,
    "products": "id\nchip",
    "modules": """
        site,product,wafers_per_module,capex_per_module,max_modules
        a,chip,100,1000,1
        b,chip,100,1100,1
    """,
    "markets": "id,country,lat,lon\nm,JP,33.0,131.0",
    "demand": "market,product,wafers_per_year\nm,chip,100",
}
EXACT = load_profile("exact")


def _solve(folder, out, *sets) -> None:
    args = ["solve", str(folder), "--out", str(out), "--no-duals", "--profile", "exact"]
    for s in sets:
        args += ["--set", s]
    assert main(args) == 0


def test_one_cell_names_that_cell_and_that_decision(tmp_path, capsys):
    """B's instance is A's with a's module at 1200 instead of 1000: a (1000) loses to b (1100). The
    diff names that one cell and, among decisions, only a closed, b opened and their modules."""
    inst_a = write_instance(tmp_path / "ia", TWO)
    inst_b = tmp_path / "ib"
    shutil.copytree(inst_a, inst_b)
    mods = inst_b / "modules.csv"
    mods.write_text(mods.read_text().replace("a,chip,100,1000,1", "a,chip,100,1200,1"))
    _solve(inst_a, tmp_path / "A")
    _solve(inst_b, tmp_path / "B")
    capsys.readouterr()
    d = diff(tmp_path / "A", tmp_path / "B")
    cells = d.inputs[["table", "key", "column", "a", "b"]].to_dict("records")
    assert cells == [{"table": "modules", "key": "a/chip", "column": "capex_per_module", "a": "1000",
                      "b": "1200"}]
    assert "instance sha256" in d.runs["item"].tolist()
    sites = d.outputs[d.outputs["section"] == "sites"]
    assert sorted(zip(sites["item"], sites["key"])) == [("closed", "a"), ("opened", "b")]
    mods = d.outputs[d.outputs["section"] == "modules"]
    assert sorted(zip(mods["key"], mods["a"], mods["b"])) == [("a/chip", 1, 0), ("b/chip", 0, 1)]
    obj = d.outputs[(d.outputs["section"] == "solve") & (d.outputs["item"] == "objective")]
    assert obj["difference"].tolist() == pytest.approx([100.0])
    assert set(d.outputs["section"]) <= {"solve", "sites", "modules", "costs"}


def test_attribution_with_an_interaction(tmp_path):
    """Two changes from A: c1 raises a's module to 1200, c2 raises b's to 1300.

    f(none) = 1000 ({a}); c1 alone: a 1200 vs b 1100 -> {b} at 1100, effect +100, opens b and
    closes a; c2 alone: a 1000 vs b 1300 -> {a} at 1000, effect 0, moves nothing; both: a 1200 vs
    b 1300 -> {a} at 1200, total +200. The interaction is 200 - 100 - 0 = +100: c2 matters only
    once c1 has made b the plan."""
    inst = write_instance(tmp_path / "i", TWO)
    _solve(inst, tmp_path / "A")
    _solve(inst, tmp_path / "B", "modules.a/chip.capex_per_module=1200", "modules.b/chip.capex_per_module=1300")
    d = diff(tmp_path / "A", tmp_path / "B", attribute_with=EXACT)
    t = d.attribution.table.set_index("change")
    assert t.at["modules.a/chip.capex_per_module", "cost_effect"] == pytest.approx(100.0)
    assert t.at["modules.a/chip.capex_per_module", "opened"] == "b"
    assert t.at["modules.a/chip.capex_per_module", "closed"] == "a"
    assert t.at["modules.b/chip.capex_per_module", "cost_effect"] == pytest.approx(0.0, abs=1e-9)
    assert t.at["modules.b/chip.capex_per_module", "opened"] == ""
    assert t.at["interaction", "cost_effect"] == pytest.approx(100.0)
    assert t.at["modules.a/chip.capex_per_module", "share_of_total"] == pytest.approx(0.5)
    words = "\n".join(d.attribution.words())
    assert "modules.a/chip.capex_per_module from 1000 to 1200 opened b; closed a" in words
    assert "+100.000 of the +200.000 USD/yr" in words


@pytest.mark.slow
def test_two_workers_give_the_same_attribution(tmp_path):
    inst = write_instance(tmp_path / "i", TWO)
    _solve(inst, tmp_path / "A")
    _solve(inst, tmp_path / "B", "modules.a/chip.capex_per_module=1200", "modules.b/chip.capex_per_module=1300")
    one = diff(tmp_path / "A", tmp_path / "B", attribute_with=EXACT).attribution.table
    two = diff(tmp_path / "A", tmp_path / "B", attribute_with=EXACT, workers=2).attribution.table
    assert one["cost_effect"].tolist() == pytest.approx(two["cost_effect"].tolist())


def test_refuses_folders_that_lack_what_it_needs(tmp_path):
    """A folder without a manifest, and a run whose instance was edited after it was solved."""
    inst = write_instance(tmp_path / "i", TWO)
    _solve(inst, tmp_path / "A")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"empty \| has no manifest.json; give a results folder of `siting solve`"):
        diff(tmp_path / "A", tmp_path / "empty")
    _solve(inst, tmp_path / "B")
    mods = inst / "modules.csv"
    mods.write_text(mods.read_text().replace("1100", "1150"))
    with pytest.raises(InputError, match=r"A \| its instance .* has changed since the run \(hash [0-9a-f]{12}, "
                                         r"recorded [0-9a-f]{12}\); restore that version"):
        diff(tmp_path / "A", tmp_path / "B")


def test_cli_diff_json_and_exit_code(tmp_path, capsys):
    inst = write_instance(tmp_path / "i", TWO)
    _solve(inst, tmp_path / "A")
    _solve(inst, tmp_path / "B", "modules.a/chip.capex_per_module=1200")
    capsys.readouterr()
    assert main(["diff", str(tmp_path / "A"), str(tmp_path / "B"), "--out", str(tmp_path / "D"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["path"] for r in doc["inputs"]] == ["modules.a/chip.capex_per_module"]
    assert json.loads((tmp_path / "D" / "manifest.json").read_text())["files"] == ["diff.csv", "report.html"]
    assert main(["diff", str(tmp_path / "A"), str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err.strip().endswith("is not a folder; give a results folder of `siting solve`")
