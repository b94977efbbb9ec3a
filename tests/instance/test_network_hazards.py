"""instances/network-2030-hazards: network-2030 with its scenarios generated from seven independent
hazards. Its other tables are network-2030's, each hazard alone does what network-2030's scenario of
the same name does, and the generated sets (every joint combination, a seeded sample) are
probability distributions whose weights a hand computation from hazards.csv reproduces."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from siting.cli import main
from siting.run import load_case

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "instances" / "network-2030"
HAZARDS = ROOT / "instances" / "network-2030-hazards"


def _per_year() -> dict[str, float]:
    """Each hazard's chance in a year, by hand from hazards.csv: p within `years` years is
    1 - (1 - p)^(1 / years) a year (the Nankai Trough's 65% in 30 years: 1 - 0.35^(1/30) = 3.44%)."""
    hz = pd.read_csv(HAZARDS / "hazards.csv")
    return {h: 1 - (1 - p) ** (1 / y) for h, p, y in zip(hz["id"], hz["probability"], hz["years"])}


def test_every_table_but_the_scenarios_is_network_2030s():
    """The hazards replace scenarios.csv and scenario_effects.csv, nothing else: a change to
    network-2030's data must be made to both instances."""
    for f in sorted(BASE.glob("*.csv")):
        if f.name in ("scenarios.csv", "scenario_effects.csv"):
            assert not (HAZARDS / f.name).exists()
        else:
            assert (HAZARDS / f.name).read_bytes() == f.read_bytes(), f.name
    base, mine = (yaml.safe_load((p / "instance.yaml").read_text(encoding="utf-8")) for p in (BASE, HAZARDS))
    assert mine["settings"] == {**base["settings"], "scenario_sample": 50, "scenario_seed": 1}
    assert mine["sources"] == base["sources"]
    tables = {k: v for k, v in base["tables"].items() if k not in ("scenarios", "scenario_effects")}
    assert mine["tables"] == {**tables, "hazards": "hazards.csv", "hazard_effects": "hazard_effects.csv"}


def test_each_hazard_alone_is_network_2030s_scenario_of_its_name():
    """The hazards and their effects are network-2030's scenario library, now independent."""
    effects = pd.read_csv(HAZARDS / "hazard_effects.csv").rename(columns={"hazard": "scenario"})
    library = pd.read_csv(BASE / "scenario_effects.csv")
    key = ["scenario", "target", "by", "match", "item", "multiplier"]
    assert effects[key].fillna("").values.tolist() == library[key].fillna("").values.tolist()
    named = set(pd.read_csv(BASE / "scenarios.csv")["id"]) - {"nominal"}
    assert set(pd.read_csv(HAZARDS / "hazards.csv")["id"]) == named


def test_the_joint_set_is_every_combination_with_its_hand_computed_probability():
    """Seven hazards make 2^7 = 128 scenarios; each one's probability is the product over the
    hazards of p_h (striking) or 1 - p_h (not), and they sum to one."""
    inst = load_case(HAZARDS, ["settings.scenario_sample="])  # the instance samples 50 draws unless told
    p = _per_year()
    got = dict(zip(inst["scenarios"]["id"], inst["scenarios"]["probability"]))
    assert len(got) == 128
    assert sum(got.values()) == pytest.approx(1.0, abs=1e-12)
    for strikes in itertools.product((False, True), repeat=len(p)):
        hit = [h for h, s in zip(p, strikes) if s]
        want = 1.0
        for h, s in zip(p, strikes):
            want *= p[h] if s else 1 - p[h]
        assert got["__".join(hit) or "nominal"] == pytest.approx(want, rel=1e-12)
    # no hazard: 0.98 (blockade) x 0.9656 (Nankai) x 0.9900 (Kyushu) x 0.9 (water) x 0.98 (export
    # controls) x 0.9 x 0.9 (boom, bust) = 0.6693
    assert got["nominal"] == pytest.approx(0.6693, abs=1e-4)


def test_a_sample_of_50_draws_seed_1_is_a_distribution_of_whole_draws():
    """--scenarios 50 --sample-seed 1 (the instance's own setting): every scenario's probability is a
    whole number of the 50 draws, they sum to one, and the same seed draws the same set."""
    sets = ["settings.scenario_sample=50", "settings.scenario_seed=1"]
    first, again = load_case(HAZARDS, sets)["scenarios"], load_case(HAZARDS)["scenarios"]
    draws = first["probability"].to_numpy() * 50
    assert draws == pytest.approx(draws.round(), abs=1e-9) and (draws.round() >= 1).all()
    assert first["probability"].sum() == pytest.approx(1.0, abs=1e-12)
    assert first[["id", "probability"]].equals(again[["id", "probability"]])
    assert "nominal" in set(first["id"])  # the local-share targets bind in it (local_share_scenarios)


@pytest.mark.slow
def test_siting_solve_with_a_sample_of_50_runs_and_writes_its_set(tmp_path, capsys):
    """The whole pipeline on the sample: a proven optimum, every check against the raw tables
    passed, and the written scenarios.csv (the set to reproduce the run) sums to one."""
    out = tmp_path / "out"
    code = main(["solve", str(HAZARDS), "--scenarios", "50", "--sample-seed", "1", "--out", str(out),
                 "--no-runner-up"])
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "optimal"
    assert summary["scenario_set"] == {"hazards": list(_per_year()), "scenarios": 8, "method": "sample",
                                       "draws": 50, "seed": 1}
    assert summary["checks"]["passed"] is True
    written = pd.read_csv(out / "scenarios.csv")
    assert written["probability"].sum() == pytest.approx(1.0, abs=1e-9)
