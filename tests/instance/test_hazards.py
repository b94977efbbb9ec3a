"""Scenarios generated from a hazards table: joint combinations by hand count, seeded samples,
every message of the hazard tables and flags, and a solve equal to its hand-written scenarios."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from siting.cli import main
from siting.instance.hazards import MAX_JOINT, per_year
from siting.run import load_case
from tests.helpers import solve, write_instance
from tests.instance.test_validation import BASE, problems, with_table

HAZARDS = "id,name,probability,years\nquake,Quake,0.2,\nboom,Boom,0.1,"
EFFECTS = "hazard,target,by,match,multiplier\nquake,site,id,a,0.5\nboom,demand,all,,1.5\nboom,site,id,a,0.8"


def _scenarios(inst) -> dict[str, float]:
    return dict(zip(inst["scenarios"]["id"], inst["scenarios"]["probability"]))


def test_joint_combinations_match_a_hand_count(tmp_path):
    """Two hazards make four scenarios: nominal 0.8 x 0.9 = 0.72, quake 0.2 x 0.9 = 0.18,
    boom 0.8 x 0.1 = 0.08, both 0.2 x 0.1 = 0.02; in 'both' the two effects on site a multiply
    (0.5 x 0.8 = 0.4) and the demand effect is carried over."""
    inst = load_case(with_table(tmp_path, hazards=HAZARDS, hazard_effects=EFFECTS))
    got = _scenarios(inst)
    assert got == pytest.approx({"nominal": 0.72, "quake": 0.18, "boom": 0.08, "quake__boom": 0.02}, abs=1e-15)
    assert list(got) == ["nominal", "quake", "boom", "quake__boom"]
    assert sum(got.values()) == pytest.approx(1.0, abs=1e-12)
    eff = inst["scenario_effects"]
    both = eff[eff["scenario"] == "quake__boom"].set_index(["target", "match"])["multiplier"]
    assert both[("site", "a")] == pytest.approx(0.4)
    assert both[("demand", "*")] == pytest.approx(1.5)
    assert set(eff[eff["scenario"] == "quake"]["multiplier"]) == {0.5}
    assert "nominal" not in set(eff["scenario"])


def test_eight_hazards_make_256_scenarios_summing_to_one(tmp_path):
    """Every subset of 8 hazards is a scenario: 2^8 = 256, with probabilities summing to 1."""
    rows = "\n".join(f"h{k},{0.05 * (k + 1)}" for k in range(8))
    inst = load_case(with_table(tmp_path, hazards="id,probability\n" + rows))
    sc = inst["scenarios"]
    assert len(sc) == 256 == len(set(sc["id"]))
    assert sc["probability"].sum() == pytest.approx(1.0, abs=1e-12)
    # the scenario in which every hazard strikes: the product of their probabilities
    assert _scenarios(inst)["__".join(f"h{k}" for k in range(8))] == pytest.approx(
        np.prod([0.05 * (k + 1) for k in range(8)]))


def test_a_probability_over_years_becomes_a_chance_per_year(tmp_path):
    """0.75 within 2 years is 0.5 a year: 1 - (1 - 0.75)^(1/2) = 1 - 0.5."""
    assert per_year(np.array([0.75]), np.array([2.0]))[0] == pytest.approx(0.5)
    inst = load_case(with_table(tmp_path, hazards="id,probability,years\nquake,0.75,2"))
    assert _scenarios(inst) == pytest.approx({"nominal": 0.5, "quake": 0.5})


def test_a_hazard_certain_or_impossible_leaves_out_the_combinations_of_probability_zero(tmp_path):
    inst = load_case(with_table(tmp_path, hazards="id,probability\nsure,1\nnever,0\nhalf,0.5"))
    assert _scenarios(inst) == pytest.approx({"sure": 0.5, "sure__half": 0.5})


def test_a_seeded_sample_is_reproducible_and_its_frequencies_follow_the_probabilities(tmp_path):
    """The same draws and seed give the very same tables; another seed other draws. Over 20000
    draws each hazard's share of draws is within 5 standard errors of its probability (a
    failing sampler, e.g. one ignoring the probabilities, lands far outside)."""
    folder = with_table(tmp_path, hazards=HAZARDS, hazard_effects=EFFECTS)
    a = load_case(folder, ["settings.scenario_sample=20000", "settings.scenario_seed=7"])
    b = load_case(folder, ["settings.scenario_sample=20000", "settings.scenario_seed=7"])
    c = load_case(folder, ["settings.scenario_sample=20000", "settings.scenario_seed=8"])
    pd.testing.assert_frame_equal(a["scenarios"], b["scenarios"])
    pd.testing.assert_frame_equal(a["scenario_effects"], b["scenario_effects"])
    assert not a["scenarios"]["probability"].equals(c["scenarios"]["probability"])
    got = _scenarios(a)
    assert sum(got.values()) == pytest.approx(1.0, abs=1e-12)
    assert all(round(p * 20000) == pytest.approx(p * 20000, abs=1e-6) for p in got.values())  # count / N
    for hazard, p in (("quake", 0.2), ("boom", 0.1)):
        share = sum(q for sid, q in got.items() if hazard in sid.split("__"))
        assert abs(share - p) < 5 * np.sqrt(p * (1 - p) / 20000)
    assert "of 20000 draws" in a["scenarios"]["description"].iloc[0]


def test_a_small_sample_has_at_most_its_draws_as_scenarios(tmp_path):
    inst = load_case(with_table(tmp_path, hazards=HAZARDS), ["settings.scenario_sample=3"])
    assert 1 <= len(inst["scenarios"]) <= 3
    assert inst["scenarios"]["probability"].sum() == pytest.approx(1.0)


def test_generated_scenarios_solve_as_their_hand_written_table(tmp_path):
    """The hazards instance and one with the four scenarios written out by hand (the joint count
    of the first test) are the same problem: the same optimum."""
    settings = {"unmet_penalty_per_wafer": 5000}
    hz = write_instance(tmp_path / "hz", {**BASE, "hazards": HAZARDS, "hazard_effects": EFFECTS}, settings)
    hand = write_instance(tmp_path / "hand", {
        **BASE,
        "scenarios": "id,probability\nnominal,0.72\nquake,0.18\nboom,0.08\nquake__boom,0.02",
        "scenario_effects": "scenario,target,by,match,multiplier\nquake,site,id,a,0.5\nboom,demand,all,,1.5\n"
                            "boom,site,id,a,0.8\nquake__boom,site,id,a,0.4\nquake__boom,demand,all,,1.5"}, settings)
    a, b = solve(hz, duals=False), solve(hand, duals=False)
    assert a.outcome.status == b.outcome.status == "optimal"
    assert a.outcome.objective == pytest.approx(b.outcome.objective, rel=1e-9)
    assert len(a.results.tables["scenarios"]) == 4


def test_the_results_hold_the_generated_set_which_reads_back_as_the_same_problem(tmp_path, capsys):
    settings = {"unmet_penalty_per_wafer": 5000}
    hz = write_instance(tmp_path / "hz", {**BASE, "hazards": HAZARDS, "hazard_effects": EFFECTS}, settings)
    out = tmp_path / "out"
    assert main(["solve", str(hz), "-o", str(out), "--scenarios", "40", "--sample-seed", "3", "--json",
                 "--no-duals"]) == 0
    summary = __import__("json").loads(capsys.readouterr().out)
    assert summary["scenario_set"] == {"hazards": ["quake", "boom"], "method": "sample", "draws": 40, "seed": 3,
                                       "scenarios": summary["risk"]["scenarios"]}
    back = write_instance(tmp_path / "back", {**BASE, "scenarios": (out / "scenario_set.csv").read_text(),
                                              "scenario_effects": (out / "scenario_set_effects.csv").read_text()},
                          settings)
    assert solve(back, duals=False).outcome.objective == pytest.approx(summary["objective"], rel=1e-9)


@pytest.mark.parametrize("tables,sets,expected", [
    ({"hazards": HAZARDS, "scenarios": "id,probability\nnominal,1"}, (),
     "hazards.csv | is given together with scenarios.csv; give either hazards (the scenarios are generated from "
     "them) or scenarios, not both"),
    ({"hazards": "id,probability\nnominal,0.1"}, (),
     "hazards.csv row 2 (id=nominal) column id | is 'nominal', the name of the scenario in which no hazard strikes; "
     "give the hazard another id"),
    ({"hazards": "id,probability\nwater__cut,0.1"}, (),
     "hazards.csv row 2 (id=water__cut) column id | contains '__', which joins the hazards of a generated scenario; "
     "give the hazard an id without '__'"),
    ({"hazards": "id,probability\n" + "\n".join(f"h{k},0.01" for k in range(13))}, (),
     f"hazards.csv | has 13 hazards, which combine into 8192 joint scenarios (more than {MAX_JOINT}); sample them: "
     "--scenarios N (settings.scenario_sample)"),
    ({}, ("settings.scenario_sample=10",),
     "--set settings.scenario_sample=10 | is 10, but the instance has no hazards table to sample; add hazards.csv "
     "and hazard_effects.csv, or leave the sample out"),
    ({"hazard_effects": "hazard,target,by,match,multiplier\nquake,site,id,a,0.5"}, (),
     "hazard_effects.csv row 2 (hazard=quake, target=site, by=id, match=a, item=*) column hazard | 'quake' is not a "
     "known hazards id; add it to hazards or fix the spelling"),
    ({"hazards": "id,probability\nquake,1.5"}, (),
     "hazards.csv row 2 (id=quake) column probability | is 1.5; must be in [0, 1]"),
    ({"hazards": "id,probability,years\nquake,0.5,0"}, (),
     "hazards.csv row 2 (id=quake) column years | is 0; must be > 0"),
    ({"hazards": HAZARDS, "hazard_effects": "hazard,target,by,match,multiplier\nquak,site,id,a,0.5"}, (),
     "hazard_effects.csv row 2 (hazard=quak, target=site, by=id, match=a, item=*) column hazard | 'quak' is not a "
     "known hazards id; did you mean 'quake'?"),
    ({"hazards": HAZARDS, "hazard_effects": "hazard,target,by,match,multiplier\nquake,site,id,a,1.5"}, (),
     "hazard_effects.csv row 2 (hazard=quake, target=site, by=id, match=a, item=*) column multiplier | is 1.5; an "
     "availability must be in [0, 1]; give the share of capacity left in the scenario, e.g. 0.5"),
    ({"hazards": HAZARDS, "hazard_effects": "hazard,target,by,match,multiplier\nquake,site,country,KR,0"}, (),
     "hazard_effects.csv row 2 (hazard=quake, target=site, by=country, match=KR, item=*) column match | 'KR' "
     "selects no row of sites (no country 'KR'); give a country of sites"),
    ({"hazards": HAZARDS}, ("settings.scenario_sample=0",),
     "--set settings.scenario_sample=0 | input should be greater than or equal to 1 (got '0'); draws of a "
     "seeded sample of the hazards (--scenarios N); empty: every joint combination."),
])
def test_hazard_problems_are_named(tmp_path, tables, sets, expected):
    assert problems(with_table(tmp_path, **tables), sets) == [expected]


@pytest.mark.parametrize("flags,expected", [
    (["--scenarios", "0"], "--scenarios | must be at least 1 (got 0); give the number of draws, e.g. 200"),
    (["--scenarios", "many"], "--scenarios | is 'many', not a whole number; give the number of draws, e.g. 200"),
    (["--sample-seed", "-1"], "--sample-seed | must be at least 0 (got -1); give a whole number of 0 or more"),
])
def test_bad_scenario_flags_are_one_line_and_exit_2(tmp_path, capsys, flags, expected):
    folder = with_table(tmp_path, hazards=HAZARDS)
    for command in (["solve"], ["validate"], ["frontier"]):
        assert main([*command, str(folder), *flags]) == 2, command
        err = capsys.readouterr().err.strip()
        assert err == expected
