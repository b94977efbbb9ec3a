"""Benders decomposition (``--engine benders``) on phased instances, against the extensive form.

The first stage of a phased plan is the whole schedule (the site open by each period, modules and
qualifications per period, first-stage payouts and take-up); operations per period and scenario are
the second. The extensive form solved whole with the ``exact`` profile is the truth: the
decomposition must reach its optimum within the gap, with a plan of the same cost, a bound no
higher, and a solution that passes the phased check against the raw tables.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from siting.run import run_case
from siting.solve import load_profile
from tests.analysis.test_phased_analyses import RISKY
from tests.helpers import solve, write_instance
from tests.model.random_cases import random_case
from tests.test_benders import _open, _same_optimum, with_random_scenarios


def _benders(folder: Path, sets=()):
    return run_case(folder, load_profile("exact"), sets=list(sets), duals=False, engine="benders")


def _schedule(run) -> list:
    s = run.results.tables["schedule"]
    return sorted(zip(s["site"], s["product"], s["period"], s["modules"].astype(int)))


@pytest.mark.parametrize("lam,sites,objective", [(0.0, ["a"], 380.0),
                                                 pytest.param(0.5, ["b"], 400.0, marks=pytest.mark.slow)])
def test_hand_solved_risk_cases_over_two_periods(tmp_path, lam, sites, objective):
    """tests/analysis/test_phased_analyses.py's RISKY, two periods with operations in 2026 only
    (derived there): a alone costs 380 in expectation and 1100 in the quake, b 400 in both, so a
    wins at risk weight 0 and b at 0.5 (0.5 x 380 + 0.5 x 1100 = 740 against 400)."""
    folder = write_instance(tmp_path / "risky", RISKY, {"cvar_level": 0.8})
    sets = [f"settings.risk_weight={lam}"]
    ef, dec = solve(folder, sets, duals=False), _benders(folder, sets)
    _same_optimum(ef, dec)
    assert dec.outcome.objective == pytest.approx(objective, abs=1e-6)
    assert _open(dec) == sites == _open(ef)
    assert _schedule(dec) == _schedule(ef)


def _scheduled(seed: int, folder: Path) -> Path:
    """A random case as three periods with lead times and a ramp (``Case.scheduled``), with a
    production subsidy and a conditional offer, three scenarios (a site cut back, demand and
    prices scaled) and CVaR at 90% weighted 0.3."""
    case = random_case(seed, demand="default", max_assignments=256, min_assignments=8, wafer=True,
                       conditional=True).scheduled()
    rng = np.random.default_rng(seed + 3000)
    return with_random_scenarios(case, rng, ["w0", "w1", "w2"], suppliers=False).write(folder)


@pytest.mark.parametrize("seed", [pytest.param(s, marks=pytest.mark.slow) for s in range(501, 511)])
def test_random_scheduled_instances_equal_the_extensive_form(tmp_path, seed):
    folder = _scheduled(seed, tmp_path / "inst")
    ef, dec = solve(folder, duals=False), _benders(folder)
    assert ef.outcome.status == "optimal"
    _same_optimum(ef, dec)
    assert dec.data.calendar.phased
