"""Bundled instances: they validate, solve to their committed reference results, and cite sources.

The reference results in results/jasm/ are regenerated with `siting solve instances/jasm`; the
regression compares the plan and its costs, not times, paths or timestamps.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from siting.instance.template import BEGIN, END, format_reference
from siting.run import load_case
from tests.helpers import solve

ROOT = Path(__file__).resolve().parent.parent
INSTANCES = sorted(p for p in (ROOT / "instances").iterdir() if (p / "instance.yaml").is_file())


@pytest.mark.parametrize("folder", INSTANCES, ids=lambda p: p.name)
def test_every_row_cites_a_source_or_labels_an_assumption(folder):
    inst = load_case(folder)
    known = {s.id for s in inst.sources}
    used = set()
    # scenarios generated from hazards cite the hazards' rows, which are checked themselves
    generated = ("scenarios", "scenario_effects") if len(inst["hazards"]) else ()
    for name, table in inst.tables.items():
        if name in generated:
            continue
        for row_no, cell in table["source"].items():
            assert isinstance(cell, str) and cell, f"{name} row {row_no} has no source"
            if cell.split(":")[0] in ("assumption", "derived"):
                used.update(k for k in known if k in cell)
                continue
            assert cell in known, f"{name} row {row_no}: source '{cell}' is not listed under sources"
            used.add(cell)
    used.update(k for k in known for a in inst.assumptions if k in a)
    assert known <= used, f"sources listed but never used: {sorted(known - used)}"


def test_flagship_matches_its_reference_results():
    reference = json.loads((ROOT / "results" / "jasm" / "summary.json").read_text())
    run = solve(ROOT / "instances" / "jasm", profile="default")
    assert run.outcome.status == reference["status"] == "optimal"
    assert run.outcome.objective == pytest.approx(reference["objective"], rel=1e-6)
    assert run.violations == []
    sites = run.results.tables["sites"].set_index("site")
    for ref in reference["sites"]:
        row = sites.loc[ref["id"]]
        assert bool(row["open"]) == ref["open"]
        assert row["capacity_wafers_per_year"] == pytest.approx(sum(ref["capacity"].values()))
        if ref["open"] and ref["local_target"] is not None:
            assert row["local_share"] >= ref["local_target"] - 1e-9
    for category, value in reference["costs"].items():
        assert run.results.costs[category] == pytest.approx(value, rel=1e-6, abs=1e-6)


def test_flagship_opens_kumamoto_and_meets_the_60_percent_target():
    """The instance's own figures pick Kumamoto, as TSMC did; the check is on the instance, so a
    data change that moves the answer is noticed and explained in review."""
    run = solve(ROOT / "instances" / "jasm", profile="default")
    sites = run.results.tables["sites"].set_index("site")
    assert sites.index[sites["open"]].tolist() == ["kumamoto"]
    assert sites.at["kumamoto", "local_share"] == pytest.approx(0.6, abs=1e-6)


def test_format_reference_is_up_to_date():
    """docs/format.md's reference section is generated from the schema:
    regenerate with `python -m siting.instance.template docs/format.md`."""
    text = (ROOT / "docs" / "format.md").read_text()
    generated = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert generated == format_reference().strip()


#: Instances whose outputs another bundled instance already covers: network-2030-hazards has
#: network-2030's sites and suppliers (the sampled solve is tests/instance/test_network_hazards.py's).
SAME_OUTPUTS = ("network-2030-hazards",)


@pytest.mark.parametrize("folder", [pytest.param(p, marks=pytest.mark.slow) if p.name in SAME_OUTPUTS else p
                                    for p in INSTANCES], ids=lambda p: p.name)
def test_every_bundled_instance_gets_a_map_a_network_and_a_report(folder, tmp_path):
    from siting.cli import main
    from siting.report.network import read_network
    from tests.report.test_network_report import assert_self_contained

    out = tmp_path / "out"
    assert main(["solve", str(folder), "--out", str(out)]) == 0
    assert (out / "map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    layers = read_network(out / "network.gpkg")
    inst = load_case(folder)
    assert len(layers["sites"]) == len(inst["sites"]) and len(layers["suppliers"]) == len(inst["suppliers"])
    html = (out / "report.html").read_text()
    assert_self_contained(html)
    assert html.count("data:image/png;base64,") >= 1  # at least the map
    assert '<svg class="chart" viewBox="0 0 760' in html and 'aria-label="cost waterfall: firm cost' in html


def test_network_solves_with_every_check_holding_in_every_scenario():
    """The scenario instance solves to a plan that passes every check in every scenario; its risk
    figures are consistent (CVaR between the expected and the worst cost) and the Taiwan blockade
    leaves no output in Taiwan."""
    run = solve(ROOT / "instances" / "network-2030", profile="default", duals=False)
    assert run.outcome.status == "optimal"
    assert run.violations == []
    risk = run.results.risk
    assert risk["scenarios"] == 8
    assert risk["expected_cost"] <= risk["cvar"] + 1e-6 <= risk["worst_case"] + 2e-6
    made = run.results.tables["production"]
    blockade = made[(made["scenario"] == "taiwan-blockade") & made["site"].isin(["tainan", "hsinchu", "kaohsiung"])]
    assert blockade["wafers_per_year"].sum() == 0
