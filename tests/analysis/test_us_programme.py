"""The SIA/BCG 2020 programme curve, reproduced from a pool of candidate projects
(instances/validation/us-programme/, whose README states the figures, the source and the bands).

Published (SIA/BCG, "Government Incentives and US Competitiveness in Semiconductor Manufacturing",
Sept 2020, scenario section): a federal programme of USD 0 / 20 / 50bn over ten years gives
9 / 14 / 19 new US fabs and USD 69 / 174 / 279bn of investment. Bands: +-1 fab, +-10% investment.
Run with `pytest -m validation`.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from siting.cli import main

FOLDER = Path(__file__).resolve().parents[2] / "instances" / "validation" / "us-programme"
PUBLISHED = {0: (9, 69_000), 20_000: (14, 174_000), 50_000: (19, 279_000)}


def _generator():
    spec = importlib.util.spec_from_file_location("us_programme_generate", FOLDER / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_pool_is_what_the_generator_writes():
    assert (FOLDER / "programme.yaml").read_text(encoding="utf-8") == _generator().programme_text()


@pytest.mark.validation
def test_programme_curve_is_within_the_published_bands(tmp_path):
    out = tmp_path / "out"
    assert main(["programme", str(FOLDER / "programme.yaml"), "--workers", "2", "--out", str(out)]) == 0
    budgets = pd.read_csv(out / "budgets.csv").set_index("budget")
    for budget, (fabs, investment) in PUBLISHED.items():
        row = budgets.loc[budget]
        assert abs(row["fabs"] - fabs) <= 1, (budget, row["fabs"])
        assert abs(row["investment"] - investment) <= 0.10 * investment, (budget, row["investment"])
        assert row["outlay"] <= budget + 1e-6
    # allocation by break-even order: each budget funds the cheapest marginal projects, and the
    # return per dollar falls (each additional fab costs at least as much as the one before)
    options = pd.read_csv(out / "programme.csv")
    marginal = options[(options["sites"] == "us") & (options["offer"] > 0)].sort_values("offer")
    gaps = dict(zip([f"marginal-{k + 1:02d}" for k in range(len(_generator().gaps()))], _generator().gaps()))
    assert marginal.set_index("project")["offer"].to_dict() == pytest.approx(gaps, abs=1e-3)
    for budget in PUBLISHED:
        funded = set(options.loc[options[f"funded_at_{budget:g}"] & (options["offer"] > 0), "project"])
        assert funded == set(marginal["project"][:len(funded)])
    curve = pd.read_csv(out / "curve.csv")
    steps = curve["marginal_cost"].dropna().to_numpy()
    assert (steps[1:] >= steps[:-1] - 1e-6).all()
